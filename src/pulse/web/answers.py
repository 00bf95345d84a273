"""Catalog answers for a dashboard scope: the engine's JSON, narrowed to a partner or an
experience, and shaped into what a tile or a benchmark row shows (formatted server-side)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from pulse.metrics.catalog import Metric
from pulse.metrics.engine import Engine, Query
from pulse.metrics.windows import Grain
from pulse.web.format import Change, format_change, format_value
from pulse.web.scope import Scope

log = logging.getLogger(__name__)


def ask(
    engine: Engine,
    scope: Scope,
    metric_id: str,
    *,
    by: str | None = None,
    series: Grain | None = None,
    cumulative: bool = False,
) -> dict[str, Any]:
    """The engine's answer for this scope. With an experience chosen, a metric that can be
    broken down by experience answers with that experience's row."""
    metric = engine.catalog.get(metric_id)
    narrow = scope.experience is not None and by is None and "experience" in metric.dims
    query = Query(
        metric=metric_id,
        as_of=scope.as_of,
        window=scope.window,
        partner=scope.partner,
        by="experience" if narrow else by,
        series=series,
        cumulative=cumulative,
        tz=scope.tz,
    )
    answer = engine.evaluate(query)
    if narrow:
        row = next((r for r in answer.pop("rows") if r["key"] == scope.experience), None)
        for key in ("value", "previous", "change_pct", "status"):
            answer[key] = row[key] if row else None
        answer.pop("by", None)
        answer["experience"] = scope.experience
    return answer


@dataclass(frozen=True)
class Tile:
    """One KPI tile as shown: label, formatted value, change, status and quick help."""

    id: str
    label: str
    help: str
    unit: str
    display: str
    previous: str
    change: Change
    status: str | None
    value: float | None = None
    error: str | None = None


def tile(engine: Engine, scope: Scope, metric_id: str, currency: str) -> Tile:
    """Evaluate one metric for a tile; a failing metric becomes an error tile, not a 500."""
    metric = engine.catalog.get(metric_id)
    try:
        answer = ask(engine, scope, metric_id)
    except Exception as exc:  # a half-built metric must not take the page down
        log.exception("tile %s failed", metric_id)
        return _failed(metric, str(exc))
    return Tile(
        id=metric.id,
        label=metric.label,
        help=metric.help,
        unit=metric.unit,
        display=format_value(answer["value"], metric.unit, currency),
        previous=format_value(answer["previous"], metric.unit, currency),
        change=format_change(answer["change_pct"], metric.direction),
        status=answer["status"],
        value=answer["value"],
    )


def _failed(metric: Metric, message: str) -> Tile:
    return Tile(
        id=metric.id,
        label=metric.label,
        help=metric.help,
        unit=metric.unit,
        display="error",
        previous="—",
        change=format_change(None, metric.direction),
        status=None,
        error=message,
    )


BENCHMARK_WORDS = {"healthy": "Good", "warning": "Needs improvement", "neutral": "In between"}


def target(metric: Metric) -> str:
    """The healthy range as the seeds write it, e.g. ">= 60 and <= 80"."""
    if metric.health is None:
        return "—"
    text = " and ".join(str(check) for check in metric.health.healthy)
    return f"{text} per month" if metric.health.per_month else text
