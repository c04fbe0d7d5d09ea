"""The one Logger every module uses. Static messages, fields as keywords, correlation id per order."""

from __future__ import annotations

import logging

from aws_lambda_powertools import Logger

# Service name and level come from POWERTOOLS_SERVICE_NAME / POWERTOOLS_LOG_LEVEL, set per function by infra.
logger = Logger()

# Lambda sets the root logger to the function's level; at DEBUG botocore logs secret values and event bodies,
# at INFO httpx logs request URLs (which can hold an email). Libraries speak up only for warnings.
for _name in ("boto3", "botocore", "urllib3", "s3transfer", "httpx", "httpcore"):
    logging.getLogger(_name).setLevel(logging.WARNING)
