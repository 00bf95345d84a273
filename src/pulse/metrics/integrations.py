"""integrations.* — adoption, health and pipeline of integrations per provider (seed 003 §4).

A customer uses a provider from its `integration_connected` event until a custom
`integration_disconnected` event (properties: provider) for the same provider, or until the
customer is deleted. Syncs (`integration_synced`: ok, duration_ms) and API calls (`api_called`,
`count` calls per event, default 1) are flows; break them down with `by=provider`.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import ibis
import pandas as pd
from ibis import _

from pulse.metrics.catalog import Column, Derived, Flow, Metric, Ref, Stock, Table, health, ratio
from pulse.metrics.customers import churned_facts, open_facts
from pulse.metrics.source import Source, earlier_end, payload_number
from pulse.metrics.tables import TableContext
from pulse.store.store import Part

PROVIDER_DIMS = ("provider", "partner", "partner_kind", "tier", "plan", "channel", "status")
CUSTOMER_DIMS = ("partner", "partner_kind", "tier", "plan", "channel", "status", "platform")
DISCONNECTED = "integration_disconnected"
STAGES = ("discovery", "negotiation", "development", "planned", "live")


def _changes(src: Source, ids: ibis.Table | None) -> ibis.Table:
    """Connection state changes per customer and provider (repeats of a state dropped), of the
    customers in `ids` if given (see `Store.snapshot`)."""
    events = src.track("integration_connected", DISCONNECTED)
    if ids is not None:
        events = events.filter(events.user_id.isin(ids.entity_id))
    events = src.attributed(events)
    events = events.filter(events.customer_id.notnull() & events.provider.notnull())
    rows = events.select(
        "customer_id",
        "partner_id",
        "provider",
        "ts",
        "message_id",
        connected=events.event == "integration_connected",
    )
    pair = ibis.window(group_by=[rows.customer_id, rows.provider], order_by=[_.ts, _.message_id])
    rows = rows.mutate(before=rows.connected.lag().over(pair))
    return rows.filter(
        (rows.before.isnull() & rows.connected)
        | (rows.before.notnull() & (rows.before != rows.connected))
    )


def _clipped(src: Source, rows: ibis.Table) -> ibis.Table:
    """Intervals cut at their customer's deletion."""
    customers = src.customers().select(cid=_.customer_id, deleted_at=_.deleted_at)
    joined = rows.join(customers, rows.customer_id == customers.cid)
    return joined.mutate(valid_to=earlier_end(joined.valid_to, joined.deleted_at)).drop(
        "cid", "deleted_at"
    )


def users_facts(src: Source) -> ibis.Table:
    """One interval per customer and provider while connected. Connection intervals read every
    connection event in history, so they are a snapshot, rebuilt after a write for the
    customers it touched."""
    return src.store.snapshot(
        "integration_users", partial(_users, src), Part("customer", "customer_id")
    )


def _users(src: Source, ids: ibis.Table | None = None) -> ibis.Table:
    rows = _changes(src, ids)
    pair = ibis.window(group_by=[rows.customer_id, rows.provider], order_by=[_.ts, _.message_id])
    rows = rows.mutate(valid_to=rows.ts.lead().over(pair))
    rows = rows.filter(rows.connected).select(
        "customer_id", "partner_id", "provider", "valid_to", valid_from=_.ts, value=ibis.literal(1)
    )
    return _clipped(src, rows)


def connected_facts(src: Source) -> ibis.Table:
    """One interval per customer while at least one provider is connected (counted once), a
    snapshot as `users_facts`."""
    return src.store.snapshot(
        "integration_connected", partial(_connected, src), Part("customer", "customer_id")
    )


def _connected(src: Source, ids: ibis.Table | None = None) -> ibis.Table:
    rows = _changes(src, ids)
    rows = rows.mutate(delta=ibis.cases((rows.connected, 1), else_=-1))
    running = ibis.window(
        group_by=rows.customer_id, order_by=[_.ts, _.message_id], preceding=None, following=0
    )
    following = ibis.window(group_by=rows.customer_id, order_by=[_.ts, _.message_id])
    rows = rows.mutate(
        open_pairs=rows.delta.sum().over(running), valid_to=rows.ts.lead().over(following)
    )
    rows = rows.filter(rows.open_pairs > 0).select(
        "customer_id", "partner_id", "valid_to", valid_from=_.ts, value=ibis.literal(1)
    )
    return _clipped(src, rows)


