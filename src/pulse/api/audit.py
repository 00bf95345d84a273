"""Audit log API: GET /api/v1/audit (platform admins; the Logs tab reads the same function)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from fastapi.concurrency import run_in_threadpool

from pulse.access import audit
from pulse.api.deps import StoreDep

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


def _instant(value: str | None, name: str) -> datetime | None:
    """An ISO-8601 date or instant (UTC when it has no offset)."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise HTTPException(422, f"{name}: {value!r} is not an ISO-8601 date or time") from exc
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


@router.get("", summary="Audit entries, newest first (log-ins, key use, exports, deletions, …)")
async def list_entries(
    store: StoreDep,
    actor: Annotated[str | None, Query(description="user name or key:<id>")] = None,
    action: Annotated[str | None, Query(description="e.g. login, login_failed, export")] = None,
    category: Annotated[
        str | None, Query(description="auth, key, export, deletion, settings, user, security")
    ] = None,
    since: Annotated[str | None, Query(description="from this instant (inclusive)")] = None,
    until: Annotated[str | None, Query(description="before this instant")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
) -> dict[str, Any]:
    found = await run_in_threadpool(
        lambda: audit.entries(
            store,
            actor=actor,
            action=action,
            category=category,
            since=_instant(since, "since"),
            until=_instant(until, "until"),
            limit=limit,
        )
    )
    return {"entries": [e.as_dict() for e in found]}
