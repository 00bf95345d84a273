"""Evaluating catalog tables: segments, cohorts, funnels, leaderboards, heatmaps (SPEC §3).

A table is built for one window, as-of date and (optionally) one partner. Its builder gets a
`TableContext` with the window's UTC instants, the entity histories (`ctx.src`), a way to run
Ibis expressions (`ctx.fetch`) and to ask the metric catalog (`ctx.ask`), so a table never
re-states a formula the catalog already has.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import ibis
import pandas as pd

from pulse.metrics.catalog import Table
from pulse.metrics.engine import Engine, Query
from pulse.metrics.source import Source
from pulse.metrics.windows import Window, instant, parse_window


@dataclass(frozen=True)
class TableQuery:
    """One table request, as the CLI and API take it."""

    table: str
    as_of: date
    window: str = "last_30d"
    partner: str | None = None
    tz: str = "UTC"
    where: Mapping[str, str] = field(default_factory=dict)  # column = value filters
    params: Mapping[str, str] = field(default_factory=dict)  # the table's own parameters
    limit: int | None = None


@dataclass(frozen=True)
class TableContext:
    engine: Engine
    src: Source
    window: Window
    query: TableQuery

    @property
    def start(self) -> datetime:
        """UTC instant at which the window begins (inclusive)."""
        return instant(self.window.start, self.query.tz)

    @property
    def end(self) -> datetime:
        """UTC instant at which the window ends (exclusive): the as-of moment."""
        return instant(self.window.end + timedelta(days=1), self.query.tz)

    @property
    def partner(self) -> str | None:
        return self.query.partner

    @property
    def params(self) -> Mapping[str, str]:
        return self.query.params

    def scoped(self, facts: ibis.Table, column: str = "partner_id") -> ibis.Table:
        """Facts of the queried partner only (all facts without a partner filter)."""
        if self.partner is None:
            return facts
        return facts.filter(facts[column] == self.partner)

    def partner_events(self, events: ibis.Table) -> ibis.Table:
        """`events` of the queried partner: its own and its customers' (`Source.attributed`).
        Without a partner filter, every event as it is: attributing them would join each to
        its customer's partner for nothing (the admin's activity log, at `large` after new
        data, a join of a month's million events)."""
        if self.partner is None:
            return events
        return self.scoped(self.src.attributed(events))

    def in_window(self, facts: ibis.Table, column: str = "ts") -> ibis.Table:
        return facts.filter((facts[column] >= self.start) & (facts[column] < self.end))

    def fetch(self, table: ibis.Table) -> pd.DataFrame:
        return _fetch(
            self.engine, table, live=not self.engine.catalog.table(self.query.table).remembered
        )

    def piece(self, name: str, compute: Callable[[], pd.DataFrame]) -> pd.DataFrame:
        """`compute()`, a part of this table's rows, remembered on its own (as answers are):
        when new data makes the table stale, only the parts that read that data are computed
        again (a chat message changes the partner list's last activity, not its traits)."""
        key = ("table piece", name, *_built_from(self.query, self.engine.currency))
        frame: pd.DataFrame = self.engine.store.cached(key, compute)
        return frame

    def values(self, metric: str, **options: Any) -> dict[Any, Any]:
        """A catalog metric's breakdown (`by=` among `options`) as {key: value}."""
        return {row["key"]: row["value"] for row in self.ask(metric, **options).get("rows", [])}

    def gather(self, key: str, by: str, metrics: Mapping[str, str]) -> pd.DataFrame:
        """One row per breakdown key (column `key`, in the order first met), one column per
        catalog metric asked with `by` (column name -> metric id)."""
        columns = {column: self.values(metric, by=by) for column, metric in metrics.items()}
        keys = list(dict.fromkeys(k for values in columns.values() for k in values))
        return pd.DataFrame(
            [{key: k, **{c: values.get(k) for c, values in columns.items()}} for k in keys],
            columns=[key, *metrics],
        )

    def ask(self, metric: str, **options: Any) -> dict[str, Any]:
        """A catalog metric for this context (same as-of, window, partner and time zone unless
        overridden)."""
        defaults: dict[str, Any] = {
            "as_of": self.query.as_of,
            "window": self.query.window,
            "partner": self.partner,
            "tz": self.query.tz,
        }
        return self.engine.evaluate(Query(metric=metric, **{**defaults, **options}))


