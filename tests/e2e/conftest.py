"""One local stack for the whole e2e session: the synthesized template, run on this machine."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from infra.local.stack import LocalStack

# Failed records reappear after 0.5% of their visibility timeout: a 5-attempt redrive takes seconds.
TIME_SCALE = 0.005


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    # Its own log folder: another worker's stack may run at the same time.
    stack = LocalStack(time_scale=TIME_SCALE, log_dir=tmp_path_factory.mktemp("function-logs"))
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()
