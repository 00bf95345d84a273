"""The store: one DuckDB file by default, or PostgreSQL, behind one Ibis connection.

Reads go through Ibis expressions (`metrics/`); the few writes use SQL that both engines accept
(`INSERT ... ON CONFLICT`), run in one transaction so a batch is stored whole or not at all.
Engine differences stay in this module.
"""

from __future__ import annotations

import copy
import math
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa
from ibis.backends import BaseBackend

from pulse.store.schema import LATEST, MIGRATIONS

POSTGRES_PREFIXES = ("postgres://", "postgresql://")
# A snapshot is rebuilt when this process changes the data. On PostgreSQL another process may
# write too, so snapshots (and remembered answers) also expire after this many seconds, so its
# writes show within a minute (SPEC §6); a DuckDB file has a single writing process.
SNAPSHOT_MAX_AGE = 60.0
RESULTS_KEPT = 4096  # answers remembered per store (least recently used dropped first)
# Re-sent messages are skipped; an entity's first-seen time only moves earlier.
ON_CONFLICT = {
    "events": "ON CONFLICT DO NOTHING",
    "traits": "ON CONFLICT DO NOTHING",
    "entities": "ON CONFLICT (entity, entity_id) DO UPDATE SET "
    "first_seen = LEAST(entities.first_seen, excluded.first_seen)",
}


@dataclass(frozen=True)
class WriteResult:
    """What a write did: messages stored now, and those already stored before (duplicates)."""

    received: int
    stored: int

    @property
    def duplicates(self) -> int:
        return self.received - self.stored


