"""The business metrics (CloudWatch EMF via Powertools ``Metrics``), named once for emitters and dashboards.

Namespace: ``Crossdock/<env>`` (POWERTOOLS_METRICS_NAMESPACE, set on every function by infra). Powertools adds a
``service`` dimension (``crossdock-<package>``); ``EMITTED_BY`` says which function emits each, so the dashboards
and alarms can name the exact metric. No other dimensions unless noted: an alarm needs the exact set.
"""

from __future__ import annotations

ORDERS_RECEIVED = "OrdersReceived"  # count: a new order reached validation
ORDERS_ACCEPTED = "OrdersAccepted"  # count
ORDERS_HELD = "OrdersHeld"  # count (the reason is in the log line and on the timeline)
ORDERS_REJECTED = "OrdersRejected"  # count
TIME_TO_ERP = "TimeToErp"  # ms from the order's arrival (intake) to its ERP sales order
OVERSELL_PREVENTED = "OversellPrevented"  # count: orders held because the units were not there
SHIPMENT_TO_INVOICE_LATENCY = "ShipmentToInvoiceLatency"  # ms from the WMS ship time to the ERP invoice
RETURNS_CREDITED = "ReturnsCredited"  # count of credit memos
INVENTORY_PROPAGATION_LAG = "InventoryPropagationLag"  # ms from a stock change to the channel write; dim channel
CHANNEL_CALLS_PER_CHANGE = "ChannelCallsPerChange"  # channel calls per stock change in a sync run; dim channel
MISSED_ORDERS_RECOVERED = "MissedOrdersRecovered"  # count: found by reconciliation, not a webhook; dim channel
STUCK_ORDERS = "StuckOrders"  # count per status (dimension status), every detector run, 0 included
# 1 while the system's breaker is open, else 0 (dimension system): every connected system, every detector run.
OPEN_BREAKERS = "OpenBreakers"

# metric → the package (functions/<package>) that emits it; the service dimension is "crossdock-<package>".
EMITTED_BY: dict[str, str] = {
    ORDERS_RECEIVED: "validate_order",
    ORDERS_ACCEPTED: "validate_order",
    ORDERS_HELD: "validate_order",
    ORDERS_REJECTED: "validate_order",
    TIME_TO_ERP: "validate_order",
    OVERSELL_PREVENTED: "validate_order",
    SHIPMENT_TO_INVOICE_LATENCY: "invoice_shipment",
    RETURNS_CREDITED: "credit_return",
    INVENTORY_PROPAGATION_LAG: "sync_availability",
    CHANNEL_CALLS_PER_CHANGE: "sync_availability",
    MISSED_ORDERS_RECOVERED: "reconcile_orders",
    STUCK_ORDERS: "detect_stuck_orders",
    OPEN_BREAKERS: "detect_stuck_orders",
}
