"""Metric API: GET /api/v1/metrics (the catalog) and GET /api/v1/metrics/{id} (one answer)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from fastapi.concurrency import run_in_threadpool

from pulse.access.policy import forced_partner, may_see_item, plain_answer
from pulse.api.deps import PrincipalDep, SettingsDep, StoreDep
from pulse.metrics import CATALOG
from pulse.metrics.engine import Engine
from pulse.metrics.engine import Query as MetricQuery
from pulse.metrics.windows import GRAINS, parse_date
from pulse.settings import check_tz

router = APIRouter(prefix="/api/v1/metrics", tags=["metrics"])


@router.get("", summary="Every metric of the catalog with its metadata")
def list_metrics(principal: PrincipalDep) -> dict[str, Any]:
    listed = [m for m in CATALOG.listed() if may_see_item(principal, m.id)]
    return {"metrics": [m.as_dict() for m in listed]}


@router.get("/{metric_id}", summary="One metric over a window, with comparison, rows or series")
async def get_metric(
    metric_id: str,
    store: StoreDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    window: Annotated[
        str, Query(description="last_30d, last_3m, last_12m, this_month, last_month or START..END")
    ] = "last_30d",
    as_of: Annotated[str | None, Query(description="YYYY-MM-DD; default today (UTC)")] = None,
    partner: Annotated[str | None, Query(description="only this partner's data")] = None,
    by: Annotated[str | None, Query(description="breakdown dimension")] = None,
    series: Annotated[str | None, Query(description="day, week or month")] = None,
    cumulative: Annotated[bool, Query(description="cumulate the series")] = False,
    compare: Annotated[
        str, Query(description="previous (the preceding window) or year (a year earlier)")
    ] = "previous",
    tz: Annotated[str | None, Query(description="reporting time zone (IANA)")] = None,
) -> dict[str, Any]:
    try:
        if series is not None and series not in GRAINS:
            raise ValueError(f"series: {series!r} is not one of {', '.join(GRAINS)}")
        query = MetricQuery(
            metric=metric_id,
            as_of=parse_date(as_of) if as_of else datetime.now(UTC).date(),
            window=window,
            partner=forced_partner(principal, partner),
            by=by,
            series=series,  # type: ignore[arg-type]
            cumulative=cumulative,
            compare=compare,
            tz=check_tz(tz) if tz else settings.tz,
        )
        CATALOG.get(metric_id)
    except KeyError as exc:
        raise HTTPException(status_code=404, detail=str(exc.args[0])) from exc
    except ValueError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    engine = Engine(store, CATALOG, settings.currency)
    try:
        return plain_answer(principal, await run_in_threadpool(engine.evaluate, query))
    except ValueError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc
