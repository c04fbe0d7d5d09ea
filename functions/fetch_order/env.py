"""Settings of the claim-check fetch, set by infra."""

from __future__ import annotations

from shared.env import BreakerEnv, PublishingConsumerEnv


class FetchOrderEnv(PublishingConsumerEnv, BreakerEnv):
    pass
