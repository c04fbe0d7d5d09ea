"""Keep the stock ledger: apply what the WMS and the ERP report, and give back a cancelled order's units.

Every write changes a row only if its version is the one read, so concurrent writers never lose an update; a
snapshot older than the row's is ignored and an adjustment is applied once per report. What changed goes out as
``InventoryAdjusted``, which the channel syncs turn into availability.

A redelivered report announces again every row it moved, under the same event ids: if an earlier attempt wrote
the ledger (or part of it) and then failed, this is how the change still reaches the channels.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from shared.errors import ValidationFailed
from shared.models.events import InventoryAdjusted, OrderCancelled, StockReported
from shared.models.inventory import (
    ReportKind,
    StockLevel,
    StockReport,
    applied_ids,
)
from shared.models.rules import RoutingRules
from shared.observability import logger
from shared.ports import EventPublisher, InventoryLedger

SOURCE = "crossdock.inventory"


@dataclass
class ApplyDeps:
    ledger: InventoryLedger
    publisher: EventPublisher
    routing: RoutingRules
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))


def apply_stock_report(event: StockReported, deps: ApplyDeps) -> list[InventoryAdjusted]:
    report = event.data
    location = deps.routing.location_of(report.source, report.facility)
    if location is None:
        # Config, not data, is wrong: dead-letter with the reason; a redrive after the mapping is added applies it.
        raise ValidationFailed(
            "no warehouse is mapped to this facility", source=report.source, facility=report.facility
        )
    changed = deps.ledger.apply_report(report, location)
    # Every row this report moved, on this attempt or an earlier one that failed before publishing.
    rows = deps.ledger.levels((item.sku, location) for item in report.items)
    changed_keys = {level.key for level in changed}
    moved = [level for level in rows.values() if level.key in changed_keys or applied_by(report, level)]
    logger.info("stock report applied", report_id=report.report_id, location=location, changed=len(changed))
    adjusted = InventoryAdjusted.for_levels(
        "report",
        f"{report.source}:{report.report_id}",
        moved,
        correlation_id=event.metadata.correlation_id,
        source=SOURCE,
    )
    deps.publisher.publish(adjusted)
    return adjusted


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
