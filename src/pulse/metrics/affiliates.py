"""affiliates.* — the affiliate program of seed 003 §2: members, funnel, money, fraud, bonuses.

An affiliate is a partner whose `kind` trait is `affiliate` (as of the as-of moment); its
`program_tier` is partner, power or elite. A referral belongs to the partner named by the event's
`partner_id` (else its `groupId`); trials and conversions without one fall back to the referred
customer's referrer (its `referred_by` trait, else the partner of its first referral sign-up).

The partner-program building blocks here (members of a partner kind, program events of a kind,
referred customers' revenue, commissions) are shared with `agency.*`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from functools import partial
from typing import TYPE_CHECKING, Any, cast

import ibis
import pandas as pd
from ibis import _

from pulse.metrics.catalog import Check, Column, Flow, Health, Metric, Ref, Stock, Table, ratio
from pulse.metrics.revenue import revenue_facts
from pulse.metrics.source import UTC_TS, Source, local_time, payload_text, spells
from pulse.store.store import Part

if TYPE_CHECKING:
    from pulse.metrics.tables import TableContext

AFFILIATE = ("affiliate",)
AFFILIATE_DIMS = ("tier", "partner")
TIERS = ("partner", "power", "elite")
ACTIVE_DAYS = 30
MILESTONES = (3, 10, 25, 50, 100, 250)  # seed 003 §2.6: bonus at these referral counts
COHORT_MONTHS = (1, 3, 6, 12)
SHARED_IP_SIGNUPS = 5  # this many referral sign-ups from one IP address flag them all
# Public webmail domains: sharing one is no sign of self-referral (only the address itself is).
FREE_MAIL = (
    "gmail.com",
    "googlemail.com",
    "outlook.com",
    "hotmail.com",
    "live.com",
    "msn.com",
    "yahoo.com",
    "icloud.com",
    "me.com",
    "aol.com",
    "gmx.de",
    "gmx.net",
    "web.de",
    "proton.me",
    "protonmail.com",
)


# -- shared partner-program facts -------------------------------------------------------------


def partner_kinds(src: Source) -> ibis.Table:
    """Each partner's kind as of the as-of moment: kind_id, partner_kind."""
    return src.latest("partner", "kind", before=src.as_of).select(
        kind_id=_.entity_id, partner_kind=_.value
    )


def of_kind(src: Source, facts: ibis.Table, kinds: Sequence[str]) -> ibis.Table:
    """Facts whose `partner_id` is a partner of one of `kinds`."""
    known = partner_kinds(src)
    known = known.filter(known.partner_kind.isin(tuple(kinds))).view()
    facts = facts.view()
    joined = facts.join(known, facts.partner_id == known.kind_id)
    return joined.drop("kind_id", "partner_kind")


def member_facts(src: Source, kinds: Sequence[str]) -> ibis.Table:
    """Partners of `kinds` while their status is active (approved, not deactivated)."""
    status = src.intervals("partner", "status")
    active = status.filter(status.value == "active")
    return of_kind(
        src,
        active.select(
            partner_id=active.entity_id,
            valid_from=active.valid_from,
            valid_to=active.valid_to,
            value=ibis.literal(1),
        ),
        kinds,
    )


def _earliest(a: ibis.Value, b: ibis.Value) -> ibis.Value:
    """The earlier of two optional interval ends (null = open)."""
    return ibis.cases((a.isnull(), b), (b.isnull(), a), else_=ibis.least(a, b))


