"""What can be exported: any catalog table, and seed 001's five named exports.

An export is a header (columns with units, so Excel can type its cells) and rows that arrive in
chunks. Catalog tables are small aggregates answered by `evaluate_table`; the raw lists (every
generation, every occasion) can have millions of rows, so they are Ibis expressions streamed in
Arrow record batches over their own database cursor, never held in memory whole.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import ibis
import pyarrow as pa
from ibis import _

from pulse.metrics import CATALOG
from pulse.metrics.catalog import Column
from pulse.metrics.engine import Engine
from pulse.metrics.source import UTC_TS
from pulse.metrics.tables import TableQuery, evaluate_table
from pulse.metrics.windows import instant, parse_window
from pulse.store.store import Store

CHUNK_ROWS = 20_000
Row = tuple[Any, ...]


@dataclass(frozen=True)
class ExportRequest:
    """One export: a catalog table id or a named export, for a window and maybe one partner."""

    name: str
    as_of: date
    window: str = "last_30d"
    partner: str | None = None
    tz: str = "UTC"
    currency: str = "USD"


@dataclass(frozen=True)
class Export:
    """A resolved export: its columns and a one-shot iterator of row chunks."""

    id: str
    label: str
    columns: tuple[Column, ...]
    chunks: Iterator[list[Row]]


@dataclass(frozen=True)
class Named:
    """A seed 001 export: its columns (exactly the seed's) and how its rows are made."""

    id: str
    label: str
    columns: tuple[Column, ...]
    rows: Callable[[Store, ExportRequest], Iterator[list[Row]]]


# -- streaming an Ibis expression ----------------------------------------------------------------


def arrow_chunks(
    store: Store, expr: ibis.Table, chunk_rows: int = CHUNK_ROWS
) -> Iterator[list[Row]]:
    """Rows of `expr` in chunks, from a cursor of its own: the shared connection stays free
    for other queries while a long export is read, and memory holds one chunk at a time.
    Only base tables may be used (a separate connection does not see temporary snapshots)."""
    sql = str(store.con.compile(expr))
    if store.engine == "duckdb":
        with store.lock:
            cur = store.con.con.cursor()
        try:
            cur.execute("SET TimeZone = 'UTC'")
            reader = cur.sql(sql).to_arrow_reader(chunk_rows)
            for batch in reader:
                yield _tuples(batch)
        finally:
            cur.close()
        return
    import psycopg

    with psycopg.connect(store.url) as con, con.cursor(name="pulse_export") as cur:
        cur.execute(sql)
        while rows := cur.fetchmany(chunk_rows):
            yield [tuple(r) for r in rows]


def _tuples(batch: pa.RecordBatch) -> list[Row]:
    columns = [column.to_pylist() for column in batch.columns]
    return list(zip(*columns, strict=True))


# -- catalog tables ------------------------------------------------------------------------------


def _table_rows(store: Store, request: ExportRequest, table_id: str) -> list[dict[str, Any]]:
    query = TableQuery(
        table=table_id,
        as_of=request.as_of,
        window=request.window,
        partner=request.partner,
        tz=request.tz,
    )
    rows: list[dict[str, Any]] = evaluate_table(Engine(store, CATALOG, request.currency), query)[
        "rows"
    ]
    return rows


def _mapped(table_id: str, pick: Callable[[dict[str, Any]], Row]) -> Callable[..., Any]:
    def rows(store: Store, request: ExportRequest) -> Iterator[list[Row]]:
        yield [pick(r) for r in _table_rows(store, request, table_id)]

    return rows


def _describe(r: dict[str, Any]) -> str:
    amount = r["amount"]
    text = f"{r['type']} of {amount:g} {r['currency']}" if amount is not None else r["type"]
    parties = [f"{k} {r[k]}" for k in ("customer", "partner") if r.get(k)]
    return text + (f" ({', '.join(parties)})" if parties else "")


# -- raw lists (base tables only: they stream) -----------------------------------------------------


def _window(request: ExportRequest) -> tuple[Any, Any]:
    window = parse_window(request.window, request.as_of)
    return (
        instant(window.start, request.tz),
        instant(window.end + timedelta(days=1), request.tz),
    )


def _latest_trait(store: Store, entity: str, name: str, alias: str) -> ibis.Table:
    """Each entity's latest value of one trait, from the trait history alone."""
    traits = store.table("traits")
    rows = traits.filter((traits.entity == entity) & (traits.name == name))
    order = ibis.window(group_by=rows.entity_id, order_by=[rows.ts.desc(), rows.message_id.desc()])
    ranked = rows.mutate(rank=ibis.row_number().over(order))
    return ranked.filter(ranked["rank"] == 0).select(**{f"{alias}_id": _.entity_id, alias: _.value})


def generation_list(store: Store, request: ExportRequest) -> ibis.Table:
    """Every generation in the window, oldest first (seed 001 "Generation Stats CSV")."""
    start, end = _window(request)
    events = store.table("events")
    gens = events.filter(
        (events.event == "generation_created") & (events.ts >= start) & (events.ts < end)
    )
    if request.partner is not None:
        gens = gens.filter(gens.partner_id == request.partner)
    return gens.order_by([gens.ts, gens.message_id]).select(
        gens.message_id, gens.occasion_id, gens.user_id, gens.style_id, gens.ts, gens.status
    )


def occasion_list(store: Store, request: ExportRequest) -> ibis.Table:
    """Every occasion created in the window with its credits and generations (seed 001
    "Event List CSV"; seed 001 calls occasions "events")."""
    start, end = _window(request)
    entities = store.table("entities")
    occasions = entities.filter(
        (entities.entity == "occasion")
        & (entities.first_seen >= start)
        & (entities.first_seen < end)
    ).select(occasion_id=_.entity_id, created=_.first_seen.cast(UTC_TS))
    events = store.table("events")
    allocs = events.filter(events.event == "credits_allocated")
    allocated = allocs.group_by(a_id=allocs.target).aggregate(allocated=allocs.credits.sum())
    spent_rows = events.filter((events.event == "credits_consumed") & events.occasion_id.notnull())
    spent = spent_rows.group_by(c_id=spent_rows.occasion_id).aggregate(
        consumed=spent_rows.credits.sum()
    )
    gen_rows = events.filter(events.event == "generation_created")
    gens = gen_rows.group_by(g_id=gen_rows.occasion_id).aggregate(generations=gen_rows.count())
    joined = occasions
    for alias in ("name", "slug", "partner", "client"):
        trait = "partner_id" if alias == "partner" else alias
        latest = _latest_trait(store, "occasion", trait, alias)
        joined = joined.left_join(latest, occasions.occasion_id == latest[f"{alias}_id"])
    joined = (
        joined.left_join(allocated, occasions.occasion_id == allocated.a_id)
        .left_join(spent, occasions.occasion_id == spent.c_id)
        .left_join(gens, occasions.occasion_id == gens.g_id)
    )
    if request.partner is not None:
        joined = joined.filter(joined.partner == request.partner)
    return joined.order_by([joined.created, joined.occasion_id]).select(
        joined.occasion_id,
        joined.name,
        joined.slug,
        joined.partner,
        joined.client,
        ibis.coalesce(joined.allocated, 0).name("allocated"),
        ibis.coalesce(joined.consumed, 0).name("consumed"),
        ibis.coalesce(joined.generations, 0).name("generations"),
        joined.created,
    )


def _streamed(build: Callable[[Store, ExportRequest], ibis.Table]) -> Callable[..., Any]:
    def rows(store: Store, request: ExportRequest) -> Iterator[list[Row]]:
        yield from arrow_chunks(store, build(store, request))

    return rows


def _c(name: str, label: str, unit: Any = "text") -> Column:
    return Column(name, label, unit)


NAMED: dict[str, Named] = {
    n.id: n
    for n in (
        Named(
            "partner_list",
            "Partner list",
            (
                _c("id", "ID"),
                _c("name", "Name"),
                _c("email", "Email"),
                _c("credits_total", "Credits Total", "credits"),
                _c("credits_used", "Credits Used", "credits"),
                _c("event_count", "Event Count", "count"),
                _c("active_status", "Active Status"),
                _c("created_date", "Created Date", "datetime"),
            ),
            _mapped(
                "partners.list",
                lambda r: (
                    r["partner_id"],
                    r["name"],
                    r["email"],
                    r["credits_purchased"],
                    r["credits_consumed"],
                    r["occasions"],
                    r["status"],
                    r["created"],
                ),
            ),
        ),
        Named(
            "transaction_log",
            "Transaction log",
            (
                _c("date", "Date", "datetime"),
                _c("actor", "Actor"),
                _c("action_type", "Action Type"),
                _c("amount", "Amount", "money"),
                _c("description", "Description"),
            ),
            _mapped(
                "finance.transactions",
                lambda r: (
                    r["ts"],
                    r["customer"] or r["partner"],
                    r["type"],
                    r["amount_reporting"],
                    _describe(r),
                ),
            ),
        ),
        Named(
            "event_list",
            "Event list",
            (
                _c("event_id", "Event ID"),
                _c("name", "Name"),
                _c("slug", "Slug"),
                _c("partner", "Partner"),
                _c("client", "Client"),
                _c("credits_allocated", "Credits Allocated", "credits"),
                _c("credits_used", "Credits Used", "credits"),
                _c("generations_count", "Generations Count", "count"),
                _c("created_date", "Created Date", "datetime"),
            ),
            _streamed(occasion_list),
        ),
        Named(
            "generation_stats",
            "Generation stats",
            (
                _c("generation_id", "Generation ID"),
                _c("event", "Event"),
                _c("user", "User"),
                _c("style", "Style"),
                _c("timestamp", "Timestamp", "datetime"),
                _c("status", "Status"),
            ),
            _streamed(generation_list),
        ),
        Named(
            "style_usage",
            "Style usage",
            (
                _c("style_id", "Style ID"),
                _c("name", "Name"),
                _c("category", "Category"),
                _c("usage_count", "Usage Count", "count"),
                _c("last_used", "Last Used", "datetime"),
            ),
            _mapped(
                "styles.usage",
                lambda r: (
                    r["style_id"],
                    r["name"],
                    r["category"],
                    r["generations"],
                    r["last_used"],
                ),
            ),
        ),
    )
}


def exportable(name: str) -> bool:
    return name in NAMED or name in CATALOG.tables


def per_partner(name: str) -> bool:
    """Whether a partner may export it (its rows are scoped to the partner)."""
    if name in NAMED:
        return False  # seed 001's exports are the platform operator's
    return CATALOG.table(name).per_partner


def resolve(store: Store, request: ExportRequest) -> Export:
    """The export named by the request (KeyError for an unknown name, ValueError for bad
    parameters — raised here, before any row is streamed)."""
    parse_window(request.window, request.as_of)
    if request.name in NAMED:
        named = NAMED[request.name]
        return Export(named.id, named.label, named.columns, named.rows(store, request))
    table = CATALOG.table(request.name)
    rows = _table_rows(store, request, table.id)  # evaluated now: errors surface before streaming
    names = [c.name for c in table.columns]
    chunk = [tuple(r[n] for n in names) for r in rows]
    return Export(table.id, table.label, table.columns, iter([chunk]))
