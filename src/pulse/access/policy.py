"""Who may see what (SPEC §4): roles, dashboard sections, and one access rule per route.

Every route of the app has exactly one `Rule` in `RULES`, keyed by its path as in `app.routes`;
`api/auth.py` checks it for every request before the handler runs. A route without a rule is
refused (and the isolation test fails), so adding a page or endpoint means adding its rule here.
Metric and table ids get their section from their prefix (`SECTION_OF_PREFIX`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Literal

Role = Literal["platform_admin", "executive", "partner_manager", "support", "marketing", "partner"]
Scope = Literal["read", "write", "export"]
Limit = Literal["ingest", "query"]

ROLES: tuple[Role, ...] = (
    "platform_admin",
    "executive",
    "partner_manager",
    "support",
    "marketing",
    "partner",
)
SCOPES: tuple[Scope, ...] = ("read", "write", "export")

# Sections: the partner-program dashboard (seed 003 §1-8), partner analytics (seed 000),
# experience analytics (seed 002), the platform operator's tabs (seed 001) and administration.
PROGRAM = ("summary", "affiliates", "agency", "integrations", "financials", "operational", "alerts")
SECTIONS = (*PROGRAM, "analytics", "experience", "platform", "ingest", "admin")
SIGNED_IN = "signed_in"  # any authenticated principal (e.g. the catalog listing, log-out)
CATALOG = "catalog"  # the section of the metric or table named by the rule's `catalog_param`

ROLE_SECTIONS: dict[Role, frozenset[str]] = {
    "platform_admin": frozenset(SECTIONS),
    "executive": frozenset((*PROGRAM, "analytics")),
    "partner_manager": frozenset((*PROGRAM, "analytics")) - {"financials"},
    "support": frozenset({"operational"}),
    "marketing": frozenset({"affiliates", "agency", "integrations"}),
    "partner": frozenset({"analytics", "experience", "ingest"}),
}

SECTION_OF_PREFIX: dict[str, str] = {
    "partners": "summary",
    "forecasts": "summary",
    "affiliates": "affiliates",
    "agency": "agency",
    "integrations": "integrations",
    "finance": "financials",
    "targets": "summary",
    "support": "operational",
    "onboarding": "operational",
    "system": "operational",
    "alerts": "alerts",
    "customers": "analytics",
    "credits": "analytics",
    "revenue": "analytics",
    "segments": "analytics",
    "cohorts": "analytics",
    "sessions": "experience",
    "experiences": "experience",
    "chat": "experience",
    "engagement": "experience",
    "nps": "experience",
    "modules": "experience",
    "users": "platform",
    "occasions": "platform",
    "generations": "platform",
    "styles": "platform",
    "usage": "platform",
    # report names (src/pulse/reports): the section whose numbers the report shows
    "platform": "platform",
    "program": "summary",
    "audit": "admin",
}

# Partners on the `explorer` plan: basic customer counts and simple credit usage, 30 days of
# history, no exports, no trends (series, breakdowns); `starter` and up see everything.
FULL_PLANS = frozenset({"starter", "growth", "enterprise"})
EXPLORER_ITEMS = frozenset(
    {
        "customers.total",
        "customers.active",
        "customers.new",
        "customers.by_status",
        "credits.purchased",
        "credits.allocated",
        "credits.consumed",
        "credits.balance",
    }
)
EXPLORER_HISTORY_DAYS = 30


@dataclass(frozen=True)
class Rule:
    """What a route needs: a section the role must see (None: public) and a key scope."""

    section: str | tuple[str, ...] | None  # a tuple: any one of these sections
    scope: Scope = "read"
    catalog_param: str | None = None  # path or query parameter: metric/table id(s), comma-separated
    limit: Limit | None = None  # rate-limit class
    # An API key may come as `?key=` when the request asks for CSV (`format` absent or `csv`):
    # a spreadsheet importing a URL cannot send headers. Refused on every other route.
    key_in_query: bool = False


PUBLIC = Rule(None)
_METRIC = Rule(CATALOG, catalog_param="metric_id", limit="query")
_TABLE = Rule(CATALOG, catalog_param="table_id", limit="query")
_INGEST = Rule("ingest", scope="write", limit="ingest")
_ADMIN = Rule("admin", limit="query")

RULES: dict[str, Rule] = {
    # system and documentation
    "/healthz": PUBLIC,
    "/openapi.json": PUBLIC,
    "/docs": PUBLIC,
    "/docs/oauth2-redirect": PUBLIC,
    "/redoc": PUBLIC,
    # log-in
    "/login": PUBLIC,
    "/logout": Rule(SIGNED_IN),
    # ingestion (write keys)
    "/v1/batch": _INGEST,
    "/v1/track": _INGEST,
    "/v1/identify": _INGEST,
    "/v1/group": _INGEST,
    # catalog
    "/api/v1/metrics": Rule(SIGNED_IN, limit="query"),
    "/api/v1/metrics/{metric_id}": _METRIC,
    "/api/v1/tables": Rule(SIGNED_IN, limit="query"),
    "/api/v1/tables/{table_id}": _TABLE,
    # administration
    "/api/v1/audit": _ADMIN,
    "/api/v1/customers/{customer_id}": Rule("admin", scope="write", limit="query"),
    "/api/v1/customers/{customer_id}/export": Rule("admin", scope="export", limit="query"),
    # targets (SPEC §3): read by the program dashboard, set by platform admins (a setting)
    "/api/v1/targets": Rule(PROGRAM, limit="query"),
    "/api/v1/targets/{metric}/{period}": Rule("admin", scope="write", limit="query"),
    # web dashboards (src/pulse/web): pages by section; fragments by the ids they show
    "/": Rule(SIGNED_IN),
    "/partner": Rule("analytics"),
    "/experiences": Rule("experience"),
    "/program": Rule(PROGRAM),
    "/admin": Rule("platform"),
    "/web/tiles": Rule(CATALOG, catalog_param="ids"),
    "/web/benchmarks": Rule(CATALOG, catalog_param="ids"),
    "/web/charts/{metric_id}": Rule(CATALOG, catalog_param="metric_id"),
    "/web/breakdowns/{metric_id}": Rule(CATALOG, catalog_param="metric_id"),
    "/web/tables/{table_id}": Rule(CATALOG, catalog_param="table_id"),
    "/web/vendor/vega.js": Rule(SIGNED_IN),
    "/web/static": PUBLIC,  # a static-files mount: stylesheets and scripts, nothing of data
    # exports (SPEC §5): a catalog table (its section) or a seed 001 named export (admins)
    "/api/v1/exports/{name}": Rule(
        CATALOG, scope="export", catalog_param="name", limit="query", key_in_query=True
    ),
    # a dashboard page as PDF: the handler keeps the page's rule and the sections the role sees
    "/api/v1/exports/page/{page}": Rule(SIGNED_IN, scope="export", limit="query"),
    # alerts and action items (seed 003 §8; the program dashboard's alerts section)
    "/api/v1/alerts": Rule("alerts", limit="query"),
    "/api/v1/alerts/evaluate": Rule("admin", scope="write", limit="query"),
    "/api/v1/alert-rules": Rule("alerts", limit="query"),
    "/api/v1/alert-rules/threshold": Rule("admin", scope="write", limit="query"),
    "/api/v1/action-items": Rule("alerts", limit="query"),
    "/api/v1/action-items/status": Rule("alerts", scope="write", limit="query"),
    # reports: the list, a preview, and subscriptions (the bell icon of seed 002)
    "/api/v1/reports": Rule(SIGNED_IN, limit="query"),
    "/api/v1/reports/{name}": Rule(CATALOG, catalog_param="name", limit="query"),
    "/api/v1/reports/{name}/subscriptions": Rule(
        CATALOG, scope="write", catalog_param="name", limit="query"
    ),
}


def rule_for(path: str) -> Rule | None:
    """The rule of a route path (as in `app.routes`), or None when it has none (refused)."""
    return RULES.get(path)


def section_for(item_id: str) -> str | None:
    """The section of a metric or table id, from its prefix; None for an unmapped prefix."""
    return SECTION_OF_PREFIX.get(item_id.split(".", 1)[0])


@dataclass(frozen=True)
class Principal:
    """Who is asking: a signed-in user, an API key, or nobody (`anonymous`)."""

    kind: Literal["user", "key", "anonymous"]
    name: str  # user name, or `key:<id>`
    role: Role | None = None
    partner_id: str | None = None
    plan: str | None = None  # the partner's `plan` trait (partner principals only)
    scopes: frozenset[str] = field(default_factory=frozenset)
    csrf_token: str | None = None  # sessions only
    session: str | None = None  # hash of the session token (sessions only)
    key_id: str | None = None

    @property
    def full_plan(self) -> bool:
        """Partners on starter and up see full analytics; everyone else is not plan-gated."""
        return self.role != "partner" or self.plan in FULL_PLANS


ANONYMOUS = Principal("anonymous", "anonymous")


class Denied(Exception):
    """Refused: 401 (who are you?) or 403 (not for you), with the reason said to the caller."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def sees(principal: Principal, section: str | tuple[str, ...]) -> bool:
    """Whether the principal's role sees the section (or one of a tuple of sections)."""
    if principal.role is None:
        return False
    wanted = (section,) if isinstance(section, str) else section
    return any(s == SIGNED_IN or s in ROLE_SECTIONS[principal.role] for s in wanted)


