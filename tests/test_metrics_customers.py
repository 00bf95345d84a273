"""customers.* on hand-built datasets; every expected value is worked out by hand beside it.

Each `ask` compiles a query for the engine, so the tests ask few, information-rich questions:
a breakdown or a series answers several as-of dates at once.
"""

from __future__ import annotations

from typing import Any

from messages import ask, identify, load, rows, series, track, value

# February 2026 has 28 days: "per month" thresholds scale by 28/30 for this_month on Feb 28.
FEB = ("2026-02-28", "this_month")
Q1 = ("2026-03-31", "2026-01-01..2026-03-31")  # three whole months, for monthly series


def moved(user: str, when: str, to: str = "churned") -> dict[str, Any]:
    """A status_changed event: it sets the customer's status like an identify does."""
    return track("status_changed", when, user=user, to=to)


def day(answer: dict[str, Any], period: str) -> Any:
    return dict(series(answer))[period]


# -- counts and status as of a date -------------------------------------------------------------


def test_total_counts_customers_created_by_the_end_and_not_deleted(store):
    load(
        store,
        identify("c1", "2026-01-05", status="active"),
        # first message in February, but created_at (Jan 20) wins over the first message
        identify("c2", "2026-02-10", status="active", created_at="2026-01-20T09:00:00Z"),
        identify("c3", "2026-01-25", status="active"),
        track("customer_deleted", "2026-02-15", user="c3"),
        identify("c4", "2026-02-20", status="trial"),
        identify("c5", "2026-02-21", status="trial"),
        identify("c6", "2026-03-02", status="trial"),
    )
    answer = ask(store, "customers.total", *FEB)
    assert answer["value"] == 4  # c1, c2, c4, c5 (c3 deleted on Feb 15)
    assert answer["previous"] == 3  # at Jan 31: c1, c2, c3
    assert answer["change_pct"] == 33.3333  # (4 − 3) / 3
    assert (answer["unit"], answer["status"]) == ("count", None)
    monthly = ask(store, "customers.total", *Q1, series="month")
    # Jan 31: c1 c2 c3 · Feb 28: c1 c2 c4 c5 · Mar 31: + c6
    assert series(monthly) == [("2026-01-01", 3), ("2026-02-01", 4), ("2026-03-01", 5)]
    assert monthly["value"] == 5


def test_status_is_read_as_of_each_date(store):
    load(
        store,
        identify("c1", "2026-01-05", status="trial"),
        moved("c1", "2026-02-10", to="active"),  # 12:00 UTC on Feb 10
        identify("c1", "2026-03-20", status="cancelled"),
        identify("c2", "2026-01-07", status="active"),
    )
    daily = ask(store, "customers.active", "2026-03-31", "2026-01-31..2026-03-31", series="day")
    assert day(daily, "2026-01-31") == 1  # c2 (c1 in trial)
    assert day(daily, "2026-02-09") == 1  # c1's change comes on the 10th
    assert day(daily, "2026-02-10") == 2  # at the end of Feb 10 c1 is active
    assert day(daily, "2026-03-19") == 2
    assert day(daily, "2026-03-20") == 1  # c1 cancelled on Mar 20
    assert daily["value"] == 1 and daily["previous"] == 1  # Mar 31; Jan 30 (c2 only)

    # February's rows against January's: the status at Feb 28 and at Jan 31
    feb = ask(store, "customers.by_status", *FEB, by="status")
    assert feb["value"] == 2
    by_key = {row["key"]: row for row in feb["rows"]}
    # active: c1 + c2 now, c2 at Jan 31 → (2 − 1) / 1 = 100 %
    assert (by_key["active"]["value"], by_key["active"]["previous"]) == (2, 1)
    assert by_key["active"]["change_pct"] == 100.0
    # trial: nobody now, c1 at Jan 31 → the row stays, at 0 (−100 %)
    assert (by_key["trial"]["value"], by_key["trial"]["previous"]) == (0, 1)
    assert by_key["trial"]["change_pct"] == -100.0
    # March: c1 cancelled, c2 active
    assert rows(ask(store, "customers.by_status", "2026-03-31", "this_month", by="status")) == {
        "active": 1,
        "cancelled": 1,
    }


def test_new_counts_customers_created_in_the_window_by_plan(store):
    load(
        store,
        identify("c1", "2026-01-05", plan_id="basic"),
        identify("c2", "2026-02-03", plan_id="basic"),
        identify("c3", "2026-02-28 23:59", plan_id="pro"),
        identify("c4", "2026-03-01", plan_id="pro"),
        # first seen through a track event, no identify and no plan
        track("signed_up", "2026-02-14", user="c5", email="c5@example.com"),
        # c2 moves to pro after the window: February still sees it on basic
        identify("c2", "2026-03-05", plan_id="pro"),
    )
    answer = ask(store, "customers.new", *FEB, by="plan")
    assert answer["value"] == 3  # c2, c3, c5
    assert answer["previous"] == 1  # January: c1
    assert answer["change_pct"] == 200.0  # (3 − 1) / 1
    assert rows(answer) == {"basic": 1, "pro": 1, None: 1}  # c2 · c3 · c5 (no plan)
    basic = next(row for row in answer["rows"] if row["key"] == "basic")
    assert basic["previous"] == 1  # c1 in January


