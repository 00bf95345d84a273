"""From messages to stored rows: the one path every entry point takes."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import duckdb
import orjson
import pyarrow as pa

from pulse.ingest.normalize import (
    ENTITIES_SQL,
    EVENTS_SQL,
    FORGET_STORED_SQL,
    TRAITS_SQL,
    Normalized,
    Staged,
    new_engine,
    read_lines,
    stage_rows,
    stage_text,
    staged_rows,
)
from pulse.ingest.scope import require_partner
from pulse.store.store import PART_MOST, Store, Token, Touched, WriteResult, Wrote

_engines = threading.local()


def engine() -> duckdb.DuckDBPyConnection:
    """This thread's JSON engine (DuckDB connections are not shared across threads)."""
    con: duckdb.DuckDBPyConnection | None = getattr(_engines, "con", None)
    if con is None:
        con = _engines.con = new_engine()
    return con


def batch_engine() -> duckdb.DuckDBPyConnection:
    """This thread's JSON engine for HTTP batches: a few thousand messages are checked faster
    on one DuckDB thread than split over several (a fifth less CPU per group, measured)."""
    con: duckdb.DuckDBPyConnection | None = getattr(_engines, "batch_con", None)
    if con is None:
        con = _engines.batch_con = new_engine()
        con.execute("SET threads = 1")
    return con


@dataclass(frozen=True)
class Chunk:
    """Messages as JSON text, one per line; `first` numbers the first line (index or file line)."""

    lines: list[str]
    first: int
    size: int


@dataclass(frozen=True)
class FileRows:
    """Rows low < n <= high of a JSON Lines file (read once per file by DuckDB's reader)."""

    path: str
    low: int
    high: int
    size: int


def _staging(store: Store, cur: Any) -> Any:
    """Where messages are checked: the store's own DuckDB connection, else the JSON engine."""
    return cur if store.engine == "duckdb" else engine()


def load_chunk(store: Store, cur: Any, chunk: Chunk | FileRows, where: str) -> WriteResult:
    """Validate one chunk and store it inside the open transaction `cur`, or raise."""
    con = _staging(store, cur)
    if isinstance(chunk, FileRows):
        staged = stage_rows(con, chunk.low, chunk.high, where)
    else:
        staged = stage_text(con, chunk.lines, chunk.first, where)
    return WriteResult(staged.messages, _store_staged(store, cur, con, staged))


@contextmanager
def _insertion_order(con: Any, keep: bool) -> Iterator[None]:
    """Run the block with DuckDB's `preserve_insertion_order` set to `keep`, then flip it back.

    An import stages and inserts rows in any order (each staged line carries its number), a
    tenth faster; only reading a file's lines needs the order, to number them. The setting is
    global to the database: the import sets it outside its transaction, under the store's lock.
    Inside an aborted transaction the flip back fails and is skipped; the import's own, after
    the rollback, restores the default.
    """
    con.execute(f"SET preserve_insertion_order = {str(keep).lower()}")
    try:
        yield
    finally:
        with suppress(duckdb.Error):
            con.execute(f"SET preserve_insertion_order = {str(not keep).lower()}")


@dataclass(frozen=True)
class StagedBatches:
    """Several batches checked together: their store rows, and where each message id sits."""

    rows: Normalized
    positions: dict[str, int]


def stage_batches(chunk: Chunk) -> StagedBatches:
    """Check a chunk made of several batches on this thread's JSON engine, or raise.

    It runs before the write transaction opens, so the store stays free for other requests (a
    write key lookup) while messages are checked; only the inserts and the commit hold it.
    """
    con = batch_engine()
    staged = stage_text(con, chunk.lines, chunk.first, "message")
    con.execute("SELECT message_id, n FROM parsed")
    positions = {str(mid): int(n) for mid, n in con.fetchall()}
    return StagedBatches(staged_rows(con, datetime.now(UTC), staged), positions)


def store_batches(store: Store, cur: Any, staged: StagedBatches) -> list[int]:
    """Store checked batches in the open transaction `cur`; the positions of the new messages.

    The caller (group commit) needs them to tell each batch how many of its messages were new.
    """
    _changing(store, cur, staged.rows)
    stored = store.insert_events_returning(cur, staged.rows.events)
    store.insert_rows(cur, "traits", staged.rows.traits)
    store.insert_rows(cur, "entities", staged.rows.entities)
    return sorted(staged.positions[message_id] for message_id in stored)


