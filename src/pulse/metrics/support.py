"""support.* and onboarding.* — partner support and onboarding (seed 003 §6.1, §6.2).

A ticket's life is `ticket_opened`, `ticket_first_response`, maybe `ticket_escalated`, and
`ticket_resolved` (csat 1–5), all with ticket_id; each step counts once per ticket (its first
occurrence). A ticket belongs to the event's partner_id, else its groupId (a partner's own
ticket), else its customer's partner. Health thresholds are seed 003 §6.1's targets (healthy on
target; warning when more than 20 % off it, as for SPEC §3 targets).
"""

from __future__ import annotations

from typing import Any

import ibis
import pandas as pd
from ibis import _

from pulse.metrics.catalog import Column, Flow, Metric, Ref, Table, health, ratio
from pulse.metrics.source import Source
from pulse.metrics.tables import TableContext

SUPPORT_DIMS = ("partner", "partner_kind", "tier")
HOUR = 3600.0
DAY = 86400.0


def _partnered(src: Source, *events: str) -> ibis.Table:
    """Events with customer_id and partner_id: the event's or its customer's, else its group."""
    attributed = src.attributed(src.track(*events))
    return attributed.mutate(partner_id=ibis.coalesce(attributed.partner_id, attributed.group_id))


def _firsts(src: Source, event: str, key: str = "ticket_id") -> ibis.Table:
    """The first event of a kind per ticket (or partner): key, ts, customer_id, partner_id, csat."""
    events = _partnered(src, event)
    events = events.filter(events[key].notnull())
    ranked = events.mutate(
        rank=ibis.row_number().over(group_by=events[key], order_by=[_.ts, _.message_id])
    )
    first = ranked.filter(ranked["rank"] == 0)
    return first.select(*dict.fromkeys((key, "ts", "customer_id", "partner_id", "csat")))


def _ones(facts: ibis.Table) -> ibis.Table:
    return facts.select("ts", "customer_id", "partner_id", value=ibis.literal(1))


def opened_facts(src: Source) -> ibis.Table:
    return _ones(_firsts(src, "ticket_opened"))


def _elapsed(src: Source, event: str) -> ibis.Table:
    """Tickets reaching `event`, stamped then, with the seconds since they were opened."""
    step = _firsts(src, event)
    opened = _firsts(src, "ticket_opened").select(tid=_.ticket_id, opened=_.ts)
    joined = step.join(opened, step.ticket_id == opened.tid)
    return joined.mutate(seconds=joined.ts.epoch_seconds() - joined.opened.epoch_seconds())


def responded_facts(src: Source) -> ibis.Table:
    return _ones(_elapsed(src, "ticket_first_response"))


def response_hours_facts(src: Source) -> ibis.Table:
    facts = _elapsed(src, "ticket_first_response")
    return facts.select("ts", "customer_id", "partner_id", value=facts.seconds / HOUR)


def resolved_facts(src: Source) -> ibis.Table:
    return _ones(_elapsed(src, "ticket_resolved"))


def resolution_hours_facts(src: Source) -> ibis.Table:
    facts = _elapsed(src, "ticket_resolved")
    return facts.select("ts", "customer_id", "partner_id", value=facts.seconds / HOUR)


def rated_facts(src: Source) -> ibis.Table:
    facts = _firsts(src, "ticket_resolved")
    return _ones(facts.filter(facts.csat.notnull()))


def csat_facts(src: Source) -> ibis.Table:
    facts = _firsts(src, "ticket_resolved")
    facts = facts.filter(facts.csat.notnull())
    return facts.select("ts", "customer_id", "partner_id", value=facts.csat)


def escalated_facts(src: Source) -> ibis.Table:
    """Tickets opened (stamped at opening) that were escalated by the as-of moment."""
    opened = _firsts(src, "ticket_opened")
    escalated = _firsts(src, "ticket_escalated")
    escalated = escalated.filter(escalated.ts < src.as_of).select(eid=_.ticket_id)
    joined = opened.join(escalated, opened.ticket_id == escalated.eid)
    return _ones(joined)


# -- onboarding ---------------------------------------------------------------------------------


def _onboarding(src: Source, event: str) -> ibis.Table:
    facts = _firsts(src, event, key="partner_id")
    return facts.select("ts", "partner_id", customer_id=ibis.null("string"))


def started_facts(src: Source) -> ibis.Table:
    return _onboarding(src, "onboarding_started").mutate(value=ibis.literal(1))


def completed_facts(src: Source) -> ibis.Table:
    return _onboarding(src, "onboarding_completed").mutate(value=ibis.literal(1))


def _durations(src: Source) -> ibis.Table:
    """Completions (stamped then) with the days since their onboarding started."""
    done = _onboarding(src, "onboarding_completed")
    start = _onboarding(src, "onboarding_started").select(sid=_.partner_id, started=_.ts)
    joined = done.join(start, done.partner_id == start.sid)
    return joined.mutate(
        days=(joined.ts.epoch_seconds() - joined.started.epoch_seconds()) / DAY
    ).drop("sid")


