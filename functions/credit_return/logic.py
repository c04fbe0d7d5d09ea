"""Credit a received return in the ERP, once per receipt, then announce it: the channel refund follows it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from shared.erp.ports import Erp
from shared.errors import DownstreamUnavailable, NotFound, ValidationFailed
from shared.models.events import CreditMemoIssued, ReturnReceived
from shared.models.returns import CreditMemo, ReturnAuthorization
from shared.observability import logger
from shared.ports import EventPublisher

SOURCE = "crossdock.billing"


class Returns(Protocol):
    def returns(self, order_key: str) -> list[ReturnAuthorization]: ...


@dataclass
class CreditDeps:
    erp: Erp
    publisher: EventPublisher
    returns: Returns
    credit_percent: Mapping[str, int] = field(default_factory=dict)


def credit_return(event: ReturnReceived, deps: CreditDeps) -> CreditMemoIssued:
    receipt = event.data
    rma = next((r for r in deps.returns.returns(receipt.order_key) if r.rma_number == receipt.rma_number), None)
    if rma is None:
        raise NotFound("the warehouse received a return Crossdock did not authorize", field="rma_number")
    if rma.erp_return_authorization_id is None:
        # The RMA's ERP half is still being made (its API call is retrying): credit once it exists.
        raise DownstreamUnavailable("the RMA has no ERP return authorization yet", rma_number=rma.rma_number)
    authorized = {line.sku: line.quantity for line in rma.lines}
    received: dict[str, int] = {}
    for line in receipt.lines:  # a SKU comes once per condition and action
        received[line.sku] = received.get(line.sku, 0) + line.quantity
    for sku, quantity in received.items():
        if quantity > authorized.get(sku, 0):
            # More came back than was authorized: crediting it is a person's call, not ours.
            raise ValidationFailed(
                "received more than the RMA authorized",
                field="lines",
                detail=f"{sku}: authorized {authorized.get(sku, 0)}, received {quantity}",
            )
    memo = deps.erp.issue_credit_memo(receipt.order_key, receipt.rma_number, receipt, deps.credit_percent)
    issued = CreditMemoIssued.about(
        CreditMemo(
            order_key=receipt.order_key,
            rma_number=receipt.rma_number,
            receipt_id=receipt.receipt_id,
            erp_credit_memo_id=memo.credit_memo_id,
            amount=memo.amount,
            lines=memo.lines,
        ),
        dedupe_key=f"{receipt.order_key}:{receipt.receipt_id}",
        source=SOURCE,
    )
    deps.publisher.publish([issued])
    logger.info("return credited", rma_number=receipt.rma_number, erp_credit_memo_id=memo.credit_memo_id)
    return issued
