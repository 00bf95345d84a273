"""system.health_log — every health check and error by platform component, for the database and
API alerts (seed 001: "database connection failures", "API service outages").

A `health_check` may name the component it probed in `source` (e.g. `db`, `api`); the
platform monitor's checks carry none and probe the public API, so they count as `api`. An
`error_logged` belongs to its `source` (`db`, `api`, `worker` …). Health checks that passed are
kept here (unlike the activity log): an outage is a run of failed checks with no pass between.
"""

from __future__ import annotations

import ibis

from pulse.metrics.catalog import Column, Metric, Table
from pulse.metrics.source import payload_text
from pulse.metrics.tables import TableContext

DEFAULT_CHECKED = "api"  # what a health check without a `source` probes
DATABASE = ("db", "database")  # the components that are the database


def _log(ctx: TableContext) -> ibis.Table:
    events = ctx.in_window(ctx.src.track("health_check", "error_logged"))
    is_check = events.event == "health_check"
    log = events.select(
        "ts",
        "message_id",
        "event",
        component=ibis.cases(
            (is_check, ibis.coalesce(events.source, ibis.literal(DEFAULT_CHECKED))),
            else_=ibis.coalesce(events.source, ibis.literal("unknown")),
        ),
        ok=ibis.cases((is_check, events.ok), else_=ibis.literal(False)),
        duration_ms=events.duration_ms,
        message=ibis.cases((is_check, ibis.null("string")), else_=payload_text(events, "message")),
    )
    return log.order_by([ibis.desc("ts"), ibis.desc("message_id")]).drop("message_id")


METRICS: tuple[Metric | Table, ...] = (
    Table(
        "system.health_log",
        "Health log",
        "Every health check (passed or failed) and error logged in the window, newest first, "
        "with the platform component: a health check's `source` (checks without one probe the "
        "API: `api`), an error's `source` (`db`, `api`, `worker` …). Errors are not ok. The "
        "database-failure and API-outage alerts read it.",
        (
            Column("ts", "Time", "datetime"),
            Column("component", "Component", "text"),
            Column("event", "Event", "text"),
            Column("ok", "OK", "text"),
            Column("duration_ms", "Duration", "milliseconds"),
            Column("message", "Message", "text"),
        ),
        _log,
    ),
)
