"""Evaluating the rules and remembering what fired.

An alert fires once when its condition starts to hold for a subject (a row in `alerts` with no
`cleared_at`), stays quiet while it keeps holding, and re-arms when an evaluation finds it no
longer holds (`cleared_at` is set). Each firing opens an action item (seed 003 §8.2).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pulse.alerts.rules import RULES, Context, Finding, Rule
from pulse.metrics import CATALOG
from pulse.metrics.engine import Engine
from pulse.store.store import Store

log = logging.getLogger(__name__)
STATUSES = ("pending", "in_progress", "planned", "scheduled", "done", "dismissed")


@dataclass(frozen=True)
class Fired:
    """An alert that fired in this evaluation."""

    id: int
    rule: Rule
    finding: Finding

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "rule": self.rule.id,
            "severity": self.rule.severity,
            "subject": self.finding.subject,
            "message": self.finding.message,
            "value": self.finding.value,
        }


def thresholds(store: Store) -> dict[str, float]:
    """Each rule's threshold: the stored one where an admin changed it, else the default."""
    stored = dict(store.execute("SELECT rule_id, threshold FROM alert_thresholds"))
    return {rid: float(stored.get(rid, rule.threshold)) for rid, rule in RULES.items()}


def set_threshold(store: Store, rule_id: str, threshold: float) -> None:
    if rule_id not in RULES:
        raise KeyError(f"alert rule: unknown id {rule_id!r}")
    store.execute(
        "INSERT INTO alert_thresholds (rule_id, threshold, updated_at) VALUES (?, ?, ?) "
        "ON CONFLICT (rule_id) DO UPDATE SET threshold = excluded.threshold, "
        "updated_at = excluded.updated_at",
        (rule_id, threshold, datetime.now(UTC)),
    )


def evaluate(
    store: Store,
    as_of: date | None = None,
    now: datetime | None = None,
    rules: list[str] | None = None,
    tz: str = "UTC",
    currency: str = "USD",
) -> list[Fired]:
    """Run the rules; store new firings and clearings; return what newly fired."""
    now = now or datetime.now(UTC)
    ctx = Context(store, Engine(store, CATALOG, currency), as_of or now.date(), now, tz)
    limits = thresholds(store)
    fired: list[Fired] = []
    for rule_id in rules or list(RULES):
        rule = RULES[rule_id]
        try:
            findings = rule.find(ctx, limits[rule_id])
        except Exception:  # one broken rule must not silence the others
            log.exception("alert rule %s failed", rule_id)
            continue
        fired.extend(_record(store, rule, findings, now))
    return fired


def _record(store: Store, rule: Rule, findings: list[Finding], now: datetime) -> list[Fired]:
    open_rows = store.execute(
        "SELECT id, subject FROM alerts WHERE rule_id = ? AND cleared_at IS NULL", (rule.id,)
    )
    active = {subject: int(id_) for id_, subject in open_rows}
    holding = {f.subject: f for f in findings}
    for subject, alert_id in active.items():
        if subject not in holding:
            store.execute("UPDATE alerts SET cleared_at = ? WHERE id = ?", (now, alert_id))
    fired = []
    for subject, finding in holding.items():
        if subject in active:
            continue
        with store.transaction() as cur:
            cur.execute(
                store.placeholders(
                    "INSERT INTO alerts (rule_id, subject, severity, message, value, fired_at) "
                    "VALUES (?, ?, ?, ?, ?, ?) RETURNING id"
                ),
                (rule.id, subject, rule.severity, finding.message, finding.value, now),
            )
            alert_id = int(cur.fetchall()[0][0])
            cur.execute(
                store.placeholders(
                    "INSERT INTO action_items (alert_id, priority, action, owner, due, status, "
                    "created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'pending', ?, ?)"
                ),
                (
                    alert_id,
                    rule.priority,
                    rule.action.format(subject=_short(subject)),
                    rule.owner,
                    now.date() + timedelta(days=rule.due_days),
                    now,
                    now,
                ),
            )
        fired.append(Fired(alert_id, rule, finding))
    return fired


def _short(subject: str) -> str:
    return subject.split("|")[1] if "|" in subject and subject.count("|") == 2 else subject


def _utc(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        moment = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return moment.isoformat()
    return str(value.isoformat()) if hasattr(value, "isoformat") else str(value)


def list_alerts(store: Store, active_only: bool = False, limit: int = 200) -> list[dict[str, Any]]:
    """Alerts newest first, critical before warning before opportunity within an instant."""
    clause = "WHERE cleared_at IS NULL" if active_only else ""
    rows = store.execute(
        "SELECT id, rule_id, subject, severity, message, value, fired_at, cleared_at "
        f"FROM alerts {clause} ORDER BY fired_at DESC, id DESC LIMIT ?",
        (limit,),
    )
    return [
        {
            "id": int(r[0]),
            "rule": r[1],
            "label": RULES[r[1]].label if r[1] in RULES else r[1],
            "subject": r[2],
            "severity": r[3],
            "message": r[4],
            "value": r[5],
            "fired_at": _utc(r[6]),
            "cleared_at": _utc(r[7]),
            "active": r[7] is None,
        }
        for r in rows
    ]


def list_action_items(store: Store, status: str | None = None) -> list[dict[str, Any]]:
    clause, params = ("WHERE status = ?", (status,)) if status else ("", ())
    rows = store.execute(
        "SELECT id, alert_id, priority, action, owner, due, status, created_at, updated_at "
        f"FROM action_items {clause} ORDER BY due, id",
        params,
    )
    order = {"high": 0, "medium": 1, "low": 2}
    items = [
        {
            "id": int(r[0]),
            "alert_id": None if r[1] is None else int(r[1]),
            "priority": r[2],
            "action": r[3],
            "owner": r[4],
            "due": _utc(r[5]),
            "status": r[6],
            "created_at": _utc(r[7]),
            "updated_at": _utc(r[8]),
        }
        for r in rows
    ]
    return sorted(items, key=lambda i: (order.get(i["priority"], 3), i["due"] or "", i["id"]))


def set_status(store: Store, item_id: int, status: str) -> bool:
    """Change an action item's status; False when there is no such item."""
    if status not in STATUSES:
        raise ValueError(f"status: {status!r} is not one of {', '.join(STATUSES)}")
    if not store.execute("SELECT 1 FROM action_items WHERE id = ?", (item_id,)):
        return False
    store.execute(
        "UPDATE action_items SET status = ?, updated_at = ? WHERE id = ?",
        (status, datetime.now(UTC), item_id),
    )
    return True
