"""What Crossdock calls on Shopify: the order (claim check), orders updated since (reconciliation), status tags.

- ``fetch_order`` reads the REST Admin order resource (``GET /admin/api/{version}/orders/{id}.json``). It is the
  resource the webhooks carry, so one mapping (``mapping.to_order``) serves both. REST Admin is legacy but
  still served; moving to the GraphQL ``order`` field needs a second mapping of its different shape.
- ``list_updated_since`` pages the GraphQL ``orders`` connection with an ``updated_at:>=`` search.
- ``push_status`` tags the order ``crossdock:<status>`` and removes the other Crossdock status tags. It reads the
  tags first, so a repeated push sends no mutation: no cost, no ``orders/updated`` echo back to our intake.
  A rejection is only a tag: cancelling in Shopify refunds and emails the buyer, which people decide. The
  reasons stay in Crossdock's timeline: Shopify's one order note belongs to the merchant, and tags are too
  short (40 characters) to carry them.
- ``create_fulfillment`` reads the order's fulfillments and open fulfillment orders, returns the fulfillment
  already carrying the shipment's tracking numbers, else ships the SKUs with ``fulfillmentCreate``. The mutation
  has no idempotency key, so it is never repeated blind: a timeout is answered by reading again.
- ``refund`` reads the order's refunds, returns the one whose note holds the refund id, else sends
  ``refundCreate`` (no restock, the money against the paid transaction) keyed ``@idempotent`` by the refund id.
  See ``fulfillment.py`` for the inputs.

GraphQL answers HTTP 200 when nothing ran, so every answer's ``errors`` and ``userErrors`` are checked. A
``THROTTLED`` answer raises ``RateLimited`` with the wait the cost bucket itself reports, and counts towards the
shop's breaker (it never counts as the shop answering).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from shared.breaker import Breaker
from shared.channels.base import RefundRequest
from shared.channels.calls import as_utc, check, numeric_id, parse, required
from shared.channels.shopify import fulfillment, graphql
from shared.channels.shopify.mapping import to_order
from shared.channels.shopify.payloads import ShopifyOrder
from shared.connections import Connection
from shared.errors import DownstreamUnavailable, NotFound, RateLimited, Unauthorized, ValidationFailed
from shared.models.lifecycle import ChannelOrderRef, ChannelStatus, Reason
from shared.models.order import Channel, Order
from shared.models.shipping import Shipment
from shared.observability import logger
from shared.outbound import OutboundClient
from shared.validation import as_validation_failed

SYSTEM = "shopify"
DEFAULT_API_VERSION = "2026-07"
PAGE_SIZE = 100
STATUS_TAGS = {
    ChannelStatus.ACCEPTED: "crossdock:accepted",
    ChannelStatus.ON_HOLD: "crossdock:on-hold",
    ChannelStatus.REJECTED: "crossdock:rejected",
    ChannelStatus.CANCELLED: "crossdock:cancelled",
}
# Top-level error codes that are not our document being wrong.
_UNAVAILABLE_CODES = frozenset({"INTERNAL_SERVER_ERROR", "SERVICE_UNAVAILABLE", "TIMEOUT"})
_ACCESS_CODES = frozenset({"ACCESS_DENIED", "UNAUTHORIZED"})

DataT = TypeVar("DataT", bound=BaseModel)


class _RestOrder(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    order: ShopifyOrder


class ShopifyApi:
    platform = Channel.SHOPIFY.value

    def __init__(
        self, connection: Connection, *, client: OutboundClient | None = None, breaker: Breaker | None = None
    ) -> None:
        self.shop = required(connection.settings, "shop_domain", "settings")
        version = connection.settings.get("api_version", DEFAULT_API_VERSION)
        self._headers = {
            "X-Shopify-Access-Token": required(connection.credentials, "access_token", "credentials"),
            "Accept": "application/json",
        }
        self._rest = f"/admin/api/{version}"
        self._graphql_path = f"/admin/api/{version}/graphql.json"
        self._client = client or outbound_client(connection, breaker)

    # -- the claim check --------------------------------------------------------------------------------------
    def fetch_order(self, external_id: str) -> Order:
        order_id = numeric_id(external_id, SYSTEM)
        response = self._client.request("GET", f"{self._rest}/orders/{order_id}.json", headers=self._headers)
        check(response, SYSTEM)
        payload = parse(_RestOrder, response, "Shopify order").order
        try:
            return to_order(payload, shop_domain=self.shop)
        except ValidationError as error:
            raise as_validation_failed(error, "Shopify order") from None

    # -- reconciliation ---------------------------------------------------------------------------------------
    def list_updated_since(self, since: datetime) -> list[ChannelOrderRef]:
        # Shopify's search takes whole seconds; rounding down keeps "at or after" (an extra order is harmless).
        stamp = as_utc(since).strftime("%Y-%m-%dT%H:%M:%SZ")
        variables: dict[str, Any] = {"first": PAGE_SIZE, "after": None, "query": f"updated_at:>='{stamp}'"}
        found: dict[str, ChannelOrderRef] = {}
        while True:
            page = self._graphql(graphql.ORDERS_UPDATED_SINCE, variables, graphql.OrdersData).orders
            for edge in page.edges:
                # Keyset cursors never skip, but an order updated mid-scan comes round again: keep its latest.
                found[edge.node.legacy_resource_id] = ChannelOrderRef(
                    channel=Channel.SHOPIFY,
                    store=self.shop,
                    external_id=edge.node.legacy_resource_id,
                    change="updated",
                    observed_by="reconciliation",
                    updated_at=edge.node.updated_at,
                )
            if not page.page_info.has_next_page or not page.page_info.end_cursor:
                return list(found.values())
            variables["after"] = page.page_info.end_cursor

    # -- status -----------------------------------------------------------------------------------------------
    def push_status(self, external_id: str, status: ChannelStatus, reasons: Sequence[Reason] = ()) -> None:
        order_gid = _order_gid(external_id)
        order = self._graphql(graphql.ORDER_TAGS, {"id": order_gid}, graphql.OrderTagsData).order
        if order is None:
            raise NotFound("shopify has no such order", system=SYSTEM)
        wanted = STATUS_TAGS[status]
        present = {tag.casefold() for tag in order.tags}  # Shopify tags are case-insensitive
        stale = [tag for tag in STATUS_TAGS.values() if tag != wanted and tag in present]
        # Add before removing: if the second call fails, the order already says the new status and a retry
        # only has the removal left to do.
        if wanted not in present:
            self._change_tags(graphql.TAGS_ADD, order_gid, [wanted])
        if stale:
            self._change_tags(graphql.TAGS_REMOVE, order_gid, stale)
        logger.info(
            "channel status pushed",
            platform=self.platform,
            external_id=external_id,
            status=status.value,
            changed=wanted not in present or bool(stale),
            reasons=[reason.code for reason in reasons],
        )

    def _change_tags(self, document: str, order_gid: str, tags: list[str]) -> None:
        errors = self._graphql(document, {"id": order_gid, "tags": tags}, graphql.TagsData).result.user_errors
        if errors:  # the mutation was refused, in a 200
            raise _refused(errors)

    # -- shipments ------------------------------------------------------------------------------------------
    def create_fulfillment(self, external_id: str, shipment: Shipment) -> str:
        order_gid = _order_gid(external_id)
        order = self._fulfillment_state(order_gid)
        made = fulfillment.made_for(order.fulfillments, shipment)
        if made is None:
            variables = {"fulfillment": fulfillment.fulfillment_input(order, shipment)}
            made = self._create_fulfillment(order_gid, shipment, variables)
            message = "channel fulfillment created"
        else:
            message = "channel fulfillment already made"
        logger.info(
            message,
            platform=self.platform,
            external_id=external_id,
            shipment_id=shipment.shipment_id,
            channel_fulfillment_id=made.id,
        )
        return made.id

    def _create_fulfillment(self, order_gid: str, shipment: Shipment, variables: dict[str, Any]) -> graphql.Fulfillment:
        try:
            data = self._graphql(graphql.FULFILLMENT_CREATE, variables, graphql.FulfillmentCreateData, idempotent=False)
        except DownstreamUnavailable as error:
            if not error.details.get("maybe_committed"):
                raise
            # The timeout may have hidden a commit: what is on the order now decides, not a second send.
            made = fulfillment.made_for(self._fulfillment_state(order_gid).fulfillments, shipment)
            if made is None:
                raise
            return made
        result = data.fulfillment_create
        if result.user_errors:
            raise _refused(result.user_errors)
        if result.fulfillment is None:
            raise DownstreamUnavailable("shopify made no fulfillment", system=SYSTEM)
        return result.fulfillment

    def _fulfillment_state(self, order_gid: str) -> graphql.OrderFulfillment:
        order = self._graphql(graphql.ORDER_FULFILLMENT, {"id": order_gid}, graphql.OrderFulfillmentData).order
        if order is None:
            raise NotFound("shopify has no such order", system=SYSTEM)
        return order

    # -- refunds --------------------------------------------------------------------------------------------
    def refund(self, external_id: str, request: RefundRequest) -> str:
        order_gid = _order_gid(external_id)
        order = self._graphql(graphql.ORDER_REFUNDS, {"id": order_gid}, graphql.OrderRefundsData).order
        if order is None:
            raise NotFound("shopify has no such order", system=SYSTEM)
        made = fulfillment.made_refund(order.refunds, request.refund_id)
        if made is None:
            variables = {"key": request.refund_id, "input": fulfillment.refund_input(order, request)}
            made = self._create_refund(variables)
            message = "channel refund created"
        else:
            message = "channel refund already made"
        logger.info(
            message,
            platform=self.platform,
            external_id=external_id,
            refund_id=request.refund_id,
            channel_refund_id=made.id,
            amount=str(request.amount.amount),
        )
        return made.id

    def _create_refund(self, variables: dict[str, Any]) -> graphql.Refund:
        # Safe to repeat after a timeout: Shopify answers a repeated idempotency key with the first refund.
        result = self._graphql(graphql.REFUND_CREATE, variables, graphql.RefundCreateData).refund_create
        if result.user_errors:
            raise _refused(result.user_errors)
        if result.refund is None:
            raise DownstreamUnavailable("shopify made no refund", system=SYSTEM)
        return result.refund

    # -- GraphQL ----------------------------------------------------------------------------------------------
    def _graphql(
        self, document: str, variables: dict[str, Any], data: type[DataT], *, idempotent: bool = True
    ) -> DataT:
        # Repeated after a timeout unless told otherwise: the queries read, adding or removing a tag twice is one
        # change, and refundCreate carries its idempotency key.
        response = self._client.request(
            "POST",
            self._graphql_path,
            headers=self._headers,
            json={"query": document, "variables": variables},
            idempotent=idempotent,
        )
        check(response, SYSTEM)
        answer = parse(graphql.GraphQLResponse, response, "Shopify GraphQL response")
        if answer.errors:
            error = _error(answer)
            raise self._client.throttled(error) if isinstance(error, RateLimited) else error
        if answer.data is None:
            raise DownstreamUnavailable("shopify answered without data", system=SYSTEM)
        try:
            return data.model_validate(answer.data)
        except ValidationError as error:
            raise as_validation_failed(error, "Shopify GraphQL data") from None


def outbound_client(connection: Connection, breaker: Breaker | None) -> OutboundClient:
    """Shopify's client: a ``THROTTLED`` answer (HTTP 200) does not tell the breaker the shop is up."""
    return OutboundClient(SYSTEM, connection, is_throttled=graphql.is_throttled, breaker=breaker)


