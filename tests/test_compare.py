"""Year-over-year comparison: `compare="year"` compares with the same days a year earlier."""

from __future__ import annotations

from datetime import date

import pytest

from messages import ask, identify, load, track
from pulse.metrics.windows import Window


def test_a_year_earlier_keeps_the_days_and_the_calendar_month_rule():
    assert Window(date(2026, 2, 1), date(2026, 2, 28), monthly=True).year_ago() == Window(
        date(2025, 2, 1), date(2025, 2, 28), monthly=True
    )
    # 29 February has no day a year earlier: the 28th
    assert Window(date(2028, 2, 1), date(2028, 2, 29)).year_ago() == Window(
        date(2027, 2, 1), date(2027, 2, 28)
    )


def paid(when: str, amount: float) -> dict:
    return track("invoice_paid", when, user="payer", amount=amount, kind="subscription")


def test_year_over_year_counts_and_growth(store):
    load(
        store,
        identify("c0", "2025-02-10", status="active"),
        identify("c1", "2026-02-05", status="active"),
        identify("c2", "2026-02-20", status="trial", plan_id="pro"),
        paid("2025-01-10", 100),
        paid("2025-02-10", 150),
        paid("2026-01-10", 200),
        paid("2026-02-10", 220),
    )
    answer = ask(store, "customers.new", "2026-02-28", "this_month", compare="year")
    # February 2026: c1, c2 · February 2025: c0
    assert answer["previous_window"] == {"start": "2025-02-01", "end": "2025-02-28"}
    assert (answer["value"], answer["previous"], answer["change_pct"]) == (2, 1, 100)
    growth = ask(store, "revenue.growth_rate", "2026-02-28", "this_month", compare="year")
    # Feb 2026 against Jan 2026: (220 − 200) / 200 = 10 %; Feb 2025 against Jan 2025: 50 %
    assert (growth["value"], growth["previous"]) == (10, 50)
    assert growth["change_pct"] == -80  # (10 − 50) / 50
    by_plan = ask(store, "customers.new", "2026-02-28", "this_month", compare="year", by="plan")
    assert {r["key"]: (r["value"], r["previous"]) for r in by_plan["rows"]} == {
        "pro": (1, 0),
        None: (1, 1),
    }


def test_an_unknown_comparison_is_refused(store):
    with pytest.raises(ValueError, match=r"^compare: 'decade'"):
        ask(store, "customers.new", "2026-02-28", compare="decade")


def test_no_change_from_amounts_that_cancel_out(store):
    """January: 0.1 + 0.2 paid, 0.3 refunded, whose float sum is 5.6e-17, not 0; shown as 0,
    it is no base for a change (it gave +1.8e19 %). February: 10 paid."""
    load(
        store,
        paid("2026-01-05", 0.1),
        paid("2026-01-06", 0.2),
        track("refund_issued", "2026-01-07", user="payer", amount=0.3),
        paid("2026-02-10", 10),
    )
    answer = ask(store, "revenue.total", "2026-02-28", "this_month")
    assert (answer["value"], answer["previous"], answer["change_pct"]) == (10, 0, None)
