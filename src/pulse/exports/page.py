"""A PDF snapshot of a dashboard page (SPEC §5): every section the caller may see, as the page
shows it — KPI tiles, each chart as vector SVG, breakdowns, benchmarks and tables.

The page's layout comes from `web/pages.py` (already narrowed to the caller by
`web/visible.py`), and every number from the same calls the dashboard's fragments make
(`web/answers.py` for tiles, `web/charts.py` for chart specs, `evaluate_table` for tables), so the
PDF reads what the browser shows. Charts are rendered by vl-convert to SVG, which WeasyPrint
draws as vector paths (no raster image in the PDF).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from markupsafe import Markup

from pulse.exports.pdf import PDF_ROWS, PdfTable, format_rows
from pulse.metrics import CATALOG
from pulse.metrics.engine import Engine
from pulse.reports.kpis import chart_svg
from pulse.reports.render import environment
from pulse.store.store import Store
from pulse.web import answers, charts
from pulse.web.answers import Tile
from pulse.web.format import format_change, format_value
from pulse.web.pages import Breakdown, Chart, Page, Section, TableView
from pulse.web.routes import chart_spec, table_answer
from pulse.web.scope import Scope

PREFIX = "page:"  # `pulse export page:admin --format pdf`
CHART_WIDTH = 320  # px: two charts side by side on an A4 page
WIDE_CHART_WIDTH = 660
CHART_FONT = "Liberation Sans"


@dataclass(frozen=True)
class ChartView:
    title: str
    svg: Markup | None
    note: str | None = None
    wide: bool = False  # the whole width of the page (a funnel's step names need room)


@dataclass
class SectionView:
    """A section as printed: tiles, charts (SVG) and tables, with notes for what is left out."""

    name: str
    title: str
    intro: str
    tiles: list[Tile] = field(default_factory=list)
    charts: list[ChartView] = field(default_factory=list)
    tables: list[PdfTable] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def page_slug(name: str) -> str | None:
    """The page slug of an export name `page:SLUG`, or None when the name is not a page."""
    return name[len(PREFIX) :] if name.startswith(PREFIX) else None


def page_html(store: Store, page: Page, scope: Scope, currency: str) -> str:
    """The page as one HTML document in `scope` (its period and narrowing, as in its URL); the
    caller narrows `page` to what it may see."""
    engine = Engine(store, CATALOG, currency)
    sections = [_section(engine, s, scope) for s in page.sections]
    return (
        environment()
        .get_template("page_snapshot.html")
        .render(
            page=page,
            scope=scope,
            sections=sections,
            generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        )
    )


def render_page_pdf(store: Store, page: Page, scope: Scope, currency: str) -> bytes:
    from weasyprint import HTML

    pdf: bytes = HTML(string=page_html(store, page, scope, currency)).write_pdf()
    return pdf


# -- one section ---------------------------------------------------------------------------------


def _section(engine: Engine, section: Section, scope: Scope) -> SectionView:
    view = SectionView(section.name, section.title, section.intro)
    for metric_id in section.tiles:
        if metric_id not in CATALOG.metrics:
            view.notes.append(f"{metric_id}: not available yet")
            continue
        view.tiles.append(answers.tile(engine, scope, metric_id, engine.currency))
    for chart in section.charts:
        view.charts.append(_series(engine, chart, scope))
    for breakdown in section.breakdowns:
        chart_view, table = _breakdown(engine, breakdown, scope)
        view.charts.append(chart_view)
        if table is not None:
            view.tables.append(table)
    if section.benchmarks:
        view.tables.append(_benchmarks(engine, section.benchmarks, scope))
    for table_view in section.table_views():
        answer, note = _table_answer(engine, table_view, scope)
        if answer is None:
            view.notes.append(str(note))
            continue
        if table_view.view == "funnel":  # the page draws a funnel above the table
            funnel = _svg(charts.funnel_chart(answer), WIDE_CHART_WIDTH)
            view.charts.append(ChartView(answer["label"], funnel, wide=True))
        view.tables.append(_pdf_table(answer, engine.currency))
    return view


def _svg(spec: dict[str, Any], width: int = CHART_WIDTH) -> Markup:
    """The dashboard's spec at a fixed width (paper has no container to fit), its text in a font
    that vl-convert measures and WeasyPrint draws alike: with the generic `sans-serif` each picks
    its own face, and a label measured narrow is drawn wide and clipped."""
    config = {**spec.get("config", {}), "font": CHART_FONT}
    spec = {**spec, "width": width, "config": config}
    return Markup(chart_svg(spec))  # noqa: S704 - vl-convert's own SVG, data escaped by it


def _series(engine: Engine, chart: Chart, scope: Scope) -> ChartView:
    metric = CATALOG.metrics.get(chart.metric)
    if metric is None:
        return ChartView(chart.metric, None, "not available yet")
    title = f"{metric.label} (cumulated)" if chart.cumulative else metric.label
    try:
        spec = chart_spec(engine, scope, metric, chart.cumulative, chart.by)
    except ValueError as exc:
        return ChartView(title, None, str(exc))
    return ChartView(title, _svg(spec))


def _breakdown(
    engine: Engine, breakdown: Breakdown, scope: Scope
) -> tuple[ChartView, PdfTable | None]:
    """The breakdown's bar chart and its rows (value, previous, change), as on the page."""
    metric = CATALOG.metrics.get(breakdown.metric)
    if metric is None:
        return ChartView(breakdown.metric, None, "not available yet"), None
    try:
        answer = answers.ask(engine, scope, breakdown.metric, by=breakdown.by)
    except ValueError as exc:
        return ChartView(metric.label, None, str(exc)), None
    spec = charts.breakdown_chart(metric, answer)
    title = _title(spec, metric.label)

    def shown(value: Any) -> str:
        return format_value(value, metric.unit, engine.currency)

    rows = []
    for row in answer.get("rows", []):
        change = format_change(row["change_pct"], metric.direction)
        rows.append(
            [
                str(row["key"]),
                shown(row["value"]),
                shown(row["previous"]),
                f"{change.arrow} {change.text}".strip(),
            ]
        )
    headers = [breakdown.by.capitalize(), metric.label, "Previous", "Change"]
    table = PdfTable(title, headers, rows[:PDF_ROWS], len(rows) > PDF_ROWS)
    return ChartView(title, _svg(spec)), table


