"""finance.* on hand-built datasets; every expected value is worked out by hand beside it."""

from __future__ import annotations

from datetime import date
from typing import Any

from messages import ask, fx_rate, group, identify, load, rows, track, value
from pulse.metrics import CATALOG
from pulse.metrics.engine import Engine
from pulse.metrics.tables import TableQuery, evaluate_table

FEB = ("2026-02-28", "this_month")


def table(store: Any, table_id: str, as_of: str, window: str = "this_month", **opts: Any) -> Any:
    query = TableQuery(table_id, date.fromisoformat(as_of), window, **opts)
    return evaluate_table(Engine(store, CATALOG), query)["rows"]


def paid(user: str, when: str, amount: float, **props: Any) -> dict[str, Any]:
    return track("invoice_paid", when, user=user, amount=amount, kind="subscription", **props)


def earned(partner: str, when: str, amount: float, kind: str = "recurring") -> dict[str, Any]:
    return track(
        "commission_earned", when, group=partner, partner_id=partner, amount=amount, kind=kind
    )


def reversed_(partner: str, when: str, amount: float) -> dict[str, Any]:
    return track("commission_reversed", when, group=partner, partner_id=partner, amount=amount)


def payout(partner: str, when: str, amount: float) -> dict[str, Any]:
    return track("payout_sent", when, group=partner, partner_id=partner, amount=amount)


def spend(when: str, channel: str, amount: float) -> dict[str, Any]:
    return track("spend_recorded", when, group="platform", channel=channel, amount=amount)


REVENUE = (
    identify("a1", "2026-01-05", status="active", channel="affiliate", partner_id="p1"),
    identify("d1", "2026-01-05", status="active", channel="direct"),
    identify("o1", "2026-01-05", status="active", channel="organic"),
    identify("r1", "2026-01-05", status="active", channel="referral", referred_by="p3"),
    paid("a1", "2026-02-03", 100),
    paid("r1", "2026-02-03", 50),  # referred by p3, not its customer: still partner-sourced
    paid("d1", "2026-02-04", 300),
    paid("o1", "2026-02-05", 200),
    track("refund_issued", "2026-02-06", user="d1", amount=50),
)


def test_revenue_by_channel_and_partner_share(store):
    load(store, *REVENUE)
    # total 100 + 50 + 300 + 200 − 50 = 600; partner-sourced: a1's 100 + r1's 50
    partner = ask(store, "finance.partner_revenue", *FEB, by="partner")
    assert (partner["value"], rows(partner)) == (150, {"p1": 100, "p3": 50})
    answer = ask(store, "finance.partner_revenue_share", *FEB)
    assert answer["value"] == 25.0  # 150 / 600 × 100
    assert answer["previous"] is None  # January: no revenue, 0 / 0
    assert table(store, "finance.revenue_by_channel", "2026-02-28") == [
        {"channel": "direct", "revenue": 250, "share": 41.6667},  # 250 / 600
        {"channel": "organic", "revenue": 200, "share": 33.3333},
        {"channel": "affiliate", "revenue": 100, "share": 16.6667},
        {"channel": "referral", "revenue": 50, "share": 8.3333},
    ]
    # partner p1's own view: only its customer's revenue, all of it from the affiliate channel
    mine = table(store, "finance.revenue_by_channel", "2026-02-28", partner="p1")
    assert mine == [{"channel": "affiliate", "revenue": 100, "share": 100.0}]


COMMISSIONS = (
    earned("p2", "2025-12-15", 70),
    payout("p2", "2026-01-15", 70),
    earned("p1", "2026-01-05", 100),
    earned("p2", "2026-01-10", 50, kind="milestone"),
    payout("p1", "2026-02-10", 100),
    earned("p1", "2026-02-20", 40),
    reversed_("p1", "2026-02-22", 10),
)


def test_commissions_earned_paid_reversed_and_outstanding(store):
    load(store, *COMMISSIONS)
    assert value(store, "finance.commissions_earned", *FEB) == 40  # p1 on Feb 20
    assert value(store, "finance.payouts", *FEB) == 100
    assert value(store, "finance.commissions_reversed", *FEB) == 10
    outstanding = ask(store, "finance.commissions_outstanding", *FEB, by="partner")
    # all time to Feb 28: p1 100 + 40 − 100 − 10 = 30; p2 70 + 50 − 70 = 50
    assert rows(outstanding) == {"p2": 50, "p1": 30}
    assert (outstanding["value"], outstanding["previous"]) == (80, 150)  # Jan 31: 100 + 50


