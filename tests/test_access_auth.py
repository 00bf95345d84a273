"""Log-in, sessions, CSRF, lock-out, API keys, rate limits and the audit log, on both engines."""

from __future__ import annotations

import inspect
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psycopg
import pytest

from pulse.access import audit, keys, users, write_keys
from pulse.access.ratelimit import RateLimiter
from pulse.settings import Settings
from pulse.store.schema import MIGRATIONS
from pulse.store.store import connect
from server import serving

PASSWORD = "correct horse battery staple"


def settings_for(store, **overrides) -> Settings:
    base = {"rate_ingest_per_minute": 0, "rate_query_per_minute": 0, "audit_key_use_seconds": 0}
    return Settings(db=store.url, **{**base, **overrides})


@pytest.fixture
def site(store):
    users.add(store, "ada", PASSWORD, "platform_admin")
    users.add(store, "sam", PASSWORD, "support")
    with serving(store, settings_for(store)) as base, httpx.Client(base_url=base) as client:
        yield client, store


def login_form(client: httpx.Client, next_url: str = "/") -> str:
    page = client.get("/login", params={"next": next_url})
    assert page.status_code == 200 and 'name="password"' in page.text
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def log_in(client: httpx.Client, username: str, password: str, next_url: str = "/"):
    token = login_form(client, next_url)
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token, "next": next_url},
    )


def csrf_of(store, username: str) -> str:
    rows = store.execute(
        "SELECT csrf_token FROM sessions WHERE username = ? AND revoked_at IS NULL", (username,)
    )
    return rows[-1][0]


def actions(store, **filters) -> list[str]:
    return [e.action for e in audit.entries(store, **filters)]


def test_log_in_sets_a_session_cookie_and_log_out_ends_it_at_once(site):
    client, store = site
    response = log_in(client, "ada", PASSWORD, next_url="/api/v1/audit")
    assert response.status_code == 303 and response.headers["location"] == "/api/v1/audit"
    cookie = response.headers["set-cookie"]
    assert "pulse_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain http here; see the https test below
    session = client.cookies["pulse_session"]
    assert client.get("/api/v1/audit").status_code == 200
    # log-out needs the session's CSRF token
    assert client.post("/logout").status_code == 403
    out = client.post("/logout", data={"csrf_token": csrf_of(store, "ada")})
    assert out.status_code == 303 and out.headers["location"] == "/login"
    # the old cookie is worthless now, even if a client kept it
    again = httpx.get(f"{client.base_url}/api/v1/audit", cookies={"pulse_session": session})
    assert again.status_code == 401
    assert actions(store, actor="ada")[:2] == ["logout", "access_denied"]
    assert "login" in actions(store, actor="ada")


def test_wrong_password_and_unknown_user_get_the_same_answer(site):
    client, store = site
    wrong = log_in(client, "ada", "nope")
    unknown = log_in(client, "nobody", "nope")
    assert wrong.status_code == unknown.status_code == 401
    assert "Wrong user name or password." in wrong.text and "pulse_session" not in client.cookies
    entries = audit.entries(store, action="login_failed")
    assert {e.target for e in entries} == {"user:ada", "user:nobody"}
    assert all(e.category == "security" and e.ip == "127.0.0.1" for e in entries)


def test_open_redirects_are_refused(site):
    client, _ = site
    assert log_in(client, "ada", PASSWORD, "//evil.example/x").headers["location"] == "/"


def test_log_in_form_needs_its_csrf_token(site):
    client, _ = site
    login_form(client)
    response = client.post("/login", data={"username": "ada", "password": PASSWORD})
    assert response.status_code == 403 and "pulse_session" not in client.cookies


def test_cookie_authenticated_unsafe_requests_need_the_csrf_token(site):
    client, store = site
    log_in(client, "ada", PASSWORD)
    url = "/api/v1/customers/nobody"
    assert client.delete(url).status_code == 403
    assert client.delete(url, headers={"X-CSRF-Token": "forged"}).status_code == 403
    # with the session's token the request reaches the handler (no such customer: 404)
    assert client.delete(url, headers={"X-CSRF-Token": csrf_of(store, "ada")}).status_code == 404
    denied = audit.entries(store, action="access_denied", actor="ada")
    assert len(denied) == 2 and "CSRF" in denied[0].detail["reason"]


