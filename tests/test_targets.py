"""Metric targets: periods, status, storage, the engine's target fields, CSV import, the API,
the CLI and the `targets.status` table; every expected value is worked out by hand beside it."""

from __future__ import annotations

import math
import threading
import time
from datetime import date
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from typer.testing import CliRunner

from messages import ask, identify, load, track
from pulse.access import audit
from pulse.api import targets as targets_api
from pulse.cli import app as cli_app
from pulse.metrics import CATALOG
from pulse.metrics import targets as t
from pulse.metrics.engine import Engine
from pulse.metrics.tables import TableQuery, evaluate_table
from pulse.metrics.windows import parse_window
from pulse.settings import Settings
from server import free_port

# -- periods ------------------------------------------------------------------------------------


def test_periods_are_months_quarters_and_years():
    assert t.parse_period("2026-02") == t.Period("2026-02", date(2026, 2, 1), date(2026, 2, 28))
    assert t.parse_period("2024-02").last == date(2024, 2, 29)  # leap year
    assert t.parse_period("2026-Q4") == t.Period("2026-Q4", date(2026, 10, 1), date(2026, 12, 31))
    assert t.parse_period("2026") == t.Period("2026", date(2026, 1, 1), date(2026, 12, 31))
    for bad in ("2026-13", "2026-00", "2026-Q5", "2026-Q0", "26-01", "2026-1", "2026-q1", "x"):
        with pytest.raises(ValueError, match=r"^period: "):
            t.parse_period(bad)


@pytest.mark.parametrize(
    ("spec", "as_of", "period"),
    [
        ("this_month", "2026-11-22", "2026-11"),  # month to date: the month's target
        ("last_month", "2026-11-22", "2026-10"),
        ("2026-02-01..2026-02-28", "2026-03-05", "2026-02"),  # a custom whole month
        ("2026-10-01..2026-12-31", "2026-12-31", "2026-Q4"),
        ("2026-01-01..2026-12-31", "2026-12-31", "2026"),
        ("2026-02-01..2026-02-27", "2026-03-05", None),  # one day short of the month
        ("2026-01-15..2026-02-14", "2026-03-05", None),  # a month long, not a calendar month
        ("2026-11-01..2026-12-31", "2026-12-31", None),  # two months, not a quarter
        ("last_30d", "2026-11-30", None),  # Nov 1..30 by chance: rolling windows never match
        ("last_12m", "2026-12-31", None),
    ],
)
def test_a_query_gets_the_target_of_the_period_its_window_is(spec, as_of, period):
    assert t.window_period(spec, parse_window(spec, date.fromisoformat(as_of))) == period


# -- status -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "target", "direction", "status"),
    [
        (100, 100, "up", "on_track"),  # at target
        (130, 100, "up", "on_track"),
        (80, 100, "up", "at_risk"),  # exactly 20 % short: still within
        (79.9, 100, "up", "off_track"),  # 20.1 % short
        (72, 80, "up", "at_risk"),  # seed 003 activation: 8 / 80 = 10 % short
        (142, 200, "up", "off_track"),  # seed 003 avg partner revenue: 58 / 200 = 29 % short
        (0, 0, "up", "on_track"),
        (3, 3, "down", "on_track"),  # lower is better: at target
        (2, 3, "down", "on_track"),
        (3.6, 3, "down", "at_risk"),  # 0.6 over = 20 % of 3
        (4, 3, "down", "off_track"),  # seed 003 partner churn 4 % vs 3 %: 33 % over
        (110, 100, "none", "on_track"),  # no stated direction: higher is taken as better
        (-12, -10, "up", "at_risk"),  # negative target: 2 short of −10 = 20 % of |−10|
        (None, 100, "up", None),  # no value, no status
        (100, None, "up", None),
        (math.nan, 100, "up", None),
    ],
)
def test_status_green_amber_red(value, target, direction, status):
    assert t.target_status(value, target, direction) == status


# -- storage ------------------------------------------------------------------------------------