def test_pending_during_holding_then_due(store):
    load(store, *COMMISSIONS)
    pending = ask(store, "finance.commissions_pending", *FEB, by="partner")
    # holding at Mar 1 00:00: earned since Jan 30 → p1 40 − 10 = 30 (≤ its 30 owed);
    # p2's Jan 10 commission left holding on Feb 9 → 0
    assert rows(pending) == {"p1": 30, "p2": 0}
    due = ask(store, "finance.commissions_due", *FEB, by="partner")
    assert rows(due) == {"p2": 50, "p1": 0}  # owed − in holding: p2 50 − 0; p1 30 − 30
    assert (due["value"], due["previous"]) == (50, 0)  # Jan 31: everything still in holding
    # Jan 31 holding since Jan 2: p1 100 + p2 50 = 150, all of the 150 owed
    assert value(store, "finance.commissions_pending", "2026-01-31", "this_month") == 150


def test_commission_paid_early_is_not_pending(store):
    load(store, earned("p1", "2026-02-20", 40), payout("p1", "2026-02-25", 40))
    # paid inside the holding period: nothing owed, so nothing pending and nothing due
    assert value(store, "finance.commissions_pending", *FEB) == 0
    assert value(store, "finance.commissions_due", *FEB) == 0


def test_commissions_ytd_counts_from_january_first(store):
    load(store, *COMMISSIONS)
    # 2026 to Feb 28: 100 + 50 + 40 = 190 (December's 70 is last year)
    assert value(store, "finance.commissions_ytd", *FEB) == 190
    # a New York year starts at 05:00 UTC: 02:00 UTC on Jan 1 is still 2025 there
    load(store, earned("p3", "2026-01-01 02:00", 5))
    assert value(store, "finance.commissions_ytd", *FEB) == 195
    assert value(store, "finance.commissions_ytd", *FEB, tz="America/New_York") == 190


def test_commissions_table_per_partner(store):
    load(store, *COMMISSIONS)
    got = table(store, "finance.commissions", "2026-02-28")
    assert got == [
        {
            "partner": "p2",
            "earned": 0,
            "paid": 0,
            "reversed": 0,
            "pending": 0,
            "due": 50,
            "outstanding": 50,
        },
        {
            "partner": "p1",
            "earned": 40,
            "paid": 100,
            "reversed": 10,
            "pending": 30,
            "due": 0,
            "outstanding": 30,
        },
    ]
    mine = table(store, "finance.commissions", "2026-02-28", partner="p1")
    assert [r["partner"] for r in mine] == ["p1"]


def test_program_costs_roi_and_net_revenue(store):
    load(
        store,
        *REVENUE,
        earned("p1", "2026-02-20", 40),
        reversed_("p1", "2026-02-22", 10),
        spend("2026-02-01", "partner_program", 20),
        spend("2026-02-01", "paid_ads", 500),  # acquisition spend: not a program cost
    )
    assert value(store, "finance.program_costs", *FEB) == 50  # 40 − 10 + 20
    roi = ask(store, "finance.program_roi", *FEB)
    assert roi["value"] == 300.0  # partner revenue 150 / costs 50 × 100
    assert roi["previous"] is None  # January: no costs, division by zero
    assert value(store, "finance.net_partner_revenue", *FEB) == 100  # 150 − 50


LTV = (
    identify("pa1", "2026-01-05", status="active", channel="paid_ads"),
    identify("pa2", "2026-01-05", status="active", channel="paid_ads"),
    identify("af1", "2026-01-05", status="active", channel="affiliate", partner_id="p1"),
    identify("af2", "2026-01-05", status="active", channel="affiliate", partner_id="p1"),
    identify("pa3", "2026-02-10", status="trial", channel="paid_ads"),  # new in the window
    identify("af3", "2026-02-11", status="trial", channel="affiliate", partner_id="p1"),
    paid("pa1", "2026-02-02", 120),
    paid("pa2", "2026-02-02", 60),
    paid("af1", "2026-02-02", 90),
    paid("af2", "2026-02-02", 90),
    identify("pa2", "2026-02-15", status="churned"),
    spend("2026-02-01", "paid_ads", 600),
    spend("2026-02-01", "partner_program", 1000),  # program infrastructure: not CAC
)
# last_30d to Mar 2 = Feb 1 .. Mar 2, exactly 30 days
LAST30 = ("2026-03-02", "last_30d")


