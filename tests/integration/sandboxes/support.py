"""What the sandbox tests share: a clock that moves only when told, and an inbox that receives webhooks."""

from __future__ import annotations

from infra.local.clock import Clock
from infra.local.sandboxes.base import Request, Response, Sandbox


class FrozenClock(Clock):
    """Real time would refill buckets and quotas between two requests; this clock moves only when told."""

    def __init__(self, start: float) -> None:
        super().__init__()
        self._now = start

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> float:
        self._now += seconds
        return self._now


class Inbox(Sandbox):
    """Stands in for Crossdock's webhook endpoint: keeps each request as it arrived and answers ``status``."""

    name = "inbox"

    def __init__(self, clock: Clock) -> None:
        super().__init__(clock)
        self.route("POST", "/webhooks/{platform}", self.receive)

    def reset_state(self) -> None:
        self.received: list[Request] = []
        self.status = 200

    def receive(self, request: Request) -> Response:
        self.received.append(request)
        return Response(self.status, {"ok": True})
