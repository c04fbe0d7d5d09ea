"""GET /v1/orders/{channel}/{external_id} (IAM-authorized): thin wiring; see ``logic``."""

from __future__ import annotations

import functools
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.get_order.env import GetOrderEnv
from functions.get_order.logic import get_order
from shared.aws.order_store import DynamoOrderStore
from shared.env import load_env
from shared.http import handle_errors, json_response
from shared.observability import logger


@functools.cache
def reader() -> DynamoOrderStore:
    return DynamoOrderStore(load_env(GetOrderEnv).ORDERS_TABLE_NAME)


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    def handle() -> dict[str, Any]:
        params = event.get("pathParameters") or {}
        store = (event.get("queryStringParameters") or {}).get("store")
        return json_response(200, get_order(params.get("channel", ""), params.get("external_id", ""), store, reader()))

    return handle_errors(handle)
