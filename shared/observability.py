"""The one Logger every module uses. Static messages, fields as keywords, correlation id per order."""

from __future__ import annotations

from aws_lambda_powertools import Logger

# Service name and level come from POWERTOOLS_SERVICE_NAME / POWERTOOLS_LOG_LEVEL, set per function by infra.
logger = Logger()
