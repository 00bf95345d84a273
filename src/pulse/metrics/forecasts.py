"""forecasts.* — partner count and revenue by channel, months ahead (SPEC §3, seed 003 §7).

Model: statsmodels' `ETSModel`, exponential smoothing in state-space form (the additive
Holt-Winters model, with prediction intervals):

- 24 complete months of history or more: additive error, trend and seasonality with a period of
  12 months, ETS(A,A,A) — two full years are the least that separates a season from noise;
- 4 to 23 months: additive trend only, ETS(A,A,N) (Holt's linear trend);
- under 4 months: no forecast — the rows are there with value, lower and upper null.

History is complete calendar months up to the as-of date (the as-of month counts only when the
as-of date is its last day), at most 36, starting at the first month with a non-zero value:
months before the business existed are not zeros of the series. The forecast starts the month
after the last complete one. Monthly numbers come from the catalog (`ctx.ask`), so a forecast
row of kind "actual" is exactly what the metric answers for that month.

Each forecast has an 80 % prediction interval (lower, upper). Counts and revenue are never
negative, so value and bounds are floored at 0. Backtest (`forecasts.backtest`): the same model
rule fitted on the history without its last 3 months; MAPE of its 3 forecasts against those
actual months (months whose actual is 0 are skipped; null when none is left or the shortened
history is too short to fit).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import ibis
import numpy as np
import pandas as pd

from pulse.metrics import targets
from pulse.metrics.catalog import Column, Flow, Metric, Table
from pulse.metrics.source import Source, local_time
from pulse.metrics.windows import instant

if TYPE_CHECKING:
    from pulse.metrics.tables import TableContext

PARTNER_METRIC = "partners.total"
REVENUE_METRIC = "revenue.total"
HISTORY_MONTHS = 36  # fitted history at most (three seasonal cycles)
SEASONAL_MIN = 24  # months of history for the seasonal model
TREND_MIN = 4  # months of history for the trend-only model
SEASON = 12
HOLDOUT = 3  # months held out by the backtest
INTERVAL = 0.80
TOTAL = "total"  # the channel row of all revenue
UNKNOWN = "unknown"  # revenue of customers without a channel


# -- the model --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Forecast:
    """Forecast values and 80 % bounds per month ahead (None where there is no forecast)."""

    model: str  # "seasonal", "trend" or "none"
    values: list[float | None]
    lower: list[float | None]
    upper: list[float | None]


def model_for(months: int) -> str:
    """Which model a history of this many months gets (see the module doc)."""
    if months >= SEASONAL_MIN:
        return "seasonal"
    if months >= TREND_MIN:
        return "trend"
    return "none"


def forecast(history: Sequence[float], horizon: int) -> Forecast:
    """Fit the model the history length allows and forecast `horizon` months."""
    model = model_for(len(history))
    if model == "none" or horizon <= 0:
        empty: list[float | None] = [None] * max(horizon, 0)
        return Forecast(model, empty, list(empty), list(empty))
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    seasonal = model == "seasonal"
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")  # convergence chatter on short or perfectly regular data
        endog = pd.Series(
            np.asarray(history, dtype=float),
            index=pd.period_range("2000-01", periods=len(history), freq="M"),
        )  # a dated index: prediction frames need one; the dates themselves do not matter
        fitted = ETSModel(
            endog,
            error="add",
            trend="add",
            seasonal="add" if seasonal else None,
            seasonal_periods=SEASON if seasonal else None,
        ).fit(disp=False)
        frame = fitted.get_prediction(
            start=len(history), end=len(history) + horizon - 1
        ).summary_frame(alpha=1 - INTERVAL)
    return Forecast(
        model,
        [_floored(v) for v in frame["mean"]],
        [_floored(v) for v in frame["pi_lower"]],
        [_floored(v) for v in frame["pi_upper"]],
    )


def mape(actual: Sequence[float], predicted: Sequence[float | None]) -> float | None:
    """Mean absolute percentage error × 100 over months with a non-zero actual and a forecast."""
    errors = [
        abs(a - p) / abs(a) for a, p in zip(actual, predicted, strict=True) if a and p is not None
    ]
    return sum(errors) / len(errors) * 100 if errors else None


def backtest(history: Sequence[float]) -> tuple[str, float | None]:
    """Model and MAPE of a fit without the last HOLDOUT months against those months."""
    if len(history) <= HOLDOUT:
        return "none", None
    shortened = history[:-HOLDOUT]
    result = forecast(shortened, HOLDOUT)
    return result.model, mape(history[-HOLDOUT:], result.values)


def _floored(value: Any) -> float | None:
    number = float(value)
    return None if math.isnan(number) or math.isinf(number) else max(number, 0.0)


# -- monthly history from the catalog ---------------------------------------------------------


def last_complete_month(as_of: date) -> date:
    """The last day of the last calendar month that is over by the end of the as-of date."""
    if (as_of + timedelta(days=1)).month != as_of.month:
        return as_of
    return as_of.replace(day=1) - timedelta(days=1)


def history_months(as_of: date, count: int = HISTORY_MONTHS) -> list[targets.Period]:
    """The `count` complete calendar months up to the as-of date, oldest first."""
    last = last_complete_month(as_of)
    months: list[targets.Period] = []
    first = last.replace(day=1)
    for _ in range(count):
        months.append(targets.parse_period(f"{first:%Y-%m}"))
        first = (first - timedelta(days=1)).replace(day=1)
    return months[::-1]


def _trimmed(labels: list[str], values: list[float]) -> tuple[list[str], list[float]]:
    """Drop the months before the first non-zero value (before the business existed)."""
    for i, v in enumerate(values):
        if v:
            return labels[i:], values[i:]
    return [], []


def monthly_history(ctx: TableContext, metric: str) -> tuple[list[str], list[float]]:
    """(months as YYYY-MM, values) of a catalog metric over the complete months to the as-of."""
    months = history_months(ctx.query.as_of)
    first, last = months[0].first, months[-1].last
    answer = ctx.ask(metric, window=f"{first}..{last}", as_of=last, series="month", partner=None)
    labels = [point["period"][:7] for point in answer["series"]]
    values = [float(point["value"] or 0.0) for point in answer["series"]]
    return _trimmed(labels, values)


def channel_histories(ctx: TableContext, metric: str) -> dict[str, tuple[list[str], list[float]]]:
    """Monthly sums of a flow metric per customer channel and in total ("total").

    One query over the metric's own fact function (asking the catalog month by month would
    take a second per month). The channel is the customer's `channel` trait as of the end of
    the history, as the engine's `by="channel"` reads it; "total" is the metric itself.
    """
    compute = ctx.engine.catalog.get(metric).compute
    if not isinstance(compute, Flow) or compute.agg != "sum" or compute.exclude_new:
        raise ValueError(f"{metric}: a channel forecast needs a summed flow metric")
    months = history_months(ctx.query.as_of)
    tz = ctx.query.tz
    start, end = instant(months[0].first, tz), instant(months[-1].last + timedelta(days=1), tz)
    src = Source(ctx.engine.store, tz, ctx.engine.currency, end)
    facts = compute.facts(src)
    facts = facts.filter((facts.ts >= start) & (facts.ts < end))
    channel = src.latest("customer", "channel", before=end).rename(cid="entity_id", ch="value")
    joined = facts.left_join(channel, facts.customer_id == channel.cid)
    grouped = joined.group_by(
        month=local_time(tz, joined.ts).truncate("M"),
        channel=ibis.coalesce(joined.ch.cast("string"), ibis.literal(UNKNOWN)),
    ).aggregate(value=joined.value.sum())
    frame = ctx.fetch(grouped)
    labels = [m.text for m in months]
    position = {label: i for i, label in enumerate(labels)}
    per_channel: dict[str, list[float]] = {}
    for month, key, amount in frame.itertuples(index=False, name=None):
        column = per_channel.setdefault(str(key), [0.0] * len(labels))
        column[position[f"{pd.Timestamp(month):%Y-%m}"]] += float(amount or 0.0)
    totals = [sum(column[i] for column in per_channel.values()) for i in range(len(labels))]
    histories = {key: _trimmed(labels, per_channel[key]) for key in sorted(per_channel)}
    histories[TOTAL] = _trimmed(labels, totals)
    return {key: h for key, h in histories.items() if h[1]}


# -- rows ---------------------------------------------------------------------------------------


def _int_param(ctx: TableContext, name: str, default: int, low: int, high: int) -> int:
    text = ctx.params.get(name)
    if text is None:
        return default
    try:
        number = int(text)
    except ValueError:
        raise ValueError(f"{name}: {text!r} is not a whole number") from None
    if not low <= number <= high:
        raise ValueError(f"{name}: must be from {low} to {high}, not {number}")
    return number


def _next_months(last: str, count: int) -> list[str]:
    year, month = int(last[:4]), int(last[5:7])
    labels = []
    for _ in range(count):
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        labels.append(f"{year}-{month:02d}")
    return labels


def series_rows(
    labels: list[str], values: list[float], ahead: int, shown: int, as_of: date
) -> list[dict[str, Any]]:
    """The last `shown` actual months, then `ahead` forecast months with 80 % bounds."""
    rows: list[dict[str, Any]] = [
        {"period": p, "kind": "actual", "value": v, "lower": None, "upper": None}
        for p, v in list(zip(labels, values, strict=True))[max(len(labels) - shown, 0) :]
    ]
    last = labels[-1] if labels else f"{last_complete_month(as_of):%Y-%m}"
    result = forecast(values, ahead)
    for period, v, lo, hi in zip(
        _next_months(last, ahead), result.values, result.lower, result.upper, strict=True
    ):
        rows.append({"period": period, "kind": "forecast", "value": v, "lower": lo, "upper": hi})
    return rows


def metric_forecast(ctx: TableContext, metric: str) -> pd.DataFrame:
    """History and forecast of one catalog metric by month (the partner count table)."""
    ahead = _int_param(ctx, "months", 6, 1, 24)
    shown = _int_param(ctx, "history", 12, 0, HISTORY_MONTHS)
    labels, values = monthly_history(ctx, metric)
    rows = series_rows(labels, values, ahead, shown, ctx.query.as_of)
    return pd.DataFrame(rows, columns=[c.name for c in SERIES_COLUMNS])


def channel_forecast(ctx: TableContext, metric: str) -> pd.DataFrame:
    """History and forecast of a metric per channel and in total (the revenue table)."""
    ahead = _int_param(ctx, "months", 6, 1, 24)
    shown = _int_param(ctx, "history", 12, 0, HISTORY_MONTHS)
    rows = []
    for channel, (labels, values) in channel_histories(ctx, metric).items():
        for row in series_rows(labels, values, ahead, shown, ctx.query.as_of):
            rows.append({"channel": channel, **row})
    return pd.DataFrame(rows, columns=[c.name for c in CHANNEL_COLUMNS])


def backtest_rows(
    ctx: TableContext, partner_metric: str = PARTNER_METRIC, revenue_metric: str = REVENUE_METRIC
) -> pd.DataFrame:
    """MAPE of the 3-month backtest of every forecast series."""
    histories: list[tuple[str, str | None, list[float]]] = [
        (partner_metric, None, monthly_history(ctx, partner_metric)[1])
    ]
    for key, (_, values) in channel_histories(ctx, revenue_metric).items():
        histories.append((revenue_metric, key, values))
    rows = []
    for series, channel, values in histories:
        model, error = backtest(values)
        rows.append(
            {
                "series": series,
                "channel": channel,
                "model": model,
                "history_months": len(values),
                "mape": error,
            }
        )
    return pd.DataFrame(rows, columns=[c.name for c in BACKTEST_COLUMNS])


SERIES_COLUMNS = (
    Column("period", "Month", "text"),
    Column("kind", "Actual or forecast", "text"),
    Column("value", "Value"),
    Column("lower", "Lower bound (80 %)"),
    Column("upper", "Upper bound (80 %)"),
)
CHANNEL_COLUMNS = (Column("channel", "Channel", "text"), *SERIES_COLUMNS)
BACKTEST_COLUMNS = (
    Column("series", "Series", "text"),
    Column("channel", "Channel", "text"),
    Column("model", "Model", "text"),
    Column("history_months", "Months of history"),
    Column("mape", "MAPE (last 3 months)", "percent"),
)
_MODEL_HELP = (
    " Model: Holt-Winters (additive trend and 12-month seasonality) with 24+ months of "
    "history, trend only with 4-23, no forecast (null) with fewer; 80 % prediction bounds. "
    "Uses complete months up to the as-of date; the window is not used. Parameters: months "
    "ahead (`months`, default 6) and months of history shown (`history`, default 12)."
)

METRICS: tuple[Metric | Table, ...] = (
    Table(
        "forecasts.partners",
        "Partner count forecast",
        "Total partners at each month end: actual months, then the forecast." + _MODEL_HELP,
        SERIES_COLUMNS,
        lambda ctx: metric_forecast(ctx, PARTNER_METRIC),
        params=("months", "history"),
    ),
    Table(
        "forecasts.revenue",
        "Revenue forecast by channel",
        "Revenue per month by customer acquisition channel and in total (channel `total`): "
        "actual months, then the forecast; each channel is forecast on its own." + _MODEL_HELP,
        CHANNEL_COLUMNS,
        lambda ctx: channel_forecast(ctx, REVENUE_METRIC),
        params=("months", "history"),
    ),
    Table(
        "forecasts.backtest",
        "Forecast accuracy",
        "For each forecast series: the model fitted without the last 3 complete months, and "
        "its mean absolute percentage error (MAPE) on those months: lower is better.",
        BACKTEST_COLUMNS,
        backtest_rows,
    ),
)
