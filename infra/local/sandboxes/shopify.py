"""The Shopify sandbox: the Admin GraphQL API Crossdock calls, and the signed order webhooks Shopify sends.

Admin GraphQL (``POST /admin/api/{version}/graphql.json``, header ``X-Shopify-Access-Token``). There is no GraphQL
parser: the sandbox finds the one root field of the document with a regex, reads flat arguments (literals or
``$variables``; input objects only through variables) and answers with a fixed selection per field. Arguments of
fields inside the selection (``inventoryLevel(locationId:)``, ``quantities(names:)``) are read the same way.

| root field | kind | requested cost | actual cost |
|---|---|---|---|
| ``orders(first, after, query, sortKey, reverse)`` | query | 2 + first | 2 + orders returned |
| ``order(id)`` | query | 1 | 1 |
| ``inventoryItem(id)`` | query | 13 (item + 10 levels) | 3 + levels returned |
| ``inventoryItems(first, after, query)`` | query | 2 + first | 2 + items returned |
| ``tagsAdd(id, tags)``, ``tagsRemove(id, tags)`` | mutation | 10 | 10 |
| ``orderCancel(orderId, reason, refund, restock)`` | mutation | 10 | 10 |
| ``fulfillmentCreate(fulfillment)`` | mutation | 10 | 10 |
| ``refundCreate(input) @idempotent(key)`` | mutation | 10 | 10 |
| ``inventorySetQuantities(input)`` | mutation | 10 + 1 per started 10 quantities | same |

REST Admin (legacy, still served): ``GET /admin/api/{version}/orders/{id}.json`` answers ``{"order": ...}``, the
stored order resource (the webhook payload). REST has its own leaky bucket of requests, not points: 40 requests,
2 restored per second (the standard plan), reported in ``X-Shopify-Shop-Api-Call-Limit``; an empty bucket
answers 429 with ``Retry-After``.

Costs come out of a leaky bucket as Shopify's do: the requested cost must be available or the call is throttled
(HTTP 200, ``THROTTLED``); the difference between requested and actual cost is refunded. The bucket refills at
``restore_rate`` points per second on the controlled clock, so a test drains it and ``clock.advance`` restores it.

Inventory: items are seeded with ``add_inventory_item(sku, ...)`` (or ``set_inventory(..., sku=)``) and stocked at
locations. ``inventoryItems`` searches them with ``sku:``/``id:`` terms joined by ``OR``/``AND`` (quoted values,
backslash escapes); ``inventoryLevel(locationId:)`` is null where the item is not stocked. Every ``available``
value set (seeding, ``inventorySetQuantities``, a storefront order) is appended to ``inventory_history``. With
``track_inventory`` (on by default), ``emit_order("orders/create", ...)`` takes each line's quantity off
``available`` at ``location_id``, as Shopify commits stock for an order of a tracked item (``on_hand`` moves
when it ships, which the sandbox does not model).

Orders, shipments and money: storing an order opens one fulfillment order with every line, and a paid order
(``financial_status`` ``paid``) gets a ``SALE`` transaction of its total (``mark_paid`` pays a net-terms order
later, as ``orderMarkAsPaid`` does, through the ``manual`` gateway). ``order`` answers, beside its own fields,
``displayFulfillmentStatus``, ``displayFinancialStatus``, ``fulfillmentOrders``, ``fulfillments``, ``refunds``,
``transactions`` and ``lineItems`` (with ``refundableQuantity``), whatever the selection asks. ``fulfillmentCreate``
takes remaining quantities off the fulfillment order lines; ``refundCreate`` checks its line items against what
is refundable and each transaction against what its parent sale has left, restocks only what is not
``NO_RESTOCK``, and from 2026-04 requires ``@idempotent(key:)`` (a repeated key answers the first refund; the
same key with other input is an error: the sandbox's wording, Shopify documents none). The state's
``fulfillment_log`` and ``refund_log`` list, per order id, what was made and when (``at``, the sandbox clock).

Call counts: the state's ``calls`` holds, beside the route counts, one count per root field requested
(throttled attempts included); ``throttled`` counts the ``THROTTLED`` answers per root field.

Webhooks: ``emit_order`` stores an order as the merchant's action would and queues its delivery; each attempt
gets a fresh ``X-Shopify-Webhook-Id`` and a signature made at send time. Mutations that change an order echo
``orders/updated`` (and ``orders/cancelled``) back to the targets, as Shopify does for an app's own changes.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import math
import operator
import re
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from http import HTTPStatus
from typing import Any

from infra.local.clock import Clock
from infra.local.sandboxes.base import Delivery, HttpError, Request, Response, Sandbox
from infra.samples import compact, shopify_delivery
from shared.signatures import hmac_sha256_b64

ORDER_TOPICS = frozenset({"orders/create", "orders/updated", "orders/cancelled"})
QUANTITY_NAMES = ("available", "on_hand")
INVENTORY_REASONS = frozenset(
    {
        "correction",
        "cycle_count_available",
        "damaged",
        "movement_canceled",
        "movement_created",
        "movement_received",
        "movement_updated",
        "other",
        "promotion",
        "quality_control",
        "received",
        "reservation_created",
        "reservation_deleted",
        "reservation_updated",
        "restock",
        "safety_stock",
        "shrinkage",
    }
)
CANCEL_REASONS = frozenset({"CUSTOMER", "DECLINED", "FRAUD", "INVENTORY", "OTHER", "STAFF"})
RESTOCK_TYPES = frozenset({"NO_RESTOCK", "CANCEL", "RETURN", "LEGACY_RESTOCK"})
PAID_KINDS = frozenset({"SALE", "CAPTURE"})
IDEMPOTENCY_REQUIRED_FROM = "2026-04"  # refundCreate without @idempotent fails at runtime from this version
ORDER_SORT_FIELDS: dict[str, str | None] = {
    "ID": None,
    "UPDATED_AT": "updated_at",
    "CREATED_AT": "created_at",
    "PROCESSED_AT": "processed_at",
}
SEARCHABLE_DATES = frozenset({"updated_at", "created_at", "processed_at"})

# A local stand-in's secret, known to the local stack and its tests; no real shop uses it.
SANDBOX_WEBHOOK_SECRET = "shpss_sandbox_webhook_secret"  # noqa: S105
MAX_INPUT_ARRAY = 250  # every input array, every mutation (shopify.dev/docs/api/usage/limits)
MAX_PAGE_SIZE = 250
MUTATION_COST = 10
DEFAULT_LOCATION_ID = 71_579_000_001  # the shop's one location, where storefront orders take stock from
INVENTORY_ITEM_COST = 13
REST_BUCKET_SIZE = 40  # shopify.dev/docs/api/admin-rest/usage/rate-limits: 2 requests/s on the standard plan
REST_RESTORE_RATE = 2.0
# The sample shop (events/shopify) is on US Eastern; REST timestamps carry the shop's offset.
SHOP_TIMEZONE = timezone(timedelta(hours=-5))
FULFILLABLE = frozenset({"OPEN", "IN_PROGRESS"})

INVALID_TOKEN = {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}
RATE_LIMITED = "Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service."
THROTTLED = {
    "message": "Throttled",
    "extensions": {"code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"},
}
_API_VERSION = re.compile(r"\d{4}-\d{2}|unstable")


# -- helpers: ids and timestamps ------------------------------------------------------------------------------
def gid(kind: str, number: int | str) -> str:
    return f"gid://shopify/{kind}/{number}"


def numeric_id(value: Any, kind: str) -> int | None:
    """The number inside ``gid://shopify/{kind}/N``; None for anything else."""
    match = re.fullmatch(rf"gid://shopify/{kind}/(\d+)", str(value))
    return int(match.group(1)) if match else None


def rest_time(epoch: float) -> str:
    """REST/webhook style: seconds, the shop's UTC offset (``2026-11-28T09:14:05-05:00``)."""
    return datetime.fromtimestamp(epoch, SHOP_TIMEZONE).isoformat(timespec="seconds")


def graphql_time(stamp: str | None) -> str | None:
    """GraphQL ``DateTime`` style: UTC with a ``Z`` (``2026-11-28T14:14:05Z``)."""
    if stamp is None:
        return None
    return parse_time(stamp).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(stamp: str) -> datetime:
    moment = datetime.fromisoformat(stamp)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def split_tags(tags: str | None) -> list[str]:
    return [tag.strip() for tag in (tags or "").split(",") if tag.strip()]


def user_error(path: Sequence[str], message: str, code: str | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"field": list(path), "message": message}
    if code is not None:
        error["code"] = code
    return error


# -- the GraphQL document: one root field, flat arguments -----------------------------------------------------
class GraphQLError(Exception):
    """A top-level ``errors`` entry: the request ran nothing (so its cost is refunded)."""

    def __init__(self, message: str, code: str, **extensions: str) -> None:
        super().__init__(message)
        self.body = {"message": message, "extensions": {"code": code, **extensions}}


