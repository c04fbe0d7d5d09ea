"""The Admin GraphQL documents Crossdock sends, and the part of each answer it reads.

Shopify answers GraphQL with HTTP 200 even when nothing ran: throttling and bad documents come back in
``errors``, refused mutations in ``userErrors``. Every answer is validated here before the client trusts it.
"""

from __future__ import annotations

from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict
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