def test_targets_are_upserted_listed_and_deleted(store):
    t.set_target(store, CATALOG, "revenue.total", "2026-11", 25000)
    t.set_target(store, CATALOG, "revenue.total", "2026-Q4", "60000")  # text from a CLI or CSV
    t.set_target(store, CATALOG, "customers.total", "2026", 1500)
    t.set_target(store, CATALOG, "revenue.total", "2026-11", 26000)  # replaces 25000
    assert t.list_targets(store) == [
        t.Target("customers.total", "2026", 1500.0),
        t.Target("revenue.total", "2026-11", 26000.0),
        t.Target("revenue.total", "2026-Q4", 60000.0),
    ]
    assert t.list_targets(store, "revenue.total", ["2026-Q4"]) == [
        t.Target("revenue.total", "2026-Q4", 60000.0)
    ]
    assert t.delete_target(store, "revenue.total", "2026-11") is True
    assert t.delete_target(store, "revenue.total", "2026-11") is False  # already gone
    assert [x.period for x in t.list_targets(store, "revenue.total")] == ["2026-Q4"]


def test_a_target_needs_a_known_metric_a_period_and_a_finite_number():
    with pytest.raises(KeyError, match=r"revenue\.nope"):
        t.checked(CATALOG, "revenue.nope", "2026-11", 1)
    with pytest.raises(ValueError, match=r"^period: "):
        t.checked(CATALOG, "revenue.total", "2026-11-01", 1)
    for bad in ("abc", None, True, float("nan"), "inf"):
        with pytest.raises(ValueError, match=r"^value: "):
            t.checked(CATALOG, "revenue.total", "2026-11", bad)


# -- the engine's answer ------------------------------------------------------------------------


def paid(user: str, when: str, amount: float) -> dict[str, object]:
    return track("invoice_paid", when, user=user, amount=amount, kind="subscription")


def test_the_metric_answer_carries_the_target_of_its_period(store):
    load(
        store,
        identify("c1", "2026-09-01", status="active", partner_id="p1"),
        identify("c2", "2026-09-01", status="active"),
        paid("c1", "2026-10-05", 300),
        paid("c2", "2026-11-03", 900),
        paid("c1", "2026-11-10", 100),
        paid("c2", "2026-12-02", 800),
    )
    t.set_target(store, CATALOG, "revenue.total", "2026-11", 1200)
    t.set_target(store, CATALOG, "revenue.total", "2026-Q4", 2500)
    t.set_target(store, CATALOG, "revenue.total", "2026-10", 500)
    november = ask(store, "revenue.total", "2026-11-30", "this_month")
    # 900 + 100 = 1000 of 1200: 200 short = 16.7 % → at risk
    assert (november["value"], november["target"], november["target_status"]) == (
        1000,
        1200,
        "at_risk",
    )
    october = ask(store, "revenue.total", "2026-11-30", "last_month")
    assert (october["value"], october["target"], october["target_status"]) == (
        300,
        500,
        "off_track",  # 200 short of 500 = 40 %
    )
    q4 = ask(store, "revenue.total", "2026-12-31", "2026-10-01..2026-12-31")
    # 300 + 1000 + 800 = 2100 of 2500: 400 short = 16 % → at risk
    assert (q4["value"], q4["target"], q4["target_status"]) == (2100, 2500, "at_risk")
    # a year window with only monthly and quarterly targets: no target, no guess
    year = ask(store, "revenue.total", "2026-12-31", "2026-01-01..2026-12-31")
    assert (year["value"], year["target"], year["target_status"]) == (2100, None, None)
    rolling = ask(store, "revenue.total", "2026-11-30", "last_30d")
    assert (rolling["target"], rolling["target_status"]) == (None, None)
    # program targets are not a partner's: p1's November (100) shows none
    partner = ask(store, "revenue.total", "2026-11-30", "this_month", partner="p1")
    assert (partner["value"], partner["target"], partner["target_status"]) == (100, None, None)
    # a month without a target
    december = ask(store, "revenue.total", "2026-12-31", "this_month")
    assert (december["target"], december["target_status"]) == (None, None)


def test_lower_is_better_metrics_are_judged_the_other_way(store):
    load(
        store,
        identify("c1", "2026-01-05", status="active"),
        identify("c2", "2026-01-05", status="active"),
        identify("c3", "2026-01-05", status="active"),
        track("status_changed", "2026-02-10", user="c1", to="churned"),
        track("status_changed", "2026-02-12", user="c2", to="cancelled"),
    )
    t.set_target(store, CATALOG, "customers.churned", "2026-02", 1)
    answer = ask(store, "customers.churned", "2026-02-28", "this_month")
    # 2 churned against at most 1: 100 % over → off track (direction "down")
    assert (answer["value"], answer["target"], answer["target_status"]) == (2, 1, "off_track")
    t.set_target(store, CATALOG, "customers.churned", "2026-02", 2)
    again = ask(store, "customers.churned", "2026-02-28", "this_month")
    assert (again["value"], again["target"], again["target_status"]) == (2, 2, "on_track")