def test_ltv_is_arpc_over_monthly_churn(store):
    load(store, *LTV)
    # revenue 360 / 3 active (pa1, af1, af2) = ARPC 120; churn 1 (pa2) / 4 open at S = 25 %
    assert value(store, "finance.ltv", *LAST30) == 480.0  # 120 / 0.25
    by_channel = rows(ask(store, "finance.ltv", *LAST30, by="channel"))
    # paid_ads: 180 / 1 active = 180, churn 1/2 = 50 % → 360; affiliate: no churn → None
    assert by_channel["paid_ads"] == 360.0 and by_channel["affiliate"] is None
    # over a 15-day window the same churn is twice as fast a month: Feb 14 .. Feb 28
    load(store, identify("pa1", "2026-02-20", status="churned"), paid("af1", "2026-02-20", 150))
    # revenue 150 / 2 active (af1, af2) × 30/15 = ARPC 150 a month; open at Feb 14: pa1,
    # pa2, af1, af2 and the trials pa3, af3 = 6; churned pa2, pa1 = 2 → 33.33 % in 15 days
    # = 66.67 % a month → LTV 150 / (2/6 × 30/15) = 225
    assert value(store, "finance.ltv", "2026-02-28", "2026-02-14..2026-02-28") == 225.0


def test_cac_and_ltv_to_cac(store):
    load(store, *LTV)
    cac = ask(store, "finance.cac", *LAST30, by="channel")
    # 600 paid-ads spend / 2 new (pa3, af3) = 300; by channel: 600 / 1 and 0 / 1
    assert cac["value"] == 300.0
    assert rows(cac) == {"paid_ads": 600.0, "affiliate": 0.0}
    ratio = ask(store, "finance.ltv_cac", *LAST30, by="channel")
    assert ratio["value"] == 1.6  # 480 / 300
    assert rows(ratio) == {"paid_ads": 0.6, "affiliate": None}  # 360 / 600; CAC 0 → None
    assert value(store, "finance.cac", "2025-12-31", "this_month") is None  # 0 / 0 new


def test_ltv_by_channel_table(store):
    load(
        store,
        *LTV,
        group("b1", "2026-01-05", kind="business"),
        # a business partner's credit pack: revenue in channel "business", which has no customers
        track(
            "invoice_paid", "2026-02-03", group="b1", partner_id="b1", amount=500, kind="credits"
        ),
    )
    assert rows(ask(store, "revenue.total", *LAST30, by="channel"))["business"] == 500
    got = table(store, "finance.ltv_by_channel", "2026-03-02", "last_30d")
    assert got == [  # no row for "business": no ARPC, churn, LTV or CAC without customers
        # affiliate: 180 / 2 = 90 ARPC, no churn; CAC 0 / 1 new
        {
            "channel": "affiliate",
            "arpc": 90.0,
            "churn_rate": 0.0,
            "ltv": None,
            "cac": 0.0,
            "ltv_cac": None,
        },
        # paid_ads: 180 / 1, churn 50 %, LTV 360, CAC 600
        {
            "channel": "paid_ads",
            "arpc": 180.0,
            "churn_rate": 50.0,
            "ltv": 360.0,
            "cac": 600.0,
            "ltv_cac": 0.6,
        },
    ]


def test_transactions_log_most_recent_first(store):
    load(
        store,
        fx_rate("EUR", "2026-02-05", 1.1),
        identify("a1", "2026-01-05", partner_id="p1"),
        paid("a1", "2026-02-03", 100),
        paid("d1", "2026-02-05", 50, currency="EUR"),  # 55 USD
        track("refund_issued", "2026-02-06", user="d1", amount=10, currency="EUR"),  # no rate
        track(
            "credits_purchased", "2026-02-07", group="p1", partner_id="p1", credits=100, amount=80
        ),
        earned("p1", "2026-02-08", 12),
        payout("p1", "2026-02-09", 30),
        reversed_("p1", "2026-02-10", 2),
        paid("a1", "2026-01-20", 999),  # before the window
        track("credits_consumed", "2026-02-11", user="a1", credits=5, source="other"),  # no money
    )
    got = table(store, "finance.transactions", "2026-02-28")
    assert [(r["type"], r["customer"], r["partner"], r["amount"]) for r in got] == [
        ("commission reversal", None, "p1", 2),
        ("payout", None, "p1", 30),
        ("commission", None, "p1", 12),
        ("credits purchase", None, "p1", 80),
        ("refund", "d1", None, 10),
        ("invoice", "d1", None, 50),
        ("invoice", "a1", "p1", 100),
    ]
    assert [(r["currency"], r["amount_reporting"]) for r in got[4:6]] == [
        ("EUR", None),  # no EUR rate on Feb 6: unconverted, kept
        ("EUR", 55.0),  # 50 × 1.1
    ]
    assert got[0]["ts"].startswith("2026-02-10T12:00")
    assert len(table(store, "finance.transactions", "2026-02-28", partner="p1")) == 5
    assert table(store, "finance.transactions", "2026-02-28", where={"type": "payout"}) == [got[1]]
