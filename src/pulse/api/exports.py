"""Export API: GET /api/v1/exports/{name}?format=csv|xlsx|pdf (SPEC §5, seed 001 exports).

`name` is a catalog table id or one of seed 001's named exports (partner_list,
transaction_log, event_list, generation_stats, style_usage). CSV is streamed; Excel and PDF are
built whole (Excel in write-only mode). CSV links may carry an `export` key as `?key=` (see
`api/auth.py`). `GET /api/v1/exports/page/{page}?format=pdf` is a PDF snapshot of a dashboard
page with the sections the caller sees. Every export is written to the audit log.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from pulse.access import audit, policy
from pulse.access.policy import Denied, Principal, forced_partner
from pulse.api.auth import audit_denial, request_actor
from pulse.api.deps import PrincipalDep, SettingsDep, StoreDep
from pulse.exports.page import render_page_pdf
from pulse.exports.pdf import render_pdf
from pulse.exports.sources import ExportRequest, exportable, per_partner, resolve
from pulse.exports.writers import csv_chunks, write_xlsx
from pulse.metrics import CATALOG
from pulse.metrics.windows import parse_date, parse_window
from pulse.settings import check_tz
from pulse.store.store import Store
from pulse.web.pages import Page, find_page
from pulse.web.scope import Scope
from pulse.web.visible import for_principal

router = APIRouter(prefix="/api/v1/exports", tags=["exports"])
Format = Literal["csv", "xlsx", "pdf"]
MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


def export_bytes(store: Store, request: ExportRequest, fmt: Format, kpis: list[str]) -> bytes:
    """An Excel or PDF export, whole."""
    if fmt == "pdf":
        return render_pdf(store, [request], kpis, title=f"Pulse — {request.name}")
    out = io.BytesIO()
    write_xlsx([resolve(store, request)], out, request.tz)
    return out.getvalue()


@router.get("/{name}", summary="Export a table or a named export as CSV, Excel or PDF")
async def export(
    name: str,
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    format: Annotated[Format, Query(description="csv (streamed), xlsx or pdf")] = "csv",
    window: Annotated[str, Query(description="last_30d, last_3m, … or START..END")] = "last_30d",
    as_of: Annotated[str | None, Query(description="YYYY-MM-DD; default today (UTC)")] = None,
    partner: Annotated[str | None, Query(description="only this partner's data")] = None,
    tz: Annotated[str | None, Query(description="reporting time zone (IANA)")] = None,
    kpis: Annotated[str | None, Query(description="PDF only: metric ids shown as KPIs")] = None,
) -> Response:
    if not exportable(name):
        raise HTTPException(404, f"export: unknown table or export {name!r}")
    if principal.partner_id is not None and not per_partner(name):
        raise HTTPException(403, f"{name}: platform-wide, not per partner")
    kpi_ids = [k for k in (kpis or "").split(",") if k]
    for kpi_id in kpi_ids:
        if kpi_id not in CATALOG.metrics:
            raise HTTPException(422, f"kpis: unknown metric {kpi_id!r}")
    try:
        wanted = ExportRequest(
            name=name,
            as_of=parse_date(as_of) if as_of else datetime.now(UTC).date(),
            window=window,
            partner=forced_partner(principal, partner),
            tz=check_tz(tz) if tz else settings.tz,
            currency=settings.currency,
        )
        filename = f"{name}-{wanted.as_of.isoformat()}.{format}"
        headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
        if format == "csv":
            resolved = await run_in_threadpool(resolve, store, wanted)
            body: Response = StreamingResponse(
                csv_chunks(resolved), media_type=MEDIA[format], headers=headers
            )
        else:
            data = await run_in_threadpool(export_bytes, store, wanted, format, kpi_ids)
            body = Response(data, media_type=MEDIA[format], headers=headers)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc
    detail = {"format": format, "window": window, "as_of": wanted.as_of, "partner": wanted.partner}
    await run_in_threadpool(
        lambda: audit.record(
            store, **request_actor(request), action="export", target=name, detail=detail
        )
    )
    return body


def visible_page(principal: Principal, slug: str) -> Page:
    """The page narrowed to the sections the principal sees: 404 for an unknown page, Denied
    (403) when its role may not open the page or nothing on it is left."""
    found = find_page(slug)
    if found is None:
        raise HTTPException(404, f"page: unknown dashboard page {slug!r}")
    rule = policy.rule_for(found.path)
    if rule is None or (rule.section is not None and not policy.sees(principal, rule.section)):
        raise Denied(403, f"role {principal.role} does not see the {slug} page")
    narrowed = for_principal(found, principal)
    if not narrowed.sections:
        raise Denied(403, f"nothing on the {slug} page for role {principal.role}")
    return narrowed


@router.get(
    "/page/{page}", summary="A dashboard page as a PDF snapshot (the sections the caller sees)"
)
async def export_page(
    page: str,
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    format: Annotated[Literal["pdf"], Query(description="pdf (the only format of a page)")] = "pdf",
    window: Annotated[str, Query(description="last_30d, last_3m, … or START..END")] = "last_30d",
    as_of: Annotated[str | None, Query(description="YYYY-MM-DD; default today (UTC)")] = None,
    partner: Annotated[str | None, Query(description="only this partner's data")] = None,
    experience: Annotated[str | None, Query(description="experiences page: one experience")] = None,
    tz: Annotated[str | None, Query(description="reporting time zone (IANA)")] = None,
) -> Response:
    try:
        shown = visible_page(principal, page)
    except Denied as denial:  # a security event, as every refusal of `api/auth.py`
        await run_in_threadpool(audit_denial, request, denial)
        raise HTTPException(denial.status, denial.reason) from None
    try:
        wanted = Scope(
            window=window,
            as_of=parse_date(as_of) if as_of else datetime.now(UTC).date(),
            tz=check_tz(tz) if tz else settings.tz,
            as_of_given=True,
            partner=forced_partner(principal, partner),
            experience=experience,
        )
        parse_window(wanted.window, wanted.as_of)  # a bad window: 422 before any rendering
        data = await run_in_threadpool(render_page_pdf, store, shown, wanted, settings.currency)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc
    filename = f"page-{shown.slug}-{wanted.as_of.isoformat()}.pdf"
    detail = {
        "format": format,
        "window": window,
        "as_of": wanted.as_of,
        "partner": wanted.partner,
        "experience": experience,
        "sections": [s.name for s in shown.sections],
    }
    await run_in_threadpool(
        lambda: audit.record(
            store,
            **request_actor(request),
            action="export",
            target=f"page:{shown.slug}",
            detail=detail,
        )
    )
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    return Response(data, media_type=MEDIA["pdf"], headers=headers)
