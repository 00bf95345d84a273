"""Answers kept in the store itself, so they outlive the process that computed them.

A dashboard's default view takes seconds to compute at scale. Kept in memory only, it was
computed again by every restart of `pulse serve` and by every other process on the same
PostgreSQL store. Each answer is stored with the *data stamp* it was computed from: a counter
that every write of events, traits, entities or targets bumps in its own transaction (see
`Store.changed`), so an answer is served only while the stored data is exactly the data it was
computed from. Answers are also keyed by a digest of Pulse's code and of the engines' versions:
after an upgrade they are computed again.

Answers are plain JSON (dicts, lists, strings, numbers), stored as JSON text: nothing read back
from the store is ever executed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pulse.store.store import Store

log = logging.getLogger(__name__)

MISSING: Any = object()  # `KeptAnswers.get` found no current answer
FLUSH_AT = 64  # rows waiting to be kept that are written at once (see `WriteBehind`)
FLUSH_AFTER = 2.0  # seconds the oldest row waiting is written after, at the latest add
BUMP_STAMP = "UPDATE pulse_state SET value = value + 1 WHERE name = 'data'"
FORGET_ALL = "DELETE FROM pulse_answers"
_GET = "SELECT answer FROM pulse_answers WHERE key = ? AND stamp = ?"
_ALL = "SELECT key, answer FROM pulse_answers WHERE stamp = ?"
# Written only if the data did not change while it was computed: a stale answer is never stored.
# {rows}: one `_ROW` per answer (see `insert_rows`).
_PUT = (
    "INSERT INTO pulse_answers (key, stamp, answer, computed_at) "
    "SELECT v.key, s.value, v.answer, v.computed "
    "FROM (VALUES {rows}) AS v(key, answer, computed, stamp) "
    "JOIN pulse_state AS s ON s.name = 'data' AND s.value = v.stamp "
    "ON CONFLICT (key) DO UPDATE SET stamp = excluded.stamp, answer = excluded.answer, "
    "computed_at = excluded.computed_at"
)
_ROW = "(CAST(? AS VARCHAR), CAST(? AS VARCHAR), CAST(? AS TIMESTAMPTZ), CAST(? AS BIGINT))"


@cache
def code_digest() -> str:
    """What an answer depends on besides the data and the question: Pulse's source and the
    versions of the engines that compute it."""
    digest = hashlib.sha256()
    root = Path(__file__).resolve().parents[1]
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    for dist in ("duckdb", "ibis-framework", "statsmodels"):
        digest.update(version(dist).encode())
    return digest.hexdigest()


@dataclass
class WriteBehind:
    """Rows to keep in the store, written many in one statement (`insert_rows`): each INSERT
    costs DuckDB 3–4 ms whatever its size, and a page keeps dozens of answers and compiled
    queries. They are written once FLUSH_AT wait, or when one more comes after the oldest
    waited FLUSH_AFTER seconds, and by `flush` (`Store.flush_kept`: when the store closes,
    after priming, after a refresh and at each look of the refresher). What waits only saves
    another process work: lost with this one, it is computed again. A failed write is logged
    and dropped for the same reason."""

    store: Store
    write: Callable[[Any, list[tuple[Any, ...]]], None]  # (cursor, rows) in a transaction
    what: str  # what the rows are, for the log
    _rows: list[tuple[Any, ...]] = field(default_factory=list)
    _since: float = 0.0  # when the oldest row waiting came
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, row: tuple[Any, ...]) -> None:
        now = time.monotonic()
        with self._lock:
            if not self._rows:
                self._since = now
            self._rows.append(row)
            due = len(self._rows) >= FLUSH_AT or now - self._since >= FLUSH_AFTER
        if due:
            self.flush()

    def drop(self) -> None:
        """Forget the rows waiting (a customer's erasure: they may name the customer)."""
        with self._lock:
            self._rows = []

    def flush(self) -> None:
        with self._lock:
            rows, self._rows = self._rows, []
        if not rows:
            return
        try:
            with self.store.transaction() as cur:
                self.write(cur, rows)
        except Exception:  # a store without the table (not migrated) or a broken connection
            log.warning("keeping %d %s failed", len(rows), self.what, exc_info=True)


@dataclass
class KeptAnswers:
    """The answers of one store, read and written through its own connection and lock."""

    store: Store
    _stamp: tuple[int, int] | None = None  # (the store's data_version, the stamp) on DuckDB
    _pruned: int | None = None  # the stamp older answers were last deleted for
    _loaded: int | None = None  # the stamp `_texts` holds the kept answers of
    _texts: dict[str, str] = field(default_factory=dict)  # by key digest, not yet asked for
    waiting: WriteBehind = field(init=False)  # rows to keep, written later

    def __post_init__(self) -> None:
        self.waiting = WriteBehind(self.store, self._write, "answers")

    def stamp(self) -> int:
        """The stored data's stamp. On DuckDB only this process writes, so it is read again
        only after this process changed the data; PostgreSQL is asked every time."""
        with self.store.lock:
            known = self._stamp
            if self.store.engine == "duckdb" and known and known[0] == self.store.data_version:
                return known[1]
            rows = self.store.execute("SELECT value FROM pulse_state WHERE name = 'data'")
            self._stamp = (self.store.data_version, int(rows[0][0]))
            return self._stamp[1]

    def get(self, key: Hashable, stamp: int) -> Any:
        """The answer kept for `key` on the data of `stamp` (see `stamp`), or MISSING.

        The first look on new data reads every answer kept for it in one query (a page asks
        for dozens, one query each cost more than the page's own work); one not among them may
        have been kept since, by another connection, and is looked up alone."""
        digest = key_digest(key)
        if digest is None:
            return MISSING
        with self.store.lock:
            if self._loaded != stamp:
                rows = self.store.execute(_ALL, (stamp,))
                self._texts, self._loaded = {str(k): str(text) for k, text in rows}, stamp
            text = self._texts.pop(digest, None)  # remembered in memory from now on
        if text is None:
            rows = self.store.execute(_GET, (digest, stamp))
            text = rows[0][0] if rows else None
        return MISSING if text is None else json.loads(text)

    def put(self, key: Hashable, stamp: int, answer: Any) -> None:
        """Keep `answer`, computed from the data of `stamp`, unless the data changed since.
        Answers of older data are deleted on the way (they would never be served again; the
        stamp only grows)."""
        digest = key_digest(key)
        if digest is None:
            return
        text = json.dumps(answer, separators=(",", ":"))
        self.waiting.add((digest, text, datetime.now(UTC), stamp))

    def _write(self, cur: Any, rows: list[tuple[Any, ...]]) -> None:
        stamp = max(row[3] for row in rows)
        if self._pruned != stamp:
            cur.execute(
                self.store.placeholders("DELETE FROM pulse_answers WHERE stamp < ?"), (stamp,)
            )
            self._pruned = stamp
        insert_rows(self.store, cur, _PUT, _ROW, rows)


def insert_rows(store: Store, cur: Any, sql: str, row: str, rows: list[tuple[Any, ...]]) -> None:
    """Run `sql` once for all `rows`, its `{rows}` spelled as one `row` each, one per key
    (their first item; the last row of a key: a question computed again before they were
    written). One INSERT ... ON CONFLICT costs DuckDB 3–4 ms whatever its size: 64 in one
    statement take about 0.3 ms each."""
    latest = list({r[0]: r for r in rows}.values())
    spelled = sql.format(rows=", ".join([row] * len(latest)))
    cur.execute(store.placeholders(spelled), [value for r in latest for value in r])


def key_digest(key: Hashable) -> str | None:
    """A key that is the same in every process: the digest of the question's text (its
    dataclasses, dates and strings print the same everywhere) and of the code. None for a key
    holding an object printed by address, which no other process could name."""
    text = repr(key)
    if " at 0x" in text:
        return None
    return hashlib.sha256(f"{code_digest()}\n{text}".encode()).hexdigest()
