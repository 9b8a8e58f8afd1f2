"""Sending e-mail: SMTP settings from the environment only (no secret in the repository)."""
from __future__ import annotations

import os
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 25
    user: str | None = None
    password: str | None = None
    sender: str = "Order Desk <orderdesk@localhost>"
    starttls: bool = False
    ssl: bool = False
    timeout: float = 10

    @classmethod
    def from_env(cls, env=os.environ) -> "SmtpSettings | None":
        """OMS_SMTP_HOST (unset: no e-mail), OMS_SMTP_PORT, OMS_SMTP_USER, OMS_SMTP_PASSWORD,
        OMS_SMTP_FROM, OMS_SMTP_STARTTLS=1, OMS_SMTP_SSL=1."""
        host = env.get("OMS_SMTP_HOST")
        if not host:
            return None
        return cls(host=host, port=int(env.get("OMS_SMTP_PORT") or 25), user=env.get("OMS_SMTP_USER") or None,
                   password=env.get("OMS_SMTP_PASSWORD") or None,
                   sender=env.get("OMS_SMTP_FROM") or cls.sender,
                   starttls=env.get("OMS_SMTP_STARTTLS") == "1", ssl=env.get("OMS_SMTP_SSL") == "1")

    def __repr__(self) -> str:  # never show the password
        return f"SmtpSettings({self.host!r}, {self.port}, user={self.user!r})"


def send(settings: SmtpSettings, to: list[str], subject: str, text: str, headers: dict | None = None,
         attachments: list[tuple[str, bytes, str]] = ()) -> None:
    """`attachments`: (filename, bytes, "type/subtype")."""
    msg = EmailMessage()
    msg["From"] = settings.sender
    msg["To"] = ", ".join(to)
    msg["Subject"] = subject
    for k, v in (headers or {}).items():
        msg[k] = v
    msg.set_content(text)
    for filename, data, mimetype in attachments:
        maintype, subtype = mimetype.split("/", 1)
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    cls = smtplib.SMTP_SSL if settings.ssl else smtplib.SMTP
    with cls(settings.host, settings.port, timeout=settings.timeout) as smtp:
        if settings.starttls:
            smtp.starttls()
        if settings.user:
            smtp.login(settings.user, settings.password or "")
        smtp.send_message(msg)
