"""revenue.* — revenue, MRR and its movements, ARPC, margins and growth (seeds 000, 001, 003).

Money is reported in the reporting currency; an amount without a rate for its day is left out
of sums (never converted at a guessed rate).

Platform revenue is what the platform bills. A reseller or white-label partner bills its own
clients (their billing events carry `billed_by: "partner"`): that money is the partner's, and
the platform's share of it is what the partner pays itself (license, platform and seat fees).
So those events count in the agency metrics of the partner's clients, not in revenue or MRR.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING

import ibis
import pandas as pd

from pulse.metrics.catalog import (
    MOVEMENTS,
    Column,
    Derived,
    Flow,
    Growth,
    Metric,
    Movements,
    Ref,
    Stock,
    Table,
    health,
    safe_div,
)
from pulse.metrics.cohorts import month_text, signup_months
from pulse.metrics.customers import CHURNED_STATUSES
from pulse.metrics.engine import movement_kinds
from pulse.metrics.source import NULLABLE_TS, UTC_TS, Source, earlier_end, payload_text, valid_at
from pulse.store.store import Part

if TYPE_CHECKING:
    from pulse.metrics.tables import TableContext

REVENUE_DIMS = ("partner", "partner_kind", "tier", "plan", "channel", "status", "platform")
NOT_PAYING = ("trial", *CHURNED_STATUSES)


def platform_billed(events: ibis.Table) -> ibis.Table:
    """The events of what the platform bills: not those a partner bills its own clients."""
    return events.filter(ibis.coalesce(payload_text(events, "billed_by"), "") != "partner")


def revenue_facts(src: Source) -> ibis.Table:
    """invoice_paid amounts minus refund_issued amounts, converted, of what the platform bills."""
    return _money(src, platform_billed(src.track("invoice_paid", "refund_issued")))


def payment_facts(src: Source) -> ibis.Table:
    """invoice_paid minus refund_issued amounts, converted, whoever billed them."""
    return _money(src, src.track("invoice_paid", "refund_issued"))


def _money(src: Source, events: ibis.Table) -> ibis.Table:
    events = src.in_reporting_currency(src.attributed(events), "amount")
    sign = ibis.cases((events.event == "refund_issued", -1), else_=1)
    events = events.filter(events.amount_rep.notnull())
    return events.select("ts", "customer_id", "partner_id", value=events.amount_rep * sign)


# Subscriptions are converted with plan prices and exchange rates: a write of either rebuilds
# them whole; one of a customer's events or traits, only that customer's (`Store.snapshot`).
PRICED_BY = frozenset({"plan", "fx_rate"})


def subscription_facts(src: Source) -> ibis.Table:
    """Each subscription's MRR over time: the event's mrr, else its plan's monthly price
    (a snapshot: it depends on no window)."""
    build = partial(_subscription_facts, src)
    part = Part("customer", "customer_id", nulls=True, whole_if=PRICED_BY)
    return src.store.snapshot("subscription_facts", build, part)


def _subscription_facts(src: Source, ids: ibis.Table | None = None) -> ibis.Table:
    """A subscription is its customer's: one id sent by two customers makes two timelines.
    Subscriptions a partner bills its clients are the partner's (see the module's doc). With
    `ids`, the subscriptions of those customers and those of no customer (a partner's, sent
    with a groupId alone)."""
    events = platform_billed(
        src.track("subscription_started", "subscription_changed", "subscription_cancelled")
    )
    if ids is not None:
        events = events.filter(events.user_id.isin(ids.entity_id) | events.user_id.isnull())
    events = src.in_reporting_currency(src.attributed(events), "mrr")
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
    window = ibis.window(
        group_by=[rows.customer_id, rows.subscription_id], order_by=[rows.ts, rows.message_id]
    )
    return rows.select(
        "customer_id",
        "partner_id",
        "subscription_id",
        "plan",
        "value",
        valid_from=rows.ts,
        valid_to=rows.ts.lead().over(window).cast(NULLABLE_TS),
    )


def mrr_facts(src: Source) -> ibis.Table:
    """Subscription MRR, counted only while its customer is neither in trial nor gone
    (a snapshot: it depends on no window)."""
    build = partial(_mrr_facts, src)
    part = Part("customer", "customer_id", nulls=True, whole_if=PRICED_BY)
    return src.store.snapshot("mrr_facts", build, part)


def _mrr_facts(src: Source, ids: ibis.Table | None = None) -> ibis.Table:
    subs = subscription_facts(src)
    status = src.intervals("customer", "status")
    if ids is not None:  # those customers' and no customer's (see `_subscription_facts`)
        subs = subs.filter(subs.customer_id.isin(ids.entity_id) | subs.customer_id.isnull())
        status = status.filter(status.entity_id.isin(ids.entity_id))
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
        valid_from=ibis.greatest(overlap.valid_from, overlap.valid_from_right).cast(UTC_TS),
        valid_to=earlier_end(overlap.valid_to, overlap.valid_to_right).cast(UTC_TS),
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
        valid_from=early.valid_from.cast(UTC_TS),
        valid_to=earlier_end(early.valid_to, early.first).cast(UTC_TS),
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


METRIC_LIST = (
    Metric(
        "revenue.total",
        "Revenue",
        "Invoices paid minus refunds issued in the window, in the reporting currency; what "
        "resellers and white-label partners bill their own clients is theirs, not counted.",
        "money",
        Flow(revenue_facts),
        dims=REVENUE_DIMS,
    ),
    Metric(
        "revenue.mrr",
        "MRR",
        "Monthly recurring revenue as of the window end: the current MRR of every subscription "
        "not cancelled (annual prices / 12), trials, churned customers and subscriptions billed "
        "by a partner excluded.",
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


# -- tables -------------------------------------------------------------------------------------
#
# Per-movement scalars (revenue.new_mrr …) and window NRR / GRR scalars need the engine's
# Movements kind to report one movement (see the module's report); until then the tables below
# show them, built from the same facts (`mrr_facts`) and the engine's own movement rule.

MOVEMENT_LABELS = {
    "new": "New",
    "expansion": "Expansion",
    "contraction": "Contraction",
    "churned": "Churned",
    "reactivation": "Reactivation",
}


def levels_at(facts: ibis.Table, moments: dict[str, datetime], *keys: str) -> ibis.Table:
    """Each key's summed stock value at each named moment (edge, *keys, value).

    Same convention as the engine's stocks: a fact holds at m when valid_from < m <= valid_to.
    """
    joined = valid_at(facts, [(moment, {"edge": edge}) for edge, moment in moments.items()])
    return joined.group_by("edge", *keys).aggregate(value=joined.value.sum())


def _start_end(levels: pd.DataFrame, *keys: str) -> pd.DataFrame:
    """Long levels → one row per key with `before` (at S) and `after` (at E), 0 when absent."""
    if levels.empty:
        return pd.DataFrame(columns=[*keys, "before", "after"])
    wide = levels.pivot_table(index=list(keys), columns="edge", values="value", aggfunc="sum")
    wide = wide.reindex(columns=["start", "end"]).fillna(0.0).astype(float)
    return wide.rename(columns={"start": "before", "end": "after"}).reset_index()


def _window_edges(ctx: TableContext) -> dict[str, datetime]:
    return {"start": ctx.start, "end": ctx.end}


def movement_members(ctx: TableContext) -> pd.DataFrame:
    """subscription_id, customer_id, before, after, movement: each subscription that moved
    in the window, classified by the engine's rule (the one `revenue.mrr_movements` uses)."""
    facts = ctx.scoped(mrr_facts(ctx.src)).view()
    levels = ctx.fetch(levels_at(facts, _window_edges(ctx), "subscription_id", "customer_id"))
    pairs = _start_end(levels, "subscription_id", "customer_id")
    subs = pairs.groupby("subscription_id", as_index=False).agg(
        customer_id=("customer_id", "first"), before=("before", "sum"), after=("after", "sum")
    )  # the engine keys movements by subscription alone
    paying = facts.filter(facts.value > 0)
    firsts = ctx.fetch(paying.group_by("subscription_id").aggregate(first=paying.valid_from.min()))
    first_paid = firsts.set_index("subscription_id")["first"]
    kinds = movement_kinds(
        subs["before"],
        subs["after"],
        first_paid.reindex(subs["subscription_id"]).reset_index(drop=True),
        ctx.start,
    )
    subs["movement"] = pd.Series(kinds, index=subs.index).replace("", None)
    return subs[subs["movement"].notna()]


