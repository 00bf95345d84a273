"""Table API: GET /api/v1/tables (the catalog's tables) and GET /api/v1/tables/{id}.

Besides window, as_of, partner, tz and limit, any other query parameter is either one of the
table's own parameters (e.g. `months`) or an equality filter on one of its columns
(e.g. `segment=dormant` lists the members of one segment).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool

from pulse.access.policy import forced_partner, may_see_item
from pulse.api.deps import PrincipalDep, SettingsDep, StoreDep
from pulse.metrics import CATALOG
from pulse.metrics.engine import Engine
from pulse.metrics.tables import TableQuery, evaluate_table, split_extras
from pulse.metrics.windows import parse_date
from pulse.settings import check_tz

router = APIRouter(prefix="/api/v1/tables", tags=["tables"])
_NAMED = {"window", "as_of", "partner", "tz", "limit"}


@router.get("", summary="Every table of the catalog with its columns and parameters")
def list_tables(principal: PrincipalDep) -> dict[str, Any]:
    shown = [t for t in CATALOG.tables.values() if may_see_item(principal, t.id, t.per_partner)]
    return {"tables": [t.as_dict() for t in shown]}


@router.get("/{table_id}", summary="One table over a window (segments, cohorts, funnels, …)")
async def get_table(
    table_id: str,
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    window: Annotated[
        str, Query(description="last_30d, last_3m, last_12m, this_month, last_month or START..END")
    ] = "last_30d",
    as_of: Annotated[str | None, Query(description="YYYY-MM-DD; default today (UTC)")] = None,
    partner: Annotated[str | None, Query(description="only this partner's data")] = None,
    tz: Annotated[str | None, Query(description="reporting time zone (IANA)")] = None,
    limit: Annotated[int | None, Query(ge=0, description="at most this many rows")] = None,
) -> dict[str, Any]:
    try:
        table = CATALOG.table(table_id)
    except KeyError as exc:
        raise HTTPException(status_code=404, detail=str(exc.args[0])) from exc
    if principal.partner_id is not None and not table.per_partner:
        raise HTTPException(status_code=403, detail=f"{table_id}: platform-wide, not per partner")
    extras = {k: v for k, v in request.query_params.items() if k not in _NAMED}
    try:
        params, where = split_extras(table, extras)
        query = TableQuery(
            table=table_id,
            as_of=parse_date(as_of) if as_of else datetime.now(UTC).date(),
            window=window,
            partner=forced_partner(principal, partner),
            tz=check_tz(tz) if tz else settings.tz,
            where=where,
            params=params,
            limit=limit,
        )
        engine = Engine(store, CATALOG, settings.currency)
        return await run_in_threadpool(evaluate_table, engine, query)
    except ValueError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc
