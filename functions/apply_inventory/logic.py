"""Keep the stock ledger: apply what the WMS and the ERP report, and give back a cancelled order's units.

Every write changes a row only if its version is the one read, so concurrent writers never lose an update; a
snapshot older than the row's is ignored and an adjustment is applied once per report. What changed goes out as
``InventoryAdjusted``, which the channel syncs turn into availability.

A redelivered report announces again every row it moved, under the same event ids: if an earlier attempt wrote
the ledger (or part of it) and then failed, this is how the change still reaches the channels.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from shared.errors import ValidationFailed
from shared.models.events import EventMetadata, InventoryAdjusted, OrderCancelled, StockReported, derive_id
from shared.models.inventory import (
    InventoryChange,
    LevelChange,
    ReportKind,
    StockLevel,
    StockReport,
    applied_ids,
)
from shared.models.rules import RoutingRules
from shared.observability import logger
from shared.ports import EventPublisher, InventoryLedger

SOURCE = "crossdock.inventory"
# Rows per event: a row is about 250 bytes, and an event (and a PutEvents call) holds at most 256 KB.
LEVELS_PER_EVENT = 400


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
    adjusted = adjusted_events("report", f"{report.source}:{report.report_id}", moved, event.metadata.correlation_id)
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
    adjusted = adjusted_events("release", order.key, list(rows.values()), event.metadata.correlation_id)
    deps.publisher.publish(adjusted)
    return adjusted


def adjusted_events(
    cause: str, cause_id: str, levels: Sequence[StockLevel], correlation_id: str
) -> list[InventoryAdjusted]:
    """One event per chunk of rows; ids derived from the cause, so a redo repeats the same ids."""
    events = []
    for index, start in enumerate(range(0, len(levels), LEVELS_PER_EVENT)):
        chunk = levels[start : start + LEVELS_PER_EVENT]
        metadata = EventMetadata(
            event_id=derive_id(InventoryAdjusted.detail_type, cause, cause_id, str(index)),
            correlation_id=correlation_id,
            occurred_at=datetime.now(UTC),
            source=SOURCE,
        )
        change = InventoryChange(cause=cause, cause_id=cause_id, levels=tuple(LevelChange.of(x) for x in chunk))
        events.append(InventoryAdjusted(metadata=metadata, data=change))
    return events
