"""audit.log — the audit trail as a catalog table, for the Logs tab (seed 001) and exports.

The entries are written by `pulse.access.audit` (log-ins, key use, exports, deletions, user and
settings changes); here they are only read, newest first, within the window.
"""

from __future__ import annotations

import ibis

from pulse.metrics.catalog import Column, Metric, Table
from pulse.metrics.tables import TableContext


def _entries(ctx: TableContext) -> ibis.Table:
    log = ctx.in_window(ctx.src.store.table("audit_log"))
    newest = log.order_by(ibis.desc(log.ts), ibis.desc(log.id))
    return newest.select("ts", "actor", "action", "category", "target", "ip")


METRICS: tuple[Metric | Table, ...] = (
    Table(
        "audit.log",
        "Audit trail",
        "Who did what and when: log-ins (and failures), key use, exports, deletions, user and "
        "settings changes, with the actor, IP and target. Filter by category (auth, security, "
        "key, export, deletion, settings, user) or action; entries are never changed.",
        (
            Column("ts", "Time", "datetime"),
            Column("actor", "Actor", "text"),
            Column("action", "Action", "text"),
            Column("category", "Category", "text"),
            Column("target", "Target", "text"),
            Column("ip", "IP", "text"),
        ),
        _entries,
        remembered=False,  # written on every log-in, never through ingestion
    ),
)
