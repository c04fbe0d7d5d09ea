"""The WMS sandbox's stock and its signed inventory webhooks, verified and parsed by Crossdock's WMS adapter."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from infra.local.sandboxes.wms import MAX_SNAPSHOT_ITEMS, WmsSandbox
from shared.channels.base import Delivery, WebhookRequest
from shared.errors import NotFound
from shared.models.events import StockReported
from shared.models.inventory import ReportKind, StockReport
from shared.wms.webhook import WmsWebhookAdapter
from tests.integration.sandboxes.support import Inbox

HEADERS = {"Authorization": "Bearer pat_sandbox", "shipbob_channel_id": "4242"}


def received(wms: WmsSandbox, receiver: Inbox) -> list[Delivery]:
    """Flush the outbox and take every delivery through the adapter: verified, then parsed."""
    assert all(d.status == 200 for d in wms.flush_webhooks())
    adapter = WmsWebhookAdapter()
    deliveries = []
    for arrived in receiver.received:
        request = WebhookRequest(headers=arrived.headers, body=arrived.body)
        adapter.verify(request, [wms.webhook_secret.encode()])
        deliveries.append(adapter.parse(request))
    return deliveries


def report(delivery: Delivery) -> StockReport:
    assert isinstance(delivery.event, StockReported)
    return delivery.event.data


def levels(delivery: Delivery) -> dict[str, int | None]:
    return {item.sku: item.on_hand for item in report(delivery).items}


def order_body(products: dict[str, int], reference_id: str = "shopify:acme-supply.myshopify.com:1001") -> Any:
    return {
        "reference_id": reference_id,
        "type": "DTC",
        "shipping_method": "Standard",
        "recipient": {"name": "Dana Reyes", "address": {"address1": "1 Dock Rd", "city": "Columbus", "country": "US"}},
        "products": [{"reference_id": sku, "name": sku, "quantity": qty} for sku, qty in products.items()],
    }


def test_set_stock_announces_a_signed_snapshot_of_those_skus(wms: WmsSandbox, receiver: Inbox) -> None:
    wms.set_stock(1, {"GLV-NIT4-L-CS": 480, "EYE-AF-CLR-12": 12}, announce=False)
    [snapshot_id] = wms.set_stock(2, {"GLV-NIT4-L-CS": 96, "VST-C2-LXL-YL": 40})
    assert wms.stock(1) == {"GLV-NIT4-L-CS": 480, "EYE-AF-CLR-12": 12}
    assert wms.stock(2) == {"GLV-NIT4-L-CS": 96, "VST-C2-LXL-YL": 40}

    [delivery] = received(wms, receiver)
    assert delivery.topic == "inventory.snapshot"
    assert receiver.received[0].headers["x-webhook-topic"] == "inventory.snapshot"
    assert (report(delivery).kind, report(delivery).facility, report(delivery).report_id) == (
        ReportKind.SNAPSHOT,
        "2",
        snapshot_id,
    )
    assert levels(delivery) == {"GLV-NIT4-L-CS": 96, "VST-C2-LXL-YL": 40}
    assert json.loads(receiver.received[0].body)["fulfillment_center"] == {"id": 2, "name": "West"}


def test_send_snapshot_reports_every_sku_or_the_ones_asked_for(wms: WmsSandbox, receiver: Inbox) -> None:
    wms.set_stock(1, {"B": 2, "A": 1}, announce=False)
    wms.send_snapshot(1)
    wms.send_snapshot(1, ["B", "NOT-STOCKED"])
    everything, asked = received(wms, receiver)
    assert levels(everything) == {"A": 1, "B": 2}
    assert levels(asked) == {"B": 2, "NOT-STOCKED": 0}
    assert report(asked).as_of > report(everything).as_of  # later reports are never ambiguous about their order


def test_adjust_stock_announces_the_deltas(wms: WmsSandbox, receiver: Inbox) -> None:
    wms.set_stock(1, {"GLV-NIT4-L-CS": 480}, announce=False)
    adjustment_id = wms.adjust_stock(1, {"GLV-NIT4-L-CS": -3, "EYE-AF-CLR-12": 24}, reason="damaged")
    assert wms.stock(1) == {"GLV-NIT4-L-CS": 477, "EYE-AF-CLR-12": 24}

    [delivery] = received(wms, receiver)
    adjustment = report(delivery)
    assert (delivery.topic, adjustment.kind, adjustment.report_id) == (
        "inventory.adjusted",
        "adjustment",
        adjustment_id,
    )
    assert {item.sku: item.on_hand_delta for item in adjustment.items} == {"GLV-NIT4-L-CS": -3, "EYE-AF-CLR-12": 24}
    assert json.loads(receiver.received[0].body)["items"][0]["reason"] == "damaged"
    with pytest.raises(ValueError, match="below 0"):
        wms.adjust_stock(1, {"EYE-AF-CLR-12": -25})
    assert wms.stock(1)["EYE-AF-CLR-12"] == 24


def test_a_reannounced_adjustment_is_a_new_event_that_changes_nothing(wms: WmsSandbox, receiver: Inbox) -> None:
    first = wms.adjust_stock(2, {"A": 5})
    again = wms.adjust_stock(2, {"A": 5}, adjustment_id=first)
    assert again == first
    assert wms.stock(2) == {"A": 5}
    one, two = received(wms, receiver)
    assert one.dedupe_key != two.dedupe_key  # a new webhook-id: the intake publishes it again ...
    assert report(one).report_id == report(two).report_id == first  # ... and the ledger applies it once


def test_retries_share_the_webhook_id_and_so_the_dedupe_key(wms: WmsSandbox, receiver: Inbox) -> None:
    wms.set_stock(1, {"A": 1}, delays=(0, 0))
    first, duplicate = received(wms, receiver)
    assert first.dedupe_key == duplicate.dedupe_key
    assert first.event.metadata.event_id == duplicate.event.metadata.event_id


def test_a_large_snapshot_is_split_into_webhooks_of_at_most_a_thousand(wms: WmsSandbox, receiver: Inbox) -> None:
    stock = {f"SKU-{n:05d}": n % 50 for n in range(2 * MAX_SNAPSHOT_ITEMS + 500)}
    snapshot_ids = wms.set_stock(1, stock)
    deliveries = received(wms, receiver)
    assert [len(report(d).items) for d in deliveries] == [1000, 1000, 500]
    assert [report(d).report_id for d in deliveries] == snapshot_ids
    assert len(set(snapshot_ids)) == 3
    assert len({report(d).as_of for d in deliveries}) == 1  # one count, sent in parts
    merged: dict[str, int | None] = {}
    for delivery in deliveries:
        merged.update(levels(delivery))
    assert merged == stock


def test_shipping_takes_units_off_on_hand_without_a_webhook(wms: WmsSandbox, receiver: Inbox) -> None:
    wms.set_stock(1, {"A": 10, "B": 3}, announce=False)
    wms.set_stock(2, {"A": 10}, announce=False)
    with httpx.Client(base_url=f"{wms.url}/2026-01", headers=HEADERS, timeout=5) as api:
        order = api.post("/order", json=order_body({"A": 4, "B": 5, "C": 1})).json()
        wms.ship(order["id"], partial_lines={"A": 1})
        assert wms.stock(1) == {"A": 9, "B": 3}
        wms.ship(order["id"])
        # Never below 0, and a SKU the center never stocked is not invented.
        assert wms.stock(1) == {"A": 6, "B": 0}
        assert wms.stock(2) == {"A": 10}

        west = api.post("/order", json=order_body({"A": 2}, "ref-west")).json()
        # ShipBob picks the fulfillment center; the sandbox always picks East, so West is set by hand here.
        wms.shipments[west["shipments"][0]["id"]]["location"] = {"id": 2, "name": "West"}
        wms.ship(west["id"])
    assert wms.stock(2) == {"A": 8}
    assert wms.stock(1) == {"A": 6, "B": 0}

    wms.flush_webhooks()
    assert {d.headers["x-webhook-topic"] for d in receiver.received} == {"order.shipped"}
    assert wms.snapshot()["inventory"] == {"1": {"A": 6, "B": 0}, "2": {"A": 8}}


def test_an_unknown_center_or_a_negative_count_is_a_scenario_error(wms: WmsSandbox) -> None:
    with pytest.raises(ValueError, match="no fulfillment center"):
        wms.set_stock(3, {"A": 1})
    with pytest.raises(ValueError, match="whole numbers"):
        wms.set_stock(1, {"A": -1})
    with pytest.raises(ValueError, match="at least one"):
        wms.adjust_stock(1, {})


def test_a_topic_crossdock_does_not_take_is_answered_404(wms: WmsSandbox, receiver: Inbox) -> None:
    """A cancelled shipment means nothing to Crossdock (it cancelled it, or a person did in ShipBob)."""
    with httpx.Client(base_url=f"{wms.url}/2026-01", headers=HEADERS, timeout=5) as api:
        order = api.post("/order", json=order_body({"A": 1})).json()
        api.post(f"/order/{order['id']}:cancel")
    wms.flush_webhooks()
    [arrived] = receiver.received
    request = WebhookRequest(headers=arrived.headers, body=arrived.body)
    WmsWebhookAdapter().verify(request, [wms.webhook_secret.encode()])
    with pytest.raises(NotFound):
        WmsWebhookAdapter().parse(request)


def test_a_plain_secret_keys_with_its_own_bytes_as_the_intake_reads_it(wms: WmsSandbox, receiver: Inbox) -> None:
    # The local stack's generated webhook secrets have no whsec_ prefix.
    wms.use_webhook_secret("local-3f6c1a9e0b7d2c4e8f5a1b6d")
    wms.set_stock(1, {"A": 1})
    [delivery] = received(wms, receiver)
    assert levels(delivery) == {"A": 1}
