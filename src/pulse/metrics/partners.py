"""partners.* — partner counts, growth, churn, activation, retention, list and activity segments
(SPEC §3, seeds 001 and 003).

A *partner* is an entity id with at least one partner trait: a `group` message (without
`traits.entity`) or a lifecycle event (`partner_applied`, `partner_approved`,
`partner_deactivated`, `tier_changed`). Ids that only appear as a track event's `groupId`
(such as the demo's system events with groupId "platform") are not partners. A partner's
status is its `status` trait over time; ingestion stores the lifecycle events as status rows
(applied, active, deactivated). Created = `traits.created_at`, else first seen.
"""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

import ibis
import pandas as pd
from ibis import _

from pulse.metrics.catalog import (
    Check,
    Column,
    Flow,
    Health,
    Metric,
    Ref,
    Stock,
    Table,
    health,
    ratio,
)
from pulse.metrics.source import UTC_TS, Source
from pulse.metrics.usage import occasion_activity, occasion_facts, without_nat
from pulse.metrics.windows import instant
from pulse.store.store import Part

if TYPE_CHECKING:
    from pulse.metrics.tables import TableContext

PARTNER_DIMS = ("partner_kind", "tier")
ACTIVATION_DAYS = 30
RETENTION_DAYS = 90
# What counts as a partner's first referral or sale (seed 003 "Partner Activation Rate").
REFERRAL_EVENTS = ("referral_signed_up", "converted", "license_activated", "credits_allocated")
SALE_EVENTS = ("invoice_paid", "credits_purchased")  # by one of the partner's customers
SEGMENTS = ("power", "active", "occasional", "dormant")
SEGMENT_DEFAULTS = {
    "power_occasions": 10.0,
    "power_utilization": 80.0,
    "active_occasions": 3.0,
    "dormant_days": 90.0,
}


# -- facts ----------------------------------------------------------------------------------------


def partner_entities(src: Source) -> ibis.Table:
    """partner_id, created: every entity with a partner trait."""
    traits = src.store.table("traits", reads=frozenset({("traits", "partner")}))
    rows = traits.filter(traits.entity == "partner")
    ids = rows.group_by(pid=rows.entity_id).aggregate(first_trait=rows.ts.min())
    entities = src.store.table("entities", reads=frozenset({("entity", "partner")}))
    seen = entities.filter(entities.entity == "partner").select(
        sid=_.entity_id, first_seen=_.first_seen
    )
    created = src.latest("partner", "created_at").select(
        cid=_.entity_id, created_at=_.value.cast(UTC_TS)
    )
    joined = ids.left_join(seen, ids.pid == seen.sid).left_join(created, ids.pid == created.cid)
    return joined.select(
        partner_id=joined.pid,
        created=ibis.coalesce(
            joined.created_at, joined.first_seen.cast(UTC_TS), joined.first_trait.cast(UTC_TS)
        ),
    )


def _statuses(src: Source) -> ibis.Table:
    """Status intervals: partner_id, status, previous, valid_from, valid_to."""
    rows = src.intervals("partner", "status")
    return rows.select(
        partner_id=rows.entity_id,
        status=rows.value,
        previous=rows.previous,
        valid_from=rows.valid_from,
        valid_to=rows.valid_to,
        value=ibis.literal(1),
    )


def total_facts(src: Source) -> ibis.Table:
    partners = partner_entities(src)
    return partners.select(
        "partner_id",
        valid_from=partners.created,
        valid_to=ibis.null(UTC_TS),
        value=ibis.literal(1),
    )


def active_facts(src: Source) -> ibis.Table:
    facts = _statuses(src)
    return facts.filter(facts.status == "active")


def _moves_into(src: Source, status: str) -> ibis.Table:
    """Moves into `status` from another (or no) status, stamped at the move; `customer_id`
    holds the partner so the engine's distinct count counts partners."""
    facts = _statuses(src)
    moved = (facts.status == status) & (facts.previous.isnull() | (facts.previous != status))
    facts = facts.filter(moved)
    return facts.select(
        "partner_id", customer_id=facts.partner_id, ts=facts.valid_from, value=ibis.literal(1)
    )


def new_facts(src: Source) -> ibis.Table:
    return _moves_into(src, "active")


def churned_facts(src: Source) -> ibis.Table:
    return _moves_into(src, "deactivated")


def first_approval(src: Source) -> ibis.Table:
    """partner_id, approved: when each partner first became active."""
    facts = active_facts(src)
    return facts.group_by("partner_id").aggregate(approved=facts.valid_from.min())


