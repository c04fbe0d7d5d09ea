"""The environment's alarm topic, and the alarms every function and API gets."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from infra.config import EnvConfig


class Monitoring(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: EnvConfig) -> None:
        super().__init__(scope, construct_id)
        self.topic = sns.Topic(self, "AlarmTopic", display_name=f"{config.prefix} alarms", enforce_ssl=True)
        if config.alarm_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(config.alarm_email))
        self._action = cw_actions.SnsAction(self.topic)

    def alarm(
        self, scope: Construct, construct_id: str, metric: cloudwatch.Metric, *, threshold: float, description: str
    ) -> cloudwatch.Alarm:
        """Alarm in ``scope`` when ``metric`` reaches ``threshold``; a missing datapoint means all is quiet."""
        alarm = cloudwatch.Alarm(
            scope,
            construct_id,
            metric=metric,
            threshold=threshold,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=description,
        )
        alarm.add_alarm_action(self._action)
        alarm.add_ok_action(self._action)
        return alarm

    def watch_function(self, fn: lambda_.Function) -> None:
        period = Duration.minutes(5)
        name = fn.node.id
        self.alarm(fn, "Errors", fn.metric_errors(period=period), threshold=1, description=f"{name} raised errors")
        self.alarm(fn, "Throttles", fn.metric_throttles(period=period), threshold=1, description=f"{name} throttled")

    def watch_http_api(self, name: str, api: apigwv2.HttpApi) -> None:
        period = Duration.minutes(5)
        self.alarm(
            api,
            "Alarm5xx",
            api.metric_server_error(period=period),
            threshold=1,
            description=f"{name} answered 5xx: a platform is retrying",
        )
        self.alarm(
            api,
            "Alarm4xx",
            api.metric_client_error(period=period),
            threshold=50,
            description=f"{name} rejected many requests: a bad secret or a misconfigured webhook",
        )
