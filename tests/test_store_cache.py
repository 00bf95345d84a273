"""Snapshots and remembered answers: reused while the data is unchanged, never stale after."""

from __future__ import annotations

from messages import ask, identify, load, track


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
    store.changed()
    assert store.cached("k", lambda: 3) == 3