def first_activity(src: Source) -> ibis.Table:
    """aid, first: each partner's first referral or sale — a referral sign-up, conversion,
    license activation or credit allocation it made, or a purchase by one of its customers."""
    events = src.attributed(src.track(*REFERRAL_EVENTS, *SALE_EVENTS))
    sale = events.event.isin(SALE_EVENTS) & events.user_id.notnull()
    events = events.filter(
        events.partner_id.notnull() & (events.event.isin(REFERRAL_EVENTS) | sale)
    )
    return events.group_by(aid=events.partner_id).aggregate(first=events.ts.min())


def _activation_cohort(src: Source) -> ibis.Table:
    """Approved partners, stamped when their 30-day activation period ends; `activated` if the
    first referral or sale came by then."""
    approved = first_approval(src)
    activity = first_activity(src)
    joined = approved.left_join(activity, approved.partner_id == activity.aid)
    due = joined.approved + ibis.interval(days=ACTIVATION_DAYS)
    return joined.select(
        "partner_id",
        customer_id=joined.partner_id,
        ts=due,
        activated=joined.first.notnull() & (joined.first <= due),
        value=ibis.literal(1),
    )


def activation_cohort_facts(src: Source) -> ibis.Table:
    return _activation_cohort(src).drop("activated")


def activated_facts(src: Source) -> ibis.Table:
    cohort = _activation_cohort(src)
    return cohort.filter(cohort.activated).drop("activated")


def retention_cohort_facts(src: Source) -> ibis.Table:
    """Partners from 90 days after their first approval on."""
    approved = first_approval(src)
    return approved.select(
        "partner_id",
        valid_from=approved.approved + ibis.interval(days=RETENTION_DAYS),
        valid_to=ibis.null(UTC_TS),
        value=ibis.literal(1),
    )


def retained_facts(src: Source) -> ibis.Table:
    """Active-status intervals of the retention cohort, from 90 days after first approval."""
    active = active_facts(src)
    cohort = retention_cohort_facts(src).select(cid=_.partner_id, since=_.valid_from)
    joined = active.join(cohort, active.partner_id == cohort.cid)
    start = ibis.greatest(joined.valid_from, joined.since)
    clipped = joined.select(
        "partner_id", valid_from=start, valid_to=joined.valid_to, value=ibis.literal(1)
    )
    return clipped.filter(clipped.valid_to.isnull() | (clipped.valid_to > clipped.valid_from))


# -- tables ---------------------------------------------------------------------------------------


def _traits_as_of(ctx: TableContext, names: tuple[str, ...]) -> pd.DataFrame:
    """partner_id, created and the partners' latest traits `names` as of the window end."""
    src = ctx.src
    table = partner_entities(src)
    table = table.filter(table.created < ctx.end)
    for name in names:
        latest = src.latest("partner", name, before=ctx.end).rename(
            **{f"{name}_id": "entity_id", name: "value"}
        )
        table = table.left_join(latest, table.partner_id == latest[f"{name}_id"]).drop(f"{name}_id")
    return ctx.fetch(table)


def _occasion_counts(ctx: TableContext) -> pd.DataFrame:
    occasions = occasion_facts(ctx.src)
    occasions = occasions.filter((occasions.created < ctx.end) & occasions.partner_id.notnull())
    return ctx.fetch(occasions.group_by("partner_id").aggregate(occasions=occasions.count()))


def _last_activity(ctx: TableContext) -> pd.DataFrame:
    """partner_id, last_activity: its last track event (its own or a customer's) before the
    window end. Read from the last events snapshots (`_last_events`) unless one of their rows
    is not before the end (a window in the past): then from the events themselves."""
    src = ctx.src
    customers = src.store.snapshot(
        "last_customer_events",
        partial(_last_events, src, customers=True),
        Part("customer", "user_id"),
    )
    partners = src.store.snapshot(
        "last_partner_events",
        partial(_last_events, src, customers=False),
        Part("partner", "partner_id"),
    )
    # one type for both (PostgreSQL may say a snapshot's column is not null)
    lasts = ibis.union(*(t.mutate(ts=t.ts.cast(UTC_TS)) for t in (customers, partners)))
    rows = lasts
    if not ctx.fetch(lasts.filter(lasts.ts >= ctx.end).limit(1)).empty:
        rows = src.attributed(src.events.filter(_.type == "track"))
        rows = rows.filter(rows.partner_id.notnull() & (rows.ts < ctx.end))
    return ctx.fetch(rows.group_by("partner_id").aggregate(last_activity=rows.ts.max()))


