"""The log-in flow in a real Chromium (Playwright) against a real Pulse server."""

from __future__ import annotations

import shutil
from urllib.parse import urlparse

import pytest

from pulse.access import audit, users
from pulse.settings import Settings
from server import serving

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "correct horse battery staple"

pytestmark = pytest.mark.skipif(shutil.which(CHROMIUM) is None, reason="Debian chromium missing")


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            yield launched
        finally:
            launched.close()


def test_log_in_wrong_password_success_and_log_out(store, browser):
    users.add(store, "ada", PASSWORD, "platform_admin")
    with serving(store, Settings(db=store.url)) as base:
        page = browser.new_page()
        # an anonymous visit to a page lands on the log-in page
        page.goto(f"{base}/partner")
        assert urlparse(page.url).path == "/login"
        assert page.title() == "Sign in · Pulse"
        # wrong password: the page says so, no session
        page.fill("#username", "ada")
        page.fill("#password", "wrong")
        page.click("button[type=submit]")
        assert page.locator("#login-error").inner_text() == "Wrong user name or password."
        assert not [c for c in page.context.cookies() if c["name"] == "pulse_session"]
        # the right password: redirected to where the visit started
        page.fill("#username", "ada")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/partner")
        session = next(c for c in page.context.cookies() if c["name"] == "pulse_session")
        assert session["httpOnly"] and session["sameSite"] == "Lax"
        # from the log-in page itself, success goes to "/", the role's first dashboard
        page.goto(f"{base}/login")
        page.fill("#username", "ada")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/admin")
        # the session works for the API too
        assert page.request.get(f"{base}/api/v1/audit").status == 200
        # the dashboard shows who is signed in; its sign-out form carries the CSRF token
        assert page.locator(".session .who").inner_text() == "ada"
        page.click(".session button")
        page.wait_for_url(f"{base}/login")
        assert not [c for c in page.context.cookies() if c["name"] == "pulse_session"]
        assert page.request.get(f"{base}/api/v1/audit").status == 401
        logged = [e.action for e in audit.entries(store, actor="ada")]
        assert logged.count("login") == 2 and logged.count("login_failed") == 1
        assert logged[0] == "logout"