def while_member(src: Source, facts: ibis.Table, kinds: Sequence[str]) -> ibis.Table:
    """Stock intervals (partner_id, valid_from, valid_to, value) cut to the partner's
    membership: a deactivated partner's activity or seats stop counting. Membership intervals
    never overlap, so neither do the cut pieces of non-overlapping intervals."""
    members = member_facts(src, kinds).select(
        member_id=_.partner_id, member_from=_.valid_from, member_to=_.valid_to
    )
    facts = facts.view()
    joined = facts.join(
        members,
        (facts.partner_id == members.member_id)
        & (facts.valid_to.isnull() | (members.member_from < facts.valid_to))
        & (members.member_to.isnull() | (facts.valid_from < members.member_to)),
    )
    return joined.select(
        "partner_id",
        "value",
        valid_from=ibis.greatest(joined.valid_from, joined.member_from),
        valid_to=_earliest(joined.valid_to, joined.member_to),
    )


def joined_facts(src: Source, kinds: Sequence[str]) -> ibis.Table:
    """Each partner's first move into active status (its approval), stamped at the move."""
    rows = src.trait_rows("partner", "status")
    rows = rows.filter(rows.value == "active")
    firsts = rows.group_by(partner_id=rows.entity_id).aggregate(ts=rows.ts.min())
    return of_kind(src, firsts.mutate(value=ibis.literal(1)), kinds)


def left_facts(src: Source, kinds: Sequence[str]) -> ibis.Table:
    """Moves into deactivated status (from any other status), stamped at the move."""
    status = src.intervals("partner", "status")
    moved = status.filter(
        (status.value == "deactivated")
        & (status.previous.isnull() | (status.previous != "deactivated"))
    )
    return of_kind(
        src,
        moved.select(partner_id=moved.entity_id, ts=moved.valid_from, value=ibis.literal(1)),
        kinds,
    )


def _partner_of(events: ibis.Table) -> ibis.Value:
    return ibis.coalesce(events.partner_id, events.group_id)


def program_events(src: Source, event: str, kinds: Sequence[str]) -> ibis.Table:
    """One fact per program event (click, sign-up, license, …) of a partner of `kinds`."""
    events = src.track(event)
    facts = events.select(
        "ts",
        "message_id",
        customer_id=events.user_id,
        partner_id=_partner_of(events),
        value=ibis.literal(1),
    )
    return of_kind(src, facts, kinds)


def referrers(src: Source) -> ibis.Table:
    """Who referred each referred customer: referred_id, referrer (the `referred_by` trait,
    else the partner of the customer's first referral sign-up)."""
    trait = src.latest("customer", "referred_by", before=src.as_of).select(
        tid=_.entity_id, by_trait=_.value
    )
    signups = src.track("referral_signed_up")
    signups = signups.filter(signups.user_id.notnull())
    ranked = signups.mutate(
        rank=ibis.row_number().over(
            group_by=signups.user_id, order_by=[signups.ts, signups.message_id]
        )
    )
    first = ranked.filter(ranked["rank"] == 0)
    first = first.select(sid=first.user_id, by_signup=_partner_of(first))
    joined = trait.outer_join(first, trait.tid == first.sid)
    return joined.select(
        referred_id=ibis.coalesce(joined.tid, joined.sid),
        referrer=ibis.coalesce(joined.by_trait, joined.by_signup),
    ).view()


def referred_events(src: Source, event: str, kinds: Sequence[str]) -> ibis.Table:
    """Events of referred customers (trials, conversions) credited to their referrer: the
    event's own `partner_id`, else the customer's referrer."""
    events = src.track(event)
    refs = referrers(src)
    joined = events.left_join(refs, events.user_id == refs.referred_id)
    facts = joined.select(
        "ts",
        customer_id=joined.user_id,
        partner_id=ibis.coalesce(joined.partner_id, joined.referrer),
        value=ibis.literal(1),
    )
    return of_kind(src, facts, kinds)


def referred_revenue_facts(src: Source, kinds: Sequence[str]) -> ibis.Table:
    """Revenue (invoices − refunds, `revenue.total`'s facts) of customers referred by a
    partner of `kinds`, credited to the referrer."""
    money = revenue_facts(src)
    refs = referrers(src)
    joined = money.join(refs, money.customer_id == refs.referred_id)
    facts = joined.select("ts", "customer_id", partner_id=joined.referrer, value=joined.value)
    return of_kind(src, facts, kinds)