def test_partner_filter_and_breakdown_by_partner(store):
    load(
        store,
        identify("c1", "2026-02-02", status="active", partner_id="p1"),
        identify("c2", "2026-02-03", status="active", partner_id="p1"),
        identify("c3", "2026-02-04", status="active", partner_id="p2"),
        identify("d1", "2026-02-05", status="active"),  # B2C, no partner
    )
    assert value(store, "customers.total", *FEB, partner="p1") == 2  # c1, c2
    answer = ask(store, "customers.active", *FEB, by="partner")
    assert answer["value"] == 4
    assert rows(answer) == {"p1": 2, "p2": 1, None: 1}


# -- growth rate --------------------------------------------------------------------------------


def test_growth_rate_is_new_over_customers_at_the_start(store):
    load(
        store,
        *[identify(f"b{i}", "2026-01-10", status="active") for i in range(6)],
        identify("n1", "2026-02-02", status="trial"),
        identify("n2", "2026-02-12", status="trial"),
        identify("n3", "2026-02-22", status="trial"),
    )
    answer = ask(store, "customers.growth_rate", *FEB)
    assert answer["value"] == 50.0  # 3 new in Feb / 6 at Feb 1 → 50.0
    assert answer["unit"] == "percent"
    assert answer["status"] == "healthy"  # > 10 × 28/30 = 9.33
    # January: 6 new / 0 customers at Jan 1 → division by zero → None
    assert (answer["previous"], answer["change_pct"]) == (None, None)


def test_growth_rate_thresholds_are_per_month(store):
    load(
        store,
        *[identify(f"b{i}", "2025-12-15", status="active") for i in range(10)],
        identify("n1", "2026-03-10"),
        identify("n2", "2026-03-11"),
    )
    month = ask(store, "customers.growth_rate", "2026-03-31", "last_30d")
    # Mar 2..31: 2 new / 10 at the start → 20.0; > 10 → healthy
    assert (month["value"], month["status"]) == (20.0, "healthy")
    quarter = ask(store, "customers.growth_rate", "2026-03-31", "last_3m")
    # Jan 1..Mar 31 (90 days): 2 / 10 → 20.0; thresholds × 3: healthy > 30, warning < 15
    assert (quarter["value"], quarter["status"]) == (20.0, "neutral")
    february = ask(store, "customers.growth_rate", *FEB)
    # nobody new in February: 0 / 10 → 0.0 < 5 × 28/30 → warning
    assert (february["value"], february["status"]) == (0.0, "warning")


# -- churn and retention ------------------------------------------------------------------------


def test_churn_excludes_customers_created_in_the_window(store):
    load(
        store,
        *[identify(f"a{i}", "2026-01-05", status="active") for i in (1, 2, 3, 4)],
        identify("t1", "2026-01-06", status="trial"),
        identify("x1", "2026-01-07", status="active"),
        identify("x1", "2026-01-20", status="cancelled"),  # gone before February
        moved("a1", "2026-02-10"),
        moved("a1", "2026-02-12"),  # churned again while churned: still one move
        identify("a2", "2026-02-15", status="cancelled"),
        moved("a2", "2026-02-16"),  # cancelled → churned: already gone, no second move
        identify("n1", "2026-02-05", status="active"),
        moved("n1", "2026-02-20"),  # created in February: not counted
    )
    # moved into cancelled/churned in February: a1, a2 (n1 created in the window) → 2
    assert value(store, "customers.churned", *FEB) == 2
    answer = ask(store, "customers.churn_rate", *FEB)
    # open at Feb 1: a1..a4 active + t1 trial = 5 (x1 already cancelled) → 2 / 5 = 40.0
    assert answer["value"] == 40.0
    assert answer["status"] == "warning"  # > 10 × 28/30 = 9.33 (lower is better)
    # January: x1 moved, but was created in January → 0; nobody open at Jan 1: 0 / 0 → None
    assert (answer["previous"], answer["change_pct"]) == (None, None)
    retention = ask(store, "customers.retention_rate", *FEB)
    # 100 − 40 = 60; January had no churn rate, so no retention rate either
    assert (retention["value"], retention["previous"]) == (60.0, None)