def may_see_item(principal: Principal, item_id: str, per_partner: bool = True) -> bool:
    """Whether a metric or table belongs to a section the principal sees (and its plan allows)."""
    section = section_for(item_id)
    if section is None or not sees(principal, section):
        return False
    if principal.role == "partner":
        return per_partner and (principal.full_plan or item_id in EXPLORER_ITEMS)
    return True


def check(
    principal: Principal,
    rule: Rule,
    path_params: dict[str, str],
    query: dict[str, str],
    today: date,
) -> None:
    """Raise `Denied` unless the principal may call a route with `rule` and these parameters."""
    if rule.section is None:
        return
    if principal.kind == "anonymous" or principal.role is None:
        raise Denied(401, "sign in, or send an API key (Bearer token or HTTP Basic user name)")
    if rule.scope not in principal.scopes:
        raise Denied(403, f"this needs the `{rule.scope}` scope")
    if rule.catalog_param is None:
        _check_section(principal, rule.section)
    else:
        named = path_params.get(rule.catalog_param) or query.get(rule.catalog_param, "")
        for item in (i for i in named.split(",") if i):
            _check_section(principal, section_for(item) or "admin")  # unmapped: admins only
            _check_plan_item(principal, item)
    if principal.partner_id is not None:
        _check_partner(principal, query.get("partner"))
    if principal.role == "partner" and not principal.full_plan:
        _check_explorer(rule, query, today)


