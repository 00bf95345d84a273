"""integrations.* on hand-built datasets; every expected value is worked out by hand beside it."""

from __future__ import annotations

from datetime import date
from typing import Any

from messages import ask, group, identify, load, rows, track, value
from pulse.metrics import CATALOG
from pulse.metrics.engine import Engine
from pulse.metrics.tables import TableQuery, evaluate_table

FEB = ("2026-02-28", "this_month")


def table(store: Any, table_id: str, as_of: str, window: str = "this_month", **opts: Any) -> Any:
    query = TableQuery(table_id, date.fromisoformat(as_of), window, **opts)
    return evaluate_table(Engine(store, CATALOG), query)["rows"]


def connect(user: str, when: str, provider: str) -> dict[str, Any]:
    return track("integration_connected", when, user=user, provider=provider)


def disconnect(user: str, when: str, provider: str) -> dict[str, Any]:
    return track("integration_disconnected", when, user=user, provider=provider)


def synced(user: str, when: str, provider: str, ok: bool, ms: float | None = None) -> Any:
    props: dict[str, Any] = {"provider": provider, "ok": ok}
    if ms is not None:
        props["duration_ms"] = ms
    return track("integration_synced", when, user=user, **props)


def test_users_per_provider_distinct_customers_and_share(store):
    load(
        store,
        *[identify(f"c{i}", "2026-01-05", status="active") for i in range(1, 6)],
        connect("c1", "2026-01-10", "slack"),
        connect("c1", "2026-01-20", "slack"),  # a repeat while connected: still one user
        connect("c1", "2026-02-01", "stripe"),
        connect("c2", "2026-02-03", "slack"),
        disconnect("c2", "2026-02-20", "slack"),  # gone again before Feb 28
        connect("c3", "2026-02-10", "stripe"),
        identify("c3", "2026-02-15", deleted=True),
        track("customer_deleted", "2026-02-15", user="c3"),  # deleted: drops out
        connect("c4", "2026-03-01", "slack"),  # after the window
    )
    answer = ask(store, "integrations.users", *FEB, by="provider")
    # Feb 28: slack = c1 (c2 disconnected); stripe = c1 (c3 deleted) → 1 and 1
    assert rows(answer) == {"slack": 1, "stripe": 1}
    assert answer["value"] == 2  # customer-provider pairs
    assert answer["previous"] == 1  # Jan 31: c1 on slack
    # distinct customers with an integration: c1 → 1 (counted once for two providers)
    assert value(store, "integrations.connected_customers", *FEB) == 1
    share = ask(store, "integrations.share", *FEB)
    # 1 / 4 customers (c1, c2, c4, c5; c3 deleted) = 25.0; Jan 31: 1 / 5 = 20.0
    assert (share["value"], share["previous"]) == (25.0, 20.0)


def test_customer_connected_again_after_disconnecting(store):
    load(
        store,
        identify("c1", "2026-01-05", status="active"),
        connect("c1", "2026-01-10", "slack"),
        connect("c1", "2026-01-11", "zapier"),
        disconnect("c1", "2026-01-12", "slack"),  # still on zapier: still connected
        disconnect("c1", "2026-01-20", "zapier"),  # nothing left
        connect("c1", "2026-02-05", "slack"),
    )
    assert value(store, "integrations.connected_customers", "2026-01-15", "last_30d") == 1
    answer = ask(store, "integrations.connected_customers", *FEB)
    assert (answer["value"], answer["previous"]) == (1, 0)  # Feb 28 on slack; Jan 31 none


def test_share_without_customers_is_none(store):
    assert value(store, "integrations.share", *FEB) is None  # 0 / 0


def test_sync_uptime_error_rate_and_average_time(store):
    load(
        store,
        identify("c1", "2026-01-05", status="active"),
        synced("c1", "2026-02-02", "slack", True, 400),
        synced("c1", "2026-02-03", "slack", True, 600),
        synced("c1", "2026-02-04", "slack", False, 2000),
        synced("c1", "2026-02-05", "slack", True),  # no duration: not in the average
        *[synced("c1", f"2026-02-{d:02d}", "stripe", True, 100) for d in range(6, 16)],
        synced("c1", "2026-01-15", "stripe", False, 100),  # January
    )
    assert rows(ask(store, "integrations.syncs", *FEB, by="provider")) == {
        "stripe": 10,
        "slack": 4,
    }
    uptime = rows(ask(store, "integrations.uptime", *FEB, by="provider"))
    assert uptime == {"stripe": 100.0, "slack": 75.0}  # 10/10; 3 ok of 4
    errors = ask(store, "integrations.error_rate", *FEB, by="provider")
    # slack 1/4 = 25.0 > 1 → warning; stripe 0/10 = 0.0 ≤ 1 → healthy
    statuses = {row["key"]: (row["value"], row["status"]) for row in errors["rows"]}
    assert statuses == {"slack": (25.0, "warning"), "stripe": (0.0, "healthy")}
    # all: 1 failed / 14 = 7.1429; January: 1 / 1 = 100.0
    assert (errors["value"], errors["previous"]) == (7.1429, 100.0)
    assert rows(ask(store, "integrations.avg_sync_ms", *FEB, by="provider")) == {
        "slack": 1000.0,  # (400 + 600 + 2000) / 3 timed syncs
        "stripe": 100.0,
    }
    # a window without syncs: no rate, no average
    empty = ("2025-12-31", "this_month")
    assert value(store, "integrations.uptime", *empty) is None
    assert value(store, "integrations.avg_sync_ms", *empty) is None


