"""The contract every channel kind of the registry keeps (a new kind is picked up by itself):
a configuration model named by its `type`, secrets that never show, and a sender that goes
through the outbound address policy before it connects."""

from __future__ import annotations

import json
import re
from types import MappingProxyType
from typing import Any

import pytest

from vigil.errors import InvalidInputError
from vigil.events.channels import (
    CHANNELS,
    ChannelSender,
    get_sender,
    keep_secrets,
    redact_channel,
    secret_values,
)
from vigil.events.channels.base import ChannelConfigBase
from vigil.events.channels.definitions import Channel
from vigil.events.settings import MonitorSettings
from vigil.outbound import OutboundAddressError, scrub

KINDS = sorted(CHANNELS)
PAYLOAD = {
    "id": 7,
    "monitor": "silence",
    "target": "m",
    "severity": "warning",
    "message": "no data arrived",
    "last_window_start": "2026-01-05T01:00:00Z",
    "event": "trigger",
}


SECRET = re.compile(r"[A-Z]+secret[0-9]")
"""How the examples write each secret: a word like `PATHsecret0` (in a URL's path or query, a
key, a password, a header value), so that a test can find every one of them in any text."""


def _marked(value: Any) -> set[str]:
    return set(SECRET.findall(json.dumps(value)))


def test_the_registry_is_immutable_and_names_each_kind_by_its_configuration() -> None:
    assert isinstance(CHANNELS, MappingProxyType)
    with pytest.raises(TypeError):
        CHANNELS["sms"] = CHANNELS["webhook"]  # type: ignore[index]
    assert KINDS == ["email", "pagerduty", "slack", "webhook"]
    with pytest.raises(InvalidInputError, match=r"unknown channel type 'sms'.*'webhook'"):
        get_sender("sms")


@pytest.mark.parametrize("name", KINDS)
def test_each_kind_has_a_definition_model_that_channels_accept(name: str) -> None:
    kind = CHANNELS[name]
    assert kind.type == name
    assert issubclass(kind.config, ChannelConfigBase)
    channel = Channel.model_validate({"name": "c", "config": kind.example})
    assert type(channel.config) is kind.config  # the union is built from the registry
    mapping = Channel.model_json_schema()["properties"]["config"]["discriminator"]["mapping"]
    assert name in mapping
    with pytest.raises(ValueError, match="extra"):
        Channel.model_validate({"name": "c", "config": {**kind.example, "surprise": 1}})


@pytest.mark.parametrize("name", KINDS)
def test_each_kind_redacts_every_secret_and_keeps_it_on_write_back(name: str) -> None:
    kind: ChannelSender = CHANNELS[name]
    assert kind.secrets, f"{name} declares no secret field"
    for field in kind.secrets:
        assert field in kind.config.model_fields, (name, field)
        assert _marked(kind.example.get(field)), f"{name}'s example has no secret in {field!r}"
    secrets = _marked(dict(kind.example))
    channel = Channel.model_validate({"name": "c", "config": kind.example})
    text = redact_channel(channel).model_dump_json()
    assert _marked(json.loads(text)) == set(), text
    assert Channel.model_validate_json(text).name == "c"  # still a valid channel
    # Writing back what was shown changes no secret.
    assert keep_secrets(Channel.model_validate_json(text), channel.model_dump()) == channel
    # Errors and logs: scrubbing the channel's secret values leaves none of them.
    message = f"failed: {json.dumps(dict(kind.example))}"
    assert secrets & _marked(message) == secrets
    assert _marked(scrub(message, secret_values(channel.config))) == set()


@pytest.mark.parametrize("name", KINDS)
def test_each_sender_checks_the_outbound_policy_before_it_connects(name: str) -> None:
    """The examples point at 127.0.0.1: the default policy refuses before any connection."""
    kind = CHANNELS[name]
    config = kind.config.model_validate(kind.example)
    assert kind.endpoint(config)[0] == "127.0.0.1"
    with pytest.raises(OutboundAddressError, match=r"\(loopback\)"):
        kind.check(config, MonitorSettings().outbound_policy())
    with pytest.raises(OutboundAddressError, match=r"\(loopback\)"):
        kind.send(config, PAYLOAD, MonitorSettings())
