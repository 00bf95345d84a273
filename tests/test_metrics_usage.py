"""occasions.*, generations.*, users.*, styles.*, usage.* and purchase metrics on hand-built
datasets; every expected value is worked out by hand beside it."""

from __future__ import annotations

from datetime import date
from typing import Any

from messages import ask, group, identify, load, rows, series, track, value
from pulse.metrics import CATALOG
from pulse.metrics.engine import Engine
from pulse.metrics.tables import TableQuery, evaluate_table

FEB = ("2026-02-28", "this_month")  # previous window: January


def table(store: Any, table_id: str, as_of: str, **options: Any) -> list[dict[str, Any]]:
    query = TableQuery(table_id, date.fromisoformat(as_of), **options)
    rows_: list[dict[str, Any]] = evaluate_table(Engine(store, CATALOG), query)["rows"]
    return rows_


def gen(when: str, occasion: str, style: str, status: str = "succeeded", **who: Any) -> Any:
    return track(
        "generation_created", when, style_id=style, occasion_id=occasion, status=status, **who
    )


def platform() -> list[dict[str, Any]]:
    return [
        group(
            "s1", "2026-01-01", entity="style", name="Portrait", category="portrait", active=True
        ),
        group("s2", "2026-01-01", entity="style", name="Toon", category="cartoon", active=True),
        group("s3", "2026-02-20", entity="style", name="Retro", category="portrait", active=False),
        group("p1", "2026-01-01", kind="business", status="active"),
        group("p2", "2026-01-01", kind="reseller", status="active"),
        # o4 (Jan 20, p1); o1 (Feb 1, p1); o2 (Feb 5, no trait, p2 allocates to it);
        # o3 never declared, first named by a generation on Feb 10 (p1's guests)
        group("o4", "2026-01-20", entity="occasion", partner_id="p1"),
        group("o1", "2026-02-01", entity="occasion", partner_id="p1"),
        group("o2", "2026-02-05", entity="occasion", name="Fair"),
        track("credits_allocated", "2026-02-06", group="p2", credits=10, to="o2"),
        # pub: a platform-run occasion for B2C users (no partner)
        group("pub", "2026-01-01", entity="occasion", name="Studio"),
        gen("2026-01-25", "o4", "s1", group="p1"),
        gen("2026-02-02 18:00", "o1", "s1", group="p1"),
        gen("2026-02-02 18:05", "o1", "s1", group="p1"),
        gen("2026-02-02 18:10", "o1", "s2", "deleted", group="p1"),
        gen("2026-02-10", "o3", "s2", "failed", group="p1"),
        # users: u1 u2 (B2C), u3 (p1's customer), u4 (B2C, deleted Feb 25)
        identify("u1", "2026-01-05"),
        identify("u2", "2026-01-10"),
        identify("u3", "2026-01-12", partner_id="p1"),
        identify("u4", "2026-02-20"),
        track("customer_deleted", "2026-02-25", user="u4"),
        gen("2026-02-12 09:00", "pub", "s1", user="u1"),
    ]


# -- occasions and generations ------------------------------------------------------------------


def test_occasions_count_declared_and_named_occasions_with_their_partner(store):
    load(store, *platform())
    total = ask(store, "occasions.total", *FEB, by="partner")
    # Feb 28: o4 o1 o2 o3 pub · Jan 31: o4, pub
    assert (total["value"], total["previous"]) == (5, 2)
    # o2's partner comes from the allocation, o3's from its generation
    assert rows(total) == {"p1": 3, "p2": 1, None: 1}
    new = ask(store, "occasions.new", *FEB, by="partner")
    assert (new["value"], new["previous"]) == (3, 2)  # o1 o2 o3 · o4 pub
    assert rows(new) == {"p1": 2, "p2": 1, None: 0}  # pub (no partner) was new in January


