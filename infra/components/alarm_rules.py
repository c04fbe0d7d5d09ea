"""What each watched resource alarms on, and at which threshold: the one table ops review.

Each function returns the ``add_*_alarm`` arguments of a cdk-monitoring-constructs ``monitor_*`` call. The
library alarms when the value is *above* the threshold (so ``0`` means "any"). A missing datapoint is quiet.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from cdk_monitoring_constructs import (
    ErrorCountThreshold,
    LatencyThreshold,
    LatencyTimeoutPercentageThreshold,
    MaxMessageAgeThreshold,
    MaxMessageCountThreshold,
)

QUIET = cloudwatch.TreatMissingData.NOT_BREACHING
# The map key ends the alarm's name: crossdock-<env>-<what>-<metric>-Alarm.
KEY = "Alarm"

FUNCTION_P99_OF_TIMEOUT_PCT = 80  # p99 duration this close to the timeout: the next slow call times out
QUEUE_MAX_DEPTH = 1000  # visible messages: the consumer is down or far too slow
QUEUE_MAX_AGE_MINUTES = 15  # the oldest message waits this long: the consumer is falling behind
DLQ_MAX_AGE_HOURS = 24  # a dead letter nobody redrove: a reminder, well before the 14-day retention drops it
API_MAX_4XX = 50  # per 5 minutes: a bad secret or a misconfigured webhook, not one odd request
API_MAX_P99_LATENCY = Duration.seconds(2)
QUEUE_PERIOD = Duration.minutes(1)  # SQS reports every minute: a first dead letter alarms within minutes


def function_alarms(name: str) -> dict[str, Any]:
    return {
        "add_fault_count_alarm": {
            KEY: ErrorCountThreshold(max_error_count=0, alarm_description_override=f"{name} raised errors")
        },
        "add_throttles_count_alarm": {
            KEY: ErrorCountThreshold(max_error_count=0, alarm_description_override=f"{name} throttled")
        },
        "add_latency_p99_alarm": {
            KEY: LatencyTimeoutPercentageThreshold(
                max_latency_percentage_of_timeout=FUNCTION_P99_OF_TIMEOUT_PCT,
                alarm_description_override=f"{name}: p99 duration near its timeout",
            )
        },
    }


def queue_alarms(name: str) -> dict[str, Any]:
    return {
        "add_queue_max_size_alarm": {
            KEY: MaxMessageCountThreshold(
                max_message_count=QUEUE_MAX_DEPTH,
                treat_missing_data_override=QUIET,
                period=QUEUE_PERIOD,
                alarm_description_override=f"{name}: messages pile up; is the consumer failing?",
            )
        },
        "add_queue_max_message_age_alarm": {
            KEY: MaxMessageAgeThreshold(
                max_age_in_seconds=QUEUE_MAX_AGE_MINUTES * 60,
                treat_missing_data_override=QUIET,
                period=QUEUE_PERIOD,
                alarm_description_override=f"{name}: the consumer is falling behind",
            )
        },
        "add_dead_letter_queue_max_size_alarm": {
            KEY: MaxMessageCountThreshold(
                max_message_count=0,
                treat_missing_data_override=QUIET,
                period=QUEUE_PERIOD,
                alarm_description_override=f"{name}: messages failed for good; crossdock dlq show, then redrive",
            )
        },
        "add_dead_letter_queue_max_message_age_alarm": {
            KEY: MaxMessageAgeThreshold(
                max_age_in_seconds=DLQ_MAX_AGE_HOURS * 3600,
                treat_missing_data_override=QUIET,
                period=QUEUE_PERIOD,
                alarm_description_override=f"{name}: a dead letter has waited {DLQ_MAX_AGE_HOURS} h; redrive or drop",
            )
        },
    }


def http_api_alarms(name: str) -> dict[str, Any]:
    return {
        "add4xx_count_alarm": {
            KEY: ErrorCountThreshold(
                max_error_count=API_MAX_4XX,
                alarm_description_override=f"{name} rejected many requests: a bad secret or a misconfigured webhook",
            )
        },
        "add5xx_count_alarm": {
            KEY: ErrorCountThreshold(
                max_error_count=0, alarm_description_override=f"{name} answered 5xx: a platform is retrying"
            )
        },
        "add_latency_p99_alarm": {
            KEY: LatencyThreshold(
                max_latency=API_MAX_P99_LATENCY,
                alarm_description_override=f"{name}: p99 latency is high; platforms may time out and retry",
            )
        },
    }