def test_a_key_needs_no_csrf_token(site):
    client, store = site
    key = keys.create(store, role="platform_admin", scopes={"read", "write"})
    response = client.delete("/api/v1/customers/nobody", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 404


def test_session_cookie_is_secure_over_https(site):
    """Behind a TLS proxy (X-Forwarded-Proto from a trusted address) the cookies are Secure."""
    client, _ = site
    https = {"X-Forwarded-Proto": "https"}
    page = client.get("/login", headers=https)
    assert "; Secure" in page.headers["set-cookie"]
    # a client over plain http would not send a Secure cookie back: send it as a browser would
    login_cookie = re.search(r"pulse_login_csrf=([^;]+)", page.headers["set-cookie"]).group(1)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    response = client.post(
        "/login",
        data={"username": "ada", "password": PASSWORD, "csrf_token": token},
        headers={**https, "Cookie": f"pulse_login_csrf={login_cookie}"},
    )
    assert response.status_code == 303
    assert "; Secure" in response.headers["set-cookie"]


def test_five_failures_in_15_minutes_lock_the_user_out(site):
    client, store = site
    statuses = [log_in(client, "ada", f"guess{i}").status_code for i in range(5)]
    assert statuses == [401, 401, 401, 401, 429]
    locked = log_in(client, "ada", PASSWORD)
    assert locked.status_code == 429 and "Too many failed log-ins" in locked.text
    assert "pulse_session" not in client.cookies
    security = audit.entries(store, category="security", target="user:ada")
    assert [e.action for e in security].count("login_failed") == 5
    assert [e.action for e in security].count("user_locked") == 1  # at the 5th failure
    assert [e.action for e in security].count("login_blocked") == 1  # the retry
    # another user is not affected
    assert log_in(client, "sam", PASSWORD).status_code == 303


def test_lock_out_expires_and_counts_only_the_last_15_minutes(store):
    users.add(store, "ada", PASSWORD, "platform_admin")
    start = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)

    def attempt(minutes: float, password: str) -> str:
        at = start + timedelta(minutes=minutes)
        return users.authenticate(store, "ada", password, now=at)[0]

    # four failures at 0, 1, 2, 3 min; at 16 the one at 0 is older than 15 minutes
    assert [attempt(m, "x") for m in (0, 1, 2, 3)] == ["wrong"] * 4
    assert attempt(16, "x") == "wrong"  # within [1, 16]: 1, 2, 3, 16 → 4 failures
    assert attempt(16.1, "x") == "wrong"  # within [1.1, 16.1]: 2, 3, 16, 16.1 → 4
    assert attempt(16.2, "x") == "locked"  # 2, 3, 16, 16.1, 16.2 → 5: locked until 31.2
    assert attempt(20, PASSWORD) == "locked"  # the lock holds with the right password
    assert attempt(31.3, PASSWORD) == "ok"  # 15 minutes after the lock
    # a success resets the count: four failures, a success, then one failure is just wrong
    assert [attempt(32 + m, "x") for m in range(4)] == ["wrong"] * 4
    assert attempt(36, PASSWORD) == "ok"
    assert attempt(37, "x") == "wrong"
    assert [e.action for e in audit.entries(store, action="user_locked")] == ["user_locked"]
    assert len(audit.entries(store, action="login_blocked")) == 1


def test_a_disabled_user_is_out_at_once(site):
    client, store = site
    log_in(client, "sam", PASSWORD)
    assert client.get("/api/v1/metrics").status_code == 200
    assert users.disable(store, "sam", actor="ada")
    assert client.get("/api/v1/metrics").status_code == 401
    assert log_in(client, "sam", PASSWORD).status_code == 401
    assert audit.entries(store, action="user_disabled")[0].actor == "ada"


def test_pages_redirect_anonymous_visitors_to_the_log_in_page(site):
    client, _ = site
    response = client.get("/partner", params={"window": "last_3m"})
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/partner%3Fwindow%3Dlast_3m"


