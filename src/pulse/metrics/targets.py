"""Metric targets per period and their 🟢 / 🟡 / 🔴 status (SPEC §3 "Targets", seed 003 §1, §7.3).

A target is (metric id, period, value); a period is a calendar month `YYYY-MM`, a quarter
`YYYY-Qn` or a year `YYYY`, in the reporting time zone like every window. A query gets the
target of the period its window is exactly (this_month / last_month or a custom whole month →
the month; a custom whole quarter or year → that quarter or year); any other window gets none:
a monthly target is never scaled to a year or a 30-day window (that would be a guess).

Targets are program-wide: a partner-scoped query shows no target. Status: on_track when the
value reaches the target, at_risk when it falls short by at most 20 % of the target, off_track
beyond; for lower-is-better metrics (direction "down") the comparison is reversed.

This module must not import `pulse.metrics` (the registry) or `tables.py`: the engine imports it.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from pulse.metrics.catalog import Catalog, Column, Direction, Table
from pulse.metrics.windows import Window
from pulse.store.store import Store

if TYPE_CHECKING:
    from pulse.metrics.tables import TableContext

Status = Literal["on_track", "at_risk", "off_track"]
AT_RISK_BAND = 0.20  # within 20 % of the target on the wrong side: 🟡
SYMBOLS: dict[str, str] = {"on_track": "🟢", "at_risk": "🟡", "off_track": "🔴"}
MONTH_WINDOWS = ("this_month", "last_month")
_PERIOD = re.compile(r"^(\d{4})(?:-(\d{2})|-Q(\d))?$")
_UPSERT = (
    "INSERT INTO targets (metric, period, value, updated_at) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (metric, period) DO UPDATE SET value = excluded.value, "
    "updated_at = excluded.updated_at"
)


# -- periods ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """A calendar month, quarter or year: local days `first` .. `last`, both included."""

    text: str
    first: date
    last: date


def _month_end(year: int, month: int) -> date:
    following = date(year + month // 12, month % 12 + 1, 1)
    return following - timedelta(days=1)


def parse_period(text: str) -> Period:
    """`YYYY-MM`, `YYYY-Qn` or `YYYY`; raise ValueError naming the period."""
    match = _PERIOD.match(text.strip())
    if match is None:
        raise ValueError(f"period: {text!r} is not YYYY-MM, YYYY-Qn or YYYY")
    year = int(match.group(1))
    if year < 1900:
        raise ValueError(f"period: {text!r} has a year before 1900")
    if match.group(2) is not None:
        month = int(match.group(2))
        if not 1 <= month <= 12:
            raise ValueError(f"period: {text!r} has no month {month:02d} (01-12)")
        return Period(f"{year}-{month:02d}", date(year, month, 1), _month_end(year, month))
    if match.group(3) is not None:
        quarter = int(match.group(3))
        if not 1 <= quarter <= 4:
            raise ValueError(f"period: {text!r} has no quarter {quarter} (Q1-Q4)")
        first_month = 3 * quarter - 2
        return Period(
            f"{year}-Q{quarter}", date(year, first_month, 1), _month_end(year, first_month + 2)
        )
    return Period(str(year), date(year, 1, 1), date(year, 12, 31))


def periods_containing(day: date) -> tuple[Period, Period, Period]:
    """The month, quarter and year a day falls in."""
    quarter = (day.month - 1) // 3 + 1
    return (
        parse_period(f"{day.year}-{day.month:02d}"),
        parse_period(f"{day.year}-Q{quarter}"),
        parse_period(str(day.year)),
    )


def window_period(spec: str, window: Window) -> str | None:
    """The period whose target applies to a query window (see the module doc), or None."""
    if spec in MONTH_WINDOWS:
        return f"{window.start:%Y-%m}"
    if ".." not in spec:  # rolling presets (last_30d, last_3m, last_12m) match no period
        return None
    for period in periods_containing(window.start):
        if (period.first, period.last) == (window.start, window.end):
            return period.text
    return None


# -- status -------------------------------------------------------------------------------------


def target_status(value: float | None, target: float | None, direction: Direction) -> Status | None:
    """🟢 on_track, 🟡 at_risk (short by ≤ 20 % of the target), 🔴 off_track; None if either
    number is missing. Lower-is-better metrics (direction "down") must stay at or under target."""
    if value is None or target is None or math.isnan(value):
        return None
    shortfall = target - value if direction != "down" else value - target
    if shortfall <= 0:
        return "on_track"
    if shortfall <= AT_RISK_BAND * abs(target):
        return "at_risk"
    return "off_track"


# -- storage ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    metric: str
    period: str
    value: float

    def as_dict(self) -> dict[str, Any]:
        return {"metric": self.metric, "period": self.period, "value": _number(self.value)}


def checked(catalog: Catalog, metric: str, period: str, value: Any) -> Target:
    """A valid target, or KeyError (unknown metric) / ValueError naming the bad field."""
    catalog.get(metric)
    canonical = parse_period(period).text
    if isinstance(value, bool):
        raise ValueError(f"value: {value!r} is not a number")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"value: {value!r} is not a number") from None
    if not math.isfinite(number):
        raise ValueError(f"value: {value!r} is not a finite number")
    return Target(metric, canonical, number)


def save(store: Store, targets: Sequence[Target]) -> int:
    """Insert or replace targets on (metric, period), all in one transaction."""
    now = datetime.now(UTC)
    with store.transaction() as cur:
        for target in targets:
            cur.execute(
                store.placeholders(_UPSERT), (target.metric, target.period, target.value, now)
            )
        # remembered answers carry targets: they are stale now (no snapshot reads targets)
        store.changed(cur, touched=frozenset(), wrote=frozenset({("table", "targets")}))
    return len(targets)


def set_target(store: Store, catalog: Catalog, metric: str, period: str, value: Any) -> Target:
    target = checked(catalog, metric, period, value)
    save(store, [target])
    return target


def delete_target(store: Store, metric: str, period: str) -> bool:
    """Remove one target; False if there was none."""
    canonical = parse_period(period).text
    with store.transaction() as cur:
        cur.execute(
            store.placeholders(
                "DELETE FROM targets WHERE metric = ? AND period = ? RETURNING metric"
            ),
            (metric, canonical),
        )
        removed = bool(cur.fetchall())
        store.changed(cur, touched=frozenset(), wrote=frozenset({("table", "targets")}))
    return removed


def list_targets(
    store: Store, metric: str | None = None, periods: Sequence[str] | None = None
) -> list[Target]:
    """Stored targets, optionally of one metric and / or some periods, by metric and period."""
    table = store.table("targets")
    if metric is not None:
        table = table.filter(table.metric == metric)
    if periods is not None:
        table = table.filter(table.period.isin(list(periods)))
    table = table.select("metric", "period", "value").order_by(["metric", "period"])
    frame = store.frame(table)
    return [
        Target(str(m), str(p), float(v)) for m, p, v in frame.itertuples(index=False, name=None)
    ]


def target_for(
    store: Store, metric: str, spec: str, window: Window, partner: str | None
) -> float | None:
    """The target that applies to a metric query (None for partner-scoped queries)."""
    period = None if partner is not None else window_period(spec, window)
    if period is None:
        return None
    found = list_targets(store, metric, [period])
    return found[0].value if found else None


# -- CSV import ---------------------------------------------------------------------------------

CSV_COLUMNS = ("metric", "period", "value")


def parse_csv(text: str, catalog: Catalog) -> list[Target]:
    """Targets of a `metric,period,value` CSV; the first bad line raises ValueError naming the
    line and the field, so an import is all-or-nothing."""
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    missing = [c for c in CSV_COLUMNS if c not in header]
    if missing:
        raise ValueError(
            f"line 1: header: missing column {missing[0]!r} (need metric,period,value)"
        )
    targets: list[Target] = []
    seen: dict[tuple[str, str], int] = {}
    for row in reader:
        line = reader.line_num
        if all(not (row.get(c) or "").strip() for c in CSV_COLUMNS):
            continue  # blank line
        metric, period, value = ((row.get(c) or "").strip() for c in CSV_COLUMNS)
        try:
            target = checked(catalog, metric, period, value)
        except KeyError as exc:
            raise ValueError(f"line {line}: {exc.args[0]}") from None  # "metric: …"
        except ValueError as exc:
            raise ValueError(f"line {line}: {exc}") from None
        key = (target.metric, target.period)
        if key in seen:
            raise ValueError(
                f"line {line}: period: {target.period} of {target.metric} is already on "
                f"line {seen[key]}"
            )
        seen[key] = line
        targets.append(target)
    if not targets:
        raise ValueError("line 1: file: no targets (need a metric,period,value header and rows)")
    return targets


def import_csv(store: Store, catalog: Catalog, text: str) -> int:
    """Validate every line, then store all targets in one transaction."""
    return save(store, parse_csv(text, catalog))


# -- the KPI table of seed 003 §1 / §7.3 --------------------------------------------------------


def status_rows(ctx: TableContext) -> pd.DataFrame:
    """Each target of the chosen period (default: the as-of month, quarter and year) with the
    metric's actual for that period up to the as-of date, through the catalog (`ctx.ask`)."""
    as_of = ctx.query.as_of
    wanted = ctx.params.get("period")
    periods = [parse_period(wanted)] if wanted else list(periods_containing(as_of))
    by_text = {p.text: p for p in periods}
    catalog = ctx.engine.catalog
    records = []
    for target in list_targets(ctx.engine.store, periods=list(by_text)):
        if target.metric not in catalog.metrics:
            continue  # a target of a metric the catalog no longer has
        metric = catalog.get(target.metric)
        actual = _actual(ctx, target.metric, by_text[target.period], as_of)
        records.append(
            {
                "metric": metric.id,
                "label": metric.label,
                "unit": metric.unit,
                "period": target.period,
                "target": target.value,
                "actual": actual,
                "gap": None if actual is None else target.value - actual,
                "status": target_status(actual, target.value, metric.direction),
            }
        )
    return pd.DataFrame(records, columns=[c.name for c in STATUS_COLUMNS])


