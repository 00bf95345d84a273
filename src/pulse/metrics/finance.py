"""finance.* — revenue attribution, commissions and payouts, program ROI, LTV and CAC (seed 003 §5).

Commissions: `commission_earned` (partner_id, amount) is earned; it is *pending* during the
program's holding period (HOLDING_DAYS after it is earned), then *due* until paid. Payouts
(`payout_sent`: partner_id, amount) pay a partner's oldest commissions first, so whatever a
partner is owed beyond its commissions still in holding is due. A commission taken back on a
refund or for fraud is signalled by the custom event `commission_reversed` (partner_id, amount
as a positive number); a reversal also leaves the holding period it falls in.

Spend: `spend_recorded` (channel, amount) is acquisition spend, except channel
`partner_program` (PROGRAM_CHANNEL), which is the program's infrastructure cost (tools, support,
overhead) and counts as a program cost, not as CAC.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import ibis
import pandas as pd
from ibis import _

from pulse.metrics.catalog import (
    Balance,
    Column,
    Derived,
    Flow,
    Metric,
    Ref,
    Stock,
    Table,
    ratio,
)
from pulse.metrics.revenue import REVENUE_DIMS, revenue_facts
from pulse.metrics.source import Source
from pulse.metrics.tables import TableContext
from pulse.metrics.windows import instant

HOLDING_DAYS = 30  # the program's holding period: a commission is pending this long
PROGRAM_CHANNEL = "partner_program"  # spend_recorded channel of program infrastructure costs
PARTNER_DIMS = ("partner", "partner_kind", "tier")
TRANSACTIONS = {
    "invoice_paid": "invoice",
    "refund_issued": "refund",
    "credits_purchased": "credits purchase",
    "payout_sent": "payout",
    "commission_earned": "commission",
    "commission_reversed": "commission reversal",
}


def _money(src: Source, *events: str) -> ibis.Table:
    """Money events with customer and partner (the event's own, else its group or customer's)
    and `amount_rep` in the reporting currency (events without a rate are kept, unconverted)."""
    attributed = src.attributed(src.track(*events))
    attributed = attributed.mutate(
        partner_id=ibis.coalesce(attributed.partner_id, attributed.group_id)
    )
    return src.in_reporting_currency(attributed, "amount")


def _amounts(src: Source, event: str, sign: int = 1) -> ibis.Table:
    events = _money(src, event)
    events = events.filter(events.amount_rep.notnull())
    return events.select("ts", "customer_id", "partner_id", value=events.amount_rep.abs() * sign)


def partner_revenue_facts(src: Source) -> ibis.Table:
    """Partner-sourced revenue: revenue of customers who belong to a partner (partner_id) or
    were referred by one (referred_by: affiliates, referral partners), credited to it."""
    facts = revenue_facts(src)
    referrer = src.latest("customer", "referred_by").select(rid=_.entity_id, referred_by=_.value)
    joined = facts.left_join(referrer, facts.customer_id == referrer.rid)
    joined = joined.mutate(partner_id=ibis.coalesce(joined.partner_id, joined.referred_by))
    return joined.filter(joined.partner_id.notnull()).select(
        "ts", "customer_id", "partner_id", "value"
    )


def earned_facts(src: Source) -> ibis.Table:
    return _amounts(src, "commission_earned")


def reversed_facts(src: Source) -> ibis.Table:
    return _amounts(src, "commission_reversed")


def payout_facts(src: Source) -> ibis.Table:
    return _amounts(src, "payout_sent")


def owed_facts(src: Source) -> ibis.Table:
    """Signed commission ledger: earned − reversed − paid."""
    return ibis.union(
        earned_facts(src),
        _amounts(src, "commission_reversed", -1),
        _amounts(src, "payout_sent", -1),
    )


def holding_facts(src: Source) -> ibis.Table:
    """Earned (+) and reversed (−) commissions while inside the holding period."""
    facts = ibis.union(earned_facts(src), _amounts(src, "commission_reversed", -1))
    return facts.select(
        "customer_id",
        "partner_id",
        "value",
        valid_from=facts.ts,
        valid_to=facts.ts + ibis.interval(days=HOLDING_DAYS),
    )


def year_start(src: Source) -> Any:
    """The UTC instant at which the calendar year of the as-of date begins (reporting zone)."""
    last_day = (src.as_of - timedelta(microseconds=1)).astimezone(ZoneInfo(src.tz)).date()
    return instant(last_day.replace(month=1, day=1), src.tz)


def ytd_facts(src: Source) -> ibis.Table:
    facts = earned_facts(src)
    return facts.filter(facts.ts >= year_start(src))


def _spend(src: Source) -> ibis.Table:
    events = src.in_reporting_currency(src.track("spend_recorded"), "amount")
    events = events.filter(events.amount_rep.notnull())
    return events.select(
        "ts",
        "channel",
        customer_id=ibis.null("string"),
        partner_id=ibis.null("string"),
        value=events.amount_rep,
    )


def acquisition_spend_facts(src: Source) -> ibis.Table:
    spend = _spend(src)
    return spend.filter(spend.channel.isnull() | (spend.channel != PROGRAM_CHANNEL))


def program_cost_facts(src: Source) -> ibis.Table:
    """Commissions earned − reversed, plus the program's infrastructure spend."""
    spend = _spend(src)
    infra = spend.filter(spend.channel == PROGRAM_CHANNEL).drop("channel")
    return ibis.union(
        earned_facts(src), _amounts(src, "commission_reversed", -1), infra.select(*infra.columns)
    )


