"""revenue.* on hand-built datasets; every expected value is worked out by hand beside it.

Plans: basic $30 a month, pro $99 a month, annual $1200 a year (= $100 a month of MRR).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from messages import ask, fx_rate, identify, load, plan, rows, series, track, value
from pulse.metrics import CATALOG
from pulse.metrics.engine import Engine
from pulse.metrics.tables import TableQuery, evaluate_table

FEB = ("2026-02-28", "this_month")
Q1 = ("2026-03-31", "2026-01-01..2026-03-31")

PLANS = (
    plan("basic", "2026-01-01", price=30, interval="month", cost_per_credit=0.05),
    plan("pro", "2026-01-01", price=99, interval="month", cost_per_credit=0.02),
    plan("annual", "2026-01-01", price=1200, interval="year"),
)


def customer(user: str, when: str, status: str = "active", **traits: Any) -> dict[str, Any]:
    return identify(user, when, status=status, **traits)


def started(user: str, when: str, plan_id: str, **props: Any) -> dict[str, Any]:
    return track("subscription_started", when, user=user, plan_id=plan_id, **props)


def changed(user: str, when: str, plan_id: str, **props: Any) -> dict[str, Any]:
    return track("subscription_changed", when, user=user, plan_id=plan_id, **props)


def cancelled(user: str, when: str) -> dict[str, Any]:
    return track("subscription_cancelled", when, user=user)


def moved(user: str, when: str, to: str) -> dict[str, Any]:
    return track("status_changed", when, user=user, to=to)


def paid(user: str, when: str, amount: float, **props: Any) -> dict[str, Any]:
    return track("invoice_paid", when, user=user, amount=amount, kind="subscription", **props)


def refunded(user: str, when: str, amount: float) -> dict[str, Any]:
    return track("refund_issued", when, user=user, amount=amount)


def table(store, table_id: str, as_of: str, window: str = "last_30d", **options: Any) -> Any:
    """A catalog table's rows, as the CLI and API return them."""
    query = TableQuery(table_id, date.fromisoformat(as_of), window, **options)
    return evaluate_table(Engine(store, CATALOG), query)["rows"]


# -- revenue ------------------------------------------------------------------------------------


def test_revenue_is_invoices_minus_refunds_in_the_reporting_currency(store):
    load(
        store,
        fx_rate("EUR", "2026-02-03", 1.1),
        customer("r1", "2026-01-02", partner_id="p1"),
        customer("r2", "2026-01-02"),
        paid("r1", "2026-01-03", 100),
        paid("r1", "2026-02-03", 100),
        paid("r2", "2026-02-03", 50, currency="EUR"),  # 50 EUR × 1.1 = 55 USD
        refunded("r1", "2026-02-10", 20),
        paid("r2", "2026-02-04", 40, currency="EUR"),  # no EUR rate for Feb 4: left out
    )
    answer = ask(store, "revenue.total", *FEB)
    assert answer["value"] == 135.0  # 100 + 55 − 20 (the 40 EUR without a rate is left out)
    assert answer["previous"] == 100.0  # January: r1's 100
    assert answer["change_pct"] == 35.0  # (135 − 100) / 100
    assert answer["unit"] == "money"
    # p1's customer r1 only: 100 − 20 = 80
    assert value(store, "revenue.total", *FEB, partner="p1") == 80.0


def test_monthly_and_cumulative_revenue_series(store):
    load(
        store,
        customer("r1", "2026-01-02"),
        paid("r1", "2026-01-15", 100),
        paid("r1", "2026-02-15", 50),
        paid("r1", "2026-03-15", 25),
        refunded("r1", "2026-03-20", 10),
    )
    monthly = ask(store, "revenue.total", *Q1, series="month")
    assert series(monthly) == [("2026-01-01", 100), ("2026-02-01", 50), ("2026-03-01", 15)]
    running = ask(store, "revenue.total", *Q1, series="month", cumulative=True)
    assert series(running) == [("2026-01-01", 100), ("2026-02-01", 150), ("2026-03-01", 165)]


