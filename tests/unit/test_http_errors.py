"""Errors as API answers: the Retry-After a client gets from a rate limit or an open breaker."""

from __future__ import annotations

import pytest

from shared.errors import CircuitOpen, DownstreamUnavailable, RateLimited
from shared.http import error_response


@pytest.mark.parametrize(("seconds", "header"), [(0.4, "1"), (0.0, "0"), (2.0, "2"), (29.01, "30")])
def test_retry_after_is_whole_seconds_rounded_up_and_kept_when_zero(seconds: float, header: str) -> None:
    response = error_response(CircuitOpen("netsuite breaker open", system="netsuite", retry_after_seconds=seconds))
    assert response["statusCode"] == 503
    assert response["headers"]["retry-after"] == header


def test_a_rate_limit_without_a_wait_and_a_plain_failure_say_no_retry_after() -> None:
    assert "retry-after" not in error_response(RateLimited("shopify rate limited"))["headers"]
    assert "retry-after" not in error_response(DownstreamUnavailable("netsuite unavailable"))["headers"]


def test_a_wait_in_the_details_counts_too() -> None:
    response = error_response(DownstreamUnavailable("busy", retry_after_seconds=0.2))
    assert response["headers"]["retry-after"] == "1"
