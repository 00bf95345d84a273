"""Write keys for the ingestion API (Segment style: the key is the HTTP Basic user name).

Since schema version 3 a write key is an API key (`keys.py`) with the `write` scope: a partner
key (role `partner`) writes only its partner's data, a platform key (role `platform_admin`)
any partner's. This module keeps the ingestion-facing API of version 1.
"""

from __future__ import annotations

from dataclasses import dataclass

from pulse.access import keys
from pulse.store.store import Store

PREFIX = keys.PREFIX
hash_key = keys.hash_key


@dataclass(frozen=True)
class WriteKey:
    """Who may write: one partner's data only, or the whole platform (partner_id None)."""

    prefix: str
    partner_id: str | None
    label: str | None


def create(store: Store, *, partner_id: str | None = None, label: str | None = None) -> str:
    """Create a write key and return it; it is shown once and only its hash is kept."""
    role = "partner" if partner_id is not None else "platform_admin"
    return keys.create(store, role=role, scopes={"write"}, partner_id=partner_id, label=label)


def lookup(store: Store, key: str) -> WriteKey | None:
    """The active key matching `key` if it may write, or None."""
    found = keys.lookup(store, key)
    if found is None or "write" not in found.scopes:
        return None
    return WriteKey(found.prefix, found.partner_id, found.label)
