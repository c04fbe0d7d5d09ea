"""POST /v1/returns: authorize an RMA against what shipped, within the return window, with the ERP.

The RMA is saved before the ERP is asked, under a condition on the order's RMA count, so two requests racing for
the same units cannot both be authorized. A retried request (same ``request_id``) gets the same RMA number and
finishes what the first one started, so the ERP makes one return authorization whatever the caller retries.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from shared.erp.ports import Erp
from shared.errors import Conflict, NotFound, Unprocessable, ValidationFailed
from shared.models.events import ReturnAuthorized
from shared.models.order_state import OrderState
from shared.models.returns import ReturnAuthorization, ReturnPolicy, ReturnRequest
from shared.models.shipping import Shipment
from shared.observability import logger
from shared.ports import EventPublisher

SOURCE = "crossdock.returns"
ATTEMPTS = 3


class ReturnStore(Protocol):
    def find(self, channel: str, external_id: str) -> list[OrderState]: ...

    def shipments(self, order_key: str) -> list[Shipment]: ...

    def returns(self, order_key: str) -> list[ReturnAuthorization]: ...

    def save_return(self, authorization: ReturnAuthorization, known: int) -> bool: ...

    def complete_return(self, authorization: ReturnAuthorization) -> None: ...

    def void_return(self, authorization: ReturnAuthorization) -> bool: ...


@dataclass
class ReturnDeps:
    store: ReturnStore
    erp: Erp
    publisher: EventPublisher
    policy: ReturnPolicy


def authorize_return(request: ReturnRequest, deps: ReturnDeps, now: datetime) -> tuple[ReturnAuthorization, bool]:
    """The RMA, and whether this call created it (False: a retry of a request already authorized)."""
    order_key = _order_key(request, deps.store)
    rma_number = rma_number_for(order_key, request.request_id)
    for _ in range(ATTEMPTS):
        existing = deps.store.returns(order_key)
        mine = next((r for r in existing if r.rma_number == rma_number), None)
        if mine is not None:
            if {(x.sku, x.quantity) for x in mine.lines} != {(x.sku, x.quantity) for x in request.lines}:
                raise Unprocessable("request_id already used for other lines", field="request_id")
            return _finish(mine, deps), False
        expires_at = _check(request, deps.store.shipments(order_key), existing, deps.policy, now)
        authorization = ReturnAuthorization(
            rma_number=rma_number,
            order_key=order_key,
            request_id=request.request_id,
            lines=request.lines,
            authorized_at=now,
            expires_at=expires_at,
        )
        if deps.store.save_return(authorization, known=len(existing)):
            return _finish(authorization, deps), True
    raise Conflict("returns for this order keep changing", retry_after_seconds=1)


def rma_number_for(order_key: str, request_id: str) -> str:
    """Short, readable on a label, and the same for every retry of one request."""
    digest = hashlib.sha256(f"{order_key}|{request_id}".encode()).digest()
    return "RMA-" + base64.b32encode(digest).decode()[:12]


def _finish(authorization: ReturnAuthorization, deps: ReturnDeps) -> ReturnAuthorization:
    done = authorization
    if authorization.erp_return_authorization_id is None:
        try:
            erp_id = deps.erp.authorize_return(authorization.order_key, authorization.rma_number, authorization.lines)
        except (ValidationFailed, NotFound) as refused:
            # The ERP will never take it as asked (e.g. it has not invoiced what shipped yet): take the RMA back,
            # so its units are returnable again, and say why.
            deps.store.void_return(authorization)
            logger.warning("return refused by the erp", rma_number=authorization.rma_number, reason=refused.message)
            raise Unprocessable("the ERP refused the return", field="lines", detail=refused.message) from refused
        done = authorization.model_copy(update={"erp_return_authorization_id": erp_id})
        deps.store.complete_return(done)
        logger.info("return authorized", rma_number=done.rma_number, erp_return_authorization_id=erp_id)
    # Published on every finish: a retry after a failed publish announces it (the event id is the same).
    event = ReturnAuthorized.about(done, dedupe_key=f"{done.order_key}:{done.rma_number}", source=SOURCE)
    deps.publisher.publish([event])
    return done


def _order_key(request: ReturnRequest, store: ReturnStore) -> str:
    matches = [s for s in store.find(request.channel.value, request.external_id) if request.store in (None, s.store)]
    if not matches:
        raise NotFound("no such order", field="external_id")
    if len(matches) > 1:
        raise ValidationFailed("the order id is in several stores: pass store", field="store")
    return matches[0].order_key


def _check(
    request: ReturnRequest,
    shipments: list[Shipment],
    existing: list[ReturnAuthorization],
    policy: ReturnPolicy,
    now: datetime,
) -> datetime:
    """Refuse what the business rules refuse, with the reason; the end of the return window otherwise."""
    if not shipments:
        raise Unprocessable("nothing of this order has shipped yet", field="external_id")
    expires_at = max(s.shipped_at for s in shipments) + timedelta(days=policy.window_days)
    if now > expires_at:
        raise Unprocessable(
            "outside the return window",
            field="external_id",
            detail=f"the {policy.window_days}-day window ended {expires_at.date().isoformat()}",
        )
    shipped: dict[str, int] = {}
    for shipment in shipments:
        for sku, quantity in shipment.quantities().items():
            shipped[sku] = shipped.get(sku, 0) + quantity
    returned: dict[str, int] = {}
    for rma in existing:
        for line in rma.lines:
            returned[line.sku] = returned.get(line.sku, 0) + line.quantity
    for index, line in enumerate(request.lines):
        if line.reason_code not in policy.reason_codes:
            raise Unprocessable(
                "unknown reason code",
                field=f"lines.{index}.reason_code",
                detail=f"known: {', '.join(policy.reason_codes)}",
            )
        left = shipped.get(line.sku, 0) - returned.get(line.sku, 0)
        if line.quantity > left:
            raise Unprocessable(
                "more than shipped and not yet returned",
                field=f"lines.{index}.quantity",
                detail=f"{line.sku}: shipped {shipped.get(line.sku, 0)}, "
                f"already returned {returned.get(line.sku, 0)}, asked {line.quantity}",
            )
    return expires_at
