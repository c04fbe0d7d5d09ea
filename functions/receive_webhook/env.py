"""Settings of the webhook intake, set by infra from the environment's config."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, Json


class IntakeEnv(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    EVENT_BUS_NAME: str = Field(min_length=1)
    IDEMPOTENCY_TABLE_NAME: str = Field(min_length=1)
    WEBHOOK_SECRET_PREFIX: str = Field(min_length=1, description="Secret name = prefix + platform")
    # Per platform dedupe window; each must cover that platform's retry horizon.
    DEDUPE_WINDOW_SECONDS: Json[dict[str, int]]
    ORDERS_TABLE_NAME: str = Field(min_length=1, description="Resolves WMS reference ids and RMA numbers")
    MAX_BODY_BYTES: int = Field(default=2 * 1024 * 1024, gt=0)
    SECRETS_MAX_AGE_SECONDS: int = Field(default=300, ge=0)
