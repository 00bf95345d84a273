"""occasions.*, generations.*, users.*, styles.* and usage.* — seed 001's B2C, Styles and
behaviour insights, and the engagement KPI "generations per event".

An *occasion* (seed 001 "event") is a `group` entity with `traits.entity = "occasion"`, or any
`occasion_id` a `generation_created` names. Its partner is its `partner_id` trait, else the
partner that allocated credits to it, else the partner of its generations; its creation time is
when it was first seen. *B2C users* are customers without a `partner_id`.
"""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING

import ibis
import pandas as pd
from ibis import _

from pulse.metrics.catalog import Balance, Column, Flow, Metric, Ref, Stock, Table, health, ratio
from pulse.metrics.credits import CREDIT_DIMS, purchased_facts
from pulse.metrics.customers import CUSTOMER_DIMS, total_facts
from pulse.metrics.revenue import revenue_facts
from pulse.metrics.source import UTC_TS, Source, local_time, spells
from pulse.store.store import Part

if TYPE_CHECKING:
    from pulse.metrics.tables import TableContext

GENERATION_DIMS = ("style", "partner", "partner_kind", "tier", "status")
OCCASION_DIMS = ("partner", "partner_kind", "tier")
USER_DIMS = ("plan", "channel", "status", "platform")
PARTNER_SIDE_DIMS = ("partner", "partner_kind", "tier")
# SPEC §1.3 "usage" family: what a person does on the platform (peak-hours heatmap).
USAGE_EVENTS = (
    "generation_created",
    "chat_opened",
    "message_sent",
    "button_clicked",
    "module_viewed",
)
GENERATION_STATUSES = ("succeeded", "failed", "deleted")
ACTIVE_DAYS = 30


# -- facts: generations ---------------------------------------------------------------------------


def generation_facts(src: Source) -> ibis.Table:
    """One row per generation_created: its customer (null for guests), partner, style,
    occasion and outcome (`status`: succeeded, failed, deleted)."""
    events = src.attributed(src.track("generation_created"))
    return events.select(
        "ts",
        "customer_id",
        "partner_id",
        "style_id",
        "occasion_id",
        "status",
        value=ibis.literal(1),
    )


def deleted_generation_facts(src: Source) -> ibis.Table:
    facts = generation_facts(src)
    return facts.filter(facts.status == "deleted")


def failed_generation_facts(src: Source) -> ibis.Table:
    facts = generation_facts(src)
    return facts.filter(facts.status == "failed")


def occasion_generation_facts(src: Source) -> ibis.Table:
    """Generations made at an occasion (the numerator of generations per occasion)."""
    facts = generation_facts(src)
    return facts.filter(facts.occasion_id.notnull())


def used_occasion_facts(src: Source) -> ibis.Table:
    """Generations at occasions, keyed by occasion (`customer_id` holds the occasion id, so the
    engine's distinct count counts occasions)."""
    facts = occasion_generation_facts(src)
    return facts.mutate(customer_id=facts.occasion_id)


def used_style_facts(src: Source) -> ibis.Table:
    """Generations keyed by style (`customer_id` holds the style id for the distinct count)."""
    facts = generation_facts(src)
    facts = facts.filter(facts.style_id.notnull())
    return facts.mutate(customer_id=facts.style_id)


def generation_credit_facts(src: Source) -> ibis.Table:
    """credits_consumed with source = generation: what generations cost in credits."""
    events = src.attributed(src.track("credits_consumed"))
    events = events.filter(events.source == "generation")
    return events.select("ts", "customer_id", "partner_id", value=events.credits)


# -- facts: occasions -----------------------------------------------------------------------------


