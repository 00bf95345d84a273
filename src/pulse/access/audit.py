"""The audit log (seed 001 Logs tab): who did what, when, from where, to what.

Append-only: this module only inserts and reads (on PostgreSQL a trigger also refuses UPDATE,
DELETE and TRUNCATE). Categories let alerts pick what they watch: `security` entries are failed
log-ins, lock-outs and rejected keys (seed 001 security alerts).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from pulse.store.store import Store

Category = Literal["auth", "key", "export", "deletion", "settings", "user", "security"]

# action -> category; an action outside this table is a programming error.
ACTIONS: dict[str, Category] = {
    "login": "auth",
    "logout": "auth",
    "login_failed": "security",
    "user_locked": "security",
    "login_blocked": "security",
    "key_rejected": "security",
    "access_denied": "security",
    "key_used": "key",
    "key_created": "key",
    "key_revoked": "key",
    "export": "export",
    "customer_exported": "export",
    "customer_deleted": "deletion",
    "deletion": "deletion",
    "settings_changed": "settings",
    "user_created": "user",
    "user_disabled": "user",
}


@dataclass(frozen=True)
class Entry:
    """One audit entry; `detail` is free-form context (route, counts, reasons)."""

    id: int
    ts: datetime
    actor: str
    action: str
    category: str
    target: str | None
    ip: str | None
    detail: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ts": self.ts.astimezone(UTC).isoformat()}


def record(
    store: Store,
    *,
    actor: str,
    action: str,
    target: str | None = None,
    ip: str | None = None,
    detail: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> None:
    """Append one entry (raise KeyError for an action that is not in `ACTIONS`)."""
    category = ACTIONS[action]
    store.execute(
        "INSERT INTO audit_log (ts, actor, action, category, target, ip, detail) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            now or datetime.now(UTC),
            actor,
            action,
            category,
            target,
            ip,
            json.dumps(detail or {}, sort_keys=True, default=str),
        ),
    )


def entries(
    store: Store,
    *,
    actor: str | None = None,
    action: str | None = None,
    category: str | None = None,
    target: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
) -> list[Entry]:
    """Entries matching every filter given, newest first; `since` inclusive, `until` exclusive."""
    where: list[str] = []
    params: list[Any] = []
    for column, value in (
        ("actor", actor),
        ("action", action),
        ("category", category),
        ("target", target),
    ):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    if since is not None:
        where.append("ts >= ?")
        params.append(since)
    if until is not None:
        where.append("ts < ?")
        params.append(until)
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    rows = store.execute(
        "SELECT id, ts, actor, action, category, target, ip, detail FROM audit_log "
        f"{clause} ORDER BY ts DESC, id DESC LIMIT ?",
        (*params, max(0, limit)),
    )
    return [_entry(row) for row in rows]


def count(
    store: Store, *, action: str, target: str, since: datetime, after: datetime | None = None
) -> int:
    """How many `action` entries on `target` at or after `since` (and after `after`)."""
    rows = store.execute(
        "SELECT count(*) FROM audit_log WHERE action = ? AND target = ? AND ts >= ? AND ts > ?",
        (action, target, since, after or datetime(1970, 1, 1, tzinfo=UTC)),
    )
    return int(rows[0][0])


def last(store: Store, *, action: str, target: str) -> datetime | None:
    """When the latest `action` entry on `target` was written, if any."""
    rows = store.execute(
        "SELECT max(ts) FROM audit_log WHERE action = ? AND target = ?", (action, target)
    )
    value = rows[0][0] if rows else None
    return _utc(value) if value is not None else None


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _entry(row: tuple[Any, ...]) -> Entry:
    id_, ts, actor, action, category, target, ip, detail = row
    return Entry(int(id_), _utc(ts), actor, action, category, target, ip, json.loads(detail))
