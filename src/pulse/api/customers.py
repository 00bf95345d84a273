"""GDPR requests over HTTP: DELETE /api/v1/customers/{id} and GET .../{id}/export."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool

from pulse.access import gdpr
from pulse.api.auth import request_actor
from pulse.api.deps import StoreDep

router = APIRouter(prefix="/api/v1/customers", tags=["customers"])


@router.delete("/{customer_id}", summary="Erase a customer's personal data (GDPR)")
async def delete_customer(customer_id: str, request: Request, store: StoreDep) -> dict[str, Any]:
    try:
        counts = await run_in_threadpool(
            lambda: gdpr.delete_customer(store, customer_id, **request_actor(request))
        )
    except gdpr.UnknownCustomer as exc:
        raise HTTPException(404, f"customer: nothing is stored about {customer_id!r}") from exc
    return {"customer_id": customer_id, "deleted": True, **counts}


@router.get("/{customer_id}/export", summary="Everything stored about a customer (GDPR)")
async def export_customer(customer_id: str, request: Request, store: StoreDep) -> dict[str, Any]:
    try:
        return await run_in_threadpool(
            lambda: gdpr.export_customer(store, customer_id, **request_actor(request))
        )
    except gdpr.UnknownCustomer as exc:
        raise HTTPException(404, f"customer: nothing is stored about {customer_id!r}") from exc
