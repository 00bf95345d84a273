"""system.* on hand-built datasets; every expected value is worked out by hand beside it."""

from __future__ import annotations

from datetime import date
from typing import Any

from messages import ask, identify, load, rows, track, value
from pulse.metrics import CATALOG
from pulse.metrics.engine import Engine
from pulse.metrics.tables import TableQuery, evaluate_table

FEB = ("2026-02-28", "this_month")


def table(store: Any, table_id: str, as_of: str, window: str = "this_month", **opts: Any) -> Any:
    query = TableQuery(table_id, date.fromisoformat(as_of), window, **opts)
    return evaluate_table(Engine(store, CATALOG), query)["rows"]


def check(when: str, ok: bool, ms: float | None = None) -> dict[str, Any]:
    props: dict[str, Any] = {"ok": ok}
    if ms is not None:
        props["duration_ms"] = ms
    return track("health_check", when, group="platform", **props)


def error(when: str, source: str, message: str) -> dict[str, Any]:
    return track("error_logged", when, group="platform", source=source, message=message)


def used(when: str, user: str = "c1") -> dict[str, Any]:
    return track("credits_consumed", when, user=user, credits=1, source="other")


SIGNALS = (
    check("2026-02-02", True, 100),
    check("2026-02-03", True, 200),
    check("2026-02-04", True, 300),
    check("2026-02-05", False, 12000),
    check("2026-02-06", True),  # no duration: not in the average
    check("2026-01-20", True, 50),  # January
    error("2026-02-07", "api", "Timeout"),
    error("2026-02-10", "api", "Rate limit exceeded"),
    error("2026-02-08", "db", "Slow query"),
    *[used(f"2026-02-{d:02d}") for d in range(1, 26)],
    *[used(f"2026-02-{d:02d} 18:00") for d in range(1, 26)],
)


def test_uptime_and_response_time(store):
    load(store, *SIGNALS)
    uptime = ask(store, "system.uptime", *FEB)
    # 4 passed of 5 → 80.0 < 99 → warning; January: 1 of 1 → 100.0
    assert (uptime["value"], uptime["status"], uptime["previous"]) == (80.0, "warning", 100.0)
    response = ask(store, "system.response_ms", *FEB)
    # (100 + 200 + 300 + 12000) / 4 timed checks = 3150 ms: between 2 s and 5 s → neutral
    assert (response["value"], response["status"]) == (3150.0, "neutral")
    assert value(store, "system.uptime", "2025-12-31", "this_month") is None  # no checks
    assert value(store, "system.response_ms", "2025-12-31", "this_month") is None


def test_uptime_of_99_5_is_healthy(store):
    stamps = [f"2026-02-01 {h:02d}:{m:02d}" for h in range(20) for m in range(0, 50, 5)]
    load(store, *[check(when, True) for when in stamps[:199]], check("2026-02-02", False))
    answer = ask(store, "system.uptime", *FEB)
    assert (answer["value"], answer["status"]) == (99.5, "healthy")  # 199 passed of 200


def test_errors_and_error_rate(store):
    load(store, *SIGNALS)
    errors = ask(store, "system.errors", *FEB, by="source")
    assert errors["value"] == 3
    assert rows(errors) == {"api": 2, "db": 1}
    rate = ask(store, "system.error_rate", *FEB)
    # 3 errors / 50 operations (health checks and errors are not operations) = 6.0 > 3
    assert (rate["value"], rate["status"]) == (6.0, "warning")
    assert rate["previous"] is None  # January: no operations, 0 / 0


def test_pulse_rows_and_overall_status(store):
    load(store, *SIGNALS)
    got = {row["component"]: row for row in table(store, "system.pulse", "2026-02-28")}
    assert got["uptime"]["status"] == "red"  # 80 % is in warning
    assert got["response_time"] == {
        "component": "response_time",
        "metric": "system.response_ms",
        "value": 3150,
        "unit": "milliseconds",
        "status": "yellow",  # neither healthy nor warning
        "healthy_when": "< 2000",
        "warning_when": "> 5000",
    }
    assert got["error_rate"]["status"] == "red"
    assert got["overall"]["status"] == "red"  # the worst


def test_pulse_green_and_unknown(store):
    assert [r["status"] for r in table(store, "system.pulse", "2026-02-28")] == ["unknown"] * 4
    load(store, check("2026-02-02", True, 300), used("2026-02-02"))
    statuses = {r["component"]: r["status"] for r in table(store, "system.pulse", "2026-02-28")}
    # 100 % up, 0 errors / 1 operation, 300 ms → all green
    assert statuses == dict.fromkeys(("uptime", "error_rate", "response_time", "overall"), "green")


def test_errors_by_source(store):
    load(store, *SIGNALS, error("2026-01-15", "worker", "Crash"))  # January: not listed
    assert table(store, "system.errors_by_source", "2026-02-28") == [
        {
            "source": "api",
            "count": 2,
            "last_message": "Rate limit exceeded",
            "last_seen": "2026-02-10T12:00:00+00:00",
        },
        {
            "source": "db",
            "count": 1,
            "last_message": "Slow query",
            "last_seen": "2026-02-08T12:00:00+00:00",
        },
    ]


ACTIVITY = (
    identify("c1", "2026-02-01", partner_id="p1"),  # traits: not activity
    used("2026-02-01 10:00"),
    track("chat_opened", "2026-02-02 09:00", user="c1", experience_id="x1"),
    track("invoice_paid", "2026-02-03 09:00", user="c1", amount=49.9, kind="subscription"),
    track("partner_approved", "2026-02-04 09:00", group="p1", partner_id="p1"),
    error("2026-02-05 09:00", "db", "Slow query"),
    check("2026-02-06 09:00", True, 200),  # a passing check: left out
    check("2026-02-07 09:00", False, 15000),
    track("chat_opened", "2026-01-30 09:00", user="c1", experience_id="x1"),  # January
)


def test_activity_log_most_recent_first(store):
    load(store, *ACTIVITY)
    got = table(store, "system.activity_log", "2026-02-28")
    assert [(r["type"], r["actor"], r["event"], r["detail"]) for r in got] == [
        ("error", "platform", "health_check", "health check failed after 15000 ms"),
        ("error", "platform", "error_logged", "db: Slow query"),
        ("system event", "p1", "partner_approved", None),
        ("transaction", "c1", "invoice_paid", "49.90 USD"),
        ("user action", "c1", "chat_opened", "x1"),
        ("user action", "c1", "credits_consumed", "1.00 credits"),
    ]
    assert got[0]["ts"] == "2026-02-07T09:00:00+00:00"


def test_activity_log_filter_limit_and_partner(store):
    load(store, *ACTIVITY)
    errors = table(store, "system.activity_log", "2026-02-28", where={"type": "error"}, limit=1)
    assert [r["event"] for r in errors] == ["health_check"]  # the latest error only
    mine = table(store, "system.activity_log", "2026-02-28", partner="p1")
    # p1's customer c1 and p1 itself; platform signals are not the partner's
    assert [r["event"] for r in mine] == [
        "partner_approved",
        "invoice_paid",
        "chat_opened",
        "credits_consumed",
    ]