def _order_gid(external_id: str) -> str:
    return f"gid://shopify/Order/{numeric_id(external_id, SYSTEM)}"


def _refused(errors: list[graphql.UserError]) -> ValidationFailed:
    """A mutation refused in a 200 (lines already fulfilled by hand, more than was paid): the same input fails again."""
    return ValidationFailed(errors[0].message, system=SYSTEM, field=".".join(errors[0].field or []) or None)


def _error(answer: graphql.GraphQLResponse) -> Exception:
    """The typed error for a top-level ``errors`` answer, in which nothing ran."""
    codes = {error.code for error in answer.errors}
    if "THROTTLED" in codes:
        return RateLimited("shopify throttled", retry_after_seconds=_throttle_wait(answer), system=SYSTEM)
    if codes & _ACCESS_CODES:
        return Unauthorized("shopify refused access", system=SYSTEM)
    if codes & _UNAVAILABLE_CODES:
        return DownstreamUnavailable("shopify failed", system=SYSTEM)
    # Anything else is our document or its variables being wrong: the same request would fail again.
    return ValidationFailed(answer.errors[0].message, system=SYSTEM, code=answer.errors[0].code)


def _throttle_wait(answer: graphql.GraphQLResponse) -> float | None:
    """Seconds until the bucket holds the requested cost: the deficit over the restore rate."""
    cost = answer.extensions.cost if answer.extensions else None
    if cost is None or cost.throttle_status is None or cost.requested_query_cost is None:
        return None
    bucket = cost.throttle_status
    if bucket.restore_rate <= 0:
        return None
    deficit = max(0.0, cost.requested_query_cost - bucket.currently_available)
    return deficit / bucket.restore_rate