def test_local_day_boundary_follows_the_reporting_time_zone(store):
    # 23:30 UTC on Jan 31 is 00:30 on Feb 1 in Berlin
    load(store, customer("r1", "2026-01-02"), paid("r1", "2026-01-31 23:30", 70))
    assert value(store, "revenue.total", *FEB) == 0  # UTC: January
    berlin = ask(store, "revenue.total", *FEB, tz="Europe/Berlin")
    assert (berlin["value"], berlin["previous"]) == (70.0, 0)


def test_revenue_growth_rate_against_the_previous_window(store):
    load(
        store,
        customer("r1", "2025-10-01"),
        paid("r1", "2025-11-15", 180),
        paid("r1", "2026-01-15", 100),
        paid("r1", "2026-02-15", 130),
    )
    february = ask(store, "revenue.growth_rate", *FEB)
    # Feb 130 vs Jan 100 → +30.0 ≥ 15 × 28/30 = 14 → healthy
    assert (february["value"], february["status"]) == (30.0, "healthy")
    assert february["previous"] is None  # Jan 100 vs Dec 0: division by zero
    quarter = ask(store, "revenue.growth_rate", "2026-03-31", "last_3m")
    # Jan 1..Mar 31 = 230 vs Oct 3..Dec 31 = 180 → +27.7778; per month × 3: healthy ≥ 45,
    # warning < 15 → neutral (the same growth in 30 days would be healthy)
    assert (quarter["value"], quarter["status"]) == (27.7778, "neutral")
    march = ask(store, "revenue.growth_rate", "2026-03-31", "this_month")
    # Mar 0 vs Feb 130 → −100.0 < 5 × 31/30 → warning; February's growth is the previous
    assert (march["value"], march["status"], march["previous"]) == (-100.0, "warning", 30.0)


# -- MRR ----------------------------------------------------------------------------------------


def test_mrr_from_plan_price_annual_plan_and_mrr_property(store):
    load(
        store,
        *PLANS,
        customer("r1", "2026-01-02"),
        started("r1", "2026-01-02", "basic"),  # plan price: 30
        customer("r2", "2026-01-02"),
        started("r2", "2026-01-02", "annual"),  # 1200 a year / 12 = 100
        customer("r3", "2026-01-02"),
        started("r3", "2026-01-02", "basic", mrr=25),  # the mrr property wins: 25
    )
    answer = ask(store, "revenue.mrr", "2026-01-31", "this_month", by="plan")
    assert answer["value"] == 155.0  # 30 + 100 + 25
    assert rows(answer) == {"annual": 100.0, "basic": 55.0}  # basic: 30 + 25
    assert answer["previous"] == 0  # nothing at Dec 31
    arr = ask(store, "revenue.arr", "2026-01-31", "this_month")
    assert arr["value"] == 1860.0  # 155 × 12


def test_mrr_excludes_trials_cancelled_subscriptions_and_churned_customers(store):
    load(
        store,
        *PLANS,
        customer("t1", "2026-01-05", status="trial"),
        started("t1", "2026-01-05", "pro"),  # a trial: no MRR until it converts
        moved("t1", "2026-02-15", to="active"),  # converts: 99
        customer("k1", "2026-01-05"),
        started("k1", "2026-01-05", "basic"),  # 30 in January
        cancelled("k1", "2026-02-10"),  # subscription cancelled (status left active)
        customer("k2", "2026-01-05"),
        started("k2", "2026-01-05", "basic"),  # 30 in January
        moved("k2", "2026-02-20", to="churned"),  # customer churned (no cancel event)
    )
    daily = ask(store, "revenue.mrr", "2026-02-28", "2026-02-01..2026-02-28", series="day")
    assert daily["value"] == 99.0  # Feb 28: t1 only
    assert daily["previous"] == 60.0  # Jan 31: k1 30 + k2 30 (t1 in trial)
    assert daily["change_pct"] == 65.0  # (99 − 60) / 60
    got = dict(series(daily))
    assert got["2026-02-09"] == 60.0  # k1 + k2
    assert got["2026-02-10"] == 30.0  # k1 cancelled → k2
    assert got["2026-02-15"] == 129.0  # t1 converted: 30 + 99
    assert got["2026-02-20"] == 99.0  # k2 churned