# -- CSV import ---------------------------------------------------------------------------------


def test_csv_import_stores_all_lines(store):
    text = (
        "metric,period,value\n"
        "revenue.total,2026-11,25000\n"
        "\n"  # a blank line is skipped
        "partners.total, 2026 ,1500\n"  # spaces around a field are trimmed
    )
    assert t.import_csv(store, CATALOG, text) == 2
    assert t.list_targets(store) == [
        t.Target("partners.total", "2026", 1500.0),
        t.Target("revenue.total", "2026-11", 25000.0),
    ]


@pytest.mark.parametrize(
    ("text", "error"),
    [
        (
            "metric,period,value\nrevenue.total,2026-11,1\nrevenue.total,2026-12,x\n",
            "line 3: value:",
        ),
        ("metric,period,value\nrevenue.nope,2026-11,1\n", "line 2: metric:"),
        (
            "metric,period,value\nrevenue.total,2026-11,1\nrevenue.total,2026-14,1\n",
            "line 3: period:",
        ),
        (
            "metric,period,value\nrevenue.total,2026-11,1\nrevenue.total,2026-11,2\n",
            "line 3: period:",
        ),
        ("metric,period\nrevenue.total,2026-11\n", "line 1: header:"),
        ("metric,period,value\n", "line 1: file:"),
    ],
)
def test_csv_import_is_all_or_nothing_and_names_line_and_field(store, text, error):
    with pytest.raises(ValueError, match=f"^{error}"):
        t.import_csv(store, CATALOG, text)
    assert t.list_targets(store) == []  # the good first lines were not stored either


# -- the KPI table ------------------------------------------------------------------------------


def test_targets_status_table_shows_the_current_periods(store):
    load(
        store,
        identify("c1", "2026-09-01", status="active"),
        identify("c2", "2026-10-01", status="active"),
        identify("c3", "2026-11-10", status="active"),
        paid("c1", "2026-10-05", 300),
        paid("c1", "2026-11-03", 900),
        paid("c2", "2026-11-25", 500),  # after the as-of date (Nov 20): not counted yet
    )
    t.import_csv(
        store,
        CATALOG,
        "metric,period,value\n"
        "revenue.total,2026-11,1000\n"
        "revenue.total,2026-10,250\n"  # October is over: not a current period
        "revenue.total,2026,1500\n"
        "customers.total,2026-Q4,4\n"
        "customers.churn_rate,2027,5\n",  # a future year: not current either
    )
    answer = table(store, "2026-11-20")
    assert answer == [  # by metric, then period
        # customers at Nov 20: c1, c2, c3 = 3 of 4 → 25 % short → off track
        ["customers.total", "Total customers", "count", "2026-Q4", 4, 3, 1, "off_track"],
        # Jan 1 - Nov 20: 300 + 900 = 1200 of 1500 → 20 % short → at risk
        ["revenue.total", "Revenue", "money", "2026", 1500, 1200, 300, "at_risk"],
        # Nov 1-20: 900 of 1000 → 10 % short → at risk
        ["revenue.total", "Revenue", "money", "2026-11", 1000, 900, 100, "at_risk"],
    ]
    october = table(store, "2026-11-20", period="2026-10")
    # the whole of October: 300 of 250 → on track
    assert october == [["revenue.total", "Revenue", "money", "2026-10", 250, 300, -50, "on_track"]]
    future = table(store, "2026-11-20", period="2027")
    assert future == [
        ["customers.churn_rate", "Churn rate", "percent", "2027", 5, None, None, None]
    ]


def table(store, as_of: str, **params: str) -> list[list[object]]:
    answer = evaluate_table(
        Engine(store, CATALOG),
        TableQuery("targets.status", as_of=date.fromisoformat(as_of), params=params),
    )
    return [list(r.values()) for r in answer["rows"]]


