"""POST /v1/webhooks/{platform}: the thin Lambda entry point. Wiring only; the use case is in ``logic``."""

from __future__ import annotations

import functools
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.receive_webhook.env import IntakeEnv
from functions.receive_webhook.logic import Handshake, IntakeDeps, receive_webhook
from shared.aws.event_bus import EventBridgePublisher
from shared.aws.idempotency import dynamodb_persistence
from shared.aws.order_store import DynamoOrderStore
from shared.aws.secrets import SecretsManagerWebhookSecrets
from shared.env import load_env
from shared.http import handle_errors, json_response, webhook_request
from shared.observability import logger


@functools.cache
def deps() -> IntakeDeps:
    """Built on the first invocation, then reused by the warm container."""
    env = load_env(IntakeEnv)
    return IntakeDeps(
        secrets=SecretsManagerWebhookSecrets(env.WEBHOOK_SECRET_PREFIX, max_age_seconds=env.SECRETS_MAX_AGE_SECONDS),
        publisher=EventBridgePublisher(env.EVENT_BUS_NAME),
        persistence=dynamodb_persistence(env.IDEMPOTENCY_TABLE_NAME),
        references=DynamoOrderStore(env.ORDERS_TABLE_NAME),
        dedupe_windows=env.DEDUPE_WINDOW_SECONDS,
        max_body_bytes=env.MAX_BODY_BYTES,
    )


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    def handle() -> dict[str, Any]:
        platform = (event.get("pathParameters") or {}).get("platform", "")
        ack = receive_webhook(platform, webhook_request(event), deps(), context)
        if isinstance(ack, Handshake):
            return json_response(200, ack.reply)
        return json_response(200 if ack.duplicate else 202, ack.model_dump())

    return handle_errors(handle)
