"""Settings of the claim-check fetch, set by infra."""

from __future__ import annotations

from shared.env import PublishingConsumerEnv


class FetchOrderEnv(PublishingConsumerEnv):
    pass
