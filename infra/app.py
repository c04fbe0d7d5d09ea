"""CDK entry point: ``cdk synth|deploy -c env=dev|staging|prod`` builds that environment's stack."""

from __future__ import annotations

from aws_cdk import App, Environment

from infra.config import cdk_context, load_config
from infra.nag import add_nag_packs
from infra.stack import CrossdockStack


def build_app(env_name: str | None = None, app: App | None = None) -> App:
    """Without ``app`` (tests, the local stack) the context is read from cdk.json, as the CDK CLI would."""
    app = app or App(context=cdk_context())
    name = env_name or app.node.try_get_context("env") or "dev"
    config = load_config(app.node.try_get_context("crossdock") or {}, name)
    CrossdockStack(
        app,
        f"Crossdock-{config.name}",
        config=config,
        env=Environment(account=config.account, region=config.region),
    )
    # Any unacknowledged AwsSolutions or Serverless finding fails synth.
    add_nag_packs(app)
    return app


def main() -> None:
    build_app(app=App()).synth()


if __name__ == "__main__":
    main()