def test_api_calls_sum_their_count(store):
    load(
        store,
        track("api_called", "2026-02-02", user="c1", provider="slack", count=120),
        track("api_called", "2026-02-03", user="c1", provider="slack"),  # no count: 1 call
        track("api_called", "2026-02-04", user="c2", provider="zapier", count=30),
    )
    answer = ask(store, "integrations.api_calls", *FEB, by="provider")
    assert rows(answer) == {"slack": 121, "zapier": 30}
    assert answer["value"] == 151  # 120 + 1 + 30


def test_retention_impact_compares_with_and_without(store):
    load(
        store,
        *[identify(f"w{i}", "2026-01-05", status="active") for i in range(1, 5)],
        *[connect(f"w{i}", "2026-01-10", "slack") for i in range(1, 5)],
        *[identify(f"n{i}", "2026-01-05", status="active") for i in range(1, 5)],
        identify("w1", "2026-02-10", status="churned"),  # 1 of 4 with an integration
        identify("n1", "2026-02-10", status="cancelled"),  # 2 of 4 without
        identify("n2", "2026-02-11", status="churned"),
        connect("n3", "2026-02-05", "zapier"),  # connects in the window: still "without"
        identify("n3", "2026-02-12", status="churned"),  # … so a third churn without
    )
    answer = ask(store, "integrations.retention_impact", *FEB)
    # with: 1/4 churned → 75.0 retained; without: 3/4 → 25.0 retained → +50 points
    assert answer["value"] == 50.0
    assert answer["previous"] is None  # January: nobody open at Jan 1 → no rates


def test_providers_table_reads_the_catalog(store):
    load(
        store,
        *[identify(f"c{i}", "2026-01-05", status="active") for i in range(1, 5)],
        connect("c1", "2026-01-10", "slack"),
        connect("c2", "2026-01-10", "slack"),
        connect("c1", "2026-01-10", "stripe"),
        synced("c1", "2026-02-02", "slack", True, 300),
        synced("c2", "2026-02-02", "slack", False, 500),
        track("api_called", "2026-02-04", user="c1", provider="stripe", count=7),
    )
    got = table(store, "integrations.providers", "2026-02-28")
    assert got == [
        # 2 users / 4 customers = 50 %; 1 ok of 2 syncs; (300 + 500) / 2 ms
        {
            "provider": "slack",
            "users": 2,
            "share": 50.0,
            "syncs": 2,
            "uptime": 50.0,
            "error_rate": 50.0,
            "avg_sync_ms": 400.0,
            "api_calls": None,
        },
        # 1 / 4 = 25 %; no syncs: rates None; 7 calls
        {
            "provider": "stripe",
            "users": 1,
            "share": 25.0,
            "syncs": None,
            "uptime": None,
            "error_rate": None,
            "avg_sync_ms": None,
            "api_calls": 7,
        },
    ]


def test_pipeline_shows_latest_stage_as_of_the_end(store):
    def integ(gid: str, when: str, **traits: Any) -> dict[str, Any]:
        return group(gid, when, entity="integration", **traits)

    load(
        store,
        integ("i_zoom", "2026-01-05", provider="zoom", name="Zoom", stage="discovery"),
        integ("i_zoom", "2026-02-10", stage="planned", potential_users=2500),
        integ("i_zoom", "2026-03-10", stage="live"),  # after Feb 28
        integ(
            "i_shop",
            "2026-01-05",
            provider="shopify",
            name="Shopify",
            stage="development",
            potential_users=1500,
            revenue_potential=1200,
            expected_launch="2026-Q2",
        ),
        integ("i_late", "2026-03-01", provider="docusign", stage="discovery"),  # not yet known
    )
    got = table(store, "integrations.pipeline", "2026-02-28")
    # ordered by stage: development before planned
    assert [(r["integration"], r["stage"]) for r in got] == [
        ("i_shop", "development"),
        ("i_zoom", "planned"),
    ]
    assert got[0]["revenue_potential"] == 1200 and got[0]["expected_launch"] == "2026-Q2"
    assert got[1]["potential_users"] == 2500 and got[1]["revenue_potential"] is None
    assert table(store, "integrations.pipeline", "2025-12-31") == []
