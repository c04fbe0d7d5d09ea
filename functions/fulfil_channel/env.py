"""Settings of the channel fulfillment, set by infra."""

from __future__ import annotations

from pydantic import Json

from shared.env import PublishingConsumerEnv


class FulfilChannelEnv(PublishingConsumerEnv):
    INVOICE_BEFORE_FULFIL: Json[bool] = True
