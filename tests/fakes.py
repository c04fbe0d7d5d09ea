"""Fakes for the ports: real behaviour in memory, so tests assert outcomes rather than calls."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyItemAlreadyExistsError,
    IdempotencyItemNotFoundError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord

from shared.channels.base import RefundRequest
from shared.erp.ports import CancelOutcome, ErpCreditMemo, ErpCustomer, ErpItem, ErpSalesOrder, ErpShipmentRecord
from shared.errors import DownstreamUnavailable, NotFound
from shared.ids import erp_external_id
from shared.models.events import EventEnvelope
from shared.models.lifecycle import Allocation, ChannelOrderRef, ChannelStatus, FulfillmentRequest, Reason
from shared.models.money import Money
from shared.models.order import Order
from shared.models.order_state import OrderState, OrderStatus, OrderVersion, TimelineEntry
from shared.models.returns import CreditedLine, ReturnAuthorization, ReturnLine, ReturnReceipt
from shared.models.shipping import Shipment
from shared.wms.ports import WmsCancelOutcome, WmsOrder


class FakeSecrets:
    def __init__(self, **by_platform: Sequence[str]) -> None:
        self.by_platform = {k: [s.encode() for s in v] for k, v in by_platform.items()}

    def for_platform(self, platform: str) -> list[bytes]:
        if platform not in self.by_platform:
            raise DownstreamUnavailable("webhook secret unavailable", platform=platform)
        return self.by_platform[platform]


class FakePublisher:
    def __init__(self) -> None:
        self.events: list[EventEnvelope[Any]] = []
        self.failures_left = 0

    def publish(self, events: Sequence[EventEnvelope[Any]]) -> None:
        if self.failures_left:
            self.failures_left -= 1
            raise DownstreamUnavailable("event bus rejected entries", failed=len(events))
        self.events.extend(events)


class InMemoryPersistence(BasePersistenceLayer):
    """The DynamoDB layer's conditional-put semantics, in a dict."""

    def __init__(self) -> None:
        super().__init__()
        self.records: dict[str, DataRecord] = {}

    def _get_record(self, idempotency_key: str) -> DataRecord:
        try:
            return self.records[idempotency_key]
        except KeyError:
            raise IdempotencyItemNotFoundError from None

    def _put_record(self, data_record: DataRecord) -> None:
        existing = self.records.get(data_record.idempotency_key)
        now = dt.datetime.now().timestamp()
        if existing and not existing.is_expired and not _in_progress_expired(existing, now):
            raise IdempotencyItemAlreadyExistsError(old_data_record=existing)
        self.records[data_record.idempotency_key] = data_record

    def _update_record(self, data_record: DataRecord) -> None:
        self.records[data_record.idempotency_key] = data_record

    def _delete_record(self, data_record: DataRecord) -> None:
        self.records.pop(data_record.idempotency_key, None)


def _in_progress_expired(record: DataRecord, now: float) -> bool:
    expiry = record.in_progress_expiry_timestamp
    return record.status == "INPROGRESS" and expiry is not None and expiry < now * 1000


class FakeLambdaContext:
    """What Powertools reads from a Lambda context."""

    def __init__(self, function_name: str = "crossdock-test", timeout_ms: int = 5000) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}"
        self.memory_limit_in_mb = 256
        self.aws_request_id = "00000000-0000-4000-8000-000000000000"
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "2026/11/30/[$LATEST]0000"
        self._deadline = dt.datetime.now().timestamp() * 1000 + timeout_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int(self._deadline - dt.datetime.now().timestamp() * 1000))


