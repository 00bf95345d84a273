"""Turn a credential (an API key, a session cookie) into the `Principal` the policy checks."""

from __future__ import annotations

from pulse.access import keys, sessions
from pulse.access.policy import Principal, Role
from pulse.store.store import Store

# What a signed-in user may do; keys carry their own scopes. Only admins write from the web.
SESSION_SCOPES: dict[str, frozenset[str]] = {
    "platform_admin": frozenset({"read", "write", "export"}),
}
DEFAULT_SESSION_SCOPES = frozenset({"read", "export"})


def partner_plan(store: Store, partner_id: str) -> str | None:
    """The partner's current `plan` trait (its own plan with the platform, SPEC §1.2)."""
    rows = store.read(  # on every request of a partner: not queued behind a query under way
        "SELECT value FROM traits WHERE entity = 'partner' AND entity_id = ? AND name = 'plan' "
        "ORDER BY ts DESC LIMIT 1",
        (partner_id,),
    )
    return str(rows[0][0]) if rows and rows[0][0] is not None else None


def _plan(store: Store, role: Role, partner_id: str | None) -> str | None:
    return partner_plan(store, partner_id) if role == "partner" and partner_id else None


def from_key(store: Store, secret: str) -> tuple[Principal, keys.ApiKey] | None:
    """The principal of an active key, with the key (for its last-used time); None if unknown."""
    key = keys.lookup(store, secret)
    if key is None:
        return None
    principal = Principal(
        kind="key",
        name=f"key:{key.id}",
        role=key.role,
        partner_id=key.partner_id,
        plan=_plan(store, key.role, key.partner_id),
        scopes=key.scopes,
        key_id=key.id,
    )
    return principal, key


def from_session(store: Store, cookie: str, secret: str) -> Principal | None:
    """The principal of a live session cookie; None if forged, expired, ended or disabled."""
    session = sessions.lookup(store, cookie, secret)
    if session is None:
        return None
    return Principal(
        kind="user",
        name=session.username,
        role=session.role,
        partner_id=session.partner_id,
        plan=_plan(store, session.role, session.partner_id),
        scopes=SESSION_SCOPES.get(session.role, DEFAULT_SESSION_SCOPES),
        csrf_token=session.csrf_token,
        session=session.token_hash,
    )
