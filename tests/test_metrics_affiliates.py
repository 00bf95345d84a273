"""affiliates.* on hand-built datasets; every expected value is worked out by hand beside it.

The main dataset (`program()`), window March 2026 (this_month, 31 days; previous = February):
affiliates a1 (elite, approved in January), a2 (partner tier, approved 10 March) and a3 (power,
approved in January, deactivated 20 March); r1 is a referral partner whose activity never
counts as affiliate activity.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from messages import ask, group, identify, load, rows, track, value
from pulse.metrics import CATALOG
from pulse.metrics.affiliates import milestone_progress
from pulse.metrics.engine import Engine
from pulse.metrics.tables import TableQuery, evaluate_table

MARCH = ("2026-03-31", "this_month")


def partner(pid: str, when: str, kind: str = "affiliate", **traits: Any) -> dict[str, Any]:
    return group(pid, when, kind=kind, status="applied", created_at=f"{when}T00:00:00Z", **traits)


def approved(pid: str, when: str) -> dict[str, Any]:
    return track("partner_approved", when, group=pid, partner_id=pid)


def deactivated(pid: str, when: str) -> dict[str, Any]:
    return track("partner_deactivated", when, group=pid, partner_id=pid)


def clicks(pid: str, when: str, n: int) -> list[dict[str, Any]]:
    return [track("referral_clicked", when, group=pid, partner_id=pid) for _ in range(n)]


def signup(pid: str, user: str, when: str, **props: Any) -> dict[str, Any]:
    return track("referral_signed_up", when, user=user, partner_id=pid, **props)


def commission(pid: str, when: str, amount: float, kind: str = "recurring") -> dict[str, Any]:
    return track("commission_earned", when, group=pid, partner_id=pid, amount=amount, kind=kind)


def program() -> list[dict[str, Any]]:
    return [
        partner("a1", "2026-01-01", program_tier="elite", email="ann@annmedia.com"),
        approved("a1", "2026-01-05"),
        partner("a2", "2026-02-01", program_tier="partner", email="bob@gmail.com"),
        approved("a2", "2026-03-10"),
        partner("a3", "2026-01-01", program_tier="power"),
        approved("a3", "2026-01-05"),
        deactivated("a3", "2026-03-20"),
        partner("r1", "2026-01-01", kind="referral"),
        approved("r1", "2026-01-05"),
        *clicks("a1", "2026-02-10", 5),
        *clicks("a1", "2026-03-05", 10),
        *clicks("a2", "2026-03-11", 10),
        *clicks("r1", "2026-03-05", 7),
        # c2 was referred by a1 in February; c1, c2' (c4) in March; c3 by a2; c9 by r1
        identify("c2", "2026-02-20", referred_by="a1", email="cat@x.com"),
        signup("a1", "c2", "2026-02-20"),
        identify("c1", "2026-03-06", referred_by="a1", email="dan@y.com"),
        signup("a1", "c1", "2026-03-06"),
        identify("c4", "2026-03-06", referred_by="a1", email="eve@z.com"),
        signup("a1", "c4", "2026-03-06"),
        identify("c3", "2026-03-12", referred_by="a2", email="fay@w.com"),
        signup("a2", "c3", "2026-03-12"),
        identify("c9", "2026-03-12", referred_by="r1"),
        signup("r1", "c9", "2026-03-12"),
        # trials: c1 names a1; c4 names nobody (its referred_by trait says a1); c9 is r1's
        track("trial_started", "2026-03-07", user="c1", partner_id="a1", plan_id="pro"),
        track("trial_started", "2026-03-08", user="c4", plan_id="pro"),
        track("trial_started", "2026-03-13", user="c9", partner_id="r1", plan_id="pro"),
        track("converted", "2026-03-15", user="c1", partner_id="a1", amount=99),
        # revenue of referred customers: Feb c2 50; March c1 99 − 9 refund; c9 (r1) 40
        track("invoice_paid", "2026-02-21", user="c2", amount=50, kind="subscription"),
        track("invoice_paid", "2026-03-15", user="c1", amount=99, kind="subscription"),
        track("refund_issued", "2026-03-20", user="c1", amount=9),
        track("invoice_paid", "2026-03-15", user="c9", amount=40, kind="subscription"),
        commission("a1", "2026-03-06", 100, kind="milestone"),
        commission("a1", "2026-03-16", 30),
        commission("a1", "2026-02-22", 15),
        commission("r1", "2026-03-16", 12),
    ]


def table(store: Any, table_id: str, as_of: str, window: str, **options: Any) -> list[Any]:
    query = TableQuery(table_id, date.fromisoformat(as_of), window, **options)
    answer: list[Any] = evaluate_table(Engine(store, CATALOG), query)["rows"]
    return answer


# -- members ------------------------------------------------------------------------------------


def test_total_new_and_churned_affiliates(store):
    load(store, *program())
    total = ask(store, "affiliates.total", *MARCH)
    # end of March: a1 and a2 (a3 deactivated, r1 not an affiliate); end of Feb: a1, a3
    assert (total["value"], total["previous"]) == (2, 2)
    by_tier = rows(ask(store, "affiliates.total", *MARCH, by="tier"))
    assert by_tier == {"elite": 1, "partner": 1, "power": 0}  # power: a3 until 20 March
    new = ask(store, "affiliates.new", *MARCH)
    assert (new["value"], new["previous"]) == (1, 0)  # a2 approved 10 March; none in Feb
    churned = ask(store, "affiliates.churned", *MARCH)
    assert (churned["value"], churned["previous"]) == (1, 0)  # a3 deactivated 20 March
    assert value(store, "affiliates.churned", *MARCH, partner="a1") == 0


def test_active_means_a_click_or_signup_in_the_30_days_to_the_end(store):
    load(
        store,
        *[
            m
            for pid in ("a1", "a2", "a3", "a4")
            for m in (partner(pid, "2026-01-01"), approved(pid, "2026-01-05"))
        ],
        partner("a5", "2026-01-01"),  # applied, never approved: not a member
        # 30 days to the end of 31 March = from 2 March 00:00 UTC
        *clicks("a1", "2026-03-02 00:00", 1),  # counts (first instant)
        *clicks("a2", "2026-03-01 23:59", 1),  # one minute too early
        *clicks("a2", "2026-03-01 23:58", 1),
        signup("a3", "c1", "2026-03-31 20:00"),  # a sign-up counts too
        *clicks("a1", "2026-03-20", 2),  # a1 still counts once
        *clicks("a4", "2026-03-20", 1),
        deactivated("a4", "2026-03-31 12:00"),  # no longer an affiliate at the end
        *clicks("a5", "2026-03-20", 1),
    )
    answer = ask(store, "affiliates.active", "2026-03-31")
    assert answer["value"] == 2  # a1, a3
    # 30 days to the end of 1 March (previous window of last_30d): a2 only
    assert answer["previous"] == 1
    # in Berlin the window ends 1 April 00:00 CEST = 31 March 22:00 UTC; 30 days earlier is
    # 1 March 22:00 UTC, so a2's clicks count too: a1, a2, a3
    assert value(store, "affiliates.active", "2026-03-31", tz="Europe/Berlin") == 3
    # 30 days to the end of 30 March = from 1 March 00:00: a1, a2 and a4, still a member then
    assert value(store, "affiliates.active", "2026-03-30") == 3


def test_active_is_zero_without_activity(store):
    load(store, partner("a1", "2026-01-01"), approved("a1", "2026-01-05"))
    assert value(store, "affiliates.active", "2026-03-31") == 0


# -- funnel -------------------------------------------------------------------------------------


def test_funnel_counts_only_affiliates(store):
    load(store, *program())
    clicked = ask(store, "affiliates.clicks", *MARCH)
    assert (clicked["value"], clicked["previous"]) == (20, 5)  # a1 10 + a2 10 (r1's 7 not)
    assert value(store, "affiliates.signups", *MARCH) == 3  # c1, c4 (a1), c3 (a2); not c9
    assert value(store, "affiliates.trials", *MARCH) == 2  # c1 by its partner_id, c4 by trait
    assert value(store, "affiliates.conversions", *MARCH) == 1  # c1
    assert rows(ask(store, "affiliates.clicks", *MARCH, by="partner")) == {"a1": 10, "a2": 10}
    assert value(store, "affiliates.trials", *MARCH, partner="a1") == 2


def test_step_rates(store):
    load(store, *program())
    assert value(store, "affiliates.click_to_signup", *MARCH) == 15.0  # 3 / 20
    assert value(store, "affiliates.signup_to_trial", *MARCH) == 66.6667  # 2 / 3
    assert value(store, "affiliates.trial_to_paid", *MARCH) == 50.0  # 1 / 2
    paid = ask(store, "affiliates.click_to_paid", *MARCH)
    assert paid["value"] == 5.0  # 1 / 20
    assert paid["status"] == "healthy"  # above the 0.8 % benchmark
    assert paid["previous"] == 0.0  # February: 0 conversions / 5 clicks
    assert paid["unit"] == "percent"
    # a2: 1 sign-up of 10 clicks, no trial
    assert value(store, "affiliates.click_to_signup", *MARCH, partner="a2") == 10.0
    assert value(store, "affiliates.trial_to_paid", *MARCH, partner="a2") is None  # 0 / 0


def test_click_to_paid_below_the_benchmark_is_a_warning(store):
    load(
        store,
        partner("a1", "2026-01-01"),
        *clicks("a1", "2026-03-05", 200),
        identify("c1", "2026-03-06", referred_by="a1"),
        track("converted", "2026-03-15", user="c1", amount=99),
    )
    paid = ask(store, "affiliates.click_to_paid", *MARCH)
    assert paid["value"] == 0.5  # 1 / 200 (partner from c1's referred_by)
    assert paid["status"] == "warning"


def test_empty_window_gives_none_for_rates(store):
    load(store, *program())
    for metric in ("click_to_signup", "click_to_paid", "epc", "revenue_per_click"):
        assert value(store, f"affiliates.{metric}", "2025-06-30") is None, metric
    assert value(store, "affiliates.clicks", "2025-06-30") == 0


def test_time_zone_day_boundary(store):
    load(
        store,
        partner("a1", "2026-01-01"),
        *clicks("a1", "2026-02-28 23:30", 1),  # 1 March 00:30 in Berlin
        *clicks("a1", "2026-03-31 23:30", 1),  # 1 April 01:30 in Berlin
    )
    assert value(store, "affiliates.clicks", *MARCH) == 1  # UTC: the 31 March click
    assert value(store, "affiliates.clicks", *MARCH, tz="Europe/Berlin") == 1  # the 28 Feb one
    assert ask(store, "affiliates.clicks", *MARCH, tz="Europe/Berlin")["previous"] == 0


# -- money --------------------------------------------------------------------------------------


def test_revenue_commissions_epc_and_revenue_per_click(store):
    load(store, *program())
    revenue = ask(store, "affiliates.revenue", *MARCH)
    assert revenue["value"] == 90.0  # c1: 99 − 9 refund (c9's 40 is r1's)
    assert revenue["previous"] == 50.0  # c2 in February
    commissions = ask(store, "affiliates.commissions", *MARCH)
    assert commissions["value"] == 130.0  # a1: 100 milestone + 30 recurring (r1's 12 not)
    assert commissions["previous"] == 15.0
    assert value(store, "affiliates.epc", *MARCH) == 6.5  # 130 / 20 clicks
    assert value(store, "affiliates.revenue_per_click", *MARCH) == 4.5  # 90 / 20
    assert rows(ask(store, "affiliates.revenue", *MARCH, by="tier")) == {"elite": 90.0}
    assert value(store, "affiliates.epc", *MARCH, partner="a2") == 0.0  # 0 / 10


# -- fraud --------------------------------------------------------------------------------------


def test_flagged_referrals_and_their_reasons(store):
    load(
        store,
        partner("f1", "2026-01-01", email="Fay@FayCo.com"),
        partner("f2", "2026-01-01", email="gus@gmail.com"),
        partner("r1", "2026-01-01", kind="referral", email="rex@rexco.com"),
        identify("x1", "2026-03-02", email="fay@fayco.com"),  # f1's own address
        signup("f1", "x1", "2026-03-02", ip="9.9.9.1"),
        identify("x2", "2026-03-02", email="joe@fayco.com"),  # f1's domain
        signup("f1", "x2", "2026-03-02", ip="9.9.9.2"),
        identify("x3", "2026-03-02", email="kim@gmail.com"),  # shared webmail: fine
        signup("f2", "x3", "2026-03-02", ip="9.9.9.3"),
        identify("y0", "2026-02-25", email="y0@a.com"),  # February, same IP as below
        signup("f2", "y0", "2026-02-25", ip="1.2.3.4"),
        *[signup("f2", f"y{i}", "2026-03-03", ip="1.2.3.4") for i in range(1, 5)],
        *[signup("f2", f"z{i}", "2026-03-03", ip="5.6.7.8") for i in range(4)],  # only 4
        identify("q1", "2026-03-04", email="q@rexco.com"),  # a referral partner's: no affiliate
        signup("r1", "q1", "2026-03-04", ip="7.7.7.7"),
    )
    flagged = ask(store, "affiliates.flagged_referrals", *MARCH)
    # x1 (email), x2 (domain), y1..y4 (1.2.3.4 has 5 sign-ups with y0) = 6; y0 is February's
    assert flagged["value"] == 6
    assert flagged["previous"] == 1  # y0
    assert rows(ask(store, "affiliates.flagged_referrals", *MARCH, by="partner")) == {
        "f1": 2,
        "f2": 4,
    }
    listed = table(store, "affiliates.flagged", *MARCH)
    assert [(r["customer_id"], r["reason"]) for r in listed] == [
        ("x1", "self_referral_email"),
        ("x2", "self_referral_domain"),
        ("y1", "shared_ip"),
        ("y2", "shared_ip"),
        ("y3", "shared_ip"),
        ("y4", "shared_ip"),
    ]
    assert listed[2]["ip"] == "1.2.3.4"
    assert len(table(store, "affiliates.flagged", *MARCH, partner="f1")) == 2


# -- tables -------------------------------------------------------------------------------------


def test_funnel_table(store):
    load(store, *program())
    got = {
        r["step"]: (r["count"], r["step_rate"], r["rate_from_clicks"])
        for r in table(store, "affiliates.funnel", *MARCH)
    }
    assert got == {
        "clicks": (20, 100, 100),
        "signups": (3, 15, 15),  # 3 / 20
        "trials": (2, 66.6667, 10),  # 2 / 3; 2 / 20
        "conversions": (1, 50, 5),  # 1 / 2; 1 / 20
    }
    empty = table(store, "affiliates.funnel", "2025-06-30", "last_30d")
    assert [(r["count"], r["step_rate"]) for r in empty] == [(0, None)] * 4


def test_leaderboard(store):
    load(store, *program(), group("a1", "2026-01-01", name="Ann Media"))
    board = table(store, "affiliates.leaderboard", *MARCH)
    assert [r["partner_id"] for r in board] == ["a1", "a2"]  # by revenue: 90, 0
    a1, a2 = board
    assert (a1["name"], a1["tier"], a1["referrals"], a1["conversions"]) == (
        "Ann Media",
        "elite",
        2,
        1,
    )
    assert (a1["revenue"], a1["commission"]) == (90, 130)
    assert a1["trend"] == 80  # revenue 90 vs 50 in February: +80 %
    assert (a2["referrals"], a2["revenue"], a2["trend"]) == (1, 0, None)
    assert [
        r["partner_id"] for r in table(store, "affiliates.leaderboard", *MARCH, partner="a2")
    ] == ["a2"]


def test_by_tier_table(store):
    load(store, *program())
    got = {r["tier"]: r for r in table(store, "affiliates.by_tier", *MARCH)}
    assert list(got) == ["partner", "power", "elite"]
    elite = got["elite"]
    # a1: member, active, 2 referrals, revenue 90, commissions 130
    assert [elite[k] for k in ("affiliates", "active", "referrals", "revenue", "commission")] == [
        1,
        1,
        2,
        90,
        130,
    ]
    assert [got["partner"][k] for k in ("affiliates", "active", "referrals")] == [1, 1, 1]
    assert got["power"]["affiliates"] == 0  # a3 was deactivated


def test_cohorts_table(store):
    load(
        store,
        partner("k1", "2025-01-15", program_tier="partner"),
        approved("k1", "2025-01-20"),
        partner("k2", "2025-01-20", program_tier="partner"),
        approved("k2", "2025-01-25"),
        deactivated("k2", "2025-03-01"),
        partner("k3", "2025-01-25", program_tier="partner"),  # never approved: left out
        partner("k4", "2025-06-10", program_tier="power"),
        approved("k4", "2025-06-12"),
        partner("r1", "2025-01-15", kind="referral"),
        approved("r1", "2025-01-20"),
    )
    got = table(store, "affiliates.cohorts", "2025-12-31", "last_30d")
    assert got == [
        # k1 active at 15 Feb / 15 Apr / 15 Jul; k2 at 20 Feb only; 12 months not reached yet
        {
            "cohort": "2025-01-01",
            "tier": "partner",
            "affiliates": 2,
            "active_1m": 100,
            "active_3m": 50,
            "active_6m": 50,
            "active_12m": None,
        },
        {
            "cohort": "2025-06-01",
            "tier": "power",
            "affiliates": 1,
            "active_1m": 100,
            "active_3m": 100,
            "active_6m": 100,  # 10 December is before the end of 31 December
            "active_12m": None,
        },
    ]


def test_milestone_progress():
    assert milestone_progress(0) == (None, 3, 3)
    assert milestone_progress(3) == (3, 10, 7)
    assert milestone_progress(24) == (10, 25, 1)
    assert milestone_progress(250) == (250, None, None)


def test_milestones_table(store):
    load(
        store,
        partner("m1", "2025-01-01", name="Mia"),
        partner("m2", "2025-01-01"),
        partner("m3", "2025-01-01"),
        partner("r1", "2025-01-01", kind="referral"),
        *[signup("m1", f"u{i}", "2025-06-01") for i in range(10)],  # all time, not the window
        signup("m1", "late", "2026-04-02"),  # after the end: not counted
        *[signup("m2", f"v{i}", "2026-03-01") for i in range(2)],
        signup("r1", "w", "2026-03-01"),
    )
    got = [
        (r["partner_id"], r["referrals"], r["last_milestone"], r["next_milestone"], r["missing"])
        for r in table(store, "affiliates.milestones", *MARCH)
    ]
    assert got == [
        ("m1", 10, 10, 25, 15),
        ("m2", 2, None, 3, 1),
        ("m3", 0, None, 3, 3),
    ]
    only = table(store, "affiliates.milestones", *MARCH, partner="m1")
    assert [(r["name"], r["referrals"]) for r in only] == [("Mia", 10)]
