"""Report subscriptions (seed 002: the bell icon signs a user up for, or off, the daily report
of one experience; other reports are subscribed the same way, without an experience)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from pulse.reports.catalog import get
from pulse.store.store import Store

Channel = Literal["email", "webhook"]


@dataclass(frozen=True)
class Subscription:
    report: str
    subject: str  # the experience id for per-experience reports, else ""
    channel: Channel
    address: str
    partner_id: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "report": self.report,
            "experience": self.subject or None,
            "channel": self.channel,
            "address": self.address,
            "partner_id": self.partner_id,
        }


def _check(report: str, experience: str | None, channel: str, address: str) -> str:
    definition = get(report)
    if definition.per_experience and not experience:
        raise ValueError(f"experience: {report} is per experience; name one")
    if not definition.per_experience and experience:
        raise ValueError(f"experience: {report} is not per experience")
    if channel == "email" and ("@" not in address or any(c in address for c in " \r\n,;<>")):
        raise ValueError(f"address: {address!r} is not an e-mail address")
    if channel == "webhook" and not address.startswith(("http://", "https://")):
        raise ValueError(f"address: {address!r} is not an http(s) URL")
    if channel not in ("email", "webhook"):
        raise ValueError(f"channel: {channel!r} is not email or webhook")
    return experience or ""


def subscribe(
    store: Store,
    report: str,
    address: str,
    *,
    channel: Channel = "email",
    experience: str | None = None,
    partner_id: str | None = None,
    created_by: str | None = None,
) -> Subscription:
    subject = _check(report, experience, channel, address)
    store.execute(
        "INSERT INTO report_subscriptions (report, subject, channel, address, partner_id, "
        "created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        (report, subject, channel, address, partner_id, created_by, datetime.now(UTC)),
    )
    return Subscription(report, subject, channel, address, partner_id)


def unsubscribe(
    store: Store,
    report: str,
    address: str,
    *,
    channel: Channel = "email",
    experience: str | None = None,
    partner_id: str | None = None,
) -> bool:
    """Remove a subscription (a partner only its own); False when there was none."""
    subject = experience or ""
    where = "report = ? AND subject = ? AND channel = ? AND address = ?"
    params: tuple[Any, ...] = (report, subject, channel, address)
    if partner_id is not None:
        where += " AND partner_id = ?"
        params += (partner_id,)
    found = store.execute(f"SELECT count(*) FROM report_subscriptions WHERE {where}", params)
    if not found[0][0]:
        return False
    store.execute(f"DELETE FROM report_subscriptions WHERE {where}", params)
    return True


def subscribers(store: Store, report: str) -> list[Subscription]:
    rows = store.execute(
        "SELECT report, subject, channel, address, partner_id FROM report_subscriptions "
        "WHERE report = ? ORDER BY subject, channel, address",
        (report,),
    )
    return [Subscription(r[0], r[1], r[2], r[3], r[4]) for r in rows]