def commission_facts(src: Source, kinds: Sequence[str]) -> ibis.Table:
    """commission_earned amounts (recurring, milestone, flat) in the reporting currency."""
    events = src.in_reporting_currency(src.track("commission_earned"), "amount")
    events = events.filter(events.amount_rep.notnull())
    facts = events.select(
        "ts", customer_id=events.user_id, partner_id=_partner_of(events), value=events.amount_rep
    )
    return of_kind(src, facts, kinds)


# -- affiliate facts ----------------------------------------------------------------------------


def total_facts(src: Source) -> ibis.Table:
    return member_facts(src, AFFILIATE)


def new_facts(src: Source) -> ibis.Table:
    return joined_facts(src, AFFILIATE)


def churned_facts(src: Source) -> ibis.Table:
    return left_facts(src, AFFILIATE)


def active_facts(src: Source) -> ibis.Table:
    """An affiliate counts as active for 30 days after each click or sign-up, while it is a
    member (status active). A partner's activities at most 30 days apart make one spell, from
    the first until 30 days after the last: spells never overlap and membership intervals never
    overlap, so one affiliate counts once. The spells are a snapshot, rebuilt after a write for
    the partners it touched (every click in history was read by each question before)."""
    build = partial(_activity_spells, src)
    busy = src.store.snapshot("partner_spells", build, Part("partner", "partner_id"))
    return while_member(src, busy, AFFILIATE)


def _activity_spells(src: Source, ids: ibis.Table | None = None) -> ibis.Table:
    events = src.track("referral_clicked", "referral_signed_up")
    acts = events.select("ts", partner_id=_partner_of(events))
    acts = acts.filter(acts.partner_id.notnull())
    if ids is not None:  # the partners a write touched (see `Store.snapshot`)
        acts = acts.filter(acts.partner_id.isin(ids.entity_id))
    runs = spells(acts, ["partner_id"], ibis.interval(days=ACTIVE_DAYS))
    grouped = runs.group_by("partner_id", "spell").aggregate(last=runs.ts.max())
    return grouped.select(
        "partner_id",
        valid_from=grouped.spell.cast(UTC_TS),
        valid_to=(grouped.last + ibis.interval(days=ACTIVE_DAYS)).cast(UTC_TS),
        value=ibis.literal(1),
    )


def click_facts(src: Source) -> ibis.Table:
    return program_events(src, "referral_clicked", AFFILIATE)


def signup_facts(src: Source) -> ibis.Table:
    return program_events(src, "referral_signed_up", AFFILIATE)


def trial_facts(src: Source) -> ibis.Table:
    return referred_events(src, "trial_started", AFFILIATE)


def conversion_facts(src: Source) -> ibis.Table:
    return referred_events(src, "converted", AFFILIATE)


def revenue_of_referred(src: Source) -> ibis.Table:
    return referred_revenue_facts(src, AFFILIATE)


def commissions(src: Source) -> ibis.Table:
    return commission_facts(src, AFFILIATE)


def _domain(email: ibis.StringValue) -> ibis.StringValue:
    return email.substr(email.find("@") + 1)


