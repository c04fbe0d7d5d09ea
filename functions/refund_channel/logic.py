"""Refund in the channel exactly what the ERP credited: once per receipt, never before the credit memo."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from shared.channels.base import ChannelApi, RefundRequest
from shared.models.events import CreditMemoIssued, RefundIssued
from shared.models.order import split_order_key
from shared.models.returns import CreditMemo, Refund
from shared.models.shipping import ShippedLine
from shared.observability import logger
from shared.once import Effect, just_run
from shared.ports import EventPublisher

SOURCE = "crossdock.channels"


@dataclass
class RefundDeps:
    # None for a channel with no API (a B2B portal): the ERP credit memo is the refund there.
    api_for: Callable[[str], ChannelApi | None]
    publisher: EventPublisher
    # Two copies of one credit memo handled at once must not both refund (``shared.once``).
    once: Callable[[str, Effect], str | None] = just_run


def _per_sku(memo: CreditMemo) -> tuple[ShippedLine, ...]:
    """The memo credits a SKU once per condition; the channel refunds each order line once."""
    quantities: dict[str, int] = {}
    for line in memo.lines:
        quantities[line.sku] = quantities.get(line.sku, 0) + line.quantity
    return tuple(ShippedLine(sku=sku, quantity=quantity) for sku, quantity in quantities.items())


def refund_channel(event: CreditMemoIssued, deps: RefundDeps) -> RefundIssued:
    memo = event.data
    channel, store, external_id = split_order_key(memo.order_key)
    api = deps.api_for(channel.value)
    refund_id = None
    # Nothing to pay back (everything came back scrapped at 0 %): no channel accepts a zero refund.
    if api is not None and memo.amount.amount > 0:
        request = RefundRequest(
            refund_id=f"{memo.rma_number}:{memo.receipt_id}",
            rma_number=memo.rma_number,
            amount=memo.amount,
            lines=_per_sku(memo),
            note=f"Return {memo.rma_number}, ERP credit memo {memo.erp_credit_memo_id}",
        )
        refund_id = deps.once(f"refund:{memo.order_key}:{request.refund_id}", lambda: api.refund(external_id, request))
    issued = RefundIssued.about(
        Refund(
            order_key=memo.order_key,
            channel=channel,
            store=store,
            external_id=external_id,
            rma_number=memo.rma_number,
            receipt_id=memo.receipt_id,
            amount=memo.amount,
            channel_refund_id=refund_id,
        ),
        dedupe_key=f"{memo.order_key}:{memo.receipt_id}",
        source=SOURCE,
    )
    deps.publisher.publish([issued])
    logger.info("channel refunded", rma_number=memo.rma_number, channel=channel.value, told=refund_id is not None)
    return issued
