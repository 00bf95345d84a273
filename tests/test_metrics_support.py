"""support.* and onboarding.* on hand-built datasets; expected values worked out beside them."""

from __future__ import annotations

from datetime import date
from typing import Any

from messages import ask, group, identify, load, rows, track, value
from pulse.metrics import CATALOG
from pulse.metrics.engine import Engine
from pulse.metrics.tables import TableQuery, evaluate_table

FEB = ("2026-02-28", "this_month")


def table(store: Any, table_id: str, as_of: str, window: str = "this_month") -> Any:
    query = TableQuery(table_id, date.fromisoformat(as_of), window)
    return evaluate_table(Engine(store, CATALOG), query)["rows"]


def ticket(event: str, tid: str, when: str, user: str | None = None, **kw: Any) -> Any:
    group_id = kw.pop("group", None)
    return track(event, when, user=user, group=group_id, ticket_id=tid, **kw)


TICKETS = (
    group("p1", "2026-01-01", kind="affiliate"),
    group("p2", "2026-01-01", kind="reseller"),
    identify("c1", "2026-01-02", partner_id="p1"),
    # t1: c1 (p1's customer): response after 2 h, resolved after 24 h with CSAT 5
    ticket("ticket_opened", "t1", "2026-02-02 10:00", user="c1"),
    ticket("ticket_first_response", "t1", "2026-02-02 12:00", user="c1"),
    ticket("ticket_first_response", "t1", "2026-02-02 15:00", user="c1"),  # not the first
    ticket("ticket_resolved", "t1", "2026-02-03 10:00", user="c1", csat=5),
    # t2: p2's own ticket: response after 6 h, escalated, resolved after 36 h with CSAT 3
    ticket("ticket_opened", "t2", "2026-02-05 08:00", group="p2"),
    ticket("ticket_first_response", "t2", "2026-02-05 14:00", group="p2"),
    ticket("ticket_escalated", "t2", "2026-02-05 16:00", group="p2"),
    ticket("ticket_resolved", "t2", "2026-02-06 20:00", group="p2", csat=3),
    # t3: opened in January, answered after 3 h on Feb 1, resolved in March
    ticket("ticket_opened", "t3", "2026-01-31 22:00", group="p2"),
    ticket("ticket_first_response", "t3", "2026-02-01 01:00", group="p2"),
    ticket("ticket_resolved", "t3", "2026-03-02 10:00", group="p2", csat=1),
    # t4: opened, no answer yet
    ticket("ticket_opened", "t4", "2026-02-27 09:00", user="d1"),
)


def test_tickets_response_resolution_csat_and_escalation(store):
    load(store, *TICKETS)
    tickets = ask(store, "support.tickets", *FEB)
    assert (tickets["value"], tickets["previous"]) == (3, 1)  # t1, t2, t4; January: t3
    first = ask(store, "support.first_response_hours", *FEB)
    # (2 + 6 + 3) / 3 = 3.6667 h ≤ 4 → healthy
    assert (first["value"], first["status"]) == (3.6667, "healthy")
    resolution = ask(store, "support.resolution_hours", *FEB)
    # t1 24 h, t2 36 h (t3 resolved in March) → 30 h > 28.8 → warning
    assert (resolution["value"], resolution["status"]) == (30.0, "warning")
    csat = ask(store, "support.csat", *FEB)
    assert (csat["value"], csat["status"]) == (4.0, "neutral")  # (5 + 3) / 2: below 4.5
    escalation = ask(store, "support.escalation_rate", *FEB)
    # t2 of the 3 opened in February → 33.3333 % > 12 → warning
    assert (escalation["value"], escalation["status"]) == (33.3333, "warning")


def test_support_by_partner_and_kind(store):
    load(store, *TICKETS)
    # t1 is p1's through its customer, t2 is p2's own, t4's customer has no partner
    assert rows(ask(store, "support.tickets", *FEB, by="partner")) == {"p1": 1, "p2": 1, None: 1}
    by_kind = rows(ask(store, "support.first_response_hours", *FEB, by="partner_kind"))
    assert by_kind == {"reseller": 4.5, "affiliate": 2.0}  # p2: (6 + 3) / 2; p1: 2


def test_empty_window_has_no_averages(store):
    load(store, *TICKETS)
    empty = ("2025-12-31", "this_month")
    assert value(store, "support.tickets", *empty) == 0
    for metric in (
        "support.first_response_hours",
        "support.resolution_hours",
        "support.csat",
        "support.escalation_rate",
        "onboarding.completion_rate",
        "onboarding.avg_days",
        "onboarding.time_to_first_revenue_days",
    ):
        assert value(store, metric, *empty) is None, metric