def flagged_facts(src: Source) -> ibis.Table:
    """Affiliate referral sign-ups that look fraudulent, with the first reason that holds:
    self_referral_email (the referred customer's e-mail is the affiliate's), self_referral_domain
    (same e-mail domain, public webmail excluded), shared_ip (≥ 5 referral sign-ups of any
    affiliate from the sign-up's `ip` property, all time to the as-of moment)."""
    signups = src.track("referral_signed_up")
    signups = signups.mutate(ip=payload_text(signups, "ip"))
    facts = of_kind(
        src,
        signups.select("ts", "ip", customer_id=signups.user_id, partner_id=_partner_of(signups)),
        AFFILIATE,
    )
    seen = signups.filter(signups.ip.notnull() & (signups.ts < src.as_of))
    crowded = seen.group_by(crowded_ip=seen.ip).aggregate(signups=seen.count())
    crowded = crowded.filter(crowded.signups >= SHARED_IP_SIGNUPS)
    customer = src.latest("customer", "email", before=src.as_of).select(
        cid=_.entity_id, customer_email=_.value.lower().strip()
    )
    partner = src.latest("partner", "email", before=src.as_of).select(
        pid=_.entity_id, partner_email=_.value.lower().strip()
    )
    joined = (
        facts.left_join(customer, facts.customer_id == customer.cid)
        .left_join(partner, facts.partner_id == partner.pid)
        .left_join(crowded, facts.ip == crowded.crowded_ip)
    )
    same_domain = (_domain(joined.customer_email) == _domain(joined.partner_email)) & ~_domain(
        joined.partner_email
    ).isin(FREE_MAIL)
    reason = ibis.cases(
        (joined.customer_email == joined.partner_email, "self_referral_email"),
        (same_domain, "self_referral_domain"),
        (joined.crowded_ip.notnull(), "shared_ip"),
        else_=ibis.null("string"),
    )
    flagged = joined.mutate(reason=reason)
    return flagged.filter(flagged.reason.notnull()).select(
        "ts", "customer_id", "partner_id", "ip", "reason", value=ibis.literal(1)
    )


# -- tables -------------------------------------------------------------------------------------


def by_partner(ctx: TableContext, metric: str) -> dict[str, dict[str, Any]]:
    """A catalog metric broken down by partner: partner id -> its answer row."""
    rows = ctx.ask(metric, by="partner")["rows"]
    return {row["key"]: row for row in rows if row["key"] is not None}


def partner_traits(ctx: TableContext, *names: str) -> pd.DataFrame:
    """Latest partner traits as of the window end: one row per partner, column `partner_id`."""
    frame = pd.DataFrame({"partner_id": pd.Series(dtype=object)})
    for name in names:
        trait = ctx.fetch(
            ctx.src.latest("partner", name, before=ctx.end).rename(partner_id="entity_id")
        ).rename(columns={"value": name})
        frame = frame.merge(trait, on="partner_id", how="outer")
    return frame


def _value(row: dict[str, Any] | None, key: str = "value") -> Any:
    return None if row is None else row[key]


def _funnel(ctx: TableContext) -> pd.DataFrame:
    counts = [
        ctx.ask(f"affiliates.{m}")["value"] for m in ("clicks", "signups", "trials", "conversions")
    ]
    steps = [
        None if not counts[0] else 100.0,
        ctx.ask("affiliates.click_to_signup")["value"],
        ctx.ask("affiliates.signup_to_trial")["value"],
        ctx.ask("affiliates.trial_to_paid")["value"],
    ]
    from_clicks = [
        None if not counts[0] else 100.0,
        steps[1],
        None if not counts[0] else counts[2] / counts[0] * 100,
        ctx.ask("affiliates.click_to_paid")["value"],
    ]
    return pd.DataFrame(
        {
            "step": ["clicks", "signups", "trials", "conversions"],
            "count": counts,
            "step_rate": steps,
            "rate_from_clicks": from_clicks,
        }
    )


def _leaderboard(ctx: TableContext) -> pd.DataFrame:
    referrals = by_partner(ctx, "affiliates.signups")
    converted = by_partner(ctx, "affiliates.conversions")
    revenue = by_partner(ctx, "affiliates.revenue")
    earned = by_partner(ctx, "affiliates.commissions")
    ids = sorted({*referrals, *converted, *revenue, *earned})
    traits = partner_traits(ctx, "name", "program_tier").set_index("partner_id")
    rows = [
        {
            "partner_id": pid,
            "name": traits["name"].get(pid) if pid in traits.index else None,
            "tier": traits["program_tier"].get(pid) if pid in traits.index else None,
            "referrals": _value(referrals.get(pid)) or 0,
            "conversions": _value(converted.get(pid)) or 0,
            "revenue": _value(revenue.get(pid)) or 0.0,
            "commission": _value(earned.get(pid)) or 0.0,
            "trend": _value(revenue.get(pid), "change_pct"),
        }
        for pid in ids
    ]
    frame = pd.DataFrame(rows, columns=[c.name for c in LEADERBOARD])
    return frame.sort_values(
        ["revenue", "referrals", "partner_id"], ascending=[False, False, True], kind="stable"
    )


