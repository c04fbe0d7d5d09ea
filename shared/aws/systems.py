"""The outside systems a function calls, wired once: each adapter follows its connection secret
(``shared.connections.Connected``) and calls through its system's breaker (``shared.aws.breakers``).

The adapters are imported where they are made, as ``shared.channels.registry`` does: a function that calls only
the channels loads no ERP or WMS client on its cold start, and the reverse.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from shared.aws.breakers import BreakerSettings, breaker_for
from shared.aws.connections import SecretsManagerConnections
from shared.channels.inventory import ChannelInventory, inventory_api_for
from shared.connections import Connected

if TYPE_CHECKING:
    from shared.channels.connected import ConnectedChannels
    from shared.erp.netsuite import NetSuiteErp
    from shared.wms.shipbob import ShipBobWms


class SystemsEnv(BreakerSettings, Protocol):
    """What a function that calls outside systems has in its environment (``BreakerEnv`` and the prefix)."""

    @property
    def CONNECTION_PREFIX(self) -> str: ...


def connected_erp(env: SystemsEnv) -> Connected[NetSuiteErp]:
    from shared.erp.netsuite import SYSTEM, NetSuiteErp

    return Connected(_connections(env), SYSTEM, lambda c: NetSuiteErp(c, breaker=breaker_for(SYSTEM, env)))


def connected_wms(env: SystemsEnv) -> Connected[ShipBobWms]:
    from shared.wms.shipbob import ShipBobWms

    return Connected(_connections(env), "wms", lambda c: ShipBobWms(c, breaker=breaker_for("wms", env)))


def connected_channels(env: SystemsEnv) -> ConnectedChannels:
    # Here, not at the top: it loads the channel registry, every webhook adapter with its payload models, which a
    # function that calls only the ERP or the WMS never needs.
    from shared.channels.connected import ConnectedChannels

    return ConnectedChannels(_connections(env), lambda platform: breaker_for(platform, env))


def connected_inventory(env: SystemsEnv, channel: str) -> Connected[ChannelInventory]:
    return Connected(_connections(env), channel, lambda c: inventory_api_for(channel, c, breaker_for(channel, env)))


def _connections(env: SystemsEnv) -> SecretsManagerConnections:
    return SecretsManagerConnections(env.CONNECTION_PREFIX)
