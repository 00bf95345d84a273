"""Reports API: the list, a preview of one run, and subscriptions (seed 002's bell icon).

POST /api/v1/reports/{name}/subscriptions subscribes an e-mail address or a webhook URL (for a
per-experience report, to one experience); DELETE unsubscribes. A partner's subscriptions get
its own partner's numbers only.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from pulse.access.policy import forced_partner
from pulse.api.auth import request_actor
from pulse.api.deps import PrincipalDep, SettingsDep, StoreDep
from pulse.metrics.windows import parse_date
from pulse.reports import subscriptions
from pulse.reports.catalog import REPORTS
from pulse.reports.run import last_complete_day, preview

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])


class SubscriptionBody(BaseModel):
    address: str
    channel: subscriptions.Channel = "email"
    experience: str | None = None


def _known(name: str) -> None:
    if name not in REPORTS:
        raise HTTPException(404, f"report: unknown {name!r} (one of {', '.join(REPORTS)})")


@router.get("", summary="The reports Pulse sends and when")
def list_reports() -> dict[str, Any]:
    return {"reports": [r.as_dict() for r in REPORTS.values()]}


@router.get("/{name}", summary="Preview one run of a report (subject, HTML, webhook JSON)")
async def preview_report(
    name: str,
    store: StoreDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    as_of: Annotated[str | None, Query(description="last day covered; default yesterday")] = None,
    experience: Annotated[str | None, Query(description="per-experience reports")] = None,
    partner: Annotated[str | None, Query(description="only this partner's data")] = None,
) -> dict[str, Any]:
    _known(name)
    try:
        day = parse_date(as_of) if as_of else last_complete_day(datetime.now(UTC))
        rendered = await run_in_threadpool(
            lambda: preview(
                store,
                settings,
                name,
                day,
                partner=forced_partner(principal, partner),
                experience=experience,
            )
        )
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc
    return {
        "report": name,
        "subject": rendered.subject,
        "html": rendered.html,
        "webhook": rendered.webhook,
        "kpis": [
            {"id": k.id, "value": k.value, "change_pct": k.change_pct, "status": k.status}
            for k in rendered.kpis
        ],
    }


@router.post("/{name}/subscriptions", summary="Subscribe to a report (e-mail or webhook)")
async def subscribe(
    name: str, body: SubscriptionBody, request: Request, store: StoreDep, principal: PrincipalDep
) -> dict[str, Any]:
    _known(name)
    if body.channel == "webhook" and principal.role != "platform_admin":
        # a webhook makes the server call a URL of the caller's choosing: operators only
        raise HTTPException(403, "webhook subscriptions are for platform admins")
    try:
        made = await run_in_threadpool(
            lambda: subscriptions.subscribe(
                store,
                name,
                body.address,
                channel=body.channel,
                experience=body.experience,
                partner_id=principal.partner_id,
                created_by=request_actor(request)["actor"],
            )
        )
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc
    return {"subscribed": True, **made.as_dict()}


@router.delete("/{name}/subscriptions", summary="Unsubscribe from a report")
async def unsubscribe(
    name: str,
    store: StoreDep,
    principal: PrincipalDep,
    address: Annotated[str, Query(description="the e-mail address or webhook URL")],
    channel: Annotated[subscriptions.Channel, Query()] = "email",
    experience: Annotated[str | None, Query()] = None,
) -> dict[str, Any]:
    _known(name)
    removed = await run_in_threadpool(
        lambda: subscriptions.unsubscribe(
            store,
            name,
            address,
            channel=channel,
            experience=experience,
            partner_id=principal.partner_id,
        )
    )
    if not removed:
        raise HTTPException(404, f"subscription: {address} is not subscribed to {name}")
    return {"subscribed": False, "report": name, "address": address}
