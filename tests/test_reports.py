"""Reports: rendered from the catalog, delivered to a real SMTP server (aiosmtpd on loopback)
and a real webhook receiver (http.server on loopback); subscriptions (seed 002's bell) over the
API; the scheduler's jobs; the CLI."""

from __future__ import annotations

import email
import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email import policy
from email.message import Message
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from typer.testing import CliRunner

from messages import group, identify, load, track
from pulse.access import keys
from pulse.cli import app as cli_app
from pulse.metrics import CATALOG
from pulse.metrics.engine import Engine, Query
from pulse.reports import claims, subscriptions
from pulse.reports.catalog import REPORTS
from pulse.reports.run import (
    check_alerts,
    check_alerts_scheduled,
    preview,
    run_report,
    run_scheduled,
)
from pulse.reports.schedule import build_scheduler
from pulse.settings import Settings
from pulse.store.store import Store, connect
from pulse.web.format import format_value
from server import free_port, serving

AS_OF = date(2026, 2, 28)


# -- real receivers -------------------------------------------------------------------------------


@dataclass
class Inbox:
    messages: list[Message] = field(default_factory=list)
    recipients: list[list[str]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


@pytest.fixture
def hook() -> Iterator[tuple[list[dict[str, Any]], str]]:
    received: list[dict[str, Any]] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            received.append(json.loads(self.rfile.read(length)))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield received, f"http://127.0.0.1:{server.server_address[1]}/hook"
    finally:
        server.shutdown()
        server.server_close()


def settings_for(store: Any, port: int) -> Settings:
    return Settings(db=store.url, smtp_host="127.0.0.1", smtp_port=port, smtp_from="pulse@test")


def html_of(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/html":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode(part.get_content_charset() or "utf-8")
    raise AssertionError("no HTML part")


def shown(html: str) -> dict[str, str]:
    """KPI values as the e-mail shows them, by metric id."""
    return dict(re.findall(r'data-metric="([\w.]+)">([^<]*)<', html))


def catalog_text(store: Any, metric: str, window: str, **options: Any) -> str:
    answer = Engine(store, CATALOG).evaluate(Query(metric, AS_OF, window, **options))
    return format_value(answer["value"], CATALOG.get(metric).unit)


def platform_day() -> list[dict[str, Any]]:
    """Feb 27: 1 new customer; Feb 28: 2 new customers, 3 generations, one $120 invoice."""
    return [
        identify("c0", "2026-02-27 09:00", status="active"),
        identify("c1", "2026-02-28 09:00", status="active"),
        identify("c2", "2026-02-28 10:00", status="active"),
        *[
            track(
                "generation_created",
                f"2026-02-28 1{i}:00",
                user="c1",
                style_id="s1",
                occasion_id="o1",
                status="succeeded",
            )
            for i in range(3)
        ],
        track("invoice_paid", "2026-02-28 11:00", user="c1", amount=120, kind="subscription"),
    ]


# -- tests ----------------------------------------------------------------------------------------


def test_daily_summary_by_email_and_webhook(store, smtp, hook):
    inbox, port = smtp
    received, url = hook
    load(store, *platform_day())
    dead = f"http://127.0.0.1:{free_port()}/hook"  # nobody listens: reported, not raised
    results = run_report(
        store, settings_for(store, port), "platform.daily", AS_OF, ["ops@example.com"], [url, dead]
    )
    assert results[0]["email"] == ["ops@example.com"] and results[0]["webhook"] == [url]
    assert results[0]["failed"] == [dead]
    (message,) = inbox.messages
    assert inbox.recipients == [["ops@example.com"]]
    assert message["Subject"].startswith("Daily platform summary · 2026-02-28..2026-02-28")
    html = html_of(message)
    values = shown(html)
    day = "2026-02-28..2026-02-28"
    # the e-mail's numbers are the catalog's: 2 new customers (1 the day before: ▲ 100 %),
    # 3 generations, $120.00 revenue
    assert values["customers.new"] == "2" == catalog_text(store, "customers.new", day)
    assert values["generations.total"] == "3" == catalog_text(store, "generations.total", day)
    assert values["revenue.total"] == "$120.00" == catalog_text(store, "revenue.total", day)
    for metric in REPORTS["platform.daily"].kpis:
        assert values[metric] == catalog_text(store, metric, day), metric
    assert "▲ 100.0%" in html
    # the chart is a PNG attached inline and referenced by its Content-ID
    images = [p for p in message.walk() if p.get_content_type() == "image/png"]
    assert len(images) == 1 and images[0]["Content-ID"] == "<pulse-chart>"
    assert images[0].get_payload(decode=True)[:8] == b"\x89PNG\r\n\x1a\n"
    assert 'src="cid:pulse-chart"' in html
    # the webhook got Slack-compatible JSON with the same numbers
    (body,) = received
    assert body["blocks"][0]["type"] == "header"
    assert "New customers: 2 ▲ 100.0%" in body["text"]
    fields = [f["text"] for b in body["blocks"][1:] for f in b["fields"]]
    assert "*Generations*\n3" in fields[3]


def test_html_escapes_data(store):
    # a style named like markup is shown as text in the daily summary's style table
    load(store, *platform_day(), group("s1", "2026-01-01", entity="style", name="<b>x</b>"))
    html = preview(store, Settings(db=store.url), "platform.daily", AS_OF).html
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "<b>x</b>" not in html


def test_experience_report_subscription_via_api(store, smtp):
    """Seed 002's bell: partner p1 subscribes to experience x1's daily report; the e-mail shows
    x1's numbers for p1 only."""
    inbox, port = smtp
    load(
        store,
        group("p1", "2026-01-01", kind="reseller", plan="starter", status="active"),
        identify("c1", "2026-02-01", partner_id="p1", status="active"),
        identify("c2", "2026-02-01", partner_id="p2", status="active"),
        # Feb 28: x1 opened twice by p1's customer, once by p2's; x2 once
        track("chat_opened", "2026-02-28 10:00", "c1", experience_id="x1"),
        track("chat_opened", "2026-02-28 11:00", "c1", experience_id="x1"),
        track("chat_opened", "2026-02-28 12:00", "c2", experience_id="x1"),
        track("chat_opened", "2026-02-28 13:00", "c1", experience_id="x2"),
    )
    partner = keys.create(store, role="partner", partner_id="p1", scopes={"read", "write"})
    reader = keys.create(store, role="executive", scopes={"read"})
    auth = {"Authorization": f"Bearer {partner}"}
    url = "/api/v1/reports/experiences.daily/subscriptions"
    with serving(store) as base, httpx.Client(base_url=base, timeout=60) as client:
        body = {"address": "anna@p1.example", "experience": "x1"}
        made = client.post(url, json=body, headers=auth)
        assert made.status_code == 200 and made.json()["partner_id"] == "p1"
        assert (
            client.post(url, json={"address": "anna@p1.example"}, headers=auth).status_code == 422
        )
        bad = {"address": "nope", "experience": "x1"}
        assert client.post(url, json=bad, headers=auth).status_code == 422
        hooked = {"address": "http://127.0.0.1:9/x", "channel": "webhook", "experience": "x1"}
        assert client.post(url, json=hooked, headers=auth).status_code == 403  # admins only
        assert (
            client.post(
                "/api/v1/reports/nope.daily/subscriptions",
                json=body,
                headers={"Authorization": f"Bearer {reader}"},
            ).status_code
            == 403
        )
        listed = client.get("/api/v1/reports", headers=auth).json()["reports"]
        assert "experiences.daily" in {r["id"] for r in listed}
        run_report(store, settings_for(store, port), "experiences.daily", AS_OF)
        (message,) = inbox.messages
        assert "x1" in message["Subject"]
        # x1 for p1 on Feb 28: 2 chat starts (c2 belongs to p2; the x2 start is another one)
        assert shown(html_of(message))["chat.starts"] == "2"
        gone = client.delete(
            url, params={"address": "anna@p1.example", "experience": "x1"}, headers=auth
        )
        assert gone.status_code == 200
        again = client.delete(
            url, params={"address": "anna@p1.example", "experience": "x1"}, headers=auth
        )
        assert again.status_code == 404
    inbox.messages.clear()
    assert run_report(store, settings_for(store, port), "experiences.daily", AS_OF) == []
    assert inbox.messages == []


@pytest.mark.parametrize("name", ["program.monthly", "program.quarterly"])
def test_each_report_shows_the_catalog_numbers_for_its_window(store, name):
    load(store, *platform_day())
    rendered = preview(store, Settings(db=store.url), name, AS_OF)
    report = REPORTS[name]
    # monthly: February; quarterly: the 90 days to Feb 28 (daily and weekly: a plain range)
    window = {
        "program.monthly": "this_month",
        "program.quarterly": "2025-12-01..2026-02-28",
    }[name]
    assert report.window(AS_OF) == window
    values = shown(rendered.html)
    assert list(values) == list(report.kpis)
    for metric in report.kpis:
        assert values[metric] == catalog_text(store, metric, window), metric
    assert rendered.png is not None and rendered.png[:4] == b"\x89PNG"


def load_error_spike(store) -> None:
    """Feb 28: 1 error over 10 operations = 10 % > 5 % (the error-rate rule fires)."""
    load(
        store,
        track("error_logged", "2026-02-28 09:00", group="platform", source="api", message="x"),
        *[
            track("credits_consumed", "2026-02-28 10:00", user="c1", credits=1, source="other")
            for _ in range(10)
        ],
    )


def test_new_alerts_are_posted_to_the_alert_webhook_once(store, hook):
    received, url = hook
    load_error_spike(store)
    settings = Settings(db=store.url, alert_webhooks=(url,))
    now = datetime(2026, 2, 28, 12, 0, tzinfo=UTC)
    rules = ["system_pulse_red", "error_rate_high", "new_partner_application"]
    fired = check_alerts(store, settings, now, rules)
    # 10 % also turns System Pulse's error-rate light red (warning above 3 %)
    assert [f.rule.id for f in fired] == ["system_pulse_red", "error_rate_high"]
    (body,) = received
    assert body["text"] == (
        "Pulse alerts\n🔴 CRITICAL: System Pulse is red (error_rate)\n"
        "🔴 CRITICAL: Error rate 10.0% today (threshold 5%)"
    )
    assert check_alerts(store, settings, now, rules) == [] and len(received) == 1  # once


def test_report_windows_end_on_the_last_complete_day():
    # daily: the day; weekly: 7 days; monthly: the month so far; quarterly: 90 days
    assert [REPORTS[n].window(AS_OF) for n in REPORTS] == [
        "2026-02-28..2026-02-28",
        "2026-02-28..2026-02-28",
        "2026-02-22..2026-02-28",
        "this_month",
        "2025-12-01..2026-02-28",
    ]


def test_scheduler_has_every_report_and_the_alert_job(store):
    scheduler = build_scheduler(store, Settings(db=store.url))
    ids = {job.id for job in scheduler.get_jobs()}
    assert ids == {f"report:{r}" for r in REPORTS} | {"alerts"}


def test_serve_starts_the_scheduler_only_when_enabled(store):
    import asyncio

    from pulse.api.app import create_app

    async def check(app: Any, running: bool) -> None:
        async with app.router.lifespan_context(app):
            scheduler = app.state.scheduler
            assert (scheduler is not None and scheduler.running) == running
            if running:
                assert scheduler.get_job("alerts") is not None
        if running:
            assert not scheduler.running  # stopped with the app

    asyncio.run(check(create_app(store, Settings(db=store.url, scheduler=True)), True))
    asyncio.run(check(create_app(store, Settings(db=store.url)), False))


def test_preview_api_shows_the_catalog_numbers(store):
    load(store, *platform_day())
    key = keys.create(store, role="platform_admin", scopes={"read"})
    support = keys.create(store, role="support", scopes={"read"})
    with serving(store) as base, httpx.Client(base_url=base, timeout=60) as client:
        got = client.get(
            "/api/v1/reports/platform.daily",
            params={"as_of": "2026-02-28"},
            headers={"Authorization": f"Bearer {key}"},
        )
        assert got.status_code == 200
        kpis = {k["id"]: k["value"] for k in got.json()["kpis"]}
        assert (kpis["customers.new"], kpis["generations.total"]) == (2, 3)
        assert got.json()["webhook"]["blocks"][0]["type"] == "header"
        refused = client.get(
            "/api/v1/reports/platform.daily", headers={"Authorization": f"Bearer {support}"}
        )
        assert refused.status_code == 403  # the platform section is the operator's


def test_cli_report_send(store, smtp):
    inbox, port = smtp
    load(store, *platform_day())
    store.close()
    env = {"PULSE_SMTP_HOST": "127.0.0.1", "PULSE_SMTP_PORT": str(port)}
    result = CliRunner().invoke(
        cli_app,
        [
            "report",
            "platform.daily",
            "--send",
            "--to",
            "cli@example.com",
            "--as-of",
            "2026-02-28",
            "--db",
            store.url,
        ],
        env=env,
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)[0]["email"] == ["cli@example.com"]
    assert inbox.messages[0]["To"] == "cli@example.com"


def other_process(store: Store) -> Store:
    """What a second `pulse serve` or `pulse worker` has: its own connection to the store
    (PostgreSQL). A DuckDB file is opened by one process only, whose threads share it."""
    return connect(store.url) if store.engine == "postgres" else store


def race(*calls: Any) -> list[Any]:
    """Run the calls at the same moment on threads; their results in call order."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        results[i] = calls[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_a_scheduled_report_is_sent_once_by_competing_processes(store, smtp):
    inbox, port = smtp
    load(store, *platform_day())
    subscriptions.subscribe(store, "platform.daily", "ops@example.com")
    settings = settings_for(store, port)
    other = other_process(store)
    at_six = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)  # the 06:00 run covers Feb 28
    try:
        results = race(
            lambda: run_scheduled(store, settings, "platform.daily", at_six),
            lambda: run_scheduled(other, settings, "platform.daily", at_six),
        )
        # one process claimed (report, 2026-02-28) and sent; the other found it taken
        assert sorted(r is None for r in results) == [False, True]
        sent = next(r for r in results if r is not None)
        assert sent[0]["email"] == ["ops@example.com"]
        (message,) = inbox.messages
        assert inbox.recipients == [["ops@example.com"]]
        assert message["Subject"].startswith("Daily platform summary · 2026-02-28..2026-02-28")
        assert claims.claimed_by(store, "report:platform.daily", "2026-02-28") is not None
        # a late third attempt at the same run sends nothing; the next day's run is a new one
        assert run_scheduled(other, settings, "platform.daily", at_six) is None
        assert len(inbox.messages) == 1
        assert run_scheduled(other, settings, "platform.daily", at_six + timedelta(days=1))
        assert len(inbox.messages) == 2
        assert inbox.messages[1]["Subject"].startswith("Daily platform summary · 2026-03-01")
    finally:
        if other is not store:
            other.close()


def test_the_alert_check_runs_once_per_slot_across_processes(store, hook):
    received, url = hook
    load_error_spike(store)
    settings = Settings(db=store.url, alert_webhooks=(url,), alert_minutes=5)
    other = other_process(store)
    try:
        # 12:01 and 12:03 fall in the same 5-minute slot (12:00–12:05): checked once
        first = datetime(2026, 2, 28, 12, 1, tzinfo=UTC)
        assert claims.alert_slot(first, 5) == "2026-02-28T12:00:00+00:00"
        results = race(
            lambda: check_alerts_scheduled(store, settings, first),
            lambda: check_alerts_scheduled(other, settings, first + timedelta(minutes=2)),
        )
        assert sorted(r is None for r in results) == [False, True]
        fired = next(r for r in results if r is not None)
        assert "error_rate_high" in {f.rule.id for f in fired}
        assert len(received) == 1
        # the next slot is checked again (nothing new fires: the alerts still hold)
        assert check_alerts_scheduled(other, settings, first + timedelta(minutes=5)) == []
        assert len(received) == 1
    finally:
        if other is not store:
            other.close()
