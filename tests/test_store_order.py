"""Events stored in (event, ts) order: the rewrite keeps every message and every answer, keeps
the message-id key, and runs only once enough events arrived since the last one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import pulse.store.store as store_module
from messages import identify, load, track, value
from pulse.access.gdpr import delete_customer
from pulse.ingest.files import read_chunks
from pulse.ingest.pipeline import ingest_chunks, ingest_messages
from pulse.store.store import ORDERED_EVENTS as ORDERED

FEB = ("2026-02-28", "this_month")


def _arrivals() -> list[dict[str, object]]:
    """Arrival order mixes names and times: c1 buys 100 credits ($10) on Feb 20, uses 5 on Feb 3 and
    7 on Feb 10 (sent later), opens a chat on Feb 1; c2 uses 3 on Jan 30."""
    return [
        identify("c1", "2026-01-05", status="active"),
        track("credits_purchased", "2026-02-20", user="c1", credits=100, amount=10),
        track("credits_consumed", "2026-02-10", user="c1", credits=7, source="generation"),
        track("chat_opened", "2026-02-01", user="c1", experience_id="e1"),
        track("credits_consumed", "2026-02-03", user="c1", credits=5, source="generation"),
        track("credits_consumed", "2026-01-30", user="c2", credits=3, source="generation"),
    ]


# `_arrivals` in (event, ts) order; the identify, an event without a name, last
IN_ORDER = [
    ("chat_opened", "02-01"),
    ("credits_consumed", "01-30"),
    ("credits_consumed", "02-03"),
    ("credits_consumed", "02-10"),
    ("credits_purchased", "02-20"),
    ("None", "01-05"),
]


def _stored_order(store) -> list[tuple[str, str]]:
    rows = store.execute("SELECT event, strftime(ts, '%m-%d') FROM events ORDER BY rowid")
    return [(str(event), str(day)) for event, day in rows]


def test_events_rewritten_in_order_keep_answers_and_key(store):
    messages = _arrivals()
    load(store, *messages)
    before = (value(store, "credits.consumed", *FEB), value(store, "credits.purchased", *FEB))
    assert before == (12, 100)  # 5 + 7 in February; c2's 3 in January

    rewritten = store.cluster_events(least=1)

    if store.engine == "postgres":  # indexed on (event, ts) instead
        assert not rewritten
        return
    assert rewritten
    assert _stored_order(store) == IN_ORDER
    assert store.execute("SELECT value FROM pulse_state WHERE name = 'clustered'") == [(6,)]
    assert (value(store, "credits.consumed", *FEB), value(store, "credits.purchased", *FEB)) == (
        before
    )
    # the message id is still the key: a message sent again is not stored twice
    assert ingest_messages(store, messages[1:3]).stored == 0
    # one event more since the rewrite: under CLUSTER_FROM, nothing is rewritten
    load(store, track("credits_consumed", "2026-02-01", user="c2", credits=1, source="generation"))
    assert not store.cluster_events()
    assert _stored_order(store)[-1] == ("credits_consumed", "02-01")
    assert value(store, "credits.consumed", *FEB) == 13


def test_a_large_import_lands_in_order(store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(store_module, "CLUSTER_FROM", 3)
    path = tmp_path / "messages.jsonl"
    path.write_text("".join(json.dumps(m) + "\n" for m in _arrivals()))
    result = ingest_chunks(store, [(path.name, read_chunks(path))])
    assert result.stored == 6  # identify and five tracks
    if store.engine == "duckdb":
        assert [event for event, _ in _stored_order(store)] == [
            "chat_opened",
            *["credits_consumed"] * 3,
            "credits_purchased",
            "None",
        ]
    assert value(store, "credits.consumed", *FEB) == 12


def test_events_arriving_during_the_ordered_copy_are_kept(store, monkeypatch: pytest.MonkeyPatch):
    if store.engine != "duckdb":
        pytest.skip("only DuckDB stores events in order")
    # copied 2 events per transaction: chat_opened; credits_consumed cut at its median time
    # (Jan 30 | Feb 3, Feb 10); credits_purchased; the identify
    monkeypatch.setattr(store_module, "CLUSTER_SLICE", 2)
    load(store, *_arrivals())
    made = store._ordered_copy()  # what `cluster_events` makes without the lock
    # meanwhile two messages arrive
    load(
        store,
        track("credits_consumed", "2026-02-05", user="c2", credits=2, source="generation"),
        track("chat_opened", "2026-02-02", user="c2", experience_id="e1"),
    )
    assert store._swap_ordered(made)
    assert _stored_order(store) == [
        *IN_ORDER,
        # what came during the copy, in order after it (until the next rewrite)
        ("chat_opened", "02-02"),
        ("credits_consumed", "02-05"),
    ]
    assert store.execute("SELECT value FROM pulse_state WHERE name = 'clustered'") == [(8,)]
    assert value(store, "credits.consumed", *FEB) == 14  # 5 + 7 + c2's 2


def test_an_erasure_during_the_ordered_copy_keeps_events_as_erased(store):
    if store.engine != "duckdb":
        pytest.skip("only DuckDB stores events in order")
    load(store, *_arrivals(), track("nps_answered", "2026-02-04", user="c1", score=9, comment="hi"))
    made = store._ordered_copy()
    delete_customer(store, "c1")  # scrubs the comment in place
    assert not store._swap_ordered(made)  # the copy still holds the comment
    assert store.execute(
        f"SELECT count(*) FROM duckdb_tables() WHERE table_name = '{ORDERED}'"
    ) == [(0,)]
    payloads = store.execute("SELECT payload FROM events WHERE event = 'nps_answered'")
    assert payloads and all("hi" not in str(p) for (p,) in payloads)
    assert store.execute("SELECT value FROM pulse_state WHERE name = 'clustered'") == [(0,)]
    assert store.cluster_events(least=1)  # made again, after the erasure
    payloads = store.execute("SELECT payload FROM events WHERE event = 'nps_answered'")
    assert payloads and all("hi" not in str(p) for (p,) in payloads)
