"""The local stack's state file: what it writes is what ``crossdock --local`` reads back as its target."""

from __future__ import annotations

import json
from pathlib import Path

from infra.local.emulators import Emulators
from infra.local.provision import Provisioned
from infra.local.template import Template
from infra.ops.local_state import local_state
from infra.ops.target import local_target

TEMPLATE = {
    "Resources": {
        "RecordOrderBufferQueue20F66FFD": {
            "Type": "AWS::SQS::Queue",
            "Metadata": {"aws:cdk:path": "Crossdock-dev/RecordOrder/Buffer/Queue/Resource"},
        },
        "RecordOrderBufferDlqC3D342C9": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "record-order-dlq"}},
        "OperationsTable1234ABCD": {
            "Type": "AWS::DynamoDB::GlobalTable",
            "Properties": {"TableName": "crossdock-dev-operations"},
        },
        "EventsBus45DE4339": {"Type": "AWS::Events::EventBus", "Properties": {"Name": "crossdock-dev"}},
        "WebhooksApiA28DB082": {"Type": "AWS::ApiGatewayV2::Api", "Properties": {"Name": "crossdock-dev-api"}},
        "ShopifySecret": {
            "Type": "AWS::SecretsManager::Secret",
            "Properties": {"Name": "crossdock-dev/webhooks/shopify"},
        },
    },
    "Outputs": {
        "OperationsTableName": {"Value": {"Ref": "OperationsTable1234ABCD"}},
        "EventBusName": {"Value": {"Ref": "EventsBus45DE4339"}},
        "WebhookBaseUrl": {
            "Value": {"Fn::Join": ["", [{"Fn::GetAtt": ["WebhooksApiA28DB082", "ApiEndpoint"]}, "/v1/webhooks"]]}
        },
        "FromElsewhere": {"Value": {"Fn::ImportValue": "another-stack"}},
    },
}
MOTO, DYNAMODB = "http://127.0.0.1:4566", "http://127.0.0.1:8000"
QUEUE_URL = f"{MOTO}/123456789012/record-order"


def state() -> dict[str, object]:
    """What a started stack writes (``LocalStack.write_state``), without starting anything."""
    template = Template.from_dict(TEMPLATE, "Crossdock-dev", "us-east-1")
    template.endpoints["sqs"] = MOTO
    provisioned = Provisioned(queues={"RecordOrderBufferQueue20F66FFD": QUEUE_URL})
    emulators = Emulators(moto_url=MOTO, dynamodb_url=DYNAMODB)
    return local_state("dev", template, provisioned, emulators, "http://127.0.0.1:9000", TEMPLATE["Outputs"])


def test_the_state_file_round_trips_into_a_local_target(tmp_path: Path) -> None:
    path = tmp_path / "stack.json"
    path.write_text(json.dumps(state()))

    target = local_target(path)

    assert (target.env, target.region, target.local) == ("dev", "us-east-1", True)
    assert target.api_url == "http://127.0.0.1:9000"
    queue = target.resources["RecordOrderBufferQueue20F66FFD"]
    assert (queue.type, queue.physical_id, queue.label) == ("AWS::SQS::Queue", QUEUE_URL, "RecordOrder/Buffer/Queue")
    dlq = target.resources["RecordOrderBufferDlqC3D342C9"]
    assert (dlq.physical_id, dlq.label) == (f"{MOTO}/123456789012/record-order-dlq", "RecordOrderBufferDlq")
    assert target.resources["OperationsTable1234ABCD"].physical_id == "crossdock-dev-operations"
    assert target.resources["ShopifySecret"].physical_id == "crossdock-dev/webhooks/shopify"
    assert target.outputs == {  # the one from another stack cannot resolve here: left out
        "OperationsTableName": "crossdock-dev-operations",
        "EventBusName": "crossdock-dev",
        "WebhookBaseUrl": "http://127.0.0.1:9000/v1/webhooks",
    }
    assert target.client("dynamodb").meta.endpoint_url == DYNAMODB
    assert target.client("sqs").meta.endpoint_url == MOTO
    assert target.client("sqs") is target.client("sqs")
    assert target.actor().startswith("local:")