def movement_story() -> list[dict[str, Any]]:
    """February 2026: one subscription per kind of MRR movement."""
    return [
        *PLANS,
        customer("r1", "2026-01-02"),
        started("r1", "2026-01-02", "basic"),
        changed("r1", "2026-02-12", "pro"),  # expansion 30 → 99: +69
        customer("r3", "2026-01-02"),
        started("r3", "2026-01-02", "basic", mrr=25),
        changed("r3", "2026-02-18", "basic", mrr=20),  # contraction 25 → 20: −5
        customer("r4", "2026-01-10", status="trial"),
        started("r4", "2026-01-10", "pro"),
        moved("r4", "2026-02-15", to="active"),  # trial converts: new +99
        customer("r5", "2026-01-05"),
        started("r5", "2026-01-05", "basic"),
        cancelled("r5", "2026-02-10"),  # churned −30
        # r6 pays in January, leaves on Jan 20 and comes back on Feb 5: reactivation +30
        customer("r6", "2026-01-03"),
        started("r6", "2026-01-03", "basic"),
        cancelled("r6", "2026-01-20"),
        moved("r6", "2026-01-20", to="churned"),
        moved("r6", "2026-02-05", to="active"),
        started("r6", "2026-02-05", "basic"),
        customer("r7", "2026-02-20"),
        started("r7", "2026-02-20", "annual"),  # new +100
    ]


def test_mrr_movements_by_kind(store):
    load(store, *movement_story())
    # Each subscription's MRR at the window's start is compared with its MRR at the end
    # (a subscription that churned and came back within one window shows no movement).
    answer = ask(store, "revenue.mrr_movements", *FEB, by="movement")
    assert rows(answer) == {
        "new": 199.0,  # r4 99 + r7 100
        "expansion": 69.0,  # r1
        "contraction": -5.0,  # r3
        "churned": -30.0,  # r5
        "reactivation": 30.0,  # r6
    }
    # net new MRR 199 + 69 − 5 − 30 + 30 = 263 = MRR Feb 28 (99+20+99+30+100 = 348)
    #                                            − MRR Jan 31 (r1 30 + r3 25 + r5 30 = 85)
    assert answer["value"] == 263.0
    # January: r1 30 + r3 25 + r5 30 new (r6 came and went: 0 at both ends) = 85
    assert answer["previous"] == 85.0
    assert answer["change_pct"] == 209.4118  # (263 − 85) / 85
    mrr = ask(store, "revenue.mrr", *FEB)
    assert (mrr["value"], mrr["previous"]) == (348.0, 85.0)


def test_mrr_monthly_series_for_one_partner(store):
    load(
        store,
        *PLANS,
        customer("r1", "2026-01-02", partner_id="p1"),
        started("r1", "2026-01-02", "basic"),
        customer("r2", "2026-02-02"),
        started("r2", "2026-02-02", "pro"),
        changed("r1", "2026-03-02", "pro"),
    )
    p1 = ask(store, "revenue.mrr", *Q1, series="month", partner="p1")
    # p1's customer r1 only (r2 is direct): Jan 31: 30 · Feb 28: 30 · Mar 31: 99 on pro
    assert series(p1) == [("2026-01-01", 30), ("2026-02-01", 30), ("2026-03-01", 99)]


def test_mrr_counts_while_the_status_is_not_yet_known(store):
    load(
        store,
        *PLANS,
        identify("r1", "2026-01-02", email="r1@example.com"),  # no status trait yet
        started("r1", "2026-01-02", "basic"),
        moved("r1", "2026-03-10", to="cancelled"),  # its first status, on Mar 10
        cancelled("r1", "2026-03-10"),
        identify("r2", "2026-01-02", email="r2@example.com"),  # never any status
        started("r2", "2026-01-02", "basic"),
    )
    answer = ask(store, "revenue.mrr", *Q1, series="month")
    # r1 pays 30 from Jan 2 until it cancels on Mar 10; r2 pays 30 throughout
    assert series(answer) == [("2026-01-01", 60), ("2026-02-01", 60), ("2026-03-01", 30)]


# -- per customer and margin --------------------------------------------------------------------