def timed_completions_facts(src: Source) -> ibis.Table:
    return _durations(src).select("ts", "partner_id", "customer_id", value=ibis.literal(1))


def onboarding_days_facts(src: Source) -> ibis.Table:
    facts = _durations(src)
    return facts.select("ts", "partner_id", "customer_id", value=facts.days)


def started_completed_facts(src: Source) -> ibis.Table:
    """Onboardings (stamped at their start) completed by the as-of moment."""
    start = _onboarding(src, "onboarding_started")
    done = _onboarding(src, "onboarding_completed")
    done = done.filter(done.ts < src.as_of).select(did=_.partner_id)
    joined = start.join(done, start.partner_id == done.did)
    return joined.select("ts", "partner_id", "customer_id", value=ibis.literal(1))


def _first_revenue(src: Source) -> ibis.Table:
    """Per partner: approval (first move to active) and first revenue at or after it, in days."""
    status = src.trait_rows("partner", "status")
    approved = (
        status.filter(status.value == "active")
        .group_by(pid=status.entity_id)
        .aggregate(approved=status.ts.min())
    )
    money = src.attributed(src.track("invoice_paid", "converted"))
    money = money.filter(money.partner_id.notnull())
    joined = money.join(
        approved, (money.partner_id == approved.pid) & (money.ts >= approved.approved)
    )
    first = joined.group_by("partner_id", "approved").aggregate(ts=joined.ts.min())
    return first.select(
        "ts",
        "partner_id",
        customer_id=ibis.null("string"),
        days=(first.ts.epoch_seconds() - first.approved.epoch_seconds()) / DAY,
    )


def first_revenue_facts(src: Source) -> ibis.Table:
    return _first_revenue(src).drop("days").mutate(value=ibis.literal(1))


def first_revenue_days_facts(src: Source) -> ibis.Table:
    facts = _first_revenue(src)
    return facts.select("ts", "partner_id", "customer_id", value=facts.days)


# -- tables -------------------------------------------------------------------------------------

BY_KIND = {
    "tickets": "support.tickets",
    "first_response_hours": "support.first_response_hours",
    "resolution_hours": "support.resolution_hours",
    "csat": "support.csat",
    "escalation_rate": "support.escalation_rate",
    "onboarding_started": "onboarding.started",
    "completion_rate": "onboarding.completion_rate",
    "onboarding_days": "onboarding.avg_days",
    "first_revenue_days": "onboarding.time_to_first_revenue_days",
}


def by_partner_kind_table(ctx: TableContext) -> pd.DataFrame:
    """Seed 003 §6.1 and §6.2 per partner kind, every number asked of the catalog."""
    frame = ctx.gather("partner_kind", "partner_kind", BY_KIND)
    return frame.sort_values("partner_kind", na_position="last")


def _count(metric_id: str, label: str, help_: str, facts: Any, **extra: Any) -> Metric:
    return Metric(metric_id, label, help_, "count", Flow(facts), dims=SUPPORT_DIMS, **extra)


