"""finance.missed_payments — partners' own payments to the platform that failed and are still
unpaid (seed 003 §8.1: "White-label partner Acme Agency missed payment (3 days overdue)").

A partner's payment is a billing event about the partner itself: `payment_failed` with the
partner in `groupId` or `partner_id` and no `userId` (a customer's failed payment is the
customer's). A failure is settled by the partner's first later `invoice_paid` of at least the
same amount (reporting currency) that has not settled an earlier failure; what is left unpaid at
the window end is missed, overdue since the day it failed.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

import ibis
import pandas as pd

from pulse.metrics.catalog import Column, Metric, Table
from pulse.metrics.source import Source
from pulse.metrics.tables import TableContext


def _partner_payments(src: Source, event: str) -> ibis.Table:
    """A partner's own billing events: ts, message_id, partner_id, amount (reporting currency)."""
    events = src.track(event)
    events = events.filter(events.user_id.isnull())
    events = events.mutate(partner_id=ibis.coalesce(events.partner_id, events.group_id))
    events = src.in_reporting_currency(events.filter(events.partner_id.notnull()), "amount")
    return events.select(
        "ts",
        "message_id",
        "partner_id",
        amount=events.amount_rep,
        currency=ibis.coalesce(events.currency.upper(), ibis.literal(src.currency)),
    )


def unsettled(failed: pd.DataFrame, paid: pd.DataFrame) -> pd.DataFrame:
    """The failures no payment settled: each failure, oldest first, is settled by its
    partner's earliest payment at or after it, of at least the amount, not yet used."""
    payments = {
        pid: list(zip(group["ts"], group["amount"], strict=True))
        for pid, group in paid.groupby("partner_id")
    }
    kept = []
    for row in failed.sort_values(["ts", "message_id"]).to_dict("records"):
        left = payments.get(row["partner_id"], [])
        match = next((p for p in left if p[0] >= row["ts"] and _covers(p[1], row["amount"])), None)
        if match is None:
            kept.append(row)
        else:
            left.remove(match)
    return pd.DataFrame(kept, columns=failed.columns)


def _covers(paid: float | None, owed: float | None) -> bool:
    return (
        owed is None or pd.isna(owed) or (paid is not None and not pd.isna(paid) and paid >= owed)
    )


def _missed(ctx: TableContext) -> pd.DataFrame:
    failed = ctx.fetch(
        ctx.in_window(ctx.scoped(_partner_payments(ctx.src, "payment_failed")))
    ).reset_index(drop=True)
    paid = _partner_payments(ctx.src, "invoice_paid")
    paid = ctx.fetch(ctx.scoped(paid.filter(paid.ts < ctx.end))).sort_values(["ts", "message_id"])
    missed = unsettled(failed, paid)
    names = ctx.fetch(ctx.src.latest("partner", "name", before=ctx.end)).rename(
        columns={"entity_id": "partner_id", "value": "name"}
    )
    kinds = ctx.fetch(ctx.src.latest("partner", "kind", before=ctx.end)).rename(
        columns={"entity_id": "partner_id", "value": "partner_kind"}
    )
    out = missed.merge(names, on="partner_id", how="left").merge(kinds, on="partner_id", how="left")
    zone = ZoneInfo(ctx.query.tz)
    last_day = ctx.window.end
    out["failed_at"] = out["ts"]
    out["days_overdue"] = [
        (last_day - pd.Timestamp(ts).tz_convert(zone).date()).days for ts in out["ts"]
    ]
    out = out.sort_values(["days_overdue", "partner_id"], ascending=[False, True])
    return out.reindex(columns=[c.name for c in COLUMNS])


COLUMNS = (
    Column("partner_id", "Partner", "text"),
    Column("name", "Name", "text"),
    Column("partner_kind", "Kind", "text"),
    Column("amount", "Amount", "money"),
    Column("currency", "Currency", "text"),
    Column("failed_at", "Failed", "datetime"),
    Column("days_overdue", "Days overdue", "days"),
)

METRICS: tuple[Metric | Table, ...] = (
    Table(
        "finance.missed_payments",
        "Missed partner payments",
        "Partner payments to the platform (payment_failed about the partner itself: groupId or "
        "partner_id, no userId) that failed in the window and were not paid by its end: no "
        "later invoice_paid of the partner for at least the amount. Days overdue: from the day "
        "it failed to the window's last day. Follow up with Finance.",
        COLUMNS,
        _missed,
        per_partner=True,
    ),
)
