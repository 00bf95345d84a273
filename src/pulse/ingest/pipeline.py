"""From messages to stored rows: the one path every entry point takes."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import duckdb
import orjson

from pulse.ingest.contract import ForbiddenMessages
from pulse.ingest.normalize import (
    ENTITIES_SQL,
    EVENTS_SQL,
    TRAITS_SQL,
    new_engine,
    stage,
    staged_rows,
)
from pulse.ingest.scope import enforce_partner
from pulse.store.store import Store, WriteResult

_engines = threading.local()


def engine() -> duckdb.DuckDBPyConnection:
    """This thread's JSON engine (DuckDB connections are not shared across threads)."""
    con: duckdb.DuckDBPyConnection | None = getattr(_engines, "con", None)
    if con is None:
        con = _engines.con = new_engine()
    return con


@dataclass(frozen=True)
class Chunk:
    """Messages as JSON text, one per line; `first` numbers the first line (index or file line)."""

    text: str
    first: int
    lines: int
    size: int


def load_chunk(store: Store, cur: Any, chunk: Chunk, where: str) -> WriteResult:
    """Validate one chunk and store it inside the open transaction `cur`, or raise."""
    received_at = datetime.now(UTC)
    if store.engine == "duckdb":
        count = stage(cur, chunk.text, chunk.first, where)
        stored = store.insert_select(cur, "events", EVENTS_SQL, {"received_at": received_at})
        store.insert_select(cur, "traits", TRAITS_SQL)
        store.insert_select(cur, "entities", ENTITIES_SQL)
        return WriteResult(count, stored)
    json_engine = engine()
    stage(json_engine, chunk.text, chunk.first, where)
    return store.write_in(cur, staged_rows(json_engine, received_at))


def lines_chunk(lines: list[str], first: int = 0) -> Chunk:
    text = "\n".join(lines)
    return Chunk(text, first, len(lines), len(text))


def ingest_messages(
    store: Store, messages: list[Any], *, partner: str | None = None
) -> WriteResult:
    """Validate and store one HTTP batch, all or nothing. Index in errors = position in batch."""
    if partner is not None:
        rejections = enforce_partner(messages, partner)
        if rejections:
            raise ForbiddenMessages(rejections)
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


def ingest_chunks(
    store: Store,
    chunks: Iterable[tuple[str, Iterator[Chunk]]],
    progress: Callable[[int, int], None] | None = None,
) -> ImportResult:
    """Store every chunk of every file in one transaction: one bad line stores nothing.

    `chunks` yields (label, chunk iterator) per file; the label (the file name) prefixes errors.
    `progress(messages, bytes)` is called after each chunk.
    """
    result = ImportResult()
    with store.transaction() as cur:
        for label, file_chunks in chunks:
            for chunk in file_chunks:
                written = load_chunk(store, cur, chunk, f"{label}: line")
                result.received += written.received
                result.stored += written.stored
                if progress is not None:
                    progress(written.received, chunk.size)
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
