"""µs per SQS record in each consumer, network excluded: the handler's record handler (parse the bus event, run the
use case) behind ``shared.consumer.consume``, with the ports on in-process fakes.

Each repeat gets fresh fakes and a batch of distinct orders' records (10 per batch, as the queues deliver them), so
every record does the real work, never the "seen it already" shortcut. Every record must succeed: a bench that
timed a failure path would be measuring the wrong thing.
"""

from __future__ import annotations

import hashlib
import statistics
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.apply_inventory.logic import ApplyDeps, apply_shipment
from functions.cancel_order.logic import CancelDeps, cancel_order
from functions.credit_return.logic import CreditDeps, credit_return
from functions.fetch_order.logic import FetchDeps, fetch_order
from functions.fulfil_channel.logic import FulfilDeps, fulfil_channel
from functions.invoice_shipment.logic import InvoiceDeps, invoice_shipment
from functions.record_order.logic import record_event
from functions.refund_channel.logic import RefundDeps, refund_channel
from functions.release_fulfillment.logic import ReleaseDeps, release_fulfillment
from functions.update_channel.logic import UpdateChannelDeps, update_channel
from functions.validate_order.logic import ValidateDeps, validate_order
from infra.bench.fakes import FakeErp, FakeLambdaContext, FakeOrderStore, FakePublisher, FakeWms
from infra.bench.memory_journey import Journey, World, bus_body
from infra.bench.sync_case import sync_case
from shared.consumer import consume
from shared.errors import CrossdockError
from shared.models.bus import parse_event
from shared.models.events import (
    ChannelOrderNotified,
    CreditMemoIssued,
    EventEnvelope,
    OrderAccepted,
    OrderCancelled,
    OrderHeld,
    OrderInvoiced,
    OrderReceived,
    OrderRejected,
    ReturnReceived,
    ShipmentDispatched,
    StockReported,
)

BATCH_SIZE = 10
QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:crossdock-bench"

RecordHandler = Callable[[str], None]
BatchHandler = Callable[[dict[str, Any]], Mapping[str, Any]]


@dataclass(frozen=True)
class ConsumerCase:
    function: str
    event: str  # the detail-type it is fed here
    bodies: tuple[str, ...]
    handler: Callable[[], BatchHandler]  # fresh fakes, then the function's batch handling on them


class DeadLetterRecorder:
    def __init__(self) -> None:
        self.sent: list[str] = []

    def send(self, body: str, error: CrossdockError, **_: Any) -> None:
        self.sent.append(error.message)


def sqs_event(bodies: Sequence[str]) -> dict[str, Any]:
    """An SQS batch as the event source mapping hands it to the function (first receive)."""
    now = str(int(time.time() * 1000))
    return {
        "Records": [
            {
                "messageId": str(uuid.uuid4()),
                "receiptHandle": f"bench-{index}",
                "body": body,
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": now,
                    "SenderId": "AIDABENCH",
                    "ApproximateFirstReceiveTimestamp": now,
                },
                "messageAttributes": {},
                "md5OfBody": hashlib.md5(body.encode()).hexdigest(),  # noqa: S324 - what SQS sends, not security
                "eventSource": "aws:sqs",
                "eventSourceARN": QUEUE_ARN,
                "awsRegion": "us-east-1",
            }
            for index, body in enumerate(bodies)
        ]
    }


def per_record_us(case: ConsumerCase, repeat: int, warmup: int = 1) -> float:
    samples = []
    for index in range(warmup + repeat):
        handle = case.handler()
        batches = [sqs_event(case.bodies[i : i + BATCH_SIZE]) for i in range(0, len(case.bodies), BATCH_SIZE)]
        failures: list[Any] = []
        started = time.perf_counter_ns()
        for batch in batches:
            failures += handle(batch)["batchItemFailures"]
        elapsed = time.perf_counter_ns() - started
        if failures:
            raise RuntimeError(f"{case.function}: {len(failures)} records failed")
        if index >= warmup:
            samples.append(elapsed / len(case.bodies) / 1000)
    return statistics.median(samples)


def consuming(function: str, make: Callable[[], RecordHandler]) -> Callable[[], BatchHandler]:
    """The batch handling every consumer but the sync shares (``shared.consumer.consume``)."""

    def factory() -> BatchHandler:
        handle, dead_letters = make(), DeadLetterRecorder()
        context = cast(LambdaContext, FakeLambdaContext(f"crossdock-bench-{function}", timeout_ms=600_000))

        def run(event: dict[str, Any]) -> Mapping[str, Any]:
            response = consume(event, context, handle, dead_letters)
            if dead_letters.sent:
                raise RuntimeError(f"{function}: records dead-lettered: {dead_letters.sent[:3]}")
            return response

        return run

    return factory


def _bodies(events: Sequence[EventEnvelope[Any]]) -> tuple[str, ...]:
    return tuple(bus_body(event) for event in events)


