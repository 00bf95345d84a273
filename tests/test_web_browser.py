"""The four dashboards in a real browser (Chromium) over the served `small` demo.

Each page must load with no console error, every tile must read what the metric API answers
for the same window (formatted by the same function), charts must draw, tables must sort, the
period picker must change the URL and the numbers. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

from typing import Any

import httpx
import pandas as pd
import pytest

from browser import (  # noqa: F401 (fixtures)
    ARTIFACTS,
    AS_OF,
    DEMO_END,
    DESKTOP,
    PHONE,
    Site,
    Watch,
    browser_fixture,
    demo_store_fixture,
    site_fixture,
    tab_fixture,
)
from pulse.metrics import CATALOG
from pulse.metrics.catalog import Column, Table
from pulse.web.format import format_value
from pulse.web.pages import PAGES, Page

PENDING = (
    '[data-state="loading"], [aria-busy="true"], '
    "[data-chart]:not([data-state]), [data-spec]:not([data-state])"
)
SETTLED = f"() => document.querySelectorAll('{PENDING}').length === 0"
SCROLL_THROUGH = """async () => {
  for (let y = 0; y < document.body.scrollHeight; y += innerHeight / 2) {
    scrollTo(0, y);
    await new Promise(done => setTimeout(done, 30));
  }
  scrollTo(0, 0);
}"""


def settle(page: Any) -> None:
    """Scroll through the page (sections fill as they come into view) and wait until every
    tile, fragment and chart has been filled."""
    page.evaluate(SCROLL_THROUGH)
    page.wait_for_function(SETTLED, timeout=120_000)


def ready_tile(page: Any, metric_id: str) -> str:
    """The value text of one tile, once filled."""
    tile = page.locator(f'.tile[data-metric="{metric_id}"][data-state="ready"]')
    tile.wait_for(timeout=60_000)
    text: str = tile.locator("[data-value]").inner_text()
    return text.strip()


def api_display(site: Site, client: httpx.Client, metric_id: str, **params: str) -> str:
    answer = client.get(f"/api/v1/metrics/{metric_id}", params={"as_of": AS_OF, **params})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    return format_value(body["value"], body["unit"])


def tile_texts(page: Any) -> dict[str, str]:
    """metric id → value text of every filled tile."""
    texts: dict[str, str] = page.eval_on_selector_all(
        '.tile[data-state="ready"]',
        "els => Object.fromEntries(els.map(e => "
        "[e.dataset.metric, e.querySelector('[data-value]').textContent.trim()]))",
    )
    return texts


@pytest.fixture
def api(site: Site) -> Any:
    with httpx.Client(base_url=site.base, headers=site.headers, timeout=60) as client:
        yield client


@pytest.mark.parametrize("spec", PAGES, ids=[p.slug for p in PAGES])
def test_page_loads_fills_every_tile_with_the_api_value(
    spec: Page, tab: tuple[Any, Watch], site: Site, api: httpx.Client
) -> None:
    page, watch = tab
    page.goto(f"{spec.path}?as_of={AS_OF}")
    assert page.locator(".picker select[name=window]").input_value() == "last_30d"
    settle(page)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"web-{spec.slug}-desktop.png"), full_page=True)
    page.set_viewport_size(PHONE)
    page.wait_for_timeout(300)  # charts re-fit their container
    page.screenshot(path=str(ARTIFACTS / f"web-{spec.slug}-phone.png"), full_page=True)
    assert watch.errors == []
    assert page.locator('.tile[data-state="error"]').count() == 0
    shown = tile_texts(page)
    known = [i for s in spec.sections for i in s.tiles if i in CATALOG.metrics]
    assert sorted(shown) == sorted(set(known))
    for metric_id, text in shown.items():
        assert text == api_display(site, api, metric_id), metric_id
    for chart in page.locator("[data-chart], [data-spec]").all():
        assert chart.get_attribute("data-state") == "ready"
        assert chart.locator(".chart-canvas svg").count() == 1
    missing = [i for s in spec.sections for i in s.tiles if i not in CATALOG.metrics]
    assert page.locator('.tile[data-state="missing"]').count() == len(missing)


def test_period_picker_changes_url_and_numbers(
    tab: tuple[Any, Watch], site: Site, api: httpx.Client
) -> None:
    page, watch = tab
    page.goto(f"/partner?as_of={AS_OF}")
    month = ready_tile(page, "customers.new")
    assert month == api_display(site, api, "customers.new")
    page.select_option(".picker select[name=window]", "last_12m")
    page.wait_for_url("**/partner?window=last_12m*")
    assert f"as_of={AS_OF}" in page.url
    assert page.locator("[data-range]").inner_text().startswith("23 Nov 2025 – 22 Nov 2026")
    year = ready_tile(page, "customers.new")
    assert year != month
    assert year == api_display(site, api, "customers.new", window="last_12m")
    # a custom range: pick the dates, apply; the URL carries START..END
    page.select_option(".picker select[name=window]", "custom")
    page.fill(".picker input[name=start]", "2026-06-01")
    page.fill(".picker input[name=end]", "2026-08-31")
    page.click(".picker button[type=submit]")
    page.wait_for_url("**window=2026-06-01..2026-08-31*")
    summer = ready_tile(page, "customers.new")
    assert summer == api_display(site, api, "customers.new", window="2026-06-01..2026-08-31")
    assert page.locator(".picker select[name=window]").input_value() == "custom"
    assert watch.errors == []


def test_tables_sort_on_header_click(tab: tuple[Any, Watch]) -> None:
    page, watch = tab
    page.goto(f"/partner?as_of={AS_OF}")
    table = page.locator('table[data-breakdown="customers.by_status"]')
    table.wait_for(timeout=60_000)

    def values() -> list[float]:
        cells = table.locator("tbody tr td:nth-child(2)").all()
        return [float(c.get_attribute("data-sort-value") or "nan") for c in cells]

    def keys() -> list[str]:
        return [c.inner_text() for c in table.locator("tbody tr td:nth-child(1)").all()]

    table.locator("th", has_text="Value").locator("button").click()
    assert values() == sorted(values()) and len(values()) >= 3
    table.locator("th", has_text="Value").locator("button").click()
    assert values() == sorted(values(), reverse=True)
    table.locator("th", has_text="Status").locator("button").click()
    assert keys() == sorted(keys())
    assert table.locator("th[aria-sort=ascending]").inner_text().startswith("Status")
    assert watch.errors == []


def test_quick_help_and_chart_values_on_hover(tab: tuple[Any, Watch]) -> None:
    page, watch = tab
    page.goto(f"/partner?as_of={AS_OF}")
    ready_tile(page, "customers.total")  # a tile filled after the hover would drop it
    help_icon = page.locator('.tile[data-metric="customers.total"] .help')
    assert not help_icon.locator(".tip").is_visible()
    help_icon.hover()
    assert help_icon.locator(".tip").inner_text() == CATALOG.get("customers.total").help
    assert help_icon.locator(".tip").is_visible()
    chart = page.locator('figure[data-chart^="/web/charts/customers.new?"]')
    bar = chart.locator('svg [role="graphics-symbol"]').nth(5)
    bar.wait_for(timeout=60_000)
    bar.hover()
    tooltip = page.locator("#vg-tooltip-element.visible")
    tooltip.wait_for(timeout=5_000)
    assert "New customers" in tooltip.inner_text()
    assert watch.errors == []


HEATMAP = pd.DataFrame(
    {
        "module": ["Welcome", "Quiz", "Raffle", "Goodbye"],
        "position": [1, 2, 3, 4],
        "visits": [120, 80, 30, 5],
        "level": ["red", "yellow", "green", "blue"],
    }
)


def fake_heatmap() -> Table:
    return Table(
        id="modules.heatmap",
        label="Module visits",
        help="How often each module of the experience was shown.",
        columns=(
            Column("module", "Module", "text"),
            Column("position", "Position"),
            Column("visits", "Visits"),
            Column("level", "Level", "text"),
        ),
        build=lambda ctx: HEATMAP.iloc[::-1].reset_index(drop=True),  # shuffled: page re-orders
        params=("experience",),
    )


def fake_detail() -> Table:
    def build(ctx: Any) -> pd.DataFrame:
        row = HEATMAP[HEATMAP.module == ctx.params["module"]]
        return pd.DataFrame({"module": row.module, "visits": row.visits})

    return Table(
        id="modules.detail",
        label="Module detail",
        help="One module's numbers.",
        columns=(Column("module", "Module", "text"), Column("visits", "Visits")),
        build=build,
        params=("experience", "module"),
    )


def test_heatmap_in_flow_order_and_click_shows_module(
    tab: tuple[Any, Watch], monkeypatch: pytest.MonkeyPatch
) -> None:
    # hand-built tables stand in for modules.heatmap / modules.detail (same ids and shape)
    monkeypatch.setitem(CATALOG.tables, "modules.heatmap", fake_heatmap())
    monkeypatch.setitem(CATALOG.tables, "modules.detail", fake_detail())
    page, watch = tab
    page.goto(f"/experiences?as_of={AS_OF}&experience=x1#drilldown")
    modules = page.locator("[data-heatmap] .module")
    modules.first.wait_for(timeout=60_000)
    assert [m.locator(".module-name").inner_text() for m in modules.all()] == [
        "Welcome",
        "Quiz",
        "Raffle",
        "Goodbye",
    ]
    assert [m.get_attribute("data-level") for m in modules.all()] == [
        "red",
        "yellow",
        "green",
        "blue",
    ]
    modules.nth(2).click()
    detail = page.locator("[data-detail-panel] table[data-table='modules.detail']")
    detail.wait_for()
    assert detail.locator("tbody td").all_inner_texts() == ["Raffle", "30"]
    page.locator("#drilldown").screenshot(path=str(ARTIFACTS / "web-heatmap.png"))
    assert watch.errors == []


def test_funnel_chart_draws_with_hover_values(tab: tuple[Any, Watch], api: httpx.Client) -> None:
    page, watch = tab
    page.goto(f"/experiences?as_of={AS_OF}")
    funnel = page.locator('figure[data-funnel="experiences.funnel"][data-state="ready"]')
    funnel.wait_for(timeout=60_000)
    rows = api.get("/api/v1/tables/experiences.funnel", params={"as_of": AS_OF}).json()["rows"]
    assert funnel.locator('svg [aria-roledescription="bar"]').count() == len(rows)
    marks = funnel.locator('svg [aria-roledescription="text mark"]')
    labels = marks.all_text_contents()  # count · rate from the step before, per step
    assert labels[1] == f"{rows[1]['count']:,}  ·  {rows[1]['step_rate']:,.1f}%"
    funnel.evaluate("e => e.scrollIntoView({block: 'center'})")
    marks.nth(1).hover()  # the label lies over its bar and shows the same values
    tooltip = page.locator("#vg-tooltip-element.visible")
    tooltip.wait_for(timeout=5_000)
    assert "Rate from previous step" in tooltip.inner_text()
    assert rows[1]["label"] in tooltip.inner_text()
    funnel.locator("xpath=..").screenshot(path=str(ARTIFACTS / "web-funnel.png"))
    assert watch.errors == []


def test_partner_picker_lists_names_and_changes_the_numbers(
    tab: tuple[Any, Watch], site: Site, api: httpx.Client
) -> None:
    page, watch = tab
    page.goto(f"/partner?as_of={AS_OF}")
    platform = ready_tile(page, "customers.total")
    picker = page.locator(".picker select[name=partner]")
    chosen = picker.locator("option").nth(1)  # the first partner by name
    value = chosen.get_attribute("value") or ""
    assert value and "(" in chosen.inner_text()  # "Name (p_00xx)"
    picker.select_option(value)
    page.wait_for_url(f"**/partner?*partner={value}*")
    assert f"as_of={AS_OF}" in page.url
    own = ready_tile(page, "customers.total")
    assert own == api_display(site, api, "customers.total", partner=value)
    assert own != platform
    assert page.locator(".picker select[name=partner]").input_value() == value
    assert watch.errors == []


def test_support_gets_only_the_operational_section(
    browser: Any, site: Site, api: httpx.Client
) -> None:
    from pulse.access import keys

    key = keys.create(site.store, role="support", scopes={"read"}, label="web support test")
    context = browser.new_context(
        viewport=DESKTOP, extra_http_headers={"Authorization": f"Bearer {key}"}, base_url=site.base
    )
    try:
        page = context.new_page()
        watch = Watch()
        watch.attach(page)
        page.goto(f"/program?as_of={AS_OF}")
        settle(page)
        shown = page.eval_on_selector_all("[data-section]", "els => els.map(e => e.id)")
        assert shown == ["operational"]
        assert page.locator(".tabs a").all_inner_texts() == ["Operations"]
        assert page.locator(".pages a").all_inner_texts() == ["Partner program"]
        texts = tile_texts(page)
        assert texts and all(i.split(".")[0] in ("support", "onboarding") for i in texts)
        for metric_id, text in texts.items():
            assert text == api_display(site, api, metric_id), metric_id
        page.screenshot(path=str(ARTIFACTS / "web-program-support.png"), full_page=True)
        assert watch.errors == []  # no refused fragment, no console error
    finally:
        context.close()


def test_alert_lists_show_severity_badges(
    tab: tuple[Any, Watch], monkeypatch: pytest.MonkeyPatch
) -> None:
    frame = pd.DataFrame(
        {
            "severity": ["critical", "warning", "opportunity"],
            "message": ["Uptime below 99.5%", "Churn up 40%", "An affiliate doubled revenue"],
        }
    )
    columns = (Column("severity", "Severity", "text"), Column("message", "Message", "text"))
    stand_in = Table(
        "alerts.active", "Active alerts", "Alerts now firing.", columns, lambda _: frame
    )
    monkeypatch.setitem(CATALOG.tables, "alerts.active", stand_in)
    page, watch = tab
    page.goto(f"/program?as_of={AS_OF}#alerts")
    items = page.locator('[data-alerts="alerts.active"] .alert-item')
    items.first.wait_for(timeout=60_000)
    badges = items.locator(".badge")
    assert badges.all_inner_texts() == ["Critical", "Warning", "Opportunity"]  # capitalised
    colours = [b.evaluate("e => getComputedStyle(e).backgroundColor") for b in badges.all()]
    assert colours == ["rgb(217, 45, 32)", "rgb(251, 191, 36)", "rgb(18, 128, 92)"]
    page.locator("#alerts").screenshot(path=str(ARTIFACTS / "web-alerts.png"))
    assert watch.errors == []


def test_fired_alerts_and_action_items_listed_by_severity(
    tab: tuple[Any, Watch], site: Site, api: httpx.Client
) -> None:
    """The alert rules run on the demo (as of its last day, noon): the program's alerts
    section and the admin overview list what `alerts.active` / `alerts.action_items` answer,
    one badge per row in the colour of its severity (an action item's priority: high reads
    critical, medium warning, low opportunity)."""
    from datetime import UTC, datetime

    from pulse.alerts import state

    state.evaluate(site.store, as_of=DEMO_END, now=datetime(2026, 11, 22, 12, tzinfo=UTC))
    colour = {"critical": "critical", "warning": "warning", "opportunity": "opportunity"}
    colour |= {"high": "critical", "medium": "warning", "low": "opportunity"}
    page, watch = tab
    page.goto(f"/program?as_of={AS_OF}#alerts")
    for table_id, column in (("alerts.active", "severity"), ("alerts.action_items", "priority")):
        rows = api.get(f"/api/v1/tables/{table_id}", params={"as_of": AS_OF}).json()["rows"]
        assert rows, table_id  # the demo fires some
        items = page.locator(f'[data-alerts="{table_id}"] .alert-item')
        items.first.wait_for(timeout=60_000)
        assert items.count() == len(rows)
        levels = [i.get_attribute("data-level") for i in items.all()]
        assert levels == [colour[r[column]] for r in rows]
        count = (
            page.locator(f'[data-alerts="{table_id}"]').locator("xpath=..").locator("[data-count]")
        )
        assert count.inner_text() == str(len(rows))
    page.locator("#alerts").screenshot(path=str(ARTIFACTS / "web-alerts-fired.png"))
    page.goto(f"/admin?as_of={AS_OF}")
    overview = page.locator('#overview [data-alerts="alerts.active"] .alert-item')
    overview.first.wait_for(timeout=60_000)
    active = api.get("/api/v1/tables/alerts.active", params={"as_of": AS_OF}).json()["rows"]
    assert overview.count() == len(active)
    assert watch.errors == []


def test_many_partners_picked_by_typing_a_name(
    tab: tuple[Any, Watch], site: Site, api: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past PICKER_SELECT_MAX choices the picker is a text box suggesting "Name (id)"; picking
    a suggestion opens the partner's page, its id in the URL."""
    from pulse.web import routes

    monkeypatch.setattr(routes, "PICKER_SELECT_MAX", 10)  # the demo has 31 partners
    page, watch = tab
    page.goto(f"/partner?as_of={AS_OF}")
    box = page.locator(".picker input[name=partner]")
    suggestion = page.locator("#choices-partner option").nth(2).get_attribute("value") or ""
    partner = suggestion.rsplit("(", 1)[1].rstrip(")")  # "Name (p_00xx)"
    box.fill(suggestion)  # as when a suggestion is picked: the input event names an option
    page.wait_for_url(f"**/partner?*partner={partner}")
    assert f"as_of={AS_OF}" in page.url
    assert page.locator(".picker input[name=partner]").input_value() == suggestion
    own = ready_tile(page, "customers.total")
    assert own == api_display(site, api, "customers.total", partner=partner)
    assert watch.errors == []