# From this many staged messages on, a DuckDB store drops the stored ids in one anti-join and
# appends the rest; below it, `INSERT ... ON CONFLICT` (checks row by row, but skips the scan of
# every stored id) is the cheaper. 1.9 M messages: 31 s with ON CONFLICT, 5 s appended.
APPEND_FROM = 50_000


def _store_staged(store: Store, cur: Any, con: Any, staged: Staged) -> int:
    """Insert the staged messages (new or re-sent) with their traits and entities; return the
    number of new messages."""
    received_at = datetime.now(UTC)
    if store.engine == "duckdb":
        store.changed(cur, touched=_touched_staged(cur, staged), wrote=_wrote_staged(cur, staged))
        # `parsed` is on the store's connection: rows go from it straight into the tables.
        params = {"received_at": received_at}
        if staged.messages >= APPEND_FROM:
            cur.execute(FORGET_STORED_SQL)
            count = store.append_select(cur, "events", EVENTS_SQL, params)
        else:
            count = store.insert_select(cur, "events", EVENTS_SQL, params)
        if staged.traits:
            store.insert_select(cur, "traits", TRAITS_SQL)
        store.insert_select(cur, "entities", ENTITIES_SQL)
        return count
    rows = staged_rows(con, received_at, staged)
    _changing(store, cur, rows)
    count = store.insert_rows(cur, "events", rows.events)
    store.insert_rows(cur, "traits", rows.traits)
    store.insert_rows(cur, "entities", rows.entities)
    return int(count)


def _changing(store: Store, cur: Any, rows: Normalized) -> None:
    """Tell the store that `rows` are being written in `cur` (before they are inserted): the
    ids they touch and what they write (see `Store.changed`)."""
    store.changed(cur, touched=touched_by(rows.entities), wrote=wrote_by(store, cur, rows))


def touched_by(entities: pa.Table) -> Touched:
    """What a write of messages with these entity rows touches: every (entity, id) whose
    events, traits or entity row it writes, as the messages' entity rows name them all (each
    message names one: an identify its customer, a group its entity, a track its customer or
    partner; see `Store.changed`); None when there are too many to rebuild snapshots in part."""
    if entities.num_rows > PART_MOST:
        return None
    kinds = entities.column("entity").to_pylist()
    return frozenset(zip(kinds, entities.column("entity_id").to_pylist(), strict=True))


def _touched_staged(cur: Any, staged: Staged) -> Touched:
    """`touched_by` for messages staged on the store's DuckDB connection (a large import is
    not worth listing: past `PART_MOST` ids snapshots are rebuilt whole anyway)."""
    if staged.messages >= APPEND_FROM:
        return None
    listed = f"SELECT entity, entity_id FROM ({ENTITIES_SQL}) LIMIT {PART_MOST + 1}"
    return touched_by(cur.sql(listed).to_arrow_table())


# The kinds of entity rows a write adds, or moves earlier (an entity row seen again changes
# nothing): the entities of these kinds change.
_NEW_KINDS = """
SELECT DISTINCT s.entity FROM ({rows}) AS s
LEFT JOIN entities AS e ON e.entity = s.entity AND e.entity_id = s.entity_id
WHERE e.entity_id IS NULL OR s.first_seen < e.first_seen
"""
_LISTED_ENTITIES = (
    "SELECT unnest(CAST(? AS VARCHAR[])) AS entity, unnest(CAST(? AS VARCHAR[])) AS entity_id, "
    "unnest(CAST(? AS TIMESTAMPTZ[])) AS first_seen"
)


def _wrote(
    events: Iterable[str | None], traits: Iterable[tuple[str, str]], kinds: Iterable[str]
) -> Wrote:
    """What a write writes (see `Store.changed`): events of these names, trait history of
    these (entity kind, name), entities of these kinds."""
    wrote: set[Token] = {("event", name) for name in events}
    wrote |= {
        token for entity, name in traits for token in (("trait", entity, name), ("traits", entity))
    }
    wrote |= {("entity", kind) for kind in kinds}
    for table, kind in (("events", "event"), ("traits", "trait"), ("entities", "entity")):
        if any(token[0] == kind for token in wrote):
            wrote.add(("table", table))
    return frozenset(wrote)


