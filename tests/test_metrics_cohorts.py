"""customers.cohorts on hand-built datasets; every expected value is worked out by hand beside it.

Window Jan 1..Apr 15, 2026: cohorts January to April. Month k of a cohort is measured at the
end of its k-th month after signup (Feb 1 00:00 for January's month 0), the running month at the
as-of moment (Apr 16 00:00).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from messages import identify, load, track
from pulse.metrics import CATALOG
from pulse.metrics.engine import Engine
from pulse.metrics.tables import TableQuery, evaluate_table

AS_OF = "2026-04-15"
WINDOW = "2026-01-01..2026-04-15"


def table(store, as_of: str = AS_OF, window: str = WINDOW, **options: Any) -> list[dict[str, Any]]:
    query = TableQuery("customers.cohorts", date.fromisoformat(as_of), window, **options)
    rows: list[dict[str, Any]] = evaluate_table(Engine(store, CATALOG), query)["rows"]
    return rows


def grid(rows: list[dict[str, Any]]) -> dict[tuple[str, int], tuple[int, int, Any]]:
    return {
        (r["cohort"], r["month"]): (r["customers"], r["retained"], r["retention_pct"]) for r in rows
    }


def moved(user: str, when: str, to: str) -> dict[str, Any]:
    return track("status_changed", when, user=user, to=to)


def story() -> list[dict[str, Any]]:
    return [
        identify("d0", "2025-12-20", status="active"),  # signed up before the window's months
        identify("j1", "2026-01-05", status="active", partner_id="p1"),  # stays throughout
        identify("j2", "2026-01-10", status="trial"),
        moved("j2", "2026-02-10", to="churned"),  # gone at the end of February …
        moved("j2", "2026-03-05", to="active"),  # … and back in March
        identify("j3", "2026-01-20", status="active"),
        moved("j3", "2026-01-25", to="cancelled"),  # gone within its first month
        identify("j4", "2026-01-12", status="active"),
        track("customer_deleted", "2026-03-03", user="j4"),  # deleted: lost from March
        identify("j5", "2026-01-15", email="j5@example.com"),  # never a status: no cohort
        identify("x1", "2026-01-31 23:30", status="active"),  # Jan in UTC, Feb 1 in Berlin
        identify("f1", "2026-02-02", status="inactive", partner_id="p1"),  # inactive counts
        moved("f1", "2026-04-10", to="cancelled"),
        identify("a1", "2026-04-03", status="trial"),
    ]


def test_retention_by_signup_month_and_month_offset(store):
    load(store, *story())
    rows = table(store)
    assert [(r["cohort"], r["month"]) for r in rows] == [
        ("2026-01", 0),
        ("2026-01", 1),
        ("2026-01", 2),
        ("2026-01", 3),  # April, running: measured at Apr 15's end
        ("2026-02", 0),
        ("2026-02", 1),
        ("2026-02", 2),
        ("2026-03", 0),
        ("2026-03", 1),
        ("2026-04", 0),
    ]
    assert grid(rows) == {
        # January: j1 j2 j3 j4 x1 = 5 (j5 never had a status, d0 is December's)
        ("2026-01", 0): (5, 4, 80.0),  # Feb 1: j1, j2 (trial), j4, x1; j3 cancelled
        ("2026-01", 1): (5, 3, 60.0),  # Mar 1: j1, j4, x1; j2 churned
        ("2026-01", 2): (5, 3, 60.0),  # Apr 1: j1, j2 back, x1; j4 deleted
        ("2026-01", 3): (5, 3, 60.0),  # Apr 16: the same
        ("2026-02", 0): (1, 1, 100.0),  # f1 inactive at Mar 1
        ("2026-02", 1): (1, 1, 100.0),  # Apr 1
        ("2026-02", 2): (1, 0, 0.0),  # cancelled on Apr 10
        ("2026-03", 0): (0, 0, None),  # nobody signed up in March: 0 / 0
        ("2026-03", 1): (0, 0, None),
        ("2026-04", 0): (1, 1, 100.0),  # a1 in trial
    }


def test_months_parameter_limits_the_offsets(store):
    load(store, *story())
    rows = table(store, params={"months": "1"})
    assert [(r["cohort"], r["month"]) for r in rows] == [
        ("2026-01", 0),
        ("2026-01", 1),
        ("2026-02", 0),
        ("2026-02", 1),
        ("2026-03", 0),
        ("2026-03", 1),
        ("2026-04", 0),
    ]
    with pytest.raises(ValueError, match="months"):
        table(store, params={"months": "twelve"})
    with pytest.raises(ValueError, match="months"):
        table(store, params={"months": "-1"})


def test_cohorts_for_one_partner(store):
    load(store, *story())
    got = grid(table(store, partner="p1"))
    assert got[("2026-01", 0)] == (1, 1, 100.0)  # j1
    assert got[("2026-02", 2)] == (1, 0, 0.0)  # f1 cancelled
    assert got[("2026-04", 0)] == (0, 0, None)  # a1 is direct


def test_signup_month_and_month_ends_follow_the_reporting_time_zone(store):
    load(store, *story())
    got = grid(table(store, tz="Europe/Berlin"))
    # x1 signed up at 00:30 on Feb 1 in Berlin: February's cohort
    assert got[("2026-01", 0)] == (4, 3, 75.0)  # j1, j2, j4 of j1 j2 j3 j4
    assert got[("2026-02", 0)] == (2, 2, 100.0)  # f1, x1


def test_cohorts_only_cover_the_window_months(store):
    load(store, *story())
    rows = table(store, "2026-02-28", "this_month")
    # February only, month 0 measured at Feb 28's end: f1 retained; x1 is January's
    assert [(r["cohort"], r["month"], r["customers"], r["retained"]) for r in rows] == [
        ("2026-02", 0, 1, 1)
    ]


def test_empty_store_gives_empty_cohorts_without_percentages(store):
    rows = table(store, "2026-02-28", "last_30d")  # Jan 30..Feb 28: January and February
    assert [(r["cohort"], r["month"], r["customers"], r["retention_pct"]) for r in rows] == [
        ("2026-01", 0, 0, None),
        ("2026-01", 1, 0, None),
        ("2026-02", 0, 0, None),
    ]