def _by_tier(ctx: TableContext) -> pd.DataFrame:
    columns = {
        "affiliates": "affiliates.total",
        "active": "affiliates.active",
        "referrals": "affiliates.signups",
        "revenue": "affiliates.revenue",
        "commission": "affiliates.commissions",
    }
    values = {name: ctx.values(metric, by="tier") for name, metric in columns.items()}
    extra = sorted({str(k) for v in values.values() for k in v if k is not None} - set(TIERS))
    return pd.DataFrame(
        [
            {"tier": tier, **{name: values[name].get(tier) or 0 for name in columns}}
            for tier in (*TIERS, *extra)
        ]
    )


def _affiliates(ctx: TableContext) -> pd.DataFrame:
    """Affiliates ever approved by the window end: partner_id, created (UTC), tier."""
    approved = ctx.src.trait_rows("partner", "status")
    approved = approved.filter((approved.value == "active") & (approved.ts < ctx.end))
    ids = approved.select(partner_id=approved.entity_id).distinct()
    ids = of_kind(ctx.src, ids, AFFILIATE)
    created = ctx.src.latest("partner", "created_at", before=ctx.end).select(
        cid=_.entity_id, created_at=_.value.cast(UTC_TS)
    )
    entities = ctx.src.store.table("entities", reads=frozenset({("entity", "partner")}))
    seen = entities.filter(entities.entity == "partner").select(
        sid=_.entity_id, first_seen=_.first_seen
    )
    tier = ctx.src.latest("partner", "program_tier", before=ctx.end).select(
        tid=_.entity_id, tier=_.value
    )
    joined = (
        ids.left_join(created, ids.partner_id == created.cid)
        .left_join(seen, ids.partner_id == seen.sid)
        .left_join(tier, ids.partner_id == tier.tid)
    )
    signed = ibis.coalesce(joined.created_at, joined.first_seen)
    return ctx.fetch(
        joined.select(
            "partner_id",
            "tier",
            created=signed,
            cohort=local_time(ctx.query.tz, signed).truncate("M"),
        )
    )


def _kept_active(members: pd.DataFrame, status: pd.DataFrame, end: pd.Timestamp) -> pd.DataFrame:
    """Per member and horizon that has come by `end`: whether it was active that many months
    after it joined (member, horizon, kept)."""
    created = pd.to_datetime(members["created"], utc=True)
    due = []
    for months in COHORT_MONTHS:
        moment = created + pd.DateOffset(months=months)
        due.append(
            pd.DataFrame(
                {
                    "member": members.index,
                    "partner_id": members["partner_id"],
                    "horizon": months,
                    "moment": moment,
                }
            )[moment <= end]
        )
    checks = pd.concat(due, ignore_index=True)
    active = status.loc[status["value"] == "active", ["entity_id", "valid_from", "valid_to"]]
    joined = checks.merge(active, left_on="partner_id", right_on="entity_id", how="left")
    ends = pd.to_datetime(joined["valid_to"], utc=True)
    holds = (pd.to_datetime(joined["valid_from"], utc=True) < joined["moment"]) & (
        ends.isna() | (ends >= joined["moment"])
    )
    return joined.assign(kept=holds).groupby(["member", "horizon"])["kept"].any().reset_index()