class FakeOrderStore:
    """The orders table's conditions in memory: versions only move to newer, statuses only to a higher rank,
    one timeline entry per event id. ``find`` sees only orders with a version (the index key comes with it)."""

    def __init__(self) -> None:
        self.versions: dict[str, OrderVersion] = {}
        self.statuses: dict[str, OrderStatus] = {}
        self.entries: dict[str, list[TimelineEntry]] = {}
        self.cancel_requests: set[str] = set()
        self.references: dict[str, str] = {}
        self.shipped: dict[str, dict[str, Shipment]] = {}
        self.rmas: dict[str, dict[str, ReturnAuthorization]] = {}

    def remember_reference(self, reference: str, order_key: str) -> None:
        self.references[reference] = order_key

    def order_for(self, reference: str) -> str | None:
        return self.references.get(reference)

    def record_shipment(self, shipment: Shipment) -> bool:
        shipments = self.shipped.setdefault(shipment.order_key, {})
        if shipment.shipment_id in shipments:
            return False
        shipments[shipment.shipment_id] = shipment
        return True

    def shipments(self, order_key: str) -> list[Shipment]:
        return list(self.shipped.get(order_key, {}).values())

    def save_return(self, authorization: ReturnAuthorization, known: int) -> bool:
        rmas = self.rmas.setdefault(authorization.order_key, {})
        if authorization.rma_number in rmas or len(rmas) != known:
            return False
        rmas[authorization.rma_number] = authorization
        self.references[authorization.rma_number] = authorization.order_key
        return True

    def void_return(self, authorization: ReturnAuthorization) -> bool:
        return self.rmas.get(authorization.order_key, {}).pop(authorization.rma_number, None) is not None

    def complete_return(self, authorization: ReturnAuthorization) -> None:
        self.rmas[authorization.order_key][authorization.rma_number] = authorization

    def returns(self, order_key: str) -> list[ReturnAuthorization]:
        return list(self.rmas.get(order_key, {}).values())

    def request_cancel(self, order_key: str, at: dt.datetime) -> None:
        self.cancel_requests.add(order_key)

    def apply_version(self, state: OrderVersion) -> bool:
        current = self.versions.get(state.order_key)
        if current is not None and current.version >= state.version:
            return False
        self.versions[state.order_key] = state
        return True

    def advance_status(self, order_key: str, status: OrderStatus, at: dt.datetime) -> bool:
        current = self.statuses.get(order_key)
        if current is not None and current.rank >= status.rank:
            return False
        self.statuses[order_key] = status
        return True

    def append(self, entry: TimelineEntry) -> bool:
        entries = self.entries.setdefault(entry.order_key, [])
        if any(e.event_id == entry.event_id for e in entries):
            return False
        entries.append(entry)
        return True

    def get(self, order_key: str) -> OrderState | None:
        version, status = self.versions.get(order_key), self.statuses.get(order_key)
        cancel_requested = order_key in self.cancel_requests
        if version is None and status is None and not cancel_requested:
            return None
        return OrderState(
            order_key=order_key,
            cancel_requested=cancel_requested,
            channel=version.channel if version else None,
            store=version.store if version else None,
            external_id=version.external_id if version else None,
            version=version.version if version else None,
            status=status,
            correlation_id=version.correlation_id if version else None,
        )

    def timeline(self, order_key: str) -> list[TimelineEntry]:
        return sorted(self.entries.get(order_key, []), key=lambda e: e.at)

    def find(self, channel: str, external_id: str) -> list[OrderState]:
        keys = [k for k, v in self.versions.items() if (v.channel, v.external_id) == (channel, external_id)]
        return [state for key in keys if (state := self.get(key)) is not None]


class _Failures:
    """Errors to raise on the next calls of an operation; ``after_commit`` does the work first, then raises
    (a timeout that hid a commit)."""

    def __init__(self) -> None:
        self._failures: dict[str, list[tuple[Exception, bool]]] = {}

    def fail_next(self, operation: str, error: Exception, *, after_commit: bool = False) -> None:
        self._failures.setdefault(operation, []).append((error, after_commit))

    def _failure(self, operation: str, *, committed: bool) -> None:
        pending = self._failures.get(operation)
        if pending and pending[0][1] == committed:
            raise pending.pop(0)[0]