def movements_table(ctx: TableContext) -> pd.DataFrame:
    """movement, amount (the catalog's revenue.mrr_movements rows), customers moving."""
    answer = ctx.ask("revenue.mrr_movements", by="movement")
    amounts = {row["key"]: row["value"] for row in answer["rows"]}
    members = movement_members(ctx)
    return pd.DataFrame(
        {
            "movement": list(MOVEMENTS),
            "label": [MOVEMENT_LABELS[kind] for kind in MOVEMENTS],
            "amount": [float(amounts.get(kind) or 0.0) for kind in MOVEMENTS],
            "customers": [
                members.loc[members["movement"] == kind, "customer_id"].nunique()
                for kind in MOVEMENTS
            ],
        }
    )


def customer_mrr(ctx: TableContext) -> pd.DataFrame:
    """customer_id, cohort (signup month 'YYYY-MM'), before (MRR at S), after (MRR at E)."""
    facts = ctx.scoped(mrr_facts(ctx.src))
    levels = ctx.fetch(levels_at(facts, _window_edges(ctx), "customer_id"))
    per_customer = _start_end(levels, "customer_id")
    months = ctx.fetch(signup_months(ctx.src))
    cohorts = dict(zip(months["customer_id"], months["month"], strict=True))
    per_customer["cohort"] = [month_text(cohorts.get(c)) for c in per_customer["customer_id"]]
    return per_customer


