"""SQS event source mappings, emulated: the pollers Lambda runs for a queue-triggered function.

Faithful to AWS where it matters: batch size and batching window, ``ReportBatchItemFailures`` (only the
failed records return to the queue), the queue's visibility timeout (a failed record reappears when it
expires), maximum concurrency (that many pollers), and maxReceiveCount moving a record to the DLQ (moto's
redrive does that on receive). ``time_scale`` shortens the wait for a failed record to reappear, so a
five-attempt redrive takes seconds locally instead of the 6x-timeout minutes it takes on AWS.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from infra.local.lambda_runtime import InvocationResult

Invoke = Callable[[str, dict[str, Any]], InvocationResult]
# Idle pollers long-poll this long: moto wakes them when a message arrives, so a longer poll costs no latency,
# only fewer idle requests (at 1 s, the pollers and moto burned a third of a core doing nothing).
LONG_POLL_SECONDS = 5


@dataclass(frozen=True)
class Mapping:
    function: str
    queue_url: str
    queue_arn: str
    batch_size: int
    window_seconds: float
    report_item_failures: bool
    max_concurrency: int
    visibility_timeout: int


@dataclass(frozen=True)
class BatchCount:
    """One batch handed to the function, for ``make bench`` (the SQS requests the real mapping makes for it)."""

    receives: int  # ReceiveMessage calls that returned its records
    records: int
    failed: int  # records returned to the queue (not deleted)


class QueuePoller:
    def __init__(self, mapping: Mapping, sqs: Any, invoke: Invoke, region: str, time_scale: float) -> None:
        self.mapping = mapping
        self._sqs = sqs
        self._invoke = invoke
        self._region = region
        self._time_scale = time_scale
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()
        self._threads: list[threading.Thread] = []
        self._busy = 0
        self._active = 0  # pollers inside an iteration
        self._lock = threading.Lock()
        self.batches = 0
        self.failed_records = 0
        self.batch_counts: list[BatchCount] = []  # appended per batch (list.append is atomic under the GIL)

    @property
    def busy(self) -> bool:
        with self._lock:
            return self._busy > 0

    def start(self) -> None:
        for index in range(self.mapping.max_concurrency):
            thread = threading.Thread(target=self._run, name=f"esm-{self.mapping.function}-{index}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def pause(self, timeout: float = 15.0) -> None:
        """Stop taking batches, as disabling the event source mapping does; returns once the batch in hand is done."""
        self._running.clear()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if self._active == 0:
                    return
            time.sleep(0.05)

    def resume(self) -> None:
        self._running.set()

    def request_stop(self) -> None:
        """Tell the pollers to stop after their current long poll, without waiting for them."""
        self._stop.set()
        self._running.set()

    def stop(self) -> None:
        self.request_stop()
        for thread in self._threads:
            thread.join(timeout=LONG_POLL_SECONDS + 1)

    def _run(self) -> None:
        while not self._stop.is_set():
            if not self._running.wait(timeout=0.2):
                continue
            with self._lock:
                self._active += 1
            try:
                if self._running.is_set():  # again: pause() may have come in between
                    messages, receives = self._gather()
                    if messages:
                        self._process(messages, receives)
            except Exception:
                time.sleep(0.5)
            finally:
                with self._lock:
                    self._active -= 1

    def _gather(self) -> tuple[list[dict[str, Any]], int]:
        """Receive up to batch size, waiting at most the batching window once the first record is in; also how
        many receives returned records."""
        messages: list[dict[str, Any]] = []
        receives = 0
        deadline: float | None = None
        while len(messages) < self.mapping.batch_size and not self._stop.is_set():
            wait = LONG_POLL_SECONDS if deadline is None else max(0, int(deadline - time.monotonic()))
            received = self._sqs.receive_message(
                QueueUrl=self.mapping.queue_url,
                MaxNumberOfMessages=min(10, self.mapping.batch_size - len(messages)),
                WaitTimeSeconds=wait,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            receives += bool(received)
            if received and deadline is None:
                with self._lock:
                    self._busy += 1
                deadline = time.monotonic() + self.mapping.window_seconds
            messages.extend(received)
            if deadline is None or time.monotonic() >= deadline or (not received and messages):
                break
        return messages, receives

    def _process(self, messages: list[dict[str, Any]], receives: int = 1) -> None:
        try:
            event = {"Records": [self._record(m) for m in messages]}
            result = self._invoke(self.mapping.function, event)
            self.batches += 1
            failed = self._failed_ids(result, messages)
            for message in messages:
                if message["MessageId"] in failed:
                    # Back on the queue once the (scaled) visibility timeout expires.
                    visibility = max(0, int(self.mapping.visibility_timeout * self._time_scale))
                    self._sqs.change_message_visibility(
                        QueueUrl=self.mapping.queue_url,
                        ReceiptHandle=message["ReceiptHandle"],
                        VisibilityTimeout=visibility,
                    )
                else:
                    self._sqs.delete_message(QueueUrl=self.mapping.queue_url, ReceiptHandle=message["ReceiptHandle"])
            self.failed_records += len(failed)
            self.batch_counts.append(BatchCount(receives, len(messages), len(failed)))
        finally:
            with self._lock:
                self._busy -= 1

    def _failed_ids(self, result: InvocationResult, messages: list[dict[str, Any]]) -> set[str]:
        every = {m["MessageId"] for m in messages}
        if not result.ok:
            return every
        if not self.mapping.report_item_failures:
            return set()
        failures = (result.payload or {}).get("batchItemFailures") or []
        ids = {str(f.get("itemIdentifier")) for f in failures if isinstance(f, dict)}
        # An identifier that is not in the batch (or none at all) fails the whole batch, as on AWS.
        return every if ids - every else ids

    def _record(self, message: dict[str, Any]) -> dict[str, Any]:
        attributes = message.get("Attributes", {})
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": {
                key: attributes[key]
                for key in (
                    "ApproximateReceiveCount",
                    "SentTimestamp",
                    "SenderId",
                    "ApproximateFirstReceiveTimestamp",
                    "MessageGroupId",
                    "MessageDeduplicationId",
                    "SequenceNumber",
                )
                if key in attributes
            },
            "messageAttributes": {
                name: {
                    "stringValue": value.get("StringValue"),
                    "binaryValue": value.get("BinaryValue"),
                    "stringListValues": [],
                    "binaryListValues": [],
                    "dataType": value["DataType"],
                }
                for name, value in message.get("MessageAttributes", {}).items()
            },
            "md5OfBody": message.get("MD5OfBody") or hashlib.md5(message["Body"].encode()).hexdigest(),  # noqa: S324
            "eventSource": "aws:sqs",
            "eventSourceARN": self.mapping.queue_arn,
            "awsRegion": self._region,
        }