def test_generations_by_style_status_and_per_occasion(store):
    load(store, *platform())
    by_style = ask(store, "generations.total", *FEB, by="style")
    # February: o1 ×3, o3 ×1, pub ×1 = 5; January: o4 = 1
    assert (by_style["value"], by_style["previous"]) == (5, 1)
    assert rows(by_style) == {"s1": 3, "s2": 2}
    assert rows(ask(store, "generations.total", *FEB, by="status")) == {
        "succeeded": 3,
        "deleted": 1,
        "failed": 1,
    }
    assert value(store, "generations.failed", *FEB) == 1
    assert value(store, "occasions.active", *FEB) == 3  # o1, o3, pub
    per = ask(store, "generations.per_occasion", *FEB)
    # Feb: 5 generations / 3 occasions; Jan: 1 / 1 (o4)
    assert (per["value"], per["previous"], per["status"]) == (1.6667, 1.0, "warning")
    assert value(store, "generations.per_occasion", "2025-12-31", "this_month") is None


def test_styles_total_active_and_deletion_rate(store):
    load(store, *platform())
    total = ask(store, "styles.total", *FEB)
    assert (total["value"], total["previous"]) == (3, 2)  # s3 declared on Feb 20
    active = ask(store, "styles.active", *FEB)
    assert (active["value"], active["previous"]) == (2, 1)  # s1 s2 · s1
    deletion = ask(store, "styles.deletion_rate", *FEB, by="style")
    # Feb: 1 deleted of 5 = 20 %; s2: 1 of 2 = 50 %, s1: 0 of 3; Jan: 0 of 1
    assert (deletion["value"], deletion["previous"]) == (20.0, 0.0)
    assert rows(deletion) == {"s2": 50.0, "s1": 0.0}
    assert value(store, "styles.deletion_rate", "2025-12-31", "this_month") is None


# -- B2C users ----------------------------------------------------------------------------------


def test_b2c_users_activity_and_activation(store):
    load(
        store,
        *platform(),
        # u2 consumed on Jan 29 12:00: active until Feb 28 12:00 (30 days), not at Feb 28's end
        track("credits_consumed", "2026-01-29", user="u2", credits=5, source="generation"),
        # u1 also consumes on the day of its generation: still one active user
        track("credits_consumed", "2026-02-12 09:05", user="u1", credits=1, source="generation"),
        # u3 is a partner's customer; u4 is deleted before Feb 28
        track("credits_consumed", "2026-02-20", user="u3", credits=5, source="message"),
        track("credits_consumed", "2026-02-21", user="u4", credits=5, source="message"),
    )
    total = ask(store, "users.b2c_total", *FEB)
    assert (total["value"], total["previous"]) == (2, 2)  # u1 u2 (u4 deleted) · u1 u2
    daily = ask(store, "users.active_30d", "2026-02-28", "2026-02-20..2026-02-28", series="day")
    by_day = dict(series(daily))
    assert by_day["2026-02-27"] == 2  # u1, and u2 until Feb 28 12:00
    assert by_day["2026-02-24"] == 3  # u1, u2, u4 (deleted on the 25th)
    assert by_day["2026-02-28"] == 1  # u1
    rate = ask(store, "users.activation_rate", *FEB)
    # Feb 28: 1 active / 2 users = 50 %; Jan 31: u2 (Jan 29) / u1 u2 = 50 %
    assert (rate["value"], rate["previous"], rate["status"]) == (50.0, 50.0, "healthy")
    assert value(store, "users.activation_rate", "2025-12-31", "this_month") is None


GENERATED = {"style_id": "s1", "occasion_id": "o1", "status": "succeeded"}


