"""engagement.*, nps.*, modules.* — what customers do inside a chatbot experience (seed 002).

Every number here is a count of one track event of SPEC §1.3 in the window (sign-ups, opt-ins,
shares, raffle participations, advent doors, PIN log-ins, data entered, deletions, NPS answers,
module views), attributed to the event's partner, else its customer's partner. The tables show
the same facts split by channel, field, day, score or module; they take an optional `experience`
parameter for the per-experience dashboard and honour the partner scope.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

import ibis
import pandas as pd

from pulse.metrics.catalog import Column, Derived, Flow, Metric, Ref, Table, ratio, safe_div
from pulse.metrics.sessions import (
    chat_starts_facts,
    conversation_facts,
    counts,
    in_scope,
    percent,
    sessioned_events,
    total,
)
from pulse.metrics.source import Source, local_time, payload_text

if TYPE_CHECKING:
    from pulse.metrics.tables import TableContext

EXPERIENCE_DIMS = ("experience", "partner", "platform")
OPT_IN_CHANNELS = ("web_push", "reminder")
OPT_IN_LEVELS = ("single", "double")
SHARE_CHANNELS = ("facebook", "email", "native", "twitter", "whatsapp")
NPS_SEGMENTS = ("detractors", "passives", "promoters")
HEAT_LEVELS = ((25.0, "blue"), (50.0, "green"), (75.0, "yellow"), (100.0, "red"))
FACT_COLUMNS = (
    "ts",
    "customer_id",
    "partner_id",
    "experience_id",
    "event",
    "channel",
    "level",
    "field",
    "module",
    "score",
    "message_id",
    "payload",
)


# -- facts ------------------------------------------------------------------------------------


def event_facts(src: Source, *names: str) -> ibis.Table:
    """One fact (value 1) per track event named, with the columns the tables split by.

    The opt-in / share `channel` column is renamed `via` so it never shadows the customer's
    acquisition channel that the engine's `channel` breakdown means.
    """
    events = src.attributed(src.track(*names))
    return events.select(*FACT_COLUMNS, value=ibis.literal(1)).rename(via="channel")


def _counter(
    *names: str, where: Callable[[ibis.Table], ibis.Value] | None = None
) -> Callable[[Source], ibis.Table]:
    def facts(src: Source) -> ibis.Table:
        table = event_facts(src, *names)
        return table if where is None else table.filter(where(table))

    facts.__doc__ = f"One fact per {', '.join(names)} event."
    return facts


def nps_segment(score: ibis.NumericValue) -> ibis.Value:
    """0–6 detractors, 7–8 passives, 9–10 promoters (fractions: below 7, below 9)."""
    return ibis.cases((score < 7, "detractors"), (score < 9, "passives"), else_="promoters")


signups_facts = _counter("signed_up")
opt_in_asked_facts = _counter("opt_in_asked")
web_push_asked_facts = _counter("opt_in_asked", where=lambda t: t.via == "web_push")
opted_in_facts = _counter("opted_in")
shares_facts = _counter("shared")
participations_facts = _counter("participated")
advent_doors_facts = _counter("advent_door_opened")
pin_sent_facts = _counter("pin_sent")
pin_succeeded_facts = _counter("pin_succeeded")
pin_failed_facts = _counter("pin_failed")
data_entered_facts = _counter("data_entered")
deletions_facts = _counter("customer_deleted")
module_views_facts = _counter("module_viewed")


def _opted(channel: str, level: str) -> Callable[[Source], ibis.Table]:
    return _counter("opted_in", where=lambda t: (t.via == channel) & (t.level == level))


def nps_facts(src: Source) -> ibis.Table:
    """NPS answers with their segment."""
    facts = event_facts(src, "nps_submitted")
    facts = facts.filter(facts.score.notnull())
    return facts.mutate(segment=nps_segment(facts.score))


def _nps_of(segment: str) -> Callable[[Source], ibis.Table]:
    def facts(src: Source) -> ibis.Table:
        answers = nps_facts(src)
        return answers.filter(answers.segment == segment)

    return facts


def nps_score(values: Sequence[float | None], _days: int) -> float | None:
    """% promoters − % detractors; None without answers."""
    promoters, detractors, responses = values
    share = safe_div(
        None if promoters is None or detractors is None else promoters - detractors, responses
    )
    return None if share is None else share * 100


def pin_success_rate(values: Sequence[float | None], _days: int) -> float | None:
    """Correct PIN entries / all PIN entries (correct + wrong) × 100."""
    succeeded, failed = values
    if succeeded is None or failed is None:
        return None
    share = safe_div(succeeded, succeeded + failed)
    return None if share is None else share * 100


# -- table helpers ----------------------------------------------------------------------------


def _listed(known: Sequence[str], found: dict[str, float]) -> list[str]:
    """The known keys in their order, then any other key seen in the data."""
    return [*known, *sorted(k for k in found if k not in known)]


# -- tables -----------------------------------------------------------------------------------


def opt_ins_table(ctx: TableContext) -> pd.DataFrame:
    """Opt-ins per channel × level, with how often each channel was asked."""
    given = in_scope(ctx, opted_in_facts(ctx.src))
    frame = ctx.fetch(given.group_by("via", "level").aggregate(n=given.value.sum()))
    found = {(str(c), str(lv)): float(n) for c, lv, n in frame.itertuples(index=False)}
    asked = counts(ctx, opt_in_asked_facts(ctx.src), "via")
    channels = _listed(OPT_IN_CHANNELS, {c: 1.0 for c, _lv in found} | asked)
    levels = _listed(OPT_IN_LEVELS, {lv: 1.0 for _c, lv in found})
    rows = [
        {
            "channel": channel,
            "level": level,
            "asked": asked.get(channel, 0.0),
            "opt_ins": found.get((channel, level), 0.0),
            "rate": percent(found.get((channel, level), 0.0), asked.get(channel, 0.0)),
        }
        for channel in channels
        for level in levels
    ]
    return pd.DataFrame(rows, columns=["channel", "level", "asked", "opt_ins", "rate"])


def shares_table(ctx: TableContext) -> pd.DataFrame:
    """Shares per channel (all five channels, 0 when unused) and their share of all shares."""
    found = counts(ctx, shares_facts(ctx.src), "via")
    every = sum(found.values())
    rows = [
        {"channel": c, "shares": found.get(c, 0.0), "share": percent(found.get(c, 0.0), every)}
        for c in _listed(SHARE_CHANNELS, found)
    ]
    return pd.DataFrame(rows, columns=["channel", "shares", "share"])


def data_fields_table(ctx: TableContext) -> pd.DataFrame:
    """What customers entered (field) and how often, most entered first."""
    found = counts(ctx, data_entered_facts(ctx.src), "field")
    rows = sorted(found.items(), key=lambda item: (-item[1], item[0]))
    return pd.DataFrame(rows, columns=["field", "entries"])


def pin_attempts_table(ctx: TableContext) -> pd.DataFrame:
    """PIN e-mails sent, correct and wrong entries per local day of the window (0 when none)."""
    facts = in_scope(ctx, event_facts(ctx.src, "pin_sent", "pin_succeeded", "pin_failed"))
    day = local_time(ctx.src.tz, facts.ts).date()
    frame = ctx.fetch(facts.group_by(day=day, event=facts.event).aggregate(n=facts.value.sum()))
    found = {(pd.Timestamp(d).date(), e): float(n) for d, e, n in frame.itertuples(index=False)}
    rows = []
    for offset in range(ctx.window.days):
        on = ctx.window.start + timedelta(days=offset)
        sent, ok, bad = (
            found.get((on, e), 0.0) for e in ("pin_sent", "pin_succeeded", "pin_failed")
        )
        rows.append({"day": on, "sent": sent, "succeeded": ok, "failed": bad})
    return pd.DataFrame(rows, columns=["day", "sent", "succeeded", "failed"])


def nps_distribution_table(ctx: TableContext) -> pd.DataFrame:
    """Answers per score 0..10 (all eleven rows; 6.5 counts as 6) and their share."""
    answers = in_scope(ctx, nps_facts(ctx.src))
    per = answers.group_by(given=answers.score.floor().cast("int64")).aggregate(
        n=answers.value.sum()
    )
    scores = ibis.memtable({"score": list(range(11))})
    joined = scores.left_join(per, scores.score == per.given)
    frame = ctx.fetch(
        joined.select(
            "score",
            segment=nps_segment(joined.score),
            responses=ibis.coalesce(joined.n, 0),
        ).order_by("score")
    )
    every = float(frame["responses"].sum())
    frame["share"] = [percent(float(n), every) for n in frame["responses"]]
    return frame


def nps_segments_table(ctx: TableContext) -> pd.DataFrame:
    """Detractors, passives and promoters: answers and share of all answers."""
    found = counts(ctx, nps_facts(ctx.src), "segment")
    every = sum(found.values())
    rows = [
        {"segment": s, "responses": found.get(s, 0.0), "share": percent(found.get(s, 0.0), every)}
        for s in NPS_SEGMENTS
    ]
    return pd.DataFrame(rows, columns=["segment", "responses", "share"])


def nps_answers_table(ctx: TableContext) -> ibis.Table:
    """Every NPS answer with its typed comment, newest first (filter by segment to download)."""
    answers = in_scope(ctx, nps_facts(ctx.src))
    comment = payload_text(answers, "comment")
    return answers.select(
        customer=answers.customer_id,
        experience=answers.experience_id,
        score=answers.score,
        segment=answers.segment,
        comment=comment,
        ts=answers.ts,
        message_id=answers.message_id,
    ).order_by([ibis.desc("ts"), "message_id"])


# -- modules ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Flowchart:
    """An experience as its owner built it: name, modules in flow order, owning partner."""

    name: str | None
    modules: list[str]
    partner_id: str | None = None


def parse_modules(text: str | None) -> list[str]:
    """The `modules` trait as stored: a JSON list as text (also accepts "a, b, c")."""
    if text is None:
        return []
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = text
    if isinstance(parsed, list):
        return [str(m) for m in parsed]
    return [m.strip() for m in str(parsed).split(",") if m.strip()]


def experience_flows(ctx: TableContext) -> dict[str, Flowchart]:
    """Each experience's name, modules in flow order and partner, as of the window end
    (only the `experience` parameter's one when it is set)."""
    src = ctx.src
    traits = ("name", "modules", "partner_id")
    values = [
        src.latest("experience", name, before=src.as_of).mutate(name=ibis.literal(name))
        for name in traits
    ]
    frame = ctx.fetch(ibis.union(*values))
    per: dict[str, dict[str, str]] = {}
    for entity_id, value, name in frame[["entity_id", "value", "name"]].itertuples(index=False):
        per.setdefault(str(entity_id), {})[str(name)] = value
    wanted = ctx.params.get("experience")
    return {
        eid: Flowchart(
            found.get("name"), parse_modules(found.get("modules")), found.get("partner_id")
        )
        for eid, found in per.items()
        if not wanted or eid == wanted
    }


def heat_level(share: float | None) -> str:
    """blue ≤ 25 % of the busiest module < green ≤ 50 % < yellow ≤ 75 % < red."""
    for bound, level in HEAT_LEVELS:
        if share is None or share <= bound:
            return level
    return HEAT_LEVELS[-1][1]


HEATMAP_COLUMNS = ["experience", "name", "position", "module", "visits", "share", "level"]


def heatmap_table(ctx: TableContext) -> pd.DataFrame:
    """Per experience: its modules in flow order with their views, share of the most viewed
    module and a colour level; modules not in the flow but viewed follow at the end."""
    views = in_scope(ctx, module_views_facts(ctx.src))
    frame = ctx.fetch(views.group_by("experience_id", "module").aggregate(n=views.value.sum()))
    visits: dict[str, dict[str, float]] = {}
    for eid, module, n in frame.itertuples(index=False):
        visits.setdefault(str(eid), {})[str(module)] = float(n)
    flows = experience_flows(ctx)
    shown = {
        eid for eid, flow in flows.items() if ctx.partner is None or flow.partner_id == ctx.partner
    } | set(visits)
    rows = []
    for eid in sorted(shown):
        flow = flows.get(eid, Flowchart(None, []))
        seen = visits.get(eid, {})
        ordered = [*flow.modules, *sorted(m for m in seen if m not in flow.modules)]
        busiest = max([seen.get(m, 0.0) for m in ordered], default=0.0)
        for position, module in enumerate(ordered, start=1):
            n = seen.get(module, 0.0)
            share = percent(n, busiest)
            rows.append([eid, flow.name, position, module, n, share, heat_level(share)])
    return pd.DataFrame(rows, columns=HEATMAP_COLUMNS)


def _module_views(ctx: TableContext) -> ibis.Table:
    """Module views in scope with `to_next`: seconds until the customer's next module view in
    the same session (null when the session ends first: the customer left on this module)."""
    sessioned = sessioned_events(ctx.src)
    views = sessioned.filter(sessioned.event == "module_viewed")
    order = ibis.window(
        group_by=[views.customer_id, views.experience_id, views.session],
        order_by=[views.ts, views.message_id],
    )
    following = views.ts.lead().over(order)
    timed = views.mutate(to_next=following.epoch_seconds() - views.ts.epoch_seconds())
    return in_scope(ctx, timed.mutate(value=ibis.literal(1)))


DETAIL_COLUMNS = [
    "experience",
    "module",
    "visits",
    "visitors",
    "avg_seconds_to_next",
    "exits",
    "exit_rate",
]


def module_detail_table(ctx: TableContext) -> pd.DataFrame:
    """One module's numbers (or every module's, without `module`): views, distinct visitors,
    average seconds until the next module of the session, and exits (the session's last
    module: the customer left there)."""
    views = _module_views(ctx)
    module = ctx.params.get("module")
    if module:
        views = views.filter(views.module == module)
    table = views.group_by(experience=views.experience_id, module=views.module).aggregate(
        visits=views.value.sum(),
        visitors=views.customer_id.nunique(),
        avg_seconds_to_next=views.to_next.mean(),
        exits=views.to_next.isnull().ifelse(1, 0).sum(),
    )
    frame = ctx.fetch(table.order_by(["experience", "module"]))
    frame["exit_rate"] = [
        percent(float(e), float(v)) for e, v in zip(frame["exits"], frame["visits"], strict=True)
    ]
    return frame[DETAIL_COLUMNS]


FUNNEL: tuple[tuple[str, str, Callable[[Source], ibis.Table]], ...] = (
    ("chat.starts", "Chat starts", chat_starts_facts),
    ("sessions.with_conversation", "Sessions with conversation", conversation_facts),
    ("engagement.signups", "New customers", signups_facts),
    ("engagement.opted_in", "Opt-ins", opted_in_facts),
)
FUNNEL_COLUMNS = ["position", "step", "label", "count", "step_rate", "rate_from_first"]


def funnel_table(ctx: TableContext) -> pd.DataFrame:
    """Chat starts → sessions with conversation → new customers → opt-ins (seed 002), with the
    rate from the step before and from the first step (None when that base is 0)."""
    found = [total(ctx, facts(ctx.src)) for _id, _label, facts in FUNNEL]
    rows = [
        (position, metric_id, label, count, percent(count, before), percent(count, found[0]))
        for position, ((metric_id, label, _facts), count, before) in enumerate(
            zip(FUNNEL, found, [found[0], *found[:-1]], strict=True), start=1
        )
    ]
    return pd.DataFrame(rows, columns=FUNNEL_COLUMNS)


# -- catalog ----------------------------------------------------------------------------------


def _count(
    metric_id: str,
    label: str,
    help_text: str,
    facts: Callable[[Source], ibis.Table],
    direction: str = "up",
    listed: bool = True,
) -> Metric:
    return Metric(
        metric_id,
        label,
        help_text,
        "count",
        Flow(facts),
        direction=direction,  # type: ignore[arg-type]
        dims=EXPERIENCE_DIMS,
        listed=listed,
    )


_SCOPE = "Optional parameter `experience` narrows it to one experience."

METRICS: tuple[Metric | Table, ...] = (
    _count(
        "engagement.signups",
        "New customers",
        "Customers who signed up with their e-mail address in the window (signed_up).",
        signups_facts,
    ),
    _count(
        "engagement.opt_in_asked",
        "Asked for opt-in",
        "How often an opt-in (web push or reminder) was asked for in the window.",
        opt_in_asked_facts,
    ),
    _count(
        "engagement.web_push_asked",
        "Asked for web push",
        "How often the web push opt-in was asked for in the window.",
        web_push_asked_facts,
    ),
    _count(
        "engagement.opted_in",
        "Opt-ins",
        "Opt-ins given in the window, any channel and level (single or double).",
        opted_in_facts,
    ),
    _count(
        "engagement.soi_web_push",
        "SOI web push",
        "Single opt-ins to web push given in the window.",
        _opted("web_push", "single"),
    ),
    _count(
        "engagement.doi_web_push",
        "DOI web push",
        "Double opt-ins to web push given in the window.",
        _opted("web_push", "double"),
    ),
    _count(
        "engagement.soi_reminder",
        "SOI reminder",
        "Single opt-ins to reminders given in the window.",
        _opted("reminder", "single"),
    ),
    _count(
        "engagement.doi_reminder",
        "DOI reminder",
        "Double opt-ins to reminders given in the window.",
        _opted("reminder", "double"),
    ),
    Metric(
        "engagement.opt_in_rate",
        "Opt-in rate",
        "Opt-ins given / opt-ins asked for × 100 in the window.",
        "percent",
        ratio(Ref("engagement.opted_in"), Ref("engagement.opt_in_asked")),
        dims=EXPERIENCE_DIMS,
    ),
    _count(
        "engagement.shares",
        "Shares",
        "How often an experience was shared in the window (Facebook, e-mail, native, Twitter, "
        "WhatsApp); see engagement.shares_by_channel for the split.",
        shares_facts,
    ),
    _count(
        "engagement.participations",
        "Participations",
        "Participations, e.g. in a raffle; a customer counts again for each participation.",
        participations_facts,
    ),
    _count(
        "engagement.advent_doors",
        "Advent calendar doors opened",
        "How many times advent calendar doors were opened in the window.",
        advent_doors_facts,
    ),
    _count(
        "engagement.pin_sent",
        "PIN e-mails sent",
        "How often an e-mail with a log-in PIN was sent in the window.",
        pin_sent_facts,
    ),
    _count(
        "engagement.pin_succeeded",
        "PIN succeeded",
        "How often a PIN was entered correctly in the window.",
        pin_succeeded_facts,
    ),
    _count(
        "engagement.pin_failed",
        "PIN failed",
        "How often a PIN was entered incorrectly in the window.",
        pin_failed_facts,
        direction="down",
    ),
    Metric(
        "engagement.pin_success_rate",
        "PIN log-in success rate",
        "Correct PIN entries / all PIN entries (correct + wrong) × 100 in the window.",
        "percent",
        Derived((Ref("engagement.pin_succeeded"), Ref("engagement.pin_failed")), pin_success_rate),
        dims=EXPERIENCE_DIMS,
    ),
    _count(
        "engagement.data_entered",
        "Data entered",
        "How often customers entered data (postal address, phone, …) in the window; see "
        "engagement.data_fields for the fields.",
        data_entered_facts,
    ),
    _count(
        "engagement.deletions",
        "Customers deleted",
        "How many customers were deleted in the window (customer_deleted).",
        deletions_facts,
        direction="down",
    ),
    _count(
        "nps.responses",
        "NPS responses",
        "How often an NPS rating (0–10) was given in the window.",
        nps_facts,
    ),
    _count(
        "nps.detractors",
        "Detractors",
        "NPS answers scoring 0–6 in the window.",
        _nps_of("detractors"),
        direction="down",
    ),
    _count(
        "nps.passives",
        "Passives",
        "NPS answers scoring 7 or 8 in the window.",
        _nps_of("passives"),
        direction="none",
    ),
    _count(
        "nps.promoters",
        "Promoters",
        "NPS answers scoring 9 or 10 in the window.",
        _nps_of("promoters"),
    ),
    Metric(
        "nps.score",
        "Net Promoter Score",
        "% promoters − % detractors of the NPS answers in the window (−100 to 100); none "
        "without answers.",
        "score",
        Derived((Ref("nps.promoters"), Ref("nps.detractors"), Ref("nps.responses")), nps_score),
        dims=EXPERIENCE_DIMS,
    ),
    _count(
        "modules.visits",
        "Module visits",
        "How often experience modules were shown in the window (module_viewed); see "
        "modules.heatmap for the count per module in flow order.",
        module_views_facts,
    ),
    Table(
        "experiences.funnel",
        "Experience funnel",
        "Chat starts → sessions with conversation → new customers → opt-ins in the window, "
        "with the rate from the step before and from the first step. " + _SCOPE,
        (
            Column("position", "Step"),
            Column("step", "Metric", "text"),
            Column("label", "Label", "text"),
            Column("count", "Count"),
            Column("step_rate", "Rate from previous step", "percent"),
            Column("rate_from_first", "Rate from first step", "percent"),
        ),
        funnel_table,
        per_partner=True,
        params=("experience",),
    ),
    Table(
        "engagement.opt_ins",
        "Opt-ins by channel and level",
        "Single and double opt-ins per channel (web push, reminder), how often the channel was "
        "asked for, and opt-ins / asked × 100. " + _SCOPE,
        (
            Column("channel", "Channel", "text"),
            Column("level", "Level", "text"),
            Column("asked", "Asked"),
            Column("opt_ins", "Opt-ins"),
            Column("rate", "Opt-in rate", "percent"),
        ),
        opt_ins_table,
        per_partner=True,
        params=("experience",),
    ),
    Table(
        "engagement.shares_by_channel",
        "Shares by channel",
        "How often experiences were shared via Facebook, e-mail, native, Twitter and WhatsApp, "
        "and each channel's share of all shares. " + _SCOPE,
        (
            Column("channel", "Channel", "text"),
            Column("shares", "Shares"),
            Column("share", "Share", "percent"),
        ),
        shares_table,
        per_partner=True,
        params=("experience",),
    ),
    Table(
        "engagement.data_fields",
        "Data entered by customers",
        "Which data customers entered (postal address, phone, …) and how often. " + _SCOPE,
        (Column("field", "Field", "text"), Column("entries", "Entries")),
        data_fields_table,
        per_partner=True,
        params=("experience",),
    ),
    Table(
        "engagement.pin_attempts",
        "Log-in attempts with code",
        "PIN e-mails sent and PINs entered correctly or wrongly per day (reporting time zone). "
        + _SCOPE,
        (
            Column("day", "Day", "date"),
            Column("sent", "PIN sent"),
            Column("succeeded", "PIN succeeded"),
            Column("failed", "PIN failed"),
        ),
        pin_attempts_table,
        per_partner=True,
        params=("experience",),
    ),
    Table(
        "nps.distribution",
        "NPS distribution",
        "NPS answers per score 0 to 10 and their share of all answers. " + _SCOPE,
        (
            Column("score", "Score"),
            Column("segment", "Segment", "text"),
            Column("responses", "Responses"),
            Column("share", "Share", "percent"),
        ),
        nps_distribution_table,
        per_partner=True,
        params=("experience",),
    ),
    Table(
        "nps.segments",
        "NPS segments",
        "Detractors (0–6), passives (7–8) and promoters (9–10): answers and share. " + _SCOPE,
        (
            Column("segment", "Segment", "text"),
            Column("responses", "Responses"),
            Column("share", "Share", "percent"),
        ),
        nps_segments_table,
        per_partner=True,
        params=("experience",),
    ),
    Table(
        "nps.answers",
        "NPS answers",
        "Every NPS answer with the customer's comment, newest first; filter segment = "
        "detractors, passives or promoters to download one category. " + _SCOPE,
        (
            Column("customer", "Customer", "text"),
            Column("experience", "Experience", "text"),
            Column("score", "Score"),
            Column("segment", "Segment", "text"),
            Column("comment", "Comment", "text"),
            Column("ts", "Answered at", "datetime"),
        ),
        nps_answers_table,
        per_partner=True,
        params=("experience",),
    ),
    Table(
        "modules.heatmap",
        "Module heatmap",
        "Per experience, its modules in flow order with how often each was shown, the share of "
        "the most shown module, and a heat level: blue (≤ 25 %), green (≤ 50 %), yellow "
        "(≤ 75 %), red. Modules never shown are listed with 0. " + _SCOPE,
        (
            Column("experience", "Experience", "text"),
            Column("name", "Experience name", "text"),
            Column("position", "Position"),
            Column("module", "Module", "text"),
            Column("visits", "Visits"),
            Column("share", "Share of busiest", "percent"),
            Column("level", "Heat level", "text"),
        ),
        heatmap_table,
        per_partner=True,
        params=("experience",),
    ),
    Table(
        "modules.detail",
        "Module detail",
        "One module of one experience (parameters `experience` and `module`; every module "
        "without `module`): views, distinct visitors, average seconds until the customer's next "
        "module in the same session, and exits (the session ended on this module) with exits / "
        "views × 100.",
        (
            Column("experience", "Experience", "text"),
            Column("module", "Module", "text"),
            Column("visits", "Visits"),
            Column("visitors", "Visitors"),
            Column("avg_seconds_to_next", "Avg seconds to next module"),
            Column("exits", "Exits"),
            Column("exit_rate", "Exit rate", "percent"),
        ),
        module_detail_table,
        per_partner=True,
        params=("experience", "module"),
    ),
)
