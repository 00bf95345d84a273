"""Dashboard pages and fragments over HTTP (no browser): formatting, page specs, the period
in the URL, "not available" ids, and fragments that read what the metric API reads."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from browser import ARTIFACTS, AS_OF, Site, client_fixture, demo_store_fixture, site_fixture  # noqa: F401
from pulse.metrics import CATALOG
from pulse.metrics.catalog import Flow, Metric
from pulse.metrics.engine import Engine
from pulse.web.format import format_change, format_value
from pulse.web.pages import PAGES
from pulse.web.routes import missing_ids


def api_answer(client: httpx.Client, metric_id: str, **params: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/metrics/{metric_id}", params={"as_of": AS_OF, **params})
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


# -- formatting --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (1406, "count", "1,406"),
        (1406.0, "credits", "1,406"),
        (10.44, "count", "10.4"),
        (10.4478, "percent", "10.4%"),
        (28003.9071, "money", "$28,004"),  # ≥ 1000: whole dollars
        (12.5, "money", "$12.50"),  # below: cents
        (-1227.0, "money", "-$1,227"),
        (178.3688, "money_per_month", "$178.37/mo"),
        (1695.8235, "credits_per_customer", "1,695.8"),
        (2.3125, "minutes", "2.3 min"),
        (3.28, "hours", "3.3 h"),
        (4.5, "days", "4.5 days"),
        (1326.4, "milliseconds", "1,326 ms"),
        (47.2222, "score", "47.2"),
        (3.2, "ratio", "3.2 : 1"),
        (None, "percent", "—"),
        ("growth_potential", "text", "growth_potential"),
        ("2026-11-22", "date", "2026-11-22"),
        ("2026-11-22T23:58:44+00:00", "datetime", "2026-11-22 23:58 UTC"),
    ],
)
def test_values_read_by_unit(value: Any, unit: str, text: str) -> None:
    assert format_value(value, unit) == text


def test_money_in_the_reporting_currency() -> None:
    assert format_value(1500, "money", "EUR") == "€1,500"
    assert format_value(5, "money", "CHF") == "CHF 5.00"


@pytest.mark.parametrize(
    ("change", "direction", "arrow", "text", "tone"),
    [
        (12.25, "up", "▲", "12.2%", "good"),  # up is good for an up metric
        (-3.0, "up", "▼", "3.0%", "bad"),
        (266.0, "down", "▲", "266.0%", "bad"),  # churn rising is bad
        (-8.0, "down", "▼", "8.0%", "good"),
        (4.0, "none", "▲", "4.0%", "flat"),  # no direction: no judgement
        (0.0, "up", "", "0.0%", "flat"),
        (None, "up", "", "—", "flat"),  # nothing to compare with
    ],
)
def test_change_arrow_and_tone_follow_direction(
    change: float | None, direction: str, arrow: str, text: str, tone: str
) -> None:
    shown = format_change(change, direction)
    assert (shown.arrow, shown.text, shown.tone) == (arrow, text, tone)


# -- page specs --------------------------------------------------------------------------------


def test_page_specs_are_well_formed() -> None:
    assert len({p.path for p in PAGES}) == len({p.slug for p in PAGES}) == 4
    for page in PAGES:
        names = [s.name for s in page.sections]
        assert len(names) == len(set(names)), page.slug
        assert all(name.isidentifier() for name in names)
        assert page.metric_ids() or page.table_ids()


def test_list_ids_not_in_the_catalog_yet() -> None:
    """Writes test-artifacts/web-missing-ids.txt: what each page still waits for."""
    lines = []
    for page in PAGES:
        missing = missing_ids(page)
        for item in missing:
            assert item not in CATALOG.metrics and item not in CATALOG.tables
        present = set(page.metric_ids() + page.table_ids()) - set(missing)
        assert all(i in CATALOG.metrics or i in CATALOG.tables for i in present)
        lines.append(f"{page.path}: {len(missing)} missing: {', '.join(missing) or '-'}")
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "web-missing-ids.txt").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


# -- pages over HTTP ---------------------------------------------------------------------------


@pytest.mark.parametrize("page", PAGES, ids=[p.slug for p in PAGES])
def test_page_paints_without_computing_and_marks_missing_ids(
    page: Any, client: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*_: Any, **__: Any) -> None:
        raise AssertionError("a page shell must not evaluate metrics")

    monkeypatch.setattr(Engine, "evaluate", refuse)
    response = client.get(page.path, params={"window": "last_3m", "as_of": AS_OF})
    assert response.status_code == 200
    html = response.text
    assert '<option value="last_3m" selected>' in html
    for other in PAGES:  # navigation keeps the period
        assert f'href="{other.path}?window=last_3m&amp;as_of={AS_OF}"' in html
    for section in page.sections:
        assert f'data-section="{section.name}"' in html
    benchmarked = {i for s in page.sections for i in s.benchmarks}  # marked by the fragment
    for item in set(missing_ids(page)) - benchmarked:
        tile = f'data-metric="{item}" data-state="missing"'
        assert tile in html or f'data-missing="{item}' in html, item


def test_custom_range_without_script_redirects_to_a_clean_url(client: httpx.Client) -> None:
    response = client.get(
        "/partner",
        params={"window": "custom", "start": "2026-06-01", "end": "2026-08-31", "as_of": AS_OF},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/partner?window=2026-06-01..2026-08-31&as_of={AS_OF}"


def test_a_bad_window_is_refused_naming_it(client: httpx.Client) -> None:
    response = client.get("/admin", params={"window": "last_week"})
    assert response.status_code == 422 and "window" in response.text


# -- fragments ---------------------------------------------------------------------------------


def test_tiles_batch_reads_the_api_values(client: httpx.Client) -> None:
    ids = ["customers.total", "revenue.per_customer", "no.such_metric"]
    response = client.get("/web/tiles", params={"ids": ",".join(ids), "as_of": AS_OF})
    tiles = {t["id"]: t for t in response.json()["tiles"]}
    for metric_id in ids[:2]:
        answer = api_answer(client, metric_id)
        assert tiles[metric_id]["display"] == format_value(answer["value"], answer["unit"])
        assert tiles[metric_id]["value"] == answer["value"]
    assert tiles["no.such_metric"]["display"] is None
    assert "not available" in tiles["no.such_metric"]["html"]


def test_tiles_for_one_partner(client: httpx.Client, site: Site) -> None:
    partner = site.store.execute(
        "SELECT entity_id FROM entities WHERE entity = 'partner' ORDER BY entity_id LIMIT 1"
    )[0][0]
    params = {"ids": "customers.total", "as_of": AS_OF, "partner": partner}
    tile = client.get("/web/tiles", params=params).json()["tiles"][0]
    platform = api_answer(client, "customers.total")["value"]
    own = api_answer(client, "customers.total", partner=partner)["value"]
    assert tile["value"] == own and own < platform


def test_tiles_for_one_experience_read_its_breakdown_row(client: httpx.Client) -> None:
    rows = api_answer(client, "sessions.total", by="experience")["rows"]
    chosen = rows[-1]  # the smallest experience, so it differs from the total
    params = {"ids": "sessions.total", "as_of": AS_OF, "experience": chosen["key"]}
    tile = client.get("/web/tiles", params=params).json()["tiles"][0]
    assert tile["value"] == chosen["value"]
    assert tile["value"] != api_answer(client, "sessions.total")["value"]


def test_slow_tables_wait_for_the_user(client: httpx.Client) -> None:
    html = client.get("/program", params={"as_of": AS_OF}).text
    assert 'data-on-demand="/web/tables/forecasts.partners?' in html
    assert 'data-fragment="/web/tables/forecasts.partners?' not in html


def test_a_failing_metric_gives_an_error_tile_not_a_500(
    client: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(_: Any) -> Any:
        raise RuntimeError("half-built metric")

    metric = Metric("web.broken", "Broken", "A metric under construction.", "count", Flow(broken))
    monkeypatch.setitem(CATALOG.metrics, "web.broken", metric)
    response = client.get("/web/tiles", params={"ids": "web.broken", "as_of": AS_OF})
    assert response.status_code == 200
    assert 'data-state="error"' in response.json()["tiles"][0]["html"]


def test_series_chart_is_a_vega_lite_spec_of_the_metric(client: httpx.Client) -> None:
    spec = client.get("/web/charts/customers.new", params={"as_of": AS_OF}).json()
    assert spec["$schema"].startswith("https://vega.github.io/schema/vega-lite/")
    assert spec["mark"]["type"] == "bar"  # a flow per day
    (values,) = spec["datasets"].values()
    assert len(values) == 30  # last_30d by day
    assert sum(v["value"] or 0 for v in values) == api_answer(client, "customers.new")["value"]
    cumulated = client.get(
        "/web/charts/customers.new", params={"as_of": AS_OF, "cumulative": "true"}
    ).json()
    assert cumulated["mark"]["type"] == "line"
    (running,) = cumulated["datasets"].values()
    assert running[-1]["value"] == api_answer(client, "customers.new")["value"]


def test_breakdown_fragment_lists_the_api_rows(client: httpx.Client) -> None:
    html = client.get(
        "/web/breakdowns/customers.by_status", params={"by": "status", "as_of": AS_OF}
    ).text
    answer = api_answer(client, "customers.by_status", by="status")
    for row in answer["rows"]:
        assert f'data-sort-value="{row["key"]}">{row["key"]}</td>' in html
        assert format_value(row["value"], "count") in html
    assert "data-spec=" in html


def test_benchmarks_say_good_or_needs_improvement(client: httpx.Client) -> None:
    ids = "credits.consumption_ratio,no.such_metric"
    html = client.get("/web/benchmarks", params={"ids": ids, "as_of": AS_OF}).text
    answer = api_answer(client, "credits.consumption_ratio")
    verdict = {"healthy": "Good", "warning": "Needs improvement", "neutral": "In between"}
    assert verdict[answer["status"]] in html
    assert "&gt;= 60 and &lt;= 80" in html  # the target range from the metric's health
    assert 'data-metric="no.such_metric"' in html and "not available" in html


def test_vega_bundle_is_served_locally(client: httpx.Client) -> None:
    response = client.get("/web/vendor/vega.js")
    assert response.status_code == 200
    assert "window.vegaEmbed" in response.text and "cdn" not in response.headers.get("location", "")
