"""The SQL of questions, kept in the store so a new process does not compile them again.

Compiling an Ibis expression to SQL is most of the cost of a question asked for the first time
in a process: a process that starts after new data arrived computes every answer again, and
without this also compiles every query again (more than half of a cold page at `large`).

A compiled query is keyed by a digest of its expression that is the same in every process: the
digest walks the expression's whole graph (every operation's class and arguments: names,
types, literals) together with Pulse's code digest (`kept.py`), so the same SQL is read back only
for the very same expression compiled by the very same code. An expression holding anything
the digest cannot spell out (an in-memory table, a function) is simply not kept.
"""

from __future__ import annotations

import enum
import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import ibis.expr.operations as ops
from ibis.common.grounds import Concrete

from pulse.store.kept import WriteBehind, code_digest, insert_rows

if TYPE_CHECKING:
    from pulse.store.store import Store

log = logging.getLogger(__name__)

FORGET_COMPILED = "DELETE FROM pulse_compiled"
KEPT_DAYS = 14  # a query's literals hold its dates: older SQL is rarely asked again
_GET = "SELECT sql FROM pulse_compiled WHERE key = ?"
_PUT = (
    "INSERT INTO pulse_compiled (key, sql, compiled_at) VALUES {rows} ON CONFLICT (key) DO NOTHING"
)
_ROW = "(CAST(? AS VARCHAR), CAST(? AS VARCHAR), CAST(? AS TIMESTAMPTZ))"
_PRUNE = "DELETE FROM pulse_compiled WHERE compiled_at < ?"


class Unkeyable(Exception):
    """The expression holds a value no other process could name."""


@dataclass
class KeptSql:
    """Compiled SQL read from and written to one store. A failure to read or keep SQL is
    logged and the query compiled as without it: keeping is never worth a failed answer."""

    store: Store
    _pruned: date | None = None  # the day older SQL was last deleted on (once a day)
    waiting: WriteBehind = field(init=False)  # rows to keep, written later

    def __post_init__(self) -> None:
        self.waiting = WriteBehind(self.store, self._write, "compiled queries")

    def get(self, digest: str) -> str | None:
        try:
            rows = self.store.execute(_GET, (digest,))
        except Exception:  # a store without the table (not migrated) or a broken connection
            log.warning("reading kept SQL failed", exc_info=True)
            return None
        return str(rows[0][0]) if rows else None

    def put(self, digest: str, sql: str) -> None:
        self.waiting.add((digest, sql, datetime.now(UTC)))

    def _write(self, cur: Any, rows: list[tuple[Any, ...]]) -> None:
        now = datetime.now(UTC)
        if self._pruned != now.date():
            cur.execute(self.store.placeholders(_PRUNE), (now - timedelta(KEPT_DAYS),))
            self._pruned = now.date()
        insert_rows(self.store, cur, _PUT, _ROW, rows)


def sql_digest(op: ops.Node, limit: Any) -> str | None:
    """The digest of `op` compiled with `limit`, the same in every process; None if `op` holds
    what cannot be spelled out."""
    try:
        spelled = _Digest().value(op)
        limited = _Digest().value(limit)
    except Unkeyable:
        return None
    return hashlib.sha256(code_digest().encode() + spelled + limited).hexdigest()


def _hash(tag: bytes, *parts: bytes) -> bytes:
    digest = hashlib.sha256(tag)
    for part in parts:
        digest.update(len(part).to_bytes(8, "little"))
        digest.update(part)
    return digest.digest()


class _Digest:
    """One walk of an expression graph: each shared node is spelled out once."""

    def __init__(self) -> None:
        self._seen: dict[int, tuple[object, bytes]] = {}
        self._references: dict[object, int] = {}  # (kind, Ibis' serial) → order of first meeting

    def value(self, value: object) -> bytes:
        if isinstance(value, Concrete):
            return self._concrete(value)
        if value is None:
            return _hash(b"none")
        if isinstance(value, bool | int | float | str | bytes | Decimal):
            text = value if isinstance(value, bytes) else repr(value).encode()
            return _hash(type(value).__name__.encode(), text)
        if isinstance(value, datetime | date | time | timedelta):
            zone = str(getattr(value, "tzinfo", None))
            return _hash(type(value).__name__.encode(), str(value).encode(), zone.encode())
        if isinstance(value, enum.Enum):
            return _hash(b"enum", _name(type(value)).encode(), value.name.encode())
        if isinstance(value, Mapping):
            return _hash(b"map", *(self.value(k) + self.value(v) for k, v in value.items()))
        if isinstance(value, tuple | list):
            return _hash(b"seq", *(self.value(item) for item in value))
        if isinstance(value, frozenset):  # in no order: its members' digests sorted
            return _hash(b"set", *sorted(self.value(item) for item in value))
        raise Unkeyable(type(value).__name__)

    def _concrete(self, node: Concrete) -> bytes:
        held = self._seen.get(id(node))
        if held is not None:
            return held[1]
        cls = type(node)
        parts = [_name(cls).encode(), str(getattr(cls, "__func_name__", "")).encode()]
        for name, arg in zip(cls.__argnames__, node.__args__, strict=True):
            if isinstance(node, ops.DatabaseTable) and name == "source":
                continue  # the store's own connection: the same for every question
            if isinstance(node, ops.Reference) and name == "identifier":
                # a process-wide serial that never reaches the SQL: numbered by the walk; self
                # and join references count apart, so one's serial may equal the other's
                arg = self._references.setdefault((cls, arg), len(self._references))
            parts.append(name.encode() + self.value(arg))
        digest = _hash(b"node", *parts)
        self._seen[id(node)] = (node, digest)  # the node held: its id is not reused meanwhile
        return digest


def _name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"
