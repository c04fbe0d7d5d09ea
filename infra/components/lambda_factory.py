"""Every function is made here, so they all get the same runtime, layer, logging and alarms."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.assets import ASSET_DIR, LAYER_DIR, ensure_built
from infra.components.common import log_group
from infra.config import EnvConfig
from infra.nag import acknowledge

RUNTIME = lambda_.Runtime.PYTHON_3_13


class LambdaFactory(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: EnvConfig) -> None:
        super().__init__(scope, construct_id)
        ensure_built()
        self._config = config
        self._code = lambda_.Code.from_asset(str(ASSET_DIR))
        self.layer = lambda_.LayerVersion(
            self,
            "Dependencies",
            code=lambda_.Code.from_asset(str(LAYER_DIR)),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[lambda_.Architecture.ARM_64],
            description="Crossdock runtime dependencies (Powertools, pydantic, httpx)",
        )
        self.functions: list[lambda_.Function] = []

    def function(
        self,
        construct_id: str,
        *,
        package: str,
        environment: dict[str, str],
        description: str,
        memory_size: int = 256,
        timeout: Duration | None = None,
        reserved_concurrency: int | None = None,
    ) -> lambda_.Function:
        """``package`` is the folder under ``functions/``, e.g. ``receive_webhook``."""
        logs = log_group(self, f"{construct_id}Logs", self._config)
        # Our own role instead of AWSLambdaBasicExecutionRole: it may write to this function's log group only.
        role = iam.Role(self, f"{construct_id}Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
        logs.grant_write(role)
        level = self._config.log_level
        fn = lambda_.Function(
            self,
            construct_id,
            runtime=RUNTIME,
            architecture=lambda_.Architecture.ARM_64,
            code=self._code,
            handler=f"functions.{package}.handler.lambda_handler",
            layers=[self.layer],
            memory_size=memory_size,
            timeout=timeout or Duration.seconds(10),
            reserved_concurrent_executions=reserved_concurrency,
            description=description,
            log_group=logs,
            role=role,
            # Each hop's latency and the AWS calls it made, beside the correlation id in the logs.
            tracing=lambda_.Tracing.ACTIVE,
            logging_format=lambda_.LoggingFormat.JSON,
            application_log_level_v2=lambda_.ApplicationLogLevel(level if level != "WARNING" else "WARN"),
            system_log_level_v2=lambda_.SystemLogLevel.WARN,
            environment={
                "POWERTOOLS_SERVICE_NAME": f"crossdock-{package}",
                "POWERTOOLS_LOG_LEVEL": level,
                "CROSSDOCK_ENV": self._config.name,
                # Business metrics (EMF) of every function land in the environment's namespace.
                "POWERTOOLS_METRICS_NAMESPACE": self._config.metrics_namespace,
                **environment,
            },
        )
        pinned = (
            "Pinned to python3.13: the dependency layer is built for cp313 and the suite is tested on it. "
            "Moving runtime is a deliberate change, not a drift."
        )
        acknowledge(fn, "L1", pinned)
        acknowledge(fn, "LambdaLatestVersion", pinned, pack="Serverless")
        acknowledge(
            fn,
            "LambdaDLQ",
            "No event of ours is lost in an async invocation: consumers are fed by SQS and dead-letter through "
            "their queue (with the reason), API functions answer their caller, and a failed scheduled tick is "
            "made up by the next one (its input is constant).",
            pack="Serverless",
        )
        acknowledge(
            role,
            "IAM5[Resource::*]",
            "Active tracing: xray:PutTraceSegments and xray:PutTelemetryRecords have no resource-level "
            "permissions, so X-Ray needs Resource *. Data actions never do (tests/infrastructure check).",
        )
        self.functions.append(fn)
        return fn
