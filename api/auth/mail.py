"""Sending Frontline's few emails (sign-up confirmation) through the configured SMTP server.

Plain text only, no tracking, nothing about patients. Sent while the request waits, so a mail
server that refuses is an error the person sees (503) rather than a link that never comes.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage

from api.config import Settings
from api.errors import ServiceUnavailable

logger = logging.getLogger("frontline.mail")

SMTP_TIMEOUT_SECONDS = 15


def send_mail(settings: Settings, to: str, subject: str, body: str) -> None:
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    try:
        with smtplib.SMTP(
            settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT_SECONDS
        ) as smtp:
            if settings.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_username:
                password = (
                    settings.smtp_password.get_secret_value() if settings.smtp_password else ""
                )
                smtp.login(settings.smtp_username, password)
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        logger.warning("mail not sent", extra={"event": "mail_failed", "error": type(exc).__name__})
        raise ServiceUnavailable(
            "We could not send the email just now. Try again in a few minutes."
        ) from exc
    logger.info("mail sent", extra={"event": "mail_sent"})
