"""Webhook intake: verify, map, and publish each platform event exactly once.

Nothing slow runs here: one secret read (cached), one conditional write, one PutEvents. Consumers do the rest.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyPersistenceLayerError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord
from aws_lambda_powertools.utilities.idempotency.serialization.pydantic import PydanticSerializer
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from shared.channels.base import Delivery, Ignored, OrderBound, OrderReferences, WebhookRequest
from shared.channels.registry import adapter_for
from shared.errors import Conflict, DownstreamUnavailable, PayloadTooLarge
from shared.models.events import EventEnvelope
from shared.observability import logger
from shared.ports import EventPublisher, SecretSource

DEFAULT_DEDUPE_WINDOW_SECONDS = 72 * 3600


class Ack(BaseModel):
    event_id: str
    detail_type: str
    duplicate: bool = False


class Handshake(BaseModel):
    """A platform's setup call, or a delivery about an order that is not ours: answered 200 with no event."""

    reply: dict[str, Any]


Publish = Callable[..., Ack]


@dataclass
class IntakeDeps:
    secrets: SecretSource
    publisher: EventPublisher
    persistence: BasePersistenceLayer
    # Resolves the references we gave other systems (a WMS reference id, an RMA number) to orders.
    references: OrderReferences | None = None
    dedupe_windows: Mapping[str, int] = field(default_factory=dict)
    max_body_bytes: int = 2 * 1024 * 1024
    _publishers: dict[str, tuple[Publish, IdempotencyConfig]] = field(default_factory=dict, repr=False)

    def publish_once(self, platform: str) -> tuple[Publish, IdempotencyConfig]:
        """The idempotent publish for a platform, built once: its window differs per platform."""
        if platform not in self._publishers:
            config = IdempotencyConfig(
                event_key_jmespath="dedupe_key",
                raise_on_no_idempotency_key=True,
                expires_after_seconds=self.dedupe_windows.get(platform, DEFAULT_DEDUPE_WINDOW_SECONDS),
                response_hook=_mark_duplicate,
            )
            publish = idempotent_function(
                _publish,
                data_keyword_argument="idempotency",
                # A store of its own per platform: Powertools configures a store once, so a shared one would keep
                # the first platform's window for all (the same table and client underneath).
                persistence_store=copy.copy(self.persistence),
                config=config,
                output_serializer=PydanticSerializer(Ack),
                # A fixed prefix: keys survive a renamed function or module.
                key_prefix=f"webhook#{platform}",
            )
            self._publishers[platform] = (publish, config)
        return self._publishers[platform]


def receive_webhook(
    platform: str, request: WebhookRequest, deps: IntakeDeps, context: LambdaContext | None = None
) -> Ack | Handshake:
    adapter = adapter_for(platform)
    if len(request.body) > deps.max_body_bytes:
        raise PayloadTooLarge("body too large", bytes=len(request.body), limit=deps.max_body_bytes)
    reply = adapter.handshake(request)
    if reply is not None:
        logger.info("webhook handshake", platform=platform)
        return Handshake(reply=reply)
    adapter.verify(request, deps.secrets.for_platform(platform))
    parsed = adapter.parse(request)
    if isinstance(parsed, Ignored):
        logger.info("webhook ignored", platform=platform, topic=parsed.topic, reason=parsed.reason)
        return Handshake(reply={"ignored": parsed.reason})
    if isinstance(parsed, OrderBound):
        order_key = _order_for(parsed, deps)
        if order_key is None:
            # A WMS ships orders from other sources too: a 4xx would make it retry, then disable the hook.
            logger.info("webhook ignored: not a crossdock order", platform=platform, topic=parsed.topic)
            return Handshake(reply={"ignored": "not a Crossdock order", "reference": parsed.reference})
        delivery = Delivery(dedupe_key=parsed.dedupe_key, event=parsed.build(order_key), topic=parsed.topic)
    else:
        delivery = parsed
    logger.append_keys(platform=platform, topic=delivery.topic, event_id=delivery.event.metadata.event_id)
    logger.set_correlation_id(delivery.event.metadata.correlation_id)

    publish, config = deps.publish_once(platform)
    if context is not None:
        config.register_lambda_context(context)
    try:
        ack = publish(idempotency={"dedupe_key": delivery.dedupe_key}, event=delivery.event, publisher=deps.publisher)
    except IdempotencyAlreadyInProgressError:
        raise Conflict("delivery is being processed", retry_after_seconds=5) from None
    except IdempotencyPersistenceLayerError as error:
        raise DownstreamUnavailable("idempotency store unavailable") from error
    logger.info("webhook accepted", duplicate=ack.duplicate, detail_type=ack.detail_type)
    return ack


def _order_for(parsed: OrderBound, deps: IntakeDeps) -> str | None:
    if deps.references is None:
        raise DownstreamUnavailable("order references are not configured")
    return deps.references.order_for(parsed.reference)


def _publish(*, idempotency: dict[str, str], event: EventEnvelope[Any], publisher: EventPublisher) -> Ack:
    publisher.publish([event])
    return Ack(event_id=event.metadata.event_id, detail_type=event.detail_type)


def _mark_duplicate(response: Any, idempotent_data: DataRecord) -> Any:
    return Ack.model_validate(response).model_copy(update={"duplicate": True})
