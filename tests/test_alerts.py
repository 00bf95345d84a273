"""Alert rules (seed 001 alerting, seed 003 §8): each rule on a dataset that fires it and one
that does not; firing once per condition and re-arming; thresholds; action items; the API."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from messages import group, identify, load, track
from pulse.access import audit, keys
from pulse.alerts import state
from pulse.alerts.rules import RULES
from pulse.metrics import CATALOG
from pulse.metrics import targets as t
from server import serving

AS_OF = date(2026, 2, 28)
NOW = datetime(2026, 2, 28, 12, 0, tzinfo=UTC)


def fired(store: Any, rule: str, now: datetime = NOW) -> list[tuple[str, float | None]]:
    return [
        (f.finding.subject, f.finding.value)
        for f in state.evaluate(store, AS_OF, now, rules=[rule])
    ]


def check(when: str, ok: bool) -> dict[str, Any]:
    return track("health_check", when, group="platform", ok=ok, duration_ms=300)


def op(when: str, user: str = "c1") -> dict[str, Any]:
    return track("credits_consumed", when, user=user, credits=1, source="other")


def error(when: str) -> dict[str, Any]:
    return track("error_logged", when, group="platform", source="api", message="Timeout")


def partner(pid: str, kind: str, **traits: Any) -> list[dict[str, Any]]:
    return [
        group(pid, "2026-01-01", kind=kind, status="applied", **traits),
        track("partner_approved", "2026-01-02", group=pid, partner_id=pid),
    ]


# Each scenario loads (or records) what fires the rule when `fire`, and a near miss otherwise;
# it returns the subjects and values expected to fire.
Scenario = Callable[[Any, bool], list[tuple[str, float | None]]]


def pulse_red(store: Any, fire: bool) -> list[tuple[str, float | None]]:
    # Feb 28: one health check, failed (uptime 0 % → red) or passed (100 %, green), 1 operation
    load(store, check("2026-02-28 08:00", ok=not fire), op("2026-02-28 08:00"))
    return [("platform", None)] if fire else []


def error_rate(store: Any, fire: bool) -> list[tuple[str, float | None]]:
    # Feb 28: 1 error over 10 operations = 10 % > 5 %; over 25 operations = 4 % ≤ 5 %
    ops = 10 if fire else 25
    load(store, error("2026-02-28 09:00"), *[op("2026-02-28 10:00") for _ in range(ops)])
    return [("platform", 10.0)] if fire else []


def database(store: Any, fire: bool) -> list[tuple[str, float | None]]:
    # a db error at 11:50 and a failed db health check at 11:55 (both within 15 minutes of
    # 12:00: 2 ≥ 1); or the db error at 11:40 (20 minutes ago), a passed db check and an error
    # of another component
    if fire:
        load(
            store,
            track("error_logged", "2026-02-28 11:50", group="platform", source="db", message="x"),
            track("health_check", "2026-02-28 11:55", group="platform", source="db", ok=False),
        )
        return [("database", 2)]
    load(
        store,
        track("error_logged", "2026-02-28 11:40", group="platform", source="db", message="x"),
        track("health_check", "2026-02-28 11:55", group="platform", source="db", ok=True),
        track("error_logged", "2026-02-28 11:58", group="platform", source="api", message="y"),
    )
    return []


def api_outage(store: Any, fire: bool) -> list[tuple[str, float | None]]:
    # API checks: passed at 10:00, failed at 11:00 and 11:30 (down: the last 2 failed, ≥ 1);
    # or failed at 11:00 and passed again at 11:30 (a failed db check at 11:45 is not the API)
    load(
        store,
        check("2026-02-28 10:00", ok=True),
        check("2026-02-28 11:00", ok=False),
        check("2026-02-28 11:30", ok=not fire),
        track("health_check", "2026-02-28 11:45", group="platform", source="db", ok=False),
    )
    return [("api", 2)] if fire else []


def missed_payment(store: Any, fire: bool) -> list[tuple[str, float | None]]:
    # white-label partner w1: a $500 payment failed on Feb 25, unpaid on Feb 28 = 3 days
    # (≥ 3), or paid on Feb 27; a $200 failure of Feb 10 paid on Feb 12 and a customer's own
    # failed payment never count
    paid = (
        [] if fire else [track("invoice_paid", "2026-02-27", group="w1", amount=500, kind="seats")]
    )
    load(
        store,
        *partner("w1", "white_label", name="Acme Agency"),
        track("payment_failed", "2026-02-10", group="w1", partner_id="w1", amount=200),
        track("invoice_paid", "2026-02-12", group="w1", amount=200, kind="platform_fee"),
        track("payment_failed", "2026-02-25", group="w1", partner_id="w1", amount=500),
        track("payment_failed", "2026-02-20", user="c1", amount=50),
        *paid,
    )
    return [("w1", 3)] if fire else []


def referrals(pid: str, count: int, day: str = "2026-02-10") -> list[dict[str, Any]]:
    return [
        track("referral_signed_up", day, user=f"{pid}-r{i}", partner_id=pid) for i in range(count)
    ]


def tier_risk(store: Any, fire: bool) -> list[tuple[str, float | None]]:
    # Feb 28 (day 28 ≥ 15): power affiliate a1 has 4 referrals in February (< 5), or 5; power
    # a2 has 5, elite a3 16 (≥ 15), partner-tier a4 none (that tier has no minimum)
    load(
        store,
        *partner("a1", "affiliate", name="Mike", program_tier="power"),
        *partner("a2", "affiliate", program_tier="power"),
        *partner("a3", "affiliate", program_tier="elite"),
        *partner("a4", "affiliate", program_tier="partner"),
        *referrals("a1", 4 if fire else 5),
        *referrals("a2", 5),
        *referrals("a3", 16),
    )
    return [("power", 1)] if fire else []


def tier_upgrade(store: Any, fire: bool) -> list[tuple[str, float | None]]:
    # power affiliate a1 has 13 referrals in February: 15 − 13 = 2 to elite (≤ 2); or 12 (3
    # short); partner-tier a2 has 2: 5 − 2 = 3 short of power; 10 January referrals do not count
    load(
        store,
        *partner("a1", "affiliate", name="CRMQueen", program_tier="power"),
        *partner("a2", "affiliate", program_tier="partner"),
        *referrals("a1", 13 if fire else 12),
        *referrals("a1", 10, day="2026-01-20"),
        *referrals("a2", 2),
    )
    return [("a1", 2)] if fire else []


def low_credit(store: Any, fire: bool) -> list[tuple[str, float | None]]:
    # p1 bought 1000 on Feb 2; its customer c1 used 950 (50 left = 5 % < 10 %) or 800 (20 %)
    used = 950 if fire else 800
    load(
        store,
        group("p1", "2026-01-01", kind="reseller"),
        identify("c1", "2026-01-10", partner_id="p1", status="active"),
        track("credits_purchased", "2026-02-02", group="p1", credits=1000, amount=500),
        track("credits_consumed", "2026-02-10", user="c1", credits=used, source="generation"),
    )
    return [("p1", 5.0)] if fire else []


def high_value(store: Any, fire: bool) -> list[tuple[str, float | None]]:
    # a credit purchase of $600 (> $500) or $400
    amount = 600 if fire else 400
    load(
        store,
        track(
            "credits_purchased",
            "2026-02-20 10:00",
            group="p1",
            partner_id="p1",
            credits=1000,
            amount=amount,
        ),
    )
    return [("2026-02-20T10:00:00+00:00|p1|600", 600)] if fire else []


def application(store: Any, fire: bool) -> list[tuple[str, float | None]]:
    load(
        store,
        group(
            "p2", "2026-02-20", kind="affiliate", name="Zoe", status="applied" if fire else "active"
        ),
    )
    return [("p2", None)] if fire else []


def failed_logins(store: Any, fire: bool) -> list[tuple[str, float | None]]:
    # 5 failures in the last hour (≥ 5) or 4 within it and 1 two hours ago
    for minutes in (5, 10, 20, 30, 50 if fire else 120):
        audit.record(
            store,
            actor="eve",
            action="login_failed",
            target="user:eve",
            now=NOW - timedelta(minutes=minutes),
        )
    return [("user:eve", 5)] if fire else []


def bulk_exports(store: Any, fire: bool) -> list[tuple[str, float | None]]:
    # ana: 10 exports and deletions in the last hour (≥ 10), or 9 and one 90 minutes ago
    for i in range(10):
        minutes = 90 if i == 9 and not fire else 5 + i
        action = "customer_deleted" if i % 2 else "export"
        audit.record(
            store, actor="ana", action=action, target=f"t{i}", now=NOW - timedelta(minutes=minutes)
        )
    return [("ana", 10)] if fire else []


def denied(store: Any, fire: bool) -> list[tuple[str, float | None]]:
    # 10.0.0.9: 10 rejected keys or refusals in the last hour, or 9 (and one from 10.0.0.8)
    for i in range(10):
        ip = "10.0.0.8" if i == 9 and not fire else "10.0.0.9"
        action = "key_rejected" if i % 2 else "access_denied"
        audit.record(
            store, actor="anonymous", action=action, ip=ip, now=NOW - timedelta(minutes=5 + i)
        )
    return [("10.0.0.9", 10)] if fire else []


def integration(store: Any, fire: bool) -> list[tuple[str, float | None]]:
    # slack: 1 failed sync of 2 = 50 % > 1 %, or 2 good syncs = 0 %
    sync = "integration_synced"
    load(
        store,
        identify("c1", "2026-01-05", status="active"),
        track("integration_connected", "2026-01-10", user="c1", provider="slack"),
        track(sync, "2026-02-02", user="c1", provider="slack", ok=True),
        track(sync, "2026-02-03", user="c1", provider="slack", ok=not fire),
    )
    return [("slack", 50.0)] if fire else []


def reseller_down(store: Any, fire: bool) -> list[tuple[str, float | None]]:
    # s1 had 5 clients at the end of the previous 30 days (Jan 29); 2 cancel on Feb 10 → 3:
    # (3 − 5) / 5 = −40 % (≤ −20 %); otherwise 5 → 5, 0 %
    clients = [identify(f"u{i}", "2026-01-10", partner_id="s1", status="active") for i in range(5)]
    cancelled = [identify(f"u{i}", "2026-02-10", status="cancelled") for i in (3, 4)]
    load(store, *partner("s1", "reseller"), *clients, *(cancelled if fire else []))
    return [("s1", -40.0)] if fire else []


def elite_idle(store: Any, fire: bool) -> list[tuple[str, float | None]]:
    # elite affiliate a1: a referral in January only (0 in February), or one on Feb 10
    day = "2026-01-15" if fire else "2026-02-10"
    load(
        store,
        *partner("a1", "affiliate", name="TechGuru", program_tier="elite"),
        track("referral_signed_up", day, user="r1", partner_id="a1"),
    )
    return [("a1", 0)] if fire else []


def below_target(store: Any, fire: bool) -> list[tuple[str, float | None]]:
    # 2 customers at the end of February against a target of 10 (20 %) or of 2 (on track)
    load(store, *[identify(f"c{i}", "2026-01-10", status="active") for i in range(2)])
    t.set_target(store, CATALOG, "customers.total", "2026-02", 10 if fire else 2)
    return [("customers.total|2026-02", 20.0)] if fire else []


SCENARIOS: dict[str, Scenario] = {
    "system_pulse_red": pulse_red,
    "error_rate_high": error_rate,
    "database_failures": database,
    "api_outage": api_outage,
    "missed_payment": missed_payment,
    "tier_downgrade_risk": tier_risk,
    "tier_upgrade_near": tier_upgrade,
    "partner_low_credit": low_credit,
    "high_value_transaction": high_value,
    "new_partner_application": application,
    "failed_logins": failed_logins,
    "bulk_exports": bulk_exports,
    "unauthorized_api_access": denied,
    "integration_error_rate": integration,
    "reseller_clients_down": reseller_down,
    "elite_affiliate_idle": elite_idle,
    "below_target": below_target,
}


def test_every_rule_has_a_scenario():
    assert set(SCENARIOS) == set(RULES)
    assert {r.severity for r in RULES.values()} == {"critical", "warning", "opportunity"}


@pytest.mark.parametrize("rule", sorted(SCENARIOS))
def test_rule_fires(store, rule):
    expected = SCENARIOS[rule](store, True)
    assert fired(store, rule) == expected


@pytest.mark.parametrize("rule", sorted(SCENARIOS))
def test_rule_stays_quiet(store, rule):
    SCENARIOS[rule](store, False)
    assert fired(store, rule) == []


def test_fires_once_clears_and_rearms_with_editable_threshold(store):
    error_rate(store, True)  # 10 % today
    assert fired(store, "error_rate_high") == [("platform", 10.0)]
    assert fired(store, "error_rate_high") == []  # still holds: not again
    state.set_threshold(store, "error_rate_high", 20)  # 10 % ≤ 20 %: clears
    assert fired(store, "error_rate_high") == []
    alerts = state.list_alerts(store)
    assert [(a["rule"], a["active"]) for a in alerts] == [("error_rate_high", False)]
    state.set_threshold(store, "error_rate_high", 5)  # holds again: re-armed, fires again
    assert fired(store, "error_rate_high") == [("platform", 10.0)]
    assert [a["active"] for a in state.list_alerts(store)] == [True, False]
    assert state.thresholds(store)["error_rate_high"] == 5


def test_a_firing_opens_an_action_item(store):
    elite_idle(store, True)
    fired(store, "elite_affiliate_idle")
    items = state.list_action_items(store)
    assert [(i["priority"], i["action"], i["owner"], i["due"], i["status"]) for i in items] == [
        ("high", "Reach out to a1 - check in", "Partner Manager", "2026-02-28", "pending")
    ]
    assert state.set_status(store, items[0]["id"], "in_progress")
    assert state.list_action_items(store, "in_progress")[0]["id"] == items[0]["id"]
    assert not state.set_status(store, 999, "done")
    with pytest.raises(ValueError):
        state.set_status(store, items[0]["id"], "maybe")


def test_alerts_api(store):
    application(store, True)
    state.evaluate(store, AS_OF, NOW)
    secrets = {
        name: keys.create(store, role=role, scopes=scopes)
        for name, role, scopes in (
            ("admin", "platform_admin", {"read", "write"}),
            ("executive", "executive", {"read"}),
            ("support", "support", {"read"}),
        )
    }
    auth = {k: {"Authorization": f"Bearer {v}"} for k, v in secrets.items()}
    with serving(store) as base, httpx.Client(base_url=base, timeout=60) as client:
        alerts = client.get("/api/v1/alerts", headers=auth["executive"]).json()["alerts"]
        assert [(a["rule"], a["subject"], a["severity"]) for a in alerts] == [
            ("new_partner_application", "p2", "warning")
        ]
        assert client.get("/api/v1/alerts", headers=auth["support"]).status_code == 403
        items = client.get("/api/v1/action-items", headers=auth["executive"]).json()
        item = items["action_items"][0]
        assert (item["action"], item["owner"]) == (
            "Review the application of p2",
            "Partner Manager",
        )
        change = {"id": item["id"], "status": "done"}
        assert (
            client.patch(
                "/api/v1/action-items/status", json=change, headers=auth["executive"]
            ).status_code
            == 403
        )  # no write scope
        done = client.patch("/api/v1/action-items/status", json=change, headers=auth["admin"])
        assert done.json() == change
        missing = client.patch(
            "/api/v1/action-items/status", json={"id": 99, "status": "done"}, headers=auth["admin"]
        )
        assert missing.status_code == 404
        rules = client.get("/api/v1/alert-rules", headers=auth["executive"]).json()["rules"]
        assert {r["id"]: r["threshold"] for r in rules}["error_rate_high"] == 5
        edited = client.patch(
            "/api/v1/alert-rules/threshold",
            json={"rule": "error_rate_high", "threshold": 3},
            headers=auth["admin"],
        )
        assert edited.json()["condition"] == "error rate today > 3 %"
        assert state.thresholds(store)["error_rate_high"] == 3
        assert audit.entries(store, action="settings_changed")[0].target == "alert:error_rate_high"
