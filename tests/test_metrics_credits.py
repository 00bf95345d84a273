"""credits.* on hand-built datasets; every expected value is worked out by hand beside it.

Credits are bought by partners (in bulk) or by customers, handed on by partners with
`credits_allocated` (to a customer or an occasion), then consumed or left to expire.
"""

from __future__ import annotations

from typing import Any

from messages import ask, group, identify, load, rows, series, track, value

FEB = ("2026-02-28", "this_month")
Q1 = ("2026-03-31", "2026-01-01..2026-03-31")


def bought(
    credits: float, when: str, user: str | None = None, partner: str | None = None
) -> dict[str, Any]:
    return track(
        "credits_purchased", when, user=user, group=partner, credits=credits, amount=credits / 2
    )


def allocated(credits: float, when: str, partner: str, to: str) -> dict[str, Any]:
    return track("credits_allocated", when, group=partner, credits=credits, to=to)


def used(credits: float, when: str, user: str) -> dict[str, Any]:
    return track("credits_consumed", when, user=user, credits=credits, source="generation")


def channel() -> list[dict[str, Any]]:
    """Partner p1 buys 1000 and hands 500 to its customers c1, c2; d1 is a B2C customer."""
    return [
        group("p1", "2026-01-01", name="Agency One", kind="reseller"),
        identify("c1", "2026-01-10", status="active", partner_id="p1", plan_id="basic"),
        identify("c2", "2026-01-10", status="active", partner_id="p1", plan_id="basic"),
        identify("d1", "2026-01-10", status="active", plan_id="pro"),
        bought(1000, "2026-02-02", partner="p1"),
        allocated(300, "2026-02-03", "p1", to="c1"),
        allocated(200, "2026-02-04", "p1", to="c2"),
        bought(100, "2026-02-05", user="d1"),
        used(150, "2026-02-10", "c1"),
        used(50, "2026-02-11", "c2"),
        used(80, "2026-02-12", "d1"),
        track("credits_expired", "2026-02-25", user="c1", credits=50),
        used(100, "2026-03-05", "c1"),
    ]


# -- flows in the window ------------------------------------------------------------------------


def test_flows_sum_credits_in_the_window_by_plan_and_partner(store):
    load(store, *channel())
    purchased = ask(store, "credits.purchased", *FEB)
    assert purchased["value"] == 1100  # p1's 1000 + d1's 100
    assert (purchased["previous"], purchased["change_pct"]) == (0, None)  # nothing in January
    assert purchased["unit"] == "credits"
    assert value(store, "credits.allocated", *FEB) == 500  # 300 to c1 + 200 to c2
    assert value(store, "credits.expired", *FEB) == 50  # c1's 50 on Feb 25
    consumed = ask(store, "credits.consumed", "2026-03-31", "this_month", by="plan")
    # March: c1's 100; February: 150 + 50 + 80 = 280 → (100 − 280) / 280 = −64.2857 %
    assert (consumed["value"], consumed["previous"]) == (100, 280)
    assert consumed["change_pct"] == -64.2857
    # by plan as of Mar 31: basic = c1 (100 now; c1 150 + c2 50 = 200 before), pro = d1
    by_key = {row["key"]: (row["value"], row["previous"]) for row in consumed["rows"]}
    assert by_key == {"basic": (100, 200), "pro": (0, 80)}
    # partner filter: p1's customers' use counts for p1: c1 150 + c2 50
    assert value(store, "credits.consumed", *FEB, partner="p1") == 200


def test_consumers_and_credits_per_customer(store):
    load(store, *channel())
    assert value(store, "credits.consumers", *FEB) == 3  # c1, c2, d1
    per_customer = ask(store, "credits.per_customer", *FEB)
    assert per_customer["value"] == 93.3333  # 280 consumed / 3 consumers
    assert per_customer["unit"] == "credits_per_customer"


# -- balances -----------------------------------------------------------------------------------


def test_balance_counts_allocations_in_and_out_up_to_the_end(store):
    load(store, *channel())
    answer = ask(store, "credits.balance", *FEB, by="partner")
    # purchased 1100 + allocated-in 500 − consumed 280 − expired 50 − allocated-out 500 = 770
    assert answer["value"] == 770
    assert answer["previous"] == 0  # nothing held at Jan 31
    # p1: 1000 + 500 in − 500 out − 150 − 50 used − 50 expired = 750; B2C d1: 100 − 80 = 20
    assert rows(answer) == {"p1": 750, None: 20}
    march = ask(store, "credits.balance", "2026-03-31", "this_month", partner="p1")
    # p1 in March: 750 − c1's 100 = 650 (all time up to Mar 31), against 750 at Feb 28
    assert (march["value"], march["previous"]) == (650, 750)
    assert march["change_pct"] == -13.3333  # (650 − 750) / 750


def test_platform_grants_of_plan_credits_reach_the_customer_and_leave_no_holder(store):
    load(
        store,
        *channel(),
        # the platform grants d1 its plan's 400 monthly credits: sent about d1, from no partner
        track("credits_allocated", "2026-02-01", user="d1", credits=400, to="d1"),
    )
    answer = ask(store, "credits.balance", *FEB, by="partner")
    # as before (770) + 400 granted to d1; no allocated-out for the grant
    assert answer["value"] == 1170
    assert rows(answer) == {"p1": 750, None: 420}  # d1: 100 + 400 − 80
    # utilisation: consumed 280 / (purchased by customers 100 + allocated to customers 900)
    assert value(store, "credits.utilization", *FEB) == 28
    assert value(store, "credits.in_channels", *FEB) == 500  # p1 only, unchanged