def test_revenue_per_customer_is_normalised_to_30_days(store):
    load(
        store,
        *[customer(f"a{i}", "2026-01-02") for i in (1, 2, 3)],
        customer("i1", "2026-01-02", status="inactive"),  # not an active customer
        paid("a3", "2026-01-10", 90),
        paid("a2", "2026-02-10", 90),
        paid("a1", "2026-03-20", 360),
    )
    month = ask(store, "revenue.per_customer", "2026-03-31", "last_30d")
    # Mar 2..31: 360 / 3 active = 120.0 → healthy (> 100)
    assert (month["value"], month["status"], month["unit"]) == (120.0, "healthy", "money_per_month")
    quarter = ask(store, "revenue.per_customer", "2026-03-31", "last_3m")
    # Jan 1..Mar 31: 540 / 3 × 30/90 = 60.0 → neutral
    assert (quarter["value"], quarter["status"]) == (60.0, "neutral")
    february = ask(store, "revenue.per_customer", *FEB)
    # 90 / 3 × 30/28 = 32.1429 → warning (< 50); January: 90 / 3 × 30/31 = 29.0323
    assert (february["value"], february["status"]) == (32.1429, "warning")
    assert february["previous"] == 29.0323


def test_profit_margin_by_plan(store):
    load(
        store,
        *PLANS,
        customer("b1", "2026-01-02", plan_id="basic"),
        customer("p1", "2026-01-02", plan_id="pro"),
        paid("b1", "2026-02-05", 200),
        paid("p1", "2026-02-05", 100),
        track("credits_consumed", "2026-02-10", user="b1", credits=1000, source="generation"),
        track("credits_consumed", "2026-02-10", user="p1", credits=4500, source="message"),
        # b1 moves to pro in March: February's credits were consumed on basic and keep its cost
        changed("b1", "2026-03-01", "pro"),
    )
    answer = ask(store, "revenue.profit_margin", *FEB, by="plan")
    # cost: b1 1000 × 0.05 = 50, p1 4500 × 0.02 = 90 → (300 − 140) / 300 = 53.3333 → healthy
    assert (answer["value"], answer["status"]) == (53.3333, "healthy")
    by_key = {row["key"]: (row["value"], row["status"]) for row in answer["rows"]}
    assert by_key == {
        "basic": (75.0, "healthy"),  # (200 − 50) / 200
        "pro": (10.0, "warning"),  # (100 − 90) / 100 < 20
    }
    assert answer["previous"] is None  # no revenue in January: division by zero


def test_empty_store_gives_zero_money_and_no_ratios(store):
    for metric in ("revenue.total", "revenue.mrr_movements"):
        assert value(store, metric, *FEB) == 0, metric
    # no revenue, no active customers, nothing before: every ratio divides by zero
    for metric in ("revenue.per_customer", "revenue.profit_margin", "revenue.growth_rate"):
        answer = ask(store, metric, *FEB)
        assert (answer["value"], answer["status"]) == (None, None), metric


# -- tables: movements, NRR cohorts, revenue by plan --------------------------------------------


def test_movements_table_shows_the_catalog_amounts_and_customers_moving(store):
    load(
        store,
        *movement_story(),
        # m1 starts two subscriptions in February: two new subscriptions, one new customer
        customer("m1", "2026-02-03"),
        started("m1", "2026-02-03", "basic", subscription_id="m1a"),
        started("m1", "2026-02-04", "basic", subscription_id="m1b", mrr=10),
    )
    got = {
        row["movement"]: (row["amount"], row["customers"])
        for row in table(store, "revenue.movements", *FEB)
    }
    assert got == {
        "new": (239.0, 3),  # r4 99 + r7 100 + m1 30 + 10 → customers r4, r7, m1 (once)
        "expansion": (69.0, 1),  # r1
        "contraction": (-5.0, 1),  # r3
        "churned": (-30.0, 1),  # r5
        "reactivation": (30.0, 1),  # r6
    }
    # the amounts are the catalog's revenue.mrr_movements by movement
    assert rows(ask(store, "revenue.mrr_movements", *FEB, by="movement"))["new"] == 239.0