def _last_events(src: Source, ids: ibis.Table | None = None, *, customers: bool) -> ibis.Table:
    """user_id, partner_id, ts: the last track event of each customer with a partner (the
    event's own, else the customer's: `Source.attributed`), or (not `customers`) of each
    partner in events naming no customer; only the rows of the `ids` a write touched, if
    given (see `Store.snapshot`: a customer's new partner touches the customer). A chat
    message then rebuilds one customer's row, instead of a read of every event."""
    events = src.events.filter(_.type == "track")
    if customers:
        events = events.filter(events.user_id.notnull())
        if ids is not None:
            events = events.filter(events.user_id.isin(ids.entity_id))
        events = src.attributed(events)
    else:
        events = events.filter(events.user_id.isnull())
        if ids is not None:
            events = events.filter(events.partner_id.isin(ids.entity_id))
    events = events.filter(events.partner_id.notnull())
    return events.group_by("user_id", "partner_id").aggregate(ts=events.ts.max())


def _partner_list(ctx: TableContext) -> pd.DataFrame:
    traits = ("name", "email", "kind", "plan", "program_tier", "status")
    frame = ctx.piece("traits", lambda: _traits_as_of(ctx, traits))
    frame = frame.rename(columns={"program_tier": "tier"})
    frame = frame.merge(
        ctx.piece("occasions", lambda: _occasion_counts(ctx)), on="partner_id", how="left"
    )
    frame["occasions"] = frame["occasions"].fillna(0).astype(int)
    for column, metric in (
        ("credits_purchased", "credits.partner_purchased"),
        ("credits_consumed", "credits.partner_consumed"),
        ("credits_in_channels", "credits.in_channels"),
        ("consumption_ratio", "credits.consumption_ratio"),
    ):
        values = ctx.values(metric, by="partner")
        frame[column] = [values.get(p) for p in frame["partner_id"]]
    last_activity = ctx.piece("last_activity", lambda: _last_activity(ctx))  # every event
    frame = frame.merge(last_activity, on="partner_id", how="left")
    frame["last_activity"] = without_nat(frame["last_activity"])
    return frame.sort_values("partner_id")


def _param(ctx: TableContext, name: str) -> float:
    text = ctx.params.get(name)
    if text is None:
        return SEGMENT_DEFAULTS[name]
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{name}: must be a number, got {text!r}") from None


def _occasions_since(ctx: TableContext, days: int) -> ibis.Table:
    """Distinct occasions per partner with activity in the `days` local days up to the end."""
    since = instant(ctx.window.end - timedelta(days=days - 1), ctx.query.tz)
    activity = occasion_activity(ctx.src)
    recent = activity.filter((activity.ts >= since) & (activity.ts < ctx.end))
    return recent.group_by("partner_id").aggregate(count=recent.occasion_id.nunique())


def segment_members(ctx: TableContext) -> pd.DataFrame:
    """Active partners (as of the end) that ever had an occasion, with their segment."""
    dormant_days = int(_param(ctx, "dormant_days"))
    if dormant_days < 1:
        raise ValueError("dormant_days: must be 1 or more")
    activity = occasion_activity(ctx.src)
    ever = activity.filter(activity.ts < ctx.end).select("partner_id").distinct()
    status = ctx.src.latest("partner", "status", before=ctx.end)
    active = status.filter(status.value == "active").select(sid=_.entity_id)
    names = ctx.src.latest("partner", "name", before=ctx.end).select(nid=_.entity_id, name=_.value)
    kinds = ctx.src.latest("partner", "kind", before=ctx.end).select(kid=_.entity_id, kind=_.value)
    recent = _occasions_since(ctx, ACTIVATION_DAYS).rename(rid="partner_id", occasions_30d="count")
    lately = _occasions_since(ctx, dormant_days).rename(lid="partner_id", occasions_90d="count")
    # a fresh relation (view), so the joins below do not extend the first join's chain
    members = ever.join(active, ever.partner_id == active.sid).select("partner_id").view()
    members = (
        members.left_join(names, members.partner_id == names.nid)
        .left_join(kinds, members.partner_id == kinds.kid)
        .left_join(recent, members.partner_id == recent.rid)
        .left_join(lately, members.partner_id == lately.lid)
    )
    frame = ctx.fetch(
        members.select("partner_id", "name", "kind", "occasions_30d", "occasions_90d")
    )
    for column in ("occasions_30d", "occasions_90d"):
        frame[column] = frame[column].fillna(0).astype(int)
    utilization = ctx.values("credits.utilization", window="last_30d", by="partner")
    frame["utilization"] = [utilization.get(p) for p in frame["partner_id"]]
    frame["segment"] = [
        _segment(ctx, row.occasions_30d, row.occasions_90d, row.utilization)
        for row in frame.itertuples()
    ]
    order = {name: i for i, name in enumerate(SEGMENTS)}
    frame["order"] = frame["segment"].map(order)
    frame = frame.sort_values(
        ["order", "occasions_30d", "partner_id"], ascending=[True, False, True]
    )
    return frame.drop(columns="order")


