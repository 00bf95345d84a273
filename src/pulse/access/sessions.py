"""Web sessions: a signed random token in a cookie, and a server-side row per session.

The row (keyed by the token's SHA-256) is read on every request, joined with the user, so a
log-out or a disabled user takes effect at once. Each session has its own CSRF token, checked on
every unsafe request the cookie authenticates. The cookie is signed with the app secret
(setting `PULSE_SECRET_KEY`, else one random secret kept in the store) so a forged cookie is
refused before any lookup.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from itsdangerous import BadSignature, Signer

from pulse.access.policy import Role
from pulse.store.store import Store

COOKIE = "pulse_session"
LOGIN_CSRF_COOKIE = "pulse_login_csrf"


@dataclass(frozen=True)
class Session:
    token_hash: str
    username: str
    role: Role
    partner_id: str | None
    csrf_token: str


def app_secret(store: Store, configured: str | None) -> str:
    """The signing secret: the configured one, else one kept in the store (made once)."""
    if configured:
        return configured
    rows = store.execute("SELECT value FROM app_secrets WHERE name = 'session'")
    if rows:
        return str(rows[0][0])
    store.execute(
        "INSERT INTO app_secrets (name, value) VALUES ('session', ?) ON CONFLICT DO NOTHING",
        (secrets.token_urlsafe(32),),
    )
    return str(store.execute("SELECT value FROM app_secrets WHERE name = 'session'")[0][0])


def signer(secret: str, salt: str = "pulse-session") -> Signer:
    return Signer(secret, salt=salt)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(
    store: Store, username: str, *, hours: float, ip: str | None, secret: str
) -> tuple[str, Session]:
    """Open a session; return the signed cookie value and the session."""
    token = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    store.execute(
        "INSERT INTO sessions (token_hash, username, csrf_token, created_at, expires_at, ip) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (_hash(token), username, secrets.token_urlsafe(32), now, now + timedelta(hours=hours), ip),
    )
    cookie = signer(secret).sign(token).decode()
    session = lookup(store, cookie, secret)
    assert session is not None
    return cookie, session


def lookup(store: Store, cookie: str, secret: str) -> Session | None:
    """The live session of a cookie: signed, not expired or ended, its user not disabled."""
    try:
        token = signer(secret).unsign(cookie).decode()
    except BadSignature:
        return None
    rows = store.read(  # on every request: not queued behind a query under way
        "SELECT s.token_hash, u.username, u.role, u.partner_id, s.csrf_token "
        "FROM sessions s JOIN users u ON u.username = s.username "
        "WHERE s.token_hash = ? AND s.revoked_at IS NULL AND s.expires_at > ? "
        "AND u.disabled_at IS NULL",
        (_hash(token), datetime.now(UTC)),
    )
    return Session(*rows[0]) if rows else None


def end(store: Store, token_hash: str) -> None:
    """Log out: the session row is ended, the cookie is worthless from now on."""
    store.execute(
        "UPDATE sessions SET revoked_at = ? WHERE token_hash = ? AND revoked_at IS NULL",
        (datetime.now(UTC), token_hash),
    )
