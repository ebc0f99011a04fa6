"""Email over SMTP: a plain-text message per alert event."""

from __future__ import annotations

import json
import smtplib
from collections.abc import Mapping
from email.message import EmailMessage
from typing import Any

from vigil.monitor.channels.base import ChannelSender, DeliveryError, summary
from vigil.monitor.definitions import EmailChannel
from vigil.monitor.settings import MonitorSettings


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
        try:
            with smtplib.SMTP(config.host, config.port, timeout=config.timeout) as smtp:
                if config.starttls:
                    smtp.starttls()
                if config.username:
                    smtp.login(config.username, config.password or "")
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(
                f"sending mail through {config.host}:{config.port} failed: {exc}"
            ) from None