def _segment(ctx: TableContext, last_30d: Any, last_dormant: Any, utilization: Any) -> str:
    if int(last_dormant) == 0:
        return "dormant"
    util = None if utilization is None or pd.isna(utilization) else float(utilization)
    if (
        int(last_30d) >= _param(ctx, "power_occasions")
        and util is not None
        and util >= _param(ctx, "power_utilization")
    ):
        return "power"
    if int(last_30d) >= _param(ctx, "active_occasions"):
        return "active"
    return "occasional"


def _segments(ctx: TableContext) -> pd.DataFrame:
    members = segment_members(ctx)
    counts = members["segment"].value_counts()
    total = int(counts.sum())
    partners = [int(counts.get(name, 0)) for name in SEGMENTS]
    return pd.DataFrame(
        {
            "segment": list(SEGMENTS),
            "partners": partners,
            "share": [n / total * 100 if total else None for n in partners],
        }
    )


SEGMENT_HELP = (
    " Occasions of a partner: its occasions (its own `partner_id` trait, else the partner that "
    "allocated credits to them or whose guests generated there) created, allocated credits or "
    "used for a generation in the period. Members: partners active at the window end that "
    "ever had an occasion. Segments (seed 001, parameters in brackets): dormant = no occasion "
    "in the last 90 days [dormant_days]; else power = at least 10 occasions in the last 30 "
    "days [power_occasions] and credit utilisation (credits.utilization over the last 30 days) "
    "of at least 80 % [power_utilization]; else active = at least 3 occasions in 30 days "
    "[active_occasions]; else occasional. Actions: power — VIP support, early access, volume "
    "discounts; active — standard support, upsell; occasional — re-engagement campaigns, "
    "training offers; dormant — win-back campaigns, feedback surveys, consider deactivation."
)
SEGMENT_PARAMS = tuple(SEGMENT_DEFAULTS)


