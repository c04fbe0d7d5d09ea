"""Settings of the channel refund, set by infra."""

from __future__ import annotations

from shared.env import PublishingConsumerEnv


class RefundChannelEnv(PublishingConsumerEnv):
    pass