# -- formulas -----------------------------------------------------------------------------------


def share(part: float | None, whole: float | None) -> float | None:
    """part / whole × 100 (None when the whole is empty)."""
    if part is None or not whole:
        return None
    return part / whole * 100


def _pending(values: Sequence[float | None], _days: int) -> float | None:
    """In holding, but never more than is owed (an early payout shrinks it)."""
    holding, owed = (v or 0.0 for v in values)
    return max(min(holding, owed), 0.0)


def _due(values: Sequence[float | None], _days: int) -> float | None:
    holding, owed = (v or 0.0 for v in values)
    return max(owed - max(holding, 0.0), 0.0)


def _net(values: Sequence[float | None], _days: int) -> float | None:
    revenue, costs = (v or 0.0 for v in values)
    return revenue - costs


def ltv(arpc: float | None, churn_rate: float | None, days: int) -> float | None:
    """ARPC per month / monthly churn (the window's churn rate scaled to 30 days)."""
    if arpc is None or not churn_rate:
        return None
    return arpc / (churn_rate / 100 * 30 / days)


def _ltv(values: Sequence[float | None], days: int) -> float | None:
    return ltv(values[0], values[1], days)


def _ltv_cac(values: Sequence[float | None], _days: int) -> float | None:
    value, cac = values
    if value is None or not cac:
        return None
    return value / cac


# -- tables -------------------------------------------------------------------------------------


def revenue_by_channel_table(ctx: TableContext) -> pd.DataFrame:
    answer = ctx.ask("revenue.total", by="channel")
    frame = pd.DataFrame(
        [
            {
                "channel": r["key"],
                "revenue": r["value"],
                "share": share(r["value"], answer["value"]),
            }
            for r in answer["rows"]
        ],
        columns=["channel", "revenue", "share"],
    )
    return frame


def commissions_table(ctx: TableContext) -> pd.DataFrame:
    metrics = {
        "earned": "finance.commissions_earned",
        "paid": "finance.payouts",
        "reversed": "finance.commissions_reversed",
        "pending": "finance.commissions_pending",
        "due": "finance.commissions_due",
        "outstanding": "finance.commissions_outstanding",
    }
    frame = ctx.gather("partner", "partner", metrics)
    frame = frame[frame["partner"].notna()]
    frame[list(metrics)] = frame[list(metrics)].astype(float).fillna(0.0)  # no facts: nothing
    frame = frame[(frame[list(metrics)] != 0).any(axis=1)]
    return frame.sort_values(["outstanding", "partner"], ascending=[False, True])


def ltv_by_channel_table(ctx: TableContext) -> pd.DataFrame:
    metrics = {
        "arpc": "revenue.per_customer",
        "churn_rate": "customers.churn_rate",
        "ltv": "finance.ltv",
        "cac": "finance.cac",
        "ltv_cac": "finance.ltv_cac",
    }
    frame = ctx.gather("channel", "channel", metrics)
    # a channel with no customers (a partner kind whose partners only pay fees) has no LTV
    frame = frame[frame["channel"].notna()].dropna(subset=list(metrics), how="all")
    return frame.sort_values("channel")


