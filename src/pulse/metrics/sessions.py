"""sessions.*, chat.* — chatbot sessions, conversations and bounces (seed 002, SPEC §3).

A session is one customer's run of events in one experience (events carrying that
`experience_id`: chat_opened, message_sent, button_clicked, module_viewed, and any other) with
no gap over 30 minutes; a gap of exactly 30 minutes continues it. Sessions are cut per customer
*and* experience: the experience dashboard (seed 002) is per experience, so a session belongs to
exactly one experience and the tenant-wide numbers are the sum of the experiences' numbers.

A session belongs to the window of its first event (its fact `ts` is the start); its duration
is last − first event. Its platform is the `platform` property its events carry (the device the
chat was opened on), else the customer's `platform` trait. Its partner is the events' partner,
else the customer's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING

import ibis
import pandas as pd
from ibis import _

from pulse.metrics.catalog import Column, Derived, Flow, Metric, Ref, Table, ratio, safe_div
from pulse.metrics.source import Source, payload_text, spells
from pulse.store.store import Part

if TYPE_CHECKING:
    from pulse.metrics.tables import TableContext

SESSION_DIMS = ("experience", "platform", "partner")
SESSION_GAP_MINUTES = 30  # SPEC §3: a longer gap ends a session; exactly 30 continues it
PLATFORMS = ("mobile", "desktop")
UNKNOWN = "unknown"


# -- facts ------------------------------------------------------------------------------------


def experience_events(src: Source, ids: ibis.Table | None = None) -> ibis.Table:
    """Customer track events that carry an experience_id, with partner and stated platform
    (only those of the customers in `ids`, if given)."""
    events = src.events
    mine = events.filter(
        (events.type == "track") & events.experience_id.notnull() & events.user_id.notnull()
    )
    if ids is not None:
        mine = mine.filter(mine.user_id.isin(ids.entity_id))
    attributed = src.attributed(mine)
    return attributed.mutate(said_platform=payload_text(attributed, "platform"))


def _with_platform(src: Source, facts: ibis.Table) -> ibis.Table:
    """`platform`: the platform the facts' events state, else the customer's trait. Facts
    carry only `said_platform`: the engine joins the trait for a breakdown by platform alone
    (`Engine._with_dim`), not for every session count."""
    trait = src.latest("customer", "platform", before=src.as_of).select(
        platform_of=_.entity_id, trait_platform=_.value
    )
    joined = facts.left_join(trait, facts.customer_id == trait.platform_of)
    return joined.mutate(platform=ibis.coalesce(joined.said_platform, joined.trait_platform)).drop(
        "platform_of", "trait_platform", "said_platform"
    )


def sessioned_events(src: Source, ids: ibis.Table | None = None) -> ibis.Table:
    """Experience events with `session`: the start of their session (it tells a customer's
    sessions in an experience apart), and `interaction` (1 for a typed message or a button
    click).

    A session is a spell (`spells`) of a customer's events in an experience: an event opens
    one when the previous is over 30 minutes older, or there is none."""
    events = experience_events(src, ids)
    interaction = ((events.event == "message_sent") & (events.role == "user")) | (
        events.event == "button_clicked"
    )
    marked = events.mutate(interaction=ibis.cases((interaction, 1), else_=0))
    gap = ibis.interval(minutes=SESSION_GAP_MINUTES)
    return spells(marked, ["customer_id", "experience_id"], gap).rename(session="spell")


def session_rows(src: Source) -> ibis.Table:
    """One row per session: customer_id, experience_id, partner_id, said_platform (see
    `_with_platform`), ts (start), last, seconds (last − first event) and conversation (1 if
    the customer typed a message or clicked a button, else 0)."""
    build = partial(_sessions, src)
    return src.store.snapshot("sessions", build, Part("customer", "customer_id"))


def _sessions(src: Source, ids: ibis.Table | None = None) -> ibis.Table:
    """Sessions before the platform trait (read as of the question's date) is added: cutting
    events into sessions reads the whole history, so it is done once per data version, and
    after a write only for the customers it touched (a customer's sessions are cut from their
    events alone)."""
    sessioned = sessioned_events(src, ids)
    return sessioned.group_by("customer_id", "experience_id", ts=sessioned.session).aggregate(
        last=sessioned.ts.max(),
        seconds=sessioned.ts.epoch_seconds().max() - sessioned.ts.epoch_seconds().min(),
        conversation=sessioned.interaction.max(),
        partner_id=sessioned.partner_id.max(),
        said_platform=sessioned.said_platform.max(),
    )


def _session_facts(value: Callable[[ibis.Table], ibis.Value]) -> Callable[[Source], ibis.Table]:
    def facts(src: Source) -> ibis.Table:
        rows = session_rows(src)
        return rows.mutate(value=value(rows))

    return facts


sessions_facts = _session_facts(lambda _rows: ibis.literal(1))
conversation_facts = _session_facts(lambda rows: rows.conversation)
bounce_facts = _session_facts(lambda rows: 1 - rows.conversation)
screen_time_facts = _session_facts(lambda rows: rows.seconds / 60.0)


def chat_facts(src: Source, event: str) -> ibis.Table:
    """One fact per `event` of a customer in an experience, with its stated platform."""
    events = experience_events(src)
    events = events.filter(events.event == event)
    return events.select(
        "ts",
        "customer_id",
        "partner_id",
        "experience_id",
        "said_platform",
        value=ibis.literal(1),
    )


def chat_starts_facts(src: Source) -> ibis.Table:
    return chat_facts(src, "chat_opened")


def chat_messages_facts(src: Source) -> ibis.Table:
    return chat_facts(src, "message_sent")


def _identity(values: Sequence[float | None], _days: int) -> float | None:
    return values[0]


# -- table helpers (shared with engagement.py) -------------------------------------------------


def in_scope(ctx: TableContext, facts: ibis.Table) -> ibis.Table:
    """Facts in the window, of the queried partner and of the `experience` parameter if set."""
    facts = ctx.in_window(ctx.scoped(facts))
    experience = ctx.params.get("experience")
    if experience:
        facts = facts.filter(facts.experience_id == experience)
    return facts


def counts(ctx: TableContext, facts: ibis.Table, key: str) -> dict[str, float]:
    """Σ value per key of the facts in scope (keys with nothing left out)."""
    scoped = in_scope(ctx, facts)
    frame = ctx.fetch(scoped.group_by(key=scoped[key]).aggregate(n=scoped.value.sum()))
    return {str(k): float(n) for k, n in zip(frame["key"], frame["n"], strict=True) if n}


def total(ctx: TableContext, facts: ibis.Table) -> float:
    """Σ value of the facts in scope."""
    scoped = in_scope(ctx, facts)
    frame = ctx.fetch(scoped.aggregate(n=scoped.value.sum()))
    n = frame["n"].iloc[0]
    return 0.0 if pd.isna(n) else float(n)


def percent(part: float, whole: float) -> float | None:
    """part / whole × 100; None when whole is 0."""
    share = safe_div(part, whole)
    return None if share is None else share * 100


# -- tables -----------------------------------------------------------------------------------


def platforms_table(ctx: TableContext) -> pd.DataFrame:
    """Sessions per platform (mobile, desktop, any other, unknown last) and their share."""
    facts = _with_platform(ctx.src, sessions_facts(ctx.src))
    named = facts.mutate(platform=ibis.coalesce(facts.platform, UNKNOWN))
    found = counts(ctx, named, "platform")
    every = sum(found.values())
    others = sorted(p for p in found if p not in (*PLATFORMS, UNKNOWN))
    order = [*PLATFORMS, *others, *([UNKNOWN] if UNKNOWN in found else [])]
    counted = [(p, found.get(p, 0.0)) for p in order]
    rows = [(p, n, percent(n, every)) for p, n in counted]
    return pd.DataFrame(rows, columns=["platform", "sessions", "share"])


_SCOPE = "Optional parameter `experience` narrows it to one experience."

# -- catalog ----------------------------------------------------------------------------------


METRICS: tuple[Metric | Table, ...] = (
    Metric(
        "sessions.total",
        "Sessions",
        "Sessions started in the window: a customer's run of events in one experience with no "
        "gap over 30 minutes.",
        "count",
        Flow(sessions_facts),
        dims=SESSION_DIMS,
    ),
    Metric(
        "sessions.with_conversation",
        "Sessions with conversation",
        "Sessions started in the window in which the customer typed a message or clicked a button.",
        "count",
        Flow(conversation_facts),
        dims=SESSION_DIMS,
    ),
    Metric(
        "sessions.bounces",
        "Bounces",
        "Sessions started in the window in which the customer neither typed anything nor "
        "clicked a button.",
        "count",
        Flow(bounce_facts),
        direction="down",
        dims=SESSION_DIMS,
    ),
    Metric(
        "sessions.bounce_rate",
        "Bounce rate",
        "Bounces / sessions × 100 in the window.",
        "percent",
        ratio(Ref("sessions.bounces"), Ref("sessions.total")),
        direction="down",
        dims=SESSION_DIMS,
    ),
    Metric(
        "sessions.screen_time_min",
        "Screen time (min)",
        "Minutes all customers spent in experiences: Σ (last − first event) of the sessions "
        "started in the window.",
        "minutes",
        Flow(screen_time_facts),
        dims=SESSION_DIMS,
    ),
    Metric(
        "sessions.avg_duration_min",
        "Average session duration (min)",
        "Screen time / sessions: the average minutes from a session's first to its last event.",
        "minutes",
        ratio(Ref("sessions.screen_time_min"), Ref("sessions.total"), scale=1),
        dims=SESSION_DIMS,
    ),
    Metric(
        "usage.session_duration_avg",
        "Average session duration (min)",
        "Seed 001 behaviour insight: the average chat session length in minutes (the same "
        "number as sessions.avg_duration_min).",
        "minutes",
        Derived((Ref("sessions.avg_duration_min"),), _identity),
        dims=SESSION_DIMS,
    ),
    Metric(
        "chat.starts",
        "Chat starts",
        "How often a chat was opened in the window (chat_opened).",
        "count",
        Flow(chat_starts_facts),
        dims=SESSION_DIMS,
    ),
    Metric(
        "chat.participants",
        "Participants",
        "Distinct customers who opened a chat in the window.",
        "count",
        Flow(chat_starts_facts, agg="count_distinct"),
        dims=SESSION_DIMS,
    ),
    Metric(
        "chat.messages",
        "Chat messages",
        "Chat messages sent in the window, by customers and by the bot (message_sent).",
        "count",
        Flow(chat_messages_facts),
        dims=SESSION_DIMS,
    ),
    Table(
        "sessions.platforms",
        "Platforms",
        "Sessions started in the window per platform (mobile, desktop) and their share. " + _SCOPE,
        (
            Column("platform", "Platform", "text"),
            Column("sessions", "Sessions"),
            Column("share", "Share", "percent"),
        ),
        platforms_table,
        per_partner=True,
        params=("experience",),
    ),
)
