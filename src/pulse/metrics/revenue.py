"""revenue.* — revenue, MRR and its movements, ARPC, margins and growth (seeds 000, 001, 003).

Money is reported in the reporting currency; an amount without a rate for its day is left out
of sums (never converted at a guessed rate).
"""

from __future__ import annotations

from collections.abc import Sequence

import ibis

from pulse.metrics.catalog import Derived, Flow, Growth, Metric, Movements, Ref, Stock, health
from pulse.metrics.customers import CHURNED_STATUSES
from pulse.metrics.source import Source

REVENUE_DIMS = ("partner", "partner_kind", "tier", "plan", "channel", "status", "platform")
NOT_PAYING = ("trial", *CHURNED_STATUSES)


def revenue_facts(src: Source) -> ibis.Table:
    """invoice_paid amounts minus refund_issued amounts, converted."""
    events = src.in_reporting_currency(
        src.attributed(src.track("invoice_paid", "refund_issued")), "amount"
    )
    sign = ibis.cases((events.event == "refund_issued", -1), else_=1)
    events = events.filter(events.amount_rep.notnull())
    return events.select("ts", "customer_id", "partner_id", value=events.amount_rep * sign)


def subscription_facts(src: Source) -> ibis.Table:
    """Each subscription's MRR over time: the event's mrr, else its plan's monthly price."""
    events = src.in_reporting_currency(
        src.attributed(
            src.track("subscription_started", "subscription_changed", "subscription_cancelled")
        ),
        "mrr",
    )
    plans = src.plans()
    joined = events.left_join(plans, events.plan_id == plans.plan_id)
    mrr = ibis.cases(
        (joined.event == "subscription_cancelled", 0.0),
        else_=ibis.coalesce(joined.mrr_rep, joined.monthly_price, 0.0),
    )
    rows = joined.select(
        "customer_id",
        "partner_id",
        "ts",
        "message_id",
        subscription_id=ibis.coalesce(joined.subscription_id, joined.user_id),
        plan=joined.plan_id,
        value=mrr,
    )
    window = ibis.window(group_by=rows.subscription_id, order_by=[rows.ts, rows.message_id])
    return rows.select(
        "customer_id",
        "partner_id",
        "subscription_id",
        "plan",
        "value",
        valid_from=rows.ts,
        valid_to=rows.ts.lead().over(window),
    )


def _ends(a: ibis.Value, b: ibis.Value) -> ibis.Value:
    """The earlier of two optional interval ends (null = open)."""
    return ibis.cases((a.isnull(), b), (b.isnull(), a), else_=ibis.least(a, b))


def mrr_facts(src: Source) -> ibis.Table:
    """Subscription MRR, counted only while its customer is neither in trial nor gone."""
    subs = subscription_facts(src)
    status = src.intervals("customer", "status")
    overlap = subs.join(
        status,
        (subs.customer_id == status.entity_id)
        & (status.valid_to.isnull() | (subs.valid_from < status.valid_to))
        & (subs.valid_to.isnull() | (status.valid_from < subs.valid_to)),
    )
    overlap = overlap.filter(~overlap.value_right.isin(NOT_PAYING))
    paying = overlap.select(
        "customer_id",
        "partner_id",
        "subscription_id",
        "plan",
        value=overlap.value,
        valid_from=ibis.greatest(overlap.valid_from, overlap.valid_from_right),
        valid_to=_ends(overlap.valid_to, overlap.valid_to_right),
    )
    # Before a customer's first status (or without any) the status is unknown: count the MRR.
    firsts = status.group_by(first_id=status.entity_id).aggregate(first=status.valid_from.min())
    early = subs.left_join(firsts, subs.customer_id == firsts.first_id)
    early = early.filter(early.first.isnull() | (early.valid_from < early.first))
    unknown = early.select(
        "customer_id",
        "partner_id",
        "subscription_id",
        "plan",
        "value",
        "valid_from",
        valid_to=_ends(early.valid_to, early.first),
    )
    return ibis.union(paying, unknown)


