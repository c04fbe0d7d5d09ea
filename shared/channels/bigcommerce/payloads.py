"""BigCommerce's thin webhook payload: ``{scope, store_id, data: {type, id}, hash, created_at, producer}``.

Unknown fields are ignored: BigCommerce adds to ``data`` per scope (``statusUpdated`` carries the status change).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _BigCommerce(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class BigCommerceScope(_BigCommerce):
    """Only the scope: read first, so a scope we do not take is a 404, not a 400 about its ``data``."""

    scope: str


class BigCommerceStatusChange(_BigCommerce):
    previous_status_id: int
    new_status_id: int


class BigCommerceOrderRef(_BigCommerce):
    type: Literal["order"]
    id: int = Field(ge=1)
    status: BigCommerceStatusChange | None = None  # store/order/statusUpdated only


class BigCommerceOrderWebhook(_BigCommerce):
    scope: str
    # "stores/{store_hash}": the store hash is what the API paths take, so it names the store.
    producer: str = Field(pattern=r"^stores/[A-Za-z0-9]+$")
    data: BigCommerceOrderRef
    # SHA-1 of the event, the same on every delivery of it: BigCommerce's documented duplicate detector.
    hash: str = Field(min_length=1, max_length=128)
    created_at: int

    @property
    def store_hash(self) -> str:
        return self.producer.removeprefix("stores/")
