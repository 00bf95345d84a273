"""Alerts API: the alerts that fired, their rules and thresholds, and the action items.

GET /api/v1/alerts · POST /api/v1/alerts/evaluate · GET /api/v1/alert-rules ·
PATCH /api/v1/alert-rules/threshold · GET /api/v1/action-items · PATCH /api/v1/action-items/status
(writes are separate paths: an access rule is per path, and reads need no write scope).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from pulse.access import audit
from pulse.alerts import state
from pulse.alerts.rules import RULES
from pulse.api.auth import request_actor
from pulse.api.deps import SettingsDep, StoreDep
from pulse.metrics.windows import parse_date

router = APIRouter(prefix="/api/v1", tags=["alerts"])


class StatusChange(BaseModel):
    id: int
    status: str = Field(description=", ".join(state.STATUSES))


class ThresholdChange(BaseModel):
    rule: str
    threshold: float


@router.get("/alerts", summary="Alerts, newest first (critical, warning, opportunity)")
async def list_alerts(
    store: StoreDep,
    active: Annotated[bool, Query(description="only alerts whose condition still holds")] = False,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 200,
) -> dict[str, Any]:
    found = await run_in_threadpool(state.list_alerts, store, active, limit)
    return {"alerts": found}


@router.post("/alerts/evaluate", summary="Evaluate every alert rule now")
async def evaluate_now(
    store: StoreDep,
    settings: SettingsDep,
    as_of: Annotated[str | None, Query(description="YYYY-MM-DD; default today (UTC)")] = None,
) -> dict[str, Any]:
    day = parse_date(as_of) if as_of else datetime.now(UTC).date()
    fired = await run_in_threadpool(
        lambda: state.evaluate(store, day, tz=settings.tz, currency=settings.currency)
    )
    return {"fired": [f.as_dict() for f in fired]}


@router.get("/alert-rules", summary="The alert rules with their current thresholds")
async def list_rules(store: StoreDep) -> dict[str, Any]:
    limits = await run_in_threadpool(state.thresholds, store)
    return {"rules": [rule.as_dict(limits[rid]) for rid, rule in RULES.items()]}


@router.patch("/alert-rules/threshold", summary="Change an alert rule's threshold")
async def change_threshold(
    change: ThresholdChange, request: Request, store: StoreDep
) -> dict[str, Any]:
    if change.rule not in RULES:
        raise HTTPException(404, f"alert rule: unknown id {change.rule!r}")
    await run_in_threadpool(state.set_threshold, store, change.rule, change.threshold)
    await run_in_threadpool(
        lambda: audit.record(
            store,
            **request_actor(request),
            action="settings_changed",
            target=f"alert:{change.rule}",
            detail={"threshold": change.threshold},
        )
    )
    return RULES[change.rule].as_dict(change.threshold)


@router.get("/action-items", summary="Action items opened by alerts (priority, owner, due)")
async def list_items(
    store: StoreDep, status: Annotated[str | None, Query(description="only this status")] = None
) -> dict[str, Any]:
    return {"action_items": await run_in_threadpool(state.list_action_items, store, status)}


@router.patch("/action-items/status", summary="Change an action item's status")
async def change_status(change: StatusChange, store: StoreDep) -> dict[str, Any]:
    try:
        found = await run_in_threadpool(state.set_status, store, change.id, change.status)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc
    if not found:
        raise HTTPException(404, f"action item: no item {change.id}")
    return {"id": change.id, "status": change.status}
