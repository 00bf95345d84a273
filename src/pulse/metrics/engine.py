"""Evaluating catalog metrics: windows, comparison, breakdowns and series (SPEC §2).

Every metric is computed for a list of contiguous spans in one pass: the comparison window and
the window itself, or the buckets of a series. Flows are assigned to spans by their timestamp,
stocks are read at each span's end (or start), balances are running sums; ratios, derivations
and growth combine the frames of the metrics they name.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

import ibis
import numpy as np
import pandas as pd

from pulse.metrics.catalog import (
    MOVEMENTS,
    Balance,
    Catalog,
    Derived,
    Flow,
    Growth,
    Metric,
    Movements,
    Ratio,
    Ref,
    Stock,
    safe_div,
)
from pulse.metrics.source import Source, local_time, valid_at
from pulse.metrics.targets import target_for, target_status
from pulse.metrics.windows import (
    Grain,
    Span,
    Window,
    buckets,
    instant,
    parse_window,
    window_span,
)
from pulse.store.store import Store

PARTNER_DIMS = {"partner_kind": "kind", "tier": "program_tier"}
CUSTOMER_DIMS = {
    "plan": "plan_id",
    "channel": "channel",
    "status": "status",
    "platform": "platform",
}
FACT_DIMS = {"partner": "partner_id", "style": "style_id", "experience": "experience_id"}
DIMENSIONS = (*FACT_DIMS, *PARTNER_DIMS, *CUSTOMER_DIMS)
_TRUNCATE = {"day": "D", "week": "W", "month": "M"}
COMPARISONS = ("previous", "year")
T = TypeVar("T")


@dataclass(frozen=True)
class Query:
    """One question to the catalog, as the CLI and API take it."""

    metric: str
    as_of: date
    window: str = "last_30d"
    partner: str | None = None
    by: str | None = None
    series: Grain | None = None
    cumulative: bool = False
    tz: str = "UTC"
    compare: str = "previous"  # or "year": the same window a year earlier (YoY)


@dataclass(frozen=True)
class Plan:
    """How one evaluation runs: spans in order, the breakdown, and the partner filter."""

    spans: tuple[Span, ...]
    dim: str | None
    partner: str | None


class Engine:
    """Evaluates metrics of one catalog against one store."""

    def __init__(
        self, store: Store, catalog: Catalog, currency: str = "USD", *, stale_ok: bool = False
    ) -> None:
        self.store = store
        self.catalog = catalog
        self.currency = currency
        self.stale_ok = stale_ok  # a dashboard view: see `Store.cached`

    # -- public -----------------------------------------------------------------------------------

    def evaluate(self, query: Query) -> dict[str, Any]:
        """The JSON answer of SPEC §2 for one query (see README for the shape), remembered by
        the store until its data changes."""
        answer: dict[str, Any] = self.store.cached(
            ("metric", query, self.currency),
            lambda: self._evaluate(query),
            asked=True,
            stale_ok=self.stale_ok,
        )
        return answer

    def _evaluate(self, query: Query) -> dict[str, Any]:
        metric = self.catalog.get(query.metric)
        if query.by is not None and query.by not in metric.dims:
            allowed = ", ".join(metric.dims) or "none"
            raise ValueError(f"by: {metric.id} has no dimension {query.by!r} (allowed: {allowed})")
        if query.compare not in COMPARISONS:
            raise ValueError(f"compare: {query.compare!r} is not one of {', '.join(COMPARISONS)}")
        window = parse_window(query.window, query.as_of)
        previous = window.year_ago() if query.compare == "year" else window.previous()
        src = Source(
            self.store, query.tz, self.currency, instant(window.end + timedelta(1), query.tz)
        )
        totals = self._compared(src, metric, window, previous, None, query.partner)
        value, prior = _value(totals, 1), _value(totals, 0)
        answer: dict[str, Any] = {
            "metric": metric.id,
            "label": metric.label,
            "window": window.as_dict(),
            "previous_window": previous.as_dict(),
            "as_of": query.as_of.isoformat(),
            "value": _clean(value),
            "previous": _clean(prior),
            "change_pct": _clean(change_pct(value, prior)),
            "status": metric.health.status(value, window.days) if metric.health else None,
            "unit": metric.unit,
        }
        target = target_for(self.store, metric.id, query.window, window, query.partner)
        answer["target"] = _clean(target)
        answer["target_status"] = target_status(value, target, metric.direction)
        if query.by is not None:
            answer["by"] = query.by
            frame = self._compared(src, metric, window, previous, query.by, query.partner)
            answer["rows"] = self._rows(metric, frame, window)
        if query.series is not None:
            answer["series"] = self._series(src, metric, query, window)
        return answer

    # -- shaping ----------------------------------------------------------------------------------

    def _compared(
        self,
        src: Source,
        metric: Metric,
        window: Window,
        previous: Window,
        dim: str | None,
        partner: str | None,
    ) -> pd.DataFrame:
        """The metric for the window (span 1) and the window it is compared with (span 0).

        Against the preceding window both come from one pass; against the same window a year
        earlier each is computed with its own preceding window, so growth metrics stay the
        growth of their own period."""
        tz = src.tz
        if previous == window.previous():
            spans = (window_span(previous, tz), window_span(window, tz))
            return self._frame(src, metric, Plan(spans, dim, partner))
        frames = []
        for index, compared in enumerate((previous, window)):
            spans = (window_span(compared.previous(), tz), window_span(compared, tz))
            frame = self._frame(src, metric, Plan(spans, dim, partner))
            frames.append(frame[frame["span"] == 1].assign(span=index))
        return pd.concat(frames, ignore_index=True)

    def _rows(self, metric: Metric, frame: pd.DataFrame, window: Window) -> list[dict[str, Any]]:
        keys = frame["dim"].map(lambda d: _NO_DIM if _missing(d) else d)
        sums = frame.assign(key=keys).groupby(["key", "span"], sort=False)["value"].sum(min_count=1)
        found = sums.to_dict()

        def pick(key: Any, span: int) -> float | None:
            """As `_value`: 0 without rows, None when every value is missing."""
            if (key, span) not in found:
                return 0.0
            total = found[(key, span)]
            return None if _missing(total) else float(total)

        rows = []
        for key in dict.fromkeys(keys):
            value, prior = pick(key, 1), pick(key, 0)
            rows.append(
                {
                    "key": None if key == _NO_DIM else key,
                    "value": _clean(value),
                    "previous": _clean(prior),
                    "change_pct": _clean(change_pct(value, prior)),
                    "status": metric.health.status(value, window.days) if metric.health else None,
                }
            )
        rows.sort(key=_row_order)
        return rows

    def _series(
        self, src: Source, metric: Metric, query: Query, window: Window
    ) -> list[dict[str, Any]]:
        assert query.series is not None
        spans = tuple(buckets(window, query.series, query.tz))
        frame = self._frame(src, metric, Plan(spans, None, query.partner))
        values = [_value(frame, i) for i in range(len(spans))]
        if query.cumulative and isinstance(metric.compute, Flow):
            running, total = [], 0.0
            for v in values:
                total += v or 0.0
                running.append(total)
            values = list(running)
        return [
            {
                "period": s.key.date().isoformat(),
                "start": s.first.isoformat(),
                "end": s.last.isoformat(),
                "value": _clean(v),
            }
            for s, v in zip(spans, values, strict=True)
        ]

    # -- frames: span, dim, value -----------------------------------------------------------------

    def _frame(self, src: Source, metric: Metric, plan: Plan, at: str = "end") -> pd.DataFrame:
        compute = metric.compute
        if isinstance(compute, Flow):
            return self._flow(src, compute, plan)
        if isinstance(compute, Stock):
            return self._stock(src, compute, plan, at)
        if isinstance(compute, Balance):
            return self._balance(src, compute, plan, at)
        if isinstance(compute, Ratio):
            return self._combine(
                src,
                (compute.numerator, compute.denominator),
                plan,
                lambda values, _days: _scaled(safe_div(values[0], values[1]), compute.scale),
            )
        if isinstance(compute, Derived):
            return self._combine(src, compute.inputs, plan, compute.formula)
        if isinstance(compute, Growth):
            return self._growth(src, compute, plan)
        if isinstance(compute, Movements):
            return self._movements(src, compute, plan)
        raise TypeError(f"{metric.id}: unknown compute {compute!r}")

    def _ref(self, src: Source, ref: Ref, plan: Plan) -> pd.DataFrame:
        return self._frame(src, self.catalog.get(ref.id), plan, ref.at)

    def _combine(
        self, src: Source, refs: tuple[Ref, ...], plan: Plan, formula: Any
    ) -> pd.DataFrame:
        frames = [self._ref(src, ref, plan).set_index(["span", "dim"])["value"] for ref in refs]
        joined = pd.concat(frames, axis=1, keys=range(len(frames)))
        index = pd.MultiIndex.from_product(
            [range(len(plan.spans)), _dims(joined, plan)], names=["span", "dim"]
        )
        joined = joined.reindex(index)
        for position, ref in enumerate(refs):
            if isinstance(self.catalog.get(ref.id).compute, ADDITIVE):
                joined[position] = joined[position].fillna(0.0)  # no facts means zero
        days = [s.days for s in plan.spans]
        columns = [
            joined[position].to_numpy(dtype=float, na_value=np.nan) for position in range(len(refs))
        ]
        out: list[tuple[int, Any, float | None]] = []
        keys = zip(joined.index.get_level_values(0), joined.index.get_level_values(1), strict=True)
        for row, (span_index, dim) in enumerate(keys):
            values = [None if math.isnan(c[row]) else float(c[row]) for c in columns]
            out.append((int(span_index), dim, formula(values, days[int(span_index)])))
        return pd.DataFrame(out, columns=["span", "dim", "value"])

    def _growth(self, src: Source, growth: Growth, plan: Plan) -> pd.DataFrame:
        first = plan.spans[0]
        extended = Plan((first.preceding(src.tz), *plan.spans), plan.dim, plan.partner)
        base = self._ref(src, growth.of, extended)
        out = []
        for dim in _dims(base, plan):
            for i in range(len(plan.spans)):
                prior = _value(base, i, dim)
                out.append((i, dim, change_pct(_value(base, i + 1, dim), prior)))
        return pd.DataFrame(out, columns=["span", "dim", "value"])

    def _movements(self, src: Source, movements: Movements, plan: Plan) -> pd.DataFrame:
        stock = self.catalog.get(movements.stock.id).compute
        assert isinstance(stock, Stock)
        key = movements.key

        def build() -> tuple[ibis.Table, ibis.Table]:
            facts = self._scoped(stock.facts(src), plan)
            joined = valid_at(
                facts,
                [
                    (moment, {"span_index": i, "edge": edge})
                    for i, s in enumerate(plan.spans)
                    for edge, moment in (("start", s.start), ("end", s.end))
                ],
            )
            paying = facts.filter(facts.value > 0)
            return (
                joined.group_by("span_index", "edge", key).aggregate(value=joined.value.sum()),
                paying.group_by(key).aggregate(first=paying.valid_from.min()),
            )

        levels, first_paid = self._facts(
            src,
            plan,
            movements,
            build,
            lambda t: (self.store.frame(t[0]), self.store.frame(t[1])),
        )
        firsts = first_paid.set_index(key)["first"]
        out: list[tuple[int, str | None, float]] = []
        for i, s in enumerate(plan.spans):
            rows = levels[levels["span_index"] == i]
            wide = rows.pivot_table(index=key, columns="edge", values="value", aggfunc="sum")
            wide = wide.reindex(columns=["start", "end"]).fillna(0.0)
            totals = _classify(wide["start"], wide["end"], firsts.reindex(wide.index), s.start)
            if plan.dim == "movement":
                out.extend((i, kind, totals.get(kind, 0.0)) for kind in MOVEMENTS)
            else:
                kinds = movements.only or MOVEMENTS
                out.append((i, None, float(sum(totals.get(kind, 0.0) for kind in kinds))))
        return pd.DataFrame(out, columns=["span", "dim", "value"])

    def _flow(self, src: Source, flow: Flow, plan: Plan) -> pd.DataFrame:
        def build() -> ibis.Table:
            facts = self._scoped(flow.facts(src), plan)
            start, end = plan.spans[0].start, plan.spans[-1].end
            facts = facts.filter((facts.ts >= start) & (facts.ts < end))
            facts = facts.mutate(span_key=self._span_key(src, facts.ts, plan))
            if flow.exclude_new:
                created_key = self._span_key(src, facts.created, plan)
                facts = facts.filter(created_key.isnull() | (created_key != facts.span_key))
            facts = self._with_dim(src, facts, plan.dim)
            grouped = facts.group_by("span_key", "dim")
            if flow.agg == "count_distinct":
                return grouped.aggregate(value=facts.customer_id.nunique())
            return grouped.aggregate(value=facts.value.sum())

        frame: pd.DataFrame = self._facts(src, plan, flow, build, lambda t: self._to_frame(t, plan))
        return frame

    def _stock(self, src: Source, stock: Stock, plan: Plan, at: str) -> pd.DataFrame:
        def build() -> ibis.Table:
            facts = self._scoped(stock.facts(src), plan)
            moments = [
                (s.end if at == "end" else s.start, {"span_index": i})
                for i, s in enumerate(plan.spans)
            ]
            joined = self._with_dim(src, valid_at(facts, moments), plan.dim)
            return joined.group_by("span_index", "dim").aggregate(value=joined.value.sum())

        frame: pd.DataFrame = self._facts(
            src,
            plan,
            (stock, at),
            build,
            lambda t: self._fetch(t).rename(columns={"span_index": "span"}),
        )
        return frame

    def _balance(self, src: Source, balance: Balance, plan: Plan, at: str) -> pd.DataFrame:
        def build() -> ibis.Table:
            facts = self._scoped(balance.facts(src), plan)
            facts = facts.filter(facts.ts < plan.spans[-1].end)
            facts = facts.mutate(span_key=self._span_key(src, facts.ts, plan, before=True))
            facts = self._with_dim(src, facts, plan.dim)
            return facts.group_by("span_key", "dim").aggregate(value=facts.value.sum())

        per_span: pd.DataFrame = self._facts(
            src, plan, balance, build, lambda t: self._to_frame(t, plan, base=True)
        )
        # running totals per dimension value: carried-in balance (span -1), then each span's flow
        dims = _dims(per_span, plan)
        keys = per_span["dim"].map(lambda d: _NO_DIM if _missing(d) else d)
        grid = (
            per_span.assign(key=keys)
            .pivot_table(index="key", columns="span", values="value", aggfunc="sum")
            .reindex(
                index=[_NO_DIM if d is None else d for d in dims],
                columns=range(-1, len(plan.spans)),
            )
            .fillna(0.0)
        )
        ends = grid.cumsum(axis=1)
        levels = ends.shift(1, axis=1).fillna(0.0) if at == "start" else ends
        values = levels.to_numpy(dtype=float)
        out = [
            (i, dim, float(values[row, i + 1]))
            for row, dim in enumerate(dims)
            for i in range(len(plan.spans))
        ]
        return pd.DataFrame(out, columns=["span", "dim", "value"])

    # -- building blocks --------------------------------------------------------------------------

    def _facts(
        self,
        src: Source,
        plan: Plan,
        compute: Any,
        build: Callable[[], T],
        fetch: Callable[[T], Any],
    ) -> Any:
        """`fetch(build())`: the frame of one building block (a flow, stock, balance or
        movements) under `plan`.

        The frame is remembered until the data changes: ratios and derivations of a page share
        many building blocks (about half of a dashboard's queries are repeats). The expression
        is built once per store (see `Store.expression`), so the same question asked after new
        data is neither built nor compiled again."""
        key = (compute, plan, src.tz, src.currency, src.as_of)
        return self.store.cached(
            ("facts", *key), lambda: fetch(self.store.expression(("expression", *key), build))
        )

    @staticmethod
    def _scoped(facts: ibis.Table, plan: Plan) -> ibis.Table:
        facts = facts.view()  # a fresh relation, so joins below never extend a join chain
        if plan.partner is None:
            return facts
        return facts.filter(facts.partner_id == plan.partner)

    @staticmethod
    def _span_key(src: Source, ts: ibis.Value, plan: Plan, before: bool = False) -> ibis.Value:
        """The span a timestamp falls in, as the span's naive local key (null if outside).

        Series buckets truncate local time (fast, one pass); a handful of windows use CASE.
        With `before`, earlier timestamps get key 1900-01-01 (the balance carried in).
        """
        grain = plan.spans[0].grain
        if grain is not None and not before:
            return local_time(src.tz, ts).truncate(_TRUNCATE[grain])
        branches = [((ts >= s.start) & (ts < s.end), ibis.literal(s.key)) for s in plan.spans]
        if before:
            branches.append((ts < plan.spans[0].start, ibis.literal(_BASE_KEY)))
        return ibis.cases(*branches, else_=ibis.null("timestamp"))

    def _with_dim(self, src: Source, facts: ibis.Table, dim: str | None) -> ibis.Table:
        if dim is None:
            return facts.mutate(dim=ibis.null("string"))
        if dim in facts.columns:
            return facts.mutate(dim=facts[dim].cast("string"))
        if dim in FACT_DIMS:
            return facts.mutate(dim=facts[FACT_DIMS[dim]].cast("string"))
        entity, trait, key = (
            ("partner", PARTNER_DIMS[dim], "partner_id")
            if dim in PARTNER_DIMS
            else ("customer", CUSTOMER_DIMS[dim], "customer_id")
        )
        values = src.latest(entity, trait, before=src.as_of).rename(dim_id="entity_id", dim="value")
        on = facts[key]
        if dim == "channel" and "partner_id" in facts.columns:
            values, on = _with_partner_channels(src, values, facts)
        joined = facts.left_join(values, on == values.dim_id).drop("dim_id")
        said = f"said_{dim}"  # what the facts' events state comes before the attribute
        if said in facts.columns:
            joined = joined.mutate(dim=ibis.coalesce(joined[said], joined.dim))
        return joined

    def _to_frame(self, table: ibis.Table, plan: Plan, base: bool = False) -> pd.DataFrame:
        frame = self._fetch(table)
        index = {s.key: i for i, s in enumerate(plan.spans)}
        if base:
            index[_BASE_KEY] = -1
        keys = frame.pop("span_key")
        frame.insert(0, "span", [index.get(_naive(k)) for k in keys])
        return frame.dropna(subset=["span"]).astype({"span": int})

    def _fetch(self, table: ibis.Table) -> pd.DataFrame:
        frame = self.store.frame(table)
        frame["dim"] = frame["dim"].astype(object).where(frame["dim"].notna(), None)
        return frame


def _with_partner_channels(
    src: Source, channels: ibis.Table, facts: ibis.Table
) -> tuple[ibis.Table, ibis.Value]:
    """What a partner does itself (no customer: its fees, its credit packs) comes through the
    channel of its kind (reseller, white_label …), as its clients do: the customers' channels
    and the partners' kinds in one table, and the key to join it on (the customer, else the
    partner). One join, as for the other breakdowns."""
    kinds = src.latest("partner", PARTNER_DIMS["partner_kind"], before=src.as_of)
    kinds = kinds.select(dim_id=_PARTNER_KEY + kinds.entity_id, dim=kinds.value)
    kinds = kinds.cast(channels.schema())  # a key not null on PostgreSQL: the same schema
    on = ibis.coalesce(facts.customer_id, _PARTNER_KEY + facts.partner_id)
    return channels.union(kinds), on


_PARTNER_KEY = "partner\x1f"  # partner ids among customer ids (no customer id starts so)


_BASE_KEY = datetime(1900, 1, 1)
_NO_DIM = "\x00none"  # stands for "no dimension value" where pandas would drop None
ADDITIVE = (Flow, Stock, Balance, Movements)


def _naive(key: Any) -> Any:
    if key is None or _missing(key):
        return None
    stamp = pd.Timestamp(key)
    if stamp.tzinfo is not None:
        stamp = stamp.tz_localize(None)
    return stamp.to_pydatetime()


def _row_order(row: dict[str, Any]) -> tuple[bool, float, str]:
    """Breakdown rows: largest value first, empty values last, then by key."""
    value = row["value"]
    return (value is None, -(value or 0), str(row["key"]))


def movement_kinds(
    before: pd.Series, after: pd.Series, first_paid: pd.Series, start: datetime
) -> np.ndarray:
    """Each key's movement between a span's start and end ("" = none): from zero is new (or
    reactivation if it paid before the span), to zero is churned, else expansion or
    contraction."""
    first = pd.to_datetime(first_paid, utc=True)
    return np.select(
        [
            before == after,
            (before == 0) & (first < pd.Timestamp(start)),
            before == 0,
            after == 0,
            after > before,
        ],
        ["", "reactivation", "new", "churned", "expansion"],
        default="contraction",
    )


def _classify(
    before: pd.Series, after: pd.Series, first_paid: pd.Series, start: datetime
) -> dict[str, float]:
    """The change between start and end summed per movement kind."""
    kinds = movement_kinds(before, after, first_paid, start)
    delta = (after - before).groupby(kinds).sum()
    return {str(kind): float(amount) for kind, amount in delta.items() if kind}


def _missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):  # most dimension values: no need to ask pandas
        return False
    if isinstance(value, float):
        return math.isnan(value)
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _dims(frame: pd.DataFrame | pd.Series, plan: Plan) -> list[Any]:
    if plan.dim is None:
        return [None]
    values = (
        frame.index.get_level_values("dim")
        if isinstance(frame.index, pd.MultiIndex)
        else (frame["dim"])
    )
    return list(dict.fromkeys(None if _missing(v) else v for v in values)) or [None]


_ALL = object()  # `_value` without a dimension: every row of the span


def _value(frame: pd.DataFrame, span_index: int, dim: Any = _ALL) -> float | None:
    """The value of one span (of one dimension value if given, None = the rows without one);
    0 if no row, None if empty."""
    rows = frame[frame["span"] == span_index]
    if dim is None:
        rows = rows[rows["dim"].isna()]
    elif dim is not _ALL:
        rows = rows[rows["dim"] == dim]
    values = [float(v) for v in rows["value"] if not _missing(v)]
    if rows.empty:
        return 0.0
    if not values:
        return None
    return sum(values)


def _scaled(value: float | None, scale: float) -> float | None:
    return None if value is None else value * scale


def change_pct(value: float | None, previous: float | None) -> float | None:
    """The change from `previous` in percent, on the values as answers show them (4 decimals):
    amounts that cancel out sum to float noise (1e-13, in an order that varies from run to
    run), which is no base to change from."""
    if value is None or previous is None:
        return None
    value, previous = round(value, 4), round(previous, 4)
    if previous == 0:
        return None
    return (value - previous) / abs(previous) * 100


def _clean(value: float | None) -> float | None:
    if value is None or math.isnan(value) or math.isinf(value):
        return None
    rounded = round(value, 4)
    return int(rounded) if rounded.is_integer() and abs(rounded) < 2**53 else rounded
