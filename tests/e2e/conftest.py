"""One local stack for the whole e2e session: the synthesized template, run on this machine."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from infra.local.stack import LocalStack

# Failed records reappear after 0.5% of their visibility timeout: a 5-attempt redrive takes seconds.
TIME_SCALE = 0.005


@pytest.fixture(scope="session")
def local_stack() -> Iterator[LocalStack]:
    stack = LocalStack(time_scale=TIME_SCALE)
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()