def test_active_b2c_users_across_a_run_of_activities(store):
    """u5 consumes on Jan 1, Jan 21 (20 days later: one spell) and Mar 5 (43 days after: a
    new one): active until Feb 20 12:00, then again from Mar 5. u6 generates on Feb 10 and
    Feb 10 again (one instant twice): counted once."""
    load(
        store,
        identify("u5", "2025-12-01"),
        identify("u6", "2025-12-01"),
        *(
            track("credits_consumed", day, user="u5", credits=1, source="generation")
            for day in ("2026-01-01", "2026-01-21", "2026-03-05")
        ),
        track("generation_created", "2026-02-10", user="u6", **GENERATED),
        track("credits_consumed", "2026-02-10", user="u6", credits=1, source="generation"),
    )
    daily = ask(store, "users.active_30d", "2026-03-06", "2026-02-18..2026-03-06", series="day")
    by_day = dict(series(daily))
    # each day's end: u5 until Feb 20 12:00 and from Mar 5 12:00; u6 until Mar 12 12:00
    assert [by_day[f"2026-02-{d}"] for d in (18, 19, 20, 21)] == [2, 2, 1, 1]
    assert [by_day[f"2026-03-0{d}"] for d in (4, 5, 6)] == [1, 2, 2]


def test_b2c_credits_and_revenue(store):
    load(
        store,
        identify("u1", "2026-01-05"),
        identify("u2", "2026-01-10"),
        identify("u3", "2026-01-12", partner_id="p1"),
        track("credits_purchased", "2026-01-15", user="u2", credits=50, amount=5),
        track("credits_purchased", "2026-02-02", user="u2", credits=30, amount=3),
        track("credits_purchased", "2026-02-11", user="u1", credits=100, amount=10),
        track("credits_purchased", "2026-02-03", user="u3", credits=1000, amount=99),
        track("credits_purchased", "2026-02-04", group="p1", credits=500, amount=40),
        track("invoice_paid", "2026-02-02", user="u2", amount=5, kind="credits"),
        track("invoice_paid", "2026-02-11", user="u1", amount=10, kind="credits"),
        track("invoice_paid", "2026-02-03", user="u3", amount=99, kind="credits"),
        track("refund_issued", "2026-02-15", user="u1", amount=2),
        track("invoice_paid", "2026-01-20", user="u2", amount=7, kind="credits"),
    )
    avg = ask(store, "users.avg_credits", *FEB)
    # Feb 28: (50 + 30 + 100) / 2 B2C users = 90; Jan 31: 50 / 2 = 25
    assert (avg["value"], avg["previous"]) == (90.0, 25.0)
    revenue = ask(store, "users.revenue", *FEB)
    # Feb: 5 + 10 − 2 (u3 is a partner's customer); Jan: 7
    assert (revenue["value"], revenue["previous"]) == (13.0, 7.0)
    size = ask(store, "credits.avg_purchase_size", *FEB)
    # Feb: (30 + 100 + 1000 + 500) / 4 purchases = 407.5; Jan: 50 / 1
    assert (size["value"], size["previous"]) == (407.5, 50.0)
    repeat = ask(store, "credits.repeat_purchase_rate", *FEB)
    # Feb 28: buyers u1 u2 u3 (p1 is no customer), repeat u2 → 1 / 3; Jan 31: u2 once → 0 / 1
    assert (repeat["value"], repeat["previous"]) == (33.3333, 0.0)
    assert value(store, "credits.repeat_purchase_rate", "2025-12-31", "this_month") is None
    assert value(store, "users.avg_credits", "2025-12-31", "this_month") is None


# -- tables -------------------------------------------------------------------------------------


def test_style_usage_and_categories(store):
    load(store, *platform())
    usage = table(store, "styles.usage", "2026-02-28", window="this_month")
    assert [r["style_id"] for r in usage] == ["s1", "s2", "s3"]
    s1, s2, s3 = usage
    # s1: 3 of 5 generations (60 %), last Feb 12 09:00, none deleted
    assert (s1["generations"], s1["share"], s1["deletion_rate"], s1["active"]) == (
        3,
        60.0,
        0.0,
        True,
    )
    assert s1["last_used"] == "2026-02-12T09:00:00+00:00"
    assert (s2["generations"], s2["share"], s2["deletion_rate"]) == (2, 40.0, 50.0)
    # s3: unused (inactive in the window), disabled in the catalog
    assert (s3["generations"], s3["last_used"], s3["active"], s3["enabled"]) == (
        0,
        None,
        False,
        False,
    )
    assert (s3["name"], s3["category"]) == ("Retro", "portrait")
    # January: s1 used once (o4), last used Jan 25; s3 not declared yet
    january = table(store, "styles.usage", "2026-01-31", window="this_month")
    assert [(r["style_id"], r["generations"]) for r in january] == [("s1", 1), ("s2", 0)]
    # p1's view leaves out u1's generation: s1 2 of 4 (50 %)
    mine = table(store, "styles.usage", "2026-02-28", window="this_month", partner="p1")
    assert (mine[0]["style_id"], mine[0]["generations"], mine[0]["share"]) == ("s1", 2, 50.0)
    categories = table(store, "styles.categories", "2026-02-28", window="this_month")
    # portrait: s1 3; cartoon: s2 2
    assert [(r["category"], r["generations"], r["share"]) for r in categories] == [
        ("portrait", 3, 60.0),
        ("cartoon", 2, 40.0),
    ]
    assert table(store, "styles.categories", "2025-12-31", window="this_month") == []


