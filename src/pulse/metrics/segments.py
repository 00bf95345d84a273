"""Customer usage segments and the status breakdown (SPEC §3 Segments, seed 000).

Each customer's credits consumed in the 30 local days to the as-of date are compared with its
plan's monthly credits (`credits_included` of the plan in its `plan_id` trait, both as of E):

- usage levels, one per customer: high ≥ 80 %, medium ≥ 30 % and < 80 %, low > 0 and < 30 %,
  inactive = nothing consumed; `unrated` when it consumed but its plan has no monthly credits;
- growth potential, on top of the level (segments overlap there): consumption up ≥ 20 % on the
  previous 30 days (which must have had some consumption: from nothing the change has no
  percentage), or ≥ 90 % of the plan.

Segmented customers: created by E, not deleted, with a plan as of E and a status that is not
cancelled or churned (ended subscriptions have no usage to act on; no status yet is kept).
The segment window is always the 30 days to E, whatever the query window. Thresholds are
table parameters.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import ibis
import pandas as pd
from ibis import _

from pulse.metrics.catalog import Column, Metric, Table, safe_div
from pulse.metrics.credits import consumed_facts
from pulse.metrics.customers import CHURNED_STATUSES
from pulse.metrics.windows import instant

if TYPE_CHECKING:
    from pulse.metrics.tables import TableContext

LEVELS = ("high", "medium", "low", "inactive", "unrated")
SEGMENTS = (*LEVELS, "growth_potential")
ACTIONS = {
    "high": "Heavy credit consumers: identify upsell opportunities (a bigger plan or credit "
    "packs) before they run out.",
    "medium": "Steady users: keep them engaged; review that the plan fits their use.",
    "low": "Low usage: enhance customer education (onboarding, tutorials, use cases).",
    "inactive": "Not using credits: improve onboarding and support, re-engage them before "
    "they churn.",
    "unrated": "Consuming without a plan's monthly credits: assign a plan to rate their usage.",
    "growth_potential": "Growth opportunity: invest in marketing and offer an upgrade; "
    "forecast their growth.",
}
STATUSES = {
    "active": "Regularly using service",
    "trial": "On trial plans",
    "inactive": "Not using service",
    "cancelled": "Ended subscriptions",
    "churned": "Left permanently",
}
PARAMS = ("high", "low", "growth_pct", "growth_plan_pct")


@dataclass(frozen=True)
class Thresholds:
    """Segment thresholds in percent (SPEC §3 defaults)."""

    high: float = 80.0
    low: float = 30.0
    growth_pct: float = 20.0
    growth_plan_pct: float = 90.0

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> Thresholds:
        values: dict[str, float] = {}
        for name in PARAMS:
            if name in params:
                try:
                    values[name] = float(params[name])
                except ValueError:
                    raise ValueError(f"{name}: {params[name]!r} is not a number") from None
                if values[name] < 0:
                    raise ValueError(f"{name}: must be 0 or more")
        found = cls(**values)
        if found.low > found.high:
            raise ValueError(f"low: {found.low:g} is above high ({found.high:g})")
        return found


def _consumed(ctx: TableContext, start: datetime, end: datetime) -> ibis.Table:
    facts = consumed_facts(ctx.src)
    facts = facts.filter(facts.customer_id.notnull() & (facts.ts >= start) & (facts.ts < end))
    return facts.group_by(cons_id=facts.customer_id).aggregate(credits=facts.value.sum())


def _trait(ctx: TableContext, entity: str, name: str, column: str) -> ibis.Table:
    return ctx.src.latest(entity, name, before=ctx.end).rename(
        **{f"{column}_id": "entity_id", column: "value"}
    )


def usage_facts(ctx: TableContext) -> ibis.Table:
    """One row per segmented customer: ids, plan, status, consumption now and before."""
    start = instant(ctx.window.end - timedelta(days=29), ctx.query.tz)
    before = instant(ctx.window.end - timedelta(days=59), ctx.query.tz)
    customers = ctx.scoped(ctx.src.customers())
    customers = customers.filter(
        (customers.created < ctx.end)
        & (customers.deleted_at.isnull() | (customers.deleted_at >= ctx.end))
    )
    plan = _trait(ctx, "customer", "plan_id", "plan")
    status = _trait(ctx, "customer", "status", "status")
    email = _trait(ctx, "customer", "email", "email")
    credits = ctx.src.latest("plan", "credits_included", before=ctx.end).select(
        credits_plan=_.entity_id, plan_credits=_.value.cast("float64")
    )
    now = _consumed(ctx, start, ctx.end).rename(now_id="cons_id", consumed_30d="credits")
    prev = _consumed(ctx, before, start).rename(prev_id="cons_id", consumed_prev_30d="credits")
    joined = (
        customers.join(plan, customers.customer_id == plan.plan_id)
        .left_join(status, customers.customer_id == status.status_id)
        .left_join(email, customers.customer_id == email.email_id)
        .left_join(credits, plan.plan == credits.credits_plan)
        .left_join(now, customers.customer_id == now.now_id)
        .left_join(prev, customers.customer_id == prev.prev_id)
    )
    joined = joined.filter(joined.status.isnull() | ~joined.status.isin(CHURNED_STATUSES))
    return joined.select(
        "customer_id",
        "email",
        "partner_id",
        "status",
        "plan_credits",
        plan_id=joined.plan,
        consumed_30d=ibis.coalesce(joined.consumed_30d, 0.0),
        consumed_prev_30d=ibis.coalesce(joined.consumed_prev_30d, 0.0),
    )


def classified(ctx: TableContext) -> ibis.Table:
    """One row per customer and segment it is in (growth potential adds a second row), with
    its usage of plan: the segment rules, computed by the engine for both tables."""
    limits = Thresholds.from_params(ctx.params)
    facts = usage_facts(ctx)
    now, before, credits = facts.consumed_30d, facts.consumed_prev_30d, facts.plan_credits
    # no plan credits: no usage of plan
    pct = ibis.cases(((credits.notnull() & (credits != 0)), now / credits * 100))
    rated = facts.mutate(
        usage_pct=pct,
        # no use is inactive; without plan credits unrated; else high / medium / low by % of plan
        segment=ibis.cases(
            (now <= 0, "inactive"),
            (pct.isnull(), "unrated"),
            (pct >= limits.high, "high"),
            (pct >= limits.low, "medium"),
            else_="low",
        ),
        # growth potential: up growth_pct % or more on the previous 30 days, or at
        # growth_plan_pct % of the plan
        grows=((before > 0) & (now >= before * (1 + limits.growth_pct / 100)))
        | (pct.notnull() & (pct >= limits.growth_plan_pct)),
    )
    columns = [c.name for c in MEMBER_COLUMNS]
    growing = rated.filter(rated.grows).mutate(segment=ibis.literal("growth_potential"))
    return rated.select(*columns).union(growing.select(*columns))


def members(ctx: TableContext) -> pd.DataFrame:
    """`classified` by segment, most used plan first."""
    rows = ctx.fetch(classified(ctx))
    order = {name: i for i, name in enumerate(SEGMENTS)}
    out = rows.assign(rank=rows["segment"].map(order))
    out = out.sort_values(["rank", "usage_pct", "customer_id"], ascending=[True, False, True])
    return out.drop(columns="rank").reset_index(drop=True)


def segments_table(ctx: TableContext) -> pd.DataFrame:
    """Customers per segment, counted by the engine (a member list of every customer is not
    fetched for counts: 1 s of the partner page at `large`)."""
    rows = classified(ctx)
    counted = ctx.fetch(rows.group_by("segment").aggregate(customers=rows.count()))
    found = {str(k): int(n) for k, n in zip(counted["segment"], counted["customers"], strict=True)}
    total = sum(n for k, n in found.items() if k != "growth_potential")  # one level each
    counts = [found.get(name, 0) for name in SEGMENTS]
    shares = [safe_div(n, total) for n in counts]
    return pd.DataFrame(
        {
            "segment": list(SEGMENTS),
            "customers": counts,
            "share_pct": [None if s is None else s * 100 for s in shares],
            "action": [ACTIONS[name] for name in SEGMENTS],
        }
    )


def status_breakdown(ctx: TableContext) -> pd.DataFrame:
    """The catalog's customers.by_status rows, in seed 000's order, with shares."""
    answer = ctx.ask("customers.by_status", by="status")
    counts = {row["key"]: row["value"] or 0 for row in answer["rows"]}
    statuses = [*STATUSES, *sorted(str(k) for k in counts if k not in STATUSES)]
    total = sum(counts.values())
    shares = [safe_div(counts.get(s, 0), total) for s in statuses]
    return pd.DataFrame(
        {
            "status": statuses,
            "description": [STATUSES.get(s) for s in statuses],
            "customers": [counts.get(s, 0) for s in statuses],
            "share_pct": [None if v is None else v * 100 for v in shares],
        }
    )


MEMBER_COLUMNS = (
    Column("customer_id", "Customer", "text"),
    Column("email", "E-mail", "text"),
    Column("partner_id", "Partner", "text"),
    Column("plan_id", "Plan", "text"),
    Column("status", "Status", "text"),
    Column("consumed_30d", "Credits consumed, last 30 days", "credits"),
    Column("consumed_prev_30d", "Credits consumed, previous 30 days", "credits"),
    Column("plan_credits", "Plan credits per month", "credits"),
    Column("usage_pct", "Usage of plan", "percent"),
    Column("segment", "Segment", "text"),
)

_SEGMENT_HELP = (
    "Credits consumed in the 30 days to the as-of date against the plan's monthly credits: "
    "high ≥ 80 %, medium 30–80 %, low > 0 and < 30 %, inactive = none, unrated = consuming "
    "without plan credits; growth potential (overlapping the others) = up ≥ 20 % on the "
    "previous 30 days or ≥ 90 % of plan. Customers with a plan, not cancelled or churned. "
    "Parameters high, low, growth_pct, growth_plan_pct change the thresholds."
)

METRICS: tuple[Metric | Table, ...] = (
    Table(
        "customers.segments",
        "Customer usage segments",
        f"{_SEGMENT_HELP} Share = segment customers / segmented customers × 100 (growth "
        "potential overlaps, so shares add up to more than 100). Each segment's recommended "
        "action (seed 000 'Taking Action on Data').",
        (
            Column("segment", "Segment", "text"),
            Column("customers", "Customers"),
            Column("share_pct", "Share", "percent"),
            Column("action", "Recommended action", "text"),
        ),
        segments_table,
        per_partner=True,
        params=PARAMS,
    ),
    Table(
        "customers.segment_members",
        "Customers by usage segment",
        f"{_SEGMENT_HELP} One row per customer and segment (a growth-potential customer has "
        "two rows); filter by `segment`.",
        MEMBER_COLUMNS,
        members,
        per_partner=True,
        params=PARAMS,
    ),
    Table(
        "customers.status_breakdown",
        "Customer status breakdown",
        "Customers per status as of the window end (customers.by_status) with each status's "
        "share of all customers with a status (seed 000 'Customer Status Breakdown').",
        (
            Column("status", "Status", "text"),
            Column("description", "Meaning", "text"),
            Column("customers", "Customers"),
            Column("share_pct", "Share", "percent"),
        ),
        status_breakdown,
        per_partner=True,
    ),
)
