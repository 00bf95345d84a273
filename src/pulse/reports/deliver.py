"""Delivering reports and alerts: SMTP e-mail (settings PULSE_SMTP_HOST/PORT/FROM) and HTTP
webhooks (Slack-compatible JSON, posted with httpx)."""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

import httpx

from pulse.reports.build import CHART_CID, Rendered
from pulse.settings import Settings

log = logging.getLogger(__name__)
WEBHOOK_TIMEOUT = 10.0


def email_message(rendered: Rendered, sender: str, to: Sequence[str]) -> EmailMessage:
    """multipart/alternative: plain text, and HTML with the chart as a related PNG (cid:)."""
    message = EmailMessage()
    message["Subject"] = rendered.subject
    message["From"] = sender
    message["To"] = ", ".join(to)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="pulse.local")
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    if rendered.png is not None:
        html_part = message.get_payload()[1]  # type: ignore[index]
        assert isinstance(html_part, EmailMessage)
        html_part.add_related(rendered.png, "image", "png", cid=f"<{CHART_CID}>")
    return message


def send_email(settings: Settings, message: EmailMessage) -> None:
    if not settings.smtp_host:
        raise RuntimeError("e-mail: set PULSE_SMTP_HOST to send e-mail")
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30) as smtp:
        smtp.send_message(message)


def post_webhook(url: str, body: dict[str, Any]) -> int:
    """POST the JSON body; the receiver's HTTP status (raises for a network failure or 4xx/5xx)."""
    response = httpx.post(url, json=body, timeout=WEBHOOK_TIMEOUT)
    response.raise_for_status()
    return response.status_code


def deliver(
    settings: Settings, rendered: Rendered, emails: Sequence[str], webhooks: Sequence[str]
) -> dict[str, list[str]]:
    """Send to every recipient; a failing webhook does not stop the others (logged, listed)."""
    sent: dict[str, list[str]] = {"email": [], "webhook": [], "failed": []}
    if emails:
        try:
            send_email(settings, email_message(rendered, settings.smtp_from, emails))
            sent["email"].extend(emails)
        except (OSError, smtplib.SMTPException, RuntimeError) as exc:
            log.warning("report %s: e-mail failed: %s", rendered.report, exc)
            sent["failed"].extend(emails)
    for url in webhooks:
        try:
            post_webhook(url, rendered.webhook)
            sent["webhook"].append(url)
        except httpx.HTTPError as exc:
            log.warning("report %s: webhook %s failed: %s", rendered.report, url, exc)
            sent["failed"].append(url)
    return sent
