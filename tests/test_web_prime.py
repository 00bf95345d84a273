"""Priming: a page's default view asked in the background is served from remembered answers."""

from __future__ import annotations

import gc
import html
import re
import time
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest

from browser import Site, client_fixture, demo_store_fixture, site_fixture  # noqa: F401
from pulse.settings import Settings
from pulse.web.pages import find_page
from pulse.web.prime import prime, prime_page, start_priming, until_next_day
from pulse.web.scope import default_scope
from server import serving

FRAGMENT = re.compile(r'data-(?:tiles|fragment|chart)="([^"]+)"')


@pytest.mark.parametrize("slug", ["partner", "experiences"])
def test_a_primed_page_computes_nothing_when_visited(site: Site, client: httpx.Client, slug: str):
    page = find_page(slug)
    assert page is not None
    settings = Settings(db=site.store.url)
    asked = prime_page(site.store, settings, page, default_scope(settings.tz))
    wanted = len(page.metric_ids()) + len(page.table_ids())
    assert asked >= wanted * 0.9  # every number (on_demand tables are left to the click)
    computed = site.store.computed
    shell = client.get(page.path)
    assert shell.status_code == 200
    urls = [html.unescape(u) for u in FRAGMENT.findall(shell.text)]
    assert len(urls) >= 5
    for url in urls:
        assert client.get(url).status_code == 200, url
    assert site.store.computed == computed  # every fragment read a remembered answer


def test_the_next_days_views_are_primed_before_it_begins(site: Site, client: httpx.Client):
    page = find_page("experiences")
    assert page is not None
    settings = Settings(db=site.store.url)
    tomorrow = default_scope(settings.tz).as_of + timedelta(days=1)
    assert prime(site.store, settings, [page], as_of=tomorrow) > 0
    computed = site.store.computed
    shell = client.get(page.path, params={"as_of": tomorrow.isoformat()})  # as visited tomorrow
    urls = [html.unescape(u) for u in FRAGMENT.findall(shell.text)]
    assert len(urls) >= 5 and all(tomorrow.isoformat() in u for u in urls)
    for url in urls:
        assert client.get(url).status_code == 200, url
    assert site.store.computed == computed  # every number was ready before the day began


def test_the_next_day_is_primed_ten_minutes_before_midnight_utc():
    day = date(2026, 11, 22)
    noon = datetime(2026, 11, 22, 12, tzinfo=UTC)
    assert until_next_day(noon, day) == 11 * 3600 + 50 * 60  # until 23:50
    assert until_next_day(datetime(2026, 11, 22, 23, 55, tzinfo=UTC), day) == 0  # due now
    assert until_next_day(datetime(2026, 11, 23, 0, 5, tzinfo=UTC), day) == 0  # overdue


def test_health_tells_while_priming_runs_and_shutdown_stops_it(store):
    """Priming a store's default views takes seconds (hundreds of questions), so the first
    health check sees it running; the server's shutdown stops it after the current question."""
    with serving(store, Settings(db=store.url, refresh=True)) as base:
        assert httpx.get(base + "/healthz", timeout=30).json()["priming"] is True
    computed = store.computed  # shut down: priming stopped, no more questions are asked
    time.sleep(1.0)
    assert store.computed == computed
    with serving(store, Settings(db=store.url)) as base:  # PULSE_REFRESH=0
        assert httpx.get(base + "/healthz", timeout=30).json()["priming"] is False


def test_what_priming_built_is_frozen_until_shutdown(store):
    """Once primed, the server's long-lived objects are left out of the collector's full
    passes; shutting down hands them back, to be freed with the rest."""
    priming = start_priming(store, Settings(db=store.url))
    assert priming.primed.wait(300)
    try:
        assert not priming.running
        assert priming.thread.is_alive()  # waiting to prime the next day's views
        assert gc.get_freeze_count() > 0
    finally:
        priming.cancel()
    assert gc.get_freeze_count() == 0
