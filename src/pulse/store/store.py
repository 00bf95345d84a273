"""The store: one DuckDB file by default, or PostgreSQL, behind one Ibis connection.

Reads go through Ibis expressions (`metrics/`); the few writes use SQL that both engines accept
(`INSERT ... ON CONFLICT`), run in one transaction so a batch is stored whole or not at all.
Engine differences stay in this module.
"""

from __future__ import annotations

import copy
import logging
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

import duckdb
import ibis
import ibis.expr.operations as ops
import pandas as pd
import pyarrow as pa
from ibis.backends import BaseBackend

from pulse.store.kept import BUMP_STAMP, MISSING, KeptAnswers, WriteBehind
from pulse.store.kept_sql import KeptSql, sql_digest
from pulse.store.lock import FairLock
from pulse.store.schema import LATEST, MIGRATIONS

log = logging.getLogger(__name__)
POSTGRES_PREFIXES = ("postgres://", "postgresql://")
# A snapshot is rebuilt when this process changes the data. On PostgreSQL another process may
# write too, so snapshots (and remembered answers) also expire after this many seconds, so its
# writes show within a minute (SPEC §6); a DuckDB file has a single writing process.
SNAPSHOT_MAX_AGE = 60.0
RESULTS_KEPT = 4096  # answers remembered per store (least recently used dropped first)
CHANGES_KEPT = 1024  # data versions whose start time is remembered (for stale answers)
PART_MOST = 10_000  # entity ids a snapshot is rebuilt for in part; past this, it is rebuilt whole
PART_IDS = "pulse_part_ids"  # the temporary table of the ids a snapshot is rebuilt for
# The events appended since `events` was last rewritten in (event, ts) order from which it is
# rewritten again: that many, and a tenth of those in order (`Store.cluster_events`).
CLUSTER_FROM = 100_000
CLUSTER_SHARE = 0.1
ORDERED_EVENTS = "pulse_events_ordered"  # the copy of `events` in order, until swapped in
CLUSTER_SLICE = 500_000  # events copied in order per transaction (`Store._ordered_copy`)
# Questions the refresher keeps warm (see `Store.refresh`): the four default views ask 224,
# twice over in the minutes before midnight (today's and the next day's, `web/prime.py`).
ASKED_KEPT = 1024
COMPILED_KEPT = 4096  # compiled SQL remembered per store (least recently used dropped first)

# Ibis merges each query's nested selects into fewer before it writes the SQL; the engines'
# planners do the same anyway, and the merging is a sixth of compiling a page's queries (the
# program page on a new store: 13.0 s to 11.2 s, answers the same).
ibis.options.sql.fuse_selects = False

# Re-sent messages are skipped; an entity's first-seen time only moves earlier.
ON_CONFLICT = {
    "events": "ON CONFLICT DO NOTHING",
    "traits": "ON CONFLICT DO NOTHING",
    "entities": "ON CONFLICT (entity, entity_id) DO UPDATE SET "
    "first_seen = LEAST(entities.first_seen, excluded.first_seen)",
}


# What a write changed, for snapshots rebuilt in part: the (entity, entity_id) pairs whose events
# (a customer's, by user_id), traits or entity row it wrote; None when unknown (rebuild whole).
Touched = frozenset[tuple[str, str]] | None
# What an answer reads and a write writes, so an answer stays current through writes of other
# data: ("event", name) the events of a name, ("trait", entity kind, name) a trait's history,
# ("entity", kind) the entity rows of a kind, ("table", name) a table whole. ANY: anything
# (an answer read by an older process, or through SQL no token names). ("snapshot", name) says
# which snapshots an expression reads (`expression` brings them up to date); no write names one.
Token = tuple[str | None, ...]
Reads = frozenset[Token]
Wrote = frozenset[Token] | None  # None: unknown, every answer goes stale
ANY: Token = ("*",)


# A snapshot's build: `build()` makes all its rows; with a `Part`, `build(ids)` makes the rows
# of the ids in the table `ids` (one column, entity_id), as the whole build would.
Build = Callable[..., ibis.Table]