METRICS: tuple[Metric | Table, ...] = (
    Metric(
        "partners.total",
        "Total partners",
        "Partners registered on or before the window end, whatever their status (applied, "
        "active or deactivated).",
        "count",
        Stock(total_facts),
        dims=PARTNER_DIMS,
    ),
    Metric(
        "partners.active",
        "Active partners",
        "Partners whose status is active (approved, not deactivated) as of the window end. "
        "Goal: steady increase.",
        "count",
        Stock(active_facts),
        dims=PARTNER_DIMS,
    ),
    Metric(
        "partners.new",
        "New partners",
        "Partners approved (status moved to active) in the window.",
        "count",
        Flow(new_facts, agg="count_distinct"),
        dims=PARTNER_DIMS,
    ),
    Metric(
        "partners.churned",
        "Churned partners",
        "Partners deactivated in the window.",
        "count",
        Flow(churned_facts, agg="count_distinct"),
        direction="down",
        dims=PARTNER_DIMS,
    ),
    Metric(
        "partners.growth_rate",
        "Partner growth",
        "Partners approved in the window / partners at the end of the previous window × 100. "
        "Healthy at 10 % or more a month, warning below 5 %. Low: marketing campaigns, "
        "referral incentives, partner success stories, industry event sponsorships.",
        "percent",
        ratio(Ref("partners.new"), Ref("partners.total", at="start")),
        health=health(">= 10", "< 5", per_month=True),
        dims=PARTNER_DIMS,
    ),
    Metric(
        "partners.churn_rate",
        "Partner churn",
        "Partners deactivated in the window / partners active at its start × 100. Healthy "
        "below 5 % a month, warning above 10 %. High: review inactive partners and re-engage "
        "them (win-back campaigns, feedback surveys).",
        "percent",
        ratio(Ref("partners.churned"), Ref("partners.active", at="start")),
        direction="down",
        health=health("< 5", "> 10", per_month=True),
        dims=PARTNER_DIMS,
    ),
    Metric(
        "partners.active_ratio",
        "Active partner ratio",
        "Active partners / total partners × 100 as of the window end. Healthy at 60 % or "
        "more, warning below 40 %. Low: re-engage inactive partners.",
        "percent",
        ratio(Ref("partners.active"), Ref("partners.total")),
        health=health(">= 60", "< 40"),
        dims=PARTNER_DIMS,
    ),
    Metric(
        "partners.activation_cohort",
        "Partners due for activation",
        "Approved partners whose first 30 days after approval ended in the window.",
        "count",
        Flow(activation_cohort_facts, agg="count_distinct"),
        dims=PARTNER_DIMS,
        listed=False,
    ),
    Metric(
        "partners.activated",
        "Partners activated",
        "Partners of the activation cohort with a first referral or sale within 30 days of "
        "approval.",
        "count",
        Flow(activated_facts, agg="count_distinct"),
        dims=PARTNER_DIMS,
        listed=False,
    ),
    Metric(
        "partners.activation_rate",
        "Partner activation rate",
        "Approved partners with a first referral or sale (a referral sign-up, conversion, "
        "license activation or credit allocation of theirs, or a purchase by one of their "
        "customers) within 30 days of their first approval / approved partners × 100; a "
        "partner counts in the window in which its 30 days end. Target 80 %. Low: activation "
        "campaigns and better onboarding.",
        "percent",
        ratio(Ref("partners.activated"), Ref("partners.activation_cohort")),
        health=Health((Check(">=", 80),), ()),
        dims=PARTNER_DIMS,
    ),
    Metric(
        "partners.retention_cohort",
        "Partners approved 90+ days ago",
        "Partners first approved at least 90 days before the moment.",
        "count",
        Stock(retention_cohort_facts),
        dims=PARTNER_DIMS,
        listed=False,
    ),
    Metric(
        "partners.retained_90d",
        "Partners approved 90+ days ago and active",
        "Partners first approved at least 90 days before the moment and active at it.",
        "count",
        Stock(retained_facts),
        dims=PARTNER_DIMS,
        listed=False,
    ),
    Metric(
        "partners.retention_90d",
        "Partner 90-day retention",
        "Partners first approved 90 days or more before the window end that are still active "
        "/ those partners × 100. Target 75 %. Low: partner success support and check-ins.",
        "percent",
        ratio(Ref("partners.retained_90d"), Ref("partners.retention_cohort")),
        health=Health((Check(">=", 75),), ()),
        dims=PARTNER_DIMS,
    ),
    Table(
        "partners.list",
        "Partners",
        "Every partner registered by the window end with its traits and status as of then, "
        "occasions created (all time), and all-time credits: purchased, consumed by its "
        "customers and occasions, still in its channel, and the consumption ratio; last "
        'activity = its latest event or its customers\' (seed 001 "Partner List" export).',
        (
            Column("partner_id", "Partner", "text"),
            Column("name", "Name", "text"),
            Column("email", "E-mail", "text"),
            Column("kind", "Kind", "text"),
            Column("plan", "Plan", "text"),
            Column("tier", "Tier", "text"),
            Column("status", "Status", "text"),
            Column("created", "Created", "datetime"),
            Column("occasions", "Occasions"),
            Column("credits_purchased", "Credits purchased", "credits"),
            Column("credits_consumed", "Credits consumed", "credits"),
            Column("credits_in_channels", "Credits in channel", "credits"),
            Column("consumption_ratio", "Consumption ratio", "percent"),
            Column("last_activity", "Last activity", "datetime"),
        ),
        _partner_list,
    ),
    Table(
        "partners.segments",
        "Partner segments",
        "Partners per activity segment and their share." + SEGMENT_HELP,
        (
            Column("segment", "Segment", "text"),
            Column("partners", "Partners"),
            Column("share", "Share", "percent"),
        ),
        _segments,
        params=SEGMENT_PARAMS,
    ),
    Table(
        "partners.segment_members",
        "Partner segment members",
        "Each segmented partner with its occasions in the last 30 and 90 days (90 = "
        "dormant_days), credit utilisation and segment." + SEGMENT_HELP,
        (
            Column("partner_id", "Partner", "text"),
            Column("name", "Name", "text"),
            Column("kind", "Kind", "text"),
            Column("segment", "Segment", "text"),
            Column("occasions_30d", "Occasions (30 d)"),
            Column("occasions_90d", "Occasions (90 d)"),
            Column("utilization", "Credit utilisation (30 d)", "percent"),
        ),
        segment_members,
        params=SEGMENT_PARAMS,
    ),
)
