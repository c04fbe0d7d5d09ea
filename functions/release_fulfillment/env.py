"""Settings of the warehouse release, set by infra."""

from __future__ import annotations

from shared.env import PublishingConsumerEnv


class ReleaseFulfillmentEnv(PublishingConsumerEnv):
    pass
