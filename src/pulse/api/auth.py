"""Authentication and authorisation for every route, and the web log-in.

`authorize` is an app-wide dependency: for each request it finds the route's rule
(`access/policy.py`), applies the rate limit, resolves the principal (an API key as Bearer token
or HTTP Basic user name, or as `?key=` on CSV export links only, else the session cookie),
checks the rule, and for cookie-authenticated unsafe requests the CSRF token (form field
`csrf_token` or header `X-CSRF-Token`). Pages get a redirect to /login instead of a 401.
Handlers read the principal with `PrincipalDep`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, FastAPI, Form, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from itsdangerous import BadSignature
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.datastructures import QueryParams

from pulse.access import audit, keys, policy, principals, sessions, users
from pulse.access.policy import ANONYMOUS, Denied, Principal, Rule
from pulse.access.ratelimit import RateLimiter, retry_after
from pulse.settings import Settings
from pulse.store.store import Store

router = APIRouter(tags=["auth"])
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
KEY = "key"  # a credential kind, and the query parameter of CSV links
QUERY_KEY = "query_key"  # an API key from `?key=` (CSV links for spreadsheets)
SESSION = "session"
_templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent.parent / "web" / "templates"),
    autoescape=select_autoescape(["html"]),
)


def install(app: FastAPI, store: Store, settings: Settings) -> None:
    """Give the app its signing secret, rate limiter and log-in routes."""
    app.state.secret = sessions.app_secret(store, settings.secret_key)
    app.state.limiter = RateLimiter(
        {"ingest": settings.rate_ingest_per_minute, "query": settings.rate_query_per_minute}
    )
    app.include_router(router)


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


# -- the app-wide dependency ---------------------------------------------------------------------


def route_paths(app: FastAPI) -> dict[int, str]:
    """Each route object's full path template as `app.routes` lists it (prefix included).

    FastAPI keeps included routers unflattened: `scope["route"]` is the route as declared in its
    router (no prefix), so the full path is looked up by the route object.
    """
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # FastAPI before included routers were kept unflattened
        return {id(r): getattr(r, "path", "") for r in app.routes}
    found: dict[int, str] = {}
    for context in iter_route_contexts(app.routes):
        original = context.original_route
        path = context.path or ""
        # The same route object included under two prefixes would be ambiguous: refuse it.
        found[id(original)] = path if found.get(id(original), path) == path else ""
    return found


def route_path(request: Request) -> str:
    """The full path template of the route this request matched ("" if none)."""
    paths: dict[int, str] | None = getattr(request.app.state, "route_paths", None)
    if paths is None:
        paths = request.app.state.route_paths = route_paths(request.app)
    return paths.get(id(request.scope.get("route")), "")


async def authorize(request: Request) -> None:
    """Check the request against its route's rule; sets `request.state.principal`."""
    rule = policy.rule_for(route_path(request))
    request.state.principal = ANONYMOUS
    if rule is None:
        raise HTTPException(403, "this route has no access rule (access/policy.py RULES)")
    if rule.section is None:
        return
    try:
        credential = _credential(request, rule)
    except Denied as exc:
        raise _refusal(request, exc) from None
    finally:
        if KEY in request.query_params:
            _drop_query_key(request)
    _rate_limit(request, rule, credential)
    try:
        principal = await run_in_threadpool(_resolve, request, credential)
        request.state.principal = principal
        policy.check(
            principal,
            rule,
            dict(request.path_params),
            dict(request.query_params),
            datetime.now(UTC).date(),
        )
        if principal.kind == "user" and request.method not in SAFE_METHODS:
            await _check_csrf(request, principal)
        if principal.partner_id is not None and rule.scope != "write":
            _force_partner(request, principal.partner_id)
    except Denied as exc:
        await run_in_threadpool(audit_denial, request, exc)
        raise _refusal(request, exc) from None


def _force_partner(request: Request, partner_id: str) -> None:
    """A partner principal's request reads its own partner's data, whatever the handler does:
    the query string is rewritten with `partner=<own id>` before the handler's parameters are
    read (a `partner=` naming another partner has already been refused)."""
    pairs = [(k, v) for k, v in request.query_params.multi_items() if k != "partner"]
    _set_query(request, [*pairs, ("partner", partner_id)])


