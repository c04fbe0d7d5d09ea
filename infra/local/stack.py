"""The local stack: synthesize the template, emulate AWS, provision it, run the functions, serve the API.

Everything is derived from the synthesized template; nothing here lists the topology a second time.
"""

from __future__ import annotations

import atexit
import json
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aws_cdk import App
from botocore.config import Config

from infra.app import build_app
from infra.assets import ROOT, ensure_built
from infra.config import cdk_context
from infra.local.api_gateway import LocalHttpApi, Route, TokenBucket
from infra.local.aws_proxy import AwsProxy
from infra.local.clock import Clock
from infra.local.emulators import Emulators
from infra.local.emulators import client as emulator_client
from infra.local.event_sources import Mapping, QueuePoller
from infra.local.lambda_runtime import FunctionSpec, InvocationResult, LocalFunction
from infra.local.provision import Provisioned, Provisioner
from infra.local.router import Router
from infra.local.sandboxes.base import Sandbox
from infra.local.sandboxes.registry import start_sandboxes
from infra.local.template import Template
from infra.ops.local_state import local_state

LOCAL_DIR = ROOT / ".local"
CLIENT_POOL = 128  # above the pollers and rule taps that share a client


def synth_template(env: str) -> dict[str, Any]:
    ensure_built()
    # An output folder of its own: stacks started side by side (test workers, the chaos run) synth at once.
    with tempfile.TemporaryDirectory(prefix="crossdock-cdk.out-") as outdir:
        app = build_app(env, App(context=cdk_context(), outdir=outdir))
        template: dict[str, Any] = app.synth().get_stack_by_name(f"Crossdock-{env}").template
    return template


