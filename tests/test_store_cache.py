"""Snapshots and remembered answers: reused while the data is unchanged, never stale after."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import contextmanager
from datetime import UTC, date, datetime

import pytest

from messages import ask, group, identify, load, track
from pulse.access import gdpr
from pulse.metrics import CATALOG
from pulse.metrics.engine import Engine, Query
from pulse.metrics.tables import TableQuery, evaluate_table
from pulse.store.lock import FairLock
from pulse.store.refresher import Refresher


def test_answers_follow_every_ingest(store):
    load(store, identify("c1", "2026-02-01", status="active"))
    first = ask(store, "customers.total", "2026-02-28", "this_month")
    assert first["value"] == 1
    first["value"] = 99  # a caller changing its copy changes nothing remembered
    assert ask(store, "customers.total", "2026-02-28", "this_month")["value"] == 1
    load(store, identify("c2", "2026-02-02", status="trial"))
    # the new customer shows at once: c1 + c2
    assert ask(store, "customers.total", "2026-02-28", "this_month")["value"] == 2
    assert ask(store, "customers.active", "2026-02-28", "this_month")["value"] == 1
    load(store, track("status_changed", "2026-02-10", user="c2", to="active"))
    assert ask(store, "customers.active", "2026-02-28", "this_month")["value"] == 2


def test_a_snapshot_is_kept_until_the_data_changes(store):
    builds = []

    def build():
        builds.append(1)
        return store.table("events").count().as_table()

    first = store.snapshot("test_count", build)
    assert store.snapshot("test_count", build) is first and len(builds) == 1
    load(store, identify("c1", "2026-02-01", status="active"))
    store.snapshot("test_count", build)
    assert len(builds) == 2
    assert store.cached("k", lambda: 1) == 1
    assert store.cached("k", lambda: 2) == 1  # remembered
    with store.transaction() as cur:
        store.changed(cur)
    assert store.cached("k", lambda: 3) == 3


def _compiles(store) -> int:
    return store.compiled.compiles


def test_a_question_is_compiled_once_and_reanswered_after_new_data(store):
    load(store, identify("c1", "2026-02-01", status="active"))
    before = _compiles(store)
    assert ask(store, "customers.total", "2026-02-28", "this_month")["value"] == 1
    assert _compiles(store) > before
    load(store, identify("c2", "2026-02-02", status="trial"))
    # answered again on the new data (c1 + c2), with the SQL compiled the first time
    assert ask(store, "customers.total", "2026-02-28", "this_month")["value"] == 2
    assert ask(store, "customers.growth_rate", "2026-02-28", "this_month")["value"] is None
    grown = _compiles(store)
    load(store, identify("c3", "2026-02-03", status="trial"))
    assert ask(store, "customers.total", "2026-02-28", "this_month")["value"] == 3
    assert ask(store, "customers.growth_rate", "2026-02-28", "this_month")["value"] is None
    assert _compiles(store) == grown


def test_the_same_expression_built_twice_compiles_once(store):
    before = _compiles(store)

    def build():
        events = store.table("events").view()  # a new self-reference each time
        joined = events.join(store.table("events").view(), "message_id")
        return joined.count().as_table()

    first, second = build(), build()
    assert first.op() != second.op()
    assert store.con.compile(first) == store.con.compile(second)
    assert _compiles(store) == before + 1


def test_a_question_asked_again_after_new_data_runs_the_execution_hooks_once(store):
    hooks = store.con._run_pre_execute_hooks
    load(store, identify("c1", "2026-02-01", status="active"))
    assert ask(store, "customers.total", "2026-02-28", "this_month")["value"] == 1
    seen = len(hooks._seen)
    assert seen > 0
    load(store, identify("c2", "2026-02-02", status="trial"))
    assert ask(store, "customers.total", "2026-02-28", "this_month")["value"] == 2
    assert len(hooks._seen) == seen
    # a question on an in-memory table (the eleven NPS scores) registers each new one
    load(store, track("nps_submitted", "2026-02-10", user="c1", score=9))
    query = TableQuery("nps.distribution", date(2026, 2, 28), "this_month")
    rows = evaluate_table(Engine(store, CATALOG), query)["rows"]
    assert [r["responses"] for r in rows] == [0] * 9 + [1, 0]
    load(store, track("nps_submitted", "2026-02-11", user="c2", score=0))
    rows = evaluate_table(Engine(store, CATALOG), query)["rows"]
    assert [r["responses"] for r in rows] == [1] + [0] * 8 + [1, 0]


def test_refresh_answers_again_what_users_asked(store):
    load(store, identify("c1", "2026-02-01", status="active"))
    assert ask(store, "customers.total", "2026-02-28", "this_month")["value"] == 1
    assert store.refresh() == 0  # nothing is stale
    load(store, identify("c2", "2026-02-02", status="trial"))
    assert store.refresh() == 1  # customers.total, computed again in the background
    query = Query("customers.total", date(2026, 2, 28), "this_month")
    remembered = store.cached(("metric", query, "USD"), lambda: {"value": "not remembered"})
    assert remembered["value"] == 2
    assert store.refresh() == 0


def test_the_refresher_warms_answers_after_an_ingest(store):
    load(store, identify("c1", "2026-02-01", status="active"))
    ask(store, "customers.total", "2026-02-28", "this_month")
    refresher = Refresher(store, poll=0.02, settle=0.02).start()
    assert store.stale_for == 60.0  # views may read answers it is refreshing
    try:
        load(store, identify("c2", "2026-02-02", status="trial"))
        deadline = time.monotonic() + 30
        while refresher.refreshed == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        refresher.stop()
    assert refresher.refreshed == 1
    assert store.stale_for == 0.0
    query = Query("customers.total", date(2026, 2, 28), "this_month")
    remembered = store.cached(("metric", query, "USD"), lambda: {"value": "not remembered"})
    assert remembered["value"] == 2


def test_a_steady_stream_of_writes_does_not_put_refreshing_off(store):
    load(store, identify("c0", "2026-02-01", status="active"))
    ask(store, "customers.total", "2026-02-28", "this_month")
    refresher = Refresher(store, poll=0.02, settle=0.5, longest_settle=0.3).start()
    written = 0
    try:
        deadline = time.monotonic() + 20
        while refresher.refreshed == 0 and time.monotonic() < deadline:
            written += 1  # a write every 0.1 s: the data never stays unchanged for 0.5 s
            load(store, identify(f"c{written}", "2026-02-02", status="trial"))
            time.sleep(0.1)
    finally:
        refresher.stop()
    assert refresher.refreshed >= 1 and written < 100


def _view(store, as_of: date = date(2026, 2, 28)) -> object:
    """customers.total as a dashboard view shows it (its engine may read answers being
    refreshed)."""
    query = Query("customers.total", as_of, "this_month")
    return Engine(store, CATALOG, stale_ok=True).evaluate(query)["value"]


def test_a_view_reads_the_answer_before_new_data_while_it_is_refreshed(store):
    load(store, identify("c1", "2026-02-01", status="active"))
    assert _view(store) == 1
    store.stale_for = 60.0  # as the refresher sets it
    load(store, identify("c2", "2026-02-02", status="trial"))
    assert _view(store) == 1  # the view does not wait: the refresher is on it
    assert ask(store, "customers.total", "2026-02-28", "this_month")["value"] == 2  # the API
    store.refresh()
    assert _view(store) == 2
    store.stale_for = 0.0  # no refresher: nobody would replace a stale answer
    load(store, identify("c3", "2026-02-03", status="trial"))
    assert _view(store) == 3


def test_an_answer_computed_from_others_reads_them_current(store):
    """A view may read a metric from before new data, but a table computed from metrics (the
    affiliate funnel asks affiliates.clicks) reads them current: it is remembered as current."""
    load(
        store,
        group("a1", "2026-01-01", kind="affiliate", status="applied"),
        track("partner_approved", "2026-01-05", group="a1", partner_id="a1"),
        *[track("referral_clicked", "2026-02-10", group="a1", partner_id="a1") for _ in "abc"],
    )
    views = Engine(store, CATALOG, stale_ok=True)
    clicks = Query("affiliates.clicks", date(2026, 2, 28), "this_month")
    assert views.evaluate(clicks)["value"] == 3
    store.stale_for = 60.0
    load(
        store, *[track("referral_clicked", "2026-02-20", group="a1", partner_id="a1") for _ in "ab"]
    )
    assert views.evaluate(clicks)["value"] == 3  # the view's own answer, from before
    funnel = TableQuery("affiliates.funnel", date(2026, 2, 28), "this_month")
    rows = evaluate_table(views, funnel)["rows"]
    assert rows[0]["step"] == "clicks" and rows[0]["count"] == 5  # 3 + 2


def test_a_stale_answer_is_read_only_shortly_after_the_change(store):
    load(store, identify("c1", "2026-02-01", status="active"))
    assert _view(store) == 1
    store.stale_for = 0.2
    load(store, identify("c2", "2026-02-02", status="trial"))
    assert _view(store) == 1
    time.sleep(0.3)  # the new data is older than stale_for: the view computes it
    assert _view(store) == 2


def test_no_answer_from_before_an_erasure_is_read_stale(store):
    load(
        store,
        identify("c1", "2026-02-01", status="active"),
        identify("c2", "2026-02-02", status="active"),
    )
    today = datetime.now(UTC).date()  # a customer's deletion counts from now on
    assert _view(store, today) == 2
    store.stale_for = 60.0
    gdpr.delete_customer(store, "c2")
    assert _view(store, today) == 1


@contextmanager
def _query_under_way(store) -> Iterator[None]:
    """Another thread holds the store's lock (as the refresher does while it runs a query)
    until the block ends."""
    held, release = threading.Event(), threading.Event()

    def query_under_way() -> None:
        with store.lock:
            held.set()
            release.wait(10)

    busy = threading.Thread(target=query_under_way)
    busy.start()
    held.wait(5)
    try:
        yield
    finally:
        release.set()
        busy.join()


def _within(seconds: float, run: Callable[[], object]) -> list[object]:
    """`run()`'s result if it returns within `seconds` (else nothing)."""
    seen: list[object] = []
    thread = threading.Thread(target=lambda: seen.append(run()))
    thread.start()
    thread.join(seconds)
    return seen