def _drop_query_key(request: Request) -> None:
    """A key read from `?key=` is taken out of the query string at once: the handler, the
    access log (the server logs the request's scope) and audit details never see it."""
    _set_query(request, [(k, v) for k, v in request.query_params.multi_items() if k != KEY])


def _set_query(request: Request, pairs: list[tuple[str, str]]) -> None:
    query = urlencode(pairs)
    request.scope["query_string"] = query.encode()
    request.__dict__["_query_params"] = QueryParams(query)  # Starlette caches the parsed query


def _credential(request: Request, rule: Rule) -> tuple[str, str] | None:
    """(KEY, secret), (QUERY_KEY, secret) or (SESSION, cookie), or None.

    `?key=` is taken only where the rule allows it and only for CSV (`format` absent or csv);
    anywhere else it is refused (400) rather than ignored, so a key pasted into a URL fails
    loudly. It is only ever looked up as an API key, never as a session."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value:
        return KEY, value.strip()
    if scheme.lower() == "basic" and value:
        try:
            user = base64.b64decode(value).decode().partition(":")[0]
        except (binascii.Error, UnicodeDecodeError):
            user = ""
        return KEY, user
    if KEY in request.query_params:
        if not (rule.key_in_query and request.query_params.get("format", "csv") == "csv"):
            raise Denied(
                400,
                "an API key in the URL (?key=) is accepted only on CSV export links; "
                "send it as Authorization: Bearer KEY",
            )
        return QUERY_KEY, request.query_params[KEY]
    cookie = request.cookies.get(sessions.COOKIE)
    return (SESSION, cookie) if cookie else None


def _rate_limit(request: Request, rule: Rule, credential: tuple[str, str] | None) -> None:
    if rule.limit is None:
        return
    if credential is None:
        caller = f"ip:{client_ip(request)}"
    else:
        caller = "c:" + hashlib.sha256(credential[1].encode()).hexdigest()[:24]
    limiter: RateLimiter = request.app.state.limiter
    wait = limiter.take(rule.limit, caller)
    if wait > 0:
        raise HTTPException(
            429, "rate limit: too many requests", headers={"Retry-After": retry_after(wait)}
        )


def _resolve(request: Request, credential: tuple[str, str] | None) -> Principal:
    store: Store = request.app.state.store
    settings: Settings = request.app.state.settings
    if credential is None:
        return ANONYMOUS
    kind, value = credential
    if kind == SESSION:
        return principals.from_session(store, value, request.app.state.secret) or ANONYMOUS
    found = principals.from_key(store, value) if value else None
    via = {"via": "query"} if kind == QUERY_KEY else {}
    if found is None:
        # A header key is named by its display prefix (as `pulse key list` shows it); a URL can
        # carry anything (a pasted cookie, a whole key), so it is named by its hash only.
        shown = keys.hash_key(value)[:12] if kind == QUERY_KEY else value[:10]
        audit.record(
            store,
            actor="anonymous",
            action="key_rejected",
            target=f"key:{shown}",
            ip=client_ip(request),
            detail={"path": request.url.path, **via},
        )
        raise Denied(401, "unknown or revoked API key")
    principal, key = found
    keys.touch(
        store,
        key,
        every_seconds=settings.audit_key_use_seconds,
        ip=client_ip(request),
        detail={"method": request.method, "path": request.url.path, **via},
    )
    return principal


async def _check_csrf(request: Request, principal: Principal) -> None:
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        field = (await request.form()).get(CSRF_FIELD)
        sent = field if isinstance(field, str) else None
    expected = principal.csrf_token or ""
    if not sent or not secrets.compare_digest(sent, expected):
        raise Denied(403, "CSRF token missing or wrong: reload the page and try again")


def audit_denial(request: Request, denial: Denied) -> None:
    """Refusals of a known principal are security events (seed 001: unauthorised API access)."""
    principal: Principal = request.state.principal
    if principal.kind == "anonymous":
        return
    audit.record(
        request.app.state.store,
        actor=principal.name,
        action="access_denied",
        target=request.url.path,
        ip=client_ip(request),
        detail={"method": request.method, "status": denial.status, "reason": denial.reason},
    )


def _refusal(request: Request, denial: Denied) -> HTTPException:
    if denial.status == 401 and _is_page(request):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return HTTPException(303, "sign in", headers={"Location": f"/login?next={quote(target)}"})
    headers = {"WWW-Authenticate": 'Bearer realm="pulse"'} if denial.status == 401 else None
    return HTTPException(denial.status, denial.reason, headers=headers)


def _is_page(request: Request) -> bool:
    return request.method == "GET" and not request.url.path.startswith(("/api/", "/v1/"))


def current_principal(request: Request) -> Principal:
    """The principal `authorize` resolved for this request."""
    principal: Principal = getattr(request.state, "principal", ANONYMOUS)
    return principal


def csrf_token(request: Request) -> str:
    """The session's CSRF token, for pages to put in forms (`csrf_token`) and htmx headers."""
    return current_principal(request).csrf_token or ""


