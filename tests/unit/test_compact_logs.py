"""Log lines drop what the log group already says (decision 47), and keep what finds an order and a request."""

from __future__ import annotations

import io
import json
from typing import Any

from shared.observability import SAID_BY_THE_LOG_GROUP, logger
from tests.fakes import FakeLambdaContext


def test_a_line_keeps_the_request_and_the_order_but_not_what_the_log_group_names() -> None:
    @logger.inject_lambda_context(clear_state=True)
    def handler(event: dict[str, Any], context: Any) -> None:
        logger.set_correlation_id("corr-1")
        logger.info("order decided", order_key="shopify:s:1")

    stream = io.StringIO()
    old = logger.registered_handler.setStream(stream)  # type: ignore[attr-defined]
    try:
        handler({}, FakeLambdaContext("crossdock-validate"))
    finally:
        logger.registered_handler.setStream(old)  # type: ignore[attr-defined]
    line = json.loads(stream.getvalue().strip().splitlines()[-1])
    assert not set(SAID_BY_THE_LOG_GROUP) & set(line)
    assert line["function_request_id"]
    assert line["correlation_id"] == "corr-1"
    assert line["order_key"] == "shopify:s:1"
    assert "cold_start" in line
