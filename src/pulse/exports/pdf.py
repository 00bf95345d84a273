"""A PDF snapshot (SPEC §5): KPI tiles, a chart and tables, as HTML rendered by WeasyPrint."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from markupsafe import Markup

from pulse.exports.sources import Export, ExportRequest, resolve
from pulse.metrics import CATALOG
from pulse.metrics.engine import Engine
from pulse.reports.kpis import Kpi, chart_spec, chart_svg, kpi
from pulse.reports.render import environment
from pulse.store.store import Store
from pulse.web.format import format_value

PDF_ROWS = 500  # a PDF is a snapshot: longer exports are cut (CSV and Excel carry every row)


@dataclass(frozen=True)
class PdfTable:
    label: str
    headers: list[str]
    rows: list[list[str]]
    cut: bool


def format_rows(
    rows: Iterable[Sequence[Any]], units: Sequence[str], currency: str
) -> list[list[str]]:
    """Cells as text by column unit (the dashboards' formatter: a PDF reads like the page)."""
    return [[format_value(v, u, currency) for v, u in zip(row, units, strict=True)] for row in rows]


def _pdf_table(export: Export, currency: str) -> PdfTable:
    rows = itertools.chain.from_iterable(export.chunks)
    shown = list(itertools.islice(rows, PDF_ROWS + 1))
    units = [c.unit for c in export.columns]
    text = format_rows(shown[:PDF_ROWS], units, currency)
    return PdfTable(export.label, [c.label for c in export.columns], text, len(shown) > PDF_ROWS)


def snapshot_html(
    store: Store,
    requests: Sequence[ExportRequest],
    kpi_ids: Sequence[str] = (),
    title: str = "Pulse snapshot",
) -> str:
    """The snapshot as one HTML page (tables, KPIs and the first KPI's chart)."""
    base = requests[0]
    engine = Engine(store, CATALOG, base.currency)
    kpis: list[Kpi] = [
        kpi(engine, m, base.as_of, base.window, base.partner, base.tz) for m in kpi_ids
    ]
    chart = None
    if kpi_ids:
        spec = chart_spec(engine, kpi_ids[0], base.as_of, base.window, base.partner, base.tz)
        chart = Markup(chart_svg(spec))  # noqa: S704 - vl-convert's own SVG, data escaped by it
    tables = [_pdf_table(resolve(store, r), base.currency) for r in requests]
    template = environment().get_template("snapshot.html")
    return template.render(
        title=title,
        request=base,
        kpis=kpis,
        chart=chart,
        tables=tables,
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    )


def render_pdf(
    store: Store,
    requests: Sequence[ExportRequest],
    kpi_ids: Sequence[str] = (),
    title: str = "Pulse snapshot",
) -> bytes:
    from weasyprint import HTML

    pdf: bytes = HTML(string=snapshot_html(store, requests, kpi_ids, title)).write_pdf()
    return pdf
