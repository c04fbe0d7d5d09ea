"""Channel APIs with their connections, made once per platform per container."""

from __future__ import annotations

from shared.channels.base import ChannelApi
from shared.channels.registry import API_PLATFORMS, api_for
from shared.connections import ConnectionSource


class ConnectedChannels:
    def __init__(self, connections: ConnectionSource) -> None:
        self._connections = connections
        self._apis: dict[str, ChannelApi | None] = {}

    def __call__(self, platform: str) -> ChannelApi | None:
        """The platform's API client, or None for a channel with no API (it only sends to us)."""
        if platform not in self._apis:
            # No connection is looked up for a channel we never call: it has none.
            has_api = platform in API_PLATFORMS
            self._apis[platform] = api_for(platform, self._connections.connection(platform)) if has_api else None
        return self._apis[platform]
