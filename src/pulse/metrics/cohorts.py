"""customers.cohorts — retention by signup month (seed 000 "Retention and churn rates").

A cohort is the customers created in one local calendar month. A customer counts as retained
at the end of month offset k (k = 0 is the signup month itself) when its status at that moment
is trial, active or inactive; cancelled, churned and deleted customers are lost, and a customer
who comes back is retained again in the months it is back. The month still running is measured
at the as-of moment. Customers who never had a status by the as-of moment (chat visitors,
contacts without a subscription lifecycle) belong to no cohort; customers deleted later stay in
their cohort as lost, so deletions do not raise retention.

Shape: long format, one row per cohort × month offset (cohort, month, customers, retained,
retention_pct), the (y, x, value) triples of a heatmap; the web pivots cohort × month. Long rows
let `months` go beyond 12 and keep CSV exports tidy.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import ibis
import pandas as pd

from pulse.metrics.catalog import Column, Metric, Table, safe_div
from pulse.metrics.customers import OPEN_STATUSES, by_status_facts
from pulse.metrics.source import Source, local_time
from pulse.metrics.windows import instant

if TYPE_CHECKING:
    from pulse.metrics.tables import TableContext

DEFAULT_MONTHS = 12


def signup_months(src: Source) -> ibis.Table:
    """customer_id, partner_id, month: the local signup month as year × 12 + month − 1."""
    customers = src.customers()
    local = local_time(src.tz, customers.created)
    return customers.select(
        "customer_id",
        "partner_id",
        "created",
        month=local.year() * 12 + local.month() - 1,
    )


def month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def month_start(index: int) -> date:
    return date(index // 12, index % 12 + 1, 1)


def month_text(index: object) -> str | None:
    """'YYYY-MM' of a month index (None when unknown)."""
    if index is None or pd.isna(index):  # type: ignore[call-overload]
        return None
    number = int(index)  # type: ignore[call-overload]
    return f"{number // 12:04d}-{number % 12 + 1:02d}"


def months_param(ctx: TableContext) -> int:
    text = ctx.params.get("months", str(DEFAULT_MONTHS))
    try:
        months = int(text)
    except ValueError:
        raise ValueError(f"months: {text!r} is not a whole number") from None
    if not 0 <= months <= 120:
        raise ValueError(f"months: {months} is not between 0 and 120")
    return months


def cells(ctx: TableContext, months: int) -> pd.DataFrame:
    """cohort, month, moment: every cell to measure. Cohorts are the signup months the window
    touches; offsets run from 0 to `months`, while the month has begun by the as-of date; the
    moment is the month's end, or the as-of moment for the month still running."""
    first, last = month_index(ctx.window.start), month_index(ctx.window.end)
    rows = []
    for cohort in range(first, last + 1):
        for offset in range(months + 1):
            if cohort + offset > last:
                break
            end = instant(month_start(cohort + offset + 1), ctx.query.tz)
            rows.append((cohort, offset, min(end, ctx.end)))
    return pd.DataFrame(rows, columns=["cohort", "month", "moment"])


def _members(ctx: TableContext, first: int, last: int) -> ibis.Table:
    """Customers of the cohorts first..last (by index) with any status before the as-of."""
    statuses = by_status_facts(ctx.src)
    known = statuses.filter(statuses.valid_from < ctx.end).select(known_id=statuses.customer_id)
    known = known.distinct()
    months = ctx.scoped(signup_months(ctx.src))
    months = months.filter((months.month >= first) & (months.month <= last))
    joined = months.join(known, months.customer_id == known.known_id)
    return joined.select("customer_id", cohort=joined.month)


def cohorts_table(ctx: TableContext) -> pd.DataFrame:
    grid = cells(ctx, months_param(ctx))
    columns = [c.name for c in COLUMNS]
    if grid.empty:
        return pd.DataFrame(columns=columns)
    members = _members(ctx, int(grid["cohort"].min()), int(grid["cohort"].max())).view()
    sizes = ctx.fetch(members.group_by("cohort").aggregate(customers=members.customer_id.count()))
    points = ibis.memtable(grid.rename(columns={"cohort": "cell_cohort"}))
    at = members.join(points, members.cohort == points.cell_cohort)
    status = by_status_facts(ctx.src)
    status = status.filter(status.status.isin(OPEN_STATUSES)).view()
    kept = at.join(
        status,
        (at.customer_id == status.customer_id)
        & (status.valid_from < at.moment)
        & (status.valid_to.isnull() | (status.valid_to >= at.moment)),
    )
    retained = ctx.fetch(
        kept.group_by(cohort=kept.cohort, month=kept.month).aggregate(
            retained=kept.customer_id.nunique()
        )
    )
    return _assemble(grid, sizes, retained)[columns]


def _assemble(grid: pd.DataFrame, sizes: pd.DataFrame, retained: pd.DataFrame) -> pd.DataFrame:
    size_of = {int(c): int(n) for c, n in zip(sizes["cohort"], sizes["customers"], strict=True)}
    kept_of = {
        (int(c), int(m)): int(n)
        for c, m, n in zip(retained["cohort"], retained["month"], retained["retained"], strict=True)
    }
    frame = grid.copy()
    frame["customers"] = [size_of.get(int(c), 0) for c in frame["cohort"]]
    frame["retained"] = [
        kept_of.get((int(c), int(m)), 0)
        for c, m in zip(frame["cohort"], frame["month"], strict=True)
    ]
    frame["retention_pct"] = [
        None if pct is None else pct * 100
        for pct in (
            safe_div(k, n) for k, n in zip(frame["retained"], frame["customers"], strict=True)
        )
    ]
    frame["cohort"] = [month_text(c) for c in frame["cohort"]]
    return frame


COLUMNS = (
    Column("cohort", "Signup month", "text"),
    Column("month", "Months since signup"),
    Column("customers", "Customers in cohort"),
    Column("retained", "Retained customers"),
    Column("retention_pct", "Retention", "percent"),
)

METRICS: tuple[Metric | Table, ...] = (
    Table(
        "customers.cohorts",
        "Customer retention cohorts",
        "Customers by signup month (the months the window covers) and the share still in "
        "trial, active or inactive at the end of each following month (month 0 = the signup "
        "month; the running month is measured at the as-of date). Customers who come back "
        "count as retained again. One row per cohort and month: pivot for a heatmap. "
        "Parameter `months` (default 12): how many months after signup to show. Falling "
        "retention: improve onboarding and support.",
        COLUMNS,
        cohorts_table,
        per_partner=True,
        params=("months",),
    ),
)
