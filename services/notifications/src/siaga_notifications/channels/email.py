"""E-mail over SMTP (aiosmtplib), multipart/alternative (plain text and HTML, both with the acknowledge
links). The Message-ID is derived from the notification id, so a mail server or
client can recognise a repeated delivery."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate

import aiosmtplib

from .base import ChannelError, Outgoing
from .text import actions_text, email_html

__all__ = ["EmailSender"]


class EmailSender:
    name = "email"

    def __init__(
        self,
        *,
        host: str,
        port: int,
        sender: str,
        user: str | None = None,
        password: str | None = None,
        starttls: bool = False,
        timeout: float = 10.0,
    ) -> None:
        self._host = host
        self._port = port
        self._sender = sender
        self._user = user
        self._password = password
        self._starttls = starttls
        self._timeout = timeout

    async def send(self, message: Outgoing) -> None:
        if not message.address:
            raise ChannelError("contact has no e-mail address", retryable=False)
        mail = EmailMessage()
        mail["From"] = self._sender
        mail["To"] = message.address
        mail["Subject"] = message.title
        mail["Date"] = formatdate(localtime=False)
        mail["Message-ID"] = f"<{message.notification_id}@siaga>"
        mail["X-Siaga-Notification-Id"] = message.notification_id
        mail["Content-Language"] = message.language
        links = actions_text(message)
        mail.set_content(f"{message.body}\n\n{links}\n" if links else f"{message.body}\n")
        mail.add_alternative(email_html(message), subtype="html")  # multipart/alternative: plain, then HTML
        try:
            await aiosmtplib.send(
                mail,
                hostname=self._host,
                port=self._port,
                username=self._user,
                password=self._password,
                start_tls=self._starttls,
                use_tls=False,
                timeout=self._timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused:
            raise ChannelError("SMTP refused the recipient", retryable=False) from None
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise ChannelError(f"SMTP {type(exc).__name__}") from None

    async def close(self) -> None:
        return None