def occasion_facts(src: Source) -> ibis.Table:
    """occasion_id, partner_id (null = platform-run / B2C) and created (first seen)."""
    entities = src.store.table("entities", reads=frozenset({("entity", "occasion")}))
    declared = entities.filter(entities.entity == "occasion").select(
        occasion_id=_.entity_id.cast("string"),
        ts=_.first_seen.cast(UTC_TS),
        partner_id=ibis.null("string"),
    )
    used = occasion_generation_facts(src)
    used = used.select("occasion_id", ts=used.ts.cast(UTC_TS), partner_id=used.partner_id)
    refs = ibis.union(declared, used)
    firsts = refs.group_by("occasion_id").aggregate(
        created=refs.ts.min(), used_by=refs.partner_id.max()
    )
    allocations = src.track("credits_allocated")
    allocations = allocations.filter(allocations.partner_id.notnull())
    allocated = allocations.group_by(aid=allocations.target).aggregate(
        allocated_by=allocations.partner_id.max()
    )
    owner = src.latest("occasion", "partner_id").select(oid=_.entity_id, owner=_.value)
    joined = firsts.left_join(owner, firsts.occasion_id == owner.oid).left_join(
        allocated, firsts.occasion_id == allocated.aid
    )
    return joined.select(
        "occasion_id",
        "created",
        partner_id=ibis.coalesce(joined.owner, joined.allocated_by, joined.used_by),
    )


def occasion_stock_facts(src: Source) -> ibis.Table:
    facts = occasion_facts(src)
    return facts.select(
        "occasion_id",
        "partner_id",
        valid_from=facts.created,
        valid_to=ibis.null(UTC_TS),
        value=ibis.literal(1),
    )


def new_occasion_facts(src: Source) -> ibis.Table:
    facts = occasion_facts(src)
    return facts.select("occasion_id", "partner_id", ts=facts.created, value=ibis.literal(1))


def occasion_activity(src: Source) -> ibis.Table:
    """occasion_id, partner_id (the occasion's), ts: each moment an occasion was created, got
    credits allocated or had a generation — what "a partner had an occasion" means."""
    occasions = occasion_facts(src)
    created = occasions.select("occasion_id", ts=occasions.created)
    used = occasion_generation_facts(src)
    used = used.select("occasion_id", ts=used.ts.cast(UTC_TS))
    allocations = src.track("credits_allocated")
    allocations = allocations.select(occasion_id=allocations.target, ts=allocations.ts.cast(UTC_TS))
    moments = ibis.union(created, used, allocations)
    owners = occasions.select(oid=occasions.occasion_id, partner_id=occasions.partner_id)
    joined = moments.join(owners, moments.occasion_id == owners.oid)
    return joined.select("occasion_id", "partner_id", "ts")


# -- facts: B2C users -----------------------------------------------------------------------------


def b2c_user_facts(src: Source) -> ibis.Table:
    """Customers without a partner, alive from creation until deletion."""
    facts = total_facts(src)
    return facts.filter(facts.partner_id.isnull())


def active_user_facts(src: Source) -> ibis.Table:
    """B2C users as "active" for 30 days after each generation or credit consumption.

    A customer's activities at most 30 days apart make one spell, active from the first until
    30 days after the last (cut at deletion): spells never overlap, so the engine's stock sum
    counts each customer once. Cutting spells reads every activity in history, so they are a
    snapshot, rebuilt after a write for the customers it touched (1.35 s to 0.1 s for the
    admin page's series after new data at `large`)."""
    build = partial(_active_spells, src)
    return src.store.snapshot("active_spells", build, Part("customer", "customer_id"))


def _active_spells(src: Source, ids: ibis.Table | None = None) -> ibis.Table:
    events = src.track("generation_created", "credits_consumed")
    events = events.filter(events.user_id.notnull())
    if ids is not None:
        events = events.filter(events.user_id.isin(ids.entity_id))
    users = b2c_user_facts(src)
    joined = events.join(users, events.user_id == users.customer_id)
    joined = joined.filter(joined.valid_to.isnull() | (joined.ts < joined.valid_to))
    runs = spells(joined, ["customer_id"], ibis.interval(days=ACTIVE_DAYS))
    grouped = runs.group_by("customer_id", "spell").aggregate(
        partner_id=runs.partner_id.max(),
        last=runs.ts.max(),
        deleted_at=runs.valid_to.max(),
    )
    lapse = grouped.last + ibis.interval(days=ACTIVE_DAYS)
    until = ibis.cases(
        (grouped.deleted_at.notnull() & (grouped.deleted_at < lapse), grouped.deleted_at),
        else_=lapse,
    )
    return grouped.select(
        "customer_id",
        "partner_id",
        valid_from=grouped.spell.cast(UTC_TS),
        valid_to=until.cast(UTC_TS),
        value=ibis.literal(1),
    )


