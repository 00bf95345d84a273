"""sessions.*, chat.* and the experience tables on hand-built chats; every expected value is
worked out by hand beside it.

A session is a customer's run of events in one experience with no gap over 30 minutes; it
belongs to the window of its first event.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from messages import ask, identify, load, rows, series, track, value
from pulse.metrics import CATALOG
from pulse.metrics.engine import Engine
from pulse.metrics.tables import TableQuery, evaluate_table

FEB = ("2026-02-28", "this_month")


def table(
    store: Any,
    table_id: str,
    as_of: str,
    window: str = "this_month",
    partner: str | None = None,
    tz: str = "UTC",
    **params: str,
) -> list[dict[str, Any]]:
    query = TableQuery(
        table=table_id,
        as_of=date.fromisoformat(as_of),
        window=window,
        partner=partner,
        tz=tz,
        params=params,
    )
    return evaluate_table(Engine(store, CATALOG), query)["rows"]


def chats() -> list[dict[str, Any]]:
    """c1 (partner p1, mobile) in experiences e1 and e2; c2 (B2C, no platform) in e1.

    Sessions (start, end, minutes, conversation?):
      A c1/e1 Feb 10 10:00–11:00, 60 min, typed (11:00 is exactly 30 min after 10:30)
      B c1/e1 Feb 10 11:31–11:40,  9 min, bounce (11:31 is 31 min after 11:00: new session)
      C c1/e2 Feb 10 10:05–10:25, 20 min, clicked (another experience: its own session)
      D c2/e1 Feb 27 23:50–23:55,  5 min, bounce
      E c2/e1 Jan 31 23:45–Feb 1 00:10, 25 min, typed: starts in January (UTC)
    """
    return [
        identify("c1", "2026-02-01", partner_id="p1", platform="mobile"),
        identify("c2", "2026-01-01"),
        track("chat_opened", "2026-02-10 10:00", "c1", experience_id="e1", platform="desktop"),
        track("message_sent", "2026-02-10 10:10", "c1", experience_id="e1", role="bot"),
        track("signed_up", "2026-02-10 10:30", "c1", experience_id="e1", email="c1@x.io"),
        track("credits_consumed", "2026-02-10 10:45", "c1", credits=1, source="message"),
        track("message_sent", "2026-02-10 11:00", "c1", experience_id="e1", role="user"),
        track("module_viewed", "2026-02-10 11:31", "c1", experience_id="e1", module="quiz"),
        track("message_sent", "2026-02-10 11:35", "c1", experience_id="e1", role="bot"),
        track("quiz_answered", "2026-02-10 11:40", "c1", experience_id="e1"),  # custom event
        track("chat_opened", "2026-02-10 10:05", "c1", experience_id="e2"),
        track("button_clicked", "2026-02-10 10:20", "c1", experience_id="e2"),
        track(
            "opted_in",
            "2026-02-10 10:25",
            "c1",
            experience_id="e2",
            channel="web_push",
            level="single",
        ),
        track("chat_opened", "2026-02-27 23:50", "c2", experience_id="e1"),
        track("signed_up", "2026-02-27 23:55", "c2", experience_id="e1", email="c2@x.io"),
        track("chat_opened", "2026-01-31 23:45", "c2", experience_id="e1"),
        track("message_sent", "2026-02-01 00:10", "c2", experience_id="e1", role="user"),
    ]


# -- sessions -----------------------------------------------------------------------------------


def test_sessions_split_on_gaps_over_30_minutes_per_customer_and_experience(store):
    load(store, *chats())
    total = ask(store, "sessions.total", *FEB)
    assert (total["value"], total["previous"]) == (4, 1)  # A B C D; January: E
    assert total["change_pct"] == 300  # (4 − 1) / 1
    assert value(store, "sessions.with_conversation", *FEB) == 2  # A (typed), C (clicked)
    assert value(store, "sessions.bounces", *FEB) == 2  # B, D
    bounce = ask(store, "sessions.bounce_rate", *FEB)
    assert (bounce["value"], bounce["previous"]) == (50, 0)  # 2 / 4; January 0 / 1


def test_events_at_one_instant_share_their_session(store):
    """Three events at 12:00 after a 2-hour gap, whatever order they are read in, open one
    session (12:00–12:20, typed); the 10:00 event is a session alone (a bounce)."""
    load(
        store,
        identify("c3", "2026-02-01"),
        track("chat_opened", "2026-02-12 10:00", "c3", experience_id="e9"),
        track("message_sent", "2026-02-12 12:00", "c3", experience_id="e9", role="user"),
        track("module_viewed", "2026-02-12 12:00", "c3", experience_id="e9", module="quiz"),
        track("chat_opened", "2026-02-12 12:00", "c3", experience_id="e9"),
        track("message_sent", "2026-02-12 12:20", "c3", experience_id="e9", role="bot"),
    )
    assert value(store, "sessions.total", *FEB) == 2
    assert value(store, "sessions.with_conversation", *FEB) == 1
    assert value(store, "sessions.screen_time_min", *FEB) == 20  # 0 + (12:20 − 12:00)


def test_screen_time_and_average_duration(store):
    load(store, *chats())
    screen = ask(store, "sessions.screen_time_min", *FEB)
    assert (screen["value"], screen["previous"]) == (94, 25)  # 60 + 9 + 20 + 5; E 25
    average = ask(store, "sessions.avg_duration_min", *FEB)
    assert (average["value"], average["previous"]) == (23.5, 25)  # 94 / 4; 25 / 1
    same = ask(store, "usage.session_duration_avg", *FEB, by="partner")
    assert (same["value"], same["previous"]) == (23.5, 25)
    # p1: (A 60 + B 9 + C 20) / 3 = 29.6667; B2C: D 5 / 1
    assert rows(same) == {"p1": 29.6667, None: 5}


def test_breakdowns_by_experience_platform_and_partner(store):
    load(store, *chats())
    assert rows(ask(store, "sessions.total", *FEB, by="experience")) == {"e1": 3, "e2": 1}
    # A says desktop on its chat_opened; B and C fall back to c1's trait (mobile); c2 has none
    by_platform = rows(ask(store, "sessions.total", *FEB, by="platform"))
    assert by_platform == {"mobile": 2, "desktop": 1, None: 1}
    assert rows(ask(store, "sessions.total", *FEB, by="partner")) == {"p1": 3, None: 1}
    # e1: bounces B, D of A, B, D → 66.6667; e2: C typed → 0
    assert rows(ask(store, "sessions.bounce_rate", *FEB, by="experience")) == {
        "e1": 66.6667,
        "e2": 0,
    }
    assert value(store, "sessions.total", *FEB, partner="p1") == 3


def test_chat_starts_participants_and_messages(store):
    load(store, *chats())
    starts = ask(store, "chat.starts", *FEB)
    assert (starts["value"], starts["previous"]) == (3, 1)  # c1 e1, c1 e2, c2 Feb 27; Jan 31
    assert value(store, "chat.participants", *FEB) == 2  # c1 (twice) and c2
    # messages count by their own time: 10:10, 11:00, 11:35 and c2's Feb 1 00:10 (of session E)
    messages = ask(store, "chat.messages", *FEB)
    assert (messages["value"], messages["previous"]) == (4, 0)
    assert rows(ask(store, "chat.starts", *FEB, by="platform")) == {
        "desktop": 1,  # stated on the event
        "mobile": 1,  # c1's trait
        None: 1,  # c2: no platform known
    }


def test_reporting_time_zone_moves_a_session_that_starts_before_midnight(store):
    load(store, *chats())
    # E starts Jan 31 23:45 UTC = Feb 1 00:45 in Berlin: a February session there
    berlin = ask(store, "sessions.total", *FEB, tz="Europe/Berlin")
    assert (berlin["value"], berlin["previous"]) == (5, 0)
    average = ask(store, "sessions.avg_duration_min", *FEB, tz="Europe/Berlin")
    assert (average["value"], average["previous"]) == (23.8, None)  # (94 + 25) / 5; 0 / 0


def test_daily_series_assigns_a_session_to_the_day_it_starts(store):
    load(
        store,
        identify("c3", "2026-02-01"),
        track("chat_opened", "2026-02-10 23:50", "c3", group="p2", experience_id="e1"),
        track(
            "message_sent", "2026-02-11 00:10", "c3", group="p2", experience_id="e1", role="user"
        ),
        track("chat_opened", "2026-02-11 08:00", "c3", group="p2", experience_id="e1"),
    )
    days = "2026-02-09..2026-02-11"
    answer = ask(store, "sessions.total", "2026-02-11", days, series="day")
    # 23:50–00:10 is one session of Feb 10; 08:00 (7 h 50 later) a new one on Feb 11
    assert series(answer) == [("2026-02-09", 0), ("2026-02-10", 1), ("2026-02-11", 1)]
    screen = ask(store, "sessions.screen_time_min", "2026-02-11", days, series="day")
    assert series(screen) == [("2026-02-09", 0), ("2026-02-10", 20), ("2026-02-11", 0)]
    running = ask(store, "sessions.total", "2026-02-11", days, series="day", cumulative=True)
    assert series(running) == [("2026-02-09", 0), ("2026-02-10", 1), ("2026-02-11", 2)]
    # the event's partner (groupId) when the customer has none
    assert rows(ask(store, "sessions.total", "2026-02-11", days, by="partner")) == {"p2": 2}


def test_empty_window_gives_zero_counts_and_no_averages(store):
    load(store, *chats())
    april = ("2026-04-30", "this_month")  # nothing in March or April
    for metric in ("sessions.total", "sessions.bounces", "chat.participants", "chat.starts"):
        assert value(store, metric, *april) == 0, metric
    for metric in (
        "sessions.bounce_rate",
        "sessions.avg_duration_min",
        "usage.session_duration_avg",
    ):
        answer = ask(store, metric, *april)
        assert (answer["value"], answer["previous"]) == (None, None), metric


# -- tables -------------------------------------------------------------------------------------


def test_platforms_table_splits_sessions_with_shares(store):
    load(store, *chats())
    # mobile B, C; desktop A; unknown D → 2/4, 1/4, 1/4
    assert table(store, "sessions.platforms", "2026-02-28") == [
        {"platform": "mobile", "sessions": 2, "share": 50},
        {"platform": "desktop", "sessions": 1, "share": 25},
        {"platform": "unknown", "sessions": 1, "share": 25},
    ]
    # e2 only: C (mobile) → 1/1; desktop listed with 0
    assert table(store, "sessions.platforms", "2026-02-28", experience="e2") == [
        {"platform": "mobile", "sessions": 1, "share": 100},
        {"platform": "desktop", "sessions": 0, "share": 0},
    ]
    # p1: mobile B, C; desktop A → 2/3, 1/3
    assert table(store, "sessions.platforms", "2026-02-28", partner="p1") == [
        {"platform": "mobile", "sessions": 2, "share": 66.6667},
        {"platform": "desktop", "sessions": 1, "share": 33.3333},
    ]
    assert table(store, "sessions.platforms", "2026-04-30") == [
        {"platform": "mobile", "sessions": 0, "share": None},  # 0 / 0
        {"platform": "desktop", "sessions": 0, "share": None},
    ]


def _funnel(found: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [(r["step"], r["count"], r["step_rate"], r["rate_from_first"]) for r in found]


def test_funnel_steps_with_step_and_overall_rates(store):
    load(store, *chats())
    # starts 3 (c1 e1, c1 e2, c2) → conversations 2 (A, C) → sign-ups 2 (c1, c2) → opt-ins 1
    assert _funnel(table(store, "experiences.funnel", "2026-02-28")) == [
        ("chat.starts", 3, 100, 100),
        ("sessions.with_conversation", 2, 66.6667, 66.6667),  # 2 / 3
        ("engagement.signups", 2, 100, 66.6667),  # 2 / 2; 2 / 3
        ("engagement.opted_in", 1, 50, 33.3333),  # 1 / 2; 1 / 3
    ]
    # e1: starts 2 → A 1 → sign-ups 2 (c2 signed up in bounced session D) → no opt-in
    assert _funnel(table(store, "experiences.funnel", "2026-02-28", experience="e1")) == [
        ("chat.starts", 2, 100, 100),
        ("sessions.with_conversation", 1, 50, 50),
        ("engagement.signups", 2, 200, 100),
        ("engagement.opted_in", 0, 0, 0),
    ]
    # p1 (c1): starts 2 → A, C → c1's sign-up → c1's opt-in
    assert _funnel(table(store, "experiences.funnel", "2026-02-28", partner="p1")) == [
        ("chat.starts", 2, 100, 100),
        ("sessions.with_conversation", 2, 100, 100),
        ("engagement.signups", 1, 50, 50),
        ("engagement.opted_in", 1, 100, 50),
    ]


def test_funnel_of_an_empty_window_has_no_rates(store):
    load(store, *chats())
    found = table(store, "experiences.funnel", "2026-04-30")
    assert [(r["position"], r["label"]) for r in found] == [
        (1, "Chat starts"),
        (2, "Sessions with conversation"),
        (3, "New customers"),
        (4, "Opt-ins"),
    ]
    assert _funnel(found) == [
        ("chat.starts", 0, None, None),
        ("sessions.with_conversation", 0, None, None),
        ("engagement.signups", 0, None, None),
        ("engagement.opted_in", 0, None, None),
    ]


def test_funnel_counts_match_the_catalog_metrics(store):
    load(store, *chats())
    found = table(store, "experiences.funnel", "2026-02-28", window="last_30d")
    for row in found:
        assert row["count"] == value(store, row["step"], "2026-02-28", "last_30d"), row["step"]
