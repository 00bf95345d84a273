"""Dashboard pages and the fragments that fill them (tiles, charts, tables, heatmap).

A page answers at once with its shell (navigation, period picker, tile placeholders); the
browser then fetches each section's tiles in one batch and each chart and table on its own,
so the first paint never waits for a query.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from pulse.access import policy
from pulse.access.policy import Principal
from pulse.api.auth import csrf_token, current_principal
from pulse.api.deps import SettingsDep, StoreDep
from pulse.metrics import CATALOG
from pulse.metrics.catalog import Metric, Table
from pulse.metrics.engine import Engine
from pulse.metrics.tables import TableQuery, evaluate_table, split_extras
from pulse.web import alert_list, answers, charts, visible
from pulse.web.assets import vega_bundle
from pulse.web.choices import choices, resolve
from pulse.web.format import format_change, format_value
from pulse.web.pages import PAGES, Page
from pulse.web.scope import PERIODS, Scope, read_scope
from pulse.web.templating import render

router = APIRouter(include_in_schema=False)
TABLE_ROWS = 200
_SCOPE_KEYS = {"window", "as_of", "tz", "partner", "experience", "start", "end", "limit"}


def metric_or_none(metric_id: str) -> Metric | None:
    return CATALOG.metrics.get(metric_id)


def table_or_none(table_id: str) -> Table | None:
    return CATALOG.tables.get(table_id)


def missing_ids(page: Page) -> list[str]:
    """Ids a page asks for that the catalog does not have (yet)."""
    metrics = [i for i in page.metric_ids() if metric_or_none(i) is None]
    return metrics + [i for i in page.table_ids() if table_or_none(i) is None]


# -- pages -----------------------------------------------------------------------------------


def _page_handler(page: Page) -> Callable[[Request, StoreDep, SettingsDep], Response]:
    def show(request: Request, store: StoreDep, settings: SettingsDep) -> Response:
        scope = read_scope(request, settings.tz)
        if request.query_params.get("window") == "custom":  # the no-script form: canonical URL
            return RedirectResponse(f"{page.path}?{scope.query()}", status_code=303)
        principal = current_principal(request)
        offered = {name: choices(store, name, principal) for name in page.scopes}
        typed = {n: getattr(scope, n) for n in page.scopes if getattr(scope, n) is not None}
        meant = {n: resolve(offered[n], value) for n, value in typed.items()}
        if any(meant[n] not in (None, typed[n]) for n in typed):  # a name typed: the id's URL
            fixed = {n: meant[n] or typed[n] for n in typed}
            return RedirectResponse(f"{page.path}?{scope.query(**fixed)}", status_code=303)
        shown = visible.for_principal(page, principal)
        context = {
            "page": shown,
            "pages": visible_pages(principal),
            "principal": principal,
            "csrf_token": csrf_token(request) if principal.kind == "user" else "",
            "scope": scope,
            "periods": PERIODS if principal.full_plan else EXPLORER_PERIODS,
            "metric": metric_or_none,
            "table": table_or_none,
            "missing": missing_ids(shown),
            "choices": offered,
            "select_max": PICKER_SELECT_MAX,
        }
        return HTMLResponse(render("page.html", context))

    show.__name__ = f"page_{page.slug}"
    return show


for _page in PAGES:
    router.add_api_route(_page.path, _page_handler(_page), methods=["GET"])


PICKER_SELECT_MAX = 200  # more choices: a text box that suggests them as you type (a datalist)
# Explorer partners see the last 30 days only (SPEC §4): offer only periods inside them.
EXPLORER_PERIODS = tuple(p for p in PERIODS if p[0] in ("last_30d", "this_month"))


def visible_pages(principal: Principal) -> list[Page]:
    """The dashboards the principal's role may open (the navigation shows only these)."""
    shown = []
    for page in PAGES:
        rule = policy.rule_for(page.path)
        if rule is not None and (rule.section is None or policy.sees(principal, rule.section)):
            shown.append(page)
    return shown


LANDING = {"platform_admin": "/admin", "partner": "/partner"}  # others: their first page


@router.get("/")
def home(request: Request) -> Response:
    """Signed in, go to the first dashboard the role may open."""
    principal = current_principal(request)
    paths = [page.path for page in visible_pages(principal)]
    if not paths:
        raise HTTPException(status_code=403, detail="no dashboard for this role")
    landing = LANDING.get(principal.role or "", paths[0])
    return RedirectResponse(landing if landing in paths else paths[0], status_code=303)


