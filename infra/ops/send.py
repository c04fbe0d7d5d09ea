"""``crossdock send <platform> <file>``: a sample webhook, signed as the platform signs it, to the target's intake.

The secret is the target's own (``crossdock-<env>/webhooks/<platform>``, its ``current`` value), so the delivery
passes verification exactly as the platform's would. The body goes compact, as platforms send JSON.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer

from infra import samples
from infra.ops.options import (
    EnvOption,
    LocalOption,
    ProfileOption,
    RegionOption,
    StateOption,
    handled,
    open_target,
    say,
)
from infra.ops.target import DEFAULT_LOCAL_STATE, Target, TargetError
from shared.carrier.adapter import SIGNATURE_HEADER as CARRIER_SIGNATURE
from shared.channels.registry import platforms
from shared.channels.shopify.adapter import TOPICS as SHOPIFY_TOPICS
from shared.channels.woocommerce.adapter import TOPICS as WOOCOMMERCE_TOPICS
from shared.signatures import hmac_sha256_b64
from shared.wms.webhook import TOPICS as WMS_TOPICS

# Where the topic travels in a header; the other platforms name it in the signed body.
HEADER_TOPICS: dict[str, tuple[str, ...]] = {
    "shopify": tuple(SHOPIFY_TOPICS),
    "woocommerce": (*WOOCOMMERCE_TOPICS, "order.deleted"),
    "wms": tuple(WMS_TOPICS),
}
TIMEOUT_SECONDS = 30.0


def sample_path(platform: str, file: str) -> Path:
    """A path, or a sample's name under ``events/<platform>/`` (``orders_create`` or ``orders_create.json``)."""
    for candidate in (Path(file), samples.EVENTS_DIR / platform / file, samples.EVENTS_DIR / platform / f"{file}.json"):
        if candidate.is_file():
            return candidate
    known = ", ".join(p.stem for p in sorted((samples.EVENTS_DIR / platform).glob("*.json")))
    raise typer.BadParameter(f"no such file, nor a sample {file!r} in events/{platform}/ ({known})", param_hint="FILE")


def read_json(path: Path) -> Any:
    """The file's JSON; one that is not JSON is the operator's to fix, not a crash."""
    try:
        return json.loads(path.read_text())
    except UnicodeDecodeError:
        raise typer.BadParameter(f"not UTF-8 text: {path}", param_hint="FILE") from None
    except ValueError as error:
        raise typer.BadParameter(f"not JSON ({error}): {path}", param_hint="FILE") from None


def default_topic(platform: str, path: Path, payload: Any) -> str | None:
    """The topic a sample file is for: its name read as a topic (orders_create → orders/create), else the first."""
    topics = HEADER_TOPICS.get(platform)
    if not topics:
        return None
    if platform == "wms" and isinstance(payload, dict) and isinstance(payload.get("topic"), str):
        return str(payload["topic"])
    stem = path.stem
    named = [t for t in topics if stem.startswith(t.replace("/", "_").replace(".", "_"))]
    if named:
        return max(named, key=len)
    return None if platform == "wms" else topics[0]


def signed_headers(platform: str, body: bytes, secret: str, topic: str | None) -> dict[str, str]:
    """The headers the platform sends with ``body``: its signature scheme, a new delivery id."""
    if platform == "shopify":
        return samples.shopify_delivery(body, secret=secret, topic=topic or "orders/create")
    if platform == "woocommerce":
        return samples.woocommerce_delivery(body, secret=secret, topic=topic or "order.created")
    if platform == "bigcommerce":
        return samples.bigcommerce_delivery(body, secret=secret)
    if platform == "wms":
        if topic is None:
            raise typer.BadParameter(
                "this WMS sample names no topic: pass one (e.g. order.shipped)", param_hint="--topic"
            )
        return samples.wms_delivery(body, secret=secret, topic=topic)
    if platform == "b2b_portal":
        headers = {"content-type": "application/json"}
        headers.update(samples.standard_webhooks_headers(body, secret, f"msg_{uuid.uuid4().hex}"))
        return headers
    if platform == "carrier":
        return {"content-type": "application/json", CARRIER_SIGNATURE: hmac_sha256_b64(secret.encode(), body)}
    raise typer.BadParameter(f"{platform!r}: known are {', '.join(platforms())}", param_hint="PLATFORM")


def webhook_secret(target: Target, platform: str) -> str:
    prefix = target.outputs.get("WebhookSecretPrefix", f"crossdock-{target.env}/webhooks/")
    name = f"{prefix.rstrip('/')}/{platform}"
    value = json.loads(target.client("secretsmanager").get_secret_value(SecretId=name)["SecretString"])
    if not value.get("current"):
        raise TargetError(f"the secret {name} has no current value")
    return str(value["current"])


def send_command(
    platform: Annotated[str, typer.Argument(help="shopify, bigcommerce, woocommerce, b2b_portal, wms or carrier")],
    file: Annotated[str, typer.Argument(help="A JSON file, or a sample's name under events/<platform>/.")],
    topic: Annotated[
        str | None,
        typer.Option("--topic", help="Shopify, WooCommerce, WMS: the topic header (default: from the file)."),
    ] = None,
    env: EnvOption = None,
    profile: ProfileOption = None,
    region: RegionOption = None,
    local: LocalOption = False,
    state: StateOption = DEFAULT_LOCAL_STATE,
) -> None:
    """POST a sample webhook, signed with the target's secret as the platform signs, and print the answer.

    Exits 1 when the intake answers anything but 2xx.
    """
    if platform not in platforms():
        raise typer.BadParameter(f"{platform!r}: known are {', '.join(platforms())}", param_hint="PLATFORM")
    if topic and platform not in HEADER_TOPICS:
        raise typer.BadParameter(f"{platform} names the topic in the body: edit the file instead", param_hint="--topic")
    path = sample_path(platform, file)
    payload = read_json(path)
    body = samples.compact(payload)
    with handled(local):
        target = open_target(env, profile, region, local, state)
        if not target.api_url:
            raise TargetError("the target has no API URL (output WebhookBaseUrl)")
        headers = signed_headers(
            platform, body, webhook_secret(target, platform), topic or default_topic(platform, path, payload)
        )
        url = f"{target.api_url}/v1/webhooks/{platform}"
        try:
            response = httpx.post(url, content=body, headers=headers, timeout=TIMEOUT_SECONDS)
        except httpx.HTTPError as error:
            raise TargetError(f"cannot reach {url}: {error}") from error
    ok = response.is_success
    say(f"POST {url} → {response.status_code}", "green" if ok else "red")
    typer.echo(response.text)
    if not ok:
        raise typer.Exit(1)