class FakeErp(_Failures):
    """An ERP in memory: customers by order key or email, items by SKU, sales orders by external id."""

    def __init__(
        self, customers: dict[str, ErpCustomer] | None = None, catalog: dict[str, ErpItem] | None = None
    ) -> None:
        super().__init__()
        self.customers = dict(customers or {})
        self.catalog = dict(catalog or {})
        self.sales_orders: dict[str, ErpSalesOrder] = {}
        self.allocations: dict[str, tuple[Allocation, ...]] = {}
        self.creates = 0
        self.calls: list[str] = []
        self.shipments: dict[str, ErpShipmentRecord] = {}
        self.return_authorizations: dict[str, str] = {}
        self.credit_memos: dict[str, ErpCreditMemo] = {}

    def find_customer(self, order: Order) -> ErpCustomer | None:
        self._call("find_customer")
        found = self.customers.get(order.key)
        if found is None and order.customer.email:
            found = self.customers.get(order.customer.email)
        return found

    def items(self, skus: Sequence[str], customer: ErpCustomer | None = None) -> dict[str, ErpItem]:
        self._call("items")
        return {sku: self.catalog[sku] for sku in skus if sku in self.catalog}

    def upsert_sales_order(
        self, order: Order, customer: ErpCustomer, allocations: Sequence[Allocation]
    ) -> ErpSalesOrder:
        self._call("upsert_sales_order")
        external_id = erp_external_id(order.key)
        if external_id not in self.sales_orders:
            self.creates += 1
            self.sales_orders[external_id] = ErpSalesOrder(
                id=f"SO-{self.creates}", external_id=external_id, status="pendingFulfillment"
            )
            self.allocations[external_id] = tuple(allocations)
        self._failure("upsert_sales_order", committed=True)
        return self.sales_orders[external_id]

    def find_sales_order(self, order: Order) -> ErpSalesOrder | None:
        self._call("find_sales_order")
        return self.sales_orders.get(erp_external_id(order.key))

    def cancel_sales_order(self, order: Order) -> CancelOutcome:
        self._call("cancel_sales_order")
        found = self.sales_orders.get(erp_external_id(order.key))
        if found is None:
            return CancelOutcome.NOT_FOUND
        if found.shipped:
            return CancelOutcome.TOO_LATE
        if found.cancelled:
            return CancelOutcome.ALREADY_CANCELLED
        self.sales_orders[found.external_id] = found.model_copy(update={"cancelled": True, "status": "closed"})
        return CancelOutcome.CANCELLED

    def record_shipment(self, order_key: str, shipment: Shipment) -> ErpShipmentRecord:
        self._call("record_shipment")
        external_id = erp_external_id(order_key)
        sales_order = self.sales_orders.get(external_id)
        if sales_order is None:
            raise NotFound("no sales order for the order", system="fake-erp")
        if shipment.shipment_id not in self.shipments:
            price = Decimal("10.00")
            amount = sum((price * q for q in shipment.quantities().values()), Decimal(0))
            index = len(self.shipments) + 1
            self.shipments[shipment.shipment_id] = ErpShipmentRecord(
                sales_order_id=sales_order.id,
                fulfillment_id=f"IF-{index}",
                invoice_id=f"INV-{index}",
                amount=Money(amount=amount, currency="USD"),
            )
            self.sales_orders[external_id] = sales_order.model_copy(update={"shipped": True})
        self._failure("record_shipment", committed=True)
        return self.shipments[shipment.shipment_id]

    def authorize_return(self, order_key: str, rma_number: str, lines: Sequence[ReturnLine]) -> str:
        self._call("authorize_return")
        self.return_authorizations.setdefault(rma_number, f"RA-{len(self.return_authorizations) + 1}")
        self._failure("authorize_return", committed=True)
        return self.return_authorizations[rma_number]

    def issue_credit_memo(
        self, order_key: str, rma_number: str, receipt: ReturnReceipt, credit_percent: Mapping[str, int]
    ) -> ErpCreditMemo:
        self._call("issue_credit_memo")
        if receipt.receipt_id not in self.credit_memos:
            lines = tuple(
                CreditedLine(
                    sku=line.sku,
                    quantity=line.quantity,
                    amount=Money(
                        amount=(
                            Decimal("10.00") * line.quantity * credit_percent.get(line.condition.value, 100) / 100
                        ).quantize(Decimal("0.01")),
                        currency="USD",
                    ),
                )
                for line in receipt.lines
            )
            total = sum((line.amount.amount for line in lines), Decimal(0))
            self.credit_memos[receipt.receipt_id] = ErpCreditMemo(
                credit_memo_id=f"CM-{len(self.credit_memos) + 1}",
                amount=Money(amount=total, currency="USD"),
                lines=lines,
            )
        self._failure("issue_credit_memo", committed=True)
        return self.credit_memos[receipt.receipt_id]

    def ship(self, order: Order) -> None:
        """The ERP records a fulfillment: the sales order can no longer be cancelled."""
        external_id = erp_external_id(order.key)
        self.sales_orders[external_id] = self.sales_orders[external_id].model_copy(update={"shipped": True})

    def _call(self, operation: str) -> None:
        self.calls.append(operation)
        self._failure(operation, committed=False)


