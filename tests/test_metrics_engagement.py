"""engagement.*, nps.*, modules.* and their tables on a hand-built month of chatbot events;
every expected value is worked out by hand beside it.

c1 belongs to partner p1 and uses a mobile; c2 is a B2C customer on a desktop. Experience e1
(partner p1) has the flow welcome → quiz → raffle → goodbye, e2 the flow welcome → nps.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from messages import ask, group, identify, load, rows, track, value
from pulse.metrics import CATALOG
from pulse.metrics.engagement import heat_level, parse_modules
from pulse.metrics.engine import Engine
from pulse.metrics.tables import TableQuery, evaluate_table

FEB = ("2026-02-28", "this_month")
APRIL = ("2026-04-30", "this_month")  # nothing happens in March or April


def table(
    store: Any,
    table_id: str,
    as_of: str = "2026-02-28",
    window: str = "this_month",
    partner: str | None = None,
    tz: str = "UTC",
    where: dict[str, str] | None = None,
    **params: str,
) -> list[dict[str, Any]]:
    query = TableQuery(
        table=table_id,
        as_of=date.fromisoformat(as_of),
        window=window,
        partner=partner,
        tz=tz,
        where=where or {},
        params=params,
    )
    return evaluate_table(Engine(store, CATALOG), query)["rows"]


def ev(event: str, when: str, user: str, experience: str, **props: Any) -> dict[str, Any]:
    return track(event, when, user, experience_id=experience, **props)


def people() -> list[dict[str, Any]]:
    return [
        identify("c1", "2026-01-01", partner_id="p1", platform="mobile"),
        identify("c2", "2026-01-01", platform="desktop"),
        group(
            "e1",
            "2026-01-01",
            entity="experience",
            name="Quiz",
            partner_id="p1",
            modules=["welcome", "quiz", "raffle", "goodbye"],
        ),
        group("e2", "2026-01-01", entity="experience", name="Feedback", modules=["welcome", "nps"]),
    ]


def opt_ins() -> list[dict[str, Any]]:
    return [
        ev("signed_up", "2026-02-03", "c1", "e1", email="c1@x.io"),
        ev("signed_up", "2026-02-04", "c2", "e1", email="c2@x.io"),
        ev("signed_up", "2026-01-20", "c2", "e2", email="c2@x.io"),  # January
        ev("opt_in_asked", "2026-02-03", "c1", "e1", channel="web_push"),
        ev("opt_in_asked", "2026-02-04", "c2", "e1", channel="web_push"),
        ev("opt_in_asked", "2026-02-05", "c2", "e2", channel="reminder"),
        ev("opt_in_asked", "2026-02-06", "c1", "e1", channel="reminder"),
        ev("opted_in", "2026-02-03", "c1", "e1", channel="web_push", level="single"),
        ev("opted_in", "2026-02-04", "c2", "e1", channel="web_push", level="double"),
        ev("opted_in", "2026-02-05", "c2", "e2", channel="reminder", level="single"),
    ]


def activity() -> list[dict[str, Any]]:
    return [
        ev("shared", "2026-02-07", "c1", "e1", channel="whatsapp"),
        ev("shared", "2026-02-08", "c1", "e1", channel="whatsapp"),
        ev("shared", "2026-02-09", "c2", "e2", channel="email"),
        ev("participated", "2026-02-10", "c1", "e1"),
        ev("participated", "2026-02-10 13:00", "c1", "e1"),
        ev("advent_door_opened", "2026-02-11", "c2", "e2"),
        ev("pin_sent", "2026-02-12 10:00", "c1", "e1"),
        ev("pin_failed", "2026-02-12 10:02", "c1", "e1"),
        ev("pin_succeeded", "2026-02-12 10:03", "c1", "e1"),
        ev("pin_sent", "2026-02-13 23:30", "c2", "e1"),  # Feb 14 00:30 in Berlin
        ev("pin_succeeded", "2026-02-13 23:45", "c2", "e1"),
        ev("data_entered", "2026-02-15", "c1", "e1", field="postal_address"),
        ev("data_entered", "2026-02-15", "c2", "e1", field="phone"),
        ev("data_entered", "2026-02-16", "c2", "e1", field="phone"),
        ev("customer_deleted", "2026-02-20", "c3", "e1"),
    ]


def answers() -> list[dict[str, Any]]:
    return [
        ev("nps_submitted", "2026-02-17", "c1", "e1", score=10, comment="Loved it — 'really'"),
        ev("nps_submitted", "2026-02-18 09:00", "c2", "e1", score=6, comment="Too slow"),
        ev("nps_submitted", "2026-02-18 10:00", "c2", "e2", score=8, comment="OK"),
        ev("nps_submitted", "2026-02-19", "c1", "e1", score=9),  # no comment
        ev("nps_submitted", "2026-01-15", "c2", "e1", score=0, comment="Bad"),  # January
    ]


def views() -> list[dict[str, Any]]:
    """e1: welcome ×3, quiz ×1, bonus ×1 (not in the flow); e2: welcome ×1."""
    return [
        ev("module_viewed", "2026-02-21 10:00", "c1", "e1", module="welcome"),
        ev("message_sent", "2026-02-21T10:00:30Z", "c1", "e1", role="bot"),  # not a module
        ev("module_viewed", "2026-02-21 10:01", "c1", "e1", module="quiz"),
        ev("module_viewed", "2026-02-21 10:05", "c1", "e1", module="bonus"),
        ev("module_viewed", "2026-02-21 12:00", "c2", "e1", module="welcome"),
        ev("module_viewed", "2026-02-22 12:00", "c2", "e1", module="welcome"),
        ev("module_viewed", "2026-02-22 12:30", "c2", "e2", module="welcome"),
    ]


def month() -> list[dict[str, Any]]:
    return [*people(), *opt_ins(), *activity(), *answers(), *views()]


# -- counts -------------------------------------------------------------------------------------


def test_signups_and_opt_ins(store):
    load(store, *month())
    signups = ask(store, "engagement.signups", *FEB)
    assert (signups["value"], signups["previous"]) == (2, 1)  # c1, c2; c2 in e2 in January
    assert rows(ask(store, "engagement.signups", *FEB, by="platform")) == {
        "mobile": 1,
        "desktop": 1,
    }
    assert value(store, "engagement.opt_in_asked", *FEB) == 4
    assert value(store, "engagement.web_push_asked", *FEB) == 2  # c1, c2 in e1
    assert value(store, "engagement.opted_in", *FEB) == 3
    assert value(store, "engagement.soi_web_push", *FEB) == 1  # c1
    assert value(store, "engagement.doi_web_push", *FEB) == 1  # c2
    assert value(store, "engagement.soi_reminder", *FEB) == 1  # c2 in e2
    assert value(store, "engagement.doi_reminder", *FEB) == 0
    rate = ask(store, "engagement.opt_in_rate", *FEB, by="experience")
    assert rate["value"] == 75  # 3 given / 4 asked
    assert rows(rate) == {"e1": 66.6667, "e2": 100}  # 2 / 3; 1 / 1
    assert rate["previous"] is None  # January: 0 / 0


def test_shares_participations_doors_data_and_deletions(store):
    load(store, *month())
    shares = ask(store, "engagement.shares", *FEB, by="partner")
    assert shares["value"] == 3
    assert rows(shares) == {"p1": 2, None: 1}  # c1's two WhatsApp shares; c2's e-mail
    assert value(store, "engagement.participations", *FEB) == 2  # c1 twice: counted twice
    assert value(store, "engagement.advent_doors", *FEB) == 1
    assert value(store, "engagement.data_entered", *FEB) == 3
    assert value(store, "engagement.deletions", *FEB) == 1  # c3
    assert value(store, "engagement.shares", *FEB, partner="p1") == 2


def test_pin_log_ins_and_success_rate(store):
    load(store, *month())
    assert value(store, "engagement.pin_sent", *FEB) == 2
    assert value(store, "engagement.pin_succeeded", *FEB) == 2
    assert value(store, "engagement.pin_failed", *FEB) == 1
    rate = ask(store, "engagement.pin_success_rate", *FEB, by="partner")
    assert rate["value"] == 66.6667  # 2 correct / (2 correct + 1 wrong)
    assert rows(rate) == {"p1": 50, None: 100}  # c1: 1 / 2; c2: 1 / 1
    assert rate["previous"] is None  # January: no PIN entered, 0 / 0


def test_nps_counts_and_score(store):
    load(store, *month())
    assert value(store, "nps.responses", *FEB) == 4
    assert value(store, "nps.detractors", *FEB) == 1  # 6
    assert value(store, "nps.passives", *FEB) == 1  # 8
    assert value(store, "nps.promoters", *FEB) == 2  # 10, 9
    score = ask(store, "nps.score", *FEB, by="experience")
    # 2 / 4 promoters − 1 / 4 detractors = 50 − 25; January: one 0 → 0 − 100
    assert (score["value"], score["previous"], score["change_pct"]) == (25, -100, 125)
    # e1: 10, 6, 9 → 66.6667 − 33.3333; e2: 8 → 0 − 0
    assert rows(score) == {"e1": 33.3333, "e2": 0}


def test_nps_boundaries_seven_is_passive_nine_is_promoter(store):
    load(
        store,
        ev("nps_submitted", "2026-02-01", "c1", "e1", score=7),
        ev("nps_submitted", "2026-02-02", "c1", "e1", score=9),
        ev("nps_submitted", "2026-02-03", "c1", "e1", score=0),
    )
    assert value(store, "nps.passives", *FEB) == 1  # 7
    assert value(store, "nps.promoters", *FEB) == 1  # 9
    assert value(store, "nps.detractors", *FEB) == 1  # 0
    assert value(store, "nps.score", *FEB) == 0  # 33.3333 − 33.3333


def test_module_visits(store):
    load(store, *month())
    visits = ask(store, "modules.visits", *FEB, by="experience")
    assert visits["value"] == 6
    assert rows(visits) == {"e1": 5, "e2": 1}


def test_local_day_boundary_follows_the_reporting_time_zone(store):
    # 23:30 UTC on Jan 31 is 00:30 on Feb 1 in Berlin
    load(store, ev("pin_sent", "2026-01-31 23:30", "c1", "e1"))
    assert value(store, "engagement.pin_sent", *FEB) == 0
    assert value(store, "engagement.pin_sent", *FEB, tz="Europe/Berlin") == 1


def test_empty_window_gives_zero_counts_and_no_rates(store):
    load(store, *month())
    for metric in ("engagement.signups", "engagement.opted_in", "nps.responses", "modules.visits"):
        assert value(store, metric, *APRIL) == 0, metric
    for metric in ("engagement.opt_in_rate", "engagement.pin_success_rate", "nps.score"):
        answer = ask(store, metric, *APRIL)
        assert (answer["value"], answer["previous"]) == (None, None), metric


# -- engagement tables --------------------------------------------------------------------------


def test_opt_ins_table_by_channel_and_level(store):
    load(store, *month())
    # asked: web_push 2 (c1, c2), reminder 2 (c2 in e2, c1); given: see opt_ins()
    assert table(store, "engagement.opt_ins") == [
        {"channel": "web_push", "level": "single", "asked": 2, "opt_ins": 1, "rate": 50},
        {"channel": "web_push", "level": "double", "asked": 2, "opt_ins": 1, "rate": 50},
        {"channel": "reminder", "level": "single", "asked": 2, "opt_ins": 1, "rate": 50},
        {"channel": "reminder", "level": "double", "asked": 2, "opt_ins": 0, "rate": 0},
    ]
    # e2: reminder asked once and given once (single); web push never asked → rate None
    e2 = table(store, "engagement.opt_ins", experience="e2")
    assert [(r["asked"], r["opt_ins"], r["rate"]) for r in e2] == [
        (0, 0, None),
        (0, 0, None),
        (1, 1, 100),
        (1, 0, 0),
    ]


def test_shares_by_channel_lists_every_channel(store):
    load(store, *month())
    assert table(store, "engagement.shares_by_channel") == [
        {"channel": "facebook", "shares": 0, "share": 0},
        {"channel": "email", "shares": 1, "share": 33.3333},  # 1 / 3
        {"channel": "native", "shares": 0, "share": 0},
        {"channel": "twitter", "shares": 0, "share": 0},
        {"channel": "whatsapp", "shares": 2, "share": 66.6667},  # 2 / 3
    ]
    p1 = table(store, "engagement.shares_by_channel", partner="p1")
    assert [(r["channel"], r["share"]) for r in p1 if r["shares"]] == [("whatsapp", 100)]
    empty = table(store, "engagement.shares_by_channel", "2026-04-30")
    assert {r["share"] for r in empty} == {None}  # 0 / 0


def test_data_fields_most_entered_first(store):
    load(store, *month())
    assert table(store, "engagement.data_fields") == [
        {"field": "phone", "entries": 2},
        {"field": "postal_address", "entries": 1},
    ]
    assert table(store, "engagement.data_fields", partner="p1") == [
        {"field": "postal_address", "entries": 1}
    ]
    assert table(store, "engagement.data_fields", "2026-04-30") == []


def test_pin_attempts_per_local_day(store):
    load(store, *month())
    days = "2026-02-12..2026-02-14"
    assert table(store, "engagement.pin_attempts", "2026-02-14", days) == [
        {"day": "2026-02-12", "sent": 1, "succeeded": 1, "failed": 1},
        {"day": "2026-02-13", "sent": 1, "succeeded": 1, "failed": 0},
        {"day": "2026-02-14", "sent": 0, "succeeded": 0, "failed": 0},
    ]
    # Berlin: c2's 23:30 and 23:45 UTC are 00:30 and 00:45 on Feb 14
    berlin = table(store, "engagement.pin_attempts", "2026-02-14", days, tz="Europe/Berlin")
    assert [(r["day"], r["sent"], r["succeeded"]) for r in berlin] == [
        ("2026-02-12", 1, 1),
        ("2026-02-13", 0, 0),
        ("2026-02-14", 1, 1),
    ]


# -- NPS tables ---------------------------------------------------------------------------------


def test_nps_distribution_has_all_eleven_scores(store):
    load(store, *month())
    found = table(store, "nps.distribution")
    assert [r["score"] for r in found] == list(range(11))
    # February: one answer each for 6, 8, 9 and 10 → 25 % each
    assert {r["score"]: (r["responses"], r["share"]) for r in found if r["responses"]} == {
        6: (1, 25),
        8: (1, 25),
        9: (1, 25),
        10: (1, 25),
    }
    assert [r["segment"] for r in found] == ["detractors"] * 7 + ["passives"] * 2 + [
        "promoters"
    ] * 2
    empty = table(store, "nps.distribution", "2026-04-30")
    assert len(empty) == 11
    assert {(r["responses"], r["share"]) for r in empty} == {(0, None)}


def test_nps_segments_with_shares(store):
    load(store, *month())
    assert table(store, "nps.segments") == [
        {"segment": "detractors", "responses": 1, "share": 25},  # 1 / 4
        {"segment": "passives", "responses": 1, "share": 25},
        {"segment": "promoters", "responses": 2, "share": 50},  # 2 / 4
    ]
    # e1 in January: the single 0 → 100 % detractors
    january = table(store, "nps.segments", "2026-01-31", experience="e1")
    assert [(r["responses"], r["share"]) for r in january] == [(1, 100), (0, 0), (0, 0)]


def test_nps_answers_with_comments_filterable_by_segment(store):
    load(store, *month())
    found = table(store, "nps.answers")
    assert [
        (r["customer"], r["experience"], r["score"], r["segment"], r["comment"]) for r in found
    ] == [
        ("c1", "e1", 9, "promoters", None),  # Feb 19, no comment
        ("c2", "e2", 8, "passives", "OK"),  # Feb 18 10:00
        ("c2", "e1", 6, "detractors", "Too slow"),  # Feb 18 09:00
        ("c1", "e1", 10, "promoters", "Loved it — 'really'"),  # Feb 17
    ]
    assert found[0]["ts"].startswith("2026-02-19T12:00")
    promoters = table(store, "nps.answers", where={"segment": "promoters"})
    assert [r["score"] for r in promoters] == [9, 10]
    assert [r["customer"] for r in table(store, "nps.answers", partner="p1")] == ["c1", "c1"]
    assert [r["score"] for r in table(store, "nps.answers", experience="e2")] == [8]


# -- modules ------------------------------------------------------------------------------------


def test_heatmap_lists_the_flow_in_order_with_levels(store):
    load(store, *month())
    found = table(store, "modules.heatmap")
    assert [
        (r["experience"], r["position"], r["module"], r["visits"], r["share"], r["level"])
        for r in found
    ] == [
        # e1: busiest module welcome (3); bonus is viewed but not in the flow: appended
        ("e1", 1, "welcome", 3, 100, "red"),
        ("e1", 2, "quiz", 1, 33.3333, "green"),  # 1 / 3
        ("e1", 3, "raffle", 0, 0, "blue"),
        ("e1", 4, "goodbye", 0, 0, "blue"),
        ("e1", 5, "bonus", 1, 33.3333, "green"),
        ("e2", 1, "welcome", 1, 100, "red"),
        ("e2", 2, "nps", 0, 0, "blue"),
    ]
    assert {r["name"] for r in found} == {"Quiz", "Feedback"}
    only = table(store, "modules.heatmap", experience="e2")
    assert [r["module"] for r in only] == ["welcome", "nps"]
    # p1: its experience e1, with c1's views only (welcome, quiz, bonus once each)
    p1 = table(store, "modules.heatmap", partner="p1")
    assert [(r["module"], r["visits"], r["level"]) for r in p1] == [
        ("welcome", 1, "red"),
        ("quiz", 1, "red"),
        ("raffle", 0, "blue"),
        ("goodbye", 0, "blue"),
        ("bonus", 1, "red"),
    ]
    # April: no views; the flows are still listed, with no share (0 / 0)
    april = table(store, "modules.heatmap", "2026-04-30", experience="e1")
    assert [(r["visits"], r["share"], r["level"]) for r in april] == [(0, None, "blue")] * 4


def test_heat_levels_are_quartiles_of_the_busiest_module():
    assert [heat_level(s) for s in (0, 25, 25.01, 50, 50.5, 75, 75.1, 100)] == [
        "blue",
        "blue",
        "green",
        "green",
        "yellow",
        "yellow",
        "red",
        "red",
    ]
    assert heat_level(None) == "blue"


def test_modules_trait_is_a_json_list_as_text():
    assert parse_modules('["welcome", "quiz"]') == ["welcome", "quiz"]
    assert parse_modules("welcome, quiz") == ["welcome", "quiz"]
    assert parse_modules(None) == []


def test_module_detail(store):
    load(store, *month())
    # welcome in e1: c1 10:00 → next module quiz 10:01 (60 s; the bot message at 10:00:30 is
    # no module); c2 Feb 21 12:00 → next e1 event a day later (session over: exit);
    # c2 Feb 22 12:00 → no later e1 event (exit; e2 is another experience)
    assert table(store, "modules.detail", experience="e1", module="welcome") == [
        {
            "experience": "e1",
            "module": "welcome",
            "visits": 3,
            "visitors": 2,
            "avg_seconds_to_next": 60,
            "exits": 2,
            "exit_rate": 66.6667,  # 2 / 3
        }
    ]
    every = table(store, "modules.detail", experience="e1")
    # quiz 10:01 → bonus 10:05 (240 s); bonus 10:05 is c1's last e1 event (exit)
    assert [
        (r["module"], r["visits"], r["avg_seconds_to_next"], r["exits"], r["exit_rate"])
        for r in every
    ] == [
        ("bonus", 1, None, 1, 100),
        ("quiz", 1, 240, 0, 0),
        ("welcome", 3, 60, 2, 66.6667),
    ]
    assert table(store, "modules.detail", "2026-04-30", experience="e1") == []


def test_module_detail_ends_at_a_session_gap(store):
    load(
        store,
        ev("module_viewed", "2026-02-10 10:00", "c1", "e1", module="welcome"),
        ev("button_clicked", "2026-02-10 10:25", "c1", "e1"),
        ev("module_viewed", "2026-02-10 10:50", "c1", "e1", module="quiz"),  # 25 min: same
        ev("module_viewed", "2026-02-10 11:21", "c1", "e1", module="raffle"),  # 31 min: new
    )
    found = table(store, "modules.detail", experience="e1")
    # welcome → quiz 3000 s (the session went on through the click); quiz: its session ended
    assert [(r["module"], r["avg_seconds_to_next"], r["exits"]) for r in found] == [
        ("quiz", None, 1),
        ("raffle", None, 1),
        ("welcome", 3000, 0),
    ]
