"""One local stack for the whole e2e session: the synthesized template, run on this machine."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from infra.local.scenario_inventory import seed
from infra.local.stack import LocalStack

# Failed records reappear after 0.5% of their visibility timeout: a 5-attempt redrive takes seconds.
TIME_SCALE = 0.005


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    # Its own log folder: another worker's stack may run at the same time.
    stack = LocalStack(time_scale=TIME_SCALE, log_dir=tmp_path_factory.mktemp("function-logs"))
    stack.start()
    try:
        # What a new installation starts with: the warehouses' counts, and the catalog listed on the channels.
        seed(stack, random.Random(5), with_burst_skus=False)
        yield stack
    finally:
        stack.stop()


def wait_for(condition: Callable[[], Any], timeout: float = 30) -> Any:
    """Poll ``condition`` until it returns something truthy, and return that."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("condition not met in time")