def retention_row(cohort: str, group: pd.DataFrame) -> dict[str, object]:
    """NRR and GRR of customers paying at S: MRR at E (uncapped, or capped at their MRR at S)
    over their MRR at S × 100."""
    start = float(group["before"].sum())
    end = float(group["after"].sum())
    kept = float(group[["before", "after"]].min(axis=1).sum()) if len(group) else 0.0
    nrr, grr = safe_div(end, start), safe_div(kept, start)
    return {
        "cohort": cohort,
        "customers": len(group),
        "mrr_start": start,
        "mrr_end": end,
        "nrr": None if nrr is None else nrr * 100,
        "grr": None if grr is None else grr * 100,
    }


def nrr_cohorts_table(ctx: TableContext) -> pd.DataFrame:
    """One row per signup month of the customers paying at S, then a `total` row."""
    per_customer = customer_mrr(ctx)
    paying = per_customer[per_customer["before"] > 0]
    cohorts = sorted(set(paying["cohort"]), key=lambda c: (c is None, str(c)))
    rows = [
        retention_row(str(cohort), paying[paying["cohort"] == cohort])
        if cohort is not None
        else retention_row("unknown", paying[paying["cohort"].isna()])
        for cohort in cohorts
    ]
    rows.append(retention_row("total", paying))
    return pd.DataFrame(rows, columns=[c.name for c in NRR_COLUMNS])


def by_plan_table(ctx: TableContext) -> pd.DataFrame:
    """Per plan (as of E): the catalog's revenue, MRR, ARPC, margin and active customers."""
    metrics = {
        "customers": "customers.active",
        "revenue": "revenue.total",
        "mrr": "revenue.mrr",
        "revenue_per_customer": "revenue.per_customer",
        "profit_margin": "revenue.profit_margin",
    }
    values = {column: ctx.values(metric, by="plan") for column, metric in metrics.items()}
    plans = sorted(
        {key for by_key in values.values() for key in by_key},
        key=lambda k: (-(values["revenue"].get(k) or 0.0), k is None, str(k)),
    )
    names = ctx.fetch(ctx.src.latest("plan", "name", before=ctx.end))
    plan_names = dict(zip(names["entity_id"], names["value"], strict=True))
    labels = [NO_PLAN if p is None else plan_names.get(p) for p in plans]
    frame = pd.DataFrame({"plan_id": plans, "plan": labels})
    for column, by_key in values.items():
        missing = 0 if column in ADDITIVE_COLUMNS else None  # no facts: zero, not unknown
        frame[column] = [by_key.get(p, missing) for p in plans]
    return frame


ADDITIVE_COLUMNS = ("customers", "revenue", "mrr")
NO_PLAN = "No plan"  # what no customer's plan covers: partners' own fees and credit packs


NRR_COLUMNS = (
    Column("cohort", "Signup month", "text"),
    Column("customers", "Customers paying at start"),
    Column("mrr_start", "MRR at start", "money"),
    Column("mrr_end", "MRR at end", "money"),
    Column("nrr", "Net revenue retention", "percent"),
    Column("grr", "Gross revenue retention", "percent"),
)

