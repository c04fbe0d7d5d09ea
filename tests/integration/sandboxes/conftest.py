"""What the WMS sandbox modules share: one WMS sandbox and one inbox for its webhooks, per module.

Modules that need more servers (a carrier beside the WMS) define their own ``servers``, ``wms`` and ``receiver``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from infra.local.clock import Clock
from infra.local.sandboxes.wms import WmsSandbox
from tests.integration.sandboxes.support import Inbox


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[WmsSandbox, Inbox]]:
    # One pair per module: stopping a server waits out its poll interval, so tests share them.
    clock = Clock()
    wms, receiver = WmsSandbox(clock), Inbox(clock)
    wms.start()
    receiver.start()
    yield wms, receiver
    wms.stop()
    receiver.stop()


@pytest.fixture
def wms(servers: tuple[WmsSandbox, Inbox]) -> WmsSandbox:
    wms, receiver = servers
    wms.reset()
    receiver.reset()
    wms.webhook_targets = [f"{receiver.url}/webhooks/wms"]
    return wms


@pytest.fixture
def receiver(servers: tuple[WmsSandbox, Inbox], wms: WmsSandbox) -> Inbox:
    return servers[1]