def test_a_revoked_key_is_refused_at_once_and_use_is_recorded(site):
    client, store = site
    key = keys.create(store, role="executive", scopes={"read"}, label="board deck", actor="ada")
    bearer = {"Authorization": f"Bearer {key}"}
    assert client.get("/api/v1/metrics/customers.total", headers=bearer).status_code == 200
    # HTTP Basic works too (key as user name, as for ingestion)
    assert client.get("/api/v1/metrics", auth=(key, "")).status_code == 200
    found = keys.lookup(store, key)
    assert found is not None and found.last_used_at is not None
    assert keys.revoke(store, found.id, actor="ada")
    refused = client.get("/api/v1/metrics", headers=bearer)
    assert refused.status_code == 401 and "revoked" in refused.json()["detail"]
    assert not keys.revoke(store, found.id)
    target = f"key:{found.id}"
    assert actions(store, target=target) == ["key_revoked", "key_used", "key_used", "key_created"]
    rejected = audit.entries(store, action="key_rejected")
    assert rejected[0].category == "security" and rejected[0].target == f"key:{key[:10]}"
    # the key is stored hashed: its secret appears nowhere in the store
    assert store.execute("SELECT count(*) FROM api_keys WHERE key_hash = ?", (key,))[0][0] == 0


def test_key_use_is_recorded_once_per_period(store):
    key = keys.create(store, role="executive", scopes={"read"})
    settings = settings_for(store, audit_key_use_seconds=3600)
    with serving(store, settings) as base:
        for _ in range(3):
            httpx.get(f"{base}/api/v1/metrics", headers={"Authorization": f"Bearer {key}"})
    assert actions(store, action="key_used") == ["key_used"]


def test_scopes_are_enforced(site):
    client, store = site
    reader = keys.create(store, role="platform_admin", scopes={"read"})
    response = client.delete("/api/v1/customers/x", headers={"Authorization": f"Bearer {reader}"})
    assert response.status_code == 403 and "write" in response.json()["detail"]
    batch = client.post("/v1/batch", json={"batch": []}, auth=(reader, ""))
    assert batch.status_code == 403


def test_query_rate_limit_answers_429_with_retry_after(store):
    key = keys.create(store, role="platform_admin", scopes={"read"})
    other = keys.create(store, role="platform_admin", scopes={"read"})
    settings = settings_for(store, rate_query_per_minute=3)
    with serving(store, settings) as base, httpx.Client(base_url=base) as client:
        got = [
            client.get("/api/v1/metrics", headers={"Authorization": f"Bearer {key}"})
            for _ in range(4)
        ]
        assert [r.status_code for r in got] == [200, 200, 200, 429]
        # 3 per minute = one token every 20 s
        assert 1 <= int(got[-1].headers["retry-after"]) <= 20
        # another key has its own bucket; the health check is not limited
        assert client.get("/api/v1/metrics", auth=(other, "")).status_code == 200
        assert client.get("/healthz").status_code == 200


def test_ingestion_rate_limit_is_its_own(store):
    key = write_keys.create(store)
    settings = settings_for(store, rate_ingest_per_minute=2, rate_query_per_minute=0)
    with serving(store, settings) as base, httpx.Client(base_url=base) as client:
        codes = [client.post("/v1/batch", json={"batch": []}, auth=(key, "")) for _ in range(3)]
        assert [r.status_code for r in codes] == [200, 200, 429]
        assert int(codes[-1].headers["retry-after"]) >= 1


def test_token_bucket_refills_over_time():
    now = [0.0]
    limiter = RateLimiter({"query": 60}, clock=lambda: now[0])  # one token per second
    assert all(limiter.take("query", "k") == 0 for _ in range(60))
    assert limiter.take("query", "k") == pytest.approx(1.0)
    now[0] = 0.5
    assert limiter.take("query", "k") == pytest.approx(0.5)
    now[0] = 1.5
    assert limiter.take("query", "k") == 0
    assert limiter.take("query", "other") == 0
    assert RateLimiter({"query": 0}).take("query", "k") == 0  # 0: no limit