class FakeWms(_Failures):
    """A WMS in memory: one fulfillment order per reference id, as ShipBob keys them."""

    def __init__(self) -> None:
        super().__init__()
        self.orders: dict[str, WmsOrder] = {}
        self.requests: dict[str, FulfillmentRequest] = {}
        self.creates = 0

    def release(self, request: FulfillmentRequest) -> WmsOrder:
        self._failure("release", committed=False)
        existing = self.orders.get(request.reference_id)
        if existing is not None:
            return existing.model_copy(update={"created": False})
        self.creates += 1
        made = WmsOrder(id=f"WMS-{self.creates}", reference_id=request.reference_id, status="Processing", created=True)
        self.orders[request.reference_id] = made
        self.requests[request.reference_id] = request
        self._failure("release", committed=True)
        return made

    def cancel(self, reference_id: str) -> WmsCancelOutcome:
        self._failure("cancel", committed=False)
        found = self.orders.get(reference_id)
        if found is None:
            return WmsCancelOutcome.NOT_FOUND
        if found.status == "Completed":
            return WmsCancelOutcome.TOO_LATE
        self.orders[reference_id] = found.model_copy(update={"status": "Cancelled"})
        return WmsCancelOutcome.CANCELLED

    def ship(self, reference_id: str) -> None:
        self.orders[reference_id] = self.orders[reference_id].model_copy(update={"status": "Completed"})


class FakeChannelApi:
    """A channel's API in memory: orders to fetch, refs to list, and the status it shows for each order."""

    def __init__(self, orders: Sequence[Order] = (), updated: Sequence[ChannelOrderRef] = ()) -> None:
        self.orders = {order.external_id: order for order in orders}
        self.updated = list(updated)
        self.asked_since: list[dt.datetime] = []
        self.statuses: dict[str, ChannelStatus] = {}
        # Every push that changed the channel: a repeat of the status it already shows changes nothing.
        self.pushed: list[tuple[str, ChannelStatus, tuple[Reason, ...]]] = []
        # Fulfillments and refunds made, by order then by shipment id / refund id: each made once.
        self.fulfillments: dict[str, dict[str, str]] = {}
        self.refunds: dict[str, dict[str, tuple[str, RefundRequest]]] = {}
        self.fulfillment_calls = 0
        self.refund_calls = 0

    def fetch_order(self, external_id: str) -> Order:
        if external_id not in self.orders:
            raise NotFound("no such order in the channel", field="external_id")
        return self.orders[external_id]

    def list_updated_since(self, since: dt.datetime) -> list[ChannelOrderRef]:
        self.asked_since.append(since)
        return [ref for ref in self.updated if ref.updated_at is None or ref.updated_at >= since]

    def push_status(self, external_id: str, status: ChannelStatus, reasons: Sequence[Reason] = ()) -> None:
        if self.statuses.get(external_id) is status:
            return
        self.statuses[external_id] = status
        self.pushed.append((external_id, status, tuple(reasons)))

    def create_fulfillment(self, external_id: str, shipment: Shipment) -> str:
        self.fulfillment_calls += 1
        if external_id not in self.orders:
            raise NotFound("no such order in the channel", field="external_id")
        made = self.fulfillments.setdefault(external_id, {})
        if shipment.shipment_id not in made:
            made[shipment.shipment_id] = f"F-{external_id}-{len(made) + 1}"
        return made[shipment.shipment_id]

    def refund(self, external_id: str, request: RefundRequest) -> str:
        self.refund_calls += 1
        if external_id not in self.orders:
            raise NotFound("no such order in the channel", field="external_id")
        made = self.refunds.setdefault(external_id, {})
        if request.refund_id not in made:
            made[request.refund_id] = (f"R-{external_id}-{len(made) + 1}", request)
        return made[request.refund_id][0]