@dataclass(frozen=True)
class Part:
    """How a snapshot is rebuilt in part after a write: only its rows of the ids of `entity` the
    write touched, found in its `column`, made by its build given those ids; with `nulls` also
    the rows whose `column` is null (no write names them, so they are built again after every
    write). A write touching an entity of a kind in `whole_if` (what every row depends on)
    rebuilds the snapshot whole."""

    entity: str
    column: str
    nulls: bool = False
    whole_if: frozenset[str] = frozenset()


@dataclass(frozen=True)
class OrderedCopy:
    """An ordered copy of `events` (see `Store.cluster_events`): the last row id it holds and
    the erasure mark (`Store._erased`) when it was begun."""

    last: int
    erased: int


@dataclass(frozen=True)
class Held:
    """A remembered answer: the data version and moment it was computed at, what it read."""

    version: int
    at: float
    answer: Any
    reads: Reads


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
    lock: FairLock = field(default_factory=FairLock)
    data_version: int = 0  # bumped whenever events, traits or entities change
    _snapshots: dict[str, tuple[int, float, ibis.Table]] = field(default_factory=dict)
    _snapshot_builds: dict[str, tuple[Build, Part | None]] = field(default_factory=dict)
    _part_ids: ibis.Table | None = None  # see `_rebuilt_in_part`
    _expressions: OrderedDict[Hashable, tuple[Any, Reads]] = field(default_factory=OrderedDict)
    _snapshot_reads: dict[str, Reads] = field(default_factory=dict)
    compiled: CompiledSql | None = None  # set by `connect`
    kept: KeptAnswers | None = None  # answers kept in the store, set by `connect`
    computed: int = 0  # answers `cached` had to compute (for tests and benchmarks)
    whole_builds: int = 0  # snapshots built whole, and rebuilt in part (idem)
    part_builds: int = 0
    _asked: OrderedDict[Hashable, tuple[float, Callable[[], Any]]] = field(
        default_factory=OrderedDict
    )
    _tables: dict[str, ibis.Table] = field(default_factory=dict)
    _results: OrderedDict[Hashable, Held] = field(default_factory=OrderedDict)
    # Remembered answers have a lock of their own: a view reading one must not wait for the
    # query another thread runs on the connection (the refresher's, up to seconds at scale).
    _memo: threading.Lock = field(default_factory=threading.Lock)
    stale_for: float = 0.0  # seconds a view may read answers the data moved on from (refresher)
    # version: (when it began, the ids its write touched, what it wrote)
    _changes: OrderedDict[int, tuple[float, Touched, Wrote]] = field(default_factory=OrderedDict)
    _reading: threading.local = field(default_factory=threading.local)  # see `reads`
    _erased: int = 0  # the version a customer's data was last erased at (see `changed`)
    _readers: threading.local = field(default_factory=threading.local)  # see `read`
    _reader_cursors: list[Any] = field(default_factory=list)

    def table(self, name: str, reads: Reads | None = None) -> ibis.Table:
        """A store table as an Ibis expression (its schema looked up once, under the lock:
        one DuckDB connection serves every thread). `reads`: the part of it the caller reads
        (see `Token`; default the whole table)."""
        self.reads(reads or frozenset({("table", name)}))
        found = self._tables.get(name)  # known: no need to wait for the connection
        if found is not None:
            return found
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

    def changed(
        self,
        cur: Any,
        *,
        touched: Touched = None,
        wrote: Wrote = None,
        erasing: bool = False,
    ) -> None:
        """Say that events, traits, entities or targets change in the transaction `cur`:
        snapshots and answers are stale. The stored data stamp is bumped in that transaction,
        so answers kept in the store (`store/kept.py`) go stale exactly when it commits. Call it
        while holding the transaction (the lock), so no reader snapshots half-written data.
        `touched` (the ids whose data the write changes) lets snapshots be rebuilt in part;
        `wrote` (what it writes, see `Token`) keeps the answers that read none of it current;
        `erasing` (a customer's personal data) also forbids serving any earlier answer stale."""
        with self.lock:
            self.data_version += 1
            with self._memo:
                self._changes[self.data_version] = (time.monotonic(), touched, wrote)
                while len(self._changes) > CHANGES_KEPT:
                    self._changes.popitem(last=False)
                if erasing:
                    self._erased = self.data_version
            if erasing:  # what waits to be kept may name the customer (the kept go too)
                for rows in self._waiting():
                    rows.drop()
            cur.execute(BUMP_STAMP)

    def reads(self, tokens: Reads) -> None:
        """Say that the computation under way on this thread reads `tokens`: every answer being
        computed (`cached`, nested) and expression or snapshot being built records them."""
        for reading in getattr(self._reading, "stack", ()):
            reading.update(tokens)

    @contextmanager
    def _recording(self) -> Iterator[set[Token]]:
        """Collect what the code run inside reads (see `reads`); the recordings around this
        one collect it too."""
        stack: list[set[Token]] = self._reading.__dict__.setdefault("stack", [])
        got: set[Token] = set()
        stack.append(got)
        try:
            yield got
        finally:
            stack.pop()

    def snapshot(
        self,
        key: str,
        build: Build,
        part: Part | None = None,
    ) -> ibis.Table:
        """`build()` materialised as a temporary table and reused until the data changes.

        Entity attributes (a customer's creation, partner and plan; trait intervals) are read by
        almost every metric; computing them once per data version instead of once per query is
        what keeps a dashboard page fast. It stays current through writes of nothing its build
        read (see `Token`); after a write of something it read, a snapshot with a `part` is
        rebuilt only for the entity ids the write touched (`_rebuilt_in_part`). The age limit on
        PostgreSQL (`max_age`) counts from its last whole build, as other processes' writes are
        not known here.
        """
        with self.lock:
            self.reads(frozenset({("snapshot", key)}))  # for `expression` (no write names it)
            self._snapshot_builds[key] = (build, part)
            held = self._snapshots.get(key)
            now = time.monotonic()
            if held and now - held[1] < self.max_age:
                version, built_at, table = held
                reads = self._snapshot_reads.get(key, frozenset({ANY}))
                self.reads(reads)
                with self._memo:
                    current = self._unwritten(version, reads)
                if not current:
                    try:
                        current = self._rebuilt_in_part(table, version, build, part)
                    except Exception:  # a bug in a part's build: the whole build still answers
                        log.exception("rebuilding snapshot %s in part failed", key)
                if current:
                    self._snapshots[key] = (self.data_version, built_at, table)
                    return table
            self.whole_builds += 1
            name = "pulse_snapshot_" + re.sub(r"\W", "_", key)
            with self._recording() as got:
                built = build()
            self._snapshot_reads[key] = frozenset(got)
            table = self.con.create_table(name, built, temp=True, overwrite=True)
            self._snapshots[key] = (self.data_version, now, table)
            return table

    def _since(self, version: int) -> list[tuple[float, Touched, Wrote]] | None:
        """The changes after data `version` (see `changed`); None if one is no longer
        remembered. Call it holding `_memo`."""
        changes = []
        for later in range(version + 1, self.data_version + 1):
            change = self._changes.get(later)
            if change is None:
                return None
            changes.append(change)
        return changes

    def _touched_since(self, version: int) -> Touched:
        """Every (entity, id) the writes after `version` touched; None if unknown."""
        with self._memo:
            changes = self._since(version)
        if changes is None:
            return None
        touched: set[tuple[str, str]] = set()
        for _, ids, _ in changes:
            if ids is None:
                return None
            touched |= ids
            if len(touched) > 2 * PART_MOST:
                return None
        return frozenset(touched)

    def _rebuilt_in_part(
        self, table: ibis.Table, version: int, build: Build, part: Part | None
    ) -> bool:
        """Bring `table`, the snapshot of data `version`, up to date by replacing only the rows
        of the ids the writes since touched; False if it must be rebuilt whole (it has no
        `part`, what they touched is unknown, or too many ids)."""
        touched = self._touched_since(version)
        if touched is None or part is None:
            return False
        if any(entity in part.whole_if for entity, _ in touched):
            return False
        ids = sorted({entity_id for entity, entity_id in touched if entity == part.entity})
        if len(ids) > PART_MOST:
            return False
        if not ids and not (part.nulls and touched):
            return True
        if self._part_ids is None:
            schema = ibis.schema({"entity_id": "string"})
            self._part_ids = self.con.create_table(
                PART_IDS, schema=schema, temp=True, overwrite=True
            )
        rows = build(self._part_ids)
        sql = self.con.compile(rows)
        columns = ", ".join(f'"{column}"' for column in rows.columns)
        name = table.get_name()
        replaced = f'"{part.column}" IN (SELECT entity_id FROM {PART_IDS})'
        if part.nulls:
            replaced += f' OR "{part.column}" IS NULL'
        with self.transaction(temporary=True) as cur:
            cur.execute(f"DELETE FROM {PART_IDS}")
            cur.execute(
                self.placeholders(f"INSERT INTO {PART_IDS} SELECT unnest(CAST(? AS VARCHAR[]))"),
                (ids,),
            )
            cur.execute(f"DELETE FROM {name} WHERE {replaced}")
            cur.execute(f"INSERT INTO {name} ({columns}) SELECT {columns} FROM ({sql}) AS part")
        self.part_builds += 1
        return True

    def expression(self, key: Hashable, build: Callable[[], Any]) -> Any:
        """The Ibis expression `build()` makes for `key`, built once per store.

        A question's expression does not depend on the data, only on the snapshots it reads
        (which keep their table names), so when new data arrives only those snapshots are
        rebuilt: the expression is neither built nor compiled again (see `CompiledSql`).
        """
        with self.lock:
            held = self._expressions.get(key)
            if held is not None:
                self._expressions.move_to_end(key)
                expression, reads = held
                self.reads(reads)
                for name in (str(token[1]) for token in reads if token[0] == "snapshot"):
                    self.snapshot(name, *self._snapshot_builds[name])
                return expression
            with self._recording() as got:
                expression = build()
            self._expressions[key] = (expression, frozenset(got))
            while len(self._expressions) > RESULTS_KEPT:
                self._expressions.popitem(last=False)
            return expression

    def cached(
        self,
        key: Hashable,
        compute: Callable[[], Any],
        *,
        asked: bool = False,
        stale_ok: bool = False,
    ) -> Any:
        """The result of `compute()` for `key`, remembered until the data changes (same rule as
        snapshots). A dashboard asks the same questions again and again between ingests.

        `asked` marks a question a user asked (a metric or table answer, plain JSON): it is
        also kept in the store for other processes and the next start (`store/kept.py`), and
        `refresh` computes it again in the background after new data arrives, so the next view
        of it is warm. `stale_ok` (a dashboard view) takes the answer remembered before the
        data changed while the refresher computes it again, if that change is under
        `stale_for` seconds old (see `_servable`): the view does not wait for the queries.
        Only a view's own answer may be stale: one computed from others (a table asking
        metrics) reads them current, or it would be remembered as current on stale numbers."""
        stale_ok = stale_ok and not getattr(self._reading, "stack", None)
        now = time.monotonic()
        with self._memo:
            if asked:
                self._asked[key] = (now, compute)
                self._asked.move_to_end(key)
                while len(self._asked) > ASKED_KEPT:
                    self._asked.popitem(last=False)
            held = self._results.get(key)
            if held is not None and self._servable(key, held, now, stale_ok):
                self._results.move_to_end(key)
            else:
                held = None
        if held is not None:
            self.reads(held.reads)
            return copy.deepcopy(held.answer)  # outside the lock: a big table takes a while
        return self._compute(key, compute, self.kept if asked else None)

    def _servable(self, key: Hashable, held: Held, now: float, stale_ok: bool) -> bool:
        """Whether `held` may be served `now`: it is current (and younger than `max_age`), or
        `stale_ok` and the data it misses is younger than `stale_for` (SPEC §6: every
        dashboard number current within a minute of ingestion). Call it holding `_memo`."""
        if now - held.at >= self.max_age:
            return False
        if self._current(key, held):
            return True
        if not stale_ok or held.version < self._erased:
            return False
        change = self._changes.get(held.version + 1)  # the data it misses: when it arrived
        return change is not None and now - change[0] < self.stale_for

    def _current(self, key: Hashable, held: Held) -> bool:
        """Whether `held` is an answer on the current data: computed from it, or no write since
        wrote anything it reads (then it is marked current, so the next look is one compare).
        Call it holding `_memo`."""
        if not self._unwritten(held.version, held.reads):
            return False
        if held.version != self.data_version:
            self._results[key] = Held(self.data_version, held.at, held.answer, held.reads)
        return True

    def _unwritten(self, version: int, reads: Reads) -> bool:
        """Whether no write after data `version` wrote anything in `reads` (and every one of them
        said what it wrote). Call it holding `_memo`."""
        if version == self.data_version:
            return True
        if ANY in reads:
            return False
        changes = self._since(version)
        if changes is None:
            return False
        return all(wrote is not None and reads.isdisjoint(wrote) for _, _, wrote in changes)

    def _compute(self, key: Hashable, compute: Callable[[], Any], kept: KeptAnswers | None) -> Any:
        """`compute()` (or the answer `kept` holds for the current data), remembered."""
        with self.lock:
            version, now = self.data_version, time.monotonic()
            stamp = kept.stamp() if kept else 0
        result = kept.get(key, stamp) if kept else MISSING
        computed = result is MISSING
        reads: Reads = frozenset({ANY})  # what a kept answer read is not known
        if computed:
            with self._recording() as got:
                result = compute()
            reads = frozenset(got)
            if kept:
                kept.put(key, stamp, result)
        else:
            self.reads(reads)
        remembered = copy.deepcopy(result)  # the caller may change `result`
        with self._memo:
            self.computed += computed
            self._results[key] = Held(version, now, remembered, reads)
            self._results.move_to_end(key)
            while len(self._results) > RESULTS_KEPT:
                self._results.popitem(last=False)
        return result

    def refresh(self, within: float = 900.0, older_than: float | None = None) -> int:
        """Compute again the answers users asked in the last `within` seconds that are stale
        (the data changed, or they are older than `older_than`), most recent first; return how
        many. The refresher (`store/refresher.py`) calls it after new data arrives. The stale
        answer stays remembered until its new one replaces it, for views that may read it."""
        older_than = self.max_age if older_than is None else older_than
        with self._memo:
            now = time.monotonic()
            recent = [
                (key, compute)
                for key, (when, compute) in reversed(self._asked.items())
                if now - when < within
            ]
        done = 0
        for key, compute in recent:
            with self._memo:
                held = self._results.get(key)
                if (
                    held is not None
                    and time.monotonic() - held.at < older_than
                    and self._current(key, held)
                ):
                    continue
            try:
                self._compute(key, compute, self.kept)
            except Exception:  # one failing question must not keep the others cold
                log.exception("refreshing %r failed", key)
                continue
            done += 1
        self.flush_kept()
        return done

    # -- the order events are stored in ----------------------------------------------------------

    def cluster_events(self, *, least: int | None = None) -> bool:
        """Rewrite the DuckDB `events` table in (event, ts) order if at least `least` events
        (default: `CLUSTER_FROM`, and a tenth of those in order) were appended since its last
        rewrite; whether it did.

        Nearly every question reads the events of a few names. Stored in arrival order, each
        name's rows are spread over every row group, and every question scans them all (11 M
        events at `large`: about 40 ms of each question); in name order, DuckDB skips the row
        groups of other names by their min/max. Events appended later stay in arrival order at
        the end, until the next rewrite. The data does not change: no snapshot or answer goes
        stale. PostgreSQL has an index on (event, ts) instead.

        The ordered copy is made without the store's lock (30 s at `large`), so ingestion goes
        on meanwhile; under the lock, the events that arrived since are added and the tables
        swapped (`_swap_ordered`)."""
        if self.engine != "duckdb" or not self._clustering_due(least):
            return False
        return self._swap_ordered(self._ordered_copy())

    def _clustering_due(self, least: int | None) -> bool:
        with self.transaction() as cur:
            cur.execute("SELECT value FROM pulse_state WHERE name = 'clustered'")
            clustered = int(cur.fetchall()[0][0])
            cur.execute("SELECT count(*) FROM events")
            total = int(cur.fetchall()[0][0])
        if least is None:
            least = max(CLUSTER_FROM, math.ceil(CLUSTER_SHARE * clustered))
        return total - clustered >= max(least, 1)

    def _ordered_copy(self) -> OrderedCopy:
        """`events` as committed now, copied in (event, ts) order into ORDERED_EVENTS (with the
        table's own DDL, so its key too), on a connection of its own: writers do not wait for
        our lock. The copy is committed in slices of about CLUSTER_SLICE events: DuckDB commits
        one transaction at a time, and one commit of every event (updating the key's index)
        held other writers' commits for 6 s at `large`."""
        erased = self._erased
        with self.lock:
            cur = self.con.con.cursor()
        try:
            cur.execute("SET preserve_insertion_order = true")
            cur.execute(f"DROP TABLE IF EXISTS {ORDERED_EVENTS}")
            cur.execute(
                "SELECT sql FROM duckdb_tables() WHERE table_name = 'events' "
                "AND schema_name = 'main' AND database_name = current_database()"
            )
            ddl = str(cur.fetchall()[0][0])
            cur.execute(ddl.replace("CREATE TABLE events", f"CREATE TABLE {ORDERED_EVENTS}", 1))
            cur.execute("SELECT coalesce(max(rowid), -1) FROM events")
            last = int(cur.fetchall()[0][0])
            for where, params in _slices(cur, last):
                cur.execute("BEGIN TRANSACTION")
                try:
                    cur.execute(
                        f"INSERT INTO {ORDERED_EVENTS} SELECT * FROM events "
                        f"WHERE rowid <= ? AND {where} ORDER BY event, ts",
                        (last, *params),
                    )
                except BaseException:
                    cur.execute("ROLLBACK")
                    raise
                cur.execute("COMMIT")
            try:  # written to the file here, not by the swap's commit under our lock
                cur.execute("CHECKPOINT")
            except duckdb.TransactionException:  # another write under way: the swap's then
                log.info("no checkpoint after the ordered copy", exc_info=True)
        finally:
            cur.close()
        return OrderedCopy(last, erased)

    def _swap_ordered(self, made: OrderedCopy) -> bool:
        """Under the lock: add to the ordered copy the events appended since it was made (row
        ids past its last), then put it in place of `events`; whether it was. Events are only
        ever appended, except by an erasure (a payload scrubbed in place): after one, the copy
        holds what was erased, so it is dropped, to be made again next time."""
        with self.transaction() as cur:
            if self._erased != made.erased:
                cur.execute(f"DROP TABLE {ORDERED_EVENTS}")
                log.info("events not rewritten in order: an erasure came during the copy")
                return False
            cur.execute(
                f"INSERT INTO {ORDERED_EVENTS} SELECT * FROM events WHERE rowid > ? "
                "ORDER BY event, ts",
                (made.last,),
            )
            cur.execute(f"SELECT count(*) FROM {ORDERED_EVENTS}")
            total = int(cur.fetchall()[0][0])
            cur.execute("SELECT count(*) FROM events")
            if int(cur.fetchall()[0][0]) != total:  # never expected: keep events as they are
                raise RuntimeError("the ordered copy of events misses events; not swapped")
            cur.execute("DROP TABLE events")
            cur.execute(f"ALTER TABLE {ORDERED_EVENTS} RENAME TO events")
            cur.execute("UPDATE pulse_state SET value = ? WHERE name = 'clustered'", (total,))
        log.info("events rewritten in (event, ts) order: %d", total)
        return True

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
        self._expressions.clear()
        return LATEST

    # -- writes ---------------------------------------------------------------------------------

    @contextmanager
    def transaction(self, *, temporary: bool = False) -> Iterator[Any]:
        """A DB-API cursor inside BEGIN ... COMMIT (ROLLBACK on any error), serialised.

        `temporary`: on the connection Ibis reads through, the only one that sees its
        temporary tables (snapshots); on DuckDB a cursor is a connection of its own."""
        with self.lock:
            raw: Any = self.con.con
            if self.engine == "postgres":
                with raw.transaction(), raw.cursor() as cur:
                    yield cur
                return
            cur = raw if temporary else raw.cursor()
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
                if not temporary:
                    cur.close()

    def insert_select(
        self, cur: Any, table: str, select: str, params: dict[str, Any] | None = None
    ) -> int:
        """INSERT the rows of a SELECT run on the same DuckDB connection (no copy through Arrow)."""
        cur.execute(f"INSERT INTO {table} {select} {ON_CONFLICT[table]}", params or {})
        rows = cur.fetchall()
        return int(rows[0][0]) if rows else 0

    def append_select(
        self, cur: Any, table: str, select: str, params: dict[str, Any] | None = None
    ) -> int:
        """INSERT rows known to be new (the caller dropped the stored keys first), on DuckDB.

        A plain INSERT: DuckDB runs `ON CONFLICT` as a merge that checks row by row, five to
        six times slower on a large import (on a few thousand rows the merge is the cheaper).
        The key still guards: a stored key fails the write.
        """
        cur.execute(f"INSERT INTO {table} {select}", params or {})
        rows = cur.fetchall()
        return int(rows[0][0]) if rows else 0

    def insert_events_returning(self, cur: Any, data: pa.Table) -> list[str]:
        """Insert events given as Arrow rows and return the ids actually stored."""
        return [str(r[0]) for r in self.insert_rows(cur, "events", data, returning=True)]

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

    def read(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Run one parameterised query of committed rows without waiting for the store's lock.

        For a lookup on every request (a write key): on DuckDB each thread reads on a connection
        of its own, beside a write transaction under way, instead of queueing behind its commit.
        PostgreSQL reads take the lock as `execute` does (one connection per process).
        """
        if self.engine != "duckdb":
            return self.execute(sql, params)
        cur = self._reader()
        cur.execute(sql, params)
        return list(cur.fetchall())

    def frame(self, expr: ibis.Table) -> pd.DataFrame:
        """The rows of `expr`, run on the store's connection (one statement at a time)."""
        with self.lock:
            frame: pd.DataFrame = self.con.to_pandas(expr)
        return frame

    def read_frame(self, expr: ibis.Table) -> pd.DataFrame:
        """The rows of `expr` as `read` reads them, without waiting for the store's lock: for
        a table of store tables computed on every view (alerts, the audit log), which would
        otherwise wait for a background computation's query. Not for a snapshot (a temporary
        table only the store's own connection sees)."""
        if self.engine != "duckdb":
            return self.frame(expr)
        frame: pd.DataFrame = self._reader().execute(self.con.compile(expr)).df()
        return frame

    def _reader(self) -> Any:
        """This thread's DuckDB connection for `read` (its own; made once)."""
        cur = getattr(self._readers, "cur", None)
        if cur is None:
            with self.lock:
                cur = self._readers.cur = self.con.con.cursor()
                cur.execute("SET TimeZone = 'UTC'")
                self._reader_cursors.append(cur)
        return cur

    def _waiting(self) -> list[WriteBehind]:
        """The answers and compiled SQL waiting to be kept (see `kept.WriteBehind`)."""
        waiting = [self.kept.waiting] if self.kept is not None else []
        if self.compiled is not None and self.compiled.kept_sql is not None:
            waiting.append(self.compiled.kept_sql.waiting)
        return waiting

    def flush_kept(self) -> None:
        """Write the answers and compiled SQL waiting to be kept."""
        for rows in self._waiting():
            rows.flush()

    def close(self) -> None:
        self.flush_kept()
        with self.lock:
            for cur in self._reader_cursors:
                cur.close()
            self.con.disconnect()


def _slices(cur: Any, last: int) -> list[tuple[str, tuple[Any, ...]]]:
    """Conditions cutting the events up to row id `last` into slices of about CLUSTER_SLICE
    rows that follow one another in (event, ts) order: consecutive names together, a name with
    more events cut by time at its quantiles; the events without a name last."""
    cur.execute(
        "SELECT event, count(*) FROM events WHERE rowid <= ? AND event IS NOT NULL "
        "GROUP BY event ORDER BY event",
        (last,),
    )
    slices: list[tuple[str, tuple[Any, ...]]] = []
    names: list[str] = []
    size = 0

    def flush() -> None:
        nonlocal size
        if names:
            marks = ", ".join("?" * len(names))
            slices.append((f"event IN ({marks})", tuple(names)))
        names.clear()
        size = 0

    for name, count in cur.fetchall():
        if count <= CLUSTER_SLICE:
            if size + count > CLUSTER_SLICE:
                flush()
            names.append(name)
            size += count
            continue
        flush()
        parts = math.ceil(count / CLUSTER_SLICE)
        cur.execute(
            "SELECT quantile_disc(ts, ?) FROM events WHERE rowid <= ? AND event = ?",
            ([i / parts for i in range(1, parts)], last, name),
        )
        cuts = list(cur.fetchall()[0][0])
        for lower, upper in zip([None, *cuts], [*cuts, None], strict=True):
            where, params = ["event = ?"], [name]
            if lower is not None:
                where.append("ts >= ?")
                params.append(lower)
            if upper is not None:
                where.append("ts < ?")
                params.append(upper)
            slices.append((" AND ".join(where), tuple(params)))
    flush()
    slices.append(("event IS NULL", ()))
    return slices


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
    store.compiled = CompiledSql(con.compile)
    con.compile = store.compiled
    con._run_pre_execute_hooks = HooksOnce(con._run_pre_execute_hooks)
    if migrate:
        store.migrate()
    store.kept = KeptAnswers(store)
    store.compiled.kept_sql = KeptSql(store)
    return store


@dataclass
class CompiledSql:
    """The SQL `con` compiled, remembered per expression; installed as `con.compile`.

    Compiling an Ibis expression costs about as much as running it on DuckDB. The SQL of a
    question does not depend on the data (snapshots keep their table names), so when new data
    arrives every answer is computed again but none is compiled again. An expression keys its
    SQL itself, and so does its digest (`kept_sql.py`): the same question built again differs
    from the first build in Ibis' reference serials only, which the digest numbers by its own
    walk. The SQL is also kept in the store under the digest, for the next process.
    """

    compile_sql: Callable[..., Any]
    kept: int = COMPILED_KEPT
    compiles: int = 0  # expressions actually compiled (for tests and benchmarks)
    kept_sql: KeptSql | None = None  # SQL kept in the store, set by `connect`
    _sql: OrderedDict[Hashable, str] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(
        self, expr: Any, /, *, limit: Any = None, params: Any = None, pretty: bool = False
    ) -> str:
        if params or pretty:
            return str(self.compile_sql(expr, limit=limit, params=params, pretty=pretty))
        op = expr.op()
        with self._lock:
            sql = self._sql.get((op, limit))
        if sql is not None:
            return sql
        digest = sql_digest(op, limit)  # the same for the same question built again
        if digest is not None:
            with self._lock:
                sql = self._sql.get(digest)
            if sql is None and self.kept_sql is not None:
                sql = self.kept_sql.get(digest)  # compiled by another process, or before
        if sql is None:
            sql = str(self.compile_sql(expr, limit=limit))
            self.compiles += 1
            if digest is not None and self.kept_sql is not None:
                self.kept_sql.put(digest, sql)
        with self._lock:
            self._sql[(op, limit)] = sql
            if digest is not None:
                self._sql[digest] = sql
            while len(self._sql) > self.kept:
                self._sql.popitem(last=False)
        return sql


@dataclass
class HooksOnce:
    """Ibis' hooks run before an execution, run once per expression; installed on `con`.

    They register the in-memory tables and UDFs an expression uses, walking its whole graph four
    times on every execution: a seventh of a page's time after new data, when every question
    already built runs again. What they registered stays while the expression lives, and the
    expressions seen are kept alive here.
    """

    run: Callable[[Any], None]
    kept: int = COMPILED_KEPT
    _seen: OrderedDict[ops.Node, None] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, expr: Any) -> None:
        op = expr.op()
        with self._lock:
            if op in self._seen:
                self._seen.move_to_end(op)
                return
        self.run(expr)
        with self._lock:
            self._seen[op] = None
            while len(self._seen) > self.kept:
                self._seen.popitem(last=False)
