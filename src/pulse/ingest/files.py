"""Reading message files: JSON Lines, CSV and Parquet (SPEC §1.1), in chunks.

JSON Lines are read by DuckDB's parallel reader and go to the validator as they are. CSV and
Parquet rows are turned back into messages: envelope columns stay, `properties.x` / `traits.x`
columns nest, and any other column is a property of a track message or a trait of identify/group.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from pulse.ingest.contract import ENVELOPE
from pulse.ingest.pipeline import Chunk, ChunkSource, jsonl_rows, lines_chunk

CHUNK_LINES = 200_000
FORMATS = ("jsonl", "csv", "parquet")


def detect_format(path: Path) -> str:
    suffix = path.suffix.lower().lstrip(".")
    if suffix in ("jsonl", "ndjson", "json"):
        return "jsonl"
    if suffix in ("csv", "parquet"):
        return suffix
    raise ValueError(f"{path}: unknown file type {path.suffix!r}; use .jsonl, .csv or .parquet")


def read_chunks(path: Path, chunk_lines: int = CHUNK_LINES) -> ChunkSource:
    """Chunks of messages from one file, whatever its format."""
    fmt = detect_format(path)
    if fmt == "jsonl":
        size = path.stat().st_size
        return lambda store, cur: jsonl_rows(store, cur, str(path), size)
    if fmt == "csv":
        return _table_chunks(_csv_batches(path, chunk_lines), first_line=2)
    return _table_chunks(_parquet_batches(path, chunk_lines), first_line=1)


def _csv_batches(path: Path, chunk_lines: int) -> Iterator[list[dict[str, Any]]]:
    options = pacsv.ReadOptions(block_size=1 << 22)
    convert = pacsv.ConvertOptions(
        column_types={name: "string" for name in ("messageId", "userId", "groupId", "timestamp")}
    )
    reader = pacsv.open_csv(path, read_options=options, convert_options=convert)
    for batch in reader:
        yield from _split(batch.to_pylist(), chunk_lines)


def _parquet_batches(path: Path, chunk_lines: int) -> Iterator[list[dict[str, Any]]]:
    for batch in pq.ParquetFile(path).iter_batches(batch_size=chunk_lines):
        yield batch.to_pylist()


def _split(rows: list[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def unflatten(row: dict[str, Any]) -> dict[str, Any]:
    """A flat CSV/Parquet row back to a Segment message; empty cells are absent, not null."""
    message: dict[str, Any] = {}
    nested: dict[str, dict[str, Any]] = {"properties": {}, "traits": {}}
    loose: dict[str, Any] = {}
    for key, value in row.items():
        if value is None or value == "":
            continue
        if key in ENVELOPE:
            message[key] = value
            continue
        head, dot, rest = key.partition(".")
        if dot and head in nested:
            nested[head][rest] = value
        else:
            loose[key] = value
    target = "properties" if message.get("type", "track") == "track" else "traits"
    nested[target].update(loose)
    for name, values in nested.items():
        if values:
            message[name] = values
    return message


def _table_chunks(batches: Iterator[list[dict[str, Any]]], first_line: int) -> Iterator[Chunk]:
    number = first_line
    for rows in batches:
        lines = [orjson.dumps(unflatten(row), default=str).decode() for row in rows]
        yield lines_chunk(lines, number)
        number += len(rows)
