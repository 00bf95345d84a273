"""system.* — platform health, errors and the activity log (seed 001 System Pulse and Logs tab).

Signals: `health_check` (ok, duration_ms) from the platform's monitor and `error_logged`
(source, message). The error rate is errors per 100 operations: error_logged events / track
events other than health checks and errors (everything the platform did in the window).
"""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.datatypes as dt
import pandas as pd

from pulse.metrics.catalog import Column, Flow, Metric, Ref, Table, health, ratio
from pulse.metrics.finance import TRANSACTIONS
from pulse.metrics.source import Source, payload_text
from pulse.metrics.tables import TableContext

MONITOR_EVENTS = ("health_check", "error_logged")
MONEY_EVENTS = (*TRANSACTIONS, "payment_failed", "converted")
ACTIVITY_LIMIT = 1000  # rows of the activity log when no limit is asked for
PULSE = {"healthy": "green", "neutral": "yellow", "warning": "red"}
SEVERITY = ("green", "unknown", "yellow", "red")
COMPONENTS = {
    "uptime": "system.uptime",
    "error_rate": "system.error_rate",
    "response_time": "system.response_ms",
}


def _platform(events: ibis.Table) -> ibis.Table:
    return events.mutate(customer_id=events.user_id, partner_id=events.partner_id, value=1)


def checks_facts(src: Source) -> ibis.Table:
    return _platform(src.track("health_check"))


def ok_checks_facts(src: Source) -> ibis.Table:
    checks = src.track("health_check")
    return _platform(checks.filter(checks.ok))


def timed_checks_facts(src: Source) -> ibis.Table:
    checks = src.track("health_check")
    return _platform(checks.filter(checks.duration_ms.notnull()))


def response_ms_facts(src: Source) -> ibis.Table:
    checks = timed_checks_facts(src)
    return checks.mutate(value=checks.duration_ms)


def errors_facts(src: Source) -> ibis.Table:
    return _platform(src.track("error_logged"))


def operations_facts(src: Source) -> ibis.Table:
    events = src.events
    events = events.filter((events.type == "track") & ~events.event.isin(MONITOR_EVENTS))
    return _platform(events)


# -- tables -------------------------------------------------------------------------------------


def _pulse_status(status: str | None) -> str:
    return "unknown" if status is None else PULSE[status]


def pulse_table(ctx: TableContext) -> pd.DataFrame:
    """One row per health component and an overall row: the worst component status."""
    out: list[dict[str, Any]] = []
    for component, metric_id in COMPONENTS.items():
        answer = ctx.ask(metric_id)
        thresholds = ctx.engine.catalog.get(metric_id).health
        assert thresholds is not None
        out.append(
            {
                "component": component,
                "metric": metric_id,
                "value": answer["value"],
                "unit": answer["unit"],
                "status": _pulse_status(answer["status"]),
                "healthy_when": ", ".join(str(c) for c in thresholds.healthy),
                "warning_when": ", ".join(str(c) for c in thresholds.warning),
            }
        )
    worst = max((row["status"] for row in out), key=SEVERITY.index)
    out.append(
        {
            "component": "overall",
            "metric": None,
            "value": None,
            "unit": None,
            "status": worst,
            "healthy_when": None,
            "warning_when": None,
        }
    )
    return pd.DataFrame(out)


def errors_by_source_table(ctx: TableContext) -> ibis.Table:
    errors = ctx.in_window(ctx.src.track("error_logged"))
    errors = errors.mutate(message=payload_text(errors, "message"))
    ranked = errors.mutate(
        rank=ibis.row_number().over(
            group_by=errors.source, order_by=[ibis.desc(errors.ts), ibis.desc(errors.message_id)]
        ),
        count=errors.message_id.count().over(group_by=errors.source),
    )
    last = ranked.filter(ranked["rank"] == 0)
    return last.select("source", "count", last_message=last.message, last_seen=last.ts).order_by(
        [ibis.desc("count"), "source"]
    )


def _money_text(events: ibis.Table, currency: str) -> ibis.Value:
    amount = events.amount.cast(dt.Decimal(18, 2)).cast("string")
    return amount.concat(" ", ibis.coalesce(events.currency.upper(), ibis.literal(currency)))


def activity_table(ctx: TableContext) -> ibis.Table:
    """Recent activity, most recent first: user actions, system events, errors, transactions.

    Health checks that passed are left out (they would drown everything else). The detail is
    written for the rows shown only, after the window's events are cut to the latest."""
    tracked = ctx.src.events
    events = ctx.partner_events(ctx.in_window(tracked.filter(tracked.type == "track")))
    failed_check = (events.event == "health_check") & ~events.ok.fill_null(False)
    events = events.filter((events.event != "health_check") | failed_check)
    kind = ibis.cases(
        ((events.event == "error_logged") | failed_check, "error"),
        (events.event.isin(MONEY_EVENTS), "transaction"),
        (events.user_id.notnull(), "user action"),
        else_="system event",
    )
    events = events.mutate(type=kind, actor=ibis.coalesce(events.user_id, events.group_id))
    for column, wanted in ctx.query.where.items():
        if column in ("type", "actor", "event"):
            events = events.filter(events[column] == wanted)
    order = [ibis.desc("ts"), ibis.desc("message_id")]
    limit = ctx.query.limit if ctx.query.limit is not None else ACTIVITY_LIMIT
    latest = events.order_by(order).limit(limit)
    return latest.select(
        "ts", "message_id", "type", "actor", "event", detail=_detail(latest, ctx.src.currency)
    ).order_by(order)