# -- fragments -------------------------------------------------------------------------------


def _engine(store: Any, settings: Any) -> Engine:
    """A dashboard view's engine: it may read answers the refresher is computing again."""
    return Engine(store, CATALOG, settings.currency, stale_ok=True)


@router.get("/web/tiles")
async def tiles(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    ids: Annotated[str, Query(description="comma-separated metric ids")],
) -> JSONResponse:
    """Many tiles in one request: each metric of `ids` for the scope, rendered as HTML."""
    scope = read_scope(request, settings.tz)
    wanted = [i for i in ids.split(",") if i]
    engine = _engine(store, settings)

    def build() -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for metric_id in wanted:
            if metric_or_none(metric_id) is None:
                html = render("_tile_missing.html", {"id": metric_id})
                out.append({"id": metric_id, "html": html, "display": None, "value": None})
                continue
            tile = answers.tile(engine, scope, metric_id, settings.currency)
            html = render("_tile.html", {"t": tile})
            out.append(
                {"id": metric_id, "html": html, "display": tile.display, "value": tile.value}
            )
        return out

    return JSONResponse({"tiles": await run_in_threadpool(build)})


@router.get("/web/charts/{metric_id}")
async def chart(
    metric_id: str,
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    cumulative: bool = False,
    by: str | None = None,
) -> JSONResponse:
    """A Vega-Lite spec: the metric's series over the window, or its breakdown `by`."""
    scope = read_scope(request, settings.tz)
    metric = _metric(metric_id)
    engine = _engine(store, settings)

    try:
        return JSONResponse(
            await run_in_threadpool(chart_spec, engine, scope, metric, cumulative, by)
        )
    except ValueError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc


def chart_spec(
    engine: Engine, scope: Scope, metric: Metric, cumulative: bool, by: str | None
) -> dict[str, Any]:
    """A chart's Vega-Lite spec: the metric's series over the window, or its breakdown `by`."""
    if by is not None:
        return charts.breakdown_chart(metric, answers.ask(engine, scope, metric.id, by=by))
    grain = charts.grain_for(scope.span)
    answer = answers.ask(engine, scope, metric.id, series=grain, cumulative=cumulative)
    return charts.series_chart(metric, answer, grain, cumulative)


@router.get("/web/breakdowns/{metric_id}", response_class=HTMLResponse)
async def breakdown(
    metric_id: str, request: Request, store: StoreDep, settings: SettingsDep, by: str
) -> HTMLResponse:
    """A metric split by one dimension: a sortable table (value, previous, change) and its bar
    chart, from one evaluation."""
    scope = read_scope(request, settings.tz)
    metric = _metric(metric_id)
    engine = _engine(store, settings)
    try:
        answer = await run_in_threadpool(answers.ask, engine, scope, metric_id, by=by)
    except ValueError as exc:
        return HTMLResponse(render("_note.html", {"text": str(exc)}))
    rows = [
        {
            "key": row["key"],
            "value": row["value"],
            "display": format_value(row["value"], metric.unit, settings.currency),
            "previous": row["previous"],
            "previous_display": format_value(row["previous"], metric.unit, settings.currency),
            "change_pct": row["change_pct"],
            "change": format_change(row["change_pct"], metric.direction),
            "status": row["status"],
        }
        for row in answer.get("rows", [])
    ]
    spec = charts.breakdown_chart(metric, answer)
    context = {"metric": metric, "by": by, "rows": rows, "spec": spec}
    return HTMLResponse(render("_breakdown.html", context))


@router.get("/web/benchmarks", response_class=HTMLResponse)
async def benchmarks(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    ids: Annotated[str, Query(description="comma-separated metric ids")],
) -> HTMLResponse:
    """Metric, value, target and good / needs improvement from each metric's health."""
    scope = read_scope(request, settings.tz)
    engine = _engine(store, settings)

    def build() -> list[dict[str, Any]]:
        rows = []
        for metric_id in (i for i in ids.split(",") if i):
            metric = metric_or_none(metric_id)
            if metric is None:
                rows.append({"id": metric_id, "missing": True})
                continue
            tile = answers.tile(engine, scope, metric_id, settings.currency)
            rows.append(
                {
                    "id": metric_id,
                    "missing": False,
                    "label": metric.label,
                    "help": metric.help,
                    "value": tile.value,
                    "display": tile.display,
                    "target": answers.target(metric),
                    "status": tile.status,
                    "verdict": answers.BENCHMARK_WORDS.get(tile.status or "", "—"),
                }
            )
        return rows

    rows = await run_in_threadpool(build)
    return HTMLResponse(render("_benchmarks.html", {"rows": rows}))


