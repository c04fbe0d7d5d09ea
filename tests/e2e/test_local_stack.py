"""The deployed wiring, proved on the local stack: webhook → bus → rule → consumer queue → function → DLQ."""

from __future__ import annotations

import json
from typing import Any

import httpx

from infra.local.sandboxes.shopify import ShopifySandbox
from infra.local.scenario import shopify_order
from infra.local.stack import LocalStack
from tests.e2e.conftest import wait_for


def consumer(stack: LocalStack) -> Any:
    [poller] = [p for p in stack.pollers if "FunctionsRecordOrder" in p.mapping.function]
    return poller


def recorded(stack: LocalStack, order_id: int) -> dict[str, Any] | None:
    table = next(n for k, n in stack.provisioned.tables.items() if k.startswith("Orders"))  # type: ignore[union-attr]
    key = {"pk": {"S": f"ORDER#shopify:acme-supply.myshopify.com:{order_id}"}, "sk": {"S": "STATE"}}
    item: dict[str, Any] | None = stack.client("dynamodb").get_item(TableName=table, Key=key).get("Item")
    return item


def quiesce(stack: LocalStack) -> None:
    """Deliver what earlier tests left in the sandboxes' outboxes (echoes) and let it all settle."""
    for _ in range(3):
        assert stack.wait_until_quiet(timeout=60)
        for sandbox in stack.sandboxes.values():
            sandbox.flush_webhooks()
    assert stack.wait_until_quiet(timeout=60)


def test_signed_shopify_webhook_reaches_the_consumer_queue_as_deployed(local_stack: LocalStack) -> None:
    quiesce(local_stack)
    poller = consumer(local_stack)
    poller.pause()
    try:
        shopify = local_stack.sandboxes["shopify"]
        assert isinstance(shopify, ShopifySandbox)
        order = shopify_order(501)
        shopify.emit_order("orders/create", order)
        # Other orders' echoes (tags we pushed come back as orders/updated) may go out in the same flush.
        [delivery] = [
            d
            for d in shopify.flush_webhooks()
            if d.label == "orders/create" and d.headers.get("X-Shopify-Order-Id") == str(order["id"])
        ]
        assert delivery.status == 202
        sqs = local_stack.client("sqs")
        queue_url = poller.mapping.queue_url

        messages = wait_for(
            lambda: sqs.receive_message(QueueUrl=queue_url, VisibilityTimeout=0).get("Messages"), timeout=30
        )
        event = json.loads(messages[0]["Body"])
        assert event["source"] == "crossdock.intake"
        assert event["detail-type"] == "OrderReceived"
        assert event["detail"]["data"]["external_id"] == str(order["id"])
        assert event["detail"]["metadata"]["correlation_id"]
    finally:
        poller.resume()
    # Recorded, then carried on by the rest of the journey.
    item = wait_for(lambda: (found := recorded(local_stack, order["id"])) and "status" in found and found)
    assert item["status"]["S"] in ("received", "accepted", "released")


def test_api_gateway_limits_apply_before_the_function(local_stack: LocalStack) -> None:
    assert local_stack.api
    url = f"{local_stack.api.url}/v1/webhooks/shopify"
    assert httpx.post(url, content=b"x" * (10 * 1024 * 1024 + 1), timeout=30).status_code == 413
    assert httpx.get(url, timeout=10).status_code == 404  # only POST is routed


def test_a_poison_message_goes_to_the_dlq_at_once_with_its_reason(local_stack: LocalStack) -> None:
    """No retry can fix a malformed event: it is parked with its error class instead of being retried."""
    assert local_stack.template
    poller = consumer(local_stack)
    queue_id = local_stack.template.logical_id_of("AWS::SQS::Queue", poller.mapping.queue_url)
    redrive = local_stack.template.props(queue_id)["RedrivePolicy"]  # type: ignore[arg-type]
    dlq_url = local_stack.template.attributes(
        local_stack.template.logical_id_of("AWS::SQS::Queue", redrive["deadLetterTargetArn"])  # type: ignore[arg-type]
    )["QueueUrl"]
    sqs = local_stack.client("sqs")
    quiesce(local_stack)  # so the count below is this message's alone
    before = local_stack.functions[poller.mapping.function].invocations
    sqs.send_message(QueueUrl=poller.mapping.queue_url, MessageBody='{"not": "an event"}')
    messages = wait_for(
        lambda: sqs.receive_message(
            QueueUrl=dlq_url, VisibilityTimeout=0, MessageAttributeNames=["All"], AttributeNames=["All"]
        ).get("Messages"),
        timeout=30,
    )
    assert messages[0]["Body"] == '{"not": "an event"}'
    attributes = {k: v["StringValue"] for k, v in messages[0]["MessageAttributes"].items()}
    assert attributes["error_class"] == "validation"
    assert attributes["retryable"] == "false"
    # The DLQ send happens inside the invocation, which is counted once it returns.
    function = local_stack.functions[poller.mapping.function]
    wait_for(lambda: function.invocations > before, timeout=30)
    assert function.invocations - before == 1
    sqs.delete_message(QueueUrl=dlq_url, ReceiptHandle=messages[0]["ReceiptHandle"])
