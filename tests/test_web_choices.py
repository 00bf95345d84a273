"""The pickers' lists on both stores (DuckDB, PostgreSQL), on hand-made partners and
experiences: latest name wins, sorted by name, a partner offered only its own."""

from __future__ import annotations

from messages import group, load
from pulse.access.policy import Principal
from pulse.store.store import Store, connect
from pulse.web.choices import Choice, choices, resolve

STAFF = Principal("key", "key:staff", role="executive")
P1 = Principal("key", "key:p1", role="partner", partner_id="p1", plan="growth")


def made(store: Store) -> None:
    """p1 renamed from "Zeta" to "Acme"; p2 "Beta"; p3 has no name. Experiences: e1 "Quiz"
    and e2 "Advent" of p1, e3 "Raffle" of p2."""
    load(
        store,
        group("p1", "2026-01-01", name="Zeta"),
        group("p1", "2026-02-01", name="Acme"),
        group("p2", "2026-01-05", name="Beta"),
        group("p3", "2026-01-06", kind="affiliate"),
        group("e1", "2026-01-10", entity="experience", name="Quiz", partner_id="p1"),
        group("e2", "2026-01-11", entity="experience", name="Advent", partner_id="p1"),
        group("e3", "2026-01-12", entity="experience", name="Raffle", partner_id="p2"),
    )


def test_staff_get_every_partner_and_experience_by_name(store: Store) -> None:
    made(store)
    assert choices(store, "partner", STAFF) == [
        Choice("p1", "Acme"),  # the latest name
        Choice("p2", "Beta"),
        Choice("p3", None),  # no name: sorted by its id, shown as the id
    ]
    assert [c.text for c in choices(store, "partner", STAFF)] == ["Acme (p1)", "Beta (p2)", "p3"]
    assert [c.id for c in choices(store, "experience", STAFF)] == ["e2", "e1", "e3"]


def test_a_partner_gets_only_itself_and_its_experiences(store: Store) -> None:
    made(store)
    assert choices(store, "partner", P1) == [Choice("p1", "Acme")]
    assert choices(store, "experience", P1) == [
        Choice("e2", "Advent", "p1"),
        Choice("e1", "Quiz", "p1"),
    ]
    stranger = Principal("key", "key:p9", role="partner", partner_id="p9", plan="growth")
    assert choices(store, "partner", stranger) == [Choice("p9", None)]  # unknown yet: itself
    assert choices(store, "experience", stranger) == []


def test_a_typed_name_resolves_to_its_id() -> None:
    offered = [Choice("p1", "Acme"), Choice("p2", "Beta"), Choice("p3", "beta"), Choice("p4", None)]
    assert resolve(offered, "p2") == "p2"  # an id as it is
    assert resolve(offered, "Acme (p1)") == "p1"  # the text a suggestion shows
    assert resolve(offered, " acme ") == "p1"  # its name, case and spaces aside
    assert resolve(offered, "Beta") is None  # two partners are called so
    assert resolve(offered, "Beta (p2)") == "p2"
    assert resolve(offered, "Gamma") is None


def test_a_picker_list_is_kept_for_the_next_start(store: Store) -> None:
    made(store)
    listed = choices(store, "partner", STAFF)
    store.flush_kept()  # as it is when the first process closes
    second = connect(store.url)
    try:
        assert choices(second, "partner", STAFF) == listed
        assert second.computed == 1  # the kept rows made into choices; the entities not read
    finally:
        second.close()
