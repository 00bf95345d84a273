"""Rendering one run of a report: the KPIs (catalog answers), a chart, a few table rows, as an
HTML e-mail (chart as a CID-attached PNG), a plain-text part and a Slack-compatible webhook body.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import altair as alt

from pulse.metrics import CATALOG
from pulse.metrics.engine import Engine, Query
from pulse.metrics.tables import TableQuery, evaluate_table
from pulse.reports.catalog import Report
from pulse.reports.kpis import Kpi, arrow_for, chart_png, chart_spec, kpi
from pulse.reports.render import environment
from pulse.store.store import Store
from pulse.web.format import format_value

CHART_CID = "pulse-chart"


@dataclass(frozen=True)
class Rendered:
    report: str
    subject: str
    html: str
    text: str
    png: bytes | None
    kpis: tuple[Kpi, ...]
    webhook: dict[str, Any]


@dataclass(frozen=True)
class RunScope:
    """What one run covers: its last day, a partner (partner subscribers) and an experience."""

    as_of: date
    partner: str | None = None
    experience: str | None = None
    tz: str = "UTC"
    currency: str = "USD"


def _experience_kpi(engine: Engine, metric_id: str, scope: RunScope, window: str) -> Kpi:
    """A metric for one experience: the experience's row of the breakdown by experience."""
    metric = CATALOG.get(metric_id)
    answer = engine.evaluate(
        Query(
            metric=metric_id,
            as_of=scope.as_of,
            window=window,
            partner=scope.partner,
            by="experience",
            tz=scope.tz,
        )
    )
    row = next((r for r in answer.get("rows", []) if r["key"] == scope.experience), None)
    value = row["value"] if row else None
    change = row["change_pct"] if row else None
    return Kpi(
        id=metric_id,
        label=metric.label,
        unit=metric.unit,
        value=value,
        display=format_value(value, metric.unit, engine.currency),
        change_pct=change,
        arrow=arrow_for(change),
        status=row["status"] if row else None,
        help=metric.help,
    )


def kpis_for(engine: Engine, report: Report, scope: RunScope) -> list[Kpi]:
    window = report.window(scope.as_of)
    if report.per_experience:
        return [_experience_kpi(engine, m, scope, window) for m in report.kpis]
    return [kpi(engine, m, scope.as_of, window, scope.partner, scope.tz) for m in report.kpis]


def _bars(kpis: list[Kpi]) -> dict[str, Any]:
    """The counts of a report as bars (for reports without a series chart)."""
    values = [{"kpi": k.label, "value": k.value} for k in kpis if k.unit == "count" and k.value]
    chart = alt.Chart({"values": values}, title="Today").mark_bar(color="#4f6bed")
    encoded = chart.encode(x=alt.X("value:Q", title=None), y=alt.Y("kpi:N", title=None, sort=None))
    spec: dict[str, Any] = encoded.properties(width=420, height=24 * max(len(values), 1)).to_dict()
    return spec


def _tables(engine: Engine, report: Report, scope: RunScope) -> list[dict[str, Any]]:
    shown = []
    for table_id, limit in report.tables:
        table = CATALOG.table(table_id)
        partner = scope.partner if table.per_partner else None
        if scope.partner is not None and not table.per_partner:
            continue
        query = TableQuery(
            table_id, scope.as_of, report.window(scope.as_of), partner, scope.tz, limit=limit
        )
        answer = evaluate_table(engine, query)
        units = [c.unit for c in table.columns]
        rows = [
            [
                format_value(r[c.name], u, engine.currency)
                for c, u in zip(table.columns, units, strict=True)
            ]
            for r in answer["rows"]
        ]
        shown.append(
            {"label": table.label, "headers": [c.label for c in table.columns], "rows": rows}
        )
    return shown


def render(store: Store, report: Report, scope: RunScope) -> Rendered:
    engine = Engine(store, CATALOG, scope.currency)
    kpis = kpis_for(engine, report, scope)
    if report.chart is not None:
        spec = chart_spec(engine, report.chart, scope.as_of, "last_30d", scope.partner, scope.tz)
    else:
        spec = _bars(kpis)
    png = chart_png(spec)
    about = f" — {scope.experience}" if scope.experience else ""
    subject = f"{report.label}{about} · {report.window(scope.as_of)} (as of {scope.as_of})"
    context = {
        "report": report,
        "subject": subject,
        "scope": scope,
        "kpis": kpis,
        "chart_cid": CHART_CID,
        "tables": _tables(engine, report, scope),
    }
    env = environment()
    html = env.get_template("report.html").render(**context)
    text = env.get_template("report.txt").render(**context)
    return Rendered(report.id, subject, html, text, png, tuple(kpis), webhook_body(subject, kpis))


def webhook_body(title: str, kpis: list[Kpi]) -> dict[str, Any]:
    """Slack-compatible: `text` for notifications, `blocks` for the message (mrkdwn fields)."""
    lines = [f"{k.label}: {k.display} {k.change_text}".rstrip() for k in kpis]
    fields = [
        {
            "type": "mrkdwn",
            "text": f"*{k.label}*\n{k.display} {k.change_text}".rstrip()
            + (f" ({k.status})" if k.status and k.status != "neutral" else ""),
        }
        for k in kpis
    ]
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": title[:150]}}
    ]
    for start in range(0, len(fields), 10):  # Slack allows 10 fields per section
        blocks.append({"type": "section", "fields": fields[start : start + 10]})
    return {"text": title + "\n" + "\n".join(lines), "blocks": blocks}
