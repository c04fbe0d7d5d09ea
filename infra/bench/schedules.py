"""The template's scheduled rules: disabled for the bench's run, and counted as what they fire each month."""

from __future__ import annotations

import copy
import re
from typing import Any

_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_UNIT_MINUTES = {"minute": 1, "hour": 60, "day": 1440}
MINUTES_PER_MONTH = 30 * 24 * 60


def without_schedules(template: dict[str, Any]) -> tuple[dict[str, Any], dict[str, float]]:
    """A copy of the template with every scheduled rule disabled, and how often each would deliver a month (once
    per target per firing)."""
    changed = copy.deepcopy(template)
    per_month = {}
    for logical_id, resource in changed.get("Resources", {}).items():
        props = resource.get("Properties", {})
        if resource.get("Type") != "AWS::Events::Rule" or "ScheduleExpression" not in props:
            continue
        props["State"] = "DISABLED"
        match = _RATE.match(str(props["ScheduleExpression"]))
        if match:
            period = int(match.group(1)) * _UNIT_MINUTES[match.group(2).rstrip("s")]
            per_month[logical_id] = MINUTES_PER_MONTH / period * max(1, len(props.get("Targets", [])))
    return changed, per_month
