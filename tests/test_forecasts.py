"""forecasts.*: the model on hand-built monthly series, MAPE by hand, short histories, and the
tables on both engines; every expected value is worked out by hand beside it."""

from __future__ import annotations

import math
from datetime import date
from typing import Any

import pytest

from messages import ask, group, identify, load, series, track
from pulse.metrics import CATALOG
from pulse.metrics import forecasts as f
from pulse.metrics.catalog import Catalog, Table
from pulse.metrics.engine import Engine
from pulse.metrics.tables import TableQuery, evaluate_table

# -- the model ----------------------------------------------------------------------------------


def line(start: float, slope: float, months: int) -> list[float]:
    return [start + slope * i for i in range(months)]


def test_an_exact_line_is_continued():
    # y = 100 + 10 t for t = 0..11: Holt's linear trend holds this line exactly (level and slope
    # recovered whatever the smoothing weights), so only the optimiser's rounding is left:
    # allow 0.1 % of the value.
    result = f.forecast(line(100, 10, 12), 6)
    assert result.model == "trend"
    expected = line(220, 10, 6)  # t = 12..17: 220, 230, …, 270
    for got, want in zip(result.values, expected, strict=True):
        assert got == pytest.approx(want, rel=1e-3)


def test_a_noisy_line_is_continued_within_the_noise():
    # y = 100 + 10 t ± 3 (alternating): a forecast may not stray from the line by more than
    # the noise amplitude, 3, and the 80 % interval must surround the forecast.
    history = [100 + 10 * i + (3 if i % 2 == 0 else -3) for i in range(12)]
    result = f.forecast(history, 3)
    for got, low, high, want in zip(
        result.values, result.lower, result.upper, line(220, 10, 3), strict=True
    ):
        assert got is not None and low is not None and high is not None
        assert abs(got - want) <= 3
        assert low <= got <= high


def test_two_years_of_history_get_the_seasonal_model():
    # y = 200 + 5 t + 30 sin(2π t / 12): an exact additive season on a line. Holt-Winters
    # with period 12 holds it exactly, so the continuation is met up to 0.1 %.
    def y(i: int) -> float:
        return 200 + 5 * i + 30 * math.sin(2 * math.pi * i / 12)

    result = f.forecast([y(i) for i in range(36)], 6)
    assert result.model == "seasonal"
    for got, i in zip(result.values, range(36, 42), strict=True):
        assert got == pytest.approx(y(i), rel=1e-3)  # e.g. t = 36: 200 + 180 + 0 = 380


def test_model_depends_on_the_history_length():
    assert [f.model_for(n) for n in (0, 3, 4, 23, 24, 36)] == [
        "none",  # nothing to fit
        "none",  # 3 points: a trend from so few is a guess
        "trend",
        "trend",
        "seasonal",  # two full years
        "seasonal",
    ]


def test_short_history_gives_null_forecasts_not_an_error():
    result = f.forecast([5.0, 6.0, 7.0], 3)
    assert result == f.Forecast("none", [None] * 3, [None] * 3, [None] * 3)
    assert f.forecast([], 2).values == [None, None]


def test_forecasts_never_go_below_zero():
    # 40, 30, 20, 10 continues as 0, −10, −20: counts and revenue floor at 0
    result = f.forecast([40.0, 30.0, 20.0, 10.0], 3)
    assert all(v is not None and 0 <= v < 1e-6 for v in result.values)
    assert all(v is not None and v >= 0 for v in result.lower)


def test_mape_by_hand():
    # |100 − 110| / 100 = 10 %, |200 − 180| / 200 = 10 %, |50 − 50| / 50 = 0 % → mean 6.667 %
    assert f.mape([100, 200, 50], [110, 180, 50]) == pytest.approx(20 / 3)
    # an actual of 0 has no percentage error: skipped; |100 − 90| / 100 = 10 %
    assert f.mape([0, 100], [5, 90]) == pytest.approx(10)
    assert f.mape([0, 0], [1, 2]) is None
    assert f.mape([10], [None]) is None