def test_movements_table_for_one_partner_and_an_empty_window(store):
    load(
        store,
        *PLANS,
        customer("a1", "2026-01-02", partner_id="p1"),
        started("a1", "2026-02-02", "basic"),  # p1: new 30
        customer("b1", "2026-01-02"),
        started("b1", "2026-02-02", "pro"),  # direct: not p1's
    )
    p1 = table(store, "revenue.movements", *FEB, partner="p1")
    assert [(r["movement"], r["amount"], r["customers"]) for r in p1] == [
        ("new", 30, 1),
        ("expansion", 0, 0),
        ("contraction", 0, 0),
        ("churned", 0, 0),
        ("reactivation", 0, 0),
    ]
    january = table(store, "revenue.movements", "2026-01-31", "this_month")
    assert [(r["amount"], r["customers"]) for r in january] == [(0, 0)] * 5  # nothing moved


def retention_story() -> list[dict[str, Any]]:
    """Paying at Feb 1: a1, a2 (January sign-ups, partner p1), a3, a4 (December sign-ups)."""
    return [
        *PLANS,
        customer("a1", "2026-01-05", partner_id="p1"),
        started("a1", "2026-01-05", "basic"),  # 30 at S
        changed("a1", "2026-02-10", "pro"),  # 99 at E: expansion
        customer("a2", "2026-01-06", partner_id="p1"),
        started("a2", "2026-01-06", "basic", mrr=50),  # 50 at S
        changed("a2", "2026-02-12", "basic", mrr=40),  # 40 at E: contraction
        customer("a3", "2025-12-10"),
        started("a3", "2025-12-10", "pro"),  # 99 at S
        cancelled("a3", "2026-02-15"),  # 0 at E: churned
        customer("a4", "2025-12-11"),
        started("a4", "2025-12-11", "basic"),  # 30 at S
        changed("a4", "2026-02-20", "pro"),  # 99 at E
        # not paying at S, so in no cohort: n1 starts in February, t1 is in trial at S
        customer("n1", "2026-02-03"),
        started("n1", "2026-02-03", "basic"),
        customer("t1", "2026-01-20", status="trial"),
        started("t1", "2026-01-20", "pro"),
        moved("t1", "2026-02-20", to="active"),
    ]


def test_nrr_and_grr_by_signup_month(store):
    load(store, *retention_story())
    got = {row["cohort"]: row for row in table(store, "revenue.nrr_cohorts", *FEB)}
    assert list(got) == ["2025-12", "2026-01", "total"]
    # December: a3 99 → 0, a4 30 → 99: NRR 99 / 129 = 76.7442; GRR min(99, 0) + min(30, 99)
    # = 30 / 129 = 23.2558
    assert got["2025-12"] == {
        "cohort": "2025-12",
        "customers": 2,
        "mrr_start": 129,
        "mrr_end": 99,
        "nrr": 76.7442,
        "grr": 23.2558,
    }
    # January: a1 30 → 99, a2 50 → 40: NRR 139 / 80 = 173.75; GRR (30 + 40) / 80 = 87.5
    jan = got["2026-01"]
    assert (jan["customers"], jan["mrr_start"], jan["mrr_end"]) == (2, 80, 139)
    assert (jan["nrr"], jan["grr"]) == (173.75, 87.5)
    # all four: 238 / 209 = 113.8756; GRR (0 + 30 + 30 + 40) / 209 = 47.8469
    total = got["total"]
    assert (total["customers"], total["mrr_start"], total["mrr_end"]) == (4, 209, 238)
    assert (total["nrr"], total["grr"]) == (113.8756, 47.8469)


def test_nrr_for_one_partner_and_without_paying_customers(store):
    load(store, *retention_story())
    p1 = table(store, "revenue.nrr_cohorts", *FEB, partner="p1")
    # p1's a1 and a2 only: the January cohort is the total
    assert [(r["cohort"], r["customers"], r["nrr"], r["grr"]) for r in p1] == [
        ("2026-01", 2, 173.75, 87.5),
        ("total", 2, 173.75, 87.5),
    ]
    # at Dec 1, 2025 nobody pays yet: no cohort, and the total divides by zero
    december = table(store, "revenue.nrr_cohorts", "2025-12-31", "this_month")
    assert december == [
        {
            "cohort": "total",
            "customers": 0,
            "mrr_start": 0,
            "mrr_end": 0,
            "nrr": None,
            "grr": None,
        }
    ]


