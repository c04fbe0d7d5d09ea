"""The unit tests' in-memory fakes of the ports (``tests/fakes.py``, ``tests/fakes_inventory.py``), for the bench.

The bench times the logic with the network left out, and these are the fakes the tests trust. mypy is kept from
following into ``tests/`` (not a type-checked package: ``tests/fakes.py`` calls Powertools untyped), so for it the
fakes are ``Any``; at run time they are the tests' own classes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    FakeChannelApi: Any
    FakeErp: Any
    FakeLambdaContext: Any
    FakeOrderStore: Any
    FakePublisher: Any
    FakeSecrets: Any
    FakeWms: Any
    InMemoryAvailabilityState: Any
    InMemoryLedger: Any
    InMemoryPersistence: Any
else:
    from tests.fakes import (
        FakeChannelApi,
        FakeErp,
        FakeLambdaContext,
        FakeOrderStore,
        FakePublisher,
        FakeSecrets,
        FakeWms,
        InMemoryPersistence,
    )
    from tests.fakes_inventory import InMemoryAvailabilityState, InMemoryLedger

__all__ = [
    "FakeChannelApi",
    "FakeErp",
    "FakeLambdaContext",
    "FakeOrderStore",
    "FakePublisher",
    "FakeSecrets",
    "FakeWms",
    "InMemoryAvailabilityState",
    "InMemoryLedger",
    "InMemoryPersistence",
]
