"""customers.segments, customers.segment_members and customers.status_breakdown on hand-built
datasets; every expected value is worked out by hand beside it.

As of 2026-03-31 the segment window is the 30 days Mar 2..Mar 31 and the previous one the
30 days Jan 31..Mar 1. Plans: basic 1000 credits a month, pro 5000, payg without credits.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from messages import identify, load, plan, track
from pulse.metrics import CATALOG
from pulse.metrics.engine import Engine
from pulse.metrics.tables import TableQuery, evaluate_table

AS_OF = "2026-03-31"
NOW = "2026-03-20"  # in the 30 days to Mar 31
BEFORE = "2026-02-15"  # in the 30 days before those


def table(store, table_id: str, as_of: str = AS_OF, **options: Any) -> list[dict[str, Any]]:
    query = TableQuery(table_id, date.fromisoformat(as_of), "last_30d", **options)
    rows: list[dict[str, Any]] = evaluate_table(Engine(store, CATALOG), query)["rows"]
    return rows


def customer(user: str, plan_id: str | None, status: str = "active", **traits: Any) -> Any:
    if plan_id is not None:
        traits["plan_id"] = plan_id
    return identify(user, "2026-01-05", status=status, email=f"{user}@example.com", **traits)


def used(user: str, credits: float, when: str = NOW) -> dict[str, Any]:
    return track("credits_consumed", when, user=user, credits=credits, source="generation")


def population() -> list[dict[str, Any]]:
    return [
        plan("basic", "2026-01-01", price=30, interval="month", credits_included=1000),
        plan("pro", "2026-01-01", price=99, interval="month", credits_included=5000),
        plan("payg", "2026-01-01", price=0, interval="month"),  # no monthly credits
        customer("h1", "basic", partner_id="p1"),
        used("h1", 850),  # 85 % → high
        used("h1", 800, BEFORE),  # +6.25 %: not growth
        used("h1", 500, "2026-04-02"),  # after the as-of date: not counted
        customer("h2", "basic", partner_id="p1"),
        used("h2", 950),  # 95 % → high, and ≥ 90 % of plan → growth potential
        # m1 moves from basic to pro on Mar 20: rated against pro's 5000 (plan as of Mar 31)
        customer("m1", "basic"),
        identify("m1", "2026-03-20", plan_id="pro"),
        used("m1", 2000),  # 40 % of 5000 → medium
        used("m1", 1000, BEFORE),  # +100 % → growth potential
        customer("m2", "basic"),
        used("m2", 300),  # exactly 30 % → medium (low is < 30)
        used("m2", 250, BEFORE),  # 300 / 250 = +20 % exactly → growth potential
        customer("l1", "basic", status="trial"),
        used("l1", 100),  # 10 % → low; nothing before: no growth percentage
        customer("l2", "pro"),
        used("l2", 1450),  # 29 % → low
        used("l2", 1300, BEFORE),  # +11.5 %: not growth
        customer("i1", "basic", status="inactive"),
        used("i1", 500, BEFORE),  # nothing in the last 30 days → inactive
        customer("u1", "payg"),
        used("u1", 40),  # consumption without plan credits → unrated
        used("u1", 20, BEFORE),  # +100 % → growth potential
        # not segmented: cancelled, deleted, without a plan
        customer("x1", "basic", status="cancelled"),
        used("x1", 900),
        customer("d1", "basic"),
        used("d1", 900),
        track("customer_deleted", "2026-03-10", user="d1"),
        customer("n0", None),
        used("n0", 900),
    ]


def test_segments_count_customers_and_give_the_recommended_action(store):
    load(store, *population())
    got = {row["segment"]: row for row in table(store, "customers.segments")}
    # segmented: h1 h2 m1 m2 l1 l2 i1 u1 = 8 (x1 cancelled, d1 deleted, n0 without a plan)
    assert {name: (row["customers"], row["share_pct"]) for name, row in got.items()} == {
        "high": (2, 25.0),  # h1, h2 → 2 / 8
        "medium": (2, 25.0),  # m1, m2
        "low": (2, 25.0),  # l1, l2
        "inactive": (1, 12.5),  # i1
        "unrated": (1, 12.5),  # u1
        "growth_potential": (4, 50.0),  # h2, m1, m2, u1 (overlapping the levels)
    }
    assert "upsell" in got["high"]["action"]
    assert "education" in got["low"]["action"]
    assert "onboarding and support" in got["inactive"]["action"]
    assert "marketing" in got["growth_potential"]["action"]


def test_segment_members_list_each_customer_in_each_of_its_segments(store):
    load(store, *population())
    members = table(store, "customers.segment_members")
    assert sorted((row["customer_id"], row["segment"]) for row in members) == sorted(
        [
            ("h1", "high"),
            ("h2", "high"),
            ("h2", "growth_potential"),
            ("m1", "medium"),
            ("m1", "growth_potential"),
            ("m2", "medium"),
            ("m2", "growth_potential"),
            ("l1", "low"),
            ("l2", "low"),
            ("i1", "inactive"),
            ("u1", "unrated"),
            ("u1", "growth_potential"),
        ]
    )
    m1 = next(r for r in members if r["customer_id"] == "m1" and r["segment"] == "medium")
    assert m1 == {
        "customer_id": "m1",
        "email": "m1@example.com",
        "partner_id": None,
        "plan_id": "pro",  # as of Mar 31
        "status": "active",
        "consumed_30d": 2000,
        "consumed_prev_30d": 1000,
        "plan_credits": 5000,
        "usage_pct": 40.0,  # 2000 / 5000
        "segment": "medium",
    }
    u1 = next(r for r in members if r["customer_id"] == "u1")
    assert (u1["plan_credits"], u1["usage_pct"]) == (None, None)  # payg has no credits
    h1 = next(r for r in members if r["customer_id"] == "h1")
    assert (h1["consumed_30d"], h1["usage_pct"]) == (850, 85.0)  # April's 500 not counted
    # filter by segment, as the dashboard links a segment to its members
    growth = table(store, "customers.segment_members", where={"segment": "growth_potential"})
    assert {row["customer_id"] for row in growth} == {"h2", "m1", "m2", "u1"}


def test_thresholds_are_table_parameters(store):
    load(store, *population())
    params = {"high": "90", "growth_pct": "50"}
    got = {r["segment"]: r["customers"] for r in table(store, "customers.segments", params=params)}
    # high ≥ 90: h2 (95 %) only; h1 (85 %) joins m1, m2 in medium
    # growth ≥ +50 % or ≥ 90 % of plan: h2 (95 %), m1 (+100 %), u1 (+100 %); m2's +20 % no more
    assert got == {
        "high": 1,
        "medium": 3,
        "low": 2,
        "inactive": 1,
        "unrated": 1,
        "growth_potential": 3,
    }
    with pytest.raises(ValueError, match="high"):
        table(store, "customers.segments", params={"high": "lots"})
    with pytest.raises(ValueError, match="low"):
        table(store, "customers.segments", params={"low": "85"})  # above high (80)


def test_segments_for_one_partner(store):
    load(store, *population())
    got = {
        r["segment"]: (r["customers"], r["share_pct"])
        for r in table(store, "customers.segments", partner="p1")
    }
    # p1's h1 and h2, both high; h2 also growth potential
    assert got["high"] == (2, 100.0)
    assert got["growth_potential"] == (1, 50.0)
    assert got["low"] == (0, 0.0)
    members = table(store, "customers.segment_members", partner="p1")
    assert {row["partner_id"] for row in members} == {"p1"}


def test_segment_window_follows_the_reporting_time_zone(store):
    load(
        store,
        plan("basic", "2026-01-01", price=30, interval="month", credits_included=1000),
        customer("z1", "basic"),
        used("z1", 800, "2026-03-01 23:30"),  # UTC: Mar 1 (previous 30 days); Berlin: Mar 2
    )
    utc = table(store, "customers.segment_members")
    assert [(r["segment"], r["consumed_30d"], r["consumed_prev_30d"]) for r in utc] == [
        ("inactive", 0, 800)
    ]
    berlin = table(store, "customers.segment_members", tz="Europe/Berlin")
    assert [(r["segment"], r["consumed_30d"], r["usage_pct"]) for r in berlin] == [
        ("high", 800, 80.0)  # exactly 80 % → high
    ]


def test_empty_store_gives_zero_segments_and_no_shares(store):
    rows = table(store, "customers.segments")
    assert [(r["segment"], r["customers"], r["share_pct"]) for r in rows] == [
        ("high", 0, None),
        ("medium", 0, None),
        ("low", 0, None),
        ("inactive", 0, None),
        ("unrated", 0, None),
        ("growth_potential", 0, None),
    ]
    assert table(store, "customers.segment_members") == []


# -- status breakdown ---------------------------------------------------------------------------


def test_status_breakdown_in_seed_order_with_shares(store):
    load(
        store,
        identify("a1", "2026-01-05", status="active", partner_id="p1"),
        identify("a2", "2026-01-05", status="trial"),
        identify("a2", "2026-02-05", status="active"),  # active as of Feb 28
        identify("t1", "2026-01-05", status="trial", partner_id="p1"),
        identify("k1", "2026-01-05", status="active"),
        track("status_changed", "2026-02-10", user="k1", to="cancelled"),
        identify("k1", "2026-03-05", status="active"),  # back after the as-of date
    )
    rows = table(store, "customers.status_breakdown", "2026-02-28")
    # as of Feb 28: active a1, a2; trial t1; cancelled k1 → 4 with a status
    assert [(r["status"], r["customers"], r["share_pct"]) for r in rows] == [
        ("active", 2, 50.0),
        ("trial", 1, 25.0),
        ("inactive", 0, 0.0),
        ("cancelled", 1, 25.0),
        ("churned", 0, 0.0),
    ]
    assert rows[0]["description"] == "Regularly using service"
    p1 = table(store, "customers.status_breakdown", "2026-02-28", partner="p1")
    assert [(r["status"], r["share_pct"]) for r in p1][:2] == [("active", 50.0), ("trial", 50.0)]
    empty = table(store, "customers.status_breakdown", "2025-12-31")
    assert {(r["customers"], r["share_pct"]) for r in empty} == {(0, None)}  # 0 / 0