def test_audit_api_filters_and_is_for_platform_admins(site):
    client, store = site
    log_in(client, "ada", PASSWORD)
    early = datetime(2026, 1, 1, tzinfo=UTC)
    audit.record(store, actor="bob", action="export", target="table:x", now=early)
    audit.record(store, actor="bob", action="settings_changed", target="tz", now=early)
    got = client.get("/api/v1/audit", params={"actor": "bob"}).json()["entries"]
    assert [e["action"] for e in got] == ["settings_changed", "export"]
    assert got[1]["category"] == "export" and got[1]["ts"] == "2026-01-01T00:00:00+00:00"
    one = client.get("/api/v1/audit", params={"action": "login", "limit": 1}).json()["entries"]
    assert len(one) == 1 and one[0]["actor"] == "ada" and one[0]["ip"] == "127.0.0.1"
    recent = client.get("/api/v1/audit", params={"since": "2026-02-01"}).json()["entries"]
    assert "bob" not in {e["actor"] for e in recent}
    old = client.get("/api/v1/audit", params={"until": "2026-01-02"}).json()["entries"]
    assert {e["actor"] for e in old} == {"bob"}
    assert client.get("/api/v1/audit", params={"since": "soon"}).status_code == 422
    sam = httpx.Client(base_url=str(client.base_url))
    log_in(sam, "sam", PASSWORD)
    assert sam.get("/api/v1/audit").status_code == 403


def test_audit_log_is_append_only(store):
    audit.record(store, actor="ada", action="export", target="table:x")
    # no code path changes or removes an entry
    pattern = re.compile(r"(UPDATE|DELETE\s+FROM|TRUNCATE)\s+audit_log", re.IGNORECASE)
    sources = Path(inspect.getfile(audit)).parent.parent.rglob("*.py")
    assert not [p for p in sources if pattern.search(p.read_text())]
    if store.engine == "postgres":
        for statement in ("UPDATE audit_log SET actor = 'eve'", "DELETE FROM audit_log"):
            with pytest.raises(psycopg.Error, match="append-only"):
                store.execute(statement)
        with pytest.raises(psycopg.Error, match="append-only"):
            store.execute("TRUNCATE audit_log")
    assert [e.actor for e in audit.entries(store)] == ["ada"]


def test_unknown_audit_actions_are_refused(store):
    with pytest.raises(KeyError):
        audit.record(store, actor="ada", action="made_up")


def test_version_1_write_keys_become_write_api_keys(store_url):
    """A store made before schema 3 keeps its write keys working after the upgrade."""
    old = connect(store_url, migrate=False)
    old.schema_version()
    for migration in MIGRATIONS:
        if migration.version >= 3:
            break
        with old.transaction() as cur:
            for statement in migration.statements:
                cur.execute(statement)
            cur.execute(
                old.placeholders("INSERT INTO pulse_migrations VALUES (?, ?, ?)"),
                (migration.version, migration.name, datetime.now(UTC)),
            )
    secret, partner_secret = "pk_old-platform-key", "pk_old-partner-key"
    for key, partner in ((secret, None), (partner_secret, "p1")):
        old.execute(
            "INSERT INTO write_keys (key_hash, prefix, partner_id, label, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (keys.hash_key(key), key[:10], partner, "old", datetime.now(UTC)),
        )
    assert old.migrate() >= 3
    assert write_keys.lookup(old, secret) == write_keys.WriteKey("pk_old-pla", None, "old")
    assert write_keys.lookup(old, partner_secret).partner_id == "p1"
    migrated = keys.lookup(old, partner_secret)
    assert (migrated.role, migrated.scopes) == ("partner", frozenset({"write"}))
    old.close()


def test_grants_are_checked(store):
    with pytest.raises(ValueError, match="partner"):
        keys.create(store, role="partner", scopes={"read"})
    with pytest.raises(ValueError, match="partner"):
        keys.create(store, role="executive", scopes={"read"}, partner_id="p1")
    with pytest.raises(ValueError, match="scopes"):
        keys.create(store, role="executive", scopes={"admin"})
    with pytest.raises(ValueError, match="role"):
        users.add(store, "x", "pw", "root")
    password = "open sesame!"  # a space and "!" never occur in the hash's base64 text
    users.add(store, "x", password, "support")
    with pytest.raises(ValueError, match="exists"):
        users.add(store, "x", password, "support")
    stored = store.execute("SELECT password_hash FROM users WHERE username = 'x'")[0][0]
    assert stored.startswith("$argon2id$") and password not in stored