def _actual(ctx: TableContext, metric: str, period: Period, as_of: date) -> float | None:
    """The metric over the period so far (the whole period once it is over); None before it."""
    if as_of < period.first:
        return None
    end = min(period.last, as_of)
    answer = ctx.ask(metric, window=f"{period.first}..{end}", as_of=end, partner=None)
    value: float | None = answer["value"]
    return value


def _number(value: float) -> float | int:
    return int(value) if value.is_integer() and abs(value) < 2**53 else value


STATUS_COLUMNS = (
    Column("metric", "Metric", "text"),
    Column("label", "Label", "text"),
    Column("unit", "Unit", "text"),
    Column("period", "Period", "text"),
    Column("target", "Target"),
    Column("actual", "Current"),
    Column("gap", "Gap"),
    Column("status", "Status", "text"),
)

METRICS = (
    Table(
        "targets.status",
        "Targets",
        "Each metric target of the as-of month, quarter and year (or of `period`) against the "
        "metric so far in that period: on_track 🟢 at or beyond target, at_risk 🟡 short by at "
        "most 20 %, off_track 🔴 further (reversed when lower is better). Gap = target − "
        "current. A flow's current value is period-to-date, so early in a period it trails a "
        "full-period target. The window is not used; the as-of date is.",
        STATUS_COLUMNS,
        status_rows,
        params=("period",),
    ),
)
