"""An answer stays current through writes of data it does not read, and is computed again after
a write of anything it reads: events of its names, its traits, its entities, targets. Expected
values are worked out by hand."""

from __future__ import annotations

from datetime import date

from messages import ask, identify, load, plan, track, value
from pulse.access import gdpr
from pulse.metrics import CATALOG
from pulse.metrics.engine import Engine
from pulse.metrics.tables import TableQuery, evaluate_table
from pulse.metrics.targets import set_target

FEB = ("2026-02-28", "this_month")


def _consumed(user: str, when: str, credits: float) -> dict[str, object]:
    return track("credits_consumed", when, user=user, credits=credits, source="generation")


def _ticket(user: str, when: str, ticket: str) -> dict[str, object]:
    return track("ticket_opened", when, user=user, ticket_id=ticket)


def _computed_by(store, *writes: dict[str, object]) -> int:
    """How many answers asking `credits.consumed` and `customers.active` again computes after
    `writes` (0: both were current)."""
    load(store, *writes)
    before = store.computed
    ask(store, "credits.consumed", *FEB)
    ask(store, "customers.active", *FEB)
    return store.computed - before


def test_answers_stay_current_through_writes_of_what_they_do_not_read(store):
    load(
        store,
        identify("c1", "2026-01-05", status="active"),
        identify("c2", "2026-01-06", status="trial"),
        _consumed("c1", "2026-02-03", 5),
        _consumed("c2", "2026-02-04", 7),
    )
    assert value(store, "credits.consumed", *FEB) == 12
    assert value(store, "customers.active", *FEB) == 1  # c1
    # a ticket (another event name) of a known customer, and a trait neither reads
    assert _computed_by(store, _ticket("c1", "2026-02-10", "t1")) == 0
    assert _computed_by(store, identify("c2", "2026-02-11", name="Cy")) == 0
    # credits consumed: computed again, 12 + 3
    assert _computed_by(store, _consumed("c2", "2026-02-12", 3)) > 0
    assert value(store, "credits.consumed", *FEB) == 15
    # c2's status (a trait customers.active reads): c1 and c2 active
    assert _computed_by(store, identify("c2", "2026-02-13", status="active")) > 0
    assert value(store, "customers.active", *FEB) == 2
    # a new customer (an entity row customers.active reads), active from Feb 14: 3
    assert _computed_by(store, identify("c3", "2026-02-14", status="active")) > 0
    assert value(store, "customers.active", *FEB) == 3
    assert value(store, "credits.consumed", *FEB) == 15


def test_a_target_and_an_erasure_make_answers_stale(store):
    load(store, identify("c1", "2026-01-05", status="active"))
    assert ask(store, "customers.active", *FEB)["target"] is None
    set_target(store, CATALOG, "customers.active", "2026-02", 2)
    answer = ask(store, "customers.active", *FEB)
    # 1 of 2: short by half the target
    assert (answer["value"], answer["target"], answer["target_status"]) == (1, 2, "off_track")
    gdpr.delete_customer(store, "c1")  # today: c1 was still active in February
    before = store.computed
    assert value(store, "customers.active", *FEB) == 1
    assert store.computed > before  # an erasure leaves no answer current


def test_a_table_follows_what_it_reads(store):
    """Usage segments of the 30 days to Feb 28: c1 on basic (100 credits a month)."""
    load(
        store,
        plan("basic", "2026-01-01", price=30, interval="month", credits_included=100),
        identify("c1", "2026-01-05", status="active", plan_id="basic"),
        _consumed("c1", "2026-02-20", 50),
    )
    assert _segments(store) == {"medium": 1}  # 50 % of the plan
    before = store.computed
    load(store, _ticket("c1", "2026-02-21", "t1"))
    assert _segments(store) == {"medium": 1}
    assert store.computed == before  # a ticket: nothing it reads
    load(store, _consumed("c1", "2026-02-25", 40))
    # 90 % of the plan: high, and growth potential (at 90 % of the plan or more)
    assert _segments(store) == {"high": 1, "growth_potential": 1}


def _segments(store) -> dict[str, int]:
    query = TableQuery("customers.segments", date(2026, 2, 28), "this_month")
    rows = evaluate_table(Engine(store, CATALOG), query)["rows"]
    return {row["segment"]: row["customers"] for row in rows if row["customers"]}
