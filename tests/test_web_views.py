"""Tables shown in a view of their own, over HTTP: funnels as charts read from the funnel
tables' cells, and alert / action-item tables as lists with a severity badge per row."""

from __future__ import annotations

import html
import json
import re
from typing import Any

import altair as alt
import httpx
import jsonschema
import pandas as pd
import pytest

from browser import AS_OF, Site, client_fixture, demo_store_fixture, site_fixture  # noqa: F401
from pulse.metrics import CATALOG
from pulse.metrics.catalog import Column, Table
from pulse.web import charts


def table_answer(client: httpx.Client, table_id: str, **params: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/tables/{table_id}", params={"as_of": AS_OF, **params})
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def spec_of(fragment: str) -> dict[str, Any]:
    found = re.search(r"data-spec='([^']*)'", fragment)
    assert found, fragment[:300]
    spec: dict[str, Any] = json.loads(html.unescape(found.group(1)))
    return spec


def bars(spec: dict[str, Any]) -> list[dict[str, Any]]:
    (values,) = spec["datasets"].values()
    rows: list[dict[str, Any]] = values
    return rows


# -- funnels ---------------------------------------------------------------------------------

FUNNEL = {
    "table": "t.funnel",
    "label": "Funnel",
    "columns": [
        {"name": "step", "label": "Step", "unit": "text"},
        {"name": "count", "label": "Count", "unit": "count"},
        {"name": "step_rate", "label": "Step rate", "unit": "percent"},
        {"name": "rate_from_clicks", "label": "Rate from clicks", "unit": "percent"},
    ],
    "rows": [
        {"step": "clicks", "count": 200, "step_rate": 100, "rate_from_clicks": 100},
        {"step": "signups", "count": 50, "step_rate": 25, "rate_from_clicks": 25},
        {"step": "paid", "count": 5, "step_rate": 10, "rate_from_clicks": 2.5},
    ],
}


def test_funnel_chart_hand_worked() -> None:
    """Clicks 200 → sign-ups 50 (25 % of clicks) → paid 5 (10 % of sign-ups, 2.5 % of clicks):
    bars centred on 0 (-100..100, -25..25, -2.5..2.5), each labelled with its count and, after
    the first step, the rate from the step before; hover shows both rates."""
    spec = charts.funnel_chart(FUNNEL)
    shown = [(b["step"], b["left"], b["right"], b["text"]) for b in bars(spec)]
    assert shown == [
        ("Clicks", -100, 100, "200"),
        ("Signups", -25, 25, "50  ·  25.0%"),
        ("Paid", -2.5, 2.5, "5  ·  10.0%"),
    ]
    assert [b["overall"] for b in bars(spec)] == ["100.0%", "25.0%", "2.5%"]
    bar_layer, text_layer = spec["layer"]
    assert bar_layer["mark"]["type"] == "bar" and text_layer["mark"]["type"] == "text"
    assert bar_layer["encoding"]["y"]["sort"] == ["Clicks", "Signups", "Paid"]  # table order
    tips = [t["title"] for t in bar_layer["encoding"]["tooltip"]]
    assert tips == ["Step", "Count", "Step rate", "Rate from clicks"]


def test_chart_specs_are_valid_vega_lite() -> None:
    """Specs are written without Altair's validation (about 10 ms a chart with its data inline,
    on every page after new data): the Vega-Lite schema checks each kind of chart here."""
    validator = jsonschema.Draft7Validator(alt.load_schema())
    flow, stock = CATALOG.metrics["customers.new"], CATALOG.metrics["customers.total"]
    series = {
        "series": [{"period": "2026-01-01", "value": 3}, {"period": "2026-01-02", "value": None}]
    }
    breakdown = {"by": "status", "rows": [{"key": "active", "value": 2}, {"key": None, "value": 1}]}
    specs = {
        "bars": charts.series_chart(flow, series, "day", cumulative=False),
        "cumulated": charts.series_chart(flow, series, "day", cumulative=True),
        "line": charts.series_chart(stock, series, "week", cumulative=False),
        "breakdown": charts.breakdown_chart(flow, breakdown),
        "funnel": charts.funnel_chart(FUNNEL),
    }
    assert specs["bars"]["mark"]["type"] == "bar" and specs["line"]["mark"]["type"] == "line"
    for kind, spec in specs.items():
        assert [e.message for e in validator.iter_errors(spec)] == [], kind
    specs["bars"]["mark"]["type"] = "bars"  # what the schema would catch
    assert not validator.is_valid(specs["bars"])


@pytest.mark.parametrize(
    ("table_id", "label"), [("experiences.funnel", "label"), ("affiliates.funnel", "step")]
)
def test_funnel_fragment_reads_the_table_answer(
    client: httpx.Client, table_id: str, label: str
) -> None:
    fragment = client.get(f"/web/tables/{table_id}", params={"as_of": AS_OF, "view": "funnel"}).text
    answer = table_answer(client, table_id)
    assert len(answer["rows"]) == 4
    shown = bars(spec_of(fragment))
    assert [b["count"] for b in shown] == [r["count"] for r in answer["rows"]]
    assert [b["step"].lower() for b in shown] == [str(r[label]).lower() for r in answer["rows"]]
    for bar, row in zip(shown[1:], answer["rows"][1:], strict=True):
        assert bar["text"] == f"{row['count']:,}  ·  {row['step_rate']:,.1f}%"
    assert f'data-funnel="{table_id}"' in fragment
    assert f'<table class="sortable" data-table="{table_id}">' in fragment  # and the table


def test_pages_ask_for_the_funnel_views(client: httpx.Client) -> None:
    experiences = client.get("/experiences", params={"as_of": AS_OF}).text
    assert f"/web/tables/experiences.funnel?window=last_30d&amp;as_of={AS_OF}&amp;view=funnel" in (
        experiences
    )
    program = client.get("/program", params={"as_of": AS_OF}).text
    assert f"/web/tables/affiliates.funnel?window=last_30d&amp;as_of={AS_OF}&amp;view=funnel" in (
        program
    )


# -- alert lists -----------------------------------------------------------------------------

ALERTS = pd.DataFrame(
    {
        "severity": ["critical", "warning", "opportunity"],
        "message": ["Uptime 97.1% below 99.5%", "Churn up 40%", "Affiliate X doubled revenue"],
        "value": [97.1, 40.0, None],
    }
)
ACTIONS = pd.DataFrame(
    {
        "priority": ["high", "low"],
        "action": ["Call the hosting provider", "Offer affiliate X a higher tier"],
        "owner": ["ops", "partnerships"],
    }
)


def fake(table_id: str, frame: pd.DataFrame, columns: tuple[Column, ...]) -> Table:
    return Table(table_id, table_id, "Stand-in for the alert tables.", columns, lambda _: frame)


@pytest.fixture
def alert_tables(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hand-built stand-ins with the ids the alert tables have in the catalog."""
    alerts = (Column("severity", "Severity", "text"), Column("message", "Message", "text"))
    alerts += (Column("value", "Value"),)
    actions = (Column("priority", "Priority", "text"), Column("action", "Action", "text"))
    actions += (Column("owner", "Owner", "text"),)
    monkeypatch.setitem(CATALOG.tables, "alerts.active", fake("alerts.active", ALERTS, alerts))
    monkeypatch.setitem(
        CATALOG.tables, "alerts.action_items", fake("alerts.action_items", ACTIONS, actions)
    )


def levels(fragment: str) -> list[str]:
    return re.findall(r'class="alert-item sev-[a-z]+" data-level="([a-z]+)"', fragment)


@pytest.mark.usefixtures("alert_tables")
def test_alerts_list_with_a_severity_badge_per_row(client: httpx.Client) -> None:
    params = {"as_of": AS_OF, "view": "alerts"}
    fragment = client.get("/web/tables/alerts.active", params=params).text
    assert levels(fragment) == ["critical", "warning", "opportunity"]
    assert '<span class="badge severity-critical">critical</span>' in fragment
    assert '<p class="alert-title">Uptime 97.1% below 99.5%</p>' in fragment
    assert "<span data-count>3</span>" in fragment.replace('class="count" ', "")
    assert fragment.count('<span class="k">Value</span>') == 2  # the third row has no value
    # action items: priority high reads in the critical colour, low in the opportunity one
    fragment = client.get("/web/tables/alerts.action_items", params=params).text
    assert levels(fragment) == ["critical", "opportunity"]
    assert '<span class="badge severity-critical">high</span>' in fragment


@pytest.mark.usefixtures("alert_tables")
def test_program_and_admin_overview_show_the_alert_lists(client: httpx.Client) -> None:
    program = client.get("/program", params={"as_of": AS_OF}).text
    alerts_section = program[program.index('data-section="alerts"') :]
    for table_id in ("alerts.active", "alerts.action_items"):
        assert f"/web/tables/{table_id}?window=last_30d&amp;as_of={AS_OF}&amp;view=alerts" in (
            alerts_section
        )
    admin = client.get("/admin", params={"as_of": AS_OF}).text
    overview = admin[
        admin.index('data-section="overview"') : admin.index('data-section="partners"')
    ]
    assert "/web/tables/alerts.active?" in overview and "view=alerts" in overview