@dataclass(frozen=True)
class RootField:
    operation: str  # "query" or "mutation"
    name: str
    key: str  # the alias if any: the key under "data"
    args: dict[str, Any]
    # Arguments of the fields inside the selection, by field name (the first occurrence of each).
    selection: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Directives on the root field (``@idempotent(key: $key)``), by name.
    directives: dict[str, dict[str, Any]] = field(default_factory=dict)


_OPERATION = re.compile(r"\s*(?:(query|mutation|subscription)\b[^{]*)?\{")
_SELECTION = re.compile(r"\s*(?:(\w+)\s*:\s*)?(\w+)")
_SCALAR = r'\$\w+|"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|\w+'
_ARGUMENT = re.compile(rf"\s*(\w+)\s*:\s*(\[\s*(?:(?:{_SCALAR})\s*,?\s*)*\]|{_SCALAR})\s*,?")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")
_COMMENT = re.compile(r"^\s*#.*$", re.MULTILINE)
_DIRECTIVE = re.compile(r"@(\w+)")


def parse_root_field(document: str, variables: dict[str, Any]) -> RootField:
    text = _COMMENT.sub("", document)
    operation = _OPERATION.match(text)
    if not operation:
        raise GraphQLError("syntax error: expected an operation with a selection set", "parseError")
    selection = _SELECTION.match(text, operation.end())
    if not selection:
        raise GraphQLError("syntax error: expected a field in the selection set", "parseError")
    alias, name = selection.group(1), selection.group(2)
    position, args = _skip_space(text, selection.end()), {}
    if text.startswith("(", position):
        end = _closing(text, position)
        args = parse_arguments(text[position + 1 : end - 1], variables)
        position = _skip_space(text, end)
    directives: dict[str, dict[str, Any]] = {}
    while directive := _DIRECTIVE.match(text, position):
        position, directive_args = _skip_space(text, directive.end()), {}
        if text.startswith("(", position):
            end = _closing(text, position)
            directive_args = parse_arguments(text[position + 1 : end - 1], variables)
            position = _skip_space(text, end)
        directives[directive.group(1)] = directive_args
    nested: dict[str, dict[str, Any]] = {}
    if text.startswith("{", position):
        end = _closing(text, position)
        nested = selection_arguments(text[position + 1 : end - 1], variables)
        position = _skip_space(text, end)
    if not text.startswith("}", position):
        # A real server would run every root field; answering only the first would hide the others' errors.
        raise GraphQLError("the Shopify sandbox answers one root field per request", "sandboxUnsupported")
    return RootField(operation.group(1) or "query", name, alias or name, args, nested, directives)


_FIELD_WITH_ARGUMENTS = re.compile(r"(\w+)\s*\(")


