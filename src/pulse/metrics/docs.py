"""The catalog as a Markdown reference (docs/CATALOG.md), generated so it never drifts.

uv run python -m pulse.metrics.docs > docs/CATALOG.md
"""

from __future__ import annotations

import sys
from itertools import groupby

from pulse.metrics import CATALOG
from pulse.metrics.catalog import Catalog, Metric


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _health(metric: Metric) -> str:
    if metric.health is None:
        return ""
    parts = metric.health.as_dict()
    healthy = ", ".join(parts["healthy"])  # type: ignore[arg-type]
    warning = ", ".join(parts["warning"])  # type: ignore[arg-type]
    return f"{healthy} / {warning}" + (" (per month)" if metric.health.per_month else "")


def catalog_markdown(catalog: Catalog) -> str:
    lines = [
        "# Pulse metric catalog",
        "",
        "Generated from the catalog (`uv run python -m pulse.metrics.docs > docs/CATALOG.md`);",
        "a test fails when it is out of date. Every metric answers at `GET /api/v1/metrics/{id}`",
        "and `pulse metric ID`; every table at `GET /api/v1/tables/{id}` and `pulse table ID`.",
        "",
        "## Metrics",
    ]
    metrics = catalog.listed()
    for family, members in groupby(metrics, key=lambda m: m.id.split(".")[0]):
        lines += [
            "",
            f"### {family}",
            "",
            "| id | label | unit | healthy / warning | breakdowns | meaning |",
            "|---|---|---|---|---|---|",
        ]
        for m in members:
            dims = ", ".join(m.dims)
            lines.append(
                f"| `{m.id}` | {_cell(m.label)} | {m.unit} | {_health(m)} | {dims} | "
                f"{_cell(m.help)} |"
            )
    lines += ["", "## Tables", "", "| id | label | columns | parameters | meaning |"]
    lines.append("|---|---|---|---|---|")
    for table in catalog.tables.values():
        columns = ", ".join(c.name for c in table.columns)
        params = ", ".join(table.params)
        scope = " Per partner." if table.per_partner else ""
        lines.append(
            f"| `{table.id}` | {_cell(table.label)} | {columns} | {params} | "
            f"{_cell(table.help)}{scope} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(catalog_markdown(CATALOG))