def cases(world: World, journeys: Sequence[Journey]) -> list[ConsumerCase]:
    """One case per SQS consumer, fed the event of the order journey it handles."""
    config = world.config
    api_for = _channels(world)

    def record_order() -> RecordHandler:
        store = FakeOrderStore()
        return lambda body: _none(record_event(parse_event(body, EventEnvelope), store))

    def validate() -> RecordHandler:
        erp, ledger, states = world.erp(), world.ledger(), FakeOrderStore()

        def handle(body: str) -> None:
            deps = ValidateDeps(
                erp=erp,
                publisher=FakePublisher(),
                states=states,
                rules=config.order_rules,
                routing=config.routing,
                ledger=ledger,
            )
            validate_order(parse_event(body, OrderReceived), deps)

        return handle

    def release() -> RecordHandler:
        deps = ReleaseDeps(wms=FakeWms(), publisher=FakePublisher(), states=FakeOrderStore(), routing=config.routing)
        return lambda body: _none(release_fulfillment(parse_event(body, OrderAccepted), deps))

    def update() -> RecordHandler:
        deps = UpdateChannelDeps(api_for=api_for(), publisher=FakePublisher(), states=FakeOrderStore())
        kinds = (OrderAccepted, OrderHeld, OrderRejected, OrderCancelled)
        return lambda body: _none(update_channel(parse_event(body, kinds), deps))

    def cancel() -> RecordHandler:
        wms = FakeWms()
        for journey in journeys:
            for released in journey.released:
                wms.release(released.data.request)
        deps = CancelDeps(
            erp=world.erp_with_sales_orders(),
            wms=wms,
            publisher=FakePublisher(),
            states=FakeOrderStore(),
            routing=config.routing,
        )
        return lambda body: _none(cancel_order(parse_event(body, OrderCancelled), deps))

    def fetch() -> RecordHandler:
        deps = FetchDeps(api_for=api_for(), publisher=FakePublisher())
        return lambda body: _none(fetch_order(parse_event(body, ChannelOrderNotified), deps))

    def invoice() -> RecordHandler:
        deps = InvoiceDeps(erp=world.erp_with_sales_orders(), publisher=FakePublisher())
        return lambda body: _none(invoice_shipment(parse_event(body, ShipmentDispatched), deps))

    def fulfil() -> RecordHandler:
        deps = FulfilDeps(
            api_for=api_for(),
            publisher=FakePublisher(),
            invoice_before_fulfil=config.shipping.invoice_before_fulfil,
            once=world.once("fulfil_channel"),
        )

        def handle(body: str) -> None:
            event = parse_event(body, (OrderInvoiced, ShipmentDispatched))
            assert isinstance(event, OrderInvoiced | ShipmentDispatched)
            fulfil_channel(event, deps)

        return handle

    def apply() -> RecordHandler:
        ledger = world.ledger()
        for journey in journeys:
            ledger.reserve(journey.order.key, journey.reservations, datetime.now(UTC))
        deps = ApplyDeps(ledger=ledger, publisher=FakePublisher(), routing=config.routing)

        def handle(body: str) -> None:
            event = parse_event(body, (StockReported, OrderCancelled, ShipmentDispatched, ReturnReceived))
            assert isinstance(event, ShipmentDispatched)
            apply_shipment(event, deps)

        return handle

    def credit() -> RecordHandler:
        store = FakeOrderStore()
        for journey in journeys:
            store.save_return(journey.authorization, 0)
        deps = CreditDeps(
            erp=FakeErp(), publisher=FakePublisher(), returns=store, credit_percent=config.returns.credit_percent
        )
        return lambda body: _none(credit_return(parse_event(body, ReturnReceived), deps))

    def refund() -> RecordHandler:
        deps = RefundDeps(api_for=api_for(), publisher=FakePublisher(), once=world.once("refund_channel"))
        return lambda body: _none(refund_channel(parse_event(body, CreditMemoIssued), deps))

    def events(pick: Callable[[Journey], EventEnvelope[Any]]) -> tuple[str, ...]:
        return _bodies([pick(journey) for journey in journeys])

    made: list[tuple[str, str, Callable[[Journey], EventEnvelope[Any]], Callable[[], RecordHandler]]] = [
        ("record_order", "OrderReceived", lambda j: j.received, record_order),
        ("validate_order", "OrderReceived", lambda j: j.received, validate),
        ("release_fulfillment", "OrderAccepted", lambda j: j.accepted, release),
        ("update_channel", "OrderAccepted", lambda j: j.accepted, update),
        ("cancel_order", "OrderCancelled", lambda j: j.cancelled, cancel),
        ("fetch_order", "ChannelOrderNotified", lambda j: j.notified, fetch),
        ("invoice_shipment", "ShipmentDispatched", lambda j: j.dispatched, invoice),
        ("fulfil_channel", "OrderInvoiced", lambda j: j.invoiced, fulfil),
        ("apply_inventory", "ShipmentDispatched", lambda j: j.dispatched, apply),
        ("credit_return", "ReturnReceived", lambda j: j.return_received, credit),
        ("refund_channel", "CreditMemoIssued", lambda j: j.credit_memo, refund),
    ]
    return [
        *(ConsumerCase(name, kind, events(pick), consuming(name, make)) for name, kind, pick, make in made),
        ConsumerCase(
            "sync_availability", "InventoryAdjusted", events(lambda j: j.adjusted), sync_case(world, journeys)
        ),
    ]


def _channels(world: World) -> Callable[[], Callable[[str], Any]]:
    def make() -> Callable[[str], Any]:
        api = world.channel()
        return lambda _platform: api

    return make


def _none(_: object) -> None:
    return None
