"""A webhook secret rotated by the README's runbook rejects no delivery, whatever the platform signs with when.

Each step is played on a warm container (its secret cache still holds what it read) and on a fresh one: the
runbook waits out the 5-minute cache before the platform switches, and that wait is what this test relies on.
"""

from __future__ import annotations

import itertools
import json

import boto3

from functions.receive_webhook import handler
from tests.integration.conftest import SECRET_PREFIX, Aws
from tests.integration.test_shopify_intake import invoke, shopify_event

OLD, NEW = "shpss_rotation_old_secret", "shpss_rotation_new_secret"
_ids = itertools.count()


def put(current: str, previous: str) -> None:
    boto3.client("secretsmanager").put_secret_value(
        SecretId=f"{SECRET_PREFIX}shopify", SecretString=json.dumps({"current": current, "previous": previous})
    )


def delivered(secret: str) -> int:
    """The status a new delivery signed with ``secret`` gets."""
    status, _ = invoke(shopify_event(secret=secret, event_id=f"evt-rotation-{next(_ids)}"))
    return status


def cache_expires() -> None:
    handler.deps.cache_clear()  # what the 5-minute max age does to a warm container


def test_a_rotation_by_the_runbook_rejects_no_delivery(aws: Aws) -> None:
    put(OLD, "")
    cache_expires()
    assert delivered(OLD) == 202

    # 1. Both secrets live. A warm container still has only the old one; the platform still signs with it.
    put(NEW, OLD)
    assert delivered(OLD) == 202
    cache_expires()  # the runbook waits out the cache before step 2
    assert delivered(OLD) == 202

    # 2. The platform switches: new deliveries carry the new secret, retries of older ones the old.
    assert [delivered(NEW), delivered(OLD), delivered(NEW)] == [202, 202, 202]

    # 3. After the platform's retry horizon the old secret goes; a warm container lets it in until its cache ends.
    put(NEW, "")
    assert delivered(NEW) == 202
    cache_expires()
    assert delivered(NEW) == 202
    assert delivered(OLD) == 401  # and only now is the old secret refused
