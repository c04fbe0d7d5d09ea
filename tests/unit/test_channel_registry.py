"""Every channel is registered, and every environment's dedupe window covers that channel's retry horizon."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from infra.config import cdk_context, load_config
from shared.channels.registry import adapter_for, platforms

CHANNELS = ["b2b_portal", "bigcommerce", "shopify", "woocommerce"]


def test_every_channel_is_registered_under_its_name() -> None:
    assert set(CHANNELS) <= set(platforms())
    for platform in CHANNELS:
        assert adapter_for(platform).platform == platform


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_every_environment_takes_every_channel_for_longer_than_it_retries(env: str) -> None:
    config = load_config(cdk_context()["crossdock"], env)
    for platform in CHANNELS:
        assert config.dedupe_window_seconds[platform] >= adapter_for(platform).retry_horizon_seconds


@pytest.mark.parametrize(("platform", "hours"), [("bigcommerce", 47), ("b2b_portal", 72)])
def test_a_window_shorter_than_the_retry_horizon_is_refused(platform: str, hours: int) -> None:
    with pytest.raises(ValidationError, match=f"dedupe_window_hours.{platform}"):
        load_config({"dev": {"dedupe_window_hours": {platform: hours}}}, "dev")
