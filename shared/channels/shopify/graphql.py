"""The Admin GraphQL documents Crossdock sends, and the part of each answer it reads.

Shopify answers GraphQL with HTTP 200 even when nothing ran: throttling and bad documents come back in
``errors``, refused mutations in ``userErrors``. Every answer is validated here before the client trusts it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
from pydantic import AwareDatetime, BaseModel, ConfigDict, ValidationError
from pydantic.alias_generators import to_camel

ORDERS_UPDATED_SINCE = """
query OrdersUpdatedSince($first: Int!, $after: String, $query: String) {
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    edges { cursor node { id legacyResourceId updatedAt } }
    pageInfo { hasNextPage endCursor }
  }
}"""

ORDER_TAGS = "query OrderTags($id: ID!) { order(id: $id) { id tags } }"

# Both tag mutations answer under the alias ``result``, so one model reads either.
TAGS_ADD = """
mutation TagsAdd($id: ID!, $tags: [String!]!) {
  result: tagsAdd(id: $id, tags: $tags) { node { id } userErrors { field message } }
}"""

TAGS_REMOVE = """
mutation TagsRemove($id: ID!, $tags: [String!]!) {
  result: tagsRemove(id: $id, tags: $tags) { node { id } userErrors { field message } }
}"""

# Inventory items by SKU, each with its level at one location (null where the item is not stocked there).
INVENTORY_ITEMS_BY_SKU = """
query InventoryItemsBySku($first: Int!, $after: String, $query: String!, $locationId: ID!) {
  inventoryItems(first: $first, after: $after, query: $query) {
    nodes {
      id
      sku
      inventoryLevel(locationId: $locationId) { id quantities(names: ["available"]) { name quantity } }
    }
    pageInfo { hasNextPage endCursor }
  }
}"""

INVENTORY_SET_QUANTITIES = """
mutation InventorySetQuantities($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input) {
    inventoryAdjustmentGroup { id }
    userErrors { code field message }
  }
}"""


class _GraphQL(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, alias_generator=to_camel, populate_by_name=True)


class ThrottleStatus(_GraphQL):
    maximum_available: float
    currently_available: float
    restore_rate: float


class QueryCost(_GraphQL):
    requested_query_cost: float | None = None
    actual_query_cost: float | None = None
    throttle_status: ThrottleStatus | None = None


class Extensions(_GraphQL):
    cost: QueryCost | None = None


class GraphQLError(_GraphQL):
    message: str
    extensions: dict[str, Any] = {}

    @property
    def code(self) -> str | None:
        code = self.extensions.get("code")
        return code if isinstance(code, str) else None


class GraphQLResponse(_GraphQL):
    data: dict[str, Any] | None = None
    errors: list[GraphQLError] = []
    extensions: Extensions | None = None


def is_throttled(response: httpx.Response) -> bool:
    """A 429, or a 200 whose ``errors`` say ``THROTTLED`` (nothing ran): the shop is neither up nor down."""
    if response.status_code == 429:
        return True
    if response.status_code != 200 or b"THROTTLED" not in response.content:
        return False
    try:
        answer = GraphQLResponse.model_validate_json(response.content)
    except ValidationError:
        return False
    return any(error.code == "THROTTLED" for error in answer.errors)


class UserError(_GraphQL):
    field: list[str] | None = None
    message: str


class OrderNode(_GraphQL):
    id: str
    legacy_resource_id: str
    updated_at: AwareDatetime


class OrderEdge(_GraphQL):
    cursor: str
    node: OrderNode


class PageInfo(_GraphQL):
    has_next_page: bool
    end_cursor: str | None = None


class OrderConnection(_GraphQL):
    edges: list[OrderEdge]
    page_info: PageInfo


class OrdersData(_GraphQL):
    orders: OrderConnection


class OrderTags(_GraphQL):
    id: str
    tags: list[str]


class OrderTagsData(_GraphQL):
    order: OrderTags | None


class Node(_GraphQL):
    id: str


class TagsPayload(_GraphQL):
    node: Node | None = None
    user_errors: list[UserError]


class TagsData(_GraphQL):
    result: TagsPayload


class InventoryQuantity(_GraphQL):
    name: str
    quantity: int


class InventoryLevel(_GraphQL):
    id: str
    quantities: list[InventoryQuantity]

    def quantity(self, name: str) -> int | None:
        return next((q.quantity for q in self.quantities if q.name == name), None)


class InventoryItemNode(_GraphQL):
    id: str
    sku: str | None = None
    inventory_level: InventoryLevel | None = None


class InventoryItemConnection(_GraphQL):
    nodes: list[InventoryItemNode]
    page_info: PageInfo


class InventoryItemsData(_GraphQL):
    inventory_items: InventoryItemConnection


class CodedUserError(UserError):
    code: str | None = None


class InventorySetQuantitiesPayload(_GraphQL):
    inventory_adjustment_group: Node | None = None
    user_errors: list[CodedUserError]


class InventorySetQuantitiesData(_GraphQL):
    inventory_set_quantities: InventorySetQuantitiesPayload


# -- shipments and refunds ------------------------------------------------------------------------------------
# A query may request at most 1,000 points, and nested connections multiply (shopify.dev/docs/api/usage/
# limits#cost-calculation): 3 fulfillment orders of 100 lines, 20 fulfillments of 20 tracking numbers, about 750.
# Orders over 50 lines are held before they reach a warehouse, so 100 lines hold every order that ships; a
# fulfillment's first 20 numbers are enough to know it (``fulfillment.made_for``).
ORDER_FULFILLMENT = """
query OrderFulfillment($id: ID!) {
  order(id: $id) {
    id
    displayFulfillmentStatus
    fulfillments(first: 20) { id status createdAt trackingInfo(first: 20) { company number url } }
    fulfillmentOrders(first: 3) {
      nodes {
        id
        status
        lineItems(first: 100) { nodes { id remainingQuantity totalQuantity lineItem { id sku } } }
      }
    }
  }
}"""

FULFILLMENT_CREATE = """
mutation FulfillmentCreate($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) {
    fulfillment { id status createdAt trackingInfo(first: 20) { company number url } }
    userErrors { field message }
  }
}"""

ORDER_REFUNDS = """
query OrderRefunds($id: ID!) {
  order(id: $id) {
    id
    presentmentCurrencyCode
    refunds(first: 50) { id note createdAt totalRefundedSet { presentmentMoney { amount currencyCode } } }
    transactions(first: 50) { id kind status gateway amountSet { presentmentMoney { amount currencyCode } } }
    lineItems(first: 100) { nodes { id sku quantity refundableQuantity } }
  }
}"""

# From 2026-04 refundCreate must carry ``@idempotent`` (shopify.dev/changelog/making-idempotency-mandatory-for-
# inventory-adjustments-and-refund-mutations): a repeat with the same key answers the first refund.
REFUND_CREATE = """
mutation RefundCreate($input: RefundInput!, $key: String!) {
  refundCreate(input: $input) @idempotent(key: $key) {
    refund { id note createdAt totalRefundedSet { presentmentMoney { amount currencyCode } } }
    userErrors { field message }
  }
}"""


class TrackingInfo(_GraphQL):
    company: str | None = None
    number: str | None = None
    url: str | None = None


class Fulfillment(_GraphQL):
    id: str
    status: str
    tracking_info: list[TrackingInfo] = []

    @property
    def tracking_numbers(self) -> frozenset[str]:
        return frozenset(info.number for info in self.tracking_info if info.number)


class LineItemRef(_GraphQL):
    id: str
    sku: str | None = None


class FulfillmentOrderLineItem(_GraphQL):
    id: str
    remaining_quantity: int
    total_quantity: int
    line_item: LineItemRef


class FulfillmentOrderLineItems(_GraphQL):
    nodes: list[FulfillmentOrderLineItem]


class FulfillmentOrder(_GraphQL):
    id: str
    status: str
    line_items: FulfillmentOrderLineItems


class FulfillmentOrders(_GraphQL):
    nodes: list[FulfillmentOrder]


class OrderFulfillment(_GraphQL):
    id: str
    fulfillments: list[Fulfillment]
    fulfillment_orders: FulfillmentOrders


class OrderFulfillmentData(_GraphQL):
    order: OrderFulfillment | None


class FulfillmentCreatePayload(_GraphQL):
    fulfillment: Fulfillment | None = None
    user_errors: list[UserError]


class FulfillmentCreateData(_GraphQL):
    fulfillment_create: FulfillmentCreatePayload


class Money(_GraphQL):
    amount: Decimal
    currency_code: str


class MoneyBag(_GraphQL):
    presentment_money: Money


class Refund(_GraphQL):
    id: str
    note: str | None = None
    total_refunded_set: MoneyBag | None = None


class Transaction(_GraphQL):
    id: str
    kind: str
    status: str
    gateway: str | None = None
    amount_set: MoneyBag


class LineItem(_GraphQL):
    id: str
    sku: str | None = None
    quantity: int
    refundable_quantity: int


class LineItems(_GraphQL):
    nodes: list[LineItem]


class OrderRefunds(_GraphQL):
    id: str
    presentment_currency_code: str
    refunds: list[Refund]
    transactions: list[Transaction]
    line_items: LineItems


class OrderRefundsData(_GraphQL):
    order: OrderRefunds | None


class RefundCreatePayload(_GraphQL):
    refund: Refund | None = None
    user_errors: list[UserError]


class RefundCreateData(_GraphQL):
    refund_create: RefundCreatePayload
