"""Snapshots rebuilt in part: after a write, only the rows of the entities it touched are built
again, and every answer is what a whole build gives. Expected values are worked out by hand."""

from __future__ import annotations

import pytest

import pulse.store.store as store_module
from messages import ask, group, identify, load, plan, rows, track, value
from pulse.metrics import CATALOG
from pulse.metrics.targets import set_target

FEB = ("2026-02-28", "this_month")
BRIDGE = ("10:40", "11:10", "11:40")


def _chat(user: str, when: str, event: str = "chat_opened", **props: object) -> dict[str, object]:
    return track(event, f"2026-02-10 {when}", user, experience_id="e1", **props)


def _sessions(store) -> tuple[object, object]:
    return value(store, "sessions.total", *FEB), value(store, "sessions.with_conversation", *FEB)


@pytest.fixture
def chats(store):
    """c1 (active) and c2 (trial), one session each in e1 on Feb 10:
    c1 10:00–10:10 typed; c2 11:00 bounce."""
    load(
        store,
        identify("c1", "2026-02-01", status="active"),
        identify("c2", "2026-02-02", status="trial"),
        _chat("c1", "10:00"),
        _chat("c1", "10:10", "message_sent", role="user"),
        _chat("c2", "11:00"),
    )
    assert _sessions(store) == (2, 1)
    assert value(store, "customers.active", *FEB) == 1
    return store


def test_a_write_rebuilds_only_what_its_customers_changed(chats):
    store = chats
    whole = store.whole_builds
    # c2 types at 11:20 (its session becomes a conversation), opens again at 13:00 (a new
    # session) and turns active: 3 sessions (c1: 1, c2: 2), 2 with a conversation, 2 active
    load(
        store,
        _chat("c2", "11:20", "message_sent", role="user"),
        _chat("c2", "13:00"),
        identify("c2", "2026-02-15", status="active"),
    )
    assert _sessions(store) == (3, 2)
    assert value(store, "customers.active", *FEB) == 2
    assert store.whole_builds == whole and store.part_builds > 0


def test_events_bridging_two_sessions_make_one(chats):
    store = chats
    load(store, _chat("c1", "12:00"))  # 110 minutes after 10:10: c1's second session
    assert _sessions(store) == (3, 1)
    # 10:40 (exactly 30 min after 10:10), 11:10, 11:40 and 12:00 (20 min): one session again,
    # so c1's two old session rows must both go
    load(store, *(_chat("c1", at, "module_viewed", module="quiz") for at in BRIDGE))
    assert _sessions(store) == (2, 1)


def test_a_customer_moving_to_a_partner_moves_its_sessions(chats):
    store = chats
    assert rows(ask(store, "sessions.total", *FEB, by="partner")) == {None: 2}
    load(store, identify("c2", "2026-02-03", partner_id="p1"))
    assert rows(ask(store, "sessions.total", *FEB, by="partner")) == {None: 1, "p1": 1}


def test_a_target_rebuilds_no_snapshot(chats):
    store = chats
    whole, part = store.whole_builds, store.part_builds
    set_target(store, CATALOG, "sessions.total", "2026-02", 5)
    assert _sessions(store) == (2, 1)
    assert (store.whole_builds, store.part_builds) == (whole, part)


def test_a_write_touching_too_many_rebuilds_whole(chats, monkeypatch):
    store = chats
    monkeypatch.setattr(store_module, "PART_MOST", 1)
    whole = store.whole_builds
    load(store, _chat("c1", "15:00"), _chat("c2", "15:00"))  # two customers: more than 1
    assert _sessions(store) == (4, 1)
    assert store.whole_builds > whole


def _mrr(store) -> object:
    return value(store, "revenue.mrr", *FEB)