def selection_arguments(text: str, variables: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The arguments of every field in a selection set that has some, by field name."""
    found: dict[str, dict[str, Any]] = {}
    position = 0
    while match := _FIELD_WITH_ARGUMENTS.search(text, position):
        end = _closing(text, match.end() - 1)
        found.setdefault(match.group(1), parse_arguments(text[match.end() : end - 1], variables))
        position = end
    return found


def parse_arguments(text: str, variables: dict[str, Any]) -> dict[str, Any]:
    args: dict[str, Any] = {}
    position = 0
    while text[position:].strip():
        match = _ARGUMENT.match(text, position)
        if not match:
            raise GraphQLError("the Shopify sandbox reads input objects from variables only", "sandboxUnsupported")
        args[match.group(1)] = _literal(match.group(2), variables)
        position = match.end()
    return args


def _literal(token: str, variables: dict[str, Any]) -> Any:
    if token.startswith("["):
        return [_literal(item, variables) for item in re.findall(_SCALAR, token[1:-1])]
    if token.startswith("$"):
        return variables.get(token[1:])
    if token.startswith('"'):
        return json.loads(token)
    if token in ("true", "false", "null"):
        return json.loads(token)
    if _NUMBER.fullmatch(token):
        return json.loads(token)
    return token  # an enum value


def _skip_space(text: str, position: int) -> int:
    while position < len(text) and (text[position].isspace() or text[position] == ","):
        position += 1
    return position


def _closing(text: str, start: int) -> int:
    """Index just past the bracket that closes the one at ``start``, skipping string literals."""
    depth, in_string, position = 0, False, start
    while position < len(text):
        char = text[position]
        if in_string:
            if char == "\\":
                position += 1
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
            if depth == 0:
                return position + 1
        position += 1
    raise GraphQLError("syntax error: unexpected end of document", "parseError")


def oversized_array(value: Any) -> int | None:
    """Length of the first input array longer than Shopify's 250, anywhere in ``value``."""
    if isinstance(value, list):
        if len(value) > MAX_INPUT_ARRAY:
            return len(value)
        children: Iterable[Any] = value
    elif isinstance(value, dict):
        children = value.values()
    else:
        return None
    return next((size for size in map(oversized_array, children) if size is not None), None)


def require(args: dict[str, Any], field_name: str, *names: str) -> None:
    missing = [name for name in names if args.get(name) is None]
    if missing:
        message = f"Field '{field_name}' is missing required arguments: {', '.join(missing)}"
        raise GraphQLError(message, "missingRequiredArguments")


# -- the orders search syntax ---------------------------------------------------------------------------------
_SEARCH_TERM = re.compile(r"(\w+):(<=|>=|<|>)?('[^']*'|\"[^\"]*\"|\S+)")
_COMPARATORS: dict[str, Callable[[Any, Any], Any]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "": operator.eq,
}


@dataclass(frozen=True)
class DateFilter:
    field: str
    compare: Callable[[Any, Any], Any]
    value: datetime

    def matches(self, order: dict[str, Any]) -> bool:
        stamp = order.get(self.field)
        return stamp is not None and bool(self.compare(parse_time(stamp), self.value))


def parse_search(text: str | None) -> tuple[list[DateFilter], list[dict[str, str]]]:
    """Date terms of Shopify's search syntax, ANDed. Unknown terms are ignored with a warning, as Shopify does."""
    filters: list[DateFilter] = []
    warnings: list[dict[str, str]] = []
    for match in _SEARCH_TERM.finditer(text or ""):
        name, comparator, raw = match.group(1), match.group(2) or "", match.group(3).strip("'\"")
        if name not in SEARCHABLE_DATES:
            warnings.append({"field": name, "message": "Invalid search field for this query."})
            continue
        try:
            filters.append(DateFilter(name, _COMPARATORS[comparator], parse_time(raw)))
        except ValueError:
            warnings.append({"field": name, "message": f"Invalid date: {raw}"})
    return filters, warnings


# -- the inventory items search syntax ------------------------------------------------------------------------
_ITEM_TERM = re.compile(r"""\s*(?:(OR|AND)(?=\s|$)|(\w+):('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|[^\s'"()]+))""")
ITEM_SEARCH_FIELDS = frozenset({"sku", "id"})
SearchTerm = tuple[str, str]  # field, value


def parse_item_search(text: str | None) -> tuple[list[list[SearchTerm]], list[dict[str, str]]]:
    """Terms ANDed within clauses, clauses ORed (AND binds tighter, as in Shopify's grammar); no parentheses.

    Unknown fields are ignored with a warning, as Shopify does.
    """
    clauses: list[list[SearchTerm]] = [[]]
    warnings: list[dict[str, str]] = []
    text = (text or "").strip()
    position = 0
    while position < len(text):
        match = _ITEM_TERM.match(text, position)
        if not match:
            message = "the Shopify sandbox reads field:value terms joined by OR or AND, without parentheses"
            raise GraphQLError(message, "sandboxUnsupported")
        connective, name, raw = match.groups()
        if connective == "OR":
            clauses.append([])
        elif connective is None and name in ITEM_SEARCH_FIELDS:
            clauses[-1].append((name, unquote(raw)))
        elif connective is None:
            warnings.append({"field": name, "message": "Invalid search field for this query."})
        position = match.end()
    return [clause for clause in clauses if clause], warnings


def unquote(raw: str) -> str:
    if raw[:1] in ("'", '"'):
        return re.sub(r"\\(.)", r"\1", raw[1:-1])
    return raw


def encode_cursor(value: float, order_id: int) -> str:
    return base64.b64encode(json.dumps({"last_id": order_id, "last_value": value}).encode()).decode()


def decode_cursor(cursor: str) -> tuple[float, int]:
    try:
        position = json.loads(base64.b64decode(cursor, validate=True))
        return float(position["last_value"]), int(position["last_id"])
    except (binascii.Error, ValueError, KeyError, TypeError) as error:
        raise GraphQLError("Invalid cursor for current pagination sort.", "argumentLiteralsIncompatible") from error


Row = tuple[float, int, dict[str, Any]]  # sort value, order id, order


def sort_value(order: dict[str, Any], sort_key: str) -> float:
    field_name = ORDER_SORT_FIELDS[sort_key]
    if field_name is None:
        return float(order["id"])
    stamp = order.get(field_name)
    return parse_time(stamp).timestamp() if stamp else 0.0


def paginate(rows: list[Row], first: int, after: str | None, *, reverse: bool) -> tuple[list[Row], dict[str, Any]]:
    """Keyset pagination, as Shopify's cursors do it: the page after (sort value, id) of the cursor."""
    rows = sorted(rows, key=lambda row: (row[0], row[1]), reverse=reverse)
    if after:
        position = decode_cursor(after)
        beyond = operator.lt if reverse else operator.gt
        rows = [row for row in rows if beyond((row[0], row[1]), position)]
    return rows[:first], {"hasNextPage": len(rows) > first, "hasPreviousPage": bool(after)}


# -- cost-based throttling -----------------------------------------------------------------------------------
@dataclass
class CostBucket:
    """Shopify's leaky bucket: ``size`` points, refilled at ``restore_rate`` per second."""

    size: float
    restore_rate: float
    available: float
    updated_at: float

    def refill(self, now: float) -> None:
        elapsed = max(0.0, now - self.updated_at)
        self.available = min(self.size, self.available + elapsed * self.restore_rate)
        self.updated_at = now

    def take(self, cost: int, now: float) -> bool:
        self.refill(now)
        if cost > self.available:
            return False
        self.available -= cost
        return True

    def refund(self, points: int) -> None:
        self.available = min(self.size, self.available + points)

    def status(self) -> dict[str, Any]:
        return {
            "maximumAvailable": self.size,
            "currentlyAvailable": int(self.available),
            "restoreRate": self.restore_rate,
        }


@dataclass(frozen=True)
class Resolved:
    data: Any
    actual_cost: int
    extensions: dict[str, Any] = field(default_factory=dict)


Pick = tuple[dict[str, Any], dict[str, Any], int]  # a fulfillment order, one of its lines, the quantity to ship


@dataclass(frozen=True)
class FieldSpec:
    operation: str
    cost: Callable[[dict[str, Any]], int]
    resolve: Callable[[RootField], Resolved]


class ShopifySandbox(Sandbox):
    """State: ``orders`` (REST order JSON by id), ``fulfillment_orders``, ``fulfillments``, ``inventory``
    (``(inventory_item_id, location_id)`` → quantity per name), ``inventory_skus`` (item → SKU),
    ``inventory_history``, ``mutation_log``; plus the cost bucket."""

    name = "shopify"

    def __init__(
        self,
        clock: Clock | None = None,
        seed: int = 7,
        *,
        shop_domain: str = "acme-supply.myshopify.com",
        api_version: str = "2026-07",
        webhook_secret: str = SANDBOX_WEBHOOK_SECRET,
        bucket_size: float = 2000.0,
        restore_rate: float = 100.0,
        access_token: str | None = None,
        echo_webhooks: bool = True,
        location_id: int = DEFAULT_LOCATION_ID,
        track_inventory: bool = True,
    ) -> None:
        self.shop_domain = shop_domain
        self.api_version = api_version
        self.webhook_secret = webhook_secret
        self.bucket_size = bucket_size
        self.restore_rate = restore_rate
        self.access_token = access_token  # None: any non-empty token is accepted
        self.echo_webhooks = echo_webhooks
        self.location_id = location_id  # the location storefront orders take stock from
        self.track_inventory = track_inventory  # set to False to leave stock alone when orders come in
        super().__init__(clock, seed)
        self.fields = self._schema()
        self.route("POST", "/admin/api/{version}/graphql.json", self.graphql, name="graphql")
        self.route("GET", "/admin/api/{version}/orders/{order_id}.json", self.rest_order, name="rest order")

    def _schema(self) -> dict[str, FieldSpec]:
        def fixed(cost: int) -> Callable[[dict[str, Any]], int]:
            return lambda _args: cost

        def flat(resolve: Callable[[dict[str, Any]], Resolved]) -> Callable[[RootField], Resolved]:
            return lambda root: resolve(root.args)  # a field whose answer needs only its own arguments

        return {
            "orders": FieldSpec("query", self._orders_cost, flat(self._orders)),
            "order": FieldSpec("query", fixed(1), flat(self._order_query)),
            "inventoryItem": FieldSpec("query", fixed(INVENTORY_ITEM_COST), flat(self._inventory_item)),
            "inventoryItems": FieldSpec("query", self._orders_cost, self._inventory_items),
            "tagsAdd": FieldSpec("mutation", fixed(MUTATION_COST), flat(self._tags_add)),
            "tagsRemove": FieldSpec("mutation", fixed(MUTATION_COST), flat(self._tags_remove)),
            "orderCancel": FieldSpec("mutation", fixed(MUTATION_COST), flat(self._order_cancel)),
            "fulfillmentCreate": FieldSpec("mutation", fixed(MUTATION_COST), flat(self._fulfillment_create)),
            "refundCreate": FieldSpec("mutation", fixed(MUTATION_COST), self._refund_create),
            "inventorySetQuantities": FieldSpec("mutation", self._inventory_cost, flat(self._inventory_set_quantities)),
        }

    # -- state ------------------------------------------------------------------------------------------------
    def connection(self) -> dict[str, Any]:
        settings = {
            "shop_domain": self.shop_domain,
            "api_version": self.api_version,
            "inventory_location_id": str(self.location_id),
        }
        return {
            "base_url": self.url,
            "credentials": {"access_token": self.access_token or "shpat_local"},
            "settings": settings,
        }

    def reset_state(self) -> None:
        self.orders: dict[int, dict[str, Any]] = {}
        self.fulfillment_orders: dict[int, dict[str, Any]] = {}
        self.fulfillments: dict[int, dict[str, Any]] = {}
        self.transactions: dict[int, dict[str, Any]] = {}
        self.refunds: dict[int, dict[str, Any]] = {}
        self.idempotency_keys: dict[str, tuple[str, dict[str, Any]]] = {}  # key -> (input, first answer)
        self.inventory: dict[tuple[int, int], dict[str, int]] = {}
        self.inventory_skus: dict[int, str] = {}
        self.inventory_history: list[dict[str, Any]] = []
        self.mutation_log: list[dict[str, Any]] = []
        self.mutation_counts: Counter[str] = Counter()
        self.field_calls: Counter[str] = Counter()
        self.throttled_calls: Counter[str] = Counter()
        self._stock_taken: set[int] = set()  # orders whose stock is already committed
        self.bucket = CostBucket(self.bucket_size, self.restore_rate, self.bucket_size, self.clock.now())
        self.rest_bucket = CostBucket(REST_BUCKET_SIZE, REST_RESTORE_RATE, REST_BUCKET_SIZE, self.clock.now())
        self._last_id = 5_100_000_000_000  # ids the sandbox mints: fulfillment orders, fulfillments, groups

    def snapshot(self) -> dict[str, Any]:
        self.bucket.refill(self.clock.now())
        return {
            "orders": {str(order_id): self._order_summary(order) for order_id, order in self.orders.items()},
            "fulfillment_orders": list(self.fulfillment_orders.values()),
            "fulfillments": list(self.fulfillments.values()),
            "transactions": list(self.transactions.values()),
            "refunds": list(self.refunds.values()),
            "fulfillment_log": self._log_by_order(self.fulfillments.values(), ("tracking_numbers", "line_items")),
            "refund_log": self._log_by_order(self.refunds.values(), ("amount", "currency", "note", "line_items")),
            "inventory": [
                {"inventory_item_id": item, "location_id": location, **quantities}
                for (item, location), quantities in self.inventory.items()
            ],
            "inventory_history": self.inventory_history,
            "calls": {**self.calls, **self.field_calls},
            "throttled": dict(self.throttled_calls),
            "mutations": dict(self.mutation_counts),
            "mutation_log": self.mutation_log,
            "throttle_status": self.bucket.status(),
            "webhooks": self._webhook_summary(),
        }

    def _order_summary(self, order: dict[str, Any]) -> dict[str, Any]:
        keys = ("id", "name", "updated_at", "cancelled_at", "financial_status", "fulfillment_status")
        return {
            **{key: order.get(key) for key in keys},
            "tags": split_tags(order.get("tags")),
            "display_fulfillment_status": self._display_fulfillment_status(order["id"]),
        }

    @staticmethod
    def _log_by_order(records: Iterable[dict[str, Any]], keys: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        """What was made on each order and when: ``{order id: [{id, at, ...}]}`` in the order it was made."""
        log: dict[str, list[dict[str, Any]]] = {}
        for record in sorted(records, key=lambda r: (r["at"], r["id"])):
            entry = {"id": gid(record["kind"], record["id"]), "at": record["at"], **{k: record[k] for k in keys}}
            log.setdefault(str(record["order_id"]), []).append(entry)
        return log

    def _webhook_summary(self) -> dict[str, Any]:
        deliveries = [
            {
                "topic": d.headers.get("X-Shopify-Topic"),
                "event_id": d.headers.get("X-Shopify-Event-Id"),
                "order_id": d.headers.get("X-Shopify-Order-Id"),
                "due_at": d.due_at,
                "status": d.status,
                "delivered_at": d.delivered_at,
            }
            for d in self.outbox
        ]
        sent = [d for d in deliveries if d["delivered_at"] is not None]
        return {
            "sent": len(sent),
            "pending": len(deliveries) - len(sent),
            "statuses": [d["status"] for d in sent],
            "deliveries": deliveries,
        }

    def _new_id(self) -> int:
        self._last_id += 1
        return self._last_id

    def set_inventory(
        self,
        inventory_item_id: int,
        location_id: int,
        *,
        available: int,
        on_hand: int | None = None,
        sku: str | None = None,
    ) -> None:
        """Stock an item at a location (Shopify refuses to set quantities for an item not stocked there)."""
        with self.lock:
            if sku is not None:
                self.inventory_skus[inventory_item_id] = sku
            level = {"available": available, "on_hand": available if on_hand is None else on_hand}
            self.inventory[(inventory_item_id, location_id)] = level
            self._record_available(inventory_item_id, location_id, "seed")

    def add_inventory_item(
        self, sku: str, *, available: int = 0, location_id: int | None = None, on_hand: int | None = None
    ) -> int:
        """A tracked item with ``sku`` stocked at ``location_id`` (default: the sandbox's); returns its id."""
        with self.lock:
            item_id = self._new_id()
            self.set_inventory(item_id, location_id or self.location_id, available=available, on_hand=on_hand, sku=sku)
        return item_id

    def inventory_item_id(self, sku: str) -> int | None:
        """The first item with ``sku``, as a scenario needs it to read ``inventory``."""
        with self.lock:
            return next((item for item, each in self.inventory_skus.items() if each == sku), None)

    def available(self, sku: str, location_id: int | None = None) -> int | None:
        """What ``sku`` shows as available at ``location_id`` (default: the sandbox's); None if not stocked."""
        location_id = location_id or self.location_id
        with self.lock:
            item_id = self._stocked_item(sku, location_id)
            return None if item_id is None else self.inventory[(item_id, location_id)]["available"]

    def _stocked_item(self, sku: str, location_id: int) -> int | None:
        """The first item with ``sku`` stocked at ``location_id``."""
        items = (item for item, each in self.inventory_skus.items() if each == sku)
        return next((item for item in items if (item, location_id) in self.inventory), None)

    def _record_available(self, item_id: int, location_id: int, reference: str | None) -> None:
        self.inventory_history.append(
            {
                "sku": self.inventory_skus.get(item_id),
                "location_id": location_id,
                "quantity": self.inventory[(item_id, location_id)]["available"],
                "at": self.clock.now(),
                "reference": reference,
            }
        )

    def _take_stock(self, order: dict[str, Any]) -> None:
        """Commit a new order's stock at the sandbox's location, once per order (a tracked item's ``available``
        drops when the order is placed and may go below zero if the item sells when out of stock)."""
        if order["id"] in self._stock_taken:
            return
        self._stock_taken.add(order["id"])
        for line in order.get("line_items", []):
            item_id = self._stocked_item(line["sku"], self.location_id) if line.get("sku") else None
            if item_id is None:
                continue  # an untracked or unstocked item: Shopify keeps no count to move
            self.inventory[(item_id, self.location_id)]["available"] -= int(line.get("quantity", 0))
            self._record_available(item_id, self.location_id, gid("Order", order["id"]))

    def drain_bucket(self, points_left: float = 0.0) -> None:
        """Spend the cost bucket down, as a burst from another function of the same app would."""
        with self.lock:
            self.bucket.refill(self.clock.now())
            self.bucket.available = min(self.bucket.available, points_left)

    # -- webhooks ---------------------------------------------------------------------------------------------
    def emit_order(
        self,
        topic: str,
        payload: dict[str, Any],
        *,
        delays: Sequence[float] = (0.0,),
        event_id: str | None = None,
        delivered: bool = True,
    ) -> str:
        """The merchant acted on an order: store ``payload`` (REST order JSON) and queue its webhook.

        ``delays`` as in ``send_webhook`` (``(0, 0)`` is a duplicate, ``(0, 3600)`` a retry an hour late);
        ``delivered=False`` loses the webhook, leaving the order for reconciliation to find. Returns the event id.
        """
        if topic not in ORDER_TOPICS:
            raise ValueError(f"unsupported topic {topic!r}; expected one of {sorted(ORDER_TOPICS)}")
        event_id = event_id or str(uuid.uuid4())
        with self.lock:
            order = self._store_order(payload)
            if topic == "orders/create" and self.track_inventory:
                self._take_stock(order)
            if delivered:
                self._queue_delivery(topic, order, delays, event_id)
        return event_id

    def _queue_delivery(self, topic: str, order: dict[str, Any], delays: Sequence[float], event_id: str) -> None:
        body = compact(order)
        headers = shopify_delivery(
            body, secret=self.webhook_secret, topic=topic, shop=self.shop_domain, event_id=event_id
        )
        triggered_at = datetime.fromtimestamp(self.clock.now(), UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        headers.update(
            {
                "X-Shopify-API-Version": self.api_version,
                "X-Shopify-Triggered-At": triggered_at,
                "X-Shopify-Order-Id": str(order["id"]),
            }
        )
        self.send_webhook(headers, body, delays=delays, label=topic)

    def delivery_headers(self, delivery: Delivery) -> dict[str, str]:
        """Per attempt: a new webhook id (the event id stays) and a signature made with the secret of the moment."""
        headers = dict(delivery.headers)
        headers["X-Shopify-Webhook-Id"] = str(uuid.uuid4())
        headers["X-Shopify-Hmac-Sha256"] = hmac_sha256_b64(self.webhook_secret.encode(), delivery.body)
        return headers

    def _echo(self, order: dict[str, Any], *topics: str) -> None:
        """Shopify tells subscribers about an app's own changes too; one action shares one event id."""
        if self.echo_webhooks:
            event_id = str(uuid.uuid4())
            for topic in topics:
                self._queue_delivery(topic, order, (0.0,), event_id)

    # -- errors in Shopify's words ----------------------------------------------------------------------------
    def fault_response(self, status: int) -> Response:
        if status == 429:
            return Response(429, {"errors": RATE_LIMITED})
        return Response(status, {"errors": HTTPStatus(status).phrase})

    def concurrency_response(self) -> Response:
        response = self.fault_response(429)
        response.headers["Retry-After"] = "2.0"
        return response

    # -- the GraphQL endpoint ---------------------------------------------------------------------------------
    def _authenticate(self, request: Request) -> str:
        """The token and the API version, as every Admin API route checks them; returns the version."""
        token = request.headers.get("x-shopify-access-token")
        if not token or (self.access_token is not None and token != self.access_token):
            raise HttpError(401, INVALID_TOKEN)
        version = request.params["version"]
        if not _API_VERSION.fullmatch(version):
            raise HttpError(404, {"errors": "Not Found"})
        return version

    def graphql(self, request: Request) -> Response:
        version = self._authenticate(request)
        query, variables = self._read_body(request)
        with self.lock:
            body = self.execute(query, variables)
        return Response(200, body, {"X-Shopify-API-Version": version})

    # -- REST Admin (legacy) ----------------------------------------------------------------------------------
    def rest_order(self, request: Request) -> Response:
        version = self._authenticate(request)
        with self.lock:
            allowed = self.rest_bucket.take(1, self.clock.now())
            used = REST_BUCKET_SIZE - int(self.rest_bucket.available)
            headers = {"X-Shopify-API-Version": version, "X-Shopify-Shop-Api-Call-Limit": f"{used}/{REST_BUCKET_SIZE}"}
            if not allowed:
                raise HttpError(429, {"errors": RATE_LIMITED}, {**headers, "Retry-After": "2.0"})
            order_id = request.params["order_id"]
            order = self.orders.get(int(order_id)) if order_id.isdigit() else None
            if order is None:
                raise HttpError(404, {"errors": "Not Found"}, headers)
            return Response(200, {"order": copy.deepcopy(order)}, headers)

    @staticmethod
    def _read_body(request: Request) -> tuple[str, dict[str, Any]]:
        missing = HttpError(400, {"errors": {"query": "Required parameter missing or invalid"}})
        if request.headers.get("content-type", "").startswith("application/graphql"):
            return request.body.decode(), {}
        try:
            body = request.json()
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise missing from error
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            raise missing
        variables = body.get("variables") or {}
        if not isinstance(variables, dict):
            raise missing
        return body["query"], variables

    def execute(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        """Run one document: validate, charge the bucket, resolve, refund the unused points."""
        now = self.clock.now()
        try:
            root, spec = self._validate(query, variables)
            self.field_calls[root.name] += 1
            requested = spec.cost(root.args)
        except GraphQLError as error:
            return {"errors": [error.body], "extensions": {"cost": self._cost(0, 0, now)}}
        if not self.bucket.take(requested, now):
            self.throttled_calls[root.name] += 1
            return {"errors": [THROTTLED], "extensions": {"cost": self._cost(requested, None, now)}}
        try:
            resolved = spec.resolve(root)
        except GraphQLError as error:
            self.bucket.refund(requested)
            return {"errors": [error.body], "extensions": {"cost": self._cost(requested, 0, now)}}
        self.bucket.refund(requested - resolved.actual_cost)
        if spec.operation == "mutation":
            self._log_mutation(root, resolved.data, now)
        extensions = {"cost": self._cost(requested, resolved.actual_cost, now), **resolved.extensions}
        return {"data": {root.key: resolved.data}, "extensions": extensions}

    def _validate(self, query: str, variables: dict[str, Any]) -> tuple[RootField, FieldSpec]:
        root = parse_root_field(query, variables)
        spec = self.fields.get(root.name)
        if spec is None or spec.operation != root.operation:
            type_name = "Mutation" if root.operation == "mutation" else "QueryRoot"
            message = f"Field '{root.name}' doesn't exist on type '{type_name}'"
            raise GraphQLError(message, "undefinedField", typeName=type_name, fieldName=root.name)
        size = oversized_array(root.args)
        if size is not None:
            message = f"The input array size of {size} is greater than the maximum allowed of {MAX_INPUT_ARRAY}."
            raise GraphQLError(message, "MAX_INPUT_SIZE_EXCEEDED")
        return root, spec

    def _cost(self, requested: int, actual: int | None, now: float) -> dict[str, Any]:
        self.bucket.refill(now)
        return {"requestedQueryCost": requested, "actualQueryCost": actual, "throttleStatus": self.bucket.status()}

    def _log_mutation(self, root: RootField, data: dict[str, Any], now: float) -> None:
        errors = [error for key, value in data.items() if key.endswith(("userErrors", "UserErrors")) for error in value]
        self.mutation_counts[root.name] += 1
        self.mutation_log.append({"at": now, "mutation": root.name, "args": root.args, "user_errors": errors})

    # -- orders -----------------------------------------------------------------------------------------------
    def _store_order(self, payload: dict[str, Any]) -> dict[str, Any]:
        order = copy.deepcopy(payload)
        order_id = int(order["id"])
        self.orders[order_id] = order
        if not self._fulfillment_orders_of(order_id):
            self._open_fulfillment_order(order)
        if order.get("financial_status") == "paid" and not self._transactions_of(order_id):
            self._add_transaction(order, "SALE", money(order.get("total_price")), _gateway(order))
        if order.get("cancelled_at"):
            self._close_fulfillment_orders(order_id)
        return order

    def _find_order(self, order_gid: Any) -> dict[str, Any] | None:
        order_id = numeric_id(order_gid, "Order")
        return self.orders.get(order_id) if order_id is not None else None

    def _touch(self, order: dict[str, Any]) -> None:
        order["updated_at"] = rest_time(self.clock.now())

    @staticmethod
    def _order_node(order: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": gid("Order", order["id"]),
            "legacyResourceId": str(order["id"]),
            "name": order.get("name"),
            "createdAt": graphql_time(order.get("created_at")),
            "updatedAt": graphql_time(order.get("updated_at")),
            "cancelledAt": graphql_time(order.get("cancelled_at")),
            "tags": split_tags(order.get("tags")),
        }

    def _orders_cost(self, args: dict[str, Any]) -> int:
        return 2 + self._page_size(args)

    @staticmethod
    def _page_size(args: dict[str, Any]) -> int:
        first = args.get("first")
        if not isinstance(first, int) or isinstance(first, bool):
            raise GraphQLError("you must provide one of first or last", "argumentLiteralsIncompatible")
        if not 0 < first <= MAX_PAGE_SIZE:
            raise GraphQLError(f"first must be between 1 and {MAX_PAGE_SIZE}", "argumentLiteralsIncompatible")
        return first

    def _orders(self, args: dict[str, Any]) -> Resolved:
        first = self._page_size(args)
        sort_key = args.get("sortKey") or "ID"
        if sort_key not in ORDER_SORT_FIELDS:
            raise GraphQLError(f"Argument 'sortKey' has an invalid value ({sort_key}).", "argumentLiteralsIncompatible")
        filters, warnings = parse_search(args.get("query"))
        rows = [
            (sort_value(order, sort_key), order["id"], order)
            for order in self.orders.values()
            if all(f.matches(order) for f in filters)
        ]
        page, page_info = paginate(rows, first, args.get("after"), reverse=bool(args.get("reverse")))
        edges = [{"cursor": encode_cursor(value, oid), "node": self._order_node(order)} for value, oid, order in page]
        page_info.update(
            startCursor=edges[0]["cursor"] if edges else None, endCursor=edges[-1]["cursor"] if edges else None
        )
        extensions: dict[str, Any] = {}
        if warnings:
            extensions["search"] = [{"path": ["orders"], "query": args.get("query"), "warnings": warnings}]
        return Resolved({"edges": edges, "pageInfo": page_info}, 2 + len(edges), extensions)

    def _order_query(self, args: dict[str, Any]) -> Resolved:
        require(args, "order", "id")
        order = self._find_order(args["id"])
        if order is None:
            return Resolved(None, 1)
        order_id = order["id"]
        fulfillment_orders = [self._fulfillment_order_node(fo) for fo in self._fulfillment_orders_of(order_id)]
        currency = order.get("currency")
        node = {
            **self._order_node(order),
            "currencyCode": currency,
            "presentmentCurrencyCode": order.get("presentment_currency", currency),
            "displayFulfillmentStatus": self._display_fulfillment_status(order_id),
            "displayFinancialStatus": str(order.get("financial_status") or "pending").upper(),
            "fulfillmentOrders": {"nodes": fulfillment_orders},
            "fulfillments": [fulfillment_node(f) for f in self.fulfillments.values() if f["order_id"] == order_id],
            "refunds": [self._refund_node(r) for r in self.refunds.values() if r["order_id"] == order_id],
            "transactions": [self._transaction_node(t) for t in self._transactions_of(order_id)],
            "lineItems": {"nodes": [self._line_item_node(order, item) for item in order.get("line_items", [])]},
        }
        return Resolved(node, 1)

    def _display_fulfillment_status(self, order_id: int) -> str:
        lines = [line for fo in self._fulfillment_orders_of(order_id) for line in fo["line_items"]]
        if lines and all(line["remaining"] == 0 for line in lines):
            return "FULFILLED"
        if any(line["remaining"] < line["total"] for line in lines):
            return "PARTIALLY_FULFILLED"
        return "UNFULFILLED"

    def _line_item_node(self, order: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
        quantity = int(item.get("quantity", 0))
        return {
            "id": gid("LineItem", item["id"]),
            "sku": item.get("sku"),
            "quantity": quantity,
            "refundableQuantity": quantity - self._refunded_quantity(order["id"], item["id"]),
        }

    # -- tags -------------------------------------------------------------------------------------------------
    def _tags_add(self, args: dict[str, Any]) -> Resolved:
        return self._change_tags(args, "tagsAdd", adding=True)

    def _tags_remove(self, args: dict[str, Any]) -> Resolved:
        return self._change_tags(args, "tagsRemove", adding=False)

    def _change_tags(self, args: dict[str, Any], field_name: str, *, adding: bool) -> Resolved:
        require(args, field_name, "id", "tags")
        order = self._find_order(args["id"])
        if order is None:
            return Resolved({"node": None, "userErrors": [user_error(["id"], "Order does not exist")]}, MUTATION_COST)
        given = args["tags"] if isinstance(args["tags"], list) else [args["tags"]]
        wanted = {tag.casefold(): tag for value in given for tag in split_tags(str(value))}
        current = {tag.casefold(): tag for tag in split_tags(order.get("tags"))}
        changed = {**current, **wanted} if adding else {k: v for k, v in current.items() if k not in wanted}
        if changed.keys() != current.keys():
            order["tags"] = ", ".join(sorted(changed.values(), key=str.casefold))
            self._touch(order)
            self._echo(order, "orders/updated")
        return Resolved({"node": {"id": gid("Order", order["id"])}, "userErrors": []}, MUTATION_COST)

    # -- cancel -----------------------------------------------------------------------------------------------
    def _order_cancel(self, args: dict[str, Any]) -> Resolved:
        require(args, "orderCancel", "orderId", "reason", "restock")
        if args["reason"] not in CANCEL_REASONS:
            message = f"Argument 'reason' on Field 'orderCancel' has an invalid value ({args['reason']})."
            raise GraphQLError(message, "argumentLiteralsIncompatible")
        order = self._find_order(args["orderId"])
        errors = self._cancel_errors(order)
        if order is None or errors:
            plain = [{"field": e["field"], "message": e["message"]} for e in errors]
            return Resolved({"job": None, "orderCancelUserErrors": errors, "userErrors": plain}, MUTATION_COST)
        self._cancel(order, args["reason"], refund=bool(args.get("refund")))
        # Real Shopify cancels in a background job; the sandbox has already done it when it answers.
        job = {"id": gid("Job", str(uuid.uuid4())), "done": True}
        return Resolved({"job": job, "orderCancelUserErrors": [], "userErrors": []}, MUTATION_COST)

    @staticmethod
    def _cancel_errors(order: dict[str, Any] | None) -> list[dict[str, Any]]:
        if order is None:
            return [user_error(["orderId"], "Order does not exist", "NOT_FOUND")]
        if order.get("cancelled_at"):
            return [user_error(["orderId"], "Order has already been cancelled", "INVALID")]
        return []

    def _cancel(self, order: dict[str, Any], reason: str, *, refund: bool) -> None:
        now = rest_time(self.clock.now())
        order.update({"cancelled_at": now, "closed_at": now, "cancel_reason": reason.lower(), "updated_at": now})
        if order.get("financial_status") in ("pending", "authorized"):
            order["financial_status"] = "voided"
        elif refund:
            order["financial_status"] = "refunded"
        self._close_fulfillment_orders(order["id"])
        self._echo(order, "orders/cancelled", "orders/updated")

    # -- fulfillment ------------------------------------------------------------------------------------------
    def _open_fulfillment_order(self, order: dict[str, Any]) -> None:
        """One fulfillment order per order, holding every line item still to ship."""
        lines = [
            {
                "id": self._new_id(),
                "line_item_id": item["id"],
                "sku": item.get("sku"),
                "total": int(item.get("fulfillable_quantity", item.get("quantity", 0))),
                "remaining": int(item.get("fulfillable_quantity", item.get("quantity", 0))),
            }
            for item in order.get("line_items", [])
        ]
        fo_id = self._new_id()
        self.fulfillment_orders[fo_id] = {"id": fo_id, "order_id": order["id"], "status": "OPEN", "line_items": lines}

    def _fulfillment_orders_of(self, order_id: int) -> list[dict[str, Any]]:
        return [fo for fo in self.fulfillment_orders.values() if fo["order_id"] == order_id]

    def _close_fulfillment_orders(self, order_id: int) -> None:
        for fo in self._fulfillment_orders_of(order_id):
            if fo["status"] in FULFILLABLE:
                fo["status"] = "CLOSED"

    @staticmethod
    def _fulfillment_order_node(fo: dict[str, Any]) -> dict[str, Any]:
        lines = [
            {
                "id": gid("FulfillmentOrderLineItem", line["id"]),
                "sku": line["sku"],
                "totalQuantity": line["total"],
                "remainingQuantity": line["remaining"],
                "lineItem": {"id": gid("LineItem", line["line_item_id"]), "sku": line["sku"]},
            }
            for line in fo["line_items"]
        ]
        return {"id": gid("FulfillmentOrder", fo["id"]), "status": fo["status"], "lineItems": {"nodes": lines}}

    def fulfillment_order_id(self, order_id: int) -> str:
        """The gid of an order's fulfillment order, what ``fulfillmentCreate`` needs (also on ``order``)."""
        with self.lock:
            return gid("FulfillmentOrder", self._fulfillment_orders_of(order_id)[0]["id"])

    def _fulfillment_create(self, args: dict[str, Any]) -> Resolved:
        require(args, "fulfillmentCreate", "fulfillment")
        spec = args["fulfillment"]
        picks, errors = self._fulfillment_picks(spec.get("lineItemsByFulfillmentOrder") or [])
        if errors:
            return Resolved({"fulfillment": None, "userErrors": errors}, MUTATION_COST)
        fulfillment = self._record_fulfillment(picks, spec)
        return Resolved({"fulfillment": fulfillment_node(fulfillment), "userErrors": []}, MUTATION_COST)

    def _fulfillment_picks(self, groups: list[dict[str, Any]]) -> tuple[list[Pick], list[dict[str, Any]]]:
        picks: list[Pick] = []
        errors: list[dict[str, Any]] = []
        for index, group in enumerate(groups):
            path = ["fulfillment", "lineItemsByFulfillmentOrder", str(index)]
            group_picks, group_errors = self._group_picks(group, path)
            picks += group_picks
            errors += group_errors
        if not errors and len({fo["order_id"] for fo, _, _ in picks}) > 1:
            errors.append(user_error(["fulfillment"], "All fulfillment orders must belong to the same order."))
        if not errors and not picks:
            errors.append(user_error(["fulfillment"], "Fulfillment must contain at least one line item."))
        return picks, errors

    def _group_picks(self, group: dict[str, Any], path: list[str]) -> tuple[list[Pick], list[dict[str, Any]]]:
        fo_id = numeric_id(group.get("fulfillmentOrderId"), "FulfillmentOrder")
        fo = self.fulfillment_orders.get(fo_id) if fo_id is not None else None
        if fo is None:
            return [], [user_error([*path, "fulfillmentOrderId"], "Fulfillment order does not exist.")]
        if fo["status"] not in FULFILLABLE:
            message = f"Fulfillment order {fo['id']} has an unfulfillable status= {fo['status'].lower()}."
            return [], [user_error([*path, "fulfillmentOrderId"], message)]
        requested = group.get("fulfillmentOrderLineItems")
        if not requested:  # none listed: everything still to ship on this fulfillment order
            return [(fo, line, line["remaining"]) for line in fo["line_items"] if line["remaining"] > 0], []
        lines = {gid("FulfillmentOrderLineItem", line["id"]): line for line in fo["line_items"]}
        picks, errors = [], []
        for index, item in enumerate(requested):
            line, quantity = lines.get(item.get("id")), item.get("quantity")
            if line is None or not isinstance(quantity, int) or not 0 < quantity <= line["remaining"]:
                message = "Invalid fulfillment order line item quantity requested."
                errors.append(user_error([*path, "fulfillmentOrderLineItems", str(index)], message))
            else:
                picks.append((fo, line, quantity))
        return picks, errors

    def _record_fulfillment(self, picks: list[Pick], spec: dict[str, Any]) -> dict[str, Any]:
        order = self.orders[picks[0][0]["order_id"]]
        for _fo, line, quantity in picks:
            line["remaining"] -= quantity
            self._ship_line_item(order, line["line_item_id"], quantity)
        for fo in {fo["id"]: fo for fo, _, _ in picks}.values():
            fo["status"] = "CLOSED" if all(line["remaining"] == 0 for line in fo["line_items"]) else "IN_PROGRESS"
        open_lines = [line for fo in self._fulfillment_orders_of(order["id"]) for line in fo["line_items"]]
        order["fulfillment_status"] = "fulfilled" if all(line["remaining"] == 0 for line in open_lines) else "partial"
        info = tracking_info(spec.get("trackingInfo") or {})
        fulfillment = {
            "id": self._new_id(),
            "kind": "Fulfillment",
            "order_id": order["id"],
            "status": "SUCCESS",
            "created_at": rest_time(self.clock.now()),
            "at": self.clock.now(),
            "tracking_info": info,
            "tracking_numbers": [t["number"] for t in info],
            "notify_customer": bool(spec.get("notifyCustomer")),
            "line_items": [
                {"line_item_id": line["line_item_id"], "sku": line["sku"], "quantity": q} for _, line, q in picks
            ],
        }
        self.fulfillments[fulfillment["id"]] = fulfillment
        order.setdefault("fulfillments", []).append(rest_fulfillment(fulfillment))
        self._touch(order)
        self._echo(order, "orders/updated")
        return fulfillment

    @staticmethod
    def _ship_line_item(order: dict[str, Any], line_item_id: int, quantity: int) -> None:
        for item in order.get("line_items", []):
            if item["id"] == line_item_id:
                item["fulfillable_quantity"] = max(0, int(item.get("fulfillable_quantity", 0)) - quantity)
                item["fulfillment_status"] = "fulfilled" if item["fulfillable_quantity"] == 0 else "partial"

    # -- money ------------------------------------------------------------------------------------------------
    def mark_paid(self, order_id: int, *, gateway: str = "manual") -> None:
        """The buyer paid what the order still owes (a net-terms invoice), as ``orderMarkAsPaid`` records it."""
        with self.lock:
            order = self.orders[order_id]
            owed = money(order.get("total_price")) - self._paid(order_id)
            if owed > 0:
                self._add_transaction(order, "SALE", owed, gateway)
            order["financial_status"] = "paid"
            self._touch(order)

    def _transactions_of(self, order_id: int) -> list[dict[str, Any]]:
        return [t for t in self.transactions.values() if t["order_id"] == order_id]

    def _paid(self, order_id: int) -> Decimal:
        paid = [t for t in self._transactions_of(order_id) if t["kind"] in PAID_KINDS and t["status"] == "SUCCESS"]
        return sum((t["amount"] for t in paid), Decimal(0))

    def _add_transaction(
        self, order: dict[str, Any], kind: str, amount: Decimal, gateway: str, parent_id: int | None = None
    ) -> dict[str, Any]:
        transaction = {
            "id": self._new_id(),
            "order_id": order["id"],
            "kind": kind,
            "status": "SUCCESS",
            "gateway": gateway,
            "amount": amount,
            "currency": order.get("currency"),
            "parent_id": parent_id,
            "created_at": rest_time(self.clock.now()),
            "at": self.clock.now(),
        }
        self.transactions[transaction["id"]] = transaction
        return transaction

    @staticmethod
    def _transaction_node(transaction: dict[str, Any]) -> dict[str, Any]:
        parent = transaction["parent_id"]
        return {
            "id": gid("OrderTransaction", transaction["id"]),
            "kind": transaction["kind"],
            "status": transaction["status"],
            "gateway": transaction["gateway"],
            "createdAt": graphql_time(transaction["created_at"]),
            "amountSet": money_bag(transaction["amount"], transaction["currency"]),
            "parentTransaction": {"id": gid("OrderTransaction", parent)} if parent else None,
        }

    def _refunded_quantity(self, order_id: int, line_item_id: int) -> int:
        return sum(
            line["quantity"]
            for refund in self.refunds.values()
            if refund["order_id"] == order_id
            for line in refund["line_items"]
            if line["line_item_id"] == line_item_id
        )

    def _refund_node(self, refund: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": gid("Refund", refund["id"]),
            "note": refund["note"],
            "createdAt": graphql_time(refund["created_at"]),
            "totalRefundedSet": money_bag(refund["amount"], refund["currency"]),
            "transactions": {"nodes": [self._transaction_node(self.transactions[t]) for t in refund["transactions"]]},
        }

    def _refund_create(self, root: RootField) -> Resolved:
        require(root.args, "refundCreate", "input")
        key = (root.directives.get("idempotent") or {}).get("key")
        if key is None and self.api_version >= IDEMPOTENCY_REQUIRED_FROM:
            message = "The @idempotent directive is required for this mutation."
            raise GraphQLError(message, "BAD_REQUEST")
        fingerprint = json.dumps(root.args, sort_keys=True, default=str)
        if key is not None and key in self.idempotency_keys:
            first_input, first_answer = self.idempotency_keys[key]
            if first_input != fingerprint:
                raise GraphQLError("The idempotency key was already used with different input.", "BAD_REQUEST")
            return Resolved(copy.deepcopy(first_answer), MUTATION_COST)
        answer = self._refund(root.args["input"])
        if key is not None and not answer["userErrors"]:
            self.idempotency_keys[key] = (fingerprint, copy.deepcopy(answer))
        return Resolved(answer, MUTATION_COST)

    def _refund(self, spec: dict[str, Any]) -> dict[str, Any]:
        order = self._find_order(spec.get("orderId"))
        if order is None:
            return {"refund": None, "order": None, "userErrors": [user_error(["orderId"], "Order does not exist")]}
        lines, errors = self._refund_lines(order, spec.get("refundLineItems") or [])
        parents, transaction_errors = self._refund_transactions(order, spec.get("transactions") or [])
        errors += transaction_errors
        currency = spec.get("currency")
        if currency is not None and currency != order.get("presentment_currency", order.get("currency")):
            errors.append(user_error(["currency"], "Currency must match the order's presentment currency."))
        if errors:
            return {"refund": None, "order": None, "userErrors": errors}
        refund = self._record_refund(order, spec, lines, parents)
        node = self._refund_node(refund)
        return {"refund": node, "order": {"id": gid("Order", order["id"])}, "userErrors": []}

    def _refund_lines(
        self, order: dict[str, Any], requested: list[dict[str, Any]]
    ) -> tuple[list[tuple[dict[str, Any], int, str]], list[dict[str, Any]]]:
        items = {gid("LineItem", item["id"]): item for item in order.get("line_items", [])}
        lines, errors = [], []
        for index, line in enumerate(requested):
            path = ["refundLineItems", str(index)]
            restock = line.get("restockType", "RETURN")
            if restock not in RESTOCK_TYPES:
                message = f"Variable $input of type RefundInput! was provided invalid value for {'.'.join(path)}"
                raise GraphQLError(message, "INVALID_VARIABLE")
            item, quantity = items.get(str(line.get("lineItemId"))), line.get("quantity")
            if item is None:
                errors.append(user_error([*path, "lineItemId"], "Line item does not exist."))
                continue
            left = int(item.get("quantity", 0)) - self._refunded_quantity(order["id"], item["id"])
            if not isinstance(quantity, int) or not 0 < quantity <= left:
                errors.append(user_error([*path, "quantity"], "Quantity cannot refund more items than were purchased."))
                continue
            lines.append((item, quantity, restock))
        return lines, errors

    def _refund_transactions(
        self, order: dict[str, Any], requested: list[dict[str, Any]]
    ) -> tuple[list[tuple[dict[str, Any], Decimal]], list[dict[str, Any]]]:
        parents, errors = [], []
        for index, spec in enumerate(requested):
            path = ["transactions", str(index)]
            parent_id = numeric_id(spec.get("parentId"), "OrderTransaction")
            parent = self.transactions.get(parent_id) if parent_id is not None else None
            try:
                amount = Decimal(str(spec.get("amount")))
            except ArithmeticError:
                amount = Decimal(0)
            if spec.get("kind") != "REFUND":
                errors.append(user_error([*path, "kind"], "Kind must be refund."))
            elif parent is None or parent["order_id"] != order["id"] or parent["kind"] not in PAID_KINDS:
                errors.append(user_error([*path, "parentId"], "Parent transaction is not a sale or capture."))
            elif spec.get("gateway") != parent["gateway"]:
                errors.append(user_error([*path, "gateway"], "Gateway must match the parent transaction's."))
            elif not 0 < amount <= parent["amount"] - self._refunded_against(parent["id"]):
                message = "Refund amount exceeds the amount that can be refunded."
                errors.append(user_error([*path, "amount"], message))
            else:
                parents.append((parent, amount))
        return parents, errors

    def _refunded_against(self, parent_id: int) -> Decimal:
        children = [t for t in self.transactions.values() if t["parent_id"] == parent_id and t["kind"] == "REFUND"]
        return sum((t["amount"] for t in children), Decimal(0))

    def _record_refund(
        self,
        order: dict[str, Any],
        spec: dict[str, Any],
        lines: list[tuple[dict[str, Any], int, str]],
        parents: list[tuple[dict[str, Any], Decimal]],
    ) -> dict[str, Any]:
        refund_id = self._new_id()
        transactions = [self._add_transaction(order, "REFUND", amount, p["gateway"], p["id"]) for p, amount in parents]
        for item, quantity, restock in lines:
            if restock != "NO_RESTOCK":
                self._restock(order, item, quantity)
        refund = {
            "id": refund_id,
            "kind": "Refund",
            "order_id": order["id"],
            "note": spec.get("note"),
            "created_at": rest_time(self.clock.now()),
            "at": self.clock.now(),
            "amount": sum((amount for _, amount in parents), Decimal(0)),
            "currency": order.get("currency"),
            "transactions": [t["id"] for t in transactions],
            "line_items": [
                {"line_item_id": item["id"], "sku": item.get("sku"), "quantity": quantity, "restock_type": restock}
                for item, quantity, restock in lines
            ],
        }
        self.refunds[refund_id] = refund
        refunded = sum((r["amount"] for r in self.refunds.values() if r["order_id"] == order["id"]), Decimal(0))
        order["financial_status"] = "refunded" if refunded >= self._paid(order["id"]) else "partially_refunded"
        order.setdefault("refunds", []).append(
            {"id": refund_id, "order_id": order["id"], "note": refund["note"], "created_at": refund["created_at"]}
        )
        self._touch(order)
        self._echo(order, "orders/updated")
        return refund

    def _restock(self, order: dict[str, Any], item: dict[str, Any], quantity: int) -> None:
        item_id = self._stocked_item(item["sku"], self.location_id) if item.get("sku") else None
        if item_id is not None and self.track_inventory:
            self.inventory[(item_id, self.location_id)]["available"] += quantity
            self._record_available(item_id, self.location_id, gid("Order", order["id"]))

    # -- inventory --------------------------------------------------------------------------------------------
    def _inventory_item(self, args: dict[str, Any]) -> Resolved:
        require(args, "inventoryItem", "id")
        item_id = numeric_id(args["id"], "InventoryItem")
        levels = [
            {
                "location": {"id": gid("Location", location)},
                "quantities": [{"name": name, "quantity": quantities[name]} for name in QUANTITY_NAMES],
            }
            for (item, location), quantities in self.inventory.items()
            if item == item_id
        ][:10]
        if not levels:
            return Resolved(None, 1)
        return Resolved({"id": args["id"], "inventoryLevels": {"nodes": levels}}, 3 + len(levels))

    def _inventory_items(self, root: RootField) -> Resolved:
        first = self._page_size(root.args)
        clauses, warnings = parse_item_search(root.args.get("query"))
        items = sorted(set(self.inventory_skus) | {item for item, _location in self.inventory})
        rows: list[Row] = [(float(item), item, {}) for item in items if self._item_matches(item, clauses)]
        page, page_info = paginate(rows, first, root.args.get("after"), reverse=False)
        nodes = [self._inventory_item_node(item, root.selection) for _, item, _ in page]
        cursors = [encode_cursor(value, item) for value, item, _ in page]
        page_info.update(startCursor=cursors[0] if cursors else None, endCursor=cursors[-1] if cursors else None)
        extensions: dict[str, Any] = {}
        if warnings:
            extensions["search"] = [{"path": [root.key], "query": root.args.get("query"), "warnings": warnings}]
        edges = [{"cursor": cursor, "node": node} for cursor, node in zip(cursors, nodes, strict=True)]
        return Resolved({"nodes": nodes, "edges": edges, "pageInfo": page_info}, 2 + len(nodes), extensions)

    def _item_matches(self, item_id: int, clauses: list[list[SearchTerm]]) -> bool:
        values = {"sku": self.inventory_skus.get(item_id), "id": str(item_id)}
        return not clauses or any(all(values[name] == value for name, value in clause) for clause in clauses)

    def _inventory_item_node(self, item_id: int, selection: dict[str, dict[str, Any]]) -> dict[str, Any]:
        node: dict[str, Any] = {
            "id": gid("InventoryItem", item_id),
            "legacyResourceId": str(item_id),
            "sku": self.inventory_skus.get(item_id),
            "tracked": True,
        }
        if "inventoryLevel" in selection:
            location = selection["inventoryLevel"].get("locationId")
            if location is None:
                raise GraphQLError(
                    "Field 'inventoryLevel' is missing required arguments: locationId", "missingRequiredArguments"
                )
            location_id = numeric_id(location, "Location")
            level = self.inventory.get((item_id, location_id)) if location_id is not None else None
            names = (selection.get("quantities") or {}).get("names") or list(QUANTITY_NAMES)
            names = [names] if isinstance(names, str) else names
            node["inventoryLevel"] = None
            if level is not None:
                node["inventoryLevel"] = {
                    "id": gid("InventoryLevel", f"{location_id}?inventory_item_id={item_id}"),
                    "location": {"id": location},
                    "quantities": [{"name": name, "quantity": level[name]} for name in names if name in level],
                }
        return node

    @staticmethod
    def _inventory_cost(args: dict[str, Any]) -> int:
        quantities = (args.get("input") or {}).get("quantities") or []
        return MUTATION_COST + math.ceil(len(quantities) / 10)

    def _inventory_set_quantities(self, args: dict[str, Any]) -> Resolved:
        require(args, "inventorySetQuantities", "input")
        payload = args["input"]
        quantities = payload.get("quantities") or []
        missing_cas = [index for index, q in enumerate(quantities) if "changeFromQuantity" not in q]
        if missing_cas:
            # From 2026-04 the key is mandatory (null opts out of the check); omitting it is an error.
            message = f"quantities[{missing_cas[0]}].changeFromQuantity must be given (null skips the check)"
            raise GraphQLError(message, "INVALID_VARIABLE")
        cost = self._inventory_cost(args)
        errors = self._inventory_input_errors(payload)
        targets, quantity_errors = self._check_quantities(payload.get("name", ""), quantities)
        if errors or quantity_errors:  # all or nothing: one bad quantity and none is applied
            return Resolved({"inventoryAdjustmentGroup": None, "userErrors": errors or quantity_errors}, cost)
        reference = payload.get("referenceDocumentUri")
        changes = [change for target in targets for change in self._set_quantity(payload["name"], *target, reference)]
        group = {
            "id": gid("InventoryAdjustmentGroup", self._new_id()),
            "createdAt": graphql_time(rest_time(self.clock.now())),
            "reason": payload["reason"],
            "referenceDocumentUri": payload.get("referenceDocumentUri"),
            "changes": changes,
        }
        return Resolved({"inventoryAdjustmentGroup": group, "userErrors": []}, cost)

    @staticmethod
    def _inventory_input_errors(payload: dict[str, Any]) -> list[dict[str, Any]]:
        if payload.get("name") not in QUANTITY_NAMES:
            message = "The quantity name must be either 'available' or 'on_hand'."
            return [user_error(["input", "name"], message, "INVALID_NAME")]
        if payload.get("reason") not in INVENTORY_REASONS:
            return [user_error(["input", "reason"], "The specified reason is invalid.", "INVALID_REASON")]
        return []

    def _check_quantities(
        self, name: str, quantities: list[dict[str, Any]]
    ) -> tuple[list[tuple[int, int, int]], list[dict[str, Any]]]:
        """The (item, location, new quantity) to set, and the userErrors of the quantities that cannot be set."""
        targets: list[tuple[int, int, int]] = []
        errors: list[dict[str, Any]] = []
        seen: set[tuple[int | None, int | None]] = set()
        for index, quantity in enumerate(quantities):
            item_id = numeric_id(quantity.get("inventoryItemId"), "InventoryItem")
            location_id = numeric_id(quantity.get("locationId"), "Location")
            problem = self._quantity_problem(name, quantity, (item_id, location_id), seen)
            if problem is not None:
                field_name, message, code = problem
                errors.append(user_error(["input", "quantities", str(index), field_name], message, code))
            elif item_id is not None and location_id is not None:
                targets.append((item_id, location_id, int(quantity["quantity"])))
            seen.add((item_id, location_id))
        return targets, errors

    def _quantity_problem(
        self,
        name: str,
        quantity: dict[str, Any],
        key: tuple[int | None, int | None],
        seen: set[tuple[int | None, int | None]],
    ) -> tuple[str, str, str] | None:
        """(field, message, code) of what is wrong with one quantity, or None."""
        item_id, location_id = key
        if item_id is None:
            return "inventoryItemId", "The specified inventory item could not be found.", "INVALID_INVENTORY_ITEM"
        if location_id is None:
            return "locationId", "The specified location could not be found.", "INVALID_LOCATION"
        if key in seen:
            message = "The combination of inventoryItemId and locationId must be unique."
            return "locationId", message, "NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR"
        level = self.inventory.get((item_id, location_id))
        if level is None:
            message = "The specified inventory item is not stocked at the location."
            return "locationId", message, "ITEM_NOT_STOCKED_AT_LOCATION"
        expected = quantity["changeFromQuantity"]
        if expected is not None and name in level and expected != level[name]:
            message = "The changeFromQuantity value does not match persisted value."
            return "changeFromQuantity", message, "CHANGE_FROM_QUANTITY_STALE"
        return None

    def _set_quantity(
        self, name: str, item_id: int, location_id: int, quantity: int, reference: str | None
    ) -> list[dict[str, Any]]:
        """Set one name; the other moves by the same delta (on_hand counts available stock too)."""
        level = self.inventory[(item_id, location_id)]
        delta = quantity - level[name]
        changes = []
        for each in QUANTITY_NAMES:
            level[each] += delta
            changes.append(
                {
                    "name": each,
                    "delta": delta,
                    "quantityAfterChange": level[each],
                    "item": {"id": gid("InventoryItem", item_id)},
                    "location": {"id": gid("Location", location_id)},
                }
            )
        self._record_available(item_id, location_id, reference)
        return changes


def tracking_info(info: dict[str, Any]) -> list[dict[str, Any]]:
    """``FulfillmentTrackingInput`` → the ``trackingInfo`` list of a ``Fulfillment``."""
    numbers = info.get("numbers") or ([info["number"]] if info.get("number") else [])
    urls = info.get("urls") or ([info["url"]] if info.get("url") else [])
    return [
        {"company": info.get("company"), "number": number, "url": urls[index] if index < len(urls) else None}
        for index, number in enumerate(numbers)
    ]


def rest_fulfillment(fulfillment: dict[str, Any]) -> dict[str, Any]:
    """The fulfillment as the REST order resource (and so the webhook payload) lists it."""
    tracking = fulfillment["tracking_info"]
    return {
        "id": fulfillment["id"],
        "admin_graphql_api_id": gid("Fulfillment", fulfillment["id"]),
        "order_id": fulfillment["order_id"],
        "status": fulfillment["status"].lower(),
        "created_at": fulfillment["created_at"],
        "updated_at": fulfillment["created_at"],
        "tracking_company": tracking[0]["company"] if tracking else None,
        "tracking_number": tracking[0]["number"] if tracking else None,
        "tracking_numbers": [t["number"] for t in tracking],
        "tracking_url": tracking[0]["url"] if tracking else None,
        "tracking_urls": [t["url"] for t in tracking if t["url"]],
        "line_items": [
            {"id": line["line_item_id"], "sku": line["sku"], "quantity": line["quantity"]}
            for line in fulfillment["line_items"]
        ],
    }


def fulfillment_node(fulfillment: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": gid("Fulfillment", fulfillment["id"]),
        "status": fulfillment["status"],
        "createdAt": graphql_time(fulfillment["created_at"]),
        "trackingInfo": fulfillment["tracking_info"],
    }


def money(value: Any) -> Decimal:
    """A REST money string (``"3559.77"``) as a Decimal; a missing one is zero."""
    return Decimal(str(value)) if value not in (None, "") else Decimal(0)


def money_bag(amount: Decimal, currency: str | None) -> dict[str, Any]:
    """``MoneyBag``: shop and presentment money, the same here (the sandbox shop sells in one currency)."""
    value = {"amount": format(amount, "f"), "currencyCode": currency}
    return {"shopMoney": value, "presentmentMoney": dict(value)}


def _gateway(order: dict[str, Any]) -> str:
    names = order.get("payment_gateway_names") or []
    return str(names[0]) if names else "manual"