def b2c_purchased_facts(src: Source) -> ibis.Table:
    facts = purchased_facts(src)
    return facts.filter(facts.customer_id.notnull() & facts.partner_id.isnull())


def b2c_revenue_facts(src: Source) -> ibis.Table:
    facts = revenue_facts(src)
    return facts.filter(facts.customer_id.notnull() & facts.partner_id.isnull())


# -- facts: styles and purchases ------------------------------------------------------------------


def style_facts(src: Source) -> ibis.Table:
    """Styles declared (`traits.entity = "style"`) or named by a generation, from first seen."""
    entities = src.store.table("entities", reads=frozenset({("entity", "style")}))
    declared = entities.filter(entities.entity == "style").select(
        style_id=_.entity_id.cast("string"), ts=_.first_seen.cast(UTC_TS)
    )
    used = generation_facts(src)
    used = used.filter(used.style_id.notnull()).select("style_id", ts=used.ts.cast(UTC_TS))
    refs = ibis.union(declared, used)
    firsts = refs.group_by("style_id").aggregate(created=refs.ts.min())
    return firsts.select(
        "style_id",
        partner_id=ibis.null("string"),
        valid_from=firsts.created,
        valid_to=ibis.null(UTC_TS),
        value=ibis.literal(1),
    )


def purchase_count_facts(src: Source) -> ibis.Table:
    return purchased_facts(src).mutate(value=ibis.literal(1))


def _nth_purchase(src: Source, n: int) -> ibis.Table:
    """Customers from the moment of their n-th credit purchase (n = 0 first, 1 second)."""
    bought = purchased_facts(src)
    bought = bought.filter(bought.customer_id.notnull())
    ranked = bought.mutate(
        nth=ibis.row_number().over(group_by=bought.customer_id, order_by=bought.ts)
    )
    ranked = ranked.filter(ranked.nth == n)
    return ranked.select(
        "customer_id",
        "partner_id",
        valid_from=ranked.ts,
        valid_to=ibis.null(UTC_TS),
        value=ibis.literal(1),
    )


def buyer_facts(src: Source) -> ibis.Table:
    return _nth_purchase(src, 0)


def repeat_buyer_facts(src: Source) -> ibis.Table:
    return _nth_purchase(src, 1)


# -- tables ---------------------------------------------------------------------------------------


def without_nat(values: pd.Series) -> pd.Series:
    """Missing timestamps as None (a NaT cell would be shown as the text "NaT")."""
    return values.astype(object).where(values.notna(), None)


def _share(values: pd.Series) -> pd.Series:
    total = float(values.sum())
    if total == 0:
        return pd.Series([None] * len(values), index=values.index, dtype=object)
    return values / total * 100


def _style_catalog(ctx: TableContext) -> pd.DataFrame:
    """style_id, name, category, enabled: each style's latest traits as of the window end."""
    src = ctx.src
    styles = style_facts(src)
    styles = styles.filter(styles.valid_from < ctx.end).select("style_id")
    name = src.latest("style", "name", before=ctx.end).select(nid=_.entity_id, name=_.value)
    category = src.latest("style", "category", before=ctx.end).select(
        cid=_.entity_id, category=_.value
    )
    enabled = src.latest("style", "active", before=ctx.end).select(eid=_.entity_id, enabled=_.value)
    joined = (
        styles.left_join(name, styles.style_id == name.nid)
        .left_join(category, styles.style_id == category.cid)
        .left_join(enabled, styles.style_id == enabled.eid)
    )
    return ctx.fetch(joined.select("style_id", "name", "category", "enabled"))


