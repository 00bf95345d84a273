"""Target API: GET /api/v1/targets, PUT and DELETE /api/v1/targets/{metric}/{period}.

Who may call them is decided app-wide (`api/auth.py`, one rule per route in
`access/policy.py`): reading belongs with the program summary, setting and removing need the
`write` scope.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from pulse.access import audit
from pulse.api.auth import request_actor
from pulse.api.deps import StoreDep
from pulse.metrics import CATALOG
from pulse.metrics import targets as target_store
from pulse.store.store import Store

router = APIRouter(prefix="/api/v1/targets", tags=["targets"])


class TargetBody(BaseModel):
    value: float = Field(description="the target value, in the metric's unit")


@router.get("", summary="Stored targets, optionally of one metric or period")
async def list_targets(
    store: StoreDep,
    metric: Annotated[str | None, Query(description="only this metric id")] = None,
    period: Annotated[
        str | None, Query(description="only this period (YYYY-MM, YYYY-Qn, YYYY)")
    ] = None,
) -> dict[str, Any]:
    try:
        periods = None if period is None else [target_store.parse_period(period).text]
    except ValueError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    found = await run_in_threadpool(target_store.list_targets, store, metric, periods)
    return {"targets": [t.as_dict() for t in found]}


def _audited(store: Store, request: Request, target: str, detail: dict[str, Any]) -> None:
    """Targets are settings: each change is in the audit log."""
    actor = request_actor(request)
    audit.record(store, **actor, action="settings_changed", target=target, detail=detail)


@router.put("/{metric}/{period}", summary="Set (or replace) a metric's target for a period")
async def put_target(
    metric: str, period: str, body: TargetBody, request: Request, store: StoreDep
) -> dict[str, Any]:
    try:
        target = target_store.checked(CATALOG, metric, period, body.value)
    except KeyError as exc:
        raise HTTPException(status_code=404, detail=str(exc.args[0])) from exc
    except ValueError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    await run_in_threadpool(target_store.save, store, [target])
    detail = {"value": body.value}
    await run_in_threadpool(_audited, store, request, f"target:{metric}:{period}", detail)
    return target.as_dict()


@router.delete("/{metric}/{period}", summary="Remove a metric's target for a period")
async def delete_target(
    metric: str, period: str, request: Request, store: StoreDep
) -> dict[str, Any]:
    try:
        canonical = target_store.parse_period(period).text
    except ValueError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    if not await run_in_threadpool(target_store.delete_target, store, metric, canonical):
        raise HTTPException(status_code=404, detail=f"target: none for {metric} in {canonical}")
    target = f"target:{metric}:{canonical}"
    await run_in_threadpool(_audited, store, request, target, {"deleted": True})
    return {"deleted": True, "metric": metric, "period": canonical}
