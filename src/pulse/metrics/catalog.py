"""The metric catalog: every metric declared once, as data (SPEC §3).

A metric says what it means (label, help, unit, direction, health thresholds) and how it is
built: a flow of events in a window, a stock as of a moment, a running balance, or a ratio /
derivation / growth of other metrics named by id. Surfaces (CLI, API, dashboards, exports,
reports, alerts) only ever read this registry and `engine.evaluate`.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import ibis
    import pandas as pd

    from pulse.metrics.source import Source
    from pulse.metrics.tables import TableContext

Unit = Literal[
    "count",
    "percent",
    "money",
    "credits",
    "money_per_month",
    "credits_per_customer",
    "minutes",
    "hours",
    "days",
    "milliseconds",
    "score",  # e.g. NPS, −100 … 100
    "ratio",  # e.g. LTV:CAC, 3.2 means 3.2 : 1
]
Direction = Literal["up", "down", "none"]
FactsFn = Callable[["Source"], "ibis.Table"]

_OPS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}


@dataclass(frozen=True)
class Check:
    """`value <op> threshold`, e.g. Check(">", 10)."""

    op: Literal[">", ">=", "<", "<="]
    threshold: float

    def holds(self, value: float, scale: float = 1.0) -> bool:
        return _OPS[self.op](value, self.threshold * scale)

    def __str__(self) -> str:
        return f"{self.op} {self.threshold:g}"


@dataclass(frozen=True)
class Health:
    """Healthy when all `healthy` checks hold; warning when any `warning` check holds.

    `per_month` thresholds are scaled to the window length (×days/30) before checking.
    """

    healthy: tuple[Check, ...]
    warning: tuple[Check, ...]
    per_month: bool = False

    def status(self, value: float | None, days: int) -> str | None:
        if value is None:
            return None
        scale = days / 30 if self.per_month else 1.0
        if all(check.holds(value, scale) for check in self.healthy):
            return "healthy"
        if any(check.holds(value, scale) for check in self.warning):
            return "warning"
        return "neutral"

    def as_dict(self) -> dict[str, object]:
        return {
            "healthy": [str(c) for c in self.healthy],
            "warning": [str(c) for c in self.warning],
            "per_month": self.per_month,
        }


def health(healthy: str, warning: str, per_month: bool = False) -> Health:
    """Parse thresholds written as in the seeds: health("> 10", "< 5"), "," = and / or."""

    def checks(text: str) -> tuple[Check, ...]:
        parsed = []
        for part in text.split(","):
            op, number = part.split()
            parsed.append(Check(op, float(number)))  # type: ignore[arg-type]
        return tuple(parsed)

    return Health(checks(healthy), checks(warning), per_month)


# -- how a metric is built --------------------------------------------------------------------


@dataclass(frozen=True)
class Flow:
    """Events in the window. Facts: ts, value, customer_id, partner_id (+ dimension columns).

    agg "sum" adds values; "count_distinct" counts distinct customers with a fact.
    exclude_new drops facts of customers created in the same window (column `created`).
    """

    facts: FactsFn
    agg: Literal["sum", "count_distinct"] = "sum"
    exclude_new: bool = False


@dataclass(frozen=True)
class Stock:
    """A state as of a moment. Facts: valid_from, valid_to (null = open), value, ids, dims."""

    facts: FactsFn


@dataclass(frozen=True)
class Balance:
    """All-time running sum of flow facts up to a moment (credit balances)."""

    facts: FactsFn


@dataclass(frozen=True)
class Ref:
    """Another metric by id, evaluated at the end (default) or the start of each window."""

    id: str
    at: Literal["end", "start"] = "end"


@dataclass(frozen=True)
class Ratio:
    numerator: Ref
    denominator: Ref
    scale: float = 100.0


@dataclass(frozen=True)
class Derived:
    """A formula over other metrics; gets their values (None when empty) and the window days."""

    inputs: tuple[Ref, ...]
    formula: Callable[[Sequence[float | None], int], float | None]


@dataclass(frozen=True)
class Growth:
    """Percent change of another metric against the preceding window."""

    of: Ref


@dataclass(frozen=True)
class Movements:
    """Change of a stock per key between each window's start and end, classified as new,
    expansion, contraction, churned or reactivation (ChartMogul's MRR movements).

    `only` sums just those kinds when the metric is not broken down by `movement`
    (empty = all kinds: the net change)."""

    stock: Ref
    key: str
    only: tuple[str, ...] = ()


MOVEMENTS = ("new", "expansion", "contraction", "churned", "reactivation")

Compute = Flow | Stock | Balance | Ratio | Derived | Growth | Movements


@dataclass(frozen=True)
class Metric:
    id: str
    label: str
    help: str
    unit: Unit
    compute: Compute
    direction: Direction = "up"
    health: Health | None = None
    dims: tuple[str, ...] = ()
    listed: bool = True  # False for building blocks that only other metrics use

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "label": self.label,
            "help": self.help,
            "unit": self.unit,
            "direction": self.direction,
            "kind": type(self.compute).__name__.lower(),
            "health": self.health.as_dict() if self.health else None,
            "dimensions": list(self.dims),
        }


ColumnUnit = Unit | Literal["text", "date", "datetime", "credits_per_customer"]
BuildFn = Callable[["TableContext"], "ibis.Table | pd.DataFrame"]


@dataclass(frozen=True)
class Column:
    name: str
    label: str
    unit: ColumnUnit = "count"


@dataclass(frozen=True)
class Table:
    """A table a dashboard shows: segments and their members, cohorts, funnels, leaderboards,
    heatmaps, distributions, forecasts. `build` returns an Ibis table (run by the engine) or a
    pandas frame, with exactly `columns`. Tables that honour `ctx.partner` set `per_partner`;
    the engine refuses a partner-scoped query for the others (platform-wide data)."""

    id: str
    label: str
    help: str
    columns: tuple[Column, ...]
    build: BuildFn
    per_partner: bool = False
    params: tuple[str, ...] = ()  # extra query parameters the builder reads from ctx.params
    remembered: bool = True  # False for tables not built from ingested data (the audit log)

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "label": self.label,
            "help": self.help,
            "columns": [{"name": c.name, "label": c.label, "unit": c.unit} for c in self.columns],
            "per_partner": self.per_partner,
            "params": list(self.params),
        }


@dataclass
class Catalog:
    metrics: dict[str, Metric] = field(default_factory=dict)
    tables: dict[str, Table] = field(default_factory=dict)

    def add(self, *items: Metric | Table) -> None:
        for item in items:
            if item.id in self.metrics or item.id in self.tables:
                raise ValueError(f"catalog: {item.id} is declared twice")
            if isinstance(item, Table):
                self.tables[item.id] = item
            else:
                self.metrics[item.id] = item

    def table(self, table_id: str) -> Table:
        try:
            return self.tables[table_id]
        except KeyError:
            raise KeyError(f"table: unknown id {table_id!r}; see `pulse table --list`") from None

    def get(self, metric_id: str) -> Metric:
        try:
            return self.metrics[metric_id]
        except KeyError:
            raise KeyError(f"metric: unknown id {metric_id!r}; see `pulse metric --list`") from None

    def listed(self) -> list[Metric]:
        return [m for m in self.metrics.values() if m.listed]


def ratio(numerator: Ref, denominator: Ref, scale: float = 100.0) -> Ratio:
    return Ratio(numerator, denominator, scale)


def safe_div(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or denominator is None or denominator == 0:
        return None
    return numerator / denominator