def _check_section(principal: Principal, section: str | tuple[str, ...]) -> None:
    if not sees(principal, section):
        shown = section if isinstance(section, str) else " or ".join(section)
        raise Denied(403, f"role {principal.role} does not see the {shown} section")


def _check_plan_item(principal: Principal, item: str) -> None:
    if not principal.full_plan and item not in EXPLORER_ITEMS:
        raise Denied(403, f"{item} needs the starter plan or above")


def _check_partner(principal: Principal, asked: str | None) -> None:
    if asked is not None and asked != principal.partner_id:
        raise Denied(403, "partner: you can only see your own partner's data")


def _check_explorer(rule: Rule, query: dict[str, str], today: date) -> None:
    """Explorer plan: no exports, no trends, nothing older than 30 days."""
    if rule.scope == "export":
        raise Denied(403, "exports need the starter plan or above")
    if query.get("series") or query.get("by"):
        raise Denied(403, "trends and breakdowns need the starter plan or above")
    start = history_start(query, today)
    if start is not None and start < today - timedelta(days=EXPLORER_HISTORY_DAYS - 1):
        raise Denied(403, f"the explorer plan shows the last {EXPLORER_HISTORY_DAYS} days only")


def history_start(query: dict[str, str], today: date) -> date | None:
    """First day a query reads (its window start); None when the handler will reject it anyway."""
    from pulse.metrics.windows import parse_date, parse_window

    try:
        as_of = parse_date(query["as_of"]) if query.get("as_of") else today
        return parse_window(query.get("window", "last_30d"), as_of).start
    except ValueError:
        return None


def forced_partner(principal: Principal, asked: str | None) -> str | None:
    """The partner a query is limited to: a partner principal's own, whatever it asked."""
    return principal.partner_id if principal.partner_id is not None else asked


def plain_answer(principal: Principal, answer: dict[str, object]) -> dict[str, object]:
    """Explorer partners get no trend: the comparison with the previous window is dropped."""
    if principal.full_plan:
        return answer
    return {**answer, "previous": None, "change_pct": None}