# -- log-in and log-out ---------------------------------------------------------------------------


def _login_page(
    request: Request, *, error: str | None, next_url: str, status: int = 200, username: str = ""
) -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    html = _templates.get_template("login.html").render(
        error=error, next=next_url, csrf_token=token, username=username
    )
    response = HTMLResponse(html, status_code=status)
    signed = sessions.signer(request.app.state.secret, "pulse-login").sign(token).decode()
    response.set_cookie(
        sessions.LOGIN_CSRF_COOKIE,
        signed,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/login",
    )
    return response


def _safe_next(next_url: str | None) -> str:
    """Only a local path: never redirect a log-in to another site."""
    if not next_url or not next_url.startswith("/") or next_url.startswith(("//", "/\\")):
        return "/"
    return next_url


@router.get("/login", response_class=HTMLResponse, summary="The log-in page")
def login_page(request: Request, next: str = "/") -> HTMLResponse:
    return _login_page(request, error=None, next_url=_safe_next(next))


@router.post("/login", response_class=HTMLResponse, summary="Sign in (form post)")
def login(
    request: Request,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    next_url = _safe_next(next)
    if not _login_csrf_ok(request, csrf_token):
        return _login_page(
            request,
            error="The form expired: please sign in again.",
            next_url=next_url,
            status=403,
            username=username,
        )
    store: Store = request.app.state.store
    settings: Settings = request.app.state.settings
    outcome, user = users.authenticate(
        store,
        username,
        password,
        ip=client_ip(request),
        lockout=users.Lockout(settings.lockout_failures, settings.lockout_minutes),
    )
    if user is None:
        message = (
            f"Too many failed log-ins: try again in {settings.lockout_minutes} minutes."
            if outcome == "locked"
            else "Wrong user name or password."
        )
        status = 429 if outcome == "locked" else 401
        return _login_page(
            request, error=message, next_url=next_url, status=status, username=username
        )
    cookie, _ = sessions.start(
        store,
        user.username,
        hours=settings.session_hours,
        ip=client_ip(request),
        secret=request.app.state.secret,
    )
    response = RedirectResponse(next_url, status_code=303)
    response.set_cookie(
        sessions.COOKIE,
        cookie,
        max_age=int(settings.session_hours * 3600),
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    response.delete_cookie(sessions.LOGIN_CSRF_COOKIE, path="/login")
    return response


def _login_csrf_ok(request: Request, sent: str) -> bool:
    cookie = request.cookies.get(sessions.LOGIN_CSRF_COOKIE, "")
    try:
        expected = sessions.signer(request.app.state.secret, "pulse-login").unsign(cookie)
    except BadSignature:
        return False
    return bool(sent) and secrets.compare_digest(sent.encode(), expected)


@router.post("/logout", summary="Sign out (ends the session at once)")
def logout(request: Request) -> Response:
    principal = current_principal(request)
    store: Store = request.app.state.store
    if principal.session is not None:
        sessions.end(store, principal.session)
        audit.record(
            store,
            actor=principal.name,
            action="logout",
            target=f"user:{principal.name}",
            ip=client_ip(request),
        )
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(sessions.COOKIE)
    return response


def request_actor(request: Request) -> dict[str, Any]:
    """Actor and IP of a request, for `audit.record(store, **request_actor(request), ...)`."""
    return {"actor": current_principal(request).name, "ip": client_ip(request)}
