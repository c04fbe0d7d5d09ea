"""BigCommerce webhook adapter: verify Standard Webhooks keyed on the app's client secret, announce the order.

The payload names the order but does not carry it, so the event is ``ChannelOrderNotified``: a consumer fetches
the order through the API (the claim check).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from pydantic import ValidationError

from shared import standard_webhooks
from shared.channels.base import Delivery, WebhookAdapterBase, WebhookRequest
from shared.channels.bigcommerce.payloads import BigCommerceOrderWebhook, BigCommerceScope
from shared.errors import NotFound
from shared.models.events import ChannelOrderNotified, metadata_for
from shared.models.lifecycle import ChannelOrderRef
from shared.models.order import Channel
from shared.validation import as_validation_failed

SOURCE = "crossdock.intake"
CANCELLED_STATUS_ID = 5  # BigCommerce's order status "Cancelled"
CHANGES = {
    "store/order/created": "created",
    "store/order/updated": "updated",
    "store/order/statusUpdated": "updated",  # "cancelled" when the new status is Cancelled
}
# BigCommerce retries after 60, 180, 300, 600, 900, 1800, 3600, 7200, 21600, 50400 and 86400 s, then deactivates
# the hook: about 48 h (bigcommerce/docs docs/integrations/webhooks/overview.mdx).
RETRY_DELAYS_SECONDS = (60, 180, 300, 600, 900, 1800, 3600, 7200, 21600, 50400, 86400)


class BigCommerceAdapter(WebhookAdapterBase):
    platform = "bigcommerce"
    retry_horizon_seconds = sum(RETRY_DELAYS_SECONDS)

    def __init__(self, now: Callable[[], float] = time.time) -> None:
        self._now = now

    def verify(self, request: WebhookRequest, secrets: Sequence[bytes]) -> None:
        # The secrets are client secrets, not whsec_ values: their own bytes are the key.
        standard_webhooks.verify(request.headers, request.body, secrets, now=self._now)

    def parse(self, request: WebhookRequest) -> Delivery:
        try:
            scope = BigCommerceScope.model_validate_json(request.body).scope
            if scope not in CHANGES:
                raise NotFound("unsupported topic", topic=scope[:64])
            payload = BigCommerceOrderWebhook.model_validate_json(request.body)
        except ValidationError as error:
            raise as_validation_failed(error, "BigCommerce webhook") from None
        ref = ChannelOrderRef(
            channel=Channel.BIGCOMMERCE,
            store=payload.store_hash,
            external_id=str(payload.data.id),
            change=_change(payload),
            observed_by="webhook",
        )
        # The hash is per event and survives every retry and duplicate; the webhook-id is not documented to.
        dedupe_key = f"bigcommerce:{ref.store}:{payload.hash}"
        metadata = metadata_for(
            ChannelOrderNotified.detail_type, dedupe_key=dedupe_key, order_key=ref.key, source=SOURCE
        )
        return Delivery(dedupe_key=dedupe_key, event=ChannelOrderNotified(metadata=metadata, data=ref), topic=scope)


def _change(payload: BigCommerceOrderWebhook) -> str:
    status = payload.data.status
    if status is not None and status.new_status_id == CANCELLED_STATUS_ID:
        return "cancelled"
    return CHANGES[payload.scope]
