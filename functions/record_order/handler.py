"""SQS consumer of order events: partial batch responses, so one bad record never holds back the rest."""

from __future__ import annotations

import functools
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.record_order.env import RecordOrderEnv
from functions.record_order.logic import record_order
from shared.aws.order_store import DynamoOrderStore
from shared.env import load_env
from shared.errors import CrossdockError
from shared.models.bus import parse_order_event
from shared.observability import logger

processor = BatchProcessor(event_type=EventType.SQS)


@functools.cache
def store() -> DynamoOrderStore:
    return DynamoOrderStore(load_env(RecordOrderEnv).ORDERS_TABLE_NAME)


def handle_record(record: SQSRecord) -> None:
    try:
        record_order(parse_order_event(record.body), store())
    except CrossdockError as error:
        logger.warning(
            "record failed",
            message_id=record.message_id,
            error_class=error.error_class.value,
            retryable=error.retryable,
            reason=error.message,
            receive_count=record.attributes.approximate_receive_count,
        )
        raise


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=handle_record, processor=processor, context=context)