def _style_usage(ctx: TableContext) -> pd.DataFrame:
    frame = _style_catalog(ctx)
    generations = ctx.values("generations.total", by="style")
    deletion = ctx.values("styles.deletion_rate", by="style")
    facts = ctx.scoped(generation_facts(ctx.src))
    facts = facts.filter(facts.ts < ctx.end)
    last = ctx.fetch(facts.group_by("style_id").aggregate(last_used=facts.ts.max()))
    frame = frame.merge(last, on="style_id", how="left")
    frame["last_used"] = without_nat(frame["last_used"])
    frame["generations"] = [float(generations.get(s) or 0) for s in frame["style_id"]]
    frame["share"] = _share(frame["generations"])
    frame["deletion_rate"] = [deletion.get(s) for s in frame["style_id"]]
    frame["active"] = frame["generations"] > 0
    frame["enabled"] = frame["enabled"].map(_flag)
    return frame.sort_values(["generations", "style_id"], ascending=[False, True])


def _flag(value: object) -> bool | None:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    return str(value).lower() in ("true", "1", "yes")


def _style_categories(ctx: TableContext) -> pd.DataFrame:
    frame = _style_catalog(ctx)
    generations = ctx.values("generations.total", by="style")
    category_of = dict(zip(frame["style_id"], frame["category"], strict=True))
    totals: dict[object, float] = {}
    for style, count in generations.items():
        key = category_of.get(style)
        totals[key] = totals.get(key, 0.0) + float(count or 0)
    out = pd.DataFrame(
        {"category": list(totals), "generations": list(totals.values())}, dtype=object
    )
    if out.empty:
        return pd.DataFrame(columns=["category", "generations", "share"])
    out["generations"] = out["generations"].astype(float)
    out["share"] = _share(out["generations"])
    out = out[out["generations"] > 0]
    return out.sort_values(["generations", "category"], ascending=[False, True], na_position="last")


def _peak_hours(ctx: TableContext) -> pd.DataFrame:
    """Events per weekday (0 = Monday) × hour in the reporting time zone; all 168 cells."""
    wanted = ctx.params.get("event")
    names = tuple(n.strip() for n in wanted.split(",")) if wanted else USAGE_EVENTS
    events = ctx.partner_events(ctx.in_window(ctx.src.track(*names)))
    local = local_time(ctx.query.tz, events.ts)
    cells = events.select(weekday=local.day_of_week.index(), hour=local.hour())
    counted = ctx.fetch(cells.group_by("weekday", "hour").aggregate(events=cells.count()))
    grid = pd.DataFrame([(d, h) for d in range(7) for h in range(24)], columns=["weekday", "hour"])
    counted = counted.astype({"weekday": int, "hour": int})
    grid = grid.merge(counted, on=["weekday", "hour"], how="left")
    grid["events"] = grid["events"].fillna(0).astype(int)
    return grid


def _generation_stats(ctx: TableContext) -> pd.DataFrame:
    """Per local day of the window: generations by outcome and credits they consumed."""
    tz = ctx.query.tz
    facts = ctx.in_window(ctx.scoped(generation_facts(ctx.src)))
    facts = facts.mutate(day=local_time(tz, facts.ts).date())
    per_day = ctx.fetch(
        facts.group_by("day").aggregate(
            generations=facts.count(),
            **{s: facts.count(where=facts.status == s) for s in GENERATION_STATUSES},
        )
    )
    credits = ctx.in_window(ctx.scoped(generation_credit_facts(ctx.src)))
    credits = credits.mutate(day=local_time(tz, credits.ts).date())
    spent = ctx.fetch(credits.group_by("day").aggregate(credits_consumed=credits.value.sum()))
    days = [ctx.window.start + timedelta(days=i) for i in range(ctx.window.days)]
    frame = pd.DataFrame({"day": days})
    for part in (per_day, spent):
        part["day"] = pd.to_datetime(part["day"]).dt.date
        frame = frame.merge(part, on="day", how="left")
    return frame.fillna(0)


