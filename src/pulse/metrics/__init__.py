"""Metrics: the one catalog every surface reads (see `catalog.py`), and its engine."""

from __future__ import annotations

from pulse.metrics import credits, customers, revenue
from pulse.metrics.catalog import Catalog

CATALOG = Catalog()
for family in (customers, credits, revenue):
    CATALOG.add(*family.METRICS)

__all__ = ["CATALOG"]
