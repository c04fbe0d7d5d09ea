"""The one Logger every module uses. Static messages, fields as keywords, correlation id per order."""

from __future__ import annotations

import logging
import traceback
from typing import Any, cast

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from aws_lambda_powertools.logging.types import LogRecord
from pydantic import ValidationError

# What the log group and stream already say about every line: the function's name, ARN and memory.
SAID_BY_THE_LOG_GROUP = ("function_name", "function_arn", "function_memory_size")


class CompactFormatter(LambdaPowertoolsFormatter):
    """Powertools' JSON lines without the keys the log group already names: about 40 % of each line, and of the
    CloudWatch Logs bill per order (decision 47). The request id, cold start and correlation id stay."""

    def serialize(self, log: LogRecord) -> str:
        record = cast(dict[str, Any], log)
        for key in SAID_BY_THE_LOG_GROUP:
            record.pop(key, None)
        return super().serialize(log)


# Service name and level come from POWERTOOLS_SERVICE_NAME / POWERTOOLS_LOG_LEVEL, set per function by infra.
logger = Logger(logger_formatter=CompactFormatter())

# Lambda sets the root logger to the function's level; at DEBUG botocore logs secret values and event bodies,
# at INFO httpx logs request URLs (which can hold an email). Libraries speak up only for warnings.
for _name in ("boto3", "botocore", "urllib3", "s3transfer", "httpx", "httpcore"):
    logging.getLogger(_name).setLevel(logging.WARNING)

_FRAMES = 10


def failure_fields(error: BaseException) -> dict[str, Any]:
    """What a log may say about an unexpected exception: its type and where it was raised, never its text.

    Use instead of ``logger.exception``: an exception's message can quote the input (a pydantic error its
    ``input_value``, a ``KeyError`` its key, a JSON error the document), and the input can be personal data.
    """
    frames = traceback.extract_tb(error.__traceback__)[-_FRAMES:]
    fields: dict[str, Any] = {
        "error_type": type(error).__name__,
        "raised_at": [f"{'/'.join(f.filename.split('/')[-2:])}:{f.lineno} in {f.name}" for f in frames],
    }
    causes: list[str] = []
    cause = error.__cause__ or error.__context__
    while cause is not None and len(causes) < _FRAMES:
        causes.append(type(cause).__name__)
        cause = cause.__cause__ or cause.__context__
    if causes:
        fields["caused_by"] = causes
    if isinstance(error, ValidationError):
        # Where and what kind of problem, without the input: enough to find the model and the field.
        fields["problems"] = [
            {"loc": ".".join(str(part) for part in e["loc"]), "type": e["type"]}
            for e in error.errors(include_url=False, include_input=False, include_context=False)
        ][:_FRAMES]
    return fields
