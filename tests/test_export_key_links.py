"""CSV links with the key in the URL (`?key=`): a spreadsheet that imports a URL cannot send
headers. Accepted only for CSV exports and only as an API key with the `export` scope (looked up
by hash, audited as key use); refused on every other route and format, never taken as a session;
the key never reaches the access log or the audit log in clear."""

from __future__ import annotations

import logging

import httpx
import pytest

from messages import load
from pulse.access import audit, keys, sessions, users
from pulse.settings import Settings
from server import serving
from test_access_auth import log_in
from test_exports import FEB, world

PARAMS = {"as_of": "2026-02-28", "window": FEB}
CSV = "/api/v1/exports/event_list"


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture
def site(store):
    """The uvicorn access log switched on and captured, as a server logging at info would."""
    load(store, *world())
    settings = Settings(db=store.url, audit_key_use_seconds=0, rate_query_per_minute=0)
    access = logging.getLogger("uvicorn.access")
    lines = Lines()
    with serving(store, settings) as base, httpx.Client(base_url=base, timeout=60) as client:
        level = access.level
        access.setLevel(logging.INFO)
        access.addHandler(lines)
        try:
            yield client, lines
        finally:
            access.removeHandler(lines)
            access.setLevel(level)


def audit_text(store) -> str:
    return "\n".join(f"{e.actor} {e.target} {e.detail}" for e in audit.entries(store, limit=1000))


def test_csv_link_with_key_in_the_query(site, store):
    client, access_log = site
    secret = keys.create(store, role="platform_admin", scopes={"read", "export"})
    key_id = keys.lookup(store, secret).id
    response = client.get(CSV, params={**PARAMS, "key": secret})
    assert response.status_code == 200, response.text
    assert response.text.splitlines()[1].startswith("occ1,Ann & Bo Wedding,ann-bo,p1")
    # audited as a use of that key (from the query) and as an export by it
    used = audit.entries(store, action="key_used")
    assert [(e.target, e.detail["via"], e.detail["path"]) for e in used] == [
        (f"key:{key_id}", "query", CSV)
    ]
    exported = audit.entries(store, action="export")
    assert [(e.actor, e.target) for e in exported] == [(f"key:{key_id}", "event_list")]
    # the key is nowhere in clear: not in the access log line, not in the audit log
    logged = [line for line in access_log.lines if CSV in line]
    assert len(logged) == 1 and "window=this_month" in logged[0]
    assert secret not in "\n".join(access_log.lines)
    assert secret not in audit_text(store) and secret[:10] not in audit_text(store)
    # a key without the export scope is refused, as with a header
    reader = keys.create(store, role="platform_admin", scopes={"read"})
    assert client.get(CSV, params={**PARAMS, "key": reader}).status_code == 403


def test_key_in_the_query_is_refused_elsewhere(site, store):
    client, access_log = site
    secret = keys.create(store, role="platform_admin", scopes={"read", "export"})
    refused = {
        "xlsx export": ("/api/v1/exports/event_list", {"format": "xlsx"}),
        "pdf export": ("/api/v1/exports/event_list", {"format": "pdf"}),
        "page snapshot": ("/api/v1/exports/page/partner", {"format": "pdf"}),
        "metric": ("/api/v1/metrics/customers.total", {}),
        "table": ("/api/v1/tables/partners.list", {}),
        "audit log": ("/api/v1/audit", {}),
        "dashboard page": ("/admin", {}),
    }
    for what, (path, extra) in refused.items():
        response = client.get(path, params={**PARAMS, **extra, "key": secret})
        assert response.status_code == 400, what
        assert "only on CSV export links" in response.json()["detail"], what
    # the same key as a header works there: the refusal is about where the key travels
    bearer = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/metrics/customers.total", headers=bearer).status_code == 200
    assert secret not in "\n".join(access_log.lines)
    assert secret not in audit_text(store)


def test_key_in_the_query_is_never_a_session(site, store):
    client, _ = site
    users.add(store, "ada", "correct horse battery staple", "platform_admin")
    assert log_in(client, "ada", "correct horse battery staple").status_code == 303
    cookie = client.cookies[sessions.COOKIE]
    # the session opens the export as a cookie ...
    assert client.get(CSV, params=PARAMS).status_code == 200
    client.cookies.clear()
    # ... but not as `?key=`: only API keys are looked up there (by hash); the rejection names
    # what was sent by its hash, never its text
    response = client.get(CSV, params={**PARAMS, "key": cookie})
    assert response.status_code == 401
    rejected = audit.entries(store, action="key_rejected")
    assert [e.target for e in rejected] == [f"key:{keys.hash_key(cookie)[:12]}"]
    assert rejected[0].detail == {"path": CSV, "via": "query"}
    assert cookie not in audit_text(store) and cookie[:10] not in audit_text(store)
