"""The local stack's wiring comes from the template alone: change a rule's pattern there and delivery stops.

Provisioned into a moto server (no function workers, no sandboxes): what the Provisioner makes of the template
is what the router and pollers later deliver from.
"""

from __future__ import annotations

import copy
import json
import socket
from collections.abc import Iterator
from typing import Any

import boto3
import httpx
import pytest
from moto.server import ThreadedMotoServer

from infra.local.provision import Provisioner
from infra.local.stack import synth_template
from infra.local.template import Template

RULE_PREFIX = "RecordOrderRule"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return synth_template("dev")


def delivered_to_recorder(moto_url: str, template: dict[str, Any]) -> int:
    """Provision ``template`` afresh, put one OrderReceived on its bus, count what reaches the recorder's tap."""
    httpx.post(f"{moto_url}/moto-api/reset", timeout=10)
    env = {
        f"AWS_ENDPOINT_URL_{service}": moto_url
        for service in ("SQS", "EVENTBRIDGE", "SECRETS_MANAGER", "SSM", "DYNAMODB")
    }
    env.update(AWS_REGION="us-east-1", AWS_ACCESS_KEY_ID="local", AWS_SECRET_ACCESS_KEY="local")
    parsed = Template.from_dict(template, "Crossdock-dev", "us-east-1")
    parsed.endpoints["sqs"] = moto_url
    provisioned = Provisioner(parsed, env).run()
    [bus] = provisioned.buses.values()
    client = boto3.client(
        "events", endpoint_url=moto_url, region_name="us-east-1", aws_access_key_id="l", aws_secret_access_key="l"
    )
    detail = {"metadata": {"correlation_id": "c-1"}, "data": {}}
    client.put_events(
        Entries=[
            {
                "EventBusName": bus,
                "Source": "crossdock.intake",
                "DetailType": "OrderReceived",
                "Detail": json.dumps(detail),
            }
        ]
    )
    [rule] = [r for r in provisioned.rules if r.logical_id.startswith(RULE_PREFIX)]
    sqs = boto3.client(
        "sqs", endpoint_url=moto_url, region_name="us-east-1", aws_access_key_id="l", aws_secret_access_key="l"
    )
    return len(sqs.receive_message(QueueUrl=rule.tap_url, MaxNumberOfMessages=10).get("Messages", []))


def test_the_recorder_rule_takes_order_received_as_the_template_says(moto_url: str, template: dict[str, Any]) -> None:
    assert delivered_to_recorder(moto_url, template) == 1


def test_a_changed_rule_pattern_no_longer_delivers(moto_url: str, template: dict[str, Any]) -> None:
    rewired = copy.deepcopy(template)
    [rule] = [r for k, r in rewired["Resources"].items() if k.startswith(RULE_PREFIX)]
    rule["Properties"]["EventPattern"]["detail-type"] = ["OrderReceivedV2"]
    assert delivered_to_recorder(moto_url, rewired) == 0
