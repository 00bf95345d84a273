"""Answers kept in the store: served to another process or after a restart while the data is
exactly the data they were computed from, never after it changed."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

from messages import ask, identify, load, track
from pulse.access import gdpr
from pulse.metrics import CATALOG
from pulse.metrics.engine import Engine
from pulse.metrics.tables import TableQuery, evaluate_table
from pulse.metrics.targets import set_target
from pulse.store import kept as kept_module
from pulse.store.kept import FLUSH_AT, MISSING, key_digest
from pulse.store.refresher import Refresher
from pulse.store.store import Store, connect


@contextmanager
def another(store: Store) -> Iterator[Store]:
    """A second connection to the same store: another process, or the next start."""
    opened = connect(store.url)
    try:
        yield opened
    finally:
        opened.close()


def test_an_answer_outlives_the_connection_that_computed_it(store):
    load(store, identify("c1", "2026-02-01", status="active"))
    assert ask(store, "customers.total", "2026-02-28", "this_month")["value"] == 1
    computed = store.computed  # the answer and its building blocks
    assert store.execute("SELECT count(*) FROM pulse_answers") == [(0,)]  # waiting to be kept
    store.flush_kept()  # as the refresher does at its next look, priming when done, or close
    with another(store) as second:
        assert ask(second, "customers.total", "2026-02-28", "this_month")["value"] == 1
        assert second.computed == 0  # read, not computed
        # another question is computed there, and kept for the first connection in turn
        assert ask(second, "customers.active", "2026-02-28", "this_month")["value"] == 1
        assert second.computed > 0
    # kept when the second connection closed
    assert ask(store, "customers.active", "2026-02-28", "this_month")["value"] == 1
    assert store.computed == computed


def test_a_kept_answer_is_not_served_once_the_data_changed(store):
    load(store, identify("c1", "2026-02-01", status="active"))
    assert ask(store, "customers.total", "2026-02-28", "this_month")["value"] == 1
    load(store, identify("c2", "2026-02-02", status="trial"))  # not asked again here
    with another(store) as second:
        assert ask(second, "customers.total", "2026-02-28", "this_month")["value"] == 2
        assert second.computed > 0
    # the first connection's older answers were deleted when the new one was kept
    rows = store.execute("SELECT count(*), min(stamp) FROM pulse_answers")
    stamp = store.execute("SELECT value FROM pulse_state WHERE name = 'data'")[0][0]
    assert rows[0] == (1, stamp)


def test_an_answer_computed_while_the_data_changed_is_not_kept(store):
    load(store, identify("c1", "2026-02-01", status="active"))
    kept = store.kept
    assert kept is not None
    before = kept.stamp()
    load(store, identify("c2", "2026-02-02", status="trial"))
    assert kept.stamp() == before + 1
    kept.put(("question", 2), before + 1, {"value": 2, "parts": [None, 1.5, "x"]})
    kept.put(("question", 1), before, {"value": 1})  # computed from the older data
    store.flush_kept()
    assert kept.get(("question", 1), kept.stamp()) is MISSING
    # and keeping it was refused without deleting the answers of the current data
    assert kept.get(("question", 2), kept.stamp()) == {"value": 2, "parts": [None, 1.5, "x"]}


def test_a_target_change_makes_kept_answers_stale(store):
    load(store, identify("c1", "2026-02-01", status="active"))
    assert ask(store, "customers.total", "2026-02-28", "this_month")["target"] is None
    set_target(store, CATALOG, "customers.total", "2026-02", 5)
    with another(store) as second:
        answer = ask(second, "customers.total", "2026-02-28", "this_month")
        assert answer["target"] == 5 and second.computed > 0


def test_a_key_naming_an_object_by_address_is_never_kept():
    assert key_digest(("metric", "customers.total", 3)) == key_digest(
        ("metric", "customers.total", 3)
    )
    assert key_digest(("metric", "customers.total", 3)) != key_digest(("metric", "x", 3))
    assert key_digest(("facts", object())) is None


def test_a_customer_deletion_erases_the_answers_that_listed_them(store):
    load(
        store,
        identify("c1", "2026-02-01", status="active"),
        track("nps_submitted", "2026-02-03", user="c1", score=9, comment="Ada here, love it"),
    )
    query = TableQuery("nps.answers", date(2026, 2, 28), "this_month")
    rows = evaluate_table(Engine(store, CATALOG), query)["rows"]
    assert [r["comment"] for r in rows] == ["Ada here, love it"]
    store.flush_kept()
    assert "Ada here" in str(store.execute("SELECT answer FROM pulse_answers"))
    # an answer still waiting to be kept when the customer is deleted is never written
    last_30d = TableQuery("nps.answers", date(2026, 2, 28), "last_30d")
    assert evaluate_table(Engine(store, CATALOG), last_30d)["rows"]
    gdpr.delete_customer(store, "c1")
    store.flush_kept()
    assert "Ada here" not in str(store.execute("SELECT answer FROM pulse_answers"))
    rows = evaluate_table(Engine(store, CATALOG), query)["rows"]
    assert [r["comment"] for r in rows] == [None]


def test_kept_answers_are_written_together(store, monkeypatch):
    kept = store.kept
    assert kept is not None
    stamp = kept.stamp()

    def written() -> int:
        return int(store.execute("SELECT count(*) FROM pulse_answers")[0][0])

    for i in range(FLUSH_AT - 1):
        kept.put(("question", i), stamp, {"value": i})
    assert written() == 0
    kept.put(("question", 0), stamp, {"value": "again"})  # the batch is full; its last answer
    assert written() == FLUSH_AT - 1
    kept.put(("question", "late"), stamp, {"value": 1})
    assert written() == FLUSH_AT - 1
    monkeypatch.setattr(kept_module, "FLUSH_AFTER", 0.0)  # the first one has waited long enough
    kept.put(("question", "later"), stamp, {"value": 2})
    assert written() == FLUSH_AT + 1
    assert kept.get(("question", "late"), stamp) == {"value": 1}
    assert kept.get(("question", 0), stamp) == {"value": "again"}


def test_the_refresher_keeps_what_views_computed(store):
    load(store, identify("c1", "2026-02-01", status="active"))
    refresher = Refresher(store, poll=0.05).start()
    try:
        assert ask(store, "customers.total", "2026-02-28", "this_month")["value"] == 1
        deadline = time.monotonic() + 10
        while store.execute("SELECT count(*) FROM pulse_answers") == [(0,)]:
            assert time.monotonic() < deadline, "the answer was never kept"
            time.sleep(0.05)
    finally:
        refresher.stop()
