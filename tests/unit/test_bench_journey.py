"""The bench's arithmetic from a window's counts to one order's usage, computed by hand: the event source
mapping's request rule, Lambda's billed rounding, the percentile, the per-order division, the template's
schedules, and the results' stack section. No stack runs here."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.bench import usage
from infra.bench.capacity import CapacityProxy, capacity_parts, event_size
from infra.bench.cost import ApiKind, Architecture, cost_per_million
from infra.bench.schedules import without_schedules
from infra.bench.usage import Batch, FunctionWindow, WindowCounts


def counts(**changes: Any) -> WindowCounts:
    fields: dict[str, Any] = {
        "orders": 2,
        "functions": (),
        "aws_calls": {},
        "dynamodb_read_units": 0.0,
        "dynamodb_write_units": 0.0,
        "put_events_entries": 0,
        "rule_sqs_deliveries": 0,
        "api_requests": 0,
        "api_kind": ApiKind.HTTP,
    }
    return WindowCounts(**{**fields, **changes})


def consumer(name: str = "record_order", **changes: Any) -> FunctionWindow:
    fields: dict[str, Any] = {"name": name, "memory_mb": 256, "architecture": Architecture.ARM64}
    return FunctionWindow(**{**fields, **changes})


# -- the event source mapping's requests -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("batches", "expected"),
    [
        ([Batch(receives=1, records=1, failed=0)], 2),  # a receive, a delete
        ([Batch(receives=2, records=10, failed=0)], 3),  # 10 records: one DeleteMessageBatch
        ([Batch(receives=3, records=11, failed=0)], 5),  # 11: two deletes
        ([Batch(receives=1, records=3, failed=3)], 1),  # every record failed: nothing deleted
        ([Batch(receives=1, records=12, failed=2)], 2),  # 10 deleted: one delete
        ([Batch(1, 1, 0), Batch(1, 1, 0)], 4),
        ([], 0),
    ],
)
def test_the_mapping_pays_its_receives_and_one_delete_per_ten_records_deleted(
    batches: list[Batch], expected: int
) -> None:
    assert usage.esm_requests(batches) == expected


def test_sqs_requests_add_the_functions_own_calls_the_rule_targets_and_the_mappings() -> None:
    window = counts(
        aws_calls={"sqs:SendMessage": 3, "sqs:ChangeMessageVisibility": 1, "dynamodb:PutItem": 9},
        rule_sqs_deliveries=5,
        functions=(consumer(durations_ms=(10.0,), batches=(Batch(1, 4, 0),)),),
    )
    assert usage.sqs_requests(window) == {"functions": 4, "eventbridge_targets": 5, "event_source_mappings": 2}
    assert usage.order_usage(window).sqs_requests == pytest.approx(11 / 2)


# -- Lambda ------------------------------------------------------------------------------------------------------
def test_each_invocation_is_billed_rounded_up_to_the_millisecond() -> None:
    assert usage.billed_ms([0.2, 1.0, 1.01, 99.5]) == 1 + 1 + 2 + 100
    assert usage.billed_ms([]) == 0


def test_a_function_s_usage_is_per_order_with_its_init_billed_on_top() -> None:
    window = counts(
        orders=4,
        functions=(
            consumer(durations_ms=(10.4, 20.0), init_ms=(300.2,), batches=(Batch(1, 3, 0), Batch(1, 1, 0))),
            consumer("idle"),  # not invoked in the window: not in the usage
        ),
    )
    (function,) = usage.order_usage(window).functions
    assert function.name == "record_order"
    assert function.invocations == pytest.approx(0.5)
    assert function.records == pytest.approx(1.0)
    assert function.billed_ms == pytest.approx((11 + 20 + 301) / 2)  # per invocation
    table = usage.lambda_per_function(window)
    assert table["record_order"]["billed_ms_per_order"] == pytest.approx(332 / 4, abs=0.05)  # kept to 0.1 ms
    assert table["record_order"]["init_ms_per_order"] == pytest.approx(301 / 4, abs=0.05)
    assert table["record_order"]["cold_starts"] == 1
    assert "idle" not in table


# -- per order -------------------------------------------------------------------------------------------------------
def test_every_count_is_divided_by_the_orders_and_failed_condition_writes_are_billed() -> None:
    window = counts(
        orders=4,
        aws_calls={"secretsmanager:GetSecretValue": 2, "events:PutEvents": 6},
        dynamodb_read_units=10.0,
        dynamodb_write_units=14.0,
        failed_conditional_write_units=2.0,
        put_events_entries=12,
        api_requests=8,
        log_bytes=4000,
        functions=(consumer(durations_ms=(5.0,), batches=(Batch(1, 8, 0),)),),
    )
    made = usage.order_usage(window)
    assert (made.dynamodb_write_units, made.dynamodb_read_units) == (4.0, 2.5)
    assert (made.put_events_entries, made.api_requests, made.secrets_manager_calls) == (3.0, 2.0, 0.5)
    assert made.cloudwatch_log_bytes == 1000
    assert made.messages == pytest.approx(2 + 2)  # 8 records and 8 requests over 4 orders
    per_order = usage.calls_per_order(window)
    assert per_order["dynamodb_write_units"] == 4.0
    assert per_order["call events:PutEvents"] == 1.5
    assert per_order["lambda_invocations"] == 0.25


def test_a_window_without_orders_is_refused() -> None:
    with pytest.raises(ValueError, match="no orders"):
        usage.order_usage(counts(orders=0))


def test_log_bytes_are_priced_per_gigabyte_ingested() -> None:
    made = usage.order_usage(counts(orders=1, log_bytes=2**30 // 1_000_000))  # 1M orders: about 1 GB
    assert cost_per_million(made).logs == pytest.approx(0.50, rel=1e-3)


# -- the percentile ----------------------------------------------------------------------------------------------------
def test_the_percentile_interpolates_between_ranks() -> None:
    assert usage.percentile([3.0, 1.0, 2.0], 50) == 2.0
    assert usage.percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert usage.percentile(list(map(float, range(1, 101))), 99) == pytest.approx(99.01)
    assert usage.percentile([7.0], 99) == 7.0
    with pytest.raises(ValueError, match="undefined"):
        usage.percentile([], 50)
    with pytest.raises(ValueError, match="outside"):
        usage.percentile([1.0], 101)


# -- names, schedules, capacity ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("logical_id", "name"),
    [
        ("FunctionsSyncShopifyAvailabilityA397C967", "sync_shopify_availability"),
        ("FunctionsRecordOrderDB0FB4A2", "record_order"),
        ("Custom", "custom"),
    ],
)
def test_function_names_come_from_the_logical_id(logical_id: str, name: str) -> None:
    assert usage.short_name(logical_id) == name


def test_scheduled_rules_are_disabled_and_their_monthly_firings_counted() -> None:
    template = {
        "Resources": {
            "Sweep": {
                "Type": "AWS::Events::Rule",
                "Properties": {"ScheduleExpression": "rate(1 minute)", "Targets": [{"Arn": "a"}]},
            },
            "Reconcile": {
                "Type": "AWS::Events::Rule",
                "Properties": {"ScheduleExpression": "rate(15 minutes)", "Targets": [{"Arn": "a"}, {"Arn": "b"}]},
            },
            "OnEvent": {"Type": "AWS::Events::Rule", "Properties": {"EventPattern": {"source": ["x"]}}},
        }
    }
    changed, per_month = without_schedules(template)
    assert per_month == {"Sweep": 43_200, "Reconcile": 2 * 2_880}
    states = {k: r["Properties"].get("State") for k, r in changed["Resources"].items()}
    assert states == {"Sweep": "DISABLED", "Reconcile": "DISABLED", "OnEvent": None}
    assert "State" not in template["Resources"]["Sweep"]["Properties"]  # the synthesized template is left as it was


def test_capacity_is_split_by_table_and_index_or_kept_whole() -> None:
    entry = {
        "TableName": "orders",
        "CapacityUnits": 3.0,
        "Table": {"CapacityUnits": 1.0},
        "GlobalSecondaryIndexes": {"by_open_status": {"CapacityUnits": 2.0}},
    }
    assert capacity_parts(entry) == [("", 1.0), ("by_open_status", 2.0)]
    assert capacity_parts({"TableName": "orders", "CapacityUnits": 1.5}) == [("", 1.5)]


def test_failed_conditional_writes_are_billed_their_minimum() -> None:
    proxy = CapacityProxy()
    failed = json.dumps({"__type": "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException"}).encode()
    cancelled = json.dumps({"__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException"}).encode()
    proxy._count_reply("dynamodb", "PutItem", 400, json.dumps({"TableName": "t"}).encode(), failed)
    transaction = {
        "TransactItems": [
            {"Put": {"TableName": "t"}},
            {"Update": {"TableName": "u"}},
            {"ConditionCheck": {"TableName": "t"}},
        ]
    }
    proxy._count_reply("dynamodb", "TransactWriteItems", 400, json.dumps(transaction).encode(), cancelled)
    proxy._count_reply("dynamodb", "GetItem", 400, b"{}", failed)  # not a write: nothing billed here
    assert dict(proxy.failed_writes) == {
        ("t", "PutItem"): 1,
        ("t", "TransactWriteItems"): 2,
        ("u", "TransactWriteItems"): 2,
    }
    assert proxy.failed_write_units() == 5.0
    ok = json.dumps({"ConsumedCapacity": {"TableName": "t", "CapacityUnits": 2.0, "Table": {"CapacityUnits": 2.0}}})
    proxy._count_reply("dynamodb", "UpdateItem", 200, b"{}", ok.encode())
    assert proxy.units[("write", "t", "", "UpdateItem")] == 2.0
    assert proxy.counts.write_units == 2.0  # the base proxy's total still counts
    proxy.reset()
    assert not proxy.units
    assert proxy.failed_write_units() == 0


def test_transactions_are_billed_twice_the_units_dynamodb_local_reports() -> None:
    proxy = CapacityProxy()
    reply = {"ConsumedCapacity": [{"TableName": "t", "CapacityUnits": 2.0, "Table": {"CapacityUnits": 2.0}}]}
    proxy._count_reply("dynamodb", "TransactWriteItems", 200, b"{}", json.dumps(reply).encode())
    proxy._count_reply("dynamodb", "TransactGetItems", 200, b"{}", json.dumps(reply).encode())
    assert (proxy.counts.write_units, proxy.counts.read_units) == (4.0, 4.0)
    assert proxy.units[("write", "t", "", "TransactWriteItems")] == 4.0


def test_an_event_is_sized_as_eventbridge_bills_it() -> None:
    entry = {"Time": "2026-11-30T12:00:00Z", "Source": "crossdock", "DetailType": "Ordér", "Detail": "{}"}
    assert event_size(entry) == 14 + 9 + 6 + 2  # é is two bytes in UTF-8
    assert event_size({"Source": "s", "Resources": ["arn:a", "arn:b"]}) == 1 + 5 + 5


def test_the_proxy_sizes_published_events_and_asks_dynamodb_for_capacity_by_index(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    proxy = CapacityProxy()
    sent: list[bytes] = []

    def forward(upstream: str, method: str, path: str, headers: dict[str, str], body: bytes) -> Any:
        sent.append(body)
        return 200, {}, b'{"FailedEntryCount": 0, "Entries": [{"EventId": "1"}, {"EventId": "2"}]}'

    monkeypatch.setattr(proxy, "_forward", forward)
    entries = [{"Source": "s", "DetailType": "d", "Detail": "x" * 100}, {"Source": "s", "DetailType": "d"}]
    body = json.dumps({"Entries": entries}).encode()
    proxy.handle("http://up", "POST", "/", {"X-Amz-Target": "AWSEvents.PutEvents"}, body)
    assert (proxy.largest_event_bytes, proxy.counts.put_events_entries) == (102, 2)

    proxy.handle("http://up", "POST", "/", {"X-Amz-Target": "DynamoDB_20120810.PutItem"}, b'{"TableName": "t"}')
    assert json.loads(sent[-1])["ReturnConsumedCapacity"] == "INDEXES"
    proxy.reset()
    assert proxy.largest_event_bytes == 0