def evaluate_table(engine: Engine, query: TableQuery) -> dict[str, Any]:
    """{"table", "label", "window", "as_of", "columns", "rows"} for one table query,
    remembered by the store until its data changes."""
    key = (
        "table",
        *_built_from(query, engine.currency),
        tuple(sorted(query.where.items())),
        query.limit,
    )
    if not engine.catalog.table(query.table).remembered:
        return _evaluate(engine, query)
    answer: dict[str, Any] = engine.store.cached(
        key, lambda: _evaluate(engine, query), asked=True, stale_ok=engine.stale_ok
    )
    return answer


def _built_from(query: TableQuery, currency: str) -> tuple[Any, ...]:
    """What a table's rows are built from (its filters and limit apply after): for keys."""
    params = tuple(sorted(query.params.items()))
    return (query.table, query.as_of, query.window, query.partner, query.tz, params, currency)


def _evaluate(engine: Engine, query: TableQuery) -> dict[str, Any]:
    table = engine.catalog.table(query.table)
    if query.partner is not None and not table.per_partner:
        raise ValueError(f"partner: table {table.id} is platform-wide and has no partner view")
    unknown = set(query.params) - set(table.params)
    if unknown:
        allowed = ", ".join(table.params) or "none"
        raise ValueError(
            f"{sorted(unknown)[0]}: not a parameter of {table.id} (allowed: {allowed})"
        )
    names = [c.name for c in table.columns]
    for column in query.where:
        if column not in names:
            raise ValueError(f"{column}: not a column of {table.id} (columns: {', '.join(names)})")
    if query.limit is not None and query.limit < 0:
        raise ValueError("limit: must be 0 or more")
    window = parse_window(query.window, query.as_of)
    src = Source(
        engine.store, query.tz, engine.currency, instant(window.end + timedelta(1), query.tz)
    )
    built = table.build(TableContext(engine, src, window, query))
    frame = (
        built if isinstance(built, pd.DataFrame) else _fetch(engine, built, not table.remembered)
    )
    missing = [n for n in names if n not in frame.columns]
    if missing:
        raise RuntimeError(f"table {table.id}: builder returned no column {missing[0]!r}")
    frame = frame[names]
    for column, wanted in query.where.items():
        frame = frame[frame[column].astype(str) == wanted]
    if query.limit is not None:
        frame = frame.head(query.limit)
    return {
        "table": table.id,
        "label": table.label,
        "window": window.as_dict(),
        "as_of": query.as_of.isoformat(),
        "columns": table.as_dict()["columns"],
        "rows": [
            {name: _cell(value) for name, value in zip(names, row, strict=True)}
            for row in frame.itertuples(index=False, name=None)
        ],
    }


def split_extras(table: Table, extras: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """Split free-form options into the table's parameters and column filters."""
    params, where = {}, {}
    columns = {c.name for c in table.columns}
    for name, value in extras.items():
        if name in table.params:
            params[name] = value
        elif name in columns:
            where[name] = value
        else:
            choices = ", ".join([*table.params, *sorted(columns)])
            raise ValueError(f"{name}: not a parameter or column of {table.id} ({choices})")
    return params, where


def _fetch(engine: Engine, table: ibis.Table, live: bool = False) -> pd.DataFrame:
    """`table`'s rows; a `live` table's (not remembered, computed on every view) read without
    waiting for a background computation (`Store.read_frame`)."""
    if live:
        return engine.store.read_frame(table)
    return engine.store.frame(table)


def _cell(value: Any) -> Any:
    """JSON-ready cell: None for missing, ISO text for dates, plain numbers."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return None
        rounded = round(value, 4)
        return int(rounded) if rounded.is_integer() and abs(rounded) < 2**53 else rounded
    if isinstance(value, pd.Timestamp | datetime | date):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return _cell(value.item())
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value
