"""Email over SMTP: a plain-text message per alert event. The password is the secret."""

from __future__ import annotations

import json
import smtplib
from collections.abc import Mapping
from email.message import EmailMessage
from typing import Any

from vigil.events.channels.base import ChannelSender, DeliveryError, redacted, summary
from vigil.events.channels.definitions import EmailChannel
from vigil.events.settings import MonitorSettings
from vigil.outbound import smtp_connection, tls_context


class Email(ChannelSender):
    type = "email"

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

    def redact(self, config: Any) -> Any:
        return redacted(config, password=config.password)