TABLES = (
    Table(
        "revenue.movements",
        "MRR movements",
        "MRR change over the window by movement (new, expansion, contraction, churned, "
        "reactivation), each subscription's MRR at the window start compared with its MRR at "
        "the end; amounts are revenue.mrr_movements by `movement`, customers are those whose "
        "subscription moved that way.",
        (
            Column("movement", "Movement", "text"),
            Column("label", "Label", "text"),
            Column("amount", "MRR change", "money"),
            Column("customers", "Customers"),
        ),
        movements_table,
        per_partner=True,
    ),
    Table(
        "revenue.nrr_cohorts",
        "Net and gross revenue retention by signup month",
        "Customers paying at the window start, by signup month: their MRR at the start and at "
        "the end. NRR = MRR at end / MRR at start × 100 (expansion counts); GRR caps each "
        "customer at its start MRR (no expansion). Over the window: use last_12m for the annual "
        "figures. The `total` row is the window's NRR / GRR; empty → null.",
        NRR_COLUMNS,
        nrr_cohorts_table,
        per_partner=True,
    ),
    Table(
        "revenue.by_plan",
        "Revenue by plan",
        "Per plan as of the window end (seed 000 'Profit margins by plan'): active customers, "
        "revenue, MRR, revenue per customer and profit margin, the catalog's numbers by `plan`.",
        (
            Column("plan_id", "Plan", "text"),
            Column("plan", "Plan name", "text"),
            Column("customers", "Active customers"),
            Column("revenue", "Revenue", "money"),
            Column("mrr", "MRR", "money"),
            Column("revenue_per_customer", "Revenue per customer", "money_per_month"),
            Column("profit_margin", "Profit margin", "percent"),
        ),
        by_plan_table,
        per_partner=True,
    ),
)


# -- per-movement MRR and revenue retention (need Movements.only, see the engine patch) ----------


def _kinds(*kinds: str, key: str = "subscription_id") -> Movements:
    return Movements(Ref("revenue.mrr"), key=key, only=kinds)


def _retention(values: Sequence[float | None], _days: int) -> float | None:
    """(MRR at S + the change of those paying at S) / MRR at S × 100."""
    start, change = values
    if not start:
        return None
    return (start + (change or 0.0)) / start * 100


def _movement_metric(kind: str, label: str, meaning: str) -> Metric:
    return Metric(
        f"revenue.{kind}_mrr",
        label,
        f"{meaning} (a revenue.mrr_movements kind; each subscription's MRR at the window start "
        "against its MRR at the end).",
        "money",
        _kinds(kind),
    )


MOVEMENT_METRICS = (
    _movement_metric("new", "New MRR", "MRR of subscriptions paying for the first time"),
    _movement_metric("expansion", "Expansion MRR", "MRR added by subscriptions that grew"),
    _movement_metric(
        "contraction", "Contraction MRR", "MRR lost by subscriptions that shrank (negative)"
    ),
    _movement_metric("churned", "Churned MRR", "MRR lost by subscriptions that stopped (negative)"),
    _movement_metric(
        "reactivation", "Reactivation MRR", "MRR of subscriptions paying again after a stop"
    ),
    Metric(
        "revenue.existing_mrr_change",
        "MRR change of existing customers",
        "Expansion + contraction + churned MRR, per customer, of customers paying at the start.",
        "money",
        _kinds("expansion", "contraction", "churned", key="customer_id"),
        listed=False,
    ),
    Metric(
        "revenue.lost_mrr",
        "MRR lost by existing customers",
        "Contraction + churned MRR, per customer, of customers paying at the start.",
        "money",
        _kinds("contraction", "churned", key="customer_id"),
        listed=False,
    ),
    Metric(
        "revenue.nrr",
        "Net revenue retention",
        "MRR at the window end of the customers who were paying at its start / their MRR at "
        "the start × 100 (expansion counts, new and reactivated customers do not). Over the "
        "window: last_12m gives the annual NRR. Revenue decline: review pricing and value.",
        "percent",
        Derived((Ref("revenue.mrr", at="start"), Ref("revenue.existing_mrr_change")), _retention),
    ),
    Metric(
        "revenue.grr",
        "Gross revenue retention",
        "Like NRR, but each customer's MRR capped at its start MRR (no expansion): the share of "
        "starting MRR kept, at most 100.",
        "percent",
        Derived((Ref("revenue.mrr", at="start"), Ref("revenue.lost_mrr")), _retention),
    ),
)
METRICS = (*METRIC_LIST, *MOVEMENT_METRICS, *TABLES)
