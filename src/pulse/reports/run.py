"""One run of a report (now, or by the scheduler), and alert notifications."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pulse.alerts import state
from pulse.alerts.state import Fired
from pulse.reports import claims, deliver, subscriptions
from pulse.reports.build import Rendered, RunScope, render
from pulse.reports.catalog import get
from pulse.settings import Settings
from pulse.store.store import Store

log = logging.getLogger(__name__)


def last_complete_day(now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).date() - timedelta(days=1)


def run_report(
    store: Store,
    settings: Settings,
    name: str,
    as_of: date | None = None,
    emails: Sequence[str] = (),
    webhooks: Sequence[str] = (),
    experience: str | None = None,
    partner: str | None = None,
) -> list[dict[str, Any]]:
    """Render and send a report: to the given recipients, or (none given) to its subscribers,
    one rendering per experience and partner. Returns what was sent to whom."""
    report = get(name)
    day = as_of or last_complete_day()
    groups: dict[tuple[str, str | None], dict[str, list[str]]] = defaultdict(
        lambda: {"email": [], "webhook": []}
    )
    if emails or webhooks:
        if report.per_experience and not experience:
            raise ValueError(f"experience: {name} is per experience; name one")
        groups[(experience or "", partner)] = {"email": list(emails), "webhook": list(webhooks)}
    else:
        for sub in subscriptions.subscribers(store, name):
            groups[(sub.subject, sub.partner_id)][sub.channel].append(sub.address)
    results = []
    for (subject, owner), recipients in groups.items():
        scope = RunScope(day, owner, subject or None, settings.tz, settings.currency)
        rendered = render(store, report, scope)
        sent = deliver.deliver(settings, rendered, recipients["email"], recipients["webhook"])
        results.append({"report": name, "experience": subject or None, "partner": owner, **sent})
    return results


def run_scheduled(
    store: Store, settings: Settings, name: str, now: datetime | None = None
) -> list[dict[str, Any]] | None:
    """The scheduler's run of a report: for the last complete day before `now`, sent only by
    the process that claims the (report, day) run first; None when another one had it."""
    day = last_complete_day(now)
    if not claims.claim(store, f"report:{name}", day.isoformat()):
        log.info("report %s for %s: claimed by another process", name, day)
        return None
    return run_report(store, settings, name, day)


def preview(store: Store, settings: Settings, name: str, as_of: date, **scope: Any) -> Rendered:
    return render(
        store, get(name), RunScope(as_of, tz=settings.tz, currency=settings.currency, **scope)
    )


def alert_body(fired: Sequence[Fired]) -> dict[str, Any]:
    """Slack-compatible message of newly fired alerts, critical first."""
    icons = {"critical": "🔴", "warning": "🟡", "opportunity": "🟢"}
    order = {"critical": 0, "warning": 1, "opportunity": 2}
    ranked = sorted(fired, key=lambda f: order[f.rule.severity])
    lines = [
        f"{icons[f.rule.severity]} {f.rule.severity.upper()}: {f.finding.message}" for f in ranked
    ]
    text = "Pulse alerts\n" + "\n".join(lines)
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": line}} for line in lines]
    return {"text": text, "blocks": blocks}


def check_alerts(
    store: Store,
    settings: Settings,
    now: datetime | None = None,
    rules: list[str] | None = None,
) -> list[Fired]:
    """Evaluate the alert rules (default: all) and send what newly fired to the alert webhooks
    and e-mail addresses."""
    now = now or datetime.now(UTC)
    fired = state.evaluate(
        store, now.date(), now, rules, tz=settings.tz, currency=settings.currency
    )
    if not fired:
        return fired
    body = alert_body(fired)
    for url in settings.alert_webhooks:
        try:
            deliver.post_webhook(url, body)
        except Exception as exc:
            log.warning("alerts: webhook %s failed: %s", url, exc)
    if settings.alert_emails and settings.smtp_host:
        from email.message import EmailMessage

        message = EmailMessage()
        message["Subject"] = f"Pulse: {len(fired)} new alert(s)"
        message["From"] = settings.smtp_from
        message["To"] = ", ".join(settings.alert_emails)
        message.set_content(body["text"])
        try:
            deliver.send_email(settings, message)
        except Exception as exc:
            log.warning("alerts: e-mail failed: %s", exc)
    return fired


def check_alerts_scheduled(
    store: Store, settings: Settings, now: datetime | None = None
) -> list[Fired] | None:
    """The scheduler's alert check: run by the one process that claims the current slot of
    `alert_minutes` (None for the others), so an alert is not fired and sent twice."""
    now = now or datetime.now(UTC)
    if not claims.claim(store, claims.ALERTS_JOB, claims.alert_slot(now, settings.alert_minutes)):
        return None
    claims.forget_alert_slots(store, now)
    return check_alerts(store, settings, now)
