"""customers.* — counts, status, acquisition, growth and churn (SPEC §3, seed 000)."""

from __future__ import annotations

from collections.abc import Sequence

import ibis

from pulse.metrics.catalog import Derived, Flow, Metric, Ref, Stock, health, ratio
from pulse.metrics.source import Source

CUSTOMER_DIMS = ("partner", "partner_kind", "tier", "plan", "channel", "status", "platform")
OPEN_STATUSES = ("trial", "active", "inactive")
CHURNED_STATUSES = ("cancelled", "churned")


def _alive(src: Source) -> ibis.Table:
    """Each customer's lifetime: valid from creation until deletion."""
    customers = src.customers()
    return customers.select(
        "customer_id",
        "partner_id",
        "created",
        valid_from=customers.created,
        valid_to=customers.deleted_at,
        value=ibis.literal(1),
    )


def _statuses(src: Source) -> ibis.Table:
    """Status intervals of customers alive at the time (a deleted customer drops out)."""
    customers = src.customers()
    status = src.intervals("customer", "status")
    joined = status.join(customers, status.entity_id == customers.customer_id)
    ends = ibis.cases(
        (joined.valid_to.isnull(), joined.deleted_at),
        (joined.deleted_at.isnull(), joined.valid_to),
        else_=ibis.least(joined.valid_to, joined.deleted_at),
    )
    return joined.select(
        "customer_id",
        "partner_id",
        "created",
        status=joined.value,
        previous=joined.previous,
        valid_from=ibis.greatest(joined.valid_from, joined.created),
        valid_to=ends,
        value=ibis.literal(1),
    )


def total_facts(src: Source) -> ibis.Table:
    return _alive(src)


def by_status_facts(src: Source) -> ibis.Table:
    return _statuses(src)


def active_facts(src: Source) -> ibis.Table:
    facts = _statuses(src)
    return facts.filter(facts.status == "active")


def open_facts(src: Source) -> ibis.Table:
    facts = _statuses(src)
    return facts.filter(facts.status.isin(OPEN_STATUSES))


def new_facts(src: Source) -> ibis.Table:
    customers = src.customers()
    return customers.filter(
        customers.deleted_at.isnull() | (customers.deleted_at >= src.as_of)
    ).select("customer_id", "partner_id", ts=customers.created, value=ibis.literal(1))


def churned_facts(src: Source) -> ibis.Table:
    """Moves into cancelled/churned (from any other status), stamped at the move."""
    facts = _statuses(src)
    moved = facts.status.isin(CHURNED_STATUSES) & (
        facts.previous.isnull() | ~facts.previous.isin(CHURNED_STATUSES)
    )
    return facts.filter(moved).select(
        "customer_id", "partner_id", "created", ts=facts.valid_from, value=ibis.literal(1)
    )


def _complement(values: Sequence[float | None]) -> float | None:
    return None if values[0] is None else 100 - values[0]


METRICS = (
    Metric(
        "customers.total",
        "Total customers",
        "Customers created on or before the end of the window (deleted customers excluded).",
        "count",
        Stock(total_facts),
        dims=CUSTOMER_DIMS,
    ),
    Metric(
        "customers.by_status",
        "Customers by status",
        "Customers per status (active, trial, inactive, cancelled, churned) as of the window end.",
        "count",
        Stock(by_status_facts),
        dims=CUSTOMER_DIMS,
    ),
    Metric(
        "customers.active",
        "Active customers",
        "Customers whose status is active as of the window end: regularly using the service.",
        "count",
        Stock(active_facts),
        dims=CUSTOMER_DIMS,
    ),
    Metric(
        "customers.open",
        "Customers in trial, active or inactive",
        "Customers who can still churn: status trial, active or inactive as of the moment.",
        "count",
        Stock(open_facts),
        dims=CUSTOMER_DIMS,
        listed=False,
    ),
    Metric(
        "customers.new",
        "New customers",
        "Customers created in the window: are you acquiring new customers?",
        "count",
        Flow(new_facts),
        dims=CUSTOMER_DIMS,
    ),
    Metric(
        "customers.churned",
        "Churned customers",
        "Customers whose status moved into cancelled or churned in the window, not counting "
        "those created in the window.",
        "count",
        Flow(churned_facts, agg="count_distinct", exclude_new=True),
        direction="down",
        dims=CUSTOMER_DIMS,
    ),
    Metric(
        "customers.growth_rate",
        "Customer growth rate",
        "New customers in the window / customers at its start × 100. Healthy above 10 % a "
        "month, warning below 5 %.",
        "percent",
        ratio(Ref("customers.new"), Ref("customers.total", at="start")),
        health=health("> 10", "< 5", per_month=True),
        dims=CUSTOMER_DIMS,
    ),
    Metric(
        "customers.churn_rate",
        "Churn rate",
        "Customers who moved into cancelled or churned in the window (excluding those created "
        "in it) / customers in trial, active or inactive at its start × 100. Healthy below 5 % "
        "a month, warning above 10 %. High churn: improve onboarding and support.",
        "percent",
        ratio(Ref("customers.churned"), Ref("customers.open", at="start")),
        direction="down",
        health=health("< 5", "> 10", per_month=True),
        dims=CUSTOMER_DIMS,
    ),
    Metric(
        "customers.retention_rate",
        "Retention rate",
        "100 − churn rate: the share of customers who stayed through the window.",
        "percent",
        Derived((Ref("customers.churn_rate"),), lambda v, _days: _complement(v)),
        dims=CUSTOMER_DIMS,
    ),
)
