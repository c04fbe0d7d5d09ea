"""An unexpected exception is logged by its type and frames, never its text: the text can quote the input."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from pydantic import BaseModel, ValidationError

from infra.local.log_scan import Needle, scan_lines
from shared.consumer import consume
from shared.http import handle_errors
from shared.observability import logger
from tests.unit.test_waiting import CONTEXT, FakeDeadLetters, sqs_event

EMAIL = "dana.whitfield@example.com"
NEEDLES = [Needle.literal("email", EMAIL, ignore_case=True)]


class _Contact(BaseModel):
    phone: int


@pytest.fixture
def logs() -> Iterator[io.StringIO]:
    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    captured = io.StringIO()
    previous = handler.setStream(captured)
    try:
        yield captured
    finally:
        handler.setStream(previous)


def _invalid_contact(body: str) -> None:
    _Contact.model_validate({"phone": EMAIL})  # a bug: the wrong field read, its value quoted by pydantic


def test_a_consumer_logs_and_raises_an_unexpected_error_without_the_records_data(logs: io.StringIO) -> None:
    with pytest.raises(BatchProcessingError) as raised:
        consume(sqs_event(json.dumps({"email": EMAIL})), CONTEXT, _invalid_contact, FakeDeadLetters(), max_receives=5)
    assert EMAIL not in str(raised.value)  # the invocation's error, which the Lambda runtime logs
    lines = logs.getvalue().splitlines()
    assert scan_lines("consumer", lines, NEEDLES) == []
    [line] = [json.loads(line) for line in lines if "record failed unexpectedly" in line]
    assert line["error_type"] == "ValidationError"
    assert line["problems"] == [{"loc": "phone", "type": "int_parsing"}]
    assert any("_invalid_contact" in frame for frame in line["raised_at"])
    assert "exception" not in line


def test_an_http_handler_logs_an_unhandled_error_without_the_request_data(logs: io.StringIO) -> None:
    def call() -> dict[str, object]:
        try:
            json.loads(f'{{"email": "{EMAIL}" oops}}')
        except ValueError as error:
            raise KeyError(f"no customer {EMAIL}") from error
        return {}

    response = handle_errors(call)
    assert response["statusCode"] == 500
    assert EMAIL not in json.dumps(response)
    lines = logs.getvalue().splitlines()
    assert scan_lines("http", lines, NEEDLES) == []
    [line] = [json.loads(line) for line in lines if "unhandled error" in line]
    assert (line["error_type"], line["caused_by"]) == ("KeyError", ["JSONDecodeError"])


def test_without_the_fix_the_scan_would_see_it(logs: io.StringIO) -> None:
    # The same error through logger.exception: what these tests guard against, found by the scanner.
    try:
        _invalid_contact("{}")
    except ValidationError:
        logger.exception("record failed unexpectedly")
    assert [hit.field for hit in scan_lines("raw", logs.getvalue().splitlines(), NEEDLES)] == ["exception"]