@router.get("/web/tables/{table_id}", response_class=HTMLResponse)
async def table(
    table_id: str, request: Request, store: StoreDep, settings: SettingsDep
) -> HTMLResponse:
    """A catalog table as a sortable HTML table (cells formatted by column unit)."""
    scope = read_scope(request, settings.tz)
    found = table_or_none(table_id)
    if found is None:
        return HTMLResponse(render("_missing.html", {"id": table_id}))
    try:
        answer = await run_in_threadpool(_table_answer, store, settings, scope, found, request)
    except ValueError as exc:
        return HTMLResponse(render("_note.html", {"text": str(exc)}))
    view = request.query_params.get("view", "table")
    template = "_table.html"
    extra: dict[str, Any] = {}
    if view == "heatmap":
        template = "_heatmap.html"
        answer["flows"] = flows(answer["rows"])
    elif view == "funnel" and answer["rows"] and "count" in {c["name"] for c in answer["columns"]}:
        template = "_funnel.html"
        extra["spec"] = charts.funnel_chart(answer)
    elif view == "alerts":
        template = "_alerts.html"
        extra["items"] = alert_list.items(answer, settings.currency)
    context = {
        **extra,
        "help": found.help,
        "answer": answer,
        "currency": settings.currency,
        "format": format_value,
        "scope": scope,
        "detail": request.query_params.get("detail"),
        "limit": TABLE_ROWS,
    }
    return HTMLResponse(render(template, context))


def _table_answer(
    store: Any, settings: Any, scope: Scope, table: Table, request: Request
) -> dict[str, Any]:
    extras = {
        k: v for k, v in request.query_params.items() if k not in _SCOPE_KEYS | {"view", "detail"}
    }
    return table_answer(_engine(store, settings), scope, table, extras)


def table_answer(
    engine: Engine,
    scope: Scope,
    table: Table,
    extras: dict[str, str],
    limit: int = TABLE_ROWS,
) -> dict[str, Any]:
    """A table's answer as a page shows it: the scope, plus the table's parameters and column
    filters (`extras`); ValueError says why it cannot be shown."""
    extras = dict(extras)
    columns = {c.name for c in table.columns}
    if scope.experience is not None and "experience" in {*table.params, *columns}:
        extras.setdefault("experience", scope.experience)
    if scope.partner is not None and not table.per_partner:
        raise ValueError(f"{table.label}: platform-wide only, not shown for one partner")
    params, where = split_extras(table, extras)
    query = TableQuery(
        table=table.id,
        as_of=scope.as_of,
        window=scope.window,
        partner=scope.partner,
        tz=scope.tz,
        where=where,
        params=params,
        limit=limit,
    )
    return evaluate_table(engine, query)


@router.get("/web/vendor/vega.js")
async def vega_js() -> Response:
    """Vega, Vega-Lite and vega-embed in one local bundle (no CDN: the machine is offline)."""
    body = await run_in_threadpool(vega_bundle)
    return Response(
        body,
        media_type="text/javascript",
        headers={"Cache-Control": "public, max-age=86400"},
    )


FLOW_ORDER = ("position", "step", "order", "index")


def flows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Heatmap rows as one flow per experience, each in the experience's module order."""
    groups: dict[Any, dict[str, Any]] = {}
    for row in rows:
        key = row.get("experience")
        group = groups.setdefault(key, {"experience": key, "name": row.get("name"), "rows": []})
        group["rows"].append(row)
    order = next((c for c in FLOW_ORDER if rows and c in rows[0]), None)
    if order is not None:
        for group in groups.values():
            group["rows"].sort(key=lambda r: (r[order] is None, r[order]))
    return list(groups.values())


def _metric(metric_id: str) -> Metric:
    metric = metric_or_none(metric_id)
    if metric is None:
        raise HTTPException(status_code=404, detail=f"metric: unknown id {metric_id!r}")
    return metric
