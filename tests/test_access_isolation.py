"""Tenant isolation: every route of the app × every role, over real HTTP, on both engines.

The matrix is generated from `app.routes`: a route without an access rule fails the test, and a
route whose rule the test does not know is still checked against the role → section table below
(written from SPEC §4, independently of `access/policy.py`).
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute

from messages import group, identify, load
from pulse.access import keys
from pulse.access.policy import RULES
from pulse.api.app import create_app
from pulse.api.auth import route_paths
from pulse.settings import Settings
from server import serving

PROGRAM = {"summary", "affiliates", "agency", "integrations", "financials", "operational", "alerts"}
EVERYTHING = PROGRAM | {"analytics", "experience", "platform", "ingest", "admin", "signed_in"}
# SPEC §4: who sees which section (partners see their own analytics and experiences).
SEES: dict[str, set[str]] = {
    "platform_admin": EVERYTHING,
    "executive": PROGRAM | {"analytics", "signed_in"},
    "partner_manager": (PROGRAM - {"financials"}) | {"analytics", "signed_in"},
    "support": {"operational", "signed_in"},
    "marketing": {"affiliates", "agency", "integrations", "signed_in"},
    "partner_a": {"analytics", "experience", "ingest", "signed_in"},
    "partner_b_explorer": {"analytics", "experience", "ingest", "signed_in"},
}
# name → (role, partner, scopes); partner pA is on `starter`, pB on `explorer`.
PRINCIPALS: dict[str, tuple[str, str | None, set[str]]] = {
    "platform_admin": ("platform_admin", None, {"read", "write", "export"}),
    "executive": ("executive", None, {"read", "export"}),
    "partner_manager": ("partner_manager", None, {"read", "export"}),
    "support": ("support", None, {"read", "export"}),
    "marketing": ("marketing", None, {"read", "export"}),
    "partner_a": ("partner", "pA", {"read", "write", "export"}),
    "partner_b_explorer": ("partner", "pB", {"read", "write", "export"}),
}
# Sample catalog ids and the section each belongs to; only customers.total is an explorer item.
ITEMS = {
    "customers.total": "analytics",
    "revenue.mrr": "analytics",
    "finance.sample": "financials",
    "support.sample": "operational",
    "system.sample": "operational",
    "affiliates.sample": "affiliates",
    "agency.sample": "agency",
    "integrations.sample": "integrations",
    "partners.sample": "summary",
    "sessions.sample": "experience",
    "users.sample": "platform",
    "mystery.sample": "admin",  # an unmapped prefix: platform admins only
}
EXPLORER_ITEMS = {"customers.total"}
# Routes whose section and scope the test states itself (others: their rule in policy.py).
KNOWN: dict[str, tuple[Any, str]] = {
    "/v1/batch": ("ingest", "write"),
    "/v1/track": ("ingest", "write"),
    "/v1/identify": ("ingest", "write"),
    "/v1/group": ("ingest", "write"),
    "/api/v1/metrics": ("signed_in", "read"),
    "/api/v1/tables": ("signed_in", "read"),
    "/api/v1/audit": ("admin", "read"),
    "/api/v1/customers/{customer_id}": ("admin", "write"),
    "/api/v1/customers/{customer_id}/export": ("admin", "export"),
    "/api/v1/targets/{metric}/{period}": ("admin", "write"),
    "/logout": ("signed_in", "read"),
    "/partner": ("analytics", "read"),
    "/experiences": ("experience", "read"),
    "/admin": ("platform", "read"),
    "/program": (tuple(sorted(PROGRAM)), "read"),
}
BODIES = {"/v1/batch": {"batch": []}}
SAMPLES = {"customer_id": "nobody", "metric": "customers.total", "period": "2026-11", "page": "-"}
# ("page": an unknown page, so the rule is checked without rendering a PDF; which sections of a
# page each role gets is tested in test_export_page.py)
NO_LIMITS = {"rate_ingest_per_minute": 0, "rate_query_per_minute": 0}


def expected(name: str, section: Any, scope: str, item: str | None) -> bool:
    """Whether principal `name` may call a route of `section` needing `scope` (SPEC §4)."""
    _, _, scopes = PRINCIPALS[name]
    sections = {section} if isinstance(section, str) else set(section)
    if scope not in scopes or not sections & SEES[name]:
        return False
    if name == "partner_b_explorer":  # explorer: basic counts only, no exports
        return scope != "export" and (item is None or item in EXPLORER_ITEMS)
    return True


@pytest.fixture
def world(store):
    """Two partners (pA starter with 2 customers, pB explorer with 3), a B2C customer, keys."""
    load(
        store,
        group("pA", "2026-01-02", name="A", kind="reseller", plan="starter", status="active"),
        group("pB", "2026-01-02", name="B", kind="reseller", plan="explorer", status="active"),
        *[identify(f"a{i}", "2026-01-10", partner_id="pA", status="active") for i in range(2)],
        *[identify(f"b{i}", "2026-01-10", partner_id="pB", status="active") for i in range(3)],
        identify("direct1", "2026-01-10", status="active"),
    )
    secrets = {
        name: keys.create(store, role=role, scopes=scopes, partner_id=partner, label=name)
        for name, (role, partner, scopes) in PRINCIPALS.items()
    }
    settings = Settings(db=store.url, **NO_LIMITS)
    with serving(store, settings) as base, httpx.Client(base_url=base, timeout=60) as client:
        yield client, secrets, settings


def _routes(settings: Settings, store) -> list[tuple[str, str, bool]]:
    """(path, method, is_api_route) for every route of the app, as `app.routes` lists them."""
    app = create_app(store, settings)
    found = []
    for route in app.routes:
        for original, path in _flatten(app, route):
            methods = sorted(getattr(original, "methods", None) or {"GET"})
            for method in methods:
                if method != "HEAD":
                    found.append((path, method, isinstance(original, APIRoute)))
    return found


def _flatten(app, route) -> list[tuple[Any, str]]:
    paths = route_paths(app)
    if hasattr(route, "effective_route_contexts"):  # an included router (FastAPI ≥ 0.16x)
        return [
            (c.original_route, paths[id(c.original_route)])
            for c in route.effective_route_contexts()
        ]
    return [(route, route.path)]


def _urls(path: str, rule) -> list[tuple[str, dict[str, str], str | None]]:
    """Concrete (url, query, catalog item) for a route path; fails on an unknown parameter."""
    params = re.findall(r"{(\w+)(?::\w+)?}", path)
    catalog = rule.catalog_param
    if catalog is None:
        url = path
        for name in params:
            assert name in SAMPLES, f"{path}: add a sample value for {{{name}}} to SAMPLES"
            url = url.replace(f"{{{name}}}", SAMPLES[name])
        return [(url, {}, None)]
    out = []
    for item in ITEMS:
        if catalog in params:
            url = re.sub(r"{" + catalog + r"(?::\w+)?}", item, path)
            out.append((url, {}, item))
        else:
            out.append((path, {catalog: item}, item))
    return out


def _credentials(path: str, secret: str) -> dict[str, Any]:
    """Ingestion takes the key as HTTP Basic user name (Segment); the rest as a Bearer token."""
    if path.startswith("/v1/"):
        return {"auth": (secret, "")}
    return {"headers": {"Authorization": f"Bearer {secret}"}}


def _section_and_scope(path: str, rule, item: str | None) -> tuple[Any, str]:
    if item is not None:
        return ITEMS[item], rule.scope
    if path in KNOWN:
        return KNOWN[path]
    return rule.section, rule.scope


def test_every_route_has_a_rule_and_known_rules_match_the_spec(store):
    routes = _routes(Settings(db=store.url), store)
    assert routes, "no routes found"
    missing = sorted({p for p, _, _ in routes if p not in RULES})
    assert not missing, f"routes without an access rule in access/policy.py: {missing}"
    for path, _, is_api in routes:
        if not is_api:  # mounts and docs never run the dependency: they must be public
            assert RULES[path].section is None, f"{path} is not an API route: make it public"
    for path, (section, scope) in KNOWN.items():
        rule = RULES[path]
        got = rule.section if isinstance(rule.section, str) else tuple(sorted(rule.section))
        assert (got, rule.scope) == (section, scope), path


def test_isolation_matrix(world, store):
    client, secrets, settings = world
    failures = []
    checked = 0
    for path, method, is_api in _routes(settings, store):
        rule = RULES[path]
        if rule.section is None or not is_api:
            if method == "GET":
                response = client.get(path)
                assert response.status_code not in (401, 403), path
            continue
        for url, query, item in _urls(path, rule):
            section, scope = _section_and_scope(path, rule, item)
            anonymous = client.request(method, url, params=query, json=BODIES.get(path))
            if anonymous.status_code not in (401, 303):
                failures.append(f"anonymous {method} {url} {query}: {anonymous.status_code}")
            for name, secret in secrets.items():
                response = client.request(
                    method, url, params=query, json=BODIES.get(path), **_credentials(path, secret)
                )
                checked += 1
                allowed = expected(name, section, scope, item)
                refused = response.status_code in (401, 403)
                if allowed == refused:
                    failures.append(
                        f"{name} {method} {url} {query}: {response.status_code}, "
                        f"expected {'allowed' if allowed else 'refused'}: {response.text[:120]}"
                    )
    assert checked > 100
    assert not failures, "\n".join(failures)


def test_partner_a_cannot_ask_for_partner_b_and_is_forced_to_its_own(world):
    client, secrets, _ = world
    a = {"Authorization": f"Bearer {secrets['partner_a']}"}
    admin = {"Authorization": f"Bearer {secrets['platform_admin']}"}
    metric = "/api/v1/metrics/customers.total"
    assert client.get(metric, params={"partner": "pB"}, headers=a).status_code == 403
    assert client.get("/partner", params={"partner": "pB"}, headers=a).status_code == 403
    tiles = client.get("/web/tiles", params={"ids": "customers.total", "partner": "pB"}, headers=a)
    assert tiles.status_code == 403
    # customers.total: pA has a0, a1 → 2; pB b0..b2 → 3; all: 2 + 3 + direct1 = 6
    assert client.get(metric, headers=a).json()["value"] == 2
    assert client.get(metric, params={"partner": "pA"}, headers=a).json()["value"] == 2
    assert client.get(metric, headers=admin).json()["value"] == 6
    assert client.get(metric, params={"partner": "pB"}, headers=admin).json()["value"] == 3
    # a dashboard fragment is forced too, though it reads `partner` itself
    forced = client.get("/web/tiles", params={"ids": "customers.total"}, headers=a).json()
    assert forced["tiles"][0]["value"] == 2


def test_explorer_plan_gets_30_days_no_trends_no_exports(world):
    client, secrets, _ = world
    b = {"Authorization": f"Bearer {secrets['partner_b_explorer']}"}
    metric = "/api/v1/metrics/customers.total"
    answer = client.get(metric, headers=b).json()
    assert answer["value"] == 3 and answer["previous"] is None and answer["change_pct"] is None
    assert client.get(metric, params={"window": "last_3m"}, headers=b).status_code == 403
    assert client.get(metric, params={"as_of": "2026-01-31"}, headers=b).status_code == 403
    assert client.get(metric, params={"series": "week"}, headers=b).status_code == 403
    assert client.get(metric, params={"by": "status"}, headers=b).status_code == 403
    assert client.get("/api/v1/metrics/revenue.mrr", headers=b).status_code == 403
    listed = {m["id"] for m in client.get("/api/v1/metrics", headers=b).json()["metrics"]}
    assert "customers.total" in listed and "revenue.mrr" not in listed
    # the starter partner gets trends and history
    a = {"Authorization": f"Bearer {secrets['partner_a']}"}
    assert client.get(metric, params={"window": "last_3m", "by": "status"}, headers=a).is_success


def test_catalog_listing_shows_only_the_sections_a_role_sees(world):
    client, secrets, _ = world
    support = {"Authorization": f"Bearer {secrets['support']}"}
    admin = {"Authorization": f"Bearer {secrets['platform_admin']}"}
    seen = {m["id"] for m in client.get("/api/v1/metrics", headers=support).json()["metrics"]}
    everything = {m["id"] for m in client.get("/api/v1/metrics", headers=admin).json()["metrics"]}
    assert "customers.total" in everything and "customers.total" not in seen
    assert all(i.split(".")[0] in {"support", "system", "onboarding"} for i in seen)  # §6