def _first_connection(src: Source) -> ibis.Table:
    """Each customer's first connection of any provider: cid, since."""
    events = src.track("integration_connected")
    events = events.filter(events.user_id.notnull())
    return events.group_by(cid=events.user_id).aggregate(since=events.ts.min())


def open_with_facts(src: Source) -> ibis.Table:
    """Customers in trial, active or inactive while they have connected an integration."""
    status = open_facts(src)
    first = _first_connection(src)
    joined = status.join(first, status.customer_id == first.cid)
    joined = joined.filter(joined.valid_to.isnull() | (joined.since < joined.valid_to))
    return joined.select(
        "customer_id",
        "partner_id",
        "value",
        valid_from=ibis.greatest(joined.valid_from, joined.since),
        valid_to=joined.valid_to,
    )


def churned_with_facts(src: Source) -> ibis.Table:
    """Churn moves of customers who had connected an integration before the move."""
    moves = churned_facts(src)
    first = _first_connection(src)
    joined = moves.join(first, (moves.customer_id == first.cid) & (first.since < moves.ts))
    # "new" to the with-integration group when created or first connected in the same window:
    # such a customer was not with an integration at the window start (exclude_new drops it).
    return joined.select(
        "customer_id",
        "partner_id",
        "ts",
        "value",
        created=ibis.greatest(joined.created, joined.since),
    )


def _syncs(src: Source) -> ibis.Table:
    events = src.attributed(src.track("integration_synced"))
    return events.select("ts", "customer_id", "partner_id", "provider", "ok", "duration_ms")


def syncs_facts(src: Source) -> ibis.Table:
    return _syncs(src).mutate(value=ibis.literal(1))


def ok_syncs_facts(src: Source) -> ibis.Table:
    syncs = _syncs(src)
    return syncs.filter(syncs.ok).mutate(value=ibis.literal(1))


def failed_syncs_facts(src: Source) -> ibis.Table:
    syncs = _syncs(src)
    return syncs.filter(~syncs.ok.fill_null(False)).mutate(value=ibis.literal(1))


def timed_syncs_facts(src: Source) -> ibis.Table:
    syncs = _syncs(src)
    return syncs.filter(syncs.duration_ms.notnull()).mutate(value=ibis.literal(1))


def sync_ms_facts(src: Source) -> ibis.Table:
    syncs = _syncs(src)
    syncs = syncs.filter(syncs.duration_ms.notnull())
    return syncs.mutate(value=syncs.duration_ms)


def api_calls_facts(src: Source) -> ibis.Table:
    """api_called events, each worth its `count` property (1 when absent)."""
    events = src.attributed(src.track("api_called"))
    calls = payload_number(events, "count")
    return events.select(
        "ts", "customer_id", "partner_id", "provider", value=ibis.coalesce(calls, 1.0)
    )


def share(users: float | None, customers: float | None) -> float | None:
    """Users of integrations as a percentage of the customer base (None without customers)."""
    if users is None or not customers:
        return None
    return users / customers * 100


def _share(values: Sequence[float | None], _days: int) -> float | None:
    return share(values[0], values[1])


def _retention_impact(values: Sequence[float | None], _days: int) -> float | None:
    """Retention of customers with an integration minus retention of those without, in points."""
    churned_all, open_all, churned_with, open_with = (v or 0.0 for v in values)
    churned_without, open_without = churned_all - churned_with, open_all - open_with
    if not open_with or not open_without:
        return None
    return (100 - churned_with / open_with * 100) - (100 - churned_without / open_without * 100)


# -- tables ---------------------------------------------------------------------------------


