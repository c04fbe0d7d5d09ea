"""POST /v1/returns (IAM-authorized): thin wiring; see ``logic``."""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from functions.authorize_return.env import AuthorizeReturnEnv
from functions.authorize_return.logic import ReturnDeps, authorize_return
from shared.aws.event_bus import EventBridgePublisher
from shared.aws.order_store import DynamoOrderStore
from shared.aws.systems import connected_erp
from shared.connections import Connected
from shared.env import load_env
from shared.erp.netsuite import NetSuiteErp
from shared.errors import PayloadTooLarge
from shared.http import handle_errors, json_response, webhook_request
from shared.models.returns import ReturnRequest
from shared.observability import logger
from shared.validation import as_validation_failed

MAX_BODY_BYTES = 64 * 1024


@functools.cache
def env() -> AuthorizeReturnEnv:
    return load_env(AuthorizeReturnEnv)


@functools.cache
def erp() -> Connected[NetSuiteErp]:
    return connected_erp(env())


def deps() -> ReturnDeps:
    settings = env()
    return ReturnDeps(
        store=DynamoOrderStore(settings.ORDERS_TABLE_NAME),
        erp=erp()(),
        publisher=EventBridgePublisher(settings.EVENT_BUS_NAME),
        policy=settings.RETURN_POLICY,
    )


def parse(event: dict[str, Any]) -> ReturnRequest:
    body = webhook_request(event).body
    if len(body) > MAX_BODY_BYTES:
        raise PayloadTooLarge("body too large", bytes=len(body), limit=MAX_BODY_BYTES)
    try:
        return ReturnRequest.model_validate_json(body)
    except ValidationError as error:
        raise as_validation_failed(error, "return request") from None


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    def handle() -> dict[str, Any]:
        authorization, created = authorize_return(parse(event), deps(), datetime.now(UTC))
        return json_response(201 if created else 200, authorization.model_dump(mode="json"))

    return handle_errors(handle)
