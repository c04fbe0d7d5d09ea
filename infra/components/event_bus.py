"""The event backbone: a custom bus and an archive of everything on it, for replay."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from constructs import Construct

from infra.config import EnvConfig


class EventBackbone(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: EnvConfig) -> None:
        super().__init__(scope, construct_id)
        self.bus = events.EventBus(self, "Bus", event_bus_name=config.prefix)
        self.archive = self.bus.archive(
            "Archive",
            description=f"Every {config.prefix} event, for replay",
            event_pattern=events.EventPattern(source=events.Match.prefix("crossdock.")),
            retention=Duration.days(config.archive_retention_days),
        )
