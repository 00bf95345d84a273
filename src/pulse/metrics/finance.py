"""finance metrics (being written)."""

from __future__ import annotations

from pulse.metrics.catalog import Metric, Table

METRICS: tuple[Metric | Table, ...] = ()
