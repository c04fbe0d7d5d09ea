"""Settings of the channel status push, set by infra."""

from __future__ import annotations

from shared.env import PublishingConsumerEnv


class UpdateChannelEnv(PublishingConsumerEnv):
    pass
