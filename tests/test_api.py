"""The HTTP API over a real server: Segment ingestion and the metric endpoints."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from messages import identify, track
from pulse.access import keys, write_keys
from pulse.store.store import connect
from server import free_port, serving


@pytest.fixture
def api(store):
    key = write_keys.create(store, label="test")
    partner_key = write_keys.create(store, partner_id="p1")
    with serving(store) as base, httpx.Client(base_url=base, timeout=30) as client:
        yield client, key, partner_key, store


def reader(store) -> dict[str, str]:
    """Headers of a platform-wide read key (the metric API needs one since schema 3)."""
    key = keys.create(store, role="platform_admin", scopes={"read"}, label="test reader")
    return {"Authorization": f"Bearer {key}"}


def stored(store) -> int:
    return int(store.execute("SELECT count(*) FROM events")[0][0])


def test_batch_is_accepted_and_idempotent(api):
    client, key, _, store = api
    batch = {
        "batch": [
            identify("c1", "2026-02-01", status="active"),
            track("signed_up", "2026-02-01", user="c1", email="a@b.c"),
        ]
    }
    first = client.post("/v1/batch", json=batch, auth=(key, ""))
    assert first.status_code == 200
    assert first.json() == {"success": True, "received": 2, "stored": 2, "duplicates": 0}
    again = client.post("/v1/batch", json=batch, auth=(key, ""))
    assert again.json()["duplicates"] == 2 and stored(store) == 2


def test_single_message_routes_default_their_type(api):
    client, key, _, store = api
    message = track("chat_opened", "2026-02-01", user="c1", experience_id="x1")
    del message["type"]
    assert client.post("/v1/track", json=message, auth=(key, "")).status_code == 200
    wrong = client.post("/v1/identify", json=track("e", "2026-02-01", user="c1"), auth=(key, ""))
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "type"
    assert stored(store) == 1


def test_missing_and_unknown_keys_are_refused(api):
    client, _, _, _ = api
    assert client.post("/v1/batch", json={"batch": []}).status_code == 401
    assert client.post("/v1/batch", json={"batch": []}, auth=("pk_nope", "")).status_code == 401


def test_a_write_key_may_also_be_sent_as_a_bearer_token(api):
    client, key, _, store = api
    batch = {"batch": [identify("c9", "2026-02-01", status="active")]}
    sent = client.post("/v1/batch", json=batch, headers={"Authorization": f"Bearer {key}"})
    assert sent.status_code == 200 and stored(store) == 1


def test_invalid_message_names_index_and_field_and_stores_nothing(api):
    client, key, _, store = api
    bad = track("invoice_paid", "2026-02-01", user="c1", kind="subscription")
    response = client.post(
        "/v1/batch", json={"batch": [identify("c1", "2026-02-01"), bad]}, auth=(key, "")
    )
    assert response.status_code == 422
    assert response.json()["errors"][0] == {
        "index": 1,
        "field": "properties.amount",
        "message": "is required for invoice_paid",
    }
    assert stored(store) == 0


def test_batch_limits(api):
    client, key, _, _ = api
    too_many = {"batch": [identify(f"c{i}", "2026-02-01") for i in range(501)]}
    response = client.post("/v1/batch", json=too_many, auth=(key, ""))
    assert response.status_code == 400 and "500" in response.json()["error"]
    big = {"batch": [identify("c1", "2026-02-01", note="x" * (1024 * 1024))]}
    response = client.post("/v1/batch", json=big, auth=(key, ""))
    assert response.status_code == 400 and "1 MiB" in response.json()["error"]
    response = client.post("/v1/batch", content=b"{nope", auth=(key, ""))
    assert response.status_code == 400 and "not valid JSON" in response.json()["error"]


def test_partner_key_cannot_write_another_partner(api):
    client, _, partner_key, store = api
    response = client.post(
        "/v1/batch",
        json={"batch": [track("referral_clicked", "2026-02-01", group="p2", partner_id="p2")]},
        auth=(partner_key, ""),
    )
    assert response.status_code == 403 and response.json()["errors"][0]["field"] == "groupId"
    assert stored(store) == 0


def test_metric_endpoint_answers_in_the_cli_shape(api):
    client, key, _, store = api
    client.post(
        "/v1/batch",
        json={
            "batch": [
                identify("c1", "2026-02-01", status="active"),
                identify("c2", "2026-02-20", status="trial"),
            ]
        },
        auth=(key, ""),
    )
    read = reader(store)
    answer = client.get(
        "/api/v1/metrics/customers.total",
        params={"window": "this_month", "as_of": "2026-02-28", "by": "status", "series": "week"},
        headers=read,
    ).json()
    assert answer["metric"] == "customers.total"
    assert answer["window"] == {"start": "2026-02-01", "end": "2026-02-28"}
    assert (answer["value"], answer["previous"], answer["change_pct"]) == (2, 0, None)
    assert {r["key"]: r["value"] for r in answer["rows"]} == {"active": 1, "trial": 1}
    # ISO weeks clipped to Feb: [Feb 1] (a Sunday: c1 joined at noon), Feb 2-8, 9-15,
    # 16-22 (c2 joins on the 20th), 23-28 → customers at each week's end: 1, 1, 1, 2, 2
    assert [p["start"] for p in answer["series"]][:2] == ["2026-02-01", "2026-02-02"]
    assert [p["value"] for p in answer["series"]] == [1, 1, 1, 2, 2]
    listed = client.get("/api/v1/metrics", headers=read).json()["metrics"]
    assert "revenue.mrr" in {m["id"] for m in listed}


@pytest.mark.parametrize(
    ("params", "status", "field"),
    [
        ({"window": "last_7y"}, 422, "window"),
        ({"as_of": "2026-13-01"}, 422, "as_of"),
        ({"by": "colour"}, 422, "by"),
        ({"series": "hour"}, 422, "series"),
        ({"tz": "Mars/Olympus"}, 422, "tz"),
    ],
)
def test_metric_endpoint_names_the_bad_parameter(api, params, status, field):
    client, _, _, store = api
    response = client.get("/api/v1/metrics/customers.total", params=params, headers=reader(store))
    assert response.status_code == status and response.json()["detail"].startswith(field + ":")


def test_unknown_metric_is_404(api):
    client, _, _, store = api
    response = client.get("/api/v1/metrics/customers.nope", headers=reader(store))
    assert response.status_code == 404 and "customers.nope" in response.json()["detail"]


def test_a_200_survives_kill_9(tmp_path: Path):
    """Durability: data acknowledged with 200 is on disk even if the server dies at once."""
    db = str(tmp_path / "durable.duckdb")
    store = connect(db)
    key = write_keys.create(store)
    store.close()
    port = free_port()
    env = {**os.environ, "PULSE_DB": db}
    server = subprocess.Popen(
        [sys.executable, "-m", "pulse.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        batch = {"batch": [identify(f"k{i}", "2026-02-01") for i in range(50)]}
        response = httpx.post(f"http://127.0.0.1:{port}/v1/batch", json=batch, auth=(key, ""))
        assert response.status_code == 200
    finally:
        server.send_signal(signal.SIGKILL)
        server.wait()
    reopened = connect(db)
    assert reopened.execute("SELECT count(*) FROM events")[0][0] == 50
    reopened.close()