def wrote_by(store: Store, cur: Any, rows: Normalized) -> Wrote:
    """`_wrote` for the rows of a write, asking the store in the open transaction `cur` which
    entity rows are new (run it before they are inserted); None past `PART_MOST` entities."""
    entities = rows.entities
    if entities.num_rows > PART_MOST:
        return None
    listed = (
        entities.column("entity").to_pylist(),
        entities.column("entity_id").to_pylist(),
        entities.column("first_seen").to_pylist(),
    )
    cur.execute(store.placeholders(_NEW_KINDS.format(rows=_LISTED_ENTITIES)), listed)
    kinds = [str(kind) for (kind,) in cur.fetchall()]
    traits = rows.traits  # without columns when no message makes trait history
    pairs = (
        zip(traits.column("entity").to_pylist(), traits.column("name").to_pylist(), strict=True)
        if traits.num_rows
        else ()
    )
    return _wrote(set(rows.events.column("event").to_pylist()), set(pairs), kinds)


def _wrote_staged(cur: Any, staged: Staged) -> Wrote:
    """`wrote_by` for messages staged on the store's DuckDB connection."""
    if staged.messages >= APPEND_FROM:
        return None
    events = cur.sql("SELECT DISTINCT CASE WHEN type = 'track' THEN event END FROM parsed")
    traits = cur.sql(f"SELECT DISTINCT entity, name FROM ({TRAITS_SQL})") if staged.traits else None
    kinds = cur.sql(_NEW_KINDS.format(rows=ENTITIES_SQL))
    return _wrote(
        [name for (name,) in events.fetchall()],
        traits.fetchall() if traits is not None else [],
        [kind for (kind,) in kinds.fetchall()],
    )


FILE_SLICE = 1_000_000


def jsonl_rows(store: Store, cur: Any, path: str, size: int) -> Iterator[FileRows]:
    """Slices of a JSON Lines file, read in one pass by DuckDB into the staging connection."""
    con = _staging(store, cur)
    with _insertion_order(con, keep=True):
        rows = read_lines(con, path)
    for low in range(0, rows, FILE_SLICE):
        high = min(low + FILE_SLICE, rows)
        yield FileRows(path, low, high, size * (high - low) // max(rows, 1))


def lines_chunk(lines: list[str], first: int = 0) -> Chunk:
    return Chunk(lines, first, sum(len(line) + 1 for line in lines))


def ingest_messages(
    store: Store, messages: list[Any], *, partner: str | None = None
) -> WriteResult:
    """Validate and store one HTTP batch, all or nothing. Index in errors = position in batch."""
    require_partner(messages, partner)
    if not messages:
        return WriteResult(0, 0)
    chunk = lines_chunk([orjson.dumps(m).decode() for m in messages])
    with store.transaction() as cur:
        return load_chunk(store, cur, chunk, "message")


@dataclass
class ImportResult:
    received: int = 0
    stored: int = 0

    @property
    def duplicates(self) -> int:
        return self.received - self.stored


ChunkSource = Iterator[Chunk] | Callable[[Store, Any], Iterator[FileRows]]


def ingest_chunks(
    store: Store,
    chunks: Iterable[tuple[str, ChunkSource]],
    progress: Callable[[int, int], None] | None = None,
) -> ImportResult:
    """Store every chunk of every file in one transaction: one bad line stores nothing.

    `chunks` yields (label, chunks) per file; the label (the file name) prefixes errors. The
    chunks are an iterator, or a function of (store, cursor) for files DuckDB reads itself.
    `progress(messages, bytes)` is called after each chunk.
    """
    result = ImportResult()
    unordered = store.con.con if store.engine == "duckdb" else engine()
    with store.lock, _insertion_order(unordered, keep=False), store.transaction() as cur:
        for label, source in chunks:
            file_chunks = source(store, cur) if callable(source) else source
            for chunk in file_chunks:
                written = load_chunk(store, cur, chunk, f"{label}: line")
                result.received += written.received
                result.stored += written.stored
                if progress is not None:
                    progress(written.received, chunk.size)
    store.cluster_events()  # a large import lands in arrival order
    return result


def message_chunks(messages: Iterable[dict[str, Any]], size: int = 100_000) -> Iterator[Chunk]:
    """Chunks of an in-memory stream of messages, numbered from 0 (e.g. the demo generator)."""
    lines: list[str] = []
    count = 0
    for message in messages:
        lines.append(orjson.dumps(message).decode())
        if len(lines) >= size:
            yield lines_chunk(lines, count)
            count += len(lines)
            lines = []
    if lines:
        yield lines_chunk(lines, count)