@pytest.fixture
def subscribers(store):
    """Plans basic $30 and pro $99 a month; c1 and c2 active, on basic from Feb 1: $60 MRR."""
    load(
        store,
        plan("basic", "2026-01-01", price=30, interval="month"),
        plan("pro", "2026-01-01", price=99, interval="month"),
        identify("c1", "2026-01-01", status="active"),
        identify("c2", "2026-01-01", status="active"),
        track("subscription_started", "2026-02-01", user="c1", plan_id="basic"),
        track("subscription_started", "2026-02-01", user="c2", plan_id="basic"),
    )
    assert _mrr(store) == 60
    return store


def test_a_customer_upgrading_rebuilds_only_its_subscriptions(subscribers):
    store = subscribers
    whole = store.whole_builds
    load(store, track("subscription_changed", "2026-02-10", user="c2", plan_id="pro"))
    assert _mrr(store) == 129  # 30 + 99
    load(store, track("status_changed", "2026-02-20", user="c1", to="churned"))
    assert _mrr(store) == 99  # c1 churned: its MRR no longer counts
    assert store.whole_builds == whole


def test_a_new_plan_price_rebuilds_every_subscription(subscribers):
    store = subscribers
    load(store, plan("basic", "2026-02-05", price=40, interval="month"))
    assert _mrr(store) == 80  # both on basic at its latest price


def test_a_subscription_of_no_customer_is_counted_after_any_write(subscribers):
    """A subscription sent with a groupId alone (a partner's) names no customer: the rows of
    no customer are built again after every write."""
    store = subscribers
    load(store, track("subscription_started", "2026-02-03", group="p9", plan_id="pro"))
    assert _mrr(store) == 159  # 30 + 30 + 99


def _click(pid: str, when: str) -> dict[str, object]:
    return track("referral_clicked", when, group=pid, partner_id=pid)


def test_an_affiliate_click_rebuilds_only_its_activity_spells(store):
    """Active affiliates at the end of March: a click in the 30 days to 1 April 00:00 UTC."""
    load(
        store,
        *[
            message
            for pid in ("a1", "a2")
            for message in (
                group(pid, "2026-01-01", kind="affiliate", status="applied"),
                track("partner_approved", "2026-01-05", group=pid, partner_id=pid),
            )
        ],
        _click("a1", "2026-03-05"),  # active until 4 April
        _click("a2", "2026-01-20"),  # active until 19 February
    )
    assert value(store, "affiliates.active", "2026-03-31") == 1  # a1
    whole = store.whole_builds
    load(store, _click("a2", "2026-02-15"))  # active until 17 March: still not at the end
    assert value(store, "affiliates.active", "2026-03-31") == 1
    # 29 days after 15 Feb: one spell from 15 Feb until 15 April, a2 counts
    load(store, _click("a2", "2026-03-16"))
    assert value(store, "affiliates.active", "2026-03-31") == 2
    assert value(store, "affiliates.active", "2026-03-10") == 2  # inside the one spell
    assert store.whole_builds == whole and store.part_builds > 0


def _integration(event: str, user: str, when: str, provider: str) -> dict[str, object]:
    return track(f"integration_{event}", when, user=user, provider=provider)


def test_a_connection_rebuilds_only_its_customers_intervals(store):
    load(
        store,
        identify("c1", "2026-01-05", status="active"),
        identify("c2", "2026-01-05", status="active"),
        _integration("connected", "c1", "2026-01-10", "slack"),
    )
    assert value(store, "integrations.users", *FEB) == 1
    assert value(store, "integrations.connected_customers", *FEB) == 1
    whole = store.whole_builds
    load(
        store,
        _integration("connected", "c2", "2026-02-03", "stripe"),
        _integration("disconnected", "c1", "2026-02-20", "slack"),
    )
    # Feb 28: c2 on stripe; c1 gone from slack (on it at the end of January)
    by_provider = rows(ask(store, "integrations.users", *FEB, by="provider"))
    assert by_provider == {"stripe": 1, "slack": 0}
    assert value(store, "integrations.connected_customers", *FEB) == 1  # c2
    load(store, _integration("connected", "c1", "2026-02-25", "zapier"))
    assert value(store, "integrations.connected_customers", *FEB) == 2  # c1 back, on zapier
    assert store.whole_builds == whole and store.part_builds > 0
