"""EventBridge rule targets, delivered as AWS delivers them.

moto matches each rule's pattern (the template's own) and drops the event in the rule's tap queue; from
there this router applies the target's ``InputPath``/``Input``/``InputTransformer``, delivers to the SQS
queue or Lambda function the template names, retries per ``RetryPolicy``, and dead-letters to the target's
``DeadLetterConfig`` with the attributes AWS sets (ERROR_CODE, ERROR_MESSAGE, RULE_ARN, TARGET_ARN).
Scheduled rules fire on their ``rate()`` and on demand.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from infra.local.event_sources import LONG_POLL_SECONDS
from infra.local.lambda_runtime import InvocationResult
from infra.local.provision import RuleWiring
from infra.local.template import ACCOUNT, Template

Invoke = Callable[[str, dict[str, Any]], InvocationResult]
_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


class DeliveryFailed(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class Router:
    def __init__(
        self, template: Template, rules: list[RuleWiring], sqs: Any, invoke: Invoke, *, time_scale: float
    ) -> None:
        self._template = template
        self._rules = rules
        self._sqs = sqs
        self._invoke = invoke
        self._time_scale = time_scale
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._busy = 0
        self._lock = threading.Lock()
        self.delivered: dict[str, int] = {}
        self.dead_lettered: dict[str, int] = {}

    @property
    def busy(self) -> bool:
        with self._lock:
            return self._busy > 0

    def start(self) -> None:
        for rule in self._rules:
            if rule.schedule is None:
                self._spawn(self._poll, rule)
            elif _RATE.match(rule.schedule):
                self._spawn(self._tick, rule)

    def request_stop(self) -> None:
        self._stop.set()

    def stop(self) -> None:
        self.request_stop()
        for thread in self._threads:
            thread.join(timeout=LONG_POLL_SECONDS + 1)

    def fire(self, rule_name: str) -> None:
        """Fire a scheduled rule now, as the scheduler would."""
        rule = next(r for r in self._rules if r.name == rule_name or r.logical_id == rule_name)
        self._deliver_all(rule, self._scheduled_event(rule))

    def _spawn(self, target: Callable[[RuleWiring], None], rule: RuleWiring) -> None:
        thread = threading.Thread(target=target, args=(rule,), name=f"rule-{rule.name}", daemon=True)
        thread.start()
        self._threads.append(thread)

    def _tick(self, rule: RuleWiring) -> None:
        match = _RATE.match(rule.schedule or "")
        assert match
        period = int(match.group(1)) * _UNIT_SECONDS[match.group(2).rstrip("s")]
        while not self._stop.wait(period):
            self._deliver_all(rule, self._scheduled_event(rule))

    def _poll(self, rule: RuleWiring) -> None:
        while not self._stop.is_set():
            try:
                messages = self._sqs.receive_message(
                    QueueUrl=rule.tap_url, MaxNumberOfMessages=10, WaitTimeSeconds=LONG_POLL_SECONDS
                ).get("Messages", [])
            except Exception:  # the emulator is stopping or busy; try again
                time.sleep(0.2)
                continue
            for message in messages:
                with self._lock:
                    self._busy += 1
                try:
                    self._deliver_all(rule, json.loads(message["Body"]))
                    self._sqs.delete_message(QueueUrl=rule.tap_url, ReceiptHandle=message["ReceiptHandle"])
                finally:
                    with self._lock:
                        self._busy -= 1

    def _deliver_all(self, rule: RuleWiring, event: dict[str, Any]) -> None:
        for target in rule.targets:
            self._deliver_with_retries(rule, target, event)

    def _deliver_with_retries(self, rule: RuleWiring, target: dict[str, Any], event: dict[str, Any]) -> None:
        policy = target.get("RetryPolicy", {})
        attempts = 1 + int(policy.get("MaximumRetryAttempts", 185))
        max_age = float(policy.get("MaximumEventAgeInSeconds", 86400)) * self._time_scale
        started = time.monotonic()
        delay = 0.05
        for attempt in range(attempts):
            try:
                self._deliver(target, self._transform(target, event), event)
                self.delivered[rule.name] = self.delivered.get(rule.name, 0) + 1
                return
            except DeliveryFailed as failure:
                last = failure
            if attempt + 1 == attempts or time.monotonic() - started + delay > max_age or self._stop.is_set():
                break
            time.sleep(delay)
            delay = min(delay * 2, 5.0)
        self._dead_letter(rule, target, event, last)

    def _deliver(self, target: dict[str, Any], payload: str, event: dict[str, Any]) -> None:
        arn = target["Arn"]
        service = arn.split(":")[2]
        if service == "sqs":
            url = self._queue_url(arn)
            request: dict[str, Any] = {"QueueUrl": url, "MessageBody": payload}
            group = target.get("SqsParameters", {}).get("MessageGroupId")
            if group:
                request.update(MessageGroupId=group, MessageDeduplicationId=event.get("id", str(uuid.uuid4())))
            try:
                self._sqs.send_message(**request)
            except Exception as error:
                raise DeliveryFailed("SQS.SendFailed", str(error)) from error
            return
        if service == "lambda":
            name = arn.rsplit(":", 1)[-1]
            # Asynchronous invocation: accepted is delivered, whatever the function then does.
            with self._lock:
                self._busy += 1
            threading.Thread(target=self._invoke_async, args=(name, json.loads(payload)), daemon=True).start()
            return
        raise DeliveryFailed("UnsupportedTarget", f"local stack cannot deliver to {service}")

    def _invoke_async(self, name: str, event: dict[str, Any]) -> None:
        try:
            self._invoke(name, event)
        finally:
            with self._lock:
                self._busy -= 1

    def _dead_letter(self, rule: RuleWiring, target: dict[str, Any], event: dict[str, Any], failure: Exception) -> None:
        dlq_arn = target.get("DeadLetterConfig", {}).get("Arn")
        self.dead_lettered[rule.name] = self.dead_lettered.get(rule.name, 0) + 1
        if not dlq_arn:
            return  # AWS drops the event too; the target should have had a DLQ
        rule_arn = self._template.attributes(rule.logical_id)["Arn"]
        attributes = {
            "ERROR_CODE": getattr(failure, "code", "DeliveryFailed"),
            "ERROR_MESSAGE": str(failure)[:256],
            "RULE_ARN": rule_arn,
            "TARGET_ARN": target["Arn"],
        }
        self._sqs.send_message(
            QueueUrl=self._queue_url(dlq_arn),
            MessageBody=json.dumps(event),
            MessageAttributes={k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()},
        )

    def _queue_url(self, arn: str) -> str:
        logical_id = self._template.logical_id_of("AWS::SQS::Queue", arn)
        if logical_id is None:
            raise DeliveryFailed("ResourceNotFound", f"no queue {arn} in the template")
        return self._template.attributes(logical_id)["QueueUrl"]

    def _transform(self, target: dict[str, Any], event: dict[str, Any]) -> str:
        if "Input" in target:
            return str(target["Input"])
        if "InputPath" in target:
            return json.dumps(_json_path(event, target["InputPath"]))
        transformer = target.get("InputTransformer")
        if transformer:
            values = {k: _json_path(event, path) for k, path in transformer.get("InputPathsMap", {}).items()}
            return _render(transformer["InputTemplate"], values)
        return json.dumps(event)

    def _scheduled_event(self, rule: RuleWiring) -> dict[str, Any]:
        return {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": ACCOUNT,
            "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": self._template.region,
            "resources": [self._template.attributes(rule.logical_id)["Arn"]],
            "detail": {},
        }


def _json_path(document: Any, path: str) -> Any:
    """The JSONPath subset EventBridge accepts: ``$``, ``$.a.b``, ``$.a[0]``."""
    value = document
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", path.removeprefix("$")):
        if part.startswith("["):
            value = value[int(part[1:-1])] if isinstance(value, list) and len(value) > int(part[1:-1]) else None
        else:
            value = value.get(part) if isinstance(value, dict) else None
    return value


def _render(template: str, values: dict[str, Any]) -> str:
    """InputTemplate: ``<name>`` placeholders; strings inside quotes stay raw, elsewhere values are JSON."""

    def replace(match: re.Match[str]) -> str:
        value = values.get(match.group(2))
        if match.group(1):  # inside a JSON string
            return f'"{value if isinstance(value, str) else json.dumps(value)}"'
        return value if isinstance(value, str) and not template.strip().startswith("{") else json.dumps(value)

    return re.sub(r'(")?<([A-Za-z0-9_.-]+)>(?(1)")', replace, template)
