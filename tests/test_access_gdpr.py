"""GDPR: export everything about a customer, erase the personal part, on both engines."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest
from typer.testing import CliRunner

from messages import identify, load, track, value
from pulse.access import audit, gdpr, keys
from pulse.cli import app as cli
from pulse.settings import Settings
from server import serving

EMAIL = "ada@example.com"


@pytest.fixture
def customers(store):
    """c1 (personal traits and properties, a Segment context) and c2, both of partner pA."""
    first = identify(
        "c1", "2026-02-01", email=EMAIL, name="Ada Lovelace", partner_id="pA", status="active"
    )
    first["context"] = {"ip": "203.0.113.9", "userAgent": "Firefox"}
    load(
        store,
        first,
        track("signed_up", "2026-02-01", user="c1", email=EMAIL),
        track("nps_submitted", "2026-02-03", user="c1", score=9, comment="Ada here, love it"),
        track("credits_consumed", "2026-02-04", user="c1", credits=5, source="generation"),
        identify("c2", "2026-02-02", email="bob@example.com", partner_id="pA", status="active"),
    )
    return store


@pytest.fixture
def api(customers):
    store = customers
    admin = keys.create(store, role="platform_admin", scopes={"read", "write", "export"})
    exec_key = keys.create(store, role="executive", scopes={"read", "export"})
    settings = Settings(db=store.url, rate_query_per_minute=0)
    with serving(store, settings) as base, httpx.Client(base_url=base, timeout=60) as client:
        client.headers["Authorization"] = f"Bearer {admin}"
        yield client, store, exec_key


def test_export_has_everything_stored_about_the_customer(api):
    client, store, _ = api
    response = client.get("/api/v1/customers/c1/export")
    assert response.status_code == 200
    data = response.json()
    assert data["customer_id"] == "c1" and data["first_seen"].startswith("2026-02-01")
    traits = {(t["name"], t["value"]) for t in data["traits"]}
    assert {("email", EMAIL), ("name", "Ada Lovelace"), ("status", "active")} <= traits
    events = [e["event"] for e in data["events"]]
    assert events == [None, "signed_up", "nps_submitted", "credits_consumed"]  # identify first
    assert data["events"][0]["payload"]["email"] == EMAIL  # an identify's payload: its traits
    assert "203.0.113.9" not in response.text  # the Segment context is never stored
    assert data["events"][3]["credits"] == 5
    assert "bob@example.com" not in response.text
    entry = audit.entries(store, action="customer_exported")[0]
    assert entry.target == "customer:c1" and entry.category == "export"
    assert entry.actor.startswith("key:") and entry.ip == "127.0.0.1"
    assert client.get("/api/v1/customers/nobody/export").status_code == 404


def test_delete_erases_personal_data_and_keeps_the_numbers(api):
    client, store, _ = api
    today = datetime.now(UTC).date().isoformat()
    assert value(store, "customers.total", today) == 2
    response = client.delete("/api/v1/customers/c1")
    assert response.status_code == 200
    # traits erased: email, name (partner_id and status are kept); payloads scrubbed: the
    # identify (its traits email, name), signed_up (email), nps_submitted (comment) → 3
    assert response.json() == {
        "customer_id": "c1",
        "deleted": True,
        "traits_erased": 2,
        "messages_scrubbed": 3,
    }
    exported = client.get("/api/v1/customers/c1/export")
    text = exported.text
    for personal in (EMAIL, "Ada Lovelace", "Ada here", "203.0.113.9", "Firefox"):
        assert personal not in text, personal
    data = exported.json()
    assert {t["name"] for t in data["traits"]} == {"partner_id", "status", "deleted"}
    nps = next(e for e in data["events"] if e["event"] == "nps_submitted")
    assert nps["score"] == 9 and nps["payload"] == {"score": 9}
    assert data["events"][0]["payload"] == {"partner_id": "pA", "status": "active"}
    assert [e["event"] for e in data["events"]][-1] == "customer_deleted"
    # customer metrics exclude the deleted customer from now on (SPEC §3)
    assert value(store, "customers.total", today) == 1
    # the other customer is untouched
    other = client.get("/api/v1/customers/c2/export").text
    assert "bob@example.com" in other
    entry = audit.entries(store, action="customer_deleted")[0]
    assert entry.target == "customer:c1" and entry.category == "deletion"
    assert entry.detail == {"traits_erased": 2, "messages_scrubbed": 3}


def test_delete_twice_records_one_deletion_and_unknown_is_404(api):
    client, store, _ = api
    assert client.delete("/api/v1/customers/c1").status_code == 200
    again = client.delete("/api/v1/customers/c1")
    assert again.status_code == 200 and again.json()["traits_erased"] == 0
    count = store.execute("SELECT count(*) FROM events WHERE event = 'customer_deleted'")[0][0]
    assert count == 1
    assert client.delete("/api/v1/customers/nobody").status_code == 404


def test_only_platform_admins_may_delete_or_export(api):
    client, _, exec_key = api
    other = {"Authorization": f"Bearer {exec_key}"}
    assert client.delete("/api/v1/customers/c1", headers=other).status_code == 403
    assert client.get("/api/v1/customers/c1/export", headers=other).status_code == 403


def test_scrub_keeps_payloads_without_personal_fields_byte_for_byte():
    plain = '{"experience_id": "x", "score": 3}'
    assert gdpr.scrub(plain, "track") == plain
    assert json.loads(gdpr.scrub('{"email": "a@b.c", "score": 3}', "track")) == {"score": 3}
    traits = '{"email": "a@b.c", "plan_id": "p", "nickname": "Al"}'
    assert json.loads(gdpr.scrub(traits, "identify")) == {"plan_id": "p"}


def test_cli_delete_and_export(customers):
    store = customers
    runner = CliRunner()
    exported = runner.invoke(cli, ["customer", "export", "c2", "--db", store.url])
    assert exported.exit_code == 0, exported.output
    assert json.loads(exported.stdout)["traits"][0]["name"] in {"email", "partner_id", "status"}
    deleted = runner.invoke(cli, ["customer", "delete", "c2", "--db", store.url])
    assert deleted.exit_code == 0, deleted.output
    assert "1 traits erased" in deleted.stdout
    assert audit.entries(store, action="customer_deleted")[0].actor == "cli"
    missing = runner.invoke(cli, ["customer", "delete", "nobody", "--db", store.url])
    assert missing.exit_code == 2