def test_ticket_day_follows_the_reporting_time_zone(store):
    # 03:00 UTC on Mar 1 is 22:00 on Feb 28 in New York
    load(store, ticket("ticket_opened", "t9", "2026-03-01 03:00", user="c9"))
    assert value(store, "support.tickets", *FEB) == 0
    assert value(store, "support.tickets", *FEB, tz="America/New_York") == 1


def onboarding(event: str, partner: str, when: str) -> dict[str, Any]:
    return track(event, when, group=partner, partner_id=partner)


ONBOARDING = (
    group("pa", "2026-01-01", kind="affiliate"),
    group("pb", "2026-01-01", kind="reseller"),
    group("pc", "2026-01-01", kind="reseller"),
    group("pd", "2026-01-01", kind="affiliate"),
    onboarding("onboarding_started", "pa", "2026-02-01"),
    onboarding("onboarding_completed", "pa", "2026-02-03"),  # 2 days
    onboarding("onboarding_started", "pb", "2026-02-10"),
    onboarding("onboarding_completed", "pb", "2026-03-05"),  # after February
    onboarding("onboarding_started", "pc", "2026-01-25"),
    onboarding("onboarding_completed", "pc", "2026-02-06"),  # 12 days
    onboarding("onboarding_started", "pd", "2026-02-20"),  # not completed
)


def test_onboarding_started_completed_rate_and_time(store):
    load(store, *ONBOARDING)
    assert value(store, "onboarding.started", *FEB) == 3  # pa, pb, pd
    assert value(store, "onboarding.completed", *FEB) == 2  # pa, pc
    # started in February and completed by Feb 28: pa of pa, pb, pd → 33.3333
    assert value(store, "onboarding.completion_rate", *FEB) == 33.3333
    assert value(store, "onboarding.avg_days", *FEB) == 7.0  # (2 + 12) / 2
    kinds = ask(store, "onboarding.avg_days", *FEB, by="partner_kind")
    assert rows(kinds) == {"reseller": 12.0, "affiliate": 2.0}
    # over Feb 1 .. Mar 31, pb's completion on Mar 5 counts: pa, pb of pa, pb, pd
    march = value(store, "onboarding.completion_rate", "2026-03-31", "2026-02-01..2026-03-31")
    assert march == 66.6667


REVENUE = (
    group("pa", "2026-01-01", kind="affiliate"),
    group("pb", "2026-01-01", kind="reseller"),
    group("pc", "2026-01-01", kind="reseller"),
    track("partner_approved", "2026-01-20", group="pa", partner_id="pa"),
    track("partner_approved", "2026-02-01", group="pb", partner_id="pb"),
    track("partner_approved", "2026-01-01", group="pc", partner_id="pc"),
    identify("ca", "2026-01-05", partner_id="pa"),
    identify("cc", "2026-01-05", partner_id="pc"),
    track("invoice_paid", "2026-01-10", user="ca", amount=10, kind="subscription"),  # before
    track("invoice_paid", "2026-02-09", user="ca", amount=10, kind="subscription"),  # 20 days
    track("invoice_paid", "2026-02-19", user="ca", amount=10, kind="subscription"),  # not first
    track("converted", "2026-02-15", user="x1", partner_id="pb", amount=30),  # 14 days
    track("invoice_paid", "2026-01-11", user="cc", amount=10, kind="subscription"),  # January
)


def test_time_to_first_revenue_after_approval(store):
    load(store, *REVENUE)
    answer = ask(store, "onboarding.time_to_first_revenue_days", *FEB)
    assert answer["value"] == 17.0  # pa 20 days, pb 14 days
    assert answer["previous"] == 10.0  # January: pc, Jan 1 → Jan 11
    kinds = rows(ask(store, "onboarding.time_to_first_revenue_days", *FEB, by="partner_kind"))
    assert kinds == {"affiliate": 20.0, "reseller": 14.0}


def test_by_partner_kind_table(store):
    load(store, *TICKETS, *ONBOARDING, *REVENUE)
    got = {
        row["partner_kind"]: row for row in table(store, "support.by_partner_kind", "2026-02-28")
    }
    assert got["affiliate"] == {
        "partner_kind": "affiliate",
        "tickets": 1,  # t1 (p1)
        "first_response_hours": 2.0,
        "resolution_hours": 24.0,
        "csat": 5.0,
        "escalation_rate": 0.0,
        "onboarding_started": 2,  # pa, pd
        "completion_rate": 50.0,  # pa of pa, pd
        "onboarding_days": 2.0,
        "first_revenue_days": 20.0,
    }
    # reseller: t2 (p2); pb started (not completed by Feb 28); pc's 12 days; pb's 14 days
    reseller = got["reseller"]
    assert (reseller["tickets"], reseller["escalation_rate"], reseller["csat"]) == (1, 100.0, 3.0)
    assert (reseller["completion_rate"], reseller["onboarding_days"]) == (0.0, 12.0)
    assert reseller["first_revenue_days"] == 14.0
