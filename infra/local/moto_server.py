"""moto's server, with two of its per-request costs computed once.

Profiled in a chaos run, a quarter of the server's CPU went to work that gives the same answer every time:
listing moto's own package folder (an ``isdir`` per service) to route each request, under a lock every request
shares; and building a JSONPath parser for each field of each event an EventBridge target receives.
"""

from __future__ import annotations

import functools

import jsonpath_ng.ext
from jsonpath_ng.ext.parser import parse
from moto import backends
from moto.server import main


def cache_per_request_work() -> None:
    modules = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: modules  # read at call time by the server's dispatcher
    # Parsed expressions are only read (``find``), so one per path serves every event.
    # moto imports it from the package at each call: the package's name is the one to replace.
    jsonpath_ng.ext.parse = functools.lru_cache(maxsize=256)(parse)  # type: ignore[attr-defined]


if __name__ == "__main__":
    cache_per_request_work()
    main()
