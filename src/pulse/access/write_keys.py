"""Write keys for the ingestion API (Segment style: the key is the HTTP Basic user name).

Keys are random 32-byte tokens, so a fast SHA-256 is the right hash (nothing to brute-force);
only the hash and a short display prefix are stored.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from pulse.store.store import Store

PREFIX = "pk_"


@dataclass(frozen=True)
class WriteKey:
    """Who may write: one partner's data only, or the whole platform (partner_id None)."""

    prefix: str
    partner_id: str | None
    label: str | None


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create(store: Store, *, partner_id: str | None = None, label: str | None = None) -> str:
    """Create a key and return it; it is shown once and only its hash is kept."""
    key = PREFIX + secrets.token_urlsafe(32)
    store.execute(
        "INSERT INTO write_keys (key_hash, prefix, partner_id, label, created_at) "
        "VALUES (?, ?, ?, ?, ?)",
        (hash_key(key), key[:10], partner_id, label, datetime.now(UTC)),
    )
    return key


def lookup(store: Store, key: str) -> WriteKey | None:
    """The active key matching `key`, or None."""
    rows = store.execute(
        "SELECT prefix, partner_id, label FROM write_keys "
        "WHERE key_hash = ? AND revoked_at IS NULL",
        (hash_key(key),),
    )
    return WriteKey(*rows[0]) if rows else None
