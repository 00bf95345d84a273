"""Metrics: the one catalog every surface reads (see `catalog.py`), and its engine.

Each family module declares its metrics and tables in `METRICS`; this is the only registry.
"""

from __future__ import annotations

from pulse.metrics import (
    affiliates,
    agency,
    alerts_log,
    audit_log,
    cohorts,
    credits,
    customers,
    engagement,
    finance,
    forecasts,
    health_log,
    integrations,
    partners,
    payments,
    revenue,
    segments,
    sessions,
    support,
    system,
    targets,
    tiers,
    usage,
)
from pulse.metrics.catalog import Catalog

FAMILIES = (
    customers,
    credits,
    revenue,
    partners,
    usage,
    sessions,
    engagement,
    affiliates,
    tiers,
    agency,
    integrations,
    finance,
    payments,
    support,
    system,
    health_log,
    segments,
    cohorts,
    targets,
    forecasts,
    audit_log,
    alerts_log,
)

CATALOG = Catalog()
for family in FAMILIES:
    CATALOG.add(*family.METRICS)

__all__ = ["CATALOG"]
