"""Web test fixtures: the demo platform served over HTTP, and one real browser per session.

Import the `*_fixture` functions into a test module to use them.

Debian's Chromium driven by Playwright (`playwright install` cannot download browsers here);
the flags keep Chromium from calling hosts the closed network refuses.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from pulse.access import keys
from pulse.demo import iter_messages
from pulse.ingest.pipeline import ingest_chunks, message_chunks
from pulse.store.store import Store, connect
from server import serving

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DEMO_END = date(2026, 11, 22)
AS_OF = DEMO_END.isoformat()
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


@dataclass(frozen=True)
class Site:
    """The served demo platform: base URL, a platform-admin read key and the store."""

    base: str
    key: str
    store: Store

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


@pytest.fixture(scope="session", name="demo_store")
def demo_store_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """The `small` demo (seed 7, ending 2026-11-22) in a DuckDB file, built once."""
    store = connect(str(tmp_path_factory.mktemp("web") / "demo.duckdb"))
    ingest_chunks(store, [("demo", message_chunks(iter_messages("small", 7, DEMO_END)))])
    try:
        yield store
    finally:
        store.close()


@pytest.fixture(scope="session", name="site")
def site_fixture(demo_store: Store) -> Iterator[Site]:
    key = keys.create(demo_store, role="platform_admin", scopes={"read"}, label="web tests")
    with serving(demo_store) as base:
        yield Site(base, key, demo_store)


@pytest.fixture(name="client")
def client_fixture(site: Site) -> Iterator[httpx.Client]:
    """An HTTP client of the served demo, signed in with the site's key."""
    with httpx.Client(base_url=site.base, headers=site.headers, timeout=120) as opened:
        yield opened


def wait_for_chromium(timeout: float = 180.0) -> None:
    """scripts/setup installs Debian chromium; on a fresh machine it may still be installing."""
    deadline = time.monotonic() + timeout
    while not os.access(CHROMIUM, os.X_OK):
        if time.monotonic() > deadline:
            pytest.fail(f"{CHROMIUM} is not installed (apt-get install -y chromium)")
        time.sleep(2)


@pytest.fixture(scope="session", name="browser")
def browser_fixture() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    wait_for_chromium()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            launched.close()


@dataclass
class Watch:
    """What went wrong in a page: console errors, uncaught exceptions, failed responses."""

    errors: list[str] = field(default_factory=list)

    def attach(self, page: Any) -> None:
        page.on("console", lambda m: m.type == "error" and self.errors.append(f"console: {m.text}"))
        page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        page.on(
            "response",
            lambda r: r.status >= 400 and self.errors.append(f"HTTP {r.status} {r.url}"),
        )


@pytest.fixture(name="tab")
def tab_fixture(browser: Any, site: Site) -> Iterator[tuple[Any, Watch]]:
    """A fresh page (own context) signed in with the admin key, and its error watch."""
    context = browser.new_context(
        viewport=DESKTOP, extra_http_headers=site.headers, base_url=site.base
    )
    page = context.new_page()
    page.set_default_timeout(30_000)
    watch = Watch()
    watch.attach(page)
    try:
        yield page, watch
    finally:
        context.close()
