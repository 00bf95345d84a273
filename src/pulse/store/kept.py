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
from collections.abc import Hashable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pulse.store.store import Store

MISSING: Any = object()  # `KeptAnswers.get` found no current answer
BUMP_STAMP = "UPDATE pulse_state SET value = value + 1 WHERE name = 'data'"
FORGET_ALL = "DELETE FROM pulse_answers"
_GET = "SELECT answer FROM pulse_answers WHERE key = ? AND stamp = ?"
_ALL = "SELECT key, answer FROM pulse_answers WHERE stamp = ?"
# Written only if the data did not change while it was computed: a stale answer is never stored.
_PUT = (
    "INSERT INTO pulse_answers (key, stamp, answer, computed_at) "
    "SELECT ?, value, ?, ? FROM pulse_state WHERE name = 'data' AND value = ? "
    "ON CONFLICT (key) DO UPDATE SET stamp = excluded.stamp, answer = excluded.answer, "
    "computed_at = excluded.computed_at"
)


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
class KeptAnswers:
    """The answers of one store, read and written through its own connection and lock."""

    store: Store
    _stamp: tuple[int, int] | None = None  # (the store's data_version, the stamp) on DuckDB
    _pruned: int | None = None  # the stamp older answers were last deleted for
    _loaded: int | None = None  # the stamp `_texts` holds the kept answers of
    _texts: dict[str, str] = field(default_factory=dict)  # by key digest, not yet asked for

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
        with self.store.transaction() as cur:
            if self._pruned != stamp:
                cur.execute(
                    self.store.placeholders("DELETE FROM pulse_answers WHERE stamp < ?"), (stamp,)
                )
                self._pruned = stamp
            cur.execute(self.store.placeholders(_PUT), (digest, text, datetime.now(UTC), stamp))


def key_digest(key: Hashable) -> str | None:
    """A key that is the same in every process: the digest of the question's text (its
    dataclasses, dates and strings print the same everywhere) and of the code. None for a key
    holding an object printed by address, which no other process could name."""
    text = repr(key)
    if " at 0x" in text:
        return None
    return hashlib.sha256(f"{code_digest()}\n{text}".encode()).hexdigest()
