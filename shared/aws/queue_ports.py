"""The queue-side ports every consumer hands to ``shared.consumer.consume``, built from its environment."""

from __future__ import annotations

from typing import TypedDict

from shared.aws.dead_letters import SqsDeadLetters
from shared.aws.requeue import SqsRequeue
from shared.env import ConsumerEnv
from shared.waiting import Requeue


class QueuePorts(TypedDict):
    dead_letters: SqsDeadLetters
    requeue: Requeue | None
    max_receives: int | None


def queue_ports(env: ConsumerEnv) -> QueuePorts:
    return {
        "dead_letters": SqsDeadLetters(env.DLQ_URL),
        "requeue": SqsRequeue(env.BUFFER_URL) if env.BUFFER_URL else None,
        "max_receives": env.MAX_RECEIVE_COUNT,
    }
