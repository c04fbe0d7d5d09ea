"""timeit-style timing: warm up, then the median of several repeats of a loop. The garbage collector stays on, as
it is in a Lambda; the logs go to a sink, formatted as in a Lambda but not printed over the report."""

from __future__ import annotations

import io
import logging
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stdout

from shared.observability import logger


def per_call_us(call: Callable[[], object], *, number: int, repeat: int, warmup: int = 1) -> float:
    """Median over ``repeat`` loops of ``number`` calls, after ``warmup`` loops thrown away: µs per call."""
    samples = []
    for index in range(warmup + repeat):
        started = time.perf_counter_ns()
        for _ in range(number):
            call()
        elapsed = time.perf_counter_ns() - started
        if index >= warmup:
            samples.append(elapsed / number / 1000)
    return statistics.median(samples)


@contextmanager
def logs_to_sink(level: str = "INFO") -> Iterator[None]:
    """Our logger at ``level`` writing to memory (and anything printed, e.g. metrics), for the time of a bench."""
    sink = io.StringIO()
    handlers = [h for h in logger._logger.handlers if isinstance(h, logging.StreamHandler)]
    streams = [h.setStream(sink) for h in handlers]
    previous = logger.log_level
    logger.setLevel(level)
    try:
        with redirect_stdout(sink):
            yield
    finally:
        logger.setLevel(previous)
        for handler, stream in zip(handlers, streams, strict=True):
            handler.setStream(stream)