def _cohorts(ctx: TableContext) -> pd.DataFrame:
    members = _affiliates(ctx).reset_index(drop=True)
    status = ctx.fetch(ctx.src.intervals("partner", "status"))
    members = members.assign(
        tier=members["tier"].fillna(""),
        month=[pd.Timestamp(c).date() for c in members["cohort"]],
    )
    kept = _kept_active(members, status, pd.Timestamp(ctx.end))
    kept = kept.merge(members[["month", "tier"]], left_on="member", right_index=True)
    rates = kept.groupby(["month", "tier", "horizon"])["kept"].mean() * 100
    out = []
    for key, group in members.groupby(["month", "tier"], sort=True):
        month, tier = cast(tuple[date, str], key)
        row: dict[str, Any] = {"cohort": month, "tier": tier or None, "affiliates": len(group)}
        for months in COHORT_MONTHS:
            rate = rates.get((month, tier, months))
            row[f"active_{months}m"] = None if rate is None else float(rate)
        out.append(row)
    return pd.DataFrame(out, columns=[c.name for c in COHORTS])


def milestone_progress(referrals: int) -> tuple[int | None, int | None, int | None]:
    """(last milestone reached, next milestone, referrals missing to it)."""
    reached = [m for m in MILESTONES if m <= referrals]
    ahead = [m for m in MILESTONES if m > referrals]
    nxt = ahead[0] if ahead else None
    return (reached[-1] if reached else None, nxt, None if nxt is None else nxt - referrals)


def _milestones(ctx: TableContext) -> pd.DataFrame:
    facts = ctx.scoped(signup_facts(ctx.src))
    facts = facts.filter(facts.ts < ctx.end)
    counts = ctx.fetch(facts.group_by("partner_id").aggregate(referrals=facts.count()))
    traits = partner_traits(ctx, "name", "program_tier", "kind")
    traits = traits[traits["kind"] == "affiliate"]
    if ctx.partner is not None:
        traits = traits[traits["partner_id"] == ctx.partner]
    frame = traits.merge(counts, on="partner_id", how="outer")
    frame["referrals"] = frame["referrals"].fillna(0).astype(int)
    progress = [milestone_progress(int(n)) for n in frame["referrals"]]
    frame["last_milestone"] = [p[0] for p in progress]
    frame["next_milestone"] = [p[1] for p in progress]
    frame["missing"] = [p[2] for p in progress]
    frame = frame.rename(columns={"program_tier": "tier"}).astype(
        {"last_milestone": object, "next_milestone": object, "missing": object}
    )
    return frame.sort_values(["referrals", "partner_id"], ascending=[False, True], kind="stable")


def _flagged(ctx: TableContext) -> ibis.Table:
    facts = ctx.in_window(ctx.scoped(flagged_facts(ctx.src)))
    return facts.order_by(["ts", "customer_id"]).select(
        "ts", "partner_id", "customer_id", "ip", "reason"
    )


LEADERBOARD = (
    Column("partner_id", "Affiliate", "text"),
    Column("name", "Name", "text"),
    Column("tier", "Tier", "text"),
    Column("referrals", "Referrals"),
    Column("conversions", "Conversions"),
    Column("revenue", "Revenue", "money"),
    Column("commission", "Commissions", "money"),
    Column("trend", "Revenue vs previous window", "percent"),
)
COHORTS = (
    Column("cohort", "Signup month", "date"),
    Column("tier", "Tier", "text"),
    Column("affiliates", "Affiliates"),
    *(Column(f"active_{m}m", f"Active after {m} months", "percent") for m in COHORT_MONTHS),
)


def _step_help(what: str) -> str:
    return f"{what} in the window × 100 (None when the earlier step is empty)."