@dataclass
class LocalStack:
    env: str = "dev"
    template_json: dict[str, Any] | None = None
    time_scale: float = 0.02
    log_dir: Path = LOCAL_DIR / "logs"
    clock: Clock = field(default_factory=Clock)
    emulators: Emulators = field(default_factory=Emulators)
    functions: dict[str, LocalFunction] = field(default_factory=dict)
    pollers: list[QueuePoller] = field(default_factory=list)
    api: LocalHttpApi | None = None
    router: Router | None = None
    provisioned: Provisioned | None = None
    template: Template | None = None
    sandboxes: dict[str, Sandbox] = field(default_factory=dict)
    # Between the functions and the emulators when set: counts their AWS calls, and injects faults for chaos.
    aws_proxy: AwsProxy | None = None
    # Added to every function's environment (the chaos run's crash settings, read by the local worker only).
    extra_environment: dict[str, str] = field(default_factory=dict)
    _outputs: dict[str, Any] = field(default_factory=dict, repr=False)
    _clients: dict[str, Any] = field(default_factory=dict, repr=False)
    _clients_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def state_path(self) -> Path:
        """Where ``crossdock --local`` finds this stack: next to its log folder (``.local/stack.json`` by default)."""
        return self.log_dir.parent / "stack.json"

    # -- lifecycle ------------------------------------------------------------------------------------------
    def start(self) -> LocalStack:
        atexit.register(self.stop)  # an exception on the way out still stops every process
        for old in self.log_dir.glob("*.log"):
            old.unlink(missing_ok=True)  # each run's logs alone, like a fresh log group
        template_json = self.template_json or synth_template(self.env)
        self._outputs = template_json.get("Outputs", {})
        self._clients.clear()  # a restarted stack has new emulator ports
        self.emulators.start()
        if self.aws_proxy is not None:
            self.aws_proxy.start([self.emulators.moto_url, self.emulators.dynamodb_url])
        self.template = Template.from_dict(template_json, f"Crossdock-{self.env}", "us-east-1")
        self.template.endpoints["sqs"] = self.emulators.moto_url
        self.provisioned = Provisioner(self.template, self.emulators.environment()).run()
        self._functions()
        self.router = Router(
            self.template, self.provisioned.rules, self.client("sqs"), self.invoke, time_scale=self.time_scale
        )
        self.router.start()
        self._event_sources()
        self._api()
        self._sandboxes()
        self.write_state(self.state_path)
        return self

    def write_state(self, path: Path) -> None:
        """What ``crossdock --local`` needs (``infra.ops.target.local_target``): endpoints, resources, outputs."""
        assert self.template
        assert self.provisioned
        api_url = self.api.url if self.api is not None else None
        state = local_state(self.env, self.template, self.provisioned, self.emulators, api_url, self._outputs)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(state, indent=2))

    def _sandboxes(self) -> None:
        """Start the outside world and point each platform's webhooks at the local API with its local secret."""
        self.sandboxes = start_sandboxes(self.clock)
        assert self.provisioned
        secrets = self.client("secretsmanager")
        for system, sandbox in self.sandboxes.items():
            # What ops do after a deploy: put each system's URL and credentials in its connection secret.
            connection = f"crossdock-{self.env}/connections/{system}"
            if connection in self.provisioned.secrets:
                value = json.dumps(sandbox.connection())
                secrets.put_secret_value(SecretId=connection, SecretString=value)
                self.provisioned.secrets[connection] = value
            webhooks = f"crossdock-{self.env}/webhooks/{system}"
            if self.api is not None and webhooks in self.provisioned.secrets:
                sandbox.webhook_targets = [f"{self.api.url}/v1/webhooks/{system}"]
                sandbox.use_webhook_secret(self.webhook_secret(system))

    def stop(self) -> None:
        atexit.unregister(self.stop)
        # Each poller, rule and function takes a moment to wind down (a long poll, a worker's exit): all at once,
        # or a stack of twenty-odd consumers takes most of a minute to stop.
        # Every poller is told first, so their long polls all run out together rather than one batch after another.
        for poller in self.pollers:
            poller.request_stop()
        if self.router:
            self.router.request_stop()
        with ThreadPoolExecutor(max_workers=16) as pool:
            list(pool.map(lambda sandbox: sandbox.stop(), self.sandboxes.values()))
            list(pool.map(lambda poller: poller.stop(), self.pollers))
            if self.router:
                self.router.stop()
            if self.api:
                self.api.stop()
            list(pool.map(lambda function: function.stop(), self.functions.values()))
        if self.aws_proxy is not None:
            self.aws_proxy.stop()
        self.emulators.stop()

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what the template declares -------------------------------------------------------------------------
    def _functions(self) -> None:
        assert self.template
        emulator_env = self.emulators.environment()
        if self.aws_proxy is not None:
            emulator_env = self.aws_proxy.environment(emulator_env)
        for logical_id in self.template.of_type("AWS::Lambda::Function"):
            props = self.template.props(logical_id)
            name = self.template.name(logical_id)
            logging_config = props.get("LoggingConfig", {})
            environment = {
                **emulator_env,
                # What the Lambda runtime sets in every execution environment.
                "AWS_LAMBDA_FUNCTION_NAME": name,
                "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(props.get("MemorySize", 128)),
                "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{name}",
                "AWS_EXECUTION_ENV": f"AWS_Lambda_{props.get('Runtime', 'python3.13')}",
                "AWS_LAMBDA_LOG_FORMAT": logging_config.get("LogFormat", "Text"),
                **(
                    {"AWS_LAMBDA_LOG_LEVEL": logging_config["ApplicationLogLevel"]}
                    if "ApplicationLogLevel" in logging_config
                    else {}
                ),
                **{k: str(v) for k, v in props.get("Environment", {}).get("Variables", {}).items()},
                **self.extra_environment,
            }
            spec = FunctionSpec(
                name=name,
                handler=props["Handler"],
                environment=environment,
                timeout_seconds=int(props.get("Timeout", 3)),
                memory_mb=int(props.get("MemorySize", 128)),
                reserved_concurrency=props.get("ReservedConcurrentExecutions"),
            )
            self.functions[name] = LocalFunction(spec, self.log_dir)

    def _event_sources(self) -> None:
        assert self.template
        sqs = self.client("sqs")
        for logical_id in self.template.of_type("AWS::Lambda::EventSourceMapping"):
            props = self.template.props(logical_id)
            queue_id = self.template.logical_id_of("AWS::SQS::Queue", props["EventSourceArn"])
            if queue_id is None:
                continue  # not an SQS source
            queue = self.template.attributes(queue_id)
            queue_props = self.template.props(queue_id)
            mapping = Mapping(
                function=str(props["FunctionName"]).rsplit(":", 1)[-1],
                queue_url=queue["QueueUrl"],
                queue_arn=queue["Arn"],
                batch_size=int(props.get("BatchSize", 10)),
                window_seconds=float(props.get("MaximumBatchingWindowInSeconds", 0)),
                report_item_failures="ReportBatchItemFailures" in props.get("FunctionResponseTypes", []),
                max_concurrency=int(props.get("ScalingConfig", {}).get("MaximumConcurrency", 2)),
                visibility_timeout=int(queue_props.get("VisibilityTimeout", 30)),
            )
            poller = QueuePoller(mapping, sqs, self.invoke, "us-east-1", self.time_scale)
            poller.start()
            self.pollers.append(poller)

    def _api(self) -> None:
        assert self.template
        routes = []
        for logical_id in self.template.of_type("AWS::ApiGatewayV2::Route"):
            props = self.template.props(logical_id)
            integration_id = str(props["Target"]).removeprefix("integrations/")
            integration = next(
                k
                for k in self.template.of_type("AWS::ApiGatewayV2::Integration")
                if self.template.attributes(k)["Ref"] == integration_id
            )
            function_arn = self.template.props(integration)["IntegrationUri"]
            function = str(function_arn).rsplit(":", 1)[-1]
            routes.append(Route.of(props["RouteKey"], function, props.get("AuthorizationType", "NONE")))
        if not routes:
            return
        throttle = None
        for logical_id in self.template.of_type("AWS::ApiGatewayV2::Stage"):
            settings = self.template.props(logical_id).get("DefaultRouteSettings", {})
            if "ThrottlingRateLimit" in settings:
                throttle = TokenBucket(float(settings["ThrottlingRateLimit"]), int(settings["ThrottlingBurstLimit"]))
        self.api = LocalHttpApi("local", routes, self.invoke, throttle)
        self.api.start()

    # -- use ------------------------------------------------------------------------------------------------
    def invoke(self, function: str, event: dict[str, Any]) -> InvocationResult:
        return self.functions[function].invoke(event)

    def client(self, service: str) -> Any:
        """One client per service (clients are thread-safe), its pool larger than the threads sharing it: with
        botocore's 10, the pollers' long polls kept discarding connections and opening new ones."""
        with self._clients_lock:
            if service not in self._clients:
                pool = Config(max_pool_connections=CLIENT_POOL)
                self._clients[service] = emulator_client(self.emulators.environment(), service, pool)
            return self._clients[service]

    def queue_url(self, logical_prefix: str) -> str:
        """The URL of the queue whose logical id starts with ``logical_prefix``."""
        assert self.provisioned
        matches = [url for logical, url in self.provisioned.queues.items() if logical.startswith(logical_prefix)]
        if len(matches) != 1:
            raise KeyError(f"{logical_prefix!r} matches {len(matches)} queues")
        return matches[0]

    def webhook_secret(self, platform: str) -> str:
        assert self.provisioned
        name = f"crossdock-{self.env}/webhooks/{platform}"
        value = json.loads(self.provisioned.secrets[name])
        return str(value["current"])

    def scheduled_rules(self, logical_prefix: str) -> list[str]:
        """Names of the scheduled rules whose logical id contains ``logical_prefix`` (e.g. "Reconcile")."""
        assert self.provisioned
        return [r.name for r in self.provisioned.rules if r.schedule and logical_prefix in r.logical_id]

    def queue_depths(self, urls: list[str] | None = None) -> dict[str, tuple[int, int]]:
        """(visible or delayed, in flight) per queue, template queues and rule taps alike (or only ``urls``).

        Delayed messages count as pending: a consumer waiting out an outage parks its record there.
        """
        sqs = self.client("sqs")
        depths = {}
        for url in urls if urls is not None else sqs.list_queues().get("QueueUrls", []):
            attrs = sqs.get_queue_attributes(
                QueueUrl=url,
                AttributeNames=[
                    "ApproximateNumberOfMessages",
                    "ApproximateNumberOfMessagesNotVisible",
                    "ApproximateNumberOfMessagesDelayed",
                ],
            )["Attributes"]
            depths[url.rsplit("/", 1)[-1]] = (
                int(attrs["ApproximateNumberOfMessages"]) + int(attrs.get("ApproximateNumberOfMessagesDelayed", 0)),
                int(attrs["ApproximateNumberOfMessagesNotVisible"]),
            )
        return depths

    def wait_until_quiet(self, timeout: float = 60.0, settle: float = 0.5) -> bool:
        """True once no queue but DLQs and the observer holds a message and nothing is being processed.

        Queues are only counted while no poller or rule is busy, and at most four times a second: moto computes
        every attribute of a queue to answer one, and counting sixty queues ten times a second took a fifth of
        its time away from the functions.
        """
        assert self.provisioned
        final = {u for k, u in self.provisioned.queues.items() if k in self.provisioned.dlqs}
        final.add(self.provisioned.observer_url)
        watched = [url for url in self.client("sqs").list_queues().get("QueueUrls", []) if url not in final]
        deadline = time.monotonic() + timeout
        quiet_since: float | None = None
        while time.monotonic() < deadline:
            busy = any(p.busy for p in self.pollers) or (self.router is not None and self.router.busy)
            if busy:
                quiet_since = None
                time.sleep(0.1)
                continue
            pending = sum(v + f for v, f in self.queue_depths(watched).values())
            if pending:
                quiet_since = None
            elif quiet_since is None:
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since >= settle:
                return True
            time.sleep(0.25)
        return False
