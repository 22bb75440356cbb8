"""Outgoing mail through SMTP (configured by environment; a local sink in the embedded
stack and the tests). Sending runs in a thread; a failure is logged, never shown to the
caller (a reset request answers the same whether or not the mail left)."""

from __future__ import annotations

import asyncio
import smtplib
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from slate_common.logging import get_logger

from ..config import AuthSettings

log = get_logger(__name__)


def _send(settings: AuthSettings, message: EmailMessage) -> None:
    smtp_class = smtplib.SMTP_SSL if settings.smtp_ssl else smtplib.SMTP
    with smtp_class(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout) as smtp:
        if settings.smtp_starttls and not settings.smtp_ssl:
            smtp.starttls()
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password or "")
        smtp.send_message(message)


async def send_mail(settings: AuthSettings, *, to: str, subject: str, body: str) -> bool:
    """Send a plain-text mail; True when the SMTP server accepted it."""
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="slate.local")
    message.set_content(body)
    try:
        await asyncio.to_thread(_send, settings, message)
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("mail_not_sent", subject=subject, error=type(exc).__name__)
        return False
    log.info("mail_sent", subject=subject)
    return True
