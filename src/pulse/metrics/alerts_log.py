"""alerts.active and alerts.action_items — what the alert rules found, as catalog tables for
the dashboards and exports (seed 003 §8: real-time alerts, weekly action items).

Both are written by `pulse.alerts.state` when the rules run, never through ingestion, so they
are read straight from the store and never remembered.
"""

from __future__ import annotations

import ibis
import pandas as pd

from pulse.metrics.catalog import Column, Metric, Table
from pulse.metrics.tables import TableContext

SEVERITY_ORDER = ("critical", "warning", "opportunity")
PRIORITY_ORDER = ("high", "medium", "low")
CLOSED = ("done", "dismissed")  # action item statuses that end the work


def _rank(value: ibis.StringValue, order: tuple[str, ...]) -> ibis.Value:
    return ibis.cases(*[(value == name, i) for i, name in enumerate(order)], else_=len(order))


def _active(ctx: TableContext) -> ibis.Table:
    """Alerts firing at the window end: fired before it and not cleared by then."""
    alerts = ctx.src.store.table("alerts")
    firing = alerts.filter(
        (alerts.fired_at < ctx.end) & (alerts.cleared_at.isnull() | (alerts.cleared_at >= ctx.end))
    )
    ranked = firing.order_by(
        [_rank(firing.severity, SEVERITY_ORDER), ibis.desc(firing.fired_at), ibis.desc(firing.id)]
    )
    return ranked.select(
        rule=ranked.rule_id,
        severity=ranked.severity,
        subject=ranked.subject,
        message=ranked.message,
        value=ranked.value,
        since=ranked.fired_at,
    )


def _action_items(ctx: TableContext) -> pd.DataFrame:
    """Items opened by the window end that are still open, or were last changed in the window."""
    items = ctx.src.store.table("action_items")
    alerts = ctx.src.store.table("alerts").select(
        aid=ibis._.id, rule=ibis._.rule_id, subject=ibis._.subject
    )
    joined = items.left_join(alerts, items.alert_id == alerts.aid)
    shown = joined.filter(
        (joined.created_at < ctx.end)
        & (~joined.status.isin(CLOSED) | (joined.updated_at >= ctx.start))
    )
    ranked = shown.order_by([_rank(shown.priority, PRIORITY_ORDER), shown.due, shown.id])
    frame = ctx.fetch(
        ranked.select(
            "priority",
            "action",
            "owner",
            "due",
            "status",
            "rule",
            "subject",
            opened=ranked.created_at,
        )
    )
    frame["due"] = [pd.Timestamp(d).date() for d in frame["due"]]  # a day, not a moment
    return frame


METRICS: tuple[Metric | Table, ...] = (
    Table(
        "alerts.active",
        "Active alerts",
        "Alerts firing at the window end (fired, condition not yet cleared), critical before "
        "warning before opportunity, newest first: the rule, its severity, the subject it holds "
        "for (partner, provider, platform …), the message, the value it found and since when.",
        (
            Column("rule", "Rule", "text"),
            Column("severity", "Severity", "text"),
            Column("subject", "Subject", "text"),
            Column("message", "Message", "text"),
            Column("value", "Value"),
            Column("since", "Since", "datetime"),
        ),
        _active,
        remembered=False,  # written by the alert rules, never through ingestion
    ),
    Table(
        "alerts.action_items",
        "Action items",
        "What to do about the alerts (seed 003 §8.2): items opened by the window end that are "
        "still open, or were done or dismissed within the window; high priority first, then by "
        "due date. Each names its owner, due date, status and the rule and subject that opened "
        "it.",
        (
            Column("priority", "Priority", "text"),
            Column("action", "Action", "text"),
            Column("owner", "Owner", "text"),
            Column("due", "Due", "date"),
            Column("status", "Status", "text"),
            Column("rule", "Rule", "text"),
            Column("subject", "Subject", "text"),
            Column("opened", "Opened", "datetime"),
        ),
        _action_items,
        remembered=False,  # written by the alert rules and status changes, never ingested
    ),
)
