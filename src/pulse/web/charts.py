"""Vega-Lite chart specs (built with Altair) from the engine's series and breakdown answers.

The spec carries its data inline; the browser only embeds it (vega-embed, served locally).
"""

from __future__ import annotations

from typing import Any

import altair as alt

from pulse.metrics.catalog import Flow, Metric
from pulse.metrics.windows import Grain, Window

HEIGHT = 220
TOOLTIP_FORMAT = {"percent": ",.1f", "money": ",.2f", "money_per_month": ",.2f"}


def grain_for(window: Window) -> Grain:
    """Days for a month, weeks for a quarter, months beyond."""
    if window.days <= 45:
        return "day"
    if window.days <= 200:
        return "week"
    return "month"


def series_chart(
    metric: Metric, answer: dict[str, Any], grain: Grain, cumulative: bool
) -> dict[str, Any]:
    """Bars for a flow per period; a line for stocks, ratios and cumulated flows."""
    values = [{"period": p["period"], "value": p["value"]} for p in answer["series"]]
    title = f"{metric.label} (cumulated)" if cumulative else metric.label
    tooltip = [
        alt.Tooltip("period:T", title=grain.capitalize(), format="%d %b %Y"),
        alt.Tooltip("value:Q", title=metric.label, format=TOOLTIP_FORMAT.get(metric.unit, ",.6~f")),
    ]
    base = alt.Chart({"values": values}, title=title)
    if isinstance(metric.compute, Flow) and not cumulative:
        mark = base.mark_bar(color="#4f6bed")
    else:
        mark = base.mark_line(point=True, color="#4f6bed")
    chart = mark.encode(
        x=alt.X("period:T", title=None),
        y=alt.Y("value:Q", title=None),
        tooltip=tooltip,
    )
    return _finish(chart)


def breakdown_chart(metric: Metric, answer: dict[str, Any]) -> dict[str, Any]:
    """Horizontal bars, largest first, one per breakdown key."""
    values = [{"key": str(r["key"]), "value": r["value"]} for r in answer.get("rows", [])]
    title = metric.label if " by " in metric.label else f"{metric.label} by {answer.get('by')}"
    chart = (
        alt.Chart({"values": values}, title=title)
        .mark_bar(color="#4f6bed")
        .encode(
            y=alt.Y("key:N", title=None, sort="-x"),
            x=alt.X("value:Q", title=None),
            tooltip=[
                alt.Tooltip("key:N", title=answer.get("by", "key")),
                alt.Tooltip(
                    "value:Q", title=metric.label, format=TOOLTIP_FORMAT.get(metric.unit, ",.6~f")
                ),
            ],
        )
    )
    return _finish(chart)


def _finish(chart: Any) -> dict[str, Any]:
    spec: dict[str, Any] = (
        chart.properties(
            width="container",
            height=HEIGHT,
            autosize=alt.AutoSizeParams(type="fit", contains="padding"),
        )
        .configure_view(stroke=None)
        .configure_title(anchor="start", fontSize=13, fontWeight=600)
        .to_dict()
    )
    return spec