def providers_table(ctx: TableContext) -> pd.DataFrame:
    """One row per provider, every number read from the catalog (by=provider)."""
    names = {
        "users": "integrations.users",
        "syncs": "integrations.syncs",
        "uptime": "integrations.uptime",
        "error_rate": "integrations.error_rate",
        "avg_sync_ms": "integrations.avg_sync_ms",
        "api_calls": "integrations.api_calls",
    }
    columns = {column: ctx.values(metric, by="provider") for column, metric in names.items()}
    customers = ctx.ask("customers.total")["value"]
    providers = sorted({p for values in columns.values() for p in values if p is not None})
    frame = pd.DataFrame(
        [
            {
                "provider": p,
                **{column: values.get(p) for column, values in columns.items()},
                "share": share(columns["users"].get(p), customers),
            }
            for p in providers
        ],
        columns=["provider", *names, "share"],
    )
    return frame.sort_values(["users", "provider"], ascending=[False, True], na_position="last")


def pipeline_table(ctx: TableContext) -> pd.DataFrame:
    """Integration partnerships by stage, with their latest traits as of the window end."""
    traits = ("name", "provider", "stage", "potential_users", "revenue_potential")
    frames = [
        ctx.fetch(ctx.src.latest("integration", t, before=ctx.end).rename({t: "value"}))
        for t in (*traits, "expected_launch")
    ]
    merged: pd.DataFrame | None = None
    for frame in frames:
        frame = frame.set_index("entity_id")
        merged = frame if merged is None else merged.join(frame, how="outer")
    columns = ["integration", *traits, "expected_launch"]
    if merged is None or merged.empty:
        return pd.DataFrame(columns=columns)
    merged = merged.reset_index().rename(columns={"entity_id": "integration"})
    merged = merged[merged["stage"].notna()]
    for number in ("potential_users", "revenue_potential"):
        merged[number] = pd.to_numeric(merged[number], errors="coerce")
    order = {stage: i for i, stage in enumerate(STAGES)}
    merged["order"] = merged["stage"].map(lambda s: order.get(s, len(STAGES)))
    merged = merged.sort_values(["order", "expected_launch", "integration"], na_position="last")
    return merged[columns]