# -- API and CLI --------------------------------------------------------------------------------


@pytest.fixture
def client(store):
    """The target routes alone (access rules are the app's, tested with the app)."""
    app = FastAPI()
    app.state.store = store
    app.state.settings = Settings(db=store.url)
    app.include_router(targets_api.router)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{server.config.port}", timeout=30) as c:
            yield c
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_api_sets_lists_and_deletes_targets(client, store):
    put = client.put("/api/v1/targets/revenue.total/2026-Q4", json={"value": 60000})
    assert put.status_code == 200
    assert put.json() == {"metric": "revenue.total", "period": "2026-Q4", "value": 60000}
    client.put("/api/v1/targets/revenue.total/2026-11", json={"value": 25000.5})
    listed = client.get("/api/v1/targets", params={"metric": "revenue.total"}).json()
    assert listed["targets"] == [
        {"metric": "revenue.total", "period": "2026-11", "value": 25000.5},
        {"metric": "revenue.total", "period": "2026-Q4", "value": 60000},
    ]
    only_q4 = client.get("/api/v1/targets", params={"period": "2026-Q4"}).json()["targets"]
    assert [x["period"] for x in only_q4] == ["2026-Q4"]
    assert client.delete("/api/v1/targets/revenue.total/2026-11").status_code == 200
    assert client.delete("/api/v1/targets/revenue.total/2026-11").status_code == 404
    assert len(client.get("/api/v1/targets").json()["targets"]) == 1
    # every change is a settings change in the audit log (newest first; the 404 changed nothing)
    changed = audit.entries(store, action="settings_changed")
    assert [(e.target, e.detail) for e in changed] == [
        ("target:revenue.total:2026-11", {"deleted": True}),
        ("target:revenue.total:2026-11", {"value": 25000.5}),
        ("target:revenue.total:2026-Q4", {"value": 60000}),
    ]


def test_api_names_what_is_wrong(client):
    unknown = client.put("/api/v1/targets/revenue.nope/2026-11", json={"value": 1})
    assert unknown.status_code == 404 and "revenue.nope" in unknown.json()["detail"]
    period = client.put("/api/v1/targets/revenue.total/2026-13", json={"value": 1})
    assert period.status_code == 422 and period.json()["detail"].startswith("period:")
    value = client.put("/api/v1/targets/revenue.total/2026-11", json={"value": "many"})
    assert value.status_code == 422
    listed = client.get("/api/v1/targets", params={"period": "Q4"})
    assert listed.status_code == 422 and listed.json()["detail"].startswith("period:")
    assert client.get("/api/v1/targets").json() == {"targets": []}


def flat(text: str) -> str:
    """CLI output without the line breaks the console wraps it with."""
    return " ".join(text.split())


def test_cli_sets_imports_and_lists_targets(store_url, tmp_path: Path):
    runner = CliRunner()
    db = ["--db", store_url]
    done = runner.invoke(cli_app, ["target", "set", "revenue.total", "2026-11", "25000", *db])
    assert done.exit_code == 0, done.output
    bad = runner.invoke(cli_app, ["target", "set", "revenue.total", "2026-11", "lots", *db])
    assert bad.exit_code == 2 and "value:" in flat(bad.output)
    good_then_bad = tmp_path / "targets.csv"
    good_then_bad.write_text("metric,period,value\npartners.total,2026,1500\nnope.x,2026,1\n")
    refused = runner.invoke(cli_app, ["target", "import", str(good_then_bad), *db])
    assert refused.exit_code == 2 and "line 3: metric: unknown id" in flat(refused.output)
    good = tmp_path / "good.csv"
    good.write_text("metric,period,value\npartners.total,2026,1500\n")
    assert runner.invoke(cli_app, ["target", "import", str(good), *db]).exit_code == 0
    listed = runner.invoke(cli_app, ["target", "list", "--json", *db])
    assert listed.exit_code == 0, listed.output
    assert '"period": "2026"' in listed.output and '"value": 25000' in listed.output
    assert listed.output.count('"metric"') == 2  # nothing of the refused file
    removed = runner.invoke(cli_app, ["target", "delete", "partners.total", "2026", *db])
    assert removed.exit_code == 0
    listed = runner.invoke(cli_app, ["target", "list", "--json", *db])
    assert listed.output.count('"metric"') == 1
