"""Channel APIs with their connections, made once per platform per container."""

from __future__ import annotations

from collections.abc import Callable

from shared.breaker import Breaker
from shared.channels.base import ChannelApi
from shared.channels.registry import API_PLATFORMS, api_for
from shared.connections import Connected, ConnectionSource


class ConnectedChannels:
    def __init__(
        self, connections: ConnectionSource, breakers: Callable[[str], Breaker | None] = lambda platform: None
    ) -> None:
        self._connections = connections
        self._breakers = breakers  # each platform's breaker (``shared.aws.breakers``), or none
        self._apis: dict[str, Connected[ChannelApi]] = {}

    def __call__(self, platform: str) -> ChannelApi | None:
        """The platform's API client, or None for a channel with no API (it only sends to us)."""
        if platform not in API_PLATFORMS:
            return None  # no connection is looked up for a channel we never call: it has none
        if platform not in self._apis:
            breaker = self._breakers(platform)
            self._apis[platform] = Connected(self._connections, platform, lambda c: api_for(platform, c, breaker))
        return self._apis[platform]()
