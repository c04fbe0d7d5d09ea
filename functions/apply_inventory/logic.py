"""Keep the stock ledger: apply what the WMS and the ERP report, give back a cancelled order's units, take out
what shipped and put back what a return restocked.

Every write changes a row only if its version is the one read, so concurrent writers never lose an update; a
snapshot older than the row's is ignored and an adjustment is applied once per report. What changed goes out as
``InventoryAdjusted``, which the channel syncs turn into availability.

A redelivered report announces again every row it moved, under the same event ids: if an earlier attempt wrote
the ledger (or part of it) and then failed, this is how the change still reaches the channels.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from shared.errors import ValidationFailed
from shared.ids import safe_ref
from shared.models.events import (
    InventoryAdjusted,
    OrderCancelled,
    ReturnReceived,
    ShipmentDispatched,
    StockReported,
    derive_id,
)
from shared.models.inventory import (
    ReportKind,
    StockItem,
    StockLevel,
    StockReport,
    applied_ids,
)
from shared.models.rules import RoutingRules
from shared.observability import logger
from shared.ports import EventPublisher, InventoryLedger

SOURCE = "crossdock.inventory"
REPORT_ID_MAX = 200  # StockReport.report_id


@dataclass
class ApplyDeps:
    ledger: InventoryLedger
    publisher: EventPublisher
    routing: RoutingRules
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))


def apply_stock_report(event: StockReported, deps: ApplyDeps) -> list[InventoryAdjusted]:
    report = event.data
    location = warehouse_of(report.source, report.facility, deps.routing)
    moved = apply_and_read(report, location, deps)
    adjusted = InventoryAdjusted.for_levels(
        "report",
        f"{report.source}:{report.report_id}",
        moved,
        correlation_id=event.metadata.correlation_id,
        source=SOURCE,
    )
    deps.publisher.publish(adjusted)
    return adjusted


def warehouse_of(source: str, facility: str, routing: RoutingRules) -> str:
    location = routing.location_of(source, facility)
    if location is None:
        # Config, not data, is wrong: dead-letter with the reason; a redrive after the mapping is added applies it.
        raise ValidationFailed("no warehouse is mapped to this facility", source=source, facility=facility)
    return location


def apply_and_read(report: StockReport, location: str, deps: ApplyDeps) -> list[StockLevel]:
    """Apply ``report``; every row it moved, on this attempt or an earlier one that failed before publishing."""
    changed = deps.ledger.apply_report(report, location)
    rows = deps.ledger.levels((item.sku, location) for item in report.items)
    changed_keys = {level.key for level in changed}
    logger.info("stock report applied", report_id=report.report_id, location=location, changed=len(changed))
    return [level for level in rows.values() if level.key in changed_keys or applied_by(report, level)]


def applied_by(report: StockReport, level: StockLevel) -> bool:
    """Whether ``level`` carries ``report``: its adjustment id, or its count's as-of time."""
    if report.kind is ReportKind.ADJUSTMENT:
        return report.report_id in applied_ids(level)
    return report.as_of in (level.on_hand_as_of, level.in_transit_as_of)


def release_cancelled(event: OrderCancelled, deps: ApplyDeps) -> list[InventoryAdjusted]:
    order = event.data
    changed = deps.ledger.release(order.key, deps.clock())
    # Announce the order's rows even when a first attempt released them and then failed to publish.
    skus = {line.sku for line in order.lines if line.sku}
    rows = deps.ledger.levels((sku, w.id) for sku in skus for w in deps.routing.warehouses)
    logger.info("reservation released", order_key=order.key, changed=len(changed))
    adjusted = InventoryAdjusted.for_levels(
        "release", order.key, list(rows.values()), correlation_id=event.metadata.correlation_id, source=SOURCE
    )
    deps.publisher.publish(adjusted)
    return adjusted


def apply_shipment(event: ShipmentDispatched, deps: ApplyDeps) -> list[InventoryAdjusted]:
    """The shipped units leave on-hand, then the order's reservation of them is given back.

    In that order: a failure between the two leaves them counted out twice, which promises too little until the
    redelivery finishes, never too much. Both steps are once per shipment, so the redelivery only finishes.
    """
    shipment = event.data
    location = warehouse_of("wms", shipment.facility, deps.routing)
    # The reservation is where the order was released to; the WMS may still have shipped from elsewhere.
    reserved_at = _released_to(shipment.order_key, shipment.reference_id, deps.routing) or location
    quantities = shipment.quantities()
    # A WMS count older than the shipment keeps this delta; a newer one already counted the units out.
    report = adjustment(f"ship:{shipment.shipment_id}", shipment.facility, shipment.shipped_at, _negated(quantities))
    deps.ledger.apply_report(report, location)
    released = deps.ledger.release_shipped(
        shipment.order_key, shipment.shipment_id, reserved_at, quantities, shipment.shipped_at
    )
    # Every row of the shipment: a redo cannot tell from a row whether an earlier attempt released it.
    rows = deps.ledger.levels((sku, where) for sku in quantities for where in {location, reserved_at})
    logger.info("shipment applied", shipment_id=shipment.shipment_id, location=location, released=len(released))
    adjusted = InventoryAdjusted.for_levels(
        "shipment",
        shipment.shipment_id,
        list(rows.values()),
        correlation_id=event.metadata.correlation_id,
        source=SOURCE,
    )
    deps.publisher.publish(adjusted)
    return adjusted


def _released_to(order_key: str, reference_id: str, routing: RoutingRules) -> str | None:
    """The warehouse whose release the shipment ships: our reference ids are ``safe_ref(order, warehouse)``."""
    return next((w.id for w in routing.warehouses if safe_ref(order_key, w.id) == reference_id), None)


def apply_return(event: ReturnReceived, deps: ApplyDeps) -> list[InventoryAdjusted]:
    """Restocked units go back on hand at the receiving warehouse; scrapped ones never touch stock."""
    receipt = event.data
    restocked = receipt.restocked()
    if not restocked:
        logger.info("return restocks nothing", receipt_id=receipt.receipt_id, lines=len(receipt.lines))
        return []
    location = warehouse_of("wms", receipt.facility, deps.routing)
    report = adjustment(f"return:{receipt.receipt_id}", receipt.facility, receipt.received_at, restocked)
    moved = apply_and_read(report, location, deps)
    adjusted = InventoryAdjusted.for_levels(
        "return", receipt.receipt_id, moved, correlation_id=event.metadata.correlation_id, source=SOURCE
    )
    deps.publisher.publish(adjusted)
    return adjusted


def adjustment(report_id: str, facility: str, as_of: datetime, deltas: Mapping[str, int]) -> StockReport:
    # WMS ids may run to 200 characters, as report ids do: a prefixed one that no longer fits gets a stable digest.
    return StockReport(
        report_id=report_id if len(report_id) <= REPORT_ID_MAX else derive_id(report_id),
        source="wms",
        facility=facility,
        kind=ReportKind.ADJUSTMENT,
        as_of=as_of,
        items=tuple(StockItem(sku=sku, on_hand_delta=delta) for sku, delta in deltas.items()),
    )


def _negated(quantities: Mapping[str, int]) -> dict[str, int]:
    return {sku: -units for sku, units in quantities.items()}
