"""The typed per-environment config, read from ``cdk.json`` context (``crossdock.<env>``)."""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from infra.assets import ROOT
from shared.channels.registry import API_PLATFORMS, adapter_for, platforms
from shared.models.inventory import InventoryPolicy
from shared.models.operations import Operations
from shared.models.returns import ReturnPolicy
from shared.models.rules import OrderRules, RoutingRules, Warehouse
from shared.models.shipping import ShippingPolicy

EnvName = Literal["dev", "staging", "prod"]
# The values CloudWatch Logs accepts for retention.
RETENTION_DAYS = frozenset(
    {1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}
)


class ReconcileSchedule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    every_minutes: int = Field(default=15, ge=1)
    lookback_minutes: int = Field(default=120, ge=1)


# Outside systems every environment connects to; channels with an API are added from ``reconcile``.
CORE_SYSTEMS = ("netsuite", "wms")
# Channels whose stock Crossdock can set (``shared.channels.inventory``).
INVENTORY_PLATFORMS = frozenset({"shopify", "bigcommerce", "woocommerce"})


class EnvConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: EnvName
    account: str | None = None
    region: str = "us-east-1"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_retention_days: int = 30
    removal_policy: Literal["destroy", "retain"] = "retain"
    point_in_time_recovery: bool = True
    archive_retention_days: int = Field(default=30, ge=1)
    alarm_email: str | None = None
    # Per platform. Each must outlast the platform's retry horizon, or a late retry gets through twice.
    dedupe_window_hours: dict[str, int] = Field(default_factory=lambda: {"shopify": 72})
    intake_reserved_concurrency: int | None = Field(default=None, ge=1)
    # The ERP's concurrency budget, shared by its callers (2 is SQS's minimum per event source, 2 callers).
    consumer_max_concurrency: int = Field(default=4, ge=4, le=1000)
    api_rate_limit: int = Field(default=100, ge=1)
    api_burst_limit: int = Field(default=200, ge=1)
    order_rules: OrderRules = Field(default_factory=OrderRules)
    routing: RoutingRules = Field(
        default_factory=lambda: RoutingRules(warehouses=(Warehouse(id="main", erp_location="1", regions=("*",)),))
    )
    # Channels asked on a schedule for what changed: platform → minutes between runs and look-back window.
    reconcile: dict[str, ReconcileSchedule] = Field(default_factory=dict)
    # Available-to-promise per channel (which warehouses feed it, buffers, caps), kits, and coalescing.
    inventory: InventoryPolicy = Field(default_factory=InventoryPolicy)
    # How often each channel's sync sweeps for held increases and writes that failed.
    availability_sweep_minutes: int = Field(default=1, ge=1)
    # Shipment-to-invoice: invoice before the channel hears "shipped", and how shipments wait out the ERP.
    shipping: ShippingPolicy = Field(default_factory=ShippingPolicy)
    # Return-to-credit: the return window, reason codes and credit per received condition.
    returns: ReturnPolicy = Field(default_factory=ReturnPolicy)
    # Breakers on outside systems, stuck-order SLAs and the business SLOs the alarms watch.
    operations: Operations = Field(default_factory=Operations)

    @model_validator(mode="after")
    def _check(self) -> EnvConfig:
        if self.log_retention_days not in RETENTION_DAYS:
            raise ValueError(f"log_retention_days must be one of {sorted(RETENTION_DAYS)}")
        unknown = (set(self.reconcile) | set(self.dedupe_window_hours)) - set(platforms())
        if unknown:
            raise ValueError(f"unknown platform(s) {sorted(unknown)}: known are {platforms()}")
        warehouses = {w.id for w in self.routing.warehouses}
        for channel, policy in self.inventory.channels.items():
            if channel not in INVENTORY_PLATFORMS:
                raise ValueError(f"inventory.channels.{channel}: known are {sorted(INVENTORY_PLATFORMS)}")
            if set(policy.locations) - warehouses:
                raise ValueError(
                    f"inventory.channels.{channel}.locations must be routing warehouses {sorted(warehouses)}"
                )
        for platform, hours in self.dedupe_window_hours.items():
            horizon = adapter_for(platform).retry_horizon_seconds
            if hours * 3600 < horizon:
                raise ValueError(f"dedupe_window_hours.{platform} must cover the {horizon // 3600} h retry horizon")
        return self

    @property
    def prefix(self) -> str:
        return f"crossdock-{self.name}"

    @property
    def metrics_namespace(self) -> str:
        """One CloudWatch namespace per environment, so two environments in one account never mix figures."""
        return f"Crossdock/{self.name}"

    @property
    def dedupe_window_seconds(self) -> dict[str, int]:
        return {platform: hours * 3600 for platform, hours in self.dedupe_window_hours.items()}

    @property
    def platforms(self) -> list[str]:
        return sorted(self.dedupe_window_hours)

    @property
    def connected_systems(self) -> list[str]:
        """Every system with a connection secret: the ERP, the WMS, and each channel we call."""
        channels_called = set(self.reconcile) | (set(self.platforms) & API_PLATFORMS) | set(self.inventory.channels)
        return sorted(set(CORE_SYSTEMS) | channels_called)


def load_config(environments: dict[str, Any], env_name: str) -> EnvConfig:
    """``environments`` is the ``crossdock`` context object of cdk.json: env name → settings."""
    if env_name not in environments:
        raise ValueError(f"unknown env {env_name!r}: cdk.json defines {sorted(environments)}")
    return EnvConfig.model_validate({"name": env_name, **environments[env_name]})


def cdk_context() -> dict[str, Any]:
    """cdk.json's context, for synths that do not go through the CDK CLI (tests, the local stack)."""
    context: dict[str, Any] = json.loads((ROOT / "cdk.json").read_text())["context"]
    return context
