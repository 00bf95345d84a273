"""KPI figures and charts for e-mails, webhooks and PDF snapshots, straight from the catalog.

A KPI shows the engine's own answer (value, change against the previous window, health status),
formatted as the dashboards format it; a chart is the dashboard's Vega-Lite spec rendered to SVG
or PNG by vl-convert, so e-mail and PDF show the same picture as the browser.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from pulse.metrics import CATALOG
from pulse.metrics.engine import Engine, Query
from pulse.metrics.windows import parse_window
from pulse.web.charts import grain_for, series_chart
from pulse.web.format import format_value


@dataclass(frozen=True)
class Kpi:
    id: str
    label: str
    unit: str
    value: float | None
    display: str
    change_pct: float | None
    arrow: str  # ▲ up, ▼ down, = unchanged, "" unknown
    status: str | None  # healthy, warning, neutral or None
    help: str

    @property
    def change_text(self) -> str:
        if self.change_pct is None:
            return ""
        return f"{self.arrow} {abs(self.change_pct):.1f}%".strip()


def kpi(
    engine: Engine, metric_id: str, as_of: date, window: str, partner: str | None, tz: str
) -> Kpi:
    """One catalog metric as a KPI (the same answer the API gives)."""
    metric = CATALOG.get(metric_id)
    answer = engine.evaluate(
        Query(metric=metric_id, as_of=as_of, window=window, partner=partner, tz=tz)
    )
    change = answer.get("change_pct")
    return Kpi(
        id=metric_id,
        label=metric.label,
        unit=metric.unit,
        value=answer["value"],
        display=format_value(answer["value"], metric.unit, engine.currency),
        change_pct=change,
        arrow=arrow_for(change),
        status=answer.get("status"),
        help=metric.help,
    )


def arrow_for(change: float | None) -> str:
    if change is None:
        return ""
    return "▲" if change > 0 else "▼" if change < 0 else "="


def chart_spec(
    engine: Engine, metric_id: str, as_of: date, window: str, partner: str | None, tz: str
) -> dict[str, Any]:
    """The dashboard's series chart of a metric over the window."""
    metric = CATALOG.get(metric_id)
    grain = grain_for(parse_window(window, as_of))
    answer = engine.evaluate(
        Query(metric=metric_id, as_of=as_of, window=window, partner=partner, series=grain, tz=tz)
    )
    return series_chart(metric, answer, grain, False)


def chart_svg(spec: dict[str, Any]) -> str:
    import vl_convert

    svg: str = vl_convert.vegalite_to_svg(spec)
    return svg


def chart_png(spec: dict[str, Any]) -> bytes:
    import vl_convert

    png: bytes = vl_convert.vegalite_to_png(spec, scale=1.5)
    return png
