"""Users who sign in to the web dashboards: argon2-hashed passwords, roles, lock-out.

Failed log-ins are audit entries (`login_failed`), and the lock-out is read from them: the fifth
failure within 15 minutes (not counting those before the last success) writes a `user_locked`
security entry (what the alerts watch), and log-ins are refused (`login_blocked`) for the 15
minutes after it, even with the right password.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from pulse.access import audit
from pulse.access.keys import check_grant
from pulse.access.policy import Role
from pulse.store.store import Store

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("not a password")  # verified against for unknown users (same timing)
FIRST_ADMIN = "admin"


@dataclass(frozen=True)
class User:
    username: str
    role: Role
    partner_id: str | None
    created_at: datetime
    disabled_at: datetime | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "username": self.username,
            "role": self.role,
            "partner_id": self.partner_id,
            "created_at": self.created_at.isoformat(),
            "disabled": self.disabled_at is not None,
        }


@dataclass(frozen=True)
class Lockout:
    """How many failures lock a user out, within how long."""

    failures: int = 5
    minutes: int = 15


Outcome = Literal["ok", "wrong", "locked", "disabled"]


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def add(
    store: Store,
    username: str,
    password: str,
    role: str,
    *,
    partner_id: str | None = None,
    actor: str = "system",
    ip: str | None = None,
) -> User:
    """Create a user; raise ValueError for a taken name, a bad role or an empty password."""
    check_grant(role, partner_id, {"read"})
    if not username or not password:
        raise ValueError("username and password must not be empty")
    if get(store, username) is not None:
        raise ValueError(f"user: {username!r} already exists")
    now = datetime.now(UTC)
    store.execute(
        "INSERT INTO users (username, password_hash, role, partner_id, created_at) "
        "VALUES (?, ?, ?, ?, ?)",
        (username, hash_password(password), role, partner_id, now),
    )
    audit.record(
        store,
        actor=actor,
        action="user_created",
        target=f"user:{username}",
        ip=ip,
        detail={"role": role, "partner_id": partner_id},
    )
    user = get(store, username)
    assert user is not None
    return user


def get(store: Store, username: str) -> User | None:
    rows = store.execute(
        "SELECT username, role, partner_id, created_at, disabled_at FROM users WHERE username = ?",
        (username,),
    )
    return _user(rows[0]) if rows else None


def listed(store: Store) -> list[User]:
    rows = store.execute(
        "SELECT username, role, partner_id, created_at, disabled_at FROM users ORDER BY username"
    )
    return [_user(row) for row in rows]


def disable(store: Store, username: str, *, actor: str = "system", ip: str | None = None) -> bool:
    """Disable a user: its sessions stop working at once. False if no active user has the name."""
    rows = store.execute(
        "UPDATE users SET disabled_at = ? WHERE username = ? AND disabled_at IS NULL "
        "RETURNING username",
        (datetime.now(UTC), username),
    )
    if rows:
        audit.record(store, actor=actor, action="user_disabled", target=f"user:{username}", ip=ip)
    return bool(rows)


def authenticate(
    store: Store,
    username: str,
    password: str,
    *,
    ip: str | None = None,
    lockout: Lockout | None = None,
    now: datetime | None = None,
) -> tuple[Outcome, User | None]:
    """Check a log-in and write its audit entry; the user only when the outcome is `ok`."""
    lockout = lockout or Lockout()
    now = now or datetime.now(UTC)
    target = f"user:{username}"
    if locked(store, username, lockout, now):
        audit.record(store, actor=username, action="login_blocked", target=target, ip=ip, now=now)
        return "locked", None
    row = store.execute(
        "SELECT password_hash, disabled_at FROM users WHERE username = ?", (username,)
    )
    stored_hash = row[0][0] if row else _DUMMY_HASH
    if not _verify(stored_hash, password) or not row:
        audit.record(store, actor=username, action="login_failed", target=target, ip=ip, now=now)
        if _recent_failures(store, target, lockout, now) >= lockout.failures:
            audit.record(
                store,
                actor=username,
                action="user_locked",
                target=target,
                ip=ip,
                now=now,
                detail={"failures": lockout.failures, "minutes": lockout.minutes},
            )
            return "locked", None
        return "wrong", None
    if row[0][1] is not None:
        audit.record(
            store,
            actor=username,
            action="login_failed",
            target=target,
            ip=ip,
            now=now,
            detail={"reason": "disabled"},
        )
        return "disabled", None
    audit.record(store, actor=username, action="login", target=target, ip=ip, now=now)
    return "ok", get(store, username)


def locked(store: Store, username: str, lockout: Lockout, now: datetime) -> bool:
    """Whether a lock-out (`user_locked`) of the last `minutes`, since the last success, holds."""
    target = f"user:{username}"
    return bool(
        audit.count(
            store,
            action="user_locked",
            target=target,
            since=now - timedelta(minutes=lockout.minutes),
            after=audit.last(store, action="login", target=target),
        )
    )


def _recent_failures(store: Store, target: str, lockout: Lockout, now: datetime) -> int:
    """Failed log-ins within the last `minutes`, not counting those before the last success."""
    return audit.count(
        store,
        action="login_failed",
        target=target,
        since=now - timedelta(minutes=lockout.minutes),
        after=audit.last(store, action="login", target=target),
    )


def ensure_first_admin(store: Store) -> tuple[str, str] | None:
    """Create the first platform admin when there is no user yet; (name, password) once."""
    if store.execute("SELECT count(*) FROM users")[0][0]:
        return None
    password = secrets.token_urlsafe(12)
    add(store, FIRST_ADMIN, password, "platform_admin", actor="pulse init")
    return FIRST_ADMIN, password


def _verify(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _user(row: tuple[Any, ...]) -> User:
    username, role, partner_id, created_at, disabled_at = row
    return User(
        username,
        role,
        partner_id,
        _utc(created_at),
        _utc(disabled_at) if disabled_at is not None else None,
    )


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
