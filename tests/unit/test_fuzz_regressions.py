"""The bugs the fuzz tests found, each kept as a plain example (see ``test_fuzz_*.py``).

Dates with no UTC equivalent (``0001-01-01T00:00:00+14:00``) or no room for a window (``9999-12-31``) are valid to
pydantic's ``AwareDatetime``. They raised ``OverflowError`` in the WooCommerce parser (a 500 at the intake), and
elsewhere were accepted, then raised in a consumer (the orders table writes UTC; ``POST /v1/returns`` adds the
return window to the shipping date). Now they are a 400 where they come in: ``shared/models/instants.py``.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.samples import compact, load_json, shopify_payload, woocommerce_payload
from shared.channels.base import WebhookRequest
from shared.channels.registry import adapter_for
from shared.errors import ValidationFailed
from shared.models.bus import parse_event
from shared.models.events import OrderReceived
from tests.unit.fuzzing import signed_headers
from tests.unit.test_order_journey import ORDER

NO_UTC_EQUIVALENT = "0001-01-01T00:00:00+14:00"
NO_ROOM_FOR_A_WINDOW = "9999-12-31T23:59:59Z"


def parse(platform: str, payload: Any, topic: str = "") -> object:
    body = compact(payload)
    headers = {k.lower(): v for k, v in signed_headers(platform, body, topic).items()}
    return adapter_for(platform).parse(WebhookRequest(headers=headers, body=body))


@pytest.mark.parametrize("field", ["date_created_gmt", "date_modified_gmt", "date_paid_gmt"])
def test_a_woocommerce_date_with_no_utc_equivalent_is_a_400_not_an_overflow(field: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        parse("woocommerce", {**woocommerce_payload(), field: NO_UTC_EQUIVALENT}, "order.created")
    assert refused.value.details["field"] == field


@pytest.mark.parametrize("value", [NO_UTC_EQUIVALENT, "9999-12-31T23:59:59-14:00", NO_ROOM_FOR_A_WINDOW])
def test_a_shopify_order_dated_out_of_range_is_refused_at_the_intake(value: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        parse("shopify", {**shopify_payload(), "created_at": value}, "orders/create")
    assert refused.value.details["field"] == "placed_at"


def test_a_wms_shipment_dated_9999_is_refused_before_a_return_window_is_added_to_it() -> None:
    with pytest.raises(ValidationFailed) as refused:
        parse(
            "wms",
            {**load_json("wms/order_shipped.json"), "actual_fulfillment_date": NO_ROOM_FOR_A_WINDOW},
            "order.shipped",
        )
    assert refused.value.details["field"] == "shipped_at"


def test_a_carrier_checkpoint_time_with_no_utc_equivalent_is_a_400_not_a_pydantic_error() -> None:
    payload = load_json("carrier/tracking_update.json")
    for checkpoint in payload["msg"]["checkpoints"]:
        checkpoint["checkpoint_time"] = NO_UTC_EQUIVALENT
    with pytest.raises(ValidationFailed) as refused:
        parse("carrier", payload)
    assert refused.value.details["field"] == "at"


def test_a_bus_event_dated_out_of_range_is_a_permanent_validation_failure() -> None:
    """A consumer dead-letters it with a reason at once, instead of crashing on it until its last receive."""
    event = OrderReceived.for_order(ORDER, dedupe_key="fuzz", source="crossdock.intake")
    detail = json.loads(event.model_dump_json())
    detail["data"]["placed_at"] = NO_UTC_EQUIVALENT
    body = {"id": "e", "source": "crossdock.intake", "detail-type": "OrderReceived", "time": "t", "detail": detail}
    with pytest.raises(ValidationFailed):
        parse_event(json.dumps(body), OrderReceived)