METRICS: tuple[Metric | Table, ...] = (
    Metric(
        "affiliates.total",
        "Total affiliates",
        "Affiliates (partners of kind affiliate) whose status is active as of the window end: "
        "approved and not deactivated.",
        "count",
        Stock(total_facts),
        dims=AFFILIATE_DIMS,
    ),
    Metric(
        "affiliates.active",
        "Active affiliates",
        "Affiliates (active status) with at least one referral click or sign-up in the 30 "
        "days to the window end. Low activity: run an activation campaign.",
        "count",
        Stock(active_facts),
        dims=AFFILIATE_DIMS,
    ),
    Metric(
        "affiliates.new",
        "New affiliates",
        "Affiliates approved (first moved to active status) in the window.",
        "count",
        Flow(new_facts),
        dims=AFFILIATE_DIMS,
    ),
    Metric(
        "affiliates.churned",
        "Churned affiliates",
        "Affiliates deactivated in the window. Top reason in seed 003: low earnings — improve "
        "onboarding.",
        "count",
        Flow(churned_facts),
        direction="down",
        dims=AFFILIATE_DIMS,
    ),
    Metric(
        "affiliates.clicks",
        "Referral clicks",
        "Clicks on affiliate referral links (referral_clicked) in the window.",
        "count",
        Flow(click_facts),
        dims=AFFILIATE_DIMS,
    ),
    Metric(
        "affiliates.signups",
        "Referral sign-ups",
        "Sign-ups through an affiliate's link (referral_signed_up) in the window: referrals.",
        "count",
        Flow(signup_facts),
        dims=AFFILIATE_DIMS,
    ),
    Metric(
        "affiliates.trials",
        "Referred trials",
        "Trials started in the window by customers an affiliate referred (trial_started with "
        "the affiliate's partner_id, else the customer's referrer).",
        "count",
        Flow(trial_facts),
        dims=AFFILIATE_DIMS,
    ),
    Metric(
        "affiliates.conversions",
        "Referred conversions",
        "Referred customers who became paying in the window (converted events).",
        "count",
        Flow(conversion_facts),
        dims=AFFILIATE_DIMS,
    ),
    Metric(
        "affiliates.click_to_signup",
        "Click-to-signup rate",
        _step_help("Referral sign-ups / referral clicks"),
        "percent",
        ratio(Ref("affiliates.signups"), Ref("affiliates.clicks")),
        dims=AFFILIATE_DIMS,
    ),
    Metric(
        "affiliates.signup_to_trial",
        "Signup-to-trial rate",
        _step_help("Referred trials / referral sign-ups"),
        "percent",
        ratio(Ref("affiliates.trials"), Ref("affiliates.signups")),
        dims=AFFILIATE_DIMS,
    ),
    Metric(
        "affiliates.trial_to_paid",
        "Trial-to-paid rate",
        _step_help("Referred conversions / referred trials"),
        "percent",
        ratio(Ref("affiliates.conversions"), Ref("affiliates.trials")),
        dims=AFFILIATE_DIMS,
    ),
    Metric(
        "affiliates.click_to_paid",
        "Click-to-paid rate",
        "Referred conversions / referral clicks in the window × 100. Seed 003's industry "
        "benchmark is 0.8 %: above it the program outperforms (healthy), below it warning — "
        "review landing pages and affiliate targeting.",
        "percent",
        ratio(Ref("affiliates.conversions"), Ref("affiliates.clicks")),
        health=Health((Check(">", 0.8),), (Check("<", 0.8),)),
        dims=AFFILIATE_DIMS,
    ),
    Metric(
        "affiliates.revenue",
        "Affiliate revenue",
        "Gross revenue of affiliate-referred customers in the window: their invoices paid minus "
        "refunds (as revenue.total), credited to the referring affiliate — the base recurring "
        "commissions are paid on.",
        "money",
        Flow(revenue_of_referred),
        dims=AFFILIATE_DIMS,
    ),
    Metric(
        "affiliates.commissions",
        "Affiliate commissions",
        "Commissions earned by affiliates in the window (commission_earned: recurring, "
        "milestone and flat), in the reporting currency; reversals are not deducted.",
        "money",
        Flow(commissions),
        direction="none",
        dims=AFFILIATE_DIMS,
    ),
    Metric(
        "affiliates.epc",
        "Earnings per click",
        "Affiliate commissions / referral clicks in the window: what a click earns the affiliate "
        "(the partner's view).",
        "money",
        ratio(Ref("affiliates.commissions"), Ref("affiliates.clicks"), scale=1),
        dims=AFFILIATE_DIMS,
    ),
    Metric(
        "affiliates.revenue_per_click",
        "Revenue per click",
        "Affiliate revenue / referral clicks in the window: what a click earns the brand.",
        "money",
        ratio(Ref("affiliates.revenue"), Ref("affiliates.clicks"), scale=1),
        dims=AFFILIATE_DIMS,
    ),
    Metric(
        "affiliates.flagged_referrals",
        "Flagged referrals",
        "Affiliate referral sign-ups in the window that look fraudulent: the referred "
        "customer's e-mail (or non-webmail domain) is the affiliate's own, or 5+ referral "
        "sign-ups came from the same IP address. Review them before paying commissions.",
        "count",
        Flow(flagged_facts),
        direction="down",
        dims=AFFILIATE_DIMS,
    ),
    Table(
        "affiliates.funnel",
        "Affiliate conversion funnel",
        "Clicks → sign-ups → trials → conversions in the window: each step's count, its rate "
        "from the step before and from clicks.",
        (
            Column("step", "Step", "text"),
            Column("count", "Count"),
            Column("step_rate", "Step rate", "percent"),
            Column("rate_from_clicks", "Rate from clicks", "percent"),
        ),
        _funnel,
        per_partner=True,
    ),
    Table(
        "affiliates.leaderboard",
        "Top affiliates",
        "Affiliates with referrals, conversions, revenue or commissions in the window, by "
        "revenue; trend = revenue change against the previous window (%).",
        LEADERBOARD,
        _leaderboard,
        per_partner=True,
    ),
    Table(
        "affiliates.by_tier",
        "Affiliates by tier",
        "Per program tier: affiliates and active affiliates at the window end, referrals, "
        "revenue and commissions in the window.",
        (
            Column("tier", "Tier", "text"),
            Column("affiliates", "Affiliates"),
            Column("active", "Active (30 days)"),
            Column("referrals", "Referrals"),
            Column("revenue", "Revenue", "money"),
            Column("commission", "Commissions", "money"),
        ),
        _by_tier,
        per_partner=True,
    ),
    Table(
        "affiliates.cohorts",
        "Affiliate cohorts",
        "Approved affiliates by sign-up month and current tier (all months up to the window "
        "end): the share still active (approved, not deactivated) 1, 3, 6 and 12 months after "
        "signing up, among those who have reached that age.",
        COHORTS,
        _cohorts,
    ),
    Table(
        "affiliates.milestones",
        "Milestone bonus tracker",
        "Per affiliate: referral sign-ups all time to the window end, the last milestone "
        "reached (3/10/25/50/100/250), the next one and the referrals still missing.",
        (
            Column("partner_id", "Affiliate", "text"),
            Column("name", "Name", "text"),
            Column("tier", "Tier", "text"),
            Column("referrals", "Referrals"),
            Column("last_milestone", "Last milestone"),
            Column("next_milestone", "Next milestone"),
            Column("missing", "Referrals to next"),
        ),
        _milestones,
        per_partner=True,
    ),
    Table(
        "affiliates.flagged",
        "Flagged referrals",
        "Affiliate referral sign-ups in the window flagged as possible fraud, with the reason: "
        "self_referral_email, self_referral_domain or shared_ip.",
        (
            Column("ts", "Signed up", "datetime"),
            Column("partner_id", "Affiliate", "text"),
            Column("customer_id", "Customer", "text"),
            Column("ip", "IP address", "text"),
            Column("reason", "Reason", "text"),
        ),
        _flagged,
        per_partner=True,
    ),
)