@dataclass
class Store:
    """An open store. `con` is the Ibis backend every metric query is built on."""

    url: str
    con: BaseBackend
    engine: str  # "duckdb" or "postgres"
    lock: threading.RLock = field(default_factory=threading.RLock)
    data_version: int = 0  # bumped whenever events, traits or entities change
    _snapshots: dict[str, tuple[int, float, ibis.Table]] = field(default_factory=dict)
    _tables: dict[str, ibis.Table] = field(default_factory=dict)
    _results: OrderedDict[Hashable, tuple[int, float, Any]] = field(default_factory=OrderedDict)

    def table(self, name: str) -> ibis.Table:
        """A store table as an Ibis expression (its schema looked up once, under the lock:
        one DuckDB connection serves every thread)."""
        with self.lock:
            found = self._tables.get(name)
            if found is None:
                found = self._tables[name] = self.con.table(name)
            return found

    # -- snapshots of derived relations ---------------------------------------------------------

    @property
    def max_age(self) -> float:
        """How long a snapshot or answer may be reused while this process wrote nothing."""
        return SNAPSHOT_MAX_AGE if self.engine == "postgres" else math.inf

    def changed(self) -> None:
        """Say that events, traits or entities changed: snapshots are stale. Call it while
        holding the write transaction (the lock), so no reader snapshots half-written data."""
        with self.lock:
            self.data_version += 1

    def snapshot(self, key: str, build: Callable[[], ibis.Table]) -> ibis.Table:
        """`build()` materialised as a temporary table and reused until the data changes.

        Entity attributes (a customer's creation, partner and plan; trait intervals) are read by
        almost every metric; computing them once per data version instead of once per query is
        what keeps a dashboard page fast.
        """
        with self.lock:
            held = self._snapshots.get(key)
            now = time.monotonic()
            if held and held[0] == self.data_version and now - held[1] < self.max_age:
                return held[2]
            name = "pulse_snapshot_" + re.sub(r"\W", "_", key)
            table = self.con.create_table(name, build(), temp=True, overwrite=True)
            self._snapshots[key] = (self.data_version, now, table)
            return table

    def cached(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """The result of `compute()` for `key`, remembered until the data changes (same rule as
        snapshots). A dashboard asks the same questions again and again between ingests."""
        with self.lock:
            version, now = self.data_version, time.monotonic()
            held = self._results.get(key)
            if held and held[0] == version and now - held[1] < self.max_age:
                self._results.move_to_end(key)
                return copy.deepcopy(held[2])
        result = compute()
        with self.lock:
            self._results[key] = (version, now, copy.deepcopy(result))
            self._results.move_to_end(key)
            while len(self._results) > RESULTS_KEPT:
                self._results.popitem(last=False)
        return result

    # -- schema ---------------------------------------------------------------------------------

    def schema_version(self) -> int:
        with self.transaction() as cur:
            cur.execute(
                "CREATE TABLE IF NOT EXISTS pulse_migrations "
                "(version INTEGER PRIMARY KEY, name VARCHAR, applied_at TIMESTAMPTZ)"
            )
            cur.execute("SELECT coalesce(max(version), 0) FROM pulse_migrations")
            rows = cur.fetchall()
        return int(rows[0][0]) if rows else 0

    def migrate(self) -> int:
        """Apply every migration not yet applied (by version, so one numbered lower than the
        highest applied still runs); return the schema version."""
        self.schema_version()  # creates pulse_migrations if needed
        with self.transaction() as cur:
            cur.execute("SELECT version FROM pulse_migrations")
            applied = {int(row[0]) for row in cur.fetchall()}
        for migration in MIGRATIONS:
            if migration.version in applied:
                continue
            with self.transaction() as cur:
                statements = migration.statements
                if self.engine == "postgres":
                    statements += migration.postgres_only
                for statement in statements:
                    cur.execute(statement)
                cur.execute(
                    self.placeholders("INSERT INTO pulse_migrations VALUES (?, ?, ?)"),
                    (migration.version, migration.name, datetime.now(UTC)),
                )
        self._tables.clear()
        return LATEST

    # -- writes ---------------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        """A DB-API cursor inside BEGIN ... COMMIT (ROLLBACK on any error), serialised."""
        with self.lock:
            raw: Any = self.con.con
            if self.engine == "postgres":
                with raw.transaction(), raw.cursor() as cur:
                    yield cur
                return
            cur = raw.cursor()
            cur.execute("SET TimeZone = 'UTC'")
            cur.execute("BEGIN TRANSACTION")
            try:
                yield cur
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            else:
                cur.execute("COMMIT")
            finally:
                cur.close()

    def insert_select(
        self, cur: Any, table: str, select: str, params: dict[str, Any] | None = None
    ) -> int:
        """INSERT the rows of a SELECT run on the same DuckDB connection (no copy through Arrow)."""
        cur.execute(f"INSERT INTO {table} {select} {ON_CONFLICT[table]}", params or {})
        rows = cur.fetchall()
        return int(rows[0][0]) if rows else 0

    def insert_events_returning(
        self, cur: Any, select: str | pa.Table, params: dict[str, Any] | None = None
    ) -> list[str]:
        """Insert events (a DuckDB SELECT, or Arrow rows) and return the ids actually stored."""
        if isinstance(select, pa.Table):
            return [str(r[0]) for r in self.insert_rows(cur, "events", select, returning=True)]
        cur.execute(
            f"INSERT INTO events {select} {ON_CONFLICT['events']} RETURNING message_id",
            params or {},
        )
        return [str(row[0]) for row in cur.fetchall()]

    def insert_rows(self, cur: Any, table: str, data: pa.Table, returning: bool = False) -> Any:
        """Insert Arrow rows; the stored count, or with `returning` the stored message ids."""
        if data.num_rows == 0:
            return [] if returning else 0
        conflict = ON_CONFLICT[table] + (" RETURNING message_id" if returning else "")
        columns = ", ".join(data.column_names)
        staged = f"staged_{table}"
        if self.engine == "duckdb":
            cur.register(staged, data)
            try:
                cur.execute(
                    f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {staged} {conflict}"
                )
                rows = cur.fetchall()
                if returning:
                    return rows
                return int(rows[0][0]) if rows else 0
            finally:
                cur.unregister(staged)
        cur.execute(f"DROP TABLE IF EXISTS {staged}")  # an earlier chunk of the same file
        cur.execute(
            f"CREATE TEMP TABLE {staged} ON COMMIT DROP AS SELECT {columns} FROM {table} LIMIT 0"
        )
        with cur.copy(f"COPY {staged} ({columns}) FROM STDIN") as copy:
            for record in data.to_pylist():
                copy.write_row(tuple(record.values()))
        cur.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {staged} {conflict}")
        return cur.fetchall() if returning else int(cur.rowcount)

    def placeholders(self, sql: str) -> str:
        """Our SQL uses `?` placeholders; psycopg wants `%s`."""
        return sql.replace("?", "%s") if self.engine == "postgres" else sql

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Run one parameterised statement (`?` placeholders) in its own transaction."""
        with self.transaction() as cur:
            cur.execute(self.placeholders(sql), params)
            return list(cur.fetchall()) if cur.description else []

    def close(self) -> None:
        with self.lock:
            self.con.disconnect()


def connect(url: str, *, migrate: bool = True) -> Store:
    """Open the store at `url`: a DuckDB file path (default) or a postgresql:// URL."""
    if url.startswith(POSTGRES_PREFIXES):
        con = ibis.connect(url.replace("postgresql://", "postgres://", 1))
        store = Store(url, con, "postgres")
    else:
        path = url.removeprefix("duckdb://")
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        con = ibis.duckdb.connect(path)
        con.raw_sql("SET TimeZone = 'UTC'")
        store = Store(url, con, "duckdb")
    if migrate:
        store.migrate()
    return store
