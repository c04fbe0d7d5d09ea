"""The environment's alarm topic, its dashboard, and the alarms on every function, queue, DLQ and the API.

Built on cdk-monitoring-constructs (docs/decisions.md): one ``MonitoringFacade`` per environment draws one
dashboard (``crossdock-<env>``) and names every alarm ``crossdock-<env>-...`` (``alarm`` names its own alarms the
same way). Every alarm notifies the environment's topic on ALARM and on OK, and a missing datapoint means all is
quiet.
"""

from __future__ import annotations

from collections.abc import Sequence

import jsii
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from cdk_monitoring_constructs import (
    AlarmFactoryDefaults,
    DefaultDashboardFactory,
    MonitoringFacade,
    SnsAlarmActionStrategy,
)
from constructs import Construct, IValidation

from infra.components.alarm_rules import QUIET, function_alarms, http_api_alarms, queue_alarms
from infra.components.slo_alarms import business_slos
from infra.config import EnvConfig
from infra.nag import acknowledge


class Monitoring(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: EnvConfig) -> None:
        super().__init__(scope, construct_id)
        self.config = config
        self.topic = sns.Topic(self, "AlarmTopic", display_name=f"{config.prefix} alarms", enforce_ssl=True)
        if config.alarm_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(config.alarm_email))
            acknowledge(
                self.topic,
                "SNSRedrivePolicy",
                "The one subscription is the on-call e-mail: an alarm mail SNS could not deliver is worth nothing "
                "later from a DLQ, and the alarm stays in ALARM on the dashboard and in CloudWatch until it clears.",
                pack="Serverless",
            )
        self._action = cw_actions.SnsAction(self.topic)
        self.facade = MonitoringFacade(
            self,
            "Facade",
            alarm_factory_defaults=AlarmFactoryDefaults(
                actions_enabled=True,
                alarm_name_prefix=config.prefix,
                action=SnsAlarmActionStrategy(on_alarm_topic=self.topic, on_ok_topic=self.topic),
                # One breaching period alarms, as our hand-made alarms always did (the library default is 3).
                datapoints_to_alarm=1,
            ),
            dashboard_factory=DefaultDashboardFactory(
                self,
                "Dashboard",
                dashboard_name_prefix=config.prefix,
                create_dashboard=True,
                create_summary_dashboard=False,
                create_alarm_dashboard=False,
            ),
        )
        self._watched: set[str] = set()

    def alarm(
        self,
        scope: Construct,
        construct_id: str,
        metric: cloudwatch.Metric,
        *,
        threshold: float,
        description: str,
        evaluation_periods: int = 1,
    ) -> cloudwatch.Alarm:
        """Alarm in ``scope`` (named ``crossdock-<env>-<construct_id>``) when ``metric`` reaches ``threshold`` in
        ``evaluation_periods`` periods in a row; it also gets a tile on the dashboard."""
        alarm = cloudwatch.Alarm(
            scope,
            construct_id,
            alarm_name=f"{self.config.prefix}-{construct_id}",
            metric=metric,
            threshold=threshold,
            evaluation_periods=evaluation_periods,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=QUIET,
            alarm_description=description,
        )
        alarm.add_alarm_action(self._action)
        alarm.add_ok_action(self._action)
        self.facade.add_widget(cloudwatch.AlarmWidget(alarm=alarm, title=description, width=12, height=5))
        return alarm

    def business_slos(self) -> None:
        """The business metrics section, with the SLO alarms of ``config.operations.slo``. Call it once."""
        business_slos(self.facade, self.config)

    def watch_functions(self, functions: Sequence[lambda_.Function]) -> None:
        """Watch ``functions`` now, and fail synth if the list grows later (a function made after this call)."""
        for fn in functions:
            self.watch_function(fn)
        self.node.add_validation(_EveryFunctionWatched(functions, self._watched))

    def watch_function(self, fn: lambda_.Function) -> None:
        """Errors, throttles and p99 duration (against 80 % of the timeout)."""
        self._watched.add(fn.node.addr)
        self.facade.monitor_lambda_function(
            lambda_function=fn,
            alarm_friendly_name=fn.node.id,
            is_iterator=False,  # SQS and schedules feed them, not streams: no iterator age to draw
            **function_alarms(fn.node.id),
        )

    def watch_queue(self, name: str, queue: sqs.IQueue, dlq: sqs.IQueue) -> None:
        """Depth and age of the oldest message of ``queue``; count and age of its ``dlq``."""
        self.facade.monitor_sqs_queue_with_dlq(
            queue=queue, dead_letter_queue=dlq, alarm_friendly_name=name, **queue_alarms(name)
        )

    def watch_http_api(self, name: str, api: apigwv2.HttpApi) -> None:
        """4xx, 5xx and p99 latency."""
        self.facade.monitor_api_gateway_v2_http_api(api=api, alarm_friendly_name=name, **http_api_alarms(name))


@jsii.implements(IValidation)
class _EveryFunctionWatched:
    """Synth fails if a function was made after ``watch_functions``: it would have no alarms."""

    def __init__(self, functions: Sequence[lambda_.Function], watched: set[str]) -> None:
        self._functions, self._watched = functions, watched

    def validate(self) -> list[str]:
        return [
            f"{fn.node.path} has no alarms: make it before Monitoring.watch_functions"
            for fn in self._functions
            if fn.node.addr not in self._watched
        ]