def transactions_table(ctx: TableContext) -> ibis.Table:
    """Money movements in the window, most recent first (seed 001 transaction log)."""
    events = ctx.scoped(ctx.in_window(_money(ctx.src, *TRANSACTIONS)))
    kind = ibis.cases(*[(events.event == e, t) for e, t in TRANSACTIONS.items()])
    return events.select(
        "ts",
        type=kind,
        customer=events.customer_id,
        partner=events.partner_id,
        amount=events.amount.cast("float64"),
        currency=ibis.coalesce(events.currency.upper(), ibis.literal(ctx.src.currency)),
        amount_reporting=events.amount_rep,
        message_id=events.message_id,
    ).order_by([ibis.desc("ts"), ibis.desc("message_id")])


METRICS: tuple[Metric | Table, ...] = (
    Metric(
        "finance.partner_revenue",
        "Partner-sourced revenue",
        "Revenue (invoices − refunds) in the window from customers who belong to a partner or "
        "were referred by one (affiliates, referral partners).",
        "money",
        Flow(partner_revenue_facts),
        dims=REVENUE_DIMS,
    ),
    Metric(
        "finance.partner_revenue_share",
        "Partner-sourced revenue share",
        "Partner-sourced revenue / all revenue × 100 in the window (seed 003 target: 25 %).",
        "percent",
        ratio(Ref("finance.partner_revenue"), Ref("revenue.total")),
        dims=("plan", "status", "platform"),
    ),
    Metric(
        "finance.commissions_earned",
        "Commissions earned",
        "Commissions (recurring, milestone bonuses, flat) earned by partners in the window.",
        "money",
        Flow(earned_facts),
        direction="none",
        dims=PARTNER_DIMS,
    ),
    Metric(
        "finance.commissions_reversed",
        "Commissions reversed",
        "Commissions taken back in the window (custom event commission_reversed, on refunds "
        "or fraud).",
        "money",
        Flow(reversed_facts),
        direction="down",
        dims=PARTNER_DIMS,
    ),
    Metric(
        "finance.payouts",
        "Payouts",
        "Payouts sent to partners in the window.",
        "money",
        Flow(payout_facts),
        direction="none",
        dims=PARTNER_DIMS,
    ),
    Metric(
        "finance.commissions_outstanding",
        "Commissions outstanding",
        "Commissions owed to partners as of the window end: earned − paid − reversed, all time.",
        "money",
        Balance(owed_facts),
        direction="none",
        dims=PARTNER_DIMS,
    ),
    Metric(
        "finance.commissions_holding",
        "Commissions in holding",
        f"Commissions earned − reversed in the {HOLDING_DAYS} days up to the moment.",
        "money",
        Stock(holding_facts),
        direction="none",
        dims=PARTNER_DIMS,
        listed=False,
    ),
    Metric(
        "finance.commissions_pending",
        "Commissions pending",
        f"Outstanding commissions still in the {HOLDING_DAYS}-day holding period as of the "
        "window end (not yet payable).",
        "money",
        Derived(
            (Ref("finance.commissions_holding"), Ref("finance.commissions_outstanding")), _pending
        ),
        direction="none",
        dims=PARTNER_DIMS,
    ),
    Metric(
        "finance.commissions_due",
        "Commissions due",
        f"Outstanding commissions past the {HOLDING_DAYS}-day holding period and not yet paid, "
        "as of the window end. Overdue partners: follow up on their payment.",
        "money",
        Derived((Ref("finance.commissions_holding"), Ref("finance.commissions_outstanding")), _due),
        direction="down",
        dims=PARTNER_DIMS,
    ),
    Metric(
        "finance.commissions_ytd",
        "Commissions year to date",
        "Commissions earned from 1 January of the as-of date's year to the window end.",
        "money",
        Balance(ytd_facts),
        direction="none",
        dims=PARTNER_DIMS,
    ),
    Metric(
        "finance.program_costs",
        "Partner program costs",
        "Commissions and bonuses earned (net of reversals) plus program infrastructure spend "
        f"(spend_recorded with channel {PROGRAM_CHANNEL}) in the window.",
        "money",
        Flow(program_cost_facts),
        direction="down",
    ),
    Metric(
        "finance.net_partner_revenue",
        "Net partner revenue",
        "Partner-sourced revenue − partner program costs in the window.",
        "money",
        Derived((Ref("finance.partner_revenue"), Ref("finance.program_costs")), _net),
    ),
    Metric(
        "finance.program_roi",
        "Partner program ROI",
        "Partner-sourced revenue / partner program costs × 100 in the window (SPEC §3). Below "
        "100 % the program costs more than it brings in.",
        "percent",
        ratio(Ref("finance.partner_revenue"), Ref("finance.program_costs")),
    ),
    Metric(
        "finance.ltv",
        "Customer lifetime value",
        "ARPC (revenue.per_customer, per month) / monthly churn rate (customers.churn_rate "
        "scaled to 30 days): what a customer brings in over its life. None without churn.",
        "money",
        Derived((Ref("revenue.per_customer"), Ref("customers.churn_rate")), _ltv),
        dims=REVENUE_DIMS,
    ),
    Metric(
        "finance.acquisition_spend",
        "Acquisition spend",
        f"Marketing spend recorded in the window (all channels but {PROGRAM_CHANNEL}).",
        "money",
        Flow(acquisition_spend_facts),
        direction="down",
        dims=("channel",),
        listed=False,
    ),
    Metric(
        "finance.cac",
        "Customer acquisition cost",
        "Acquisition spend / new customers in the window; by channel, a channel's spend / its "
        "new customers (partner channels have no spend: CAC 0).",
        "money",
        ratio(Ref("finance.acquisition_spend"), Ref("customers.new"), scale=1),
        direction="down",
        dims=("channel",),
    ),
    Metric(
        "finance.ltv_cac",
        "LTV:CAC",
        "Lifetime value / acquisition cost (None when CAC is 0, e.g. partner-sourced channels).",
        "ratio",
        Derived((Ref("finance.ltv"), Ref("finance.cac")), _ltv_cac),
        dims=("channel",),
    ),
    Table(
        "finance.revenue_by_channel",
        "Revenue by channel",
        "Revenue in the window per acquisition channel and its share of all revenue.",
        (
            Column("channel", "Channel", "text"),
            Column("revenue", "Revenue", "money"),
            Column("share", "Share", "percent"),
        ),
        revenue_by_channel_table,
        per_partner=True,
    ),
    Table(
        "finance.commissions",
        "Commissions by partner",
        "Per partner: commissions earned, paid and reversed in the window; pending, due and "
        "outstanding as of its end.",
        (
            Column("partner", "Partner", "text"),
            Column("earned", "Earned", "money"),
            Column("paid", "Paid", "money"),
            Column("reversed", "Reversed", "money"),
            Column("pending", "Pending", "money"),
            Column("due", "Due", "money"),
            Column("outstanding", "Outstanding", "money"),
        ),
        commissions_table,
        per_partner=True,
    ),
    Table(
        "finance.ltv_by_channel",
        "Customer LTV by channel",
        "Per acquisition channel: ARPC, churn rate, LTV, CAC and LTV:CAC in the window.",
        (
            Column("channel", "Channel", "text"),
            Column("arpc", "ARPC", "money_per_month"),
            Column("churn_rate", "Churn rate", "percent"),
            Column("ltv", "LTV", "money"),
            Column("cac", "CAC", "money"),
            Column("ltv_cac", "LTV:CAC"),
        ),
        ltv_by_channel_table,
    ),
    Table(
        "finance.transactions",
        "Transaction log",
        "Invoices, refunds, credit purchases, payouts, commissions and reversals in the window, "
        "most recent first, with the amount in the reporting currency.",
        (
            Column("ts", "Time", "datetime"),
            Column("type", "Type", "text"),
            Column("customer", "Customer", "text"),
            Column("partner", "Partner", "text"),
            Column("amount", "Amount", "money"),
            Column("currency", "Currency", "text"),
            Column("amount_reporting", "Amount (reporting currency)", "money"),
        ),
        transactions_table,
        per_partner=True,
    ),
)
