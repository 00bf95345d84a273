"""Vega-Lite chart specs (built with Altair) from the engine's series and breakdown answers.

The spec carries its data inline; the browser only embeds it (vega-embed, served locally).
"""

from __future__ import annotations

from typing import Any

import altair as alt

from pulse.metrics.catalog import Flow, Metric
from pulse.metrics.windows import Grain, Window
from pulse.web.format import format_value

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


FUNNEL_STEP_HEIGHT = 46


def funnel_chart(answer: dict[str, Any]) -> dict[str, Any]:
    """A funnel from a funnel table's answer: one centred bar per step, in the table's order,
    narrowing with the counts; each bar reads its count and the rate from the step before.

    Every number is a cell of the table (count, rate from the previous step, rate from the
    first step); nothing is recomputed here, only placed (a bar spans -count/2 .. count/2).
    """
    columns = {c["name"]: c for c in answer["columns"]}
    label = "label" if "label" in columns else "step"
    rates = [c["name"] for c in answer["columns"] if c["unit"] == "percent"]
    step_rate, overall = [*rates, "", ""][:2]
    values: list[dict[str, Any]] = []
    steps: list[str] = []
    for order, row in enumerate(answer["rows"]):
        count = float(row["count"] or 0)
        rate = row.get(step_rate) if order and step_rate else None
        text = format_value(count, "count")
        if rate is not None:
            text += f"  ·  {format_value(rate, 'percent')}"
        step = str(row[label]) if label == "label" else str(row[label]).capitalize()
        steps.append(step)
        values.append(
            {
                "order": order,
                "step": step,
                "count": count,
                "left": -count / 2,
                "right": count / 2,
                "mid": 0,
                "text": text,
                "step_rate": format_value(rate, "percent"),
                "overall": format_value(row.get(overall), "percent") if overall else "—",
            }
        )
    widest = max((float(v["count"]) for v in values), default=0.0) / 2 or 1.0
    axis = alt.Axis(labelLimit=180, ticks=False, domain=False, labelFontSize=12)
    y = alt.Y("step:N", title=None, sort=steps, axis=axis)
    x = alt.X("left:Q", title=None, axis=None, scale=alt.Scale(domain=[-widest, widest]))
    tooltip = [
        alt.Tooltip("step:N", title=columns[label]["label"]),
        alt.Tooltip("count:Q", title=columns["count"]["label"], format=",.6~f"),
    ]
    if step_rate:
        tooltip.append(alt.Tooltip("step_rate:N", title=columns[step_rate]["label"]))
    if overall:
        tooltip.append(alt.Tooltip("overall:N", title=columns[overall]["label"]))
    # the card above names the table; the chart says how to read its labels
    title = alt.TitleParams(
        "count · rate from the step before", fontSize=11, fontWeight="normal", color="#5d6475"
    )
    base = alt.Chart({"values": values}, title=title)
    bars = base.mark_bar(cornerRadius=3).encode(
        y=y,
        x=x,
        x2="right:Q",
        color=alt.Color(
            "order:O", legend=None, scale=alt.Scale(scheme={"name": "blues", "extent": [0.6, 0.3]})
        ),
        tooltip=tooltip,
    )
    labels = base.mark_text(fontWeight=600, color="#10131c").encode(
        y=y, x=alt.X("mid:Q"), text="text:N", tooltip=tooltip
    )
    return _finish(alt.layer(bars, labels), height=max(120, FUNNEL_STEP_HEIGHT * len(values)))


def _finish(chart: Any, height: int = HEIGHT) -> dict[str, Any]:
    spec: dict[str, Any] = (
        chart.properties(
            width="container",
            height=height,
            autosize=alt.AutoSizeParams(type="fit", contains="padding"),
        )
        .configure_view(stroke=None)
        .configure_title(anchor="start", fontSize=13, fontWeight=600)
        .to_dict(validate=False)  # the tests check the specs against the schema
    )
    return spec
