"""AfterShip's tracking webhook as it arrives (aftership.com/docs/tracking, "Webhook Specifications"), before mapping.

``{ts, event, event_id, is_tracking_first_tag, msg}``: ``msg`` is the tracking, with its delivery status ``tag``
(``InTransit``, ``Delivered``, ...) and its ``checkpoints``, oldest first. ``msg.order_id`` is whatever the party
that registered the tracking put there; for Crossdock it is the WMS reference id of the release that shipped.

A checkpoint's ``checkpoint_time`` is in the checkpoint's local time and, depending on the carrier, may come with or
without an offset (or as a date alone), so it is kept as the text the carrier gave and read where it is used.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, NonNegativeInt

ShortText = Annotated[str, Field(min_length=1, max_length=200)]
# A tracking with more checkpoints than this is not a parcel's history.
MAX_CHECKPOINTS = 1000


class _AfterShip(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Checkpoint(_AfterShip):
    checkpoint_time: str | None = Field(default=None, max_length=64)
    tag: str | None = None
    subtag: str | None = None
    message: str | None = None
    location: str | None = None


class TrackingMessage(_AfterShip):
    id: str | None = None
    tracking_number: ShortText
    slug: ShortText
    tag: ShortText
    subtag: str | None = None
    subtag_message: str | None = None
    order_id: ShortText
    updated_at: AwareDatetime | None = None
    checkpoints: list[Checkpoint] = Field(default_factory=list, max_length=MAX_CHECKPOINTS)


class TrackingEvent(_AfterShip):
    """Only the event code and id: read first, so an event we do not take is a 404, not a 400 about the rest."""

    event: str = ""
    event_id: str = Field(default="", max_length=200)


class TrackingUpdate(_AfterShip):
    ts: NonNegativeInt = Field(le=253402300799)  # up to 9999-12-31: a datetime can hold it
    event: str
    event_id: ShortText
    is_tracking_first_tag: bool | None = None
    msg: TrackingMessage
