"""Compiled SQL kept in the store: a new process asking a question on new data runs the SQL an
earlier one compiled, and only for the very same expression."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import ibis

from messages import ask, identify, load
from pulse.access import gdpr
from pulse.store.kept_sql import KEPT_DAYS, sql_digest
from pulse.store.store import Store, connect


def test_a_new_connection_runs_the_sql_another_compiled(store: Store) -> None:
    load(store, identify("c1", "2026-02-01", status="active"))
    assert ask(store, "customers.total", "2026-02-28", "this_month")["value"] == 1
    assert store.compiled is not None and store.compiled.compiles > 0
    load(store, identify("c2", "2026-02-02", status="trial"))  # the kept answer is stale
    assert store.execute("SELECT count(*) FROM pulse_compiled") == [(0,)]  # waiting to be kept
    store.flush_kept()  # as the refresher does at its next look, priming when done, or close
    second = connect(store.url)
    try:
        assert ask(second, "customers.total", "2026-02-28", "this_month")["value"] == 2
        assert second.compiled is not None and second.compiled.compiles == 0
        # a question nobody asked yet is compiled there
        assert ask(second, "customers.total", "2026-01-31", "this_month")["value"] == 0
        assert second.compiled.compiles > 0
    finally:
        second.close()


def test_the_digest_names_the_expression_not_its_build(store: Store) -> None:
    def counted(day: int) -> ibis.Table:
        events = store.table("events").view()  # a new self-reference serial each build
        return events.filter(events.ts < datetime(2026, 2, day, tzinfo=UTC)).count().as_table()

    first, again, other = (counted(day).op() for day in (1, 1, 2))
    assert first != again  # Ibis tells the builds apart
    assert sql_digest(first, None) == sql_digest(again, None)
    assert sql_digest(first, None) != sql_digest(other, None)  # another literal
    assert sql_digest(first, None) != sql_digest(first, 10)  # another limit
    in_memory = ibis.memtable({"a": [1, 2]}).count().as_table().op()
    assert sql_digest(in_memory, None) is None  # its rows are in this process only


def test_a_customer_deletion_erases_the_kept_sql(store: Store) -> None:
    load(store, identify("c1", "2026-02-01", status="active"))
    ask(store, "customers.total", "2026-02-28", "this_month")
    store.flush_kept()
    assert store.execute("SELECT count(*) FROM pulse_compiled")[0][0] > 0
    ask(store, "customers.total", "2026-01-31", "this_month")  # its SQL waits to be kept
    gdpr.delete_customer(store, "c1")
    store.flush_kept()  # nothing waits any more
    assert store.execute("SELECT count(*) FROM pulse_compiled")[0][0] == 0


def test_sql_kept_over_two_weeks_ago_is_dropped(store: Store) -> None:
    old = datetime.now(UTC) - timedelta(days=KEPT_DAYS + 1)
    store.execute("INSERT INTO pulse_compiled VALUES ('old', 'SELECT 1', ?)", (old,))
    load(store, identify("c1", "2026-02-01", status="active"))
    ask(store, "customers.total", "2026-02-28", "this_month")  # keeps its SQL, drops the old
    store.flush_kept()
    keys = [k for (k,) in store.execute("SELECT key FROM pulse_compiled")]
    assert keys and "old" not in keys