def test_balance_series_by_month_is_the_running_total(store):
    load(store, *channel())
    answer = ask(store, "credits.balance", *Q1, series="month")
    # Jan 31: 0 · Feb 28: 770 · Mar 31: 770 − 100 = 670
    assert series(answer) == [("2026-01-01", 0), ("2026-02-01", 770), ("2026-03-01", 670)]
    consumed = ask(store, "credits.consumed", *Q1, series="month", cumulative=True)
    # monthly 0, 280, 100 → cumulated 0, 280, 380
    assert series(consumed) == [("2026-01-01", 0), ("2026-02-01", 280), ("2026-03-01", 380)]


def test_credits_in_channels_are_partner_purchases_not_yet_allocated(store):
    load(
        store,
        *channel(),
        bought(200, "2026-02-06", partner="p2"),
        allocated(50, "2026-02-07", "p2", to="o1"),  # to an occasion, not a customer
    )
    answer = ask(store, "credits.in_channels", *FEB, by="partner")
    # p1: 1000 − 500 allocated = 500; p2: 200 − 50 = 150 (d1's own purchase is not a channel)
    assert rows(answer) == {"p1": 500, "p2": 150}
    assert (answer["value"], answer["previous"]) == (650, 0)
    assert answer["status"] is None
    # consumption does not take credits out of the channel: still 500 for p1 in March
    assert value(store, "credits.in_channels", "2026-03-31", "this_month", partner="p1") == 500


# -- ratios and health --------------------------------------------------------------------------


def test_utilization_is_consumed_over_credits_received_by_customers(store):
    load(store, *channel())
    answer = ask(store, "credits.utilization", *FEB)
    # consumed 280 / (customer purchases 100 + allocated to customers 500) → 46.6667;
    # p1's bulk purchase is not counted: it reaches customers through the allocations
    assert answer["value"] == 46.6667
    assert answer["status"] == "neutral"  # between 40 and 70
    assert answer["previous"] is None  # January: 0 / 0


def test_utilization_health_and_division_by_zero(store):
    load(
        store,
        identify("u1", "2026-01-02", status="active"),
        bought(100, "2026-01-03", user="u1"),
        used(80, "2026-01-20", "u1"),
        bought(100, "2026-02-03", user="u1"),
        used(10, "2026-02-20", "u1"),
        used(5, "2026-03-03", "u1"),  # March: consumption but nothing received
    )
    january = ask(store, "credits.utilization", "2026-01-31", "this_month")
    assert (january["value"], january["status"]) == (80.0, "healthy")  # 80 / 100 > 70
    february = ask(store, "credits.utilization", *FEB)
    assert (february["value"], february["status"]) == (10.0, "warning")  # 10 / 100 < 40
    assert february["change_pct"] == -87.5  # (10 − 80) / 80
    march = ask(store, "credits.utilization", "2026-03-31", "this_month")
    assert (march["value"], march["status"], march["previous"]) == (None, None, 10.0)  # 5 / 0


def test_consumption_ratio_is_all_time_partner_consumed_over_purchased(store):
    load(
        store,
        identify("c1", "2026-01-02", status="active", partner_id="p1"),
        identify("d1", "2026-01-02", status="active"),  # B2C: not a partner channel
        bought(1000, "2026-01-05", partner="p1"),
        allocated(1000, "2026-01-06", "p1", to="c1"),
        used(400, "2026-01-20", "c1"),
        used(300, "2026-02-10", "c1"),
        used(200, "2026-03-10", "c1"),
        used(60, "2026-04-10", "c1"),
        bought(100, "2026-02-01", user="d1"),
        used(100, "2026-02-02", "d1"),
    )
    february = ask(store, "credits.consumption_ratio", *FEB)
    # all time to Feb 28: (400 + 300) / 1000 = 70.0 → healthy (60–80); Jan 31: 400 / 1000
    assert (february["value"], february["status"], february["previous"]) == (70.0, "healthy", 40.0)
    march = ask(store, "credits.consumption_ratio", "2026-03-31", "this_month")
    assert (march["value"], march["status"]) == (90.0, "neutral")  # 900 / 1000: 80 < 90 ≤ 95
    april = ask(store, "credits.consumption_ratio", "2026-04-30", "this_month", by="partner")
    assert (april["value"], april["status"]) == (96.0, "warning")  # 960 / 1000 > 95
    assert rows(april) == {"p1": 96.0}  # d1's B2C credits are in no partner's ratio


def test_local_day_boundary_follows_the_reporting_time_zone(store):
    # 23:30 UTC on Jan 31 is 00:30 on Feb 1 in Berlin
    load(store, identify("u1", "2026-01-02"), used(30, "2026-01-31 23:30", "u1"))
    assert value(store, "credits.consumed", *FEB) == 0  # UTC: January
    berlin = ask(store, "credits.consumed", *FEB, tz="Europe/Berlin")
    assert (berlin["value"], berlin["previous"]) == (30, 0)


def test_empty_store_gives_zero_credits_and_no_ratios(store):
    for metric in (
        "credits.purchased",
        "credits.consumers",
        "credits.balance",
        "credits.in_channels",
    ):
        assert value(store, metric, *FEB) == 0, metric
    for metric in ("credits.utilization", "credits.per_customer", "credits.consumption_ratio"):
        answer = ask(store, metric, *FEB)
        assert (answer["value"], answer["status"]) == (None, None), metric