def test_backtest_holds_out_the_last_three_months():
    # 2, 4, …, 16: fitted on 2..10 (5 months, trend), forecasts 12, 14, 16 = the actuals
    model, error = f.backtest(line(2, 2, 8))
    assert model == "trend" and error is not None and error < 0.01
    # 6 months: 3 left to fit, under the 4 a trend needs → no model, no MAPE
    assert f.backtest(line(2, 2, 6)) == ("none", None)
    assert f.backtest([1.0, 2.0]) == ("none", None)


def test_history_is_the_complete_months_to_the_as_of_date():
    assert f.last_complete_month(date(2026, 11, 22)) == date(2026, 10, 31)
    assert f.last_complete_month(date(2026, 11, 30)) == date(2026, 11, 30)  # Nov is over
    assert f.last_complete_month(date(2026, 1, 5)) == date(2025, 12, 31)
    months = f.history_months(date(2026, 3, 15), 3)
    assert [m.text for m in months] == ["2025-12", "2026-01", "2026-02"]
    assert len(f.history_months(date(2026, 3, 15))) == 36


# -- the tables on a store ----------------------------------------------------------------------


def customers_per_month(months: int, per_month: int = 2) -> list[dict[str, Any]]:
    """`per_month` customers created on the 10th of each month from January 2026."""
    return [
        identify(f"m{m}_{k}", f"2026-{m:02d}-10", status="active")
        for m in range(1, months + 1)
        for k in range(per_month)
    ]


def rows_of(engine: Engine, table: str, as_of: str, **params: str) -> list[dict[str, Any]]:
    query = TableQuery(table, as_of=date.fromisoformat(as_of), params=params)
    answer: list[dict[str, Any]] = evaluate_table(engine, query)["rows"]
    return answer


def test_metric_forecast_continues_the_monthly_actuals(store):
    load(store, *customers_per_month(5))
    test_table = Table(
        "test.customers_forecast",
        "Customers forecast",
        "customers.total by month and forecast",
        f.SERIES_COLUMNS,
        lambda ctx: f.metric_forecast(ctx, "customers.total"),
        params=("months", "history"),
    )
    engine = Engine(store, Catalog(dict(CATALOG.metrics), {test_table.id: test_table}))
    # as of Jun 10 the complete months are ... Jan-May: 2, 4, 6, 8, 10 customers at month end
    # (the 31 months before January have none and are not history)
    got = rows_of(engine, "test.customers_forecast", "2026-06-10", months="2", history="3")
    actual = [(r["period"], r["kind"], r["value"], r["lower"]) for r in got[:3]]
    assert actual == [
        ("2026-03", "actual", 6, None),
        ("2026-04", "actual", 8, None),
        ("2026-05", "actual", 10, None),
    ]
    # the line 2, 4, …, 10 continues: June 12, July 14 (exact line: 0.1 % tolerance)
    assert [(r["period"], r["kind"]) for r in got[3:]] == [
        ("2026-06", "forecast"),
        ("2026-07", "forecast"),
    ]
    for row, want in zip(got[3:], (12, 14), strict=True):
        assert row["value"] == pytest.approx(want, rel=1e-3)
        assert row["lower"] <= row["value"] <= row["upper"]
    # the actual rows are the catalog's own monthly answers
    monthly = ask(store, "customers.total", "2026-05-31", "2026-03-01..2026-05-31", series="month")
    assert [v for _, v in series(monthly)] == [6, 8, 10]
    with pytest.raises(ValueError, match=r"^months: "):
        rows_of(engine, "test.customers_forecast", "2026-06-10", months="0")
    with pytest.raises(ValueError, match=r"^months: "):
        rows_of(engine, "test.customers_forecast", "2026-06-10", months="six")


def test_partner_forecast_with_too_short_a_history_has_null_forecasts(store):
    load(
        store,
        group("pa", "2026-01-10", name="A", kind="affiliate", status="active"),
        group("pb", "2026-02-10", name="B", kind="affiliate", status="active"),
        group("pc", "2026-02-11", name="C", kind="reseller", status="applied"),
    )
    got = rows_of(Engine(store, CATALOG), "forecasts.partners", "2026-03-05", months="2")
    # complete months Jan, Feb: 1 then 3 partners; 2 months < 4 → forecasts are null
    assert [(r["period"], r["kind"], r["value"]) for r in got] == [
        ("2026-01", "actual", 1),
        ("2026-02", "actual", 3),
        ("2026-03", "forecast", None),
        ("2026-04", "forecast", None),
    ]


