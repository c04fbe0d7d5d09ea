"""A measuring window on the local stack: every counter read when it opens and again when it closes.

What lies between is what the window's orders cost: the functions' AWS calls (the proxy, reset when the window
opens), each function's invocations and durations, each event source mapping's batches, EventBridge's deliveries
to queues, the API's requests and the bytes the functions logged.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from infra.bench.capacity import CapacityProxy
from infra.bench.cost import ApiKind, Architecture
from infra.bench.usage import Batch, FunctionWindow, WindowCounts, short_name
from infra.local.stack import LocalStack


@dataclass(frozen=True)
class FunctionSettings:
    name: str  # short: record_order, sync_shopify_availability, ...
    memory_mb: int
    architecture: Architecture


def function_settings(stack: LocalStack) -> dict[str, FunctionSettings]:
    """Deployed name → short name, memory and architecture, read from the synthesized template."""
    assert stack.template
    settings = {}
    for logical_id in stack.template.of_type("AWS::Lambda::Function"):
        props = stack.template.props(logical_id)
        settings[stack.template.name(logical_id)] = FunctionSettings(
            name=short_name(logical_id),
            memory_mb=int(props.get("MemorySize", 128)),
            architecture=Architecture(props.get("Architectures", ["x86_64"])[0]),
        )
    return settings


def api_kind(stack: LocalStack) -> ApiKind:
    assert stack.template
    if stack.template.of_type("AWS::ApiGateway::RestApi"):
        return ApiKind.REST
    return ApiKind.HTTP


@dataclass
class Window:
    stack: LocalStack
    proxy: CapacityProxy
    durations: dict[str, int] = field(default_factory=dict)
    inits: dict[str, int] = field(default_factory=dict)
    batches: dict[str, int] = field(default_factory=dict)  # queue URL → batches seen
    delivered: dict[str, int] = field(default_factory=dict)
    api_requests: int = 0
    log_sizes: dict[str, int] = field(default_factory=dict)

    @classmethod
    def open(cls, stack: LocalStack, proxy: CapacityProxy) -> Window:
        window = cls(stack, proxy)
        proxy.reset()
        for name, function in stack.functions.items():
            window.durations[name] = len(function.durations_ms)
            window.inits[name] = len(function.init_ms)
        window.batches = {p.mapping.queue_url: len(p.batch_counts) for p in stack.pollers}
        window.delivered = dict(stack.router.delivered) if stack.router else {}
        window.api_requests = len(stack.api.requests) if stack.api else 0
        window.log_sizes = _log_sizes(stack.log_dir)
        return window

    def close(self, orders: int) -> WindowCounts:
        stack, proxy = self.stack, self.proxy
        counts = proxy.counts.snapshot()
        settings = function_settings(stack)
        batches: dict[str, list[Batch]] = {}
        for poller in stack.pollers:
            new = poller.batch_counts[self.batches.get(poller.mapping.queue_url, 0) :]
            batches.setdefault(poller.mapping.function, []).extend(Batch(b.receives, b.records, b.failed) for b in new)
        functions = []
        for name, function in stack.functions.items():
            setting = settings[name]
            functions.append(
                FunctionWindow(
                    name=setting.name,
                    memory_mb=setting.memory_mb,
                    architecture=setting.architecture,
                    durations_ms=tuple(function.durations_ms[self.durations[name] :]),
                    init_ms=tuple(function.init_ms[self.inits[name] :]),
                    batches=tuple(batches.get(name, [])),
                )
            )
        sizes = _log_sizes(stack.log_dir)
        return WindowCounts(
            orders=orders,
            functions=tuple(functions),
            aws_calls=dict(counts["calls"]),
            dynamodb_read_units=float(counts["read_units"]),
            dynamodb_write_units=float(counts["write_units"]),
            put_events_entries=int(counts["put_events_entries"]),
            rule_sqs_deliveries=self._rule_sqs_deliveries(),
            api_requests=(len(stack.api.requests) if stack.api else 0) - self.api_requests,
            api_kind=api_kind(stack),
            log_bytes=sum(size - self.log_sizes.get(path, 0) for path, size in sizes.items()),
            failed_conditional_write_units=proxy.failed_write_units(),
        )

    def _rule_sqs_deliveries(self) -> int:
        """Deliveries to queue targets: a rule's count grows by one per target delivered."""
        stack = self.stack
        assert stack.provisioned
        delivered = Counter(stack.router.delivered if stack.router else {})
        sends = 0.0
        for rule in stack.provisioned.rules:
            new = delivered[rule.name] - self.delivered.get(rule.name, 0)
            if new and rule.targets:
                queues = sum(1 for t in rule.targets if str(t.get("Arn", "")).split(":")[2:3] == ["sqs"])
                sends += new * queues / len(rule.targets)
        return round(sends)

    def units_by_table(self) -> dict[str, dict[str, float]]:
        """Write and read units by "table[/index] operation", logical table names, largest first."""
        stack = self.stack
        assert stack.provisioned
        names = {name: logical for logical, name in stack.provisioned.tables.items()}
        table: dict[str, dict[str, float]] = {"write": {}, "read": {}}
        with self.proxy._tally_lock:
            units = dict(self.proxy.units)
            failed = dict(self.proxy.failed_writes)
        for (kind, name, index, operation), value in units.items():
            key = f"{_table(names, name)}{'/' + index if index else ''} {operation}"
            table[kind][key] = table[kind].get(key, 0.0) + value
        for (name, operation), value in failed.items():
            key = f"{_table(names, name)} {operation} (condition failed)"
            table["write"][key] = table["write"].get(key, 0.0) + value
        return {kind: dict(sorted(v.items(), key=lambda kv: -kv[1])) for kind, v in table.items()}


def _table(names: dict[str, str], name: str) -> str:
    """The table's logical id without CDK's hash: ``OrdersTable6A1B2C3D`` → ``OrdersTable``."""
    logical = names.get(name, name)
    return logical[:-8] if len(logical) > 8 and logical[-8:].isalnum() and logical[-8:].isupper() else logical


def _log_sizes(log_dir: Path) -> dict[str, int]:
    return {str(path): path.stat().st_size for path in log_dir.glob("*.log")}
