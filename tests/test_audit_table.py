"""The audit trail as the catalog table `audit.log` (the Logs tab), newest first, in window."""

from __future__ import annotations

from datetime import UTC, date, datetime

from pulse.access import audit
from pulse.metrics import CATALOG
from pulse.metrics.engine import Engine
from pulse.metrics.tables import TableQuery, evaluate_table


def log(store, when: str, action: str, actor: str = "ana") -> None:
    stamp = datetime.fromisoformat(when).replace(tzinfo=UTC)
    audit.record(store, actor=actor, action=action, target="t", ip="10.0.0.1", now=stamp)


def test_entries_of_the_window_newest_first_and_filtered(store):
    engine = Engine(store, CATALOG)
    query = TableQuery("audit.log", date(2026, 3, 10), "last_30d")
    assert evaluate_table(engine, query)["rows"] == []
    log(store, "2026-02-01 09:00", "login")  # before the window (starts 2026-02-09)
    log(store, "2026-03-01 09:00", "login")
    log(store, "2026-03-02 09:00", "login_failed", actor="eve")
    # read again at once: the audit log is never answered from memory
    rows = evaluate_table(engine, query)["rows"]
    assert [(r["action"], r["category"], r["actor"]) for r in rows] == [
        ("login_failed", "security", "eve"),
        ("login", "auth", "ana"),
    ]
    assert rows[0]["ts"] == "2026-03-02T09:00:00+00:00" and rows[0]["ip"] == "10.0.0.1"
    security = TableQuery("audit.log", date(2026, 3, 10), where={"category": "security"})
    assert [r["actor"] for r in evaluate_table(engine, security)["rows"]] == ["eve"]
