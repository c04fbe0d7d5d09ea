"""The public webhook endpoint: an HTTP API (not REST, see docs/decisions.md) with access logs and throttling."""

from __future__ import annotations

import jsii
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.components.common import log_group
from infra.config import EnvConfig
from infra.nag import acknowledge

WEBHOOK_ROUTE = "/v1/webhooks/{platform}"


@jsii.implements(apigwv2.IAccessLogSettings)
class _AccessLogSettings:
    """IAccessLogSettings is an interface with no concrete class in Python: jsii needs an implementation."""

    def __init__(self, destination: apigwv2.IAccessLogDestination, log_format: apigw.AccessLogFormat) -> None:
        self._destination = destination
        self._format = log_format

    @property
    def destination(self) -> apigwv2.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> apigw.AccessLogFormat:
        return self._format


class WebhookApi(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: EnvConfig, intake: lambda_.IFunction) -> None:
        super().__init__(scope, construct_id)
        self.api = apigwv2.HttpApi(self, "Api", api_name=f"{config.prefix}-webhooks", create_default_stage=False)
        access_logs = log_group(self, "AccessLogs", config)
        self.stage = apigwv2.HttpStage(
            self,
            "DefaultStage",
            http_api=self.api,
            stage_name="$default",
            auto_deploy=True,
            throttle=apigwv2.ThrottleSettings(rate_limit=config.api_rate_limit, burst_limit=config.api_burst_limit),
            access_log_settings=_AccessLogSettings(
                apigwv2.LogGroupLogDestination(access_logs),
                apigw.AccessLogFormat.json_with_standard_fields(
                    caller=False,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=False,
                ),
            ),
        )
        for route in self.api.add_routes(
            path=WEBHOOK_ROUTE,
            methods=[apigwv2.HttpMethod.POST],
            integration=integrations.HttpLambdaIntegration("Intake", intake),
        ):
            acknowledge(
                route,
                "APIG4",
                "Platforms authenticate by an HMAC over the raw body, which only the function can check "
                "(a REQUEST authorizer gets no body). Unsigned requests get 401.",
            )

    def add_iam_route(
        self, path: str, function: lambda_.IFunction, method: apigwv2.HttpMethod = apigwv2.HttpMethod.GET
    ) -> None:
        """A route for our own people and tools: SigV4-signed by an IAM principal allowed execute-api:Invoke."""
        self.api.add_routes(
            path=path,
            methods=[method],
            integration=integrations.HttpLambdaIntegration(f"{function.node.id}Integration", function),
            authorizer=authorizers.HttpIamAuthorizer(),
        )
