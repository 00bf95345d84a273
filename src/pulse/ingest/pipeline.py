"""From messages to stored rows: the one path every entry point takes."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import duckdb
import orjson
import pyarrow as pa

from pulse.ingest.contract import ForbiddenMessages
from pulse.ingest.normalize import Normalized, new_engine, normalize
from pulse.ingest.scope import enforce_partner
from pulse.store.store import Store, WriteResult

_engines = threading.local()


def engine() -> duckdb.DuckDBPyConnection:
    """This thread's JSON engine (DuckDB connections are not shared across threads)."""
    con: duckdb.DuckDBPyConnection | None = getattr(_engines, "con", None)
    if con is None:
        con = _engines.con = new_engine()
    return con


def raw_table(lines: list[str], numbers: list[int]) -> pa.Table:
    return pa.table({"n": pa.array(numbers, pa.int64()), "line": pa.array(lines, pa.string())})


def normalize_lines(lines: list[str], numbers: list[int], where: str) -> Normalized:
    return normalize(engine(), raw_table(lines, numbers), datetime.now(UTC), where)


def ingest_messages(
    store: Store, messages: list[Any], *, partner: str | None = None
) -> WriteResult:
    """Validate and store one HTTP batch, all or nothing. Index in errors = position in batch."""
    if partner is not None:
        rejections = enforce_partner(messages, partner)
        if rejections:
            raise ForbiddenMessages(rejections)
    lines = [orjson.dumps(m).decode() for m in messages]
    rows = normalize_lines(lines, list(range(len(lines))), "message")
    return store.write(rows)


@dataclass(frozen=True)
class Chunk:
    """Lines of one file, numbered as in the file, with the bytes they took."""

    lines: list[str]
    numbers: list[int]
    size: int


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
                rows = normalize_lines(chunk.lines, chunk.numbers, f"{label}: line")
                written = store.write_in(cur, rows)
                result.received += written.received
                result.stored += written.stored
                if progress is not None:
                    progress(len(chunk.lines), chunk.size)
    return result


def message_chunks(messages: Iterable[dict[str, Any]], size: int = 100_000) -> Iterator[Chunk]:
    """Chunks of an in-memory stream of messages, numbered from 0 (e.g. the demo generator)."""
    lines: list[str] = []
    count = 0
    for message in messages:
        lines.append(orjson.dumps(message).decode())
        if len(lines) >= size:
            yield Chunk(lines, list(range(count, count + len(lines))), sum(map(len, lines)))
            count += len(lines)
            lines = []
    if lines:
        yield Chunk(lines, list(range(count, count + len(lines))), sum(map(len, lines)))