def credit_cost_facts(src: Source) -> ibis.Table:
    """Consumed credits × the cost per credit of the plan the customer was on at the time."""
    used = src.attributed(src.track("credits_consumed"))
    history = src.intervals("customer", "plan_id")
    plan_of = history.select(
        cid=history.entity_id,
        plan_id_then=history.value,
        since=history.valid_from,
        until=history.valid_to,
    )
    plans = src.plans()
    joined = used.left_join(
        plan_of,
        (used.customer_id == plan_of.cid)
        & (plan_of.since <= used.ts)
        & (plan_of.until.isnull() | (used.ts < plan_of.until)),
    ).left_join(plans, plan_of.plan_id_then == plans.plan_id)
    return joined.select(
        "ts",
        "customer_id",
        "partner_id",
        value=joined.credits * ibis.coalesce(joined.cost_per_credit, 0.0),
    )


def _per_customer_month(values: Sequence[float | None], days: int) -> float | None:
    revenue, active = values
    if revenue is None or not active:
        return None
    return revenue / active * 30 / days


def _margin(values: Sequence[float | None], _days: int) -> float | None:
    revenue, cost = values
    if not revenue:
        return None
    return (revenue - (cost or 0.0)) / revenue * 100


def _annual(values: Sequence[float | None], _days: int) -> float | None:
    return None if values[0] is None else values[0] * 12


METRICS = (
    Metric(
        "revenue.total",
        "Revenue",
        "Invoices paid minus refunds issued in the window, in the reporting currency.",
        "money",
        Flow(revenue_facts),
        dims=REVENUE_DIMS,
    ),
    Metric(
        "revenue.mrr",
        "MRR",
        "Monthly recurring revenue as of the window end: the current MRR of every subscription "
        "not cancelled (annual prices / 12), trials and churned customers excluded.",
        "money",
        Stock(mrr_facts),
        dims=REVENUE_DIMS,
    ),
    Metric(
        "revenue.arr",
        "ARR",
        "Annual recurring revenue: MRR × 12 as of the window end.",
        "money",
        Derived((Ref("revenue.mrr"),), _annual),
        dims=REVENUE_DIMS,
    ),
    Metric(
        "revenue.mrr_movements",
        "Net new MRR",
        "MRR change over the window by movement: new, expansion, contraction, churned and "
        "reactivation (break down by `movement`).",
        "money",
        Movements(Ref("revenue.mrr"), key="subscription_id"),
        dims=("movement",),
    ),
    Metric(
        "revenue.credit_cost",
        "Cost of credits consumed",
        "Credits consumed in the window × the customer's plan cost per credit.",
        "money",
        Flow(credit_cost_facts),
        direction="down",
        dims=REVENUE_DIMS,
        listed=False,
    ),
    Metric(
        "revenue.per_customer",
        "Average revenue per customer",
        "Revenue / active customers, normalised to 30 days (ARPC). Is your pricing optimised? "
        "Healthy above $100 a month, warning below $50. Revenue decline: review pricing and value.",
        "money_per_month",
        Derived((Ref("revenue.total"), Ref("customers.active")), _per_customer_month),
        health=health("> 100", "< 50"),
        dims=REVENUE_DIMS,
    ),
    Metric(
        "revenue.profit_margin",
        "Profit margin",
        "(Revenue − credits consumed × cost per credit) / revenue × 100; break down by plan. "
        "Healthy above 30 %, warning below 20 %.",
        "percent",
        Derived((Ref("revenue.total"), Ref("revenue.credit_cost")), _margin),
        health=health("> 30", "< 20"),
        dims=REVENUE_DIMS,
    ),
    Metric(
        "revenue.growth_rate",
        "Revenue growth",
        "Percent change of revenue against the previous window. Healthy at 15 % or more a "
        "month, warning below 5 %.",
        "percent",
        Growth(Ref("revenue.total")),
        health=health(">= 15", "< 5", per_month=True),
        dims=REVENUE_DIMS,
    ),
)