def _detail(events: ibis.Table, currency: str) -> ibis.Value:
    """What an activity row says: the error, the failed check's duration, the amount, the
    credits, else the first of the event's plan, provider, target... it names."""
    return ibis.cases(
        (
            events.event == "error_logged",
            ibis.coalesce(events.source, "").concat(
                ": ", ibis.coalesce(payload_text(events, "message"), "")
            ),
        ),
        (
            events.event == "health_check",  # a failed one: the passing ones are left out
            ibis.literal("health check failed after ").concat(
                ibis.coalesce(events.duration_ms.cast("int64").cast("string"), "?"), " ms"
            ),
        ),
        (events.amount.notnull(), _money_text(events, currency)),
        (
            events.credits.notnull(),
            events.credits.cast(dt.Decimal(18, 2)).cast("string").concat(" credits"),
        ),
        else_=ibis.coalesce(
            events.plan_id,
            events.provider,
            events.target,
            events.channel,
            events.ticket_id,
            events.style_id,
            events.experience_id,
            events.module,
            events.kind,
        ),
    )


METRICS: tuple[Metric | Table, ...] = (
    Metric(
        "system.checks",
        "Health checks",
        "Platform health checks run in the window.",
        "count",
        Flow(checks_facts),
        listed=False,
    ),
    Metric(
        "system.ok_checks",
        "Health checks passed",
        "Platform health checks in the window that passed (ok).",
        "count",
        Flow(ok_checks_facts),
        listed=False,
    ),
    Metric(
        "system.uptime",
        "System uptime",
        "Health checks passed / health checks × 100 in the window. Healthy at 99.5 % or more, "
        "warning below 99 %: investigate infrastructure, check database performance, review "
        "API rate limits (Replicate), scale servers if needed.",
        "percent",
        ratio(Ref("system.ok_checks"), Ref("system.checks")),
        health=health(">= 99.5", "< 99"),
    ),
    Metric(
        "system.timed_checks",
        "Timed health checks",
        "Health checks in the window that report a duration.",
        "count",
        Flow(timed_checks_facts),
        listed=False,
    ),
    Metric(
        "system.response_ms_total",
        "Health check time (sum, ms)",
        "Sum of health check durations in the window, in milliseconds.",
        "count",
        Flow(response_ms_facts),
        listed=False,
    ),
    Metric(
        "system.response_ms",
        "Average response time (ms)",
        "Average health check duration in the window, in milliseconds. Healthy below 2 s, "
        "warning above 5 s: check database performance and scale servers.",
        "milliseconds",
        ratio(Ref("system.response_ms_total"), Ref("system.timed_checks"), scale=1),
        direction="down",
        health=health("< 2000", "> 5000"),
    ),
    Metric(
        "system.errors",
        "Errors",
        "Errors logged in the window (break down by `source`).",
        "count",
        Flow(errors_facts),
        direction="down",
        dims=("source",),
    ),
    Metric(
        "system.operations",
        "Operations",
        "Track events in the window other than health checks and error logs.",
        "count",
        Flow(operations_facts),
        listed=False,
    ),
    Metric(
        "system.error_rate",
        "Error rate",
        "Errors logged / operations (track events other than health checks and errors) × 100 "
        "in the window. Healthy below 1 %, warning above 3 %: review the Logs for the failing "
        "source.",
        "percent",
        ratio(Ref("system.errors"), Ref("system.operations")),
        direction="down",
        health=health("< 1", "> 3"),
    ),
    Table(
        "system.pulse",
        "System Pulse",
        "Uptime, error rate and response time against their thresholds (green = healthy, "
        "yellow = in between, red = warning, unknown = no data), and the overall status: the "
        "worst of them.",
        (
            Column("component", "Component", "text"),
            Column("metric", "Metric", "text"),
            Column("value", "Value"),
            Column("unit", "Unit", "text"),
            Column("status", "Status", "text"),
            Column("healthy_when", "Healthy when", "text"),
            Column("warning_when", "Warning when", "text"),
        ),
        pulse_table,
    ),
    Table(
        "system.errors_by_source",
        "Errors by source",
        "Errors logged in the window per source, with the latest message and when it was seen.",
        (
            Column("source", "Source", "text"),
            Column("count", "Errors"),
            Column("last_message", "Last message", "text"),
            Column("last_seen", "Last seen", "datetime"),
        ),
        errors_by_source_table,
    ),
    Table(
        "system.activity_log",
        "Activity log",
        "Recent activity in the window, most recent first: user actions, system events, errors "
        "(errors logged, failed health checks) and transactions; filter by `type`. At most "
        f"{ACTIVITY_LIMIT} rows unless a limit is given.",
        (
            Column("ts", "Time", "datetime"),
            Column("type", "Type", "text"),
            Column("actor", "Actor", "text"),
            Column("event", "Event", "text"),
            Column("detail", "Detail", "text"),
        ),
        activity_table,
        per_partner=True,
    ),
)