def _title(spec: dict[str, Any], default: str) -> str:
    title = spec.get("title", default)
    return str(title.get("text", default) if isinstance(title, dict) else title)


def _benchmarks(engine: Engine, ids: tuple[str, ...], scope: Scope) -> PdfTable:
    """Metric, value, target and verdict, as the page's benchmark rows."""
    rows = []
    for metric_id in ids:
        metric = CATALOG.metrics.get(metric_id)
        if metric is None:
            rows.append([metric_id, "not available yet", "—", "—"])
            continue
        tile = answers.tile(engine, scope, metric_id, engine.currency)
        verdict = answers.BENCHMARK_WORDS.get(tile.status or "", "—")
        rows.append([metric.label, tile.display, answers.target(metric), verdict])
    return PdfTable("Benchmarks", ["Metric", "Value", "Target", "Verdict"], rows, False)


def _table_answer(
    engine: Engine, view: TableView, scope: Scope
) -> tuple[dict[str, Any] | None, str | None]:
    """A catalog table's answer as the page shows it, with one row more than the PDF shows
    (tells whether the table was cut), or a note saying why it is left out."""
    table = CATALOG.tables.get(view.table)
    if table is None:
        return None, f"{view.table}: not available yet"
    if view.on_demand:
        return None, f"{table.label}: computed on demand; export {table.id} on its own"
    try:
        answer = table_answer(engine, scope, table, dict(view.params), PDF_ROWS + 1)
    except ValueError as exc:  # the message names the table or the bad parameter
        return None, str(exc)
    return answer, None


def _pdf_table(answer: dict[str, Any], currency: str) -> PdfTable:
    """The answer's rows as text by column unit, cut at the PDF row cap."""
    columns = answer["columns"]
    cells = [[row[c["name"]] for c in columns] for row in answer["rows"]]
    units = [c["unit"] for c in columns]
    return PdfTable(
        answer["label"],
        [c["label"] for c in columns],
        format_rows(cells[:PDF_ROWS], units, currency),
        len(cells) > PDF_ROWS,
    )
