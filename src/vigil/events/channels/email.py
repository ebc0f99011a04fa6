"""Email over SMTP: a plain-text message per alert notification. The password is the secret."""

from __future__ import annotations

import json
import smtplib
from collections.abc import Mapping
from email.message import EmailMessage
from types import MappingProxyType
from typing import Any, Literal

from pydantic import Field

from vigil.caps import MAX_NAMES
from vigil.events.channels.base import ChannelConfigBase, ChannelSender, DeliveryError, summary
from vigil.events.settings import MonitorSettings
from vigil.outbound import smtp_connection, tls_context


class EmailChannel(ChannelConfigBase):
    """Email over SMTP (STARTTLS when `starttls`; login when `username` is given)."""

    type: Literal["email"] = "email"
    host: str
    port: int = Field(default=25, ge=1, le=65535)
    sender: str
    to: tuple[str, ...] = Field(min_length=1, max_length=MAX_NAMES)
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    timeout: float = Field(default=10.0, gt=0, le=120)


class Email(ChannelSender):
    config = EmailChannel
    secrets = ("password",)
    example = MappingProxyType(
        {
            "type": "email",
            "host": "127.0.0.1",
            "port": 9,
            "sender": "vigil@example.com",
            "to": ["oncall@example.com"],
            "username": "vigil",
            "password": "SMTPsecret0",
        }
    )

    def send(self, config: Any, payload: Mapping[str, Any], settings: MonitorSettings) -> None:
        assert isinstance(config, EmailChannel)
        message = EmailMessage()
        message["Subject"] = summary(payload)[:200]
        message["From"] = config.sender
        message["To"] = ", ".join(config.to)
        message.set_content(
            summary(payload) + "\n\n" + json.dumps(dict(payload), indent=2, sort_keys=True)
        )
        policy = settings.outbound_policy()  # a refused address raises before any connection
        try:
            with smtp_connection(config.host, config.port, policy, timeout=config.timeout) as smtp:
                if config.starttls:
                    smtp.starttls(context=tls_context())
                if config.username:
                    smtp.login(config.username, config.password or "")
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(
                f"sending mail through {config.host}:{config.port} failed: {exc}"
            ) from None

    def endpoint(self, config: Any) -> tuple[str, int]:
        return config.host, config.port