METRICS: tuple[Metric | Table, ...] = (
    _count("support.tickets", "Tickets", "Support tickets opened in the window.", opened_facts),
    _count(
        "support.responded",
        "Tickets first-responded",
        "Tickets that got their first response in the window.",
        responded_facts,
        listed=False,
    ),
    _count(
        "support.response_hours_total",
        "Hours to first response (sum)",
        "Hours from opening to first response, summed over the window's first responses.",
        response_hours_facts,
        listed=False,
    ),
    Metric(
        "support.first_response_hours",
        "Average first response time (h)",
        "Hours from a ticket's opening to its first response, averaged over tickets first "
        "answered in the window. Target 4 h: healthy at or below, warning above 4.8 h; add "
        "support capacity or triage faster.",
        "hours",
        ratio(Ref("support.response_hours_total"), Ref("support.responded"), scale=1),
        direction="down",
        health=health("<= 4", "> 4.8"),
        dims=SUPPORT_DIMS,
    ),
    _count(
        "support.resolved",
        "Tickets resolved",
        "Tickets resolved in the window.",
        resolved_facts,
    ),
    _count(
        "support.resolution_hours_total",
        "Hours to resolution (sum)",
        "Hours from opening to resolution, summed over the window's resolutions.",
        resolution_hours_facts,
        listed=False,
    ),
    Metric(
        "support.resolution_hours",
        "Average resolution time (h)",
        "Hours from a ticket's opening to its resolution, averaged over tickets resolved in "
        "the window. Target 24 h: healthy at or below, warning above 28.8 h.",
        "hours",
        ratio(Ref("support.resolution_hours_total"), Ref("support.resolved"), scale=1),
        direction="down",
        health=health("<= 24", "> 28.8"),
        dims=SUPPORT_DIMS,
    ),
    _count(
        "support.rated",
        "Tickets rated",
        "Tickets resolved in the window with a CSAT score.",
        rated_facts,
        listed=False,
    ),
    _count(
        "support.csat_total",
        "CSAT (sum)",
        "Sum of the CSAT scores of tickets resolved in the window.",
        csat_facts,
        listed=False,
    ),
    Metric(
        "support.csat",
        "Partner satisfaction (CSAT)",
        "Average CSAT (1–5) of tickets resolved in the window. Target 4.5: healthy at or "
        "above, warning below 3.6; review the low-rated tickets.",
        "score",
        ratio(Ref("support.csat_total"), Ref("support.rated"), scale=1),
        health=health(">= 4.5", "< 3.6"),
        dims=SUPPORT_DIMS,
    ),
    _count(
        "support.escalated",
        "Tickets escalated",
        "Tickets opened in the window that were escalated by its end.",
        escalated_facts,
        direction="down",
        listed=False,
    ),
    Metric(
        "support.escalation_rate",
        "Escalation rate",
        "Tickets opened in the window and escalated by its end / tickets opened × 100. Target "
        "10 %: healthy at or below, warning above 12 %.",
        "percent",
        ratio(Ref("support.escalated"), Ref("support.tickets")),
        direction="down",
        health=health("<= 10", "> 12"),
        dims=SUPPORT_DIMS,
    ),
    _count(
        "onboarding.started",
        "Onboardings started",
        "Partners who started onboarding in the window.",
        started_facts,
    ),
    _count(
        "onboarding.completed",
        "Onboardings completed",
        "Partners who completed onboarding in the window.",
        completed_facts,
    ),
    _count(
        "onboarding.started_completed",
        "Onboardings started and completed",
        "Partners who started onboarding in the window and completed it by its end.",
        started_completed_facts,
        listed=False,
    ),
    Metric(
        "onboarding.completion_rate",
        "Onboarding completion rate",
        "Partners who started onboarding in the window and completed it by the window end / "
        "partners who started × 100. Low: simplify onboarding and follow up.",
        "percent",
        ratio(Ref("onboarding.started_completed"), Ref("onboarding.started")),
        dims=SUPPORT_DIMS,
    ),
    _count(
        "onboarding.timed_completions",
        "Onboardings completed with a start",
        "Onboardings completed in the window whose start is known.",
        timed_completions_facts,
        listed=False,
    ),
    _count(
        "onboarding.days_total",
        "Onboarding days (sum)",
        "Days from start to completion, summed over the window's completions.",
        onboarding_days_facts,
        listed=False,
    ),
    Metric(
        "onboarding.avg_days",
        "Average onboarding time (days)",
        "Days from onboarding start to completion, averaged over onboardings completed in "
        "the window.",
        "days",
        ratio(Ref("onboarding.days_total"), Ref("onboarding.timed_completions"), scale=1),
        direction="down",
        dims=SUPPORT_DIMS,
    ),
    _count(
        "onboarding.first_revenue",
        "Partners with a first revenue",
        "Partners whose first invoice or conversion after approval happened in the window.",
        first_revenue_facts,
        listed=False,
    ),
    _count(
        "onboarding.first_revenue_days_total",
        "Days to first revenue (sum)",
        "Days from approval to first revenue, summed over the window's first revenues.",
        first_revenue_days_facts,
        listed=False,
    ),
    Metric(
        "onboarding.time_to_first_revenue_days",
        "Time to first revenue (days)",
        "Days from a partner's approval to the first invoice paid by one of its customers or "
        "conversion attributed to it, averaged over partners whose first revenue came in the "
        "window. Long: activation campaign for new partners.",
        "days",
        ratio(Ref("onboarding.first_revenue_days_total"), Ref("onboarding.first_revenue"), scale=1),
        direction="down",
        dims=SUPPORT_DIMS,
    ),
    Table(
        "support.by_partner_kind",
        "Support and onboarding by partner kind",
        "Per partner kind: tickets, first response and resolution times, CSAT, escalation "
        "rate; onboardings started, completion rate, onboarding time and time to first "
        "revenue (seed 003 §6).",
        (
            Column("partner_kind", "Partner kind", "text"),
            Column("tickets", "Tickets"),
            Column("first_response_hours", "First response (h)"),
            Column("resolution_hours", "Resolution (h)"),
            Column("csat", "CSAT"),
            Column("escalation_rate", "Escalation rate", "percent"),
            Column("onboarding_started", "Onboardings started"),
            Column("completion_rate", "Completion rate", "percent"),
            Column("onboarding_days", "Onboarding (days)"),
            Column("first_revenue_days", "Time to first revenue (days)"),
        ),
        by_partner_kind_table,
    ),
)
