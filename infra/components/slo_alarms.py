"""The business section of the dashboard: the metrics of ``shared.metrics``, with alarms on the SLOs.

Each metric is named exactly as its emitter writes it (namespace ``Crossdock/<env>``, ``service`` dimension of the
emitting function, ``channel``, ``status`` or ``system`` where noted): CloudWatch matches the full dimension set or
nothing.
The SLO alarms are p95 over 15 minutes against ``config.operations.slo``; a quiet period is not a breach.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from cdk_monitoring_constructs import CustomMetricGroup, CustomMetricWithAlarm, CustomThreshold, MonitoringFacade

from infra.config import EnvConfig
from shared import metrics as m

SLO_PERIOD = Duration.minutes(15)
COUNT_PERIOD = Duration.minutes(5)


class _Metrics:
    def __init__(self, config: EnvConfig) -> None:
        self._namespace = config.metrics_namespace

    def of(
        self, name: str, statistic: str, period: Duration, label: str | None = None, **dims: str
    ) -> cloudwatch.Metric:
        return cloudwatch.Metric(
            namespace=self._namespace,
            metric_name=name,
            statistic=statistic,
            period=period,
            label=label or name,
            dimensions_map={"service": f"crossdock-{m.EMITTED_BY[name]}", **dims},
        )

    def count(self, name: str, label: str | None = None, **dims: str) -> cloudwatch.Metric:
        return self.of(name, "Sum", COUNT_PERIOD, label, **dims)

    def slo(self, name: str, seconds: int, what: str, label: str | None = None, **dims: str) -> CustomMetricWithAlarm:
        """An alarm when the p95 of ``name`` (in ms) exceeds ``seconds``."""
        suffix = "-".join([name, *dims.values()])
        return CustomMetricWithAlarm(
            metric=self.of(name, "p95", SLO_PERIOD, label, **dims),
            alarm_friendly_name=suffix,
            add_alarm={
                "Slo": CustomThreshold(
                    threshold=seconds * 1000,
                    comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                    treat_missing_data_override=cloudwatch.TreatMissingData.NOT_BREACHING,
                    alarm_description_override=f"SLO: p95 {what} over 15 minutes is above {seconds} s",
                )
            },
        )


def business_slos(facade: MonitoringFacade, config: EnvConfig) -> None:
    slo, metrics = config.operations.slo, _Metrics(config)
    orders = [m.ORDERS_RECEIVED, m.ORDERS_ACCEPTED, m.ORDERS_HELD, m.ORDERS_REJECTED, m.OVERSELL_PREVENTED]
    channels, reconciled = sorted(config.inventory.channels), sorted(config.reconcile)
    groups: dict[str, list[cloudwatch.Metric | CustomMetricWithAlarm]] = {
        "Orders": [metrics.count(name) for name in orders],
        "Time to ERP, p95 (ms)": [
            metrics.slo(m.TIME_TO_ERP, slo.time_to_erp_p95_seconds, "order arrival to ERP sales order")
        ],
        "Shipment to invoice, p95 (ms)": [
            metrics.slo(m.SHIPMENT_TO_INVOICE_LATENCY, slo.shipment_to_invoice_p95_seconds, "WMS ship to ERP invoice")
        ],
        "Inventory propagation lag per channel, p95 (ms)": [
            metrics.slo(
                m.INVENTORY_PROPAGATION_LAG,
                slo.propagation_lag_p95_seconds,
                f"stock change to {channel} write",
                label=channel,
                channel=channel,
            )
            for channel in channels
        ],
        "Channel calls per stock change": [
            metrics.of(m.CHANNEL_CALLS_PER_CHANGE, "Average", COUNT_PERIOD, channel, channel=channel)
            for channel in channels
        ],
        "Returns credited, orders recovered by reconciliation": [
            metrics.count(m.RETURNS_CREDITED),
            *(metrics.count(m.MISSED_ORDERS_RECOVERED, f"recovered ({c})", channel=c) for c in reconciled),
        ],
        "Stuck orders per status": [
            metrics.of(m.STUCK_ORDERS, "Maximum", COUNT_PERIOD, status, status=status)
            for status in sorted(config.operations.stuck.after_minutes)
        ],
        "Open breakers (1: calls stopped)": [
            metrics.of(m.OPEN_BREAKERS, "Maximum", COUNT_PERIOD, system, system=system)
            for system in config.connected_systems
        ],
    }
    facade.monitor_custom(
        alarm_friendly_name="Business",
        human_readable_name="Business SLOs",
        description="Orders, their time to the ERP and to the invoice, and how fast stock reaches each channel. "
        "A line with a threshold is an SLO of cdk.json (operations.slo) and has an alarm.",
        # A channel-less environment has no propagation lines: an empty widget would only confuse.
        metric_groups=[CustomMetricGroup(title=title, metrics=lines) for title, lines in groups.items() if lines],
    )
