"""Settings of the shipment invoicer, set by infra."""

from __future__ import annotations

from pydantic import Field, Json

from shared.env import BreakerEnv, PublishingConsumerEnv
from shared.waiting import WaitPolicy


class InvoiceShipmentEnv(PublishingConsumerEnv, BreakerEnv):
    BUFFER_URL: str = Field(min_length=1, description="Its own queue: a shipment waits there while the ERP is down")
    WAIT_POLICY: Json[WaitPolicy]