METRICS: tuple[Metric | Table, ...] = (
    # -- occasions and generations (seed 001 engagement KPI) --
    Metric(
        "occasions.total",
        "Total occasions",
        'Photo occasions (seed 001 "events") created on or before the window end; break down '
        'by partner for seed 001\'s "Total Eventos Red".',
        "count",
        Stock(occasion_stock_facts),
        dims=OCCASION_DIMS,
    ),
    Metric(
        "occasions.new",
        "New occasions",
        "Occasions created (first seen) in the window.",
        "count",
        Flow(new_occasion_facts),
        dims=OCCASION_DIMS,
    ),
    Metric(
        "occasions.active",
        "Occasions with generations",
        "Occasions with at least one generation in the window.",
        "count",
        Flow(used_occasion_facts, agg="count_distinct"),
        dims=OCCASION_DIMS,
    ),
    Metric(
        "generations.total",
        "Generations",
        "AI photo generations created in the window (succeeded, failed and deleted); break "
        "down by style, partner or status (the generation's outcome).",
        "count",
        Flow(generation_facts),
        dims=GENERATION_DIMS,
    ),
    Metric(
        "generations.failed",
        "Failed generations",
        "Generations that failed in the window.",
        "count",
        Flow(failed_generation_facts),
        direction="down",
        dims=GENERATION_DIMS,
    ),
    Metric(
        "generations.deleted",
        "Deleted generations",
        "Generations the guest or user deleted (created in the window).",
        "count",
        Flow(deleted_generation_facts),
        direction="down",
        dims=GENERATION_DIMS,
    ),
    Metric(
        "generations.at_occasions",
        "Generations at occasions",
        "Generations in the window that name an occasion.",
        "count",
        Flow(occasion_generation_facts),
        dims=OCCASION_DIMS,
        listed=False,
    ),
    Metric(
        "generations.per_occasion",
        "Generations per occasion",
        "Generations at occasions / occasions with at least one generation, in the window "
        "(seed 001 engagement KPI; target varies by event type, 50–500). Healthy at 100 or "
        "more, warning below 50. Low average: occasions are not engaging guests — improve the "
        "guest experience and the partner's marketing; high: showcase the success stories.",
        "count",
        ratio(Ref("generations.at_occasions"), Ref("occasions.active"), scale=1),
        health=health(">= 100", "< 50"),
        dims=OCCASION_DIMS,
    ),
    # -- B2C users (seed 001 B2C tab) --
    Metric(
        "users.b2c_total",
        "Total B2C users",
        "Customers without a partner (direct end users) created on or before the window end, "
        "deleted ones excluded. Track its month-over-month growth.",
        "count",
        Stock(b2c_user_facts),
        dims=USER_DIMS,
    ),
    Metric(
        "users.active_30d",
        "Active B2C users (30 d)",
        "B2C users with at least one generation or credit consumption in the 30 days up to "
        "the window end.",
        "count",
        Stock(active_user_facts),
        dims=USER_DIMS,
    ),
    Metric(
        "users.activation_rate",
        "B2C user activation",
        "Active B2C users (30 d) / total B2C users × 100. Healthy at 30 % or more, warning "
        "below 15 %. Low: re-engage dormant users (reminders, promotions) and improve the "
        "first-use experience.",
        "percent",
        ratio(Ref("users.active_30d"), Ref("users.b2c_total")),
        health=health(">= 30", "< 15"),
        dims=USER_DIMS,
    ),
    Metric(
        "users.credits_purchased",
        "Credits purchased by B2C users",
        "All-time credits bought by B2C users up to the window end.",
        "credits",
        Balance(b2c_purchased_facts),
        dims=USER_DIMS,
        listed=False,
    ),
    Metric(
        "users.avg_credits",
        "Average credits per B2C user",
        "Credits ever purchased by B2C users / total B2C users, as of the window end: spending "
        "behaviour (segment users by spending tier).",
        "credits_per_customer",
        ratio(Ref("users.credits_purchased"), Ref("users.b2c_total"), scale=1),
        dims=USER_DIMS,
    ),
    Metric(
        "users.revenue",
        "B2C revenue",
        "Invoices paid minus refunds of B2C users (customers without a partner) in the window, "
        'in the reporting currency (seed 001 "Revenue This Month" with window this_month).',
        "money",
        Flow(b2c_revenue_facts),
        dims=USER_DIMS,
    ),
    # -- styles (seed 001 Styles tab) --
    Metric(
        "styles.total",
        "Total styles",
        "Styles in the catalog (declared or used) on or before the window end.",
        "count",
        Stock(style_facts),
    ),
    Metric(
        "styles.active",
        "Styles in use",
        "Styles with at least one generation in the window; the others are inactive "
        "(candidates for retirement).",
        "count",
        Flow(used_style_facts, agg="count_distinct"),
        dims=PARTNER_SIDE_DIMS,
    ),
    Metric(
        "styles.deletion_rate",
        "Generation deletion rate",
        "Deleted generations / generations × 100 in the window; break down by style to find "
        "quality issues (styles with a high deletion rate).",
        "percent",
        ratio(Ref("generations.deleted"), Ref("generations.total")),
        direction="down",
        dims=("style", *PARTNER_SIDE_DIMS),
    ),
    # -- purchases (seed 001 "From Financial Data") --
    Metric(
        "credits.purchase_count",
        "Credit purchases",
        "Number of credit purchases in the window.",
        "count",
        Flow(purchase_count_facts),
        dims=CREDIT_DIMS,
        listed=False,
    ),
    Metric(
        "credits.avg_purchase_size",
        "Average credit purchase size",
        "Credits purchased / number of purchases in the window (partners and customers).",
        "credits",
        ratio(Ref("credits.purchased"), Ref("credits.purchase_count"), scale=1),
        direction="none",
        dims=CREDIT_DIMS,
    ),
    Metric(
        "credits.buyers",
        "Customers who bought credits",
        "Customers with at least one credit purchase up to the moment.",
        "count",
        Stock(buyer_facts),
        dims=CUSTOMER_DIMS,
        listed=False,
    ),
    Metric(
        "credits.repeat_buyers",
        "Customers who bought credits twice",
        "Customers with at least two credit purchases up to the moment.",
        "count",
        Stock(repeat_buyer_facts),
        dims=CUSTOMER_DIMS,
        listed=False,
    ),
    Metric(
        "credits.repeat_purchase_rate",
        "Repeat purchase rate",
        "Customers with two or more credit purchases / customers with at least one × 100, all "
        "time up to the window end (partners' own purchases excluded).",
        "percent",
        ratio(Ref("credits.repeat_buyers"), Ref("credits.buyers")),
        dims=CUSTOMER_DIMS,
    ),
    # -- tables --
    Table(
        "styles.usage",
        "Style usage",
        "Per style: generations in the window and their share, last use (all time), deletion "
        "rate in the window; `active` = used in the window (inactive styles are candidates for "
        'retirement), `enabled` = the style\'s catalog flag. Seed 001 "Style Usage" export.',
        (
            Column("style_id", "Style", "text"),
            Column("name", "Name", "text"),
            Column("category", "Category", "text"),
            Column("generations", "Generations"),
            Column("share", "Share of generations", "percent"),
            Column("last_used", "Last used", "datetime"),
            Column("deletion_rate", "Deletion rate", "percent"),
            Column("active", "Used in window", "text"),
            Column("enabled", "Enabled in catalog", "text"),
        ),
        _style_usage,
        per_partner=True,
    ),
    Table(
        "styles.categories",
        "Style category popularity",
        "Generations per style category in the window and their share.",
        (
            Column("category", "Category", "text"),
            Column("generations", "Generations"),
            Column("share", "Share of generations", "percent"),
        ),
        _style_categories,
        per_partner=True,
    ),
    Table(
        "usage.peak_hours",
        "Peak usage hours",
        "Usage events (generations, chat opens, messages, clicks, module views; or the events "
        "named by parameter `event`, comma-separated) per weekday (0 = Monday) and hour in the "
        "reporting time zone, over the window.",
        (
            Column("weekday", "Weekday (0 = Monday)"),
            Column("hour", "Hour"),
            Column("events", "Events"),
        ),
        _peak_hours,
        per_partner=True,
        params=("event",),
    ),
    Table(
        "generations.stats",
        "Generation statistics",
        "Per day of the window (reporting time zone): generations, succeeded, failed, deleted, "
        'and credits consumed by generations (seed 001 "Generation Stats" export).',
        (
            Column("day", "Day", "date"),
            Column("generations", "Generations"),
            Column("succeeded", "Succeeded"),
            Column("failed", "Failed"),
            Column("deleted", "Deleted"),
            Column("credits_consumed", "Credits consumed", "credits"),
        ),
        _generation_stats,
        per_partner=True,
    ),
)