def test_peak_hours_in_the_reporting_time_zone(store):
    load(
        store,
        # Monday Feb 9, 23:30 UTC = Tuesday 00:30 in Madrid (UTC+1)
        gen("2026-02-09 23:30", "pub", "s1", user="u1"),
        gen("2026-02-09 23:45", "pub", "s1", user="u1"),
        track("chat_opened", "2026-02-14 20:10", user="u2", experience_id="e1"),  # Saturday
        track("credits_consumed", "2026-02-14 20:20", user="u2", credits=1, source="message"),
        identify("u1", "2026-02-01", partner_id="p1"),
    )
    cells = table(store, "usage.peak_hours", "2026-02-28", window="this_month")
    assert len(cells) == 7 * 24
    counts = {(r["weekday"], r["hour"]): r["events"] for r in cells}
    # usage events only: 2 generations Monday 23h, 1 chat open Saturday 20h (not the credits)
    assert counts[(0, 23)] == 2 and counts[(5, 20)] == 1
    assert sum(counts.values()) == 3
    madrid = table(store, "usage.peak_hours", "2026-02-28", window="this_month", tz="Europe/Madrid")
    counts = {(r["weekday"], r["hour"]): r["events"] for r in madrid}
    assert (counts[(1, 0)], counts[(0, 23)], counts[(5, 21)]) == (2, 0, 1)
    chats = table(
        store,
        "usage.peak_hours",
        "2026-02-28",
        window="this_month",
        params={"event": "chat_opened"},
    )
    assert sum(r["events"] for r in chats) == 1
    # a partner's grid: its customer u1's two generations, not u2's chat
    mine = table(store, "usage.peak_hours", "2026-02-28", window="this_month", partner="p1")
    assert {(r["weekday"], r["hour"]): r["events"] for r in mine if r["events"]} == {(0, 23): 2}


def test_generation_stats_per_local_day(store):
    load(
        store,
        *platform(),
        track("credits_consumed", "2026-02-02 19:00", group="p1", credits=2, source="generation"),
        track("credits_consumed", "2026-02-02 19:30", group="p1", credits=9, source="message"),
    )
    stats = table(store, "generations.stats", "2026-02-28", window="this_month")
    assert len(stats) == 28  # every day of February, empty days at 0
    by_day = {r["day"]: r for r in stats}
    assert by_day["2026-02-02"] == {
        "day": "2026-02-02",
        "generations": 3,
        "succeeded": 2,
        "failed": 0,
        "deleted": 1,
        "credits_consumed": 2,  # generation credits only (not the 9 for messages)
    }
    assert by_day["2026-02-10"]["failed"] == 1
    assert by_day["2026-02-03"]["generations"] == 0
    # in Tokyo (UTC+9) the 18:00-18:10 UTC generations fall on Feb 3
    tokyo = table(store, "generations.stats", "2026-02-28", window="this_month", tz="Asia/Tokyo")
    by_day = {r["day"]: r for r in tokyo}
    assert (by_day["2026-02-02"]["generations"], by_day["2026-02-03"]["generations"]) == (0, 3)
