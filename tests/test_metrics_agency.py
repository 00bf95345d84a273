"""agency.* on hand-built datasets; every expected value is worked out by hand beside it.

Window March 2026 (this_month, 31 days; previous = February). Referral partners rp1, rp2;
resellers s1 (active) and s2 (deactivated 15 March); white-label partners w1, w2; an affiliate
a1 whose activity never counts here. Reseller and white-label clients are billed by their
partner (`billed_by: "partner"`).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from messages import ask, group, identify, load, plan, rows, track, value
from pulse.metrics import CATALOG
from pulse.metrics.engine import Engine
from pulse.metrics.tables import TableQuery, evaluate_table

MARCH = ("2026-03-31", "this_month")


def partner(pid: str, kind: str, name: str | None = None) -> list[dict[str, Any]]:
    """Applied 1 January, approved 5 January."""
    traits: dict[str, Any] = {"kind": kind, "status": "applied"}
    if name is not None:
        traits["name"] = name
    return [
        group(pid, "2026-01-01", **traits),
        track("partner_approved", "2026-01-05", group=pid, partner_id=pid),
    ]


def signup(pid: str, user: str, when: str) -> dict[str, Any]:
    return track("referral_signed_up", when, user=user, partner_id=pid)


def commission(pid: str, when: str, amount: float, kind: str = "recurring") -> dict[str, Any]:
    return track("commission_earned", when, group=pid, partner_id=pid, amount=amount, kind=kind)


def fee(pid: str, when: str, amount: float, kind: str) -> dict[str, Any]:
    """An invoice the partner pays the platform itself."""
    return track("invoice_paid", when, group=pid, partner_id=pid, amount=amount, kind=kind)


def client_paid(user: str, pid: str, when: str, amount: float) -> dict[str, Any]:
    return track(
        "invoice_paid",
        when,
        user=user,
        group=pid,
        amount=amount,
        kind="subscription",
        billed_by="partner",
    )


def license_event(event: str, pid: str, user: str, when: str) -> dict[str, Any]:
    return track(event, when, user=user, group=pid, partner_id=pid)


def seats(pid: str, when: str, n: int) -> dict[str, Any]:
    return track("seats_changed", when, group=pid, partner_id=pid, seats=n)


def referral_partners() -> list[dict[str, Any]]:
    return [
        *partner("rp1", "referral", "Ref One"),
        *partner("rp2", "referral"),
        *partner("a1", "affiliate"),
        signup("rp1", "k1", "2026-03-03"),
        signup("rp1", "k2", "2026-03-04"),
        signup("rp1", "k3", "2026-03-05"),
        signup("rp2", "k4", "2026-03-06"),
        signup("rp1", "k0", "2026-02-06"),  # February
        signup("a1", "k5", "2026-03-06"),  # an affiliate's
        identify("k4", "2026-03-06", referred_by="rp2"),
        track("converted", "2026-03-10", user="k1", partner_id="rp1", amount=99),
        track("converted", "2026-03-12", user="k4", amount=29),  # rp2 by referred_by
        track("converted", "2026-03-12", user="k5", partner_id="a1", amount=29),
        commission("rp1", "2026-03-10", 100, kind="flat"),
        commission("rp1", "2026-03-20", 15),
        commission("rp2", "2026-03-20", 85, kind="flat"),
        commission("a1", "2026-03-20", 50),
    ]


def resellers() -> list[dict[str, Any]]:
    return [
        *partner("s1", "reseller", "Shop One"),
        *partner("s2", "reseller"),
        track("partner_deactivated", "2026-03-15", group="s2", partner_id="s2"),
        identify("u1", "2026-01-10", partner_id="s1", status="active"),
        identify("u2", "2026-02-10", partner_id="s1", status="active"),
        identify("u2", "2026-03-20", status="cancelled"),
        identify("u3", "2026-03-05", partner_id="s1", status="active"),
        identify("u4", "2026-01-10", partner_id="s2", status="active"),
        license_event("license_activated", "s1", "u1", "2026-01-10"),
        license_event("license_activated", "s1", "u2", "2026-02-10"),
        license_event("license_activated", "s1", "u3", "2026-03-05"),
        license_event("license_cancelled", "s1", "u2", "2026-03-20"),
        license_event("license_activated", "s2", "u4", "2026-01-10"),
        license_event("license_cancelled", "s2", "u4", "2026-03-15"),
        fee("s1", "2026-03-02", 120, "license"),
        fee("s1", "2026-03-02", 500, "credits"),
        fee("s2", "2026-03-02", 60, "license"),
        fee("s1", "2026-02-02", 60, "license"),
        client_paid("u1", "s1", "2026-03-03", 99),
        client_paid("u3", "s1", "2026-03-05", 99),
        client_paid("u4", "s2", "2026-03-03", 29),
    ]


def white_label() -> list[dict[str, Any]]:
    return [
        *partner("w1", "white_label", "White One"),
        *partner("w2", "white_label"),
        seats("w1", "2026-01-06", 40),
        seats("w1", "2026-03-10", 50),
        seats("w2", "2026-01-06", 20),
        seats("w2", "2026-04-02", 30),  # after the window
        fee("w1", "2026-03-02", 500, "platform_fee"),
        fee("w1", "2026-03-02", 500, "seats"),
        fee("w2", "2026-03-02", 500, "platform_fee"),
        fee("w2", "2026-03-02", 200, "seats"),
        fee("w2", "2026-02-02", 500, "platform_fee"),
        identify("v1", "2026-01-10", partner_id="w1", status="active"),
        client_paid("v1", "w1", "2026-03-03", 99),  # the partner's revenue, not the platform's
    ]


def table(store: Any, table_id: str, as_of: str, window: str, **options: Any) -> list[Any]:
    query = TableQuery(table_id, date.fromisoformat(as_of), window, **options)
    answer: list[Any] = evaluate_table(Engine(store, CATALOG), query)["rows"]
    return answer


# -- referral partners --------------------------------------------------------------------------


def test_referral_partner_metrics(store):
    load(store, *referral_partners())
    assert value(store, "agency.referral_partners", *MARCH) == 2  # rp1, rp2 (not a1)
    # 4 sign-ups (k1..k4) / 2 partners × 30 / 31 days
    assert value(store, "agency.referrals_per_partner", *MARCH) == round(4 / 2 * 30 / 31, 4)
    # 2 conversions (k1 by partner_id, k4 by referred_by) / 4 sign-ups
    assert value(store, "agency.referral_conversion_rate", *MARCH) == 50.0
    # (100 + 15 + 85) / 2 partners × 30 / 31 days (a1's 50 is an affiliate's)
    assert value(store, "agency.commission_per_partner", *MARCH) == round(200 / 2 * 30 / 31, 4)
    # rp1 alone: 3 sign-ups, 1 conversion; 115 of commissions
    assert value(store, "agency.referral_conversion_rate", *MARCH, partner="rp1") == 33.3333
    assert value(store, "agency.commission_per_partner", *MARCH, partner="rp1") == round(
        115 * 30 / 31, 4
    )
    # February: 1 sign-up, 0 conversions
    assert ask(store, "agency.referral_conversion_rate", *MARCH)["previous"] == 0.0


def test_referral_rates_are_none_without_partners_or_referrals(store):
    load(store, *partner("rp1", "referral"))
    assert value(store, "agency.referral_conversion_rate", *MARCH) is None  # 0 / 0
    assert value(store, "agency.referrals_per_partner", "2025-12-31") is None  # no partner yet
    assert value(store, "agency.commission_per_partner", "2025-12-31") is None


# -- resellers ----------------------------------------------------------------------------------


def test_resellers_and_licenses(store):
    load(store, *resellers())
    total = ask(store, "agency.resellers", *MARCH)
    assert (total["value"], total["previous"]) == (1, 2)  # s2 deactivated 15 March
    licenses = ask(store, "agency.active_licenses", *MARCH)
    # end of March: s1's u1, u3 (u2 cancelled; s2's u4 cancelled); end of Feb: u1, u2, u4
    assert (licenses["value"], licenses["previous"]) == (2, 3)
    assert rows(ask(store, "agency.active_licenses", *MARCH, by="partner")) == {"s1": 2, "s2": 0}
    assert value(store, "agency.licenses_per_partner", *MARCH) == 2.0  # 2 licenses / 1 reseller
    assert value(store, "agency.licenses_per_partner", *MARCH, partner="s2") is None  # 0 / 0
    churn = ask(store, "agency.reseller_churn_rate", *MARCH)
    assert churn["value"] == 50.0  # 1 deactivated / 2 resellers at the start
    assert churn["previous"] == 0.0


def test_margin_per_license(store):
    load(store, *resellers())
    # client billings 99 + 99 + 29 = 227; license fees 120 + 60 = 180 (the 500 credit pack is
    # not a license fee); 2 active licenses; 31 days → (227 − 180) / 2 × 30 / 31
    assert value(store, "agency.margin_per_license", *MARCH) == round(47 / 2 * 30 / 31, 4)
    # s1: (198 − 120) / 2 × 30 / 31
    assert value(store, "agency.margin_per_license", *MARCH, partner="s1") == round(
        78 / 2 * 30 / 31, 4
    )
    assert value(store, "agency.margin_per_license", "2025-12-31") is None  # no licenses


def test_reseller_clients(store):
    load(store, *resellers(), identify("d1", "2026-01-10", status="active"))
    clients = ask(store, "agency.reseller_clients", *MARCH)
    # end of March: u1, u3 (s1), u4 (s2); u2 cancelled; d1 is direct. End of Feb: u1, u2, u4
    assert (clients["value"], clients["previous"]) == (3, 3)
    assert rows(ask(store, "agency.reseller_clients", *MARCH, by="partner")) == {"s1": 2, "s2": 1}


def test_platform_revenue_leaves_out_what_partners_bill_their_clients(store):
    load(
        store,
        *resellers(),
        *white_label(),
        plan("pro", "2026-01-01", price=99, interval="month"),
        identify("d1", "2026-01-10", status="active", channel="organic"),
        track("subscription_started", "2026-01-10", user="d1", plan_id="pro"),
        track("invoice_paid", "2026-03-10", user="d1", amount=99, kind="subscription"),
        track("subscription_started", "2026-01-10", user="u1", plan_id="pro", billed_by="partner"),
    )
    revenue = ask(store, "revenue.total", *MARCH, by="channel")
    # what partners paid the platform: s1 120 + 500, s2 60, w1 500 + 500, w2 500 + 200 = 2380;
    # d1's 99; the clients' 99 + 99 + 29 (resellers') and 99 (w1's) are the partners' money
    assert revenue["value"] == 2479
    assert revenue["previous"] == 560  # February: s1's 60 license fee, w2's 500 platform fee
    # a partner's own invoices come through the channel of its kind
    assert rows(revenue) == {"white_label": 1700, "reseller": 680, "organic": 99}
    # the partners' clients still paid them 99 + 99 + 29
    assert value(store, "agency.reseller_client_revenue", *MARCH) == 227
    # MRR: d1's pro; u1's subscription is billed by its reseller
    assert value(store, "revenue.mrr", *MARCH) == 99


# -- white-label --------------------------------------------------------------------------------


def test_white_label_metrics(store):
    load(
        store,
        *white_label(),
        *partner("s1", "reseller"),
        seats("s1", "2026-01-06", 99),  # not a white-label partner
        *partner("w3", "white_label"),
        seats("w3", "2026-01-06", 10),
        track("partner_deactivated", "2026-03-15", group="w3", partner_id="w3"),
    )
    assert value(store, "agency.white_label_partners", *MARCH) == 2
    seat_count = ask(store, "agency.seats", *MARCH)
    # latest seats as of the end: w1 50 (10 March), w2 20 (its 30 come in April), w3 gone;
    # end of February: 40 + 20 + 10
    assert (seat_count["value"], seat_count["previous"]) == (70, 70)
    assert value(store, "agency.seats_per_partner", *MARCH) == 35.0  # 70 / 2
    platform = ask(store, "agency.platform_revenue", *MARCH)
    assert (platform["value"], platform["previous"]) == (1000.0, 500.0)
    # seat fees 500 + 200; the client's 99 billed by w1 is not the platform's
    assert value(store, "agency.seat_revenue", *MARCH) == 700.0
    assert value(store, "agency.seat_revenue", *MARCH, partner="w2") == 200.0
    assert value(store, "agency.seats_per_partner", "2025-12-31") is None  # no partners yet


def test_time_zone_day_boundary(store):
    load(
        store,
        *partner("w1", "white_label"),
        fee("w1", "2026-02-28 23:30", 500, "platform_fee"),  # 1 March 00:30 in Berlin
    )
    assert value(store, "agency.platform_revenue", *MARCH) == 0
    assert value(store, "agency.platform_revenue", *MARCH, tz="Europe/Berlin") == 500.0


# -- tables -------------------------------------------------------------------------------------


def test_referral_partner_table(store):
    load(store, *referral_partners())
    got = [
        (r["partner_id"], r["name"], r["referrals"], r["conversions"], r["conversion_rate"])
        for r in table(store, "agency.referral_partner_list", *MARCH)
    ]
    assert got == [
        ("rp1", "Ref One", 3, 1, 33.3333),  # 1 / 3
        ("rp2", None, 1, 1, 100),  # 1 / 1
    ]
    commission = {
        r["partner_id"]: r["commission"]
        for r in table(store, "agency.referral_partner_list", *MARCH)
    }
    assert commission == {"rp1": 115, "rp2": 85}
    only = table(store, "agency.referral_partner_list", *MARCH, partner="rp2")
    assert [r["partner_id"] for r in only] == ["rp2"]


def test_reseller_table(store):
    load(store, *resellers())
    got = table(store, "agency.reseller_list", *MARCH)
    assert [r["partner_id"] for r in got] == ["s1", "s2"]  # by revenue: 620, 60
    s1, s2 = got
    # s1: clients u1, u3; licenses u1, u3; revenue 120 + 500; margin (198 − 120) / 2 × 30 / 31
    assert (s1["name"], s1["clients"], s1["active_licenses"], s1["revenue"]) == (
        "Shop One",
        2,
        2,
        620,
    )
    assert s1["margin"] == round(78 / 2 * 30 / 31, 4)
    # s2 (deactivated): client u4 still open, no license, 60 of fees, no margin without licenses
    assert (s2["clients"], s2["active_licenses"], s2["revenue"], s2["margin"]) == (1, 0, 60, None)


def test_white_label_table(store):
    load(store, *white_label())
    got = [
        (r["partner_id"], r["name"], r["seats"], r["platform_fee"], r["seat_revenue"])
        for r in table(store, "agency.white_label", *MARCH)
    ]
    assert got == [("w1", "White One", 50, 500, 500), ("w2", None, 20, 500, 200)]
    assert len(table(store, "agency.white_label", "2025-12-31", "last_30d")) == 0
