"""The stack's queues and their DLQs, and a way to look at a DLQ's messages without taking them.

A queue is a DLQ when another queue's RedrivePolicy points at it, or when its label ends in ``Dlq``/``DLQ``: the
second catches a DLQ that only rule targets use (EventBridge's ``DeadLetterConfig``), which no queue attribute
names. Reading every queue's attributes once gives the redrive links, the depths and the ARNs in one pass, so
no per-DLQ ``ListDeadLetterSourceQueues`` call is needed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from infra.ops.target import Target

SQS_BATCH = 10
# Empty receives in a row before a peek stops: short polling samples a subset of SQS's servers.
EMPTY_RECEIVES = 3


@dataclass(frozen=True)
class Queue:
    label: str
    url: str
    arn: str
    visible: int = 0
    in_flight: int = 0
    delayed: int = 0
    dead_letter_arn: str | None = None  # where its RedrivePolicy sends messages
    max_receives: int | None = None

    @property
    def name(self) -> str:
        return self.url.rsplit("/", 1)[-1]

    @property
    def depth(self) -> int:
        return self.visible + self.in_flight + self.delayed


@dataclass(frozen=True)
class Topology:
    queues: list[Queue]

    @property
    def dlqs(self) -> list[Queue]:
        targets = {q.dead_letter_arn for q in self.queues if q.dead_letter_arn}
        return [q for q in self.queues if q.arn in targets or q.label.lower().endswith("dlq")]

    @property
    def buffers(self) -> list[Queue]:
        dlqs = {q.arn for q in self.dlqs}
        return [q for q in self.queues if q.arn not in dlqs]

    def sources_of(self, dlq: Queue) -> list[Queue]:
        return [q for q in self.queues if q.dead_letter_arn == dlq.arn]

    def by_name(self, name: str) -> Queue | None:
        return next((q for q in self.queues if q.name == name), None)

    def by_arn(self, arn: str) -> Queue | None:
        return next((q for q in self.queues if q.arn == arn), None)


def topology(target: Target) -> Topology:
    sqs = target.client("sqs")
    queues = []
    for resource in target.of_type("AWS::SQS::Queue"):
        attributes = sqs.get_queue_attributes(QueueUrl=resource.physical_id, AttributeNames=["All"])["Attributes"]
        redrive = json.loads(attributes.get("RedrivePolicy", "{}"))
        queues.append(
            Queue(
                label=resource.label,
                url=resource.physical_id,
                arn=attributes["QueueArn"],
                visible=int(attributes.get("ApproximateNumberOfMessages", 0)),
                in_flight=int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
                delayed=int(attributes.get("ApproximateNumberOfMessagesDelayed", 0)),
                dead_letter_arn=redrive.get("deadLetterTargetArn"),
                max_receives=int(redrive["maxReceiveCount"]) if "maxReceiveCount" in redrive else None,
            )
        )
    return Topology(queues)


def select(queues: list[Queue], text: str | None) -> list[Queue]:
    """Queues whose label or name contains ``text`` (any case); all of them without it."""
    if not text:
        return queues
    needle = text.lower()
    return [q for q in queues if needle in q.label.lower() or needle in q.name.lower()]


@dataclass(frozen=True)
class Message:
    queue: Queue
    message_id: str
    receipt_handle: str
    body: str
    attributes: dict[str, dict[str, Any]]  # SQS message attributes as received: DataType + StringValue/BinaryValue
    sent_at: datetime | None

    def strings(self) -> dict[str, str]:
        return {k: str(v["StringValue"]) for k, v in self.attributes.items() if "StringValue" in v}


@dataclass
class Peek:
    """Messages held invisible for a while; whatever is not marked ``taken`` is made visible again on exit."""

    messages: list[Message]
    taken: set[str] = field(default_factory=set)


@contextmanager
def peeking(target: Target, queue: Queue, *, limit: int, visibility_seconds: int) -> Iterator[Peek]:
    """Receive up to ``limit`` messages of ``queue`` (each once), then give back every one not taken.

    Receiving is the only way SQS shows a message; nothing is deleted here, and the ``finally`` gives the
    messages back even when the caller fails or is interrupted.
    """
    sqs = target.client("sqs")
    peek = Peek(_receive(sqs, queue, limit, visibility_seconds))
    try:
        yield peek
    finally:
        release(sqs, queue.url, [m.receipt_handle for m in peek.messages if m.message_id not in peek.taken])


def _receive(sqs: Any, queue: Queue, limit: int, visibility_seconds: int) -> list[Message]:
    seen: dict[str, Message] = {}
    expected = queue.visible
    empty = 0
    while len(seen) < limit and empty < EMPTY_RECEIVES and (expected == 0 or len(seen) < expected):
        batch = sqs.receive_message(
            QueueUrl=queue.url,
            MaxNumberOfMessages=min(SQS_BATCH, limit - len(seen)),
            VisibilityTimeout=visibility_seconds,
            MessageAttributeNames=["All"],
            MessageSystemAttributeNames=["SentTimestamp"],
            WaitTimeSeconds=0,
        ).get("Messages", [])
        empty = 0 if batch else empty + 1
        for raw in batch:
            # Seen twice (its visibility ran out mid-peek): the newest receipt handle is the one that works.
            seen[raw["MessageId"]] = _message(queue, raw)
    return list(seen.values())


def _message(queue: Queue, raw: dict[str, Any]) -> Message:
    sent = raw.get("Attributes", {}).get("SentTimestamp")
    return Message(
        queue=queue,
        message_id=raw["MessageId"],
        receipt_handle=raw["ReceiptHandle"],
        body=raw["Body"],
        attributes=raw.get("MessageAttributes", {}),
        sent_at=datetime.fromtimestamp(int(sent) / 1000, UTC) if sent else None,
    )


def release(sqs: Any, url: str, receipt_handles: list[str]) -> None:
    for start in range(0, len(receipt_handles), SQS_BATCH):
        chunk = receipt_handles[start : start + SQS_BATCH]
        sqs.change_message_visibility_batch(
            QueueUrl=url,
            Entries=[{"Id": str(i), "ReceiptHandle": h, "VisibilityTimeout": 0} for i, h in enumerate(chunk)],
        )