def test_a_view_does_not_wait_for_a_query_under_way(store):
    """The refresher holds the store's lock while it runs a query (seconds at scale); a view
    reading a remembered answer, and the session lookup of its request, do not queue."""
    load(store, identify("c1", "2026-02-01", status="active"))
    assert _view(store) == 1
    store.stale_for = 60.0
    load(store, identify("c2", "2026-02-02", status="trial"))
    with _query_under_way(store):
        seen = _within(5, lambda: _view(store))
    assert seen == [1]


def test_a_table_read_on_every_view_does_not_wait_for_a_query_under_way(store):
    """Alerts are computed on every view (never remembered): on DuckDB they are read on the
    request thread's own connection (a server's threads are pooled), beside the query under
    way."""
    if store.engine != "duckdb":
        pytest.skip("PostgreSQL reads through the store's one connection")
    query = TableQuery("alerts.active", date(2026, 2, 28), "this_month")
    engine = Engine(store, CATALOG, stale_ok=True)
    with ThreadPoolExecutor(max_workers=1) as requests:
        # viewed before on that thread: its SQL is compiled, its connection made
        assert requests.submit(evaluate_table, engine, query).result()["rows"] == []
        with _query_under_way(store):
            view = requests.submit(evaluate_table, engine, query)
            done, _ = wait([view], timeout=5)
        assert done and view.result()["rows"] == []


def test_the_store_lock_is_granted_in_turn_and_reentrant():
    """A thread asking query after query (priming) cannot take the lock back ahead of one
    already waiting for it (an ingest batch)."""
    lock = FairLock()
    order: list[str] = []

    def waiter() -> None:
        with lock:
            order.append("waiter")

    with lock, lock:  # reentrant
        thread = threading.Thread(target=waiter)
        thread.start()
        time.sleep(0.2)  # the waiter is queued
    with lock:  # released and asked again at once: the waiter goes first
        order.append("again")
    thread.join(timeout=5)
    assert order == ["waiter", "again"]
    with pytest.raises(RuntimeError, match="does not hold"):
        lock.release()
