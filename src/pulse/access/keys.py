"""API keys: read and write keys carrying a role, a partner scope and scopes (read/write/export).

A key is a random 32-byte token, shown once; only its SHA-256 (enough for random tokens: there
is nothing to brute-force) and a display prefix are stored. Every request looks the key up again,
so a revocation takes effect at once. `write_keys.py` (ingestion) is a thin view of these keys.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pulse.access import audit
from pulse.access.policy import ROLES, SCOPES, Role
from pulse.store.store import Store

PREFIX = "pk_"
_COLUMNS = "id, prefix, role, partner_id, scopes, label, created_by, created_at, last_used_at"


@dataclass(frozen=True)
class ApiKey:
    """A stored key (never the secret itself)."""

    id: str
    prefix: str
    role: Role
    partner_id: str | None
    scopes: frozenset[str]
    label: str | None
    created_by: str | None
    created_at: datetime
    last_used_at: datetime | None

    @property
    def kind(self) -> str:
        return "write" if "write" in self.scopes else "read"

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "prefix": self.prefix,
            "kind": self.kind,
            "role": self.role,
            "partner_id": self.partner_id,
            "scopes": sorted(self.scopes),
            "label": self.label,
            "created_by": self.created_by,
            "created_at": self.created_at.isoformat(),
            "last_used_at": self.last_used_at.isoformat() if self.last_used_at else None,
        }


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def check_grant(role: str, partner_id: str | None, scopes: set[str] | frozenset[str]) -> None:
    """Raise ValueError unless role, partner and scopes make sense together."""
    if role not in ROLES:
        raise ValueError(f"role: {role!r} is not one of {', '.join(ROLES)}")
    if (role == "partner") != (partner_id is not None):
        raise ValueError("partner: a partner role needs a partner id, and only a partner role")
    unknown = set(scopes) - set(SCOPES)
    if not scopes or unknown:
        raise ValueError(f"scopes: give one or more of {', '.join(SCOPES)}")


def create(
    store: Store,
    *,
    role: str,
    scopes: set[str] | frozenset[str],
    partner_id: str | None = None,
    label: str | None = None,
    actor: str = "system",
    ip: str | None = None,
) -> str:
    """Create a key and return the secret (shown once)."""
    check_grant(role, partner_id, scopes)
    key = PREFIX + secrets.token_urlsafe(32)
    digest = hash_key(key)
    store.execute(
        "INSERT INTO api_keys (id, key_hash, prefix, role, partner_id, scopes, label, "
        "created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            digest[:12],
            digest,
            key[:10],
            role,
            partner_id,
            ",".join(sorted(scopes)),
            label,
            actor,
            datetime.now(UTC),
        ),
    )
    audit.record(
        store,
        actor=actor,
        action="key_created",
        target=f"key:{digest[:12]}",
        ip=ip,
        detail={"role": role, "partner_id": partner_id, "scopes": sorted(scopes)},
    )
    return key


def lookup(store: Store, key: str) -> ApiKey | None:
    """The active key whose secret is `key`, or None (unknown or revoked)."""
    rows = store.read(
        f"SELECT {_COLUMNS} FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL",
        (hash_key(key),),
    )
    return _key(rows[0]) if rows else None


def listed(store: Store, *, include_revoked: bool = False) -> list[ApiKey]:
    where = "" if include_revoked else "WHERE revoked_at IS NULL"
    rows = store.execute(f"SELECT {_COLUMNS} FROM api_keys {where} ORDER BY created_at, id")
    return [_key(row) for row in rows]


def revoke(store: Store, key_id: str, *, actor: str = "system", ip: str | None = None) -> bool:
    """Revoke a key by id (effective for the next request); False if no active key has it."""
    rows = store.execute(
        "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL RETURNING id",
        (datetime.now(UTC), key_id),
    )
    if rows:
        audit.record(store, actor=actor, action="key_revoked", target=f"key:{key_id}", ip=ip)
    return bool(rows)


def touch(
    store: Store,
    key: ApiKey,
    *,
    every_seconds: float,
    ip: str | None,
    detail: dict[str, Any],
    now: datetime | None = None,
) -> None:
    """Record a use: last-used time and a `key_used` audit entry, at most once per period.

    Ingestion can send thousands of requests a minute; one entry per key per period keeps the
    log readable and the write path fast (`every_seconds` 0 records every use).
    """
    now = now or datetime.now(UTC)
    last = key.last_used_at
    if last is not None and now - last < timedelta(seconds=every_seconds):
        return
    store.execute("UPDATE api_keys SET last_used_at = ? WHERE id = ?", (now, key.id))
    audit.record(
        store,
        actor=f"key:{key.id}",
        action="key_used",
        target=f"key:{key.id}",
        ip=ip,
        detail=detail,
        now=now,
    )


def _key(row: tuple[Any, ...]) -> ApiKey:
    id_, prefix, role, partner_id, scopes, label, created_by, created_at, last_used = row
    return ApiKey(
        id=id_,
        prefix=prefix,
        role=role,
        partner_id=partner_id,
        scopes=frozenset(s for s in scopes.split(",") if s),
        label=label,
        created_by=created_by,
        created_at=_utc(created_at),
        last_used_at=_utc(last_used) if last_used is not None else None,
    )


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