def test_churn_rate_compares_with_the_previous_window(store):
    load(
        store,
        identify("a1", "2025-12-05", status="active"),
        identify("a2", "2025-12-05", status="active"),
        moved("a1", "2026-01-15"),
    )
    answer = ask(store, "customers.churn_rate", *FEB)
    # Feb: nobody moved; open at Feb 1 = a2 → 0 / 1 = 0.0 → healthy (< 5 × 28/30)
    assert (answer["value"], answer["status"]) == (0.0, "healthy")
    assert answer["previous"] == 50.0  # Jan: a1 moved; open at Jan 1 = a1, a2 → 1 / 2
    assert answer["change_pct"] == -100.0  # (0 − 50) / 50


def test_customer_who_churns_and_comes_back(store):
    load(
        store,
        identify("b1", "2026-01-05", status="active"),
        identify("b2", "2026-01-05", status="active"),
        moved("b1", "2026-02-10"),
        moved("b1", "2026-02-20", to="active"),  # back before the end of February
        moved("b1", "2026-03-10"),  # and gone again in March
    )
    churned = ask(store, "customers.churned", *Q1, series="month")
    # the move on Feb 10 counts although b1 is back by Feb 28; March's move is a new one
    assert series(churned) == [("2026-01-01", 0), ("2026-02-01", 1), ("2026-03-01", 1)]
    answer = ask(store, "customers.churn_rate", "2026-03-31", "this_month")
    assert answer["value"] == 50.0  # March: 1 / 2 open at Mar 1 (b1 is active again)
    assert answer["previous"] == 50.0  # February: 1 / 2 open at Feb 1


def test_churn_thresholds_are_per_month(store):
    load(
        store,
        *[identify(f"a{i}", "2025-01-05", status="active") for i in range(5)],
        moved("a0", "2026-03-20"),
    )
    # 1 of the 5 open at the start → 20.0 in every window that contains Mar 20
    month = ask(store, "customers.churn_rate", "2026-03-31", "last_30d")
    assert (month["value"], month["status"]) == (20.0, "warning")  # > 10
    quarter = ask(store, "customers.churn_rate", "2026-03-31", "last_3m")
    assert (quarter["value"], quarter["status"]) == (20.0, "neutral")  # × 3: 15 ≤ 20 ≤ 30
    year = ask(store, "customers.churn_rate", "2026-03-31", "last_12m")
    assert (year["value"], year["status"]) == (20.0, "healthy")  # < 5 × 365/30 = 60.8


# -- series, time zone, empty store -------------------------------------------------------------


def test_monthly_and_cumulative_series_of_new_customers(store):
    load(
        store,
        identify("c1", "2026-01-05"),
        identify("c2", "2026-01-25"),
        identify("c3", "2026-03-02"),
        identify("c4", "2026-03-31 23:00"),
    )
    monthly = ask(store, "customers.new", *Q1, series="month")
    assert series(monthly) == [("2026-01-01", 2), ("2026-02-01", 0), ("2026-03-01", 2)]
    assert monthly["value"] == 4  # the window's total
    running = ask(store, "customers.new", *Q1, series="month", cumulative=True)
    assert series(running) == [("2026-01-01", 2), ("2026-02-01", 2), ("2026-03-01", 4)]


def test_weekly_series_buckets_start_on_monday(store):
    load(
        store,
        identify("c1", "2026-02-01"),  # Sunday: week of Mon Jan 26
        identify("c2", "2026-02-02"),  # Monday: week of Feb 2
        identify("c3", "2026-02-08 23:59"),  # Sunday night: still week of Feb 2
    )
    answer = ask(store, "customers.new", "2026-02-08", "2026-01-29..2026-02-08", series="week")
    assert [(p["period"], p["start"], p["end"], p["value"]) for p in answer["series"]] == [
        ("2026-01-26", "2026-01-29", "2026-02-01", 1),  # clipped to the window start
        ("2026-02-02", "2026-02-02", "2026-02-08", 2),
    ]


def test_local_day_boundary_follows_the_reporting_time_zone(store):
    # 23:30 UTC on Jan 31 is 00:30 on Feb 1 in Berlin (UTC+1)
    load(store, identify("c1", "2026-01-31 23:30"), identify("c2", "2026-02-10"))
    assert value(store, "customers.new", *FEB) == 1  # in UTC c1 is a January customer
    berlin = ask(store, "customers.new", *FEB, tz="Europe/Berlin", series="day")
    assert (berlin["value"], berlin["previous"]) == (2, 0)  # in Berlin c1 is new in February
    assert day(berlin, "2026-02-01") == 1  # on Berlin's Feb 1


def test_empty_store_gives_zero_counts_and_no_ratios(store):
    assert value(store, "customers.total", *FEB) == 0
    answer = ask(store, "customers.new", *FEB)
    assert (answer["value"], answer["previous"], answer["change_pct"]) == (0, 0, None)
    for metric in ("customers.growth_rate", "customers.churn_rate", "customers.retention_rate"):
        answer = ask(store, metric, *FEB)
        assert (answer["value"], answer["previous"], answer["status"]) == (None, None, None)