def paid(user: str, month: int, amount: float) -> dict[str, Any]:
    return track("invoice_paid", f"2026-{month:02d}-15", user=user, amount=amount, kind="credits")


REVENUE = (
    identify("aff", "2026-01-02", status="active", channel="affiliate"),
    identify("dir", "2026-01-02", status="active", channel="direct"),
    identify("nochannel", "2026-01-02", status="active"),
    # affiliate: 100, 200, …, 800 (Jan-Aug); direct: 50 every month; unknown: 30 in August only
    *(paid("aff", m, 100 * m) for m in range(1, 9)),
    *(paid("dir", m, 50) for m in range(1, 9)),
    paid("nochannel", 8, 30),
)


def test_revenue_forecast_by_channel(store):
    load(store, *REVENUE)
    engine = Engine(store, CATALOG)
    got = rows_of(engine, "forecasts.revenue", "2026-09-10", months="2", history="2")
    by_channel: dict[str, list[tuple[str, str, Any]]] = {}
    for r in got:
        by_channel.setdefault(r["channel"], []).append((r["period"], r["kind"], r["value"]))
    assert set(by_channel) == {"affiliate", "direct", "unknown", "total"}
    aff = by_channel["affiliate"]
    assert aff[:2] == [("2026-07", "actual", 700), ("2026-08", "actual", 800)]
    # the line 100 m continues: Sep 900, Oct 1000 (0.1 %)
    assert [p for p, _, _ in aff[2:]] == ["2026-09", "2026-10"]
    assert [v for _, _, v in aff[2:]] == [
        pytest.approx(900, rel=1e-3),
        pytest.approx(1000, rel=1e-3),
    ]
    # a flat 50 stays 50
    assert [v for _, _, v in by_channel["direct"][2:]] == [pytest.approx(50, rel=1e-3)] * 2
    # unknown: one month of history (August, 30) → no forecast
    assert by_channel["unknown"] == [
        ("2026-08", "actual", 30),
        ("2026-09", "forecast", None),
        ("2026-10", "forecast", None),
    ]
    # total = the catalog's revenue.total per month: Jul 700 + 50, Aug 800 + 50 + 30
    assert by_channel["total"][:2] == [("2026-07", "actual", 750), ("2026-08", "actual", 880)]
    catalog_months = ask(
        store, "revenue.total", "2026-08-31", "2026-07-01..2026-08-31", series="month"
    )
    assert [v for _, v in series(catalog_months)] == [750, 880]
    assert all(v is not None for _, _, v in by_channel["total"][2:])  # 8 months: trend model


def test_backtest_table(store):
    load(store, *customers_per_month(8), *REVENUE)
    test_table = Table(
        "test.backtest",
        "Backtest",
        "backtest of customers.total and revenue.total",
        f.BACKTEST_COLUMNS,
        lambda ctx: f.backtest_rows(ctx, "customers.total", "revenue.total"),
    )
    engine = Engine(store, Catalog(dict(CATALOG.metrics), {test_table.id: test_table}))
    got = {
        (r["series"], r["channel"]): (r["model"], r["history_months"], r["mape"])
        for r in rows_of(engine, "test.backtest", "2026-09-10")
    }
    # customers 2, 4, …, 16 and affiliate revenue 100, …, 800 are lines: fitted on 5 months,
    # the 3 held-out months are met (MAPE ≈ 0); direct is flat 50: also met
    for key in (
        ("customers.total", None),
        ("revenue.total", "affiliate"),
        ("revenue.total", "direct"),
    ):
        model, months, error = got[key]
        assert (model, months) == ("trend", 8) and error < 0.01
    # unknown: 1 month → nothing to hold out from
    assert got[("revenue.total", "unknown")] == ("none", 1, None)
    assert got[("revenue.total", "total")][:2] == ("trend", 8)


def test_forecast_tables_are_registered():
    assert {
        "forecasts.partners",
        "forecasts.revenue",
        "forecasts.backtest",
        "targets.status",
    } <= set(CATALOG.tables)
    assert CATALOG.table("forecasts.revenue").params == ("months", "history")
