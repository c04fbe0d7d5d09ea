"""Every function that calls an outside system has the breakers: the operations table and the env's policy."""

from __future__ import annotations

from typing import Any

from tests.infrastructure.conftest import Synth
from tests.infrastructure.test_stack import config_of

CALLERS = {
    "validate_order",
    "cancel_order",
    "release_fulfillment",
    "invoice_shipment",
    "credit_return",
    "authorize_return",
    "fulfil_channel",
    "refund_channel",
    "fetch_order",
    "update_channel",
    "reconcile_orders",
    "sync_availability",
}


def test_each_outside_caller_reads_and_trips_breakers_in_the_operations_table(stack: Synth) -> None:
    policy = config_of(stack).operations.breaker.model_dump_json()
    table = stack.template_json["Outputs"]["OperationsTableName"]["Value"]
    by_package: dict[str, list[dict[str, Any]]] = {}
    for fn in stack.resources("AWS::Lambda::Function").values():
        package = fn["Properties"].get("Handler", "").split(".")[1:2]
        if package:
            by_package.setdefault(package[0], []).append(fn["Properties"]["Environment"]["Variables"])
    expected = CALLERS if config_of(stack).reconcile else CALLERS - {"reconcile_orders"}
    assert expected <= set(by_package)
    for package in expected:
        for variables in by_package[package]:
            assert variables["OPS_TABLE_NAME"] == table, package
            assert variables["BREAKER_POLICY"] == policy, package
    # The intake and the recorder call no outside system.
    for package in ("receive_webhook", "record_order"):
        assert all("OPS_TABLE_NAME" not in variables for variables in by_package[package])
