"""A clock the local stack controls: real time plus an offset that scenarios can advance.

Sandboxes schedule late webhook retries on it, so "four hours later" takes no wall time.
"""

from __future__ import annotations

import threading
import time


class Clock:
    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return time.time() + self._offset

    def advance(self, seconds: float) -> float:
        with self._lock:
            self._offset += seconds
            return time.time() + self._offset