METRICS: tuple[Metric | Table, ...] = (
    Metric(
        "integrations.users",
        "Integration users",
        "Customers with the integration connected as of the window end; break down by "
        "`provider`. Without a breakdown each customer counts once per connected integration "
        "(see integrations.connected_customers for distinct customers).",
        "count",
        Stock(users_facts),
        dims=PROVIDER_DIMS,
    ),
    Metric(
        "integrations.connected_customers",
        "Customers using integrations",
        "Distinct customers with at least one integration connected as of the window end.",
        "count",
        Stock(connected_facts),
        dims=CUSTOMER_DIMS,
    ),
    Metric(
        "integrations.share",
        "Share of base using integrations",
        "Customers with at least one integration connected / all customers × 100, as of the "
        "window end (per provider in the integrations.providers table). Low adoption: promote "
        "the integrations that lift retention.",
        "percent",
        Derived((Ref("integrations.connected_customers"), Ref("customers.total")), _share),
        dims=CUSTOMER_DIMS,
    ),
    Metric(
        "integrations.syncs",
        "Integration syncs",
        "Integration syncs run in the window.",
        "count",
        Flow(syncs_facts),
        dims=PROVIDER_DIMS,
    ),
    Metric(
        "integrations.ok_syncs",
        "Successful integration syncs",
        "Integration syncs in the window that succeeded (ok).",
        "count",
        Flow(ok_syncs_facts),
        dims=PROVIDER_DIMS,
        listed=False,
    ),
    Metric(
        "integrations.failed_syncs",
        "Failed integration syncs",
        "Integration syncs in the window that failed (ok false).",
        "count",
        Flow(failed_syncs_facts),
        direction="down",
        dims=PROVIDER_DIMS,
        listed=False,
    ),
    Metric(
        "integrations.uptime",
        "Integration uptime",
        "Successful syncs / syncs × 100 in the window.",
        "percent",
        ratio(Ref("integrations.ok_syncs"), Ref("integrations.syncs")),
        dims=PROVIDER_DIMS,
    ),
    Metric(
        "integrations.error_rate",
        "Integration error rate",
        "Failed syncs / syncs × 100 in the window. Healthy at 1 % or less; above 1 % "
        "investigate the provider's error spike with engineering.",
        "percent",
        ratio(Ref("integrations.failed_syncs"), Ref("integrations.syncs")),
        direction="down",
        health=health("<= 1", "> 1"),
        dims=PROVIDER_DIMS,
    ),
    Metric(
        "integrations.timed_syncs",
        "Timed integration syncs",
        "Syncs in the window that report a duration.",
        "count",
        Flow(timed_syncs_facts),
        dims=PROVIDER_DIMS,
        listed=False,
    ),
    Metric(
        "integrations.sync_ms_total",
        "Total sync time (ms)",
        "Sum of sync durations in the window, in milliseconds.",
        "count",
        Flow(sync_ms_facts),
        dims=PROVIDER_DIMS,
        listed=False,
    ),
    Metric(
        "integrations.avg_sync_ms",
        "Average sync time (ms)",
        "Average duration of the window's syncs that report one, in milliseconds.",
        "milliseconds",
        ratio(Ref("integrations.sync_ms_total"), Ref("integrations.timed_syncs"), scale=1),
        direction="down",
        dims=PROVIDER_DIMS,
    ),
    Metric(
        "integrations.api_calls",
        "API calls",
        "API calls through integrations in the window (each api_called event's `count`, 1 "
        "when absent).",
        "count",
        Flow(api_calls_facts),
        dims=PROVIDER_DIMS,
    ),
    Metric(
        "integrations.open_with",
        "Open customers with an integration",
        "Customers in trial, active or inactive who have connected an integration.",
        "count",
        Stock(open_with_facts),
        dims=CUSTOMER_DIMS,
        listed=False,
    ),
    Metric(
        "integrations.churned_with",
        "Churned customers with an integration",
        "Churn moves in the window of customers who had connected an integration before the "
        "window start.",
        "count",
        Flow(churned_with_facts, agg="count_distinct", exclude_new=True),
        direction="down",
        dims=CUSTOMER_DIMS,
        listed=False,
    ),
    Metric(
        "integrations.retention_impact",
        "Retention impact of integrations",
        "Retention rate of customers who had connected an integration at the window start "
        "minus that of customers who had not, in percentage points (customers.retention_rate "
        "split in two). Positive: integrations keep customers; promote them.",
        "percent",
        Derived(
            (
                Ref("customers.churned"),
                Ref("customers.open", at="start"),
                Ref("integrations.churned_with"),
                Ref("integrations.open_with", at="start"),
            ),
            _retention_impact,
        ),
        dims=CUSTOMER_DIMS,
    ),
    Table(
        "integrations.providers",
        "Integrations by provider",
        "Per provider: users and share of the customer base as of the window end; syncs, "
        "uptime, error rate, average sync time and API calls in the window.",
        (
            Column("provider", "Provider", "text"),
            Column("users", "Users"),
            Column("share", "% of base", "percent"),
            Column("syncs", "Syncs"),
            Column("uptime", "Uptime", "percent"),
            Column("error_rate", "Error rate", "percent"),
            Column("avg_sync_ms", "Avg sync (ms)"),
            Column("api_calls", "API calls"),
        ),
        providers_table,
        per_partner=True,
    ),
    Table(
        "integrations.pipeline",
        "Integration partnership pipeline",
        "Integrations by stage (discovery, negotiation, development, planned, live) with "
        "potential users, revenue potential and expected launch, as of the window end.",
        (
            Column("integration", "Integration", "text"),
            Column("name", "Name", "text"),
            Column("provider", "Provider", "text"),
            Column("stage", "Stage", "text"),
            Column("potential_users", "Potential users"),
            Column("revenue_potential", "Revenue potential", "money_per_month"),
            Column("expected_launch", "Expected launch", "text"),
        ),
        pipeline_table,
    ),
)