def test_revenue_by_plan_combines_the_catalog_numbers(store):
    load(
        store,
        plan("basic", "2026-01-01", name="Basic", price=30, interval="month", cost_per_credit=0.05),
        plan("pro", "2026-01-01", name="Pro", price=99, interval="month", cost_per_credit=0.02),
        customer("b1", "2026-01-02", plan_id="basic"),
        started("b1", "2026-01-02", "basic"),
        customer("p1", "2026-01-02", plan_id="pro", partner_id="x"),
        started("p1", "2026-01-02", "pro"),
        customer("i1", "2026-01-02"),  # active, no plan, no revenue
        paid("b1", "2026-02-05", 200),
        paid("p1", "2026-02-05", 100),
        track("credits_consumed", "2026-02-10", user="b1", credits=1000, source="generation"),
        track("credits_consumed", "2026-02-10", user="p1", credits=4500, source="message"),
    )
    got = table(store, "revenue.by_plan", *FEB)
    assert [row["plan_id"] for row in got] == ["basic", "pro", None]  # by revenue, then none
    assert got[0] == {
        "plan_id": "basic",
        "plan": "Basic",
        "customers": 1,  # b1 active
        "revenue": 200,
        "mrr": 30,
        "revenue_per_customer": 214.2857,  # 200 / 1 × 30 / 28
        "profit_margin": 75.0,  # (200 − 1000 × 0.05) / 200
    }
    assert got[1]["revenue_per_customer"] == 107.1429  # 100 / 1 × 30 / 28
    assert (got[1]["mrr"], got[1]["profit_margin"]) == (99, 10.0)  # (100 − 4500 × 0.02) / 100
    # i1, active without a plan: 0 revenue / 1 customer = 0.0 ARPC; margin 0 / 0 → None
    assert got[2] == {
        "plan_id": None,
        "plan": "No plan",
        "customers": 1,
        "revenue": 0,
        "mrr": 0,
        "revenue_per_customer": 0.0,
        "profit_margin": None,
    }
    x = table(store, "revenue.by_plan", *FEB, partner="x")
    assert [(r["plan_id"], r["revenue"]) for r in x] == [("pro", 100)]


@pytest.mark.parametrize(
    "table_id", ["revenue.movements", "revenue.nrr_cohorts", "revenue.by_plan"]
)
def test_revenue_tables_run_on_an_empty_store(store, table_id):
    assert isinstance(table(store, table_id, *FEB), list)


# -- per-movement MRR, NRR and GRR (with the engine's Movements.only) ----------------------------


def test_each_movement_kind_is_its_own_metric(store):
    load(store, *movement_story())
    # the same numbers as revenue.mrr_movements by movement (test_mrr_movements_by_kind)
    got = {
        kind: value(store, f"revenue.{kind}_mrr", *FEB)
        for kind in ("new", "expansion", "contraction", "churned", "reactivation")
    }
    assert got == {
        "new": 199.0,  # r4 99 + r7 100
        "expansion": 69.0,  # r1
        "contraction": -5.0,  # r3
        "churned": -30.0,  # r5
        "reactivation": 30.0,  # r6
    }
    new = ask(store, "revenue.new_mrr", *FEB)
    assert new["previous"] == 85.0  # January: r1 30 + r3 25 + r5 30


def test_nrr_and_grr_metrics_match_the_cohort_table_total(store):
    load(store, *retention_story())
    nrr = ask(store, "revenue.nrr", *FEB)
    # paying at Feb 1: a1 30, a2 50, a3 99, a4 30 = 209; at Feb 28: 99 + 40 + 0 + 99 = 238
    assert nrr["value"] == 113.8756  # 238 / 209
    assert nrr["previous"] == 100.0  # January: a3 99 + a4 30 at Jan 1, the same at Jan 31
    grr = ask(store, "revenue.grr", *FEB)
    assert grr["value"] == 47.8469  # (30 + 40 + 0 + 30) / 209
    total = table(store, "revenue.nrr_cohorts", *FEB)[-1]
    assert (total["nrr"], total["grr"]) == (nrr["value"], grr["value"])
    assert value(store, "revenue.nrr", *FEB, partner="p1") == 173.75  # a1, a2: 139 / 80
    assert value(store, "revenue.nrr", "2025-12-31", "this_month") is None  # nobody at Dec 1
