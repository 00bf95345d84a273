"""The catalog tables behind the alerts: what fired (`alerts.active`), what to do about it
(`alerts.action_items`), and the numbers the newer rules read (`system.health_log`,
`finance.missed_payments`, `affiliates.tier_progress`), each on hand-made rows."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from messages import group, load, track
from pulse.alerts import state
from pulse.metrics import CATALOG
from pulse.metrics.engine import Engine
from pulse.metrics.tables import TableQuery, evaluate_table

AS_OF = date(2026, 2, 28)
NOW = datetime(2026, 2, 28, 12, 0, tzinfo=UTC)


def table(store: Any, table_id: str, window: str, as_of: date = AS_OF, **kw: Any) -> list[Any]:
    rows: list[Any] = evaluate_table(
        Engine(store, CATALOG), TableQuery(table_id, as_of, window, **kw)
    )["rows"]
    return rows


def partner(pid: str, kind: str, **traits: Any) -> list[dict[str, Any]]:
    return [
        group(pid, "2026-01-01", kind=kind, status="applied", **traits),
        track("partner_approved", "2026-01-02", group=pid, partner_id=pid),
    ]


def two_alerts(store: Any) -> None:
    """Feb 28: 1 error over 10 operations (10 % > 5 %: critical) and partner p2 applied
    (warning), both fired at 12:00."""
    load(
        store,
        track("error_logged", "2026-02-28 09:00", group="platform", source="api", message="x"),
        *[
            track("credits_consumed", "2026-02-28 10:00", user="c1", credits=1, source="other")
            for _ in range(10)
        ],
        group("p2", "2026-02-20", kind="affiliate", name="Zoe", status="applied"),
    )
    state.evaluate(store, AS_OF, NOW, rules=["new_partner_application", "error_rate_high"])


def test_active_alerts_critical_first_as_of_the_window_end(store):
    assert table(store, "alerts.active", "this_month") == []
    two_alerts(store)
    rows = table(store, "alerts.active", "this_month")
    # the warning fired first (rules run in the order given), yet the critical one leads
    assert rows == [
        {
            "rule": "error_rate_high",
            "severity": "critical",
            "subject": "platform",
            "message": "Error rate 10.0% today (threshold 5%)",
            "value": 10,
            "since": "2026-02-28T12:00:00+00:00",
        },
        {
            "rule": "new_partner_application",
            "severity": "warning",
            "subject": "p2",
            "message": "New partner application: Zoe",
            "value": None,
            "since": "2026-02-28T12:00:00+00:00",
        },
    ]
    # a window ending Feb 27 ends before either fired
    assert table(store, "alerts.active", "last_30d", date(2026, 2, 27)) == []
    # the error rate clears at 12:05 (threshold raised to 20 %): no longer active from then
    state.set_threshold(store, "error_rate_high", 20)
    state.evaluate(store, AS_OF, NOW + timedelta(minutes=5), rules=["error_rate_high"])
    assert [r["rule"] for r in table(store, "alerts.active", "this_month")] == [
        "new_partner_application"
    ]


def test_action_items_by_priority_with_rule_and_subject(store):
    two_alerts(store)
    rows = table(store, "alerts.action_items", "last_30d")
    # both high priority and due today (due 0 days and 1 day after firing: Feb 28, Mar 1)
    assert rows == [
        {
            "priority": "high",
            "action": "Investigate the error spike",
            "owner": "Engineering",
            "due": "2026-02-28",
            "status": "pending",
            "rule": "error_rate_high",
            "subject": "platform",
            "opened": "2026-02-28T12:00:00+00:00",
        },
        {
            "priority": "high",
            "action": "Review the application of p2",
            "owner": "Partner Manager",
            "due": "2026-03-01",
            "status": "pending",
            "rule": "new_partner_application",
            "subject": "p2",
            "opened": "2026-02-28T12:00:00+00:00",
        },
    ]
    # the error item was done on Feb 28: shown in a window holding that day, not in one
    # starting after it (an open item stays until it is done)
    store.execute(
        "UPDATE action_items SET status = 'done', updated_at = ? WHERE action = ?",
        (NOW, "Investigate the error spike"),
    )
    assert [r["status"] for r in table(store, "alerts.action_items", "last_30d")] == [
        "done",
        "pending",
    ]
    later = table(store, "alerts.action_items", "2026-03-01..2026-03-31", date(2026, 3, 31))
    assert [r["subject"] for r in later] == ["p2"]
    # a window ending before the items were opened shows none
    assert table(store, "alerts.action_items", "last_30d", date(2026, 2, 27)) == []


def test_health_log_names_the_component(store):
    load(
        store,
        track("health_check", "2026-02-28 10:00", group="platform", ok=True, duration_ms=250),
        track("health_check", "2026-02-28 10:05", group="platform", source="db", ok=False),
        track("error_logged", "2026-02-28 10:10", group="platform", source="db", message="Down"),
        track(
            "error_logged", "2026-02-27 23:00", group="platform", source="worker", message="Lost"
        ),
        track("credits_consumed", "2026-02-28 10:00", user="c1", credits=1, source="other"),
    )
    rows = table(store, "system.health_log", "2026-02-28..2026-02-28")
    # newest first; a check without a source probes the API; an error is never ok; the Feb 27
    # error is outside the window and the credit use is no health signal
    assert [(r["ts"][11:16], r["component"], r["event"], r["ok"], r["message"]) for r in rows] == [
        ("10:10", "db", "error_logged", False, "Down"),
        ("10:05", "db", "health_check", False, None),
        ("10:00", "api", "health_check", True, None),
    ]
    assert rows[2]["duration_ms"] == 250
    earlier = table(store, "system.health_log", "2026-02-27..2026-02-27")
    assert [(r["component"], r["message"]) for r in earlier] == [("worker", "Lost")]


def test_missed_payments_settled_by_later_payments_of_the_amount(store):
    load(
        store,
        *partner("w1", "white_label", name="Acme Agency"),
        *partner("s1", "reseller"),
        # w1: $300 failed Feb 1, $500 failed Feb 20; paid $100 on Feb 5 (too little for
        # either) and $300 on Feb 21 (settles Feb 1's, the oldest it covers): $500 open
        track("payment_failed", "2026-02-01", group="w1", amount=300),
        track("invoice_paid", "2026-02-05", group="w1", amount=100, kind="seats"),
        track("payment_failed", "2026-02-20", group="w1", partner_id="w1", amount=500),
        track("invoice_paid", "2026-02-21", group="w1", amount=300, kind="seats"),
        # s1: $80 failed Feb 26, paid before it failed (Feb 25) only: open, 2 days overdue
        track("invoice_paid", "2026-02-25", group="s1", amount=80, kind="license"),
        track("payment_failed", "2026-02-26", group="s1", amount=80),
        # a customer's own failed payment is not a partner's
        track("payment_failed", "2026-02-15", user="c1", group="w1", amount=900),
    )
    rows = table(store, "finance.missed_payments", "this_month")
    assert rows == [
        {
            "partner_id": "w1",
            "name": "Acme Agency",
            "partner_kind": "white_label",
            "amount": 500,
            "currency": "USD",
            "failed_at": "2026-02-20T12:00:00+00:00",
            "days_overdue": 8,  # Feb 20 → Feb 28
        },
        {
            "partner_id": "s1",
            "name": None,
            "partner_kind": "reseller",
            "amount": 80,
            "currency": "USD",
            "failed_at": "2026-02-26T12:00:00+00:00",
            "days_overdue": 2,
        },
    ]
    # as of Feb 21 23:59 the $500 of Feb 20 is 1 day overdue and Feb 1's already settled
    feb21 = table(store, "finance.missed_payments", "this_month", date(2026, 2, 21))
    assert [(r["amount"], r["days_overdue"]) for r in feb21] == [(500, 1)]
    # as of Feb 20 the $300 payment has not come yet: both w1 failures are open
    feb20 = table(store, "finance.missed_payments", "this_month", date(2026, 2, 20))
    assert [(r["amount"], r["days_overdue"]) for r in feb20] == [(300, 19), (500, 0)]
    mine = table(store, "finance.missed_payments", "this_month", partner="s1")
    assert [r["partner_id"] for r in mine] == ["s1"]


def test_tier_progress_against_the_tier_minimums(store):
    referrals = [
        track("referral_signed_up", day, user=f"{pid}-{day}-{i}", partner_id=pid)
        for pid, day, count in (
            ("a1", "2026-02-10", 4),
            ("a1", "2026-01-10", 9),  # before the window
            ("a2", "2026-02-11", 13),
            ("a3", "2026-02-12", 16),
        )
        for i in range(count)
    ]
    load(
        store,
        *partner("a1", "affiliate", name="Mike", program_tier="power"),
        *partner("a2", "affiliate", name="CRMQueen", program_tier="power"),
        *partner("a3", "affiliate", program_tier="elite"),
        *partner("a4", "affiliate"),  # no tier: the entry tier
        *partner("r1", "reseller", program_tier="power"),  # not an affiliate
        group("a5", "2026-01-01", kind="affiliate", status="applied"),  # never approved
        *referrals,
    )
    rows = table(store, "affiliates.tier_progress", "this_month")
    got = [
        (
            r["partner_id"],
            r["tier"],
            r["referrals"],
            r["tier_minimum"],
            r["short_of_tier"],
            r["next_tier"],
            r["next_minimum"],
            r["to_next_tier"],
        )
        for r in rows
    ]
    assert got == [
        ("a1", "power", 4, 5, 1, "elite", 15, 11),  # 5 − 4 short; 15 − 4 to elite
        ("a2", "power", 13, 5, 0, "elite", 15, 2),
        ("a3", "elite", 16, 15, 0, None, None, None),  # the top tier
        ("a4", "partner", 0, 0, 0, "power", 5, 5),
    ]
    assert rows[0]["name"] == "Mike"
