"""Where a dead letter goes back to, and moving it there.

The destination is the queue it failed from: our ``source_queue`` attribute (a queue name), else EventBridge's
``TARGET_ARN`` (the rule's target queue), else the one queue whose RedrivePolicy points at this DLQ.

A move sends first and deletes second. A crash in between leaves the message in both queues, so it may be
processed twice; every consumer is idempotent on the event id, which absorbs that. The other order could lose it.
For the same reason a delete that fails after the send is not a failed move: the copy is on its way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from infra.ops.dead_letters import DeadLetter, redrive_attributes
from infra.ops.queues import Message, Queue, Topology


@dataclass(frozen=True)
class Move:
    message: Message
    letter: DeadLetter
    destination: Queue | None
    problem: str | None = None  # why it cannot move (no destination)


def plan(topology: Topology, message: Message, letter: DeadLetter) -> Move:
    source = letter.reason.source_queue
    if source:
        queue = topology.by_arn(source) if source.startswith("arn:") else topology.by_name(source)
        if queue is None:
            return Move(message, letter, None, f"its source queue {source} is not in the stack")
        return Move(message, letter, queue)
    sources = topology.sources_of(message.queue)
    if len(sources) != 1:
        return Move(message, letter, None, f"{len(sources)} queues dead-letter into {message.queue.label}")
    return Move(message, letter, sources[0])


def move(sqs: Any, item: Move, now: datetime) -> str | None:
    """Send the original body to its destination as a fresh message, then delete it from the DLQ.

    A send that fails raises: nothing moved. A delete that fails does not: it returns why, and the original will
    show again in the DLQ, where redriving it again is harmless.
    """
    assert item.destination is not None
    sqs.send_message(
        QueueUrl=item.destination.url,
        MessageBody=item.message.body,
        MessageAttributes=redrive_attributes(item.message.attributes, now),
    )
    try:
        sqs.delete_message(QueueUrl=item.message.queue.url, ReceiptHandle=item.message.receipt_handle)
    except (ClientError, BotoCoreError) as error:
        return str(error)
    return None
