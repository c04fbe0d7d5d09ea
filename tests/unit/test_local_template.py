"""The local stack's template reading: intrinsics resolve to the names and ARNs the emulators use."""

from __future__ import annotations

import json

import pytest

from infra.local.router import _json_path, _render
from infra.local.template import Template, UnsupportedIntrinsic

RESOURCES = {
    "Bus": {"Type": "AWS::Events::EventBus", "Properties": {"Name": "crossdock-dev"}},
    "Dlq": {"Type": "AWS::SQS::Queue", "Properties": {}},
    "Queue": {
        "Type": "AWS::SQS::Queue",
        "Properties": {"RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": ["Dlq", "Arn"]}, "maxReceiveCount": 5}},
    },
    "Table": {"Type": "AWS::DynamoDB::GlobalTable", "Properties": {}},
    "Fn": {
        "Type": "AWS::Lambda::Function",
        "Properties": {
            "Environment": {
                "Variables": {
                    "BUS": {"Ref": "Bus"},
                    "TABLE": {"Ref": "Table"},
                    "URL": {"Fn::Sub": "https://${Queue.QueueName}.${AWS::Region}.${AWS::URLSuffix}"},
                    "JOINED": {"Fn::Join": ["/", [{"Ref": "AWS::AccountId"}, {"Fn::Select": [1, ["a", "b"]]}]]},
                    "GONE": {"Ref": "AWS::NoValue"},
                }
            }
        },
    },
}


@pytest.fixture
def template() -> Template:
    return Template.from_dict({"Resources": RESOURCES}, "Crossdock-dev", "us-east-1")


def test_refs_and_attributes_resolve_to_local_names(template: Template) -> None:
    env = template.props("Fn")["Environment"]["Variables"]
    assert env == {
        "BUS": "crossdock-dev",
        "TABLE": "Crossdock-dev-Table",
        "URL": "https://Crossdock-dev-Queue.us-east-1.amazonaws.com",
        "JOINED": "123456789012/b",
    }


def test_redrive_points_at_the_dlq_arn(template: Template) -> None:
    arn = template.props("Queue")["RedrivePolicy"]["deadLetterTargetArn"]
    assert arn == "arn:aws:sqs:us-east-1:123456789012:Crossdock-dev-Dlq"
    assert template.logical_id_of("AWS::SQS::Queue", arn) == "Dlq"


def test_emulator_ids_override_computed_ones(template: Template) -> None:
    template.overrides["Queue"] = {"Ref": "http://local/q", "Arn": "arn:x", "QueueUrl": "http://local/q"}
    assert template.resolve({"Ref": "Queue"}) == "http://local/q"


def test_unknown_intrinsic_is_refused(template: Template) -> None:
    with pytest.raises(UnsupportedIntrinsic):
        template.resolve({"Fn::ImportValue": "elsewhere"})


EVENT = {"id": "1", "detail-type": "OrderReceived", "detail": {"metadata": {"event_id": "e"}, "data": {"n": [1, 2]}}}


def test_input_path_subset() -> None:
    assert _json_path(EVENT, "$.detail.metadata") == {"event_id": "e"}
    assert _json_path(EVENT, "$.detail.data.n[1]") == 2
    assert _json_path(EVENT, "$") == EVENT


def test_input_transformer_quotes_strings_in_json_templates() -> None:
    rendered = _render('{"type": <t>, "id": "<id>", "n": <n>}', {"t": "OrderReceived", "id": "e", "n": [1, 2]})
    assert json.loads(rendered) == {"type": "OrderReceived", "id": "e", "n": [1, 2]}
