"""The deterministic demo platform generator (pulse.demo): contract, determinism and shape."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from typing import Any

import pytest

from pulse.demo import SCALES, iter_messages
from pulse.ingest.contract import ENUMS as CONTRACT_ENUMS
from pulse.ingest.contract import REQUIRED as CONTRACT_REQUIRED

END = dt.date(2026, 5, 3)
START = END - dt.timedelta(days=547)

# What the demo sends beyond the ingestion contract's minimum (contract.REQUIRED), so that the
# dashboards have it, and the events that carry no property at all.
ALSO_SENT: dict[str, tuple[str, ...]] = {
    "invoice_paid": ("currency",),
    "signed_up": ("email",),
    "nps_submitted": ("comment",),
    "status_changed": ("from",),
    "tier_changed": ("from",),
    "integration_synced": ("duration_ms",),
    "ticket_resolved": ("csat",),
    "health_check": ("duration_ms",),
    "error_logged": ("message",),
}
NO_PROPERTIES = (
    *("participated", "advent_door_opened", "pin_sent", "pin_succeeded", "pin_failed"),
    *("customer_deleted", "partner_applied", "partner_approved", "partner_deactivated"),
    *("trial_started", "api_called"),
)
REQUIRED: dict[str, tuple[str, ...]] = {
    event: CONTRACT_REQUIRED.get(event, ()) + ALSO_SENT.get(event, ())
    for event in (*CONTRACT_REQUIRED, *NO_PROPERTIES)
}
# The contract's enumerations (keyed "property@event"), plus the demo's own value sets.
ENUMS: dict[tuple[str, str], set[str]] = {
    (key.split("@")[1], key.split("@")[0]): set(allowed) for key, allowed in CONTRACT_ENUMS.items()
} | {
    ("data_entered", "field"): {"email", "postal_address", "phone", "birthday"},
    ("tier_changed", "to"): {"partner", "power", "elite"},
}
CUSTOM_EVENTS = {"theme_changed", "commission_reversed"}
PARTNER_KINDS = {"affiliate", "referral", "reseller", "white_label", "integration", "business"}
STATUSES = {"trial", "active", "inactive", "cancelled", "churned"}
CHANNELS = {
    "direct",
    "organic",
    "paid_ads",
    "affiliate",
    "referral",
    "reseller",
    "white_label",
    "integration",
}
ENVELOPE = {"type", "messageId", "timestamp", "userId", "groupId", "event", "properties", "traits"}

Message = dict[str, Any]


@pytest.fixture(scope="module")
def small() -> list[Message]:
    return list(iter_messages("small", 7, END))


def _ts(message: Message) -> dt.datetime:
    return dt.datetime.fromisoformat(message["timestamp"])


def _groups(messages: list[Message], entity: str | None) -> list[Message]:
    return [m for m in messages if m["type"] == "group" and m["traits"].get("entity") == entity]


def test_scales_and_unknown_scale() -> None:
    assert SCALES == ("small", "medium", "large")
    with pytest.raises(ValueError, match="small, medium, large"):
        iter_messages("huge")


def test_deterministic(small: list[Message]) -> None:
    assert list(iter_messages("small", 7, END)) == small
    other = list(iter_messages("small", 8, END))
    assert other != small


def test_size(small: list[Message]) -> None:
    assert 20_000 <= len(small) <= 60_000


def test_message_ids_unique(small: list[Message]) -> None:
    ids = [m["messageId"] for m in small]
    assert all(isinstance(i, str) and i for i in ids)
    assert len(set(ids)) == len(ids)


def test_envelope(small: list[Message]) -> None:
    for m in small:
        assert set(m) <= ENVELOPE, m
        if m["type"] == "track":
            assert isinstance(m["event"], str) and m["event"], m
            assert isinstance(m["properties"], dict), m
            assert m.get("userId") or m.get("groupId"), m
        elif m["type"] == "identify":
            assert m["userId"] and isinstance(m["traits"], dict), m
        else:
            assert m["type"] == "group", m
            assert m["groupId"] and isinstance(m["traits"], dict), m


def test_track_properties(small: list[Message]) -> None:
    seen = Counter(m["event"] for m in small if m["type"] == "track")
    unknown = set(seen) - set(REQUIRED) - CUSTOM_EVENTS
    assert not unknown
    assert CUSTOM_EVENTS & set(seen)  # custom events are part of the demo
    for m in small:
        if m["type"] != "track":
            continue
        event, props = m["event"], m["properties"]
        for name in REQUIRED.get(event, ()):
            assert name in props, m
        for (ev, name), allowed in ENUMS.items():
            if event == ev:
                assert props[name] in allowed, m
        if "amount" in props:
            assert isinstance(props["amount"], int | float), m
        if "credits" in props:
            assert isinstance(props["credits"], int) and props["credits"] > 0, m
        if "ok" in props:
            assert isinstance(props["ok"], bool), m
        if event == "nps_submitted":
            assert 0 <= props["score"] <= 10
        if event == "ticket_resolved":
            assert 1 <= props["csat"] <= 5


def test_timestamps_inside_window(small: list[Message]) -> None:
    lo = dt.datetime(START.year, START.month, START.day, tzinfo=dt.UTC)
    hi = dt.datetime(END.year, END.month, END.day, 23, 59, 59, tzinfo=dt.UTC)
    for m in small:
        ts = _ts(m)
        assert ts.utcoffset() == dt.timedelta(0), m
        assert lo <= ts <= hi, m


def test_default_end_is_today() -> None:
    before = dt.datetime.now(dt.UTC).date()
    first = next(iter_messages("small"))
    after = dt.datetime.now(dt.UTC).date()
    assert _ts(first).date() in {d - dt.timedelta(days=547) for d in (before, after)}


def test_catalog_first(small: list[Message]) -> None:
    plans = _groups(small, "plan")
    assert small[: len(plans)] == plans
    assert {p["traits"]["interval"] for p in plans} == {"month", "year"}
    for p in plans:
        assert {"name", "price", "currency", "credits_included", "cost_per_credit"} <= set(
            p["traits"]
        )
    styles = _groups(small, "style")
    assert len(styles) == 40 and any(not s["traits"]["active"] for s in styles)
    stages = {g["traits"].get("stage") for g in _groups(small, "integration")}
    assert {"live", "discovery", "negotiation", "development", "planned"} <= stages
    rates = _groups(small, "fx_rate")
    assert len(rates) == 548
    assert all(1.05 <= r["traits"]["rate"] <= 1.12 for r in rates)


def test_partners(small: list[Message]) -> None:
    partners = {
        m["groupId"]: m["traits"]
        for m in small
        if m["type"] == "group" and "entity" not in m["traits"] and "kind" in m["traits"]
    }
    assert 25 <= len(partners) <= 40
    assert {t["kind"] for t in partners.values()} == PARTNER_KINDS
    for traits in partners.values():
        assert traits["status"] == "applied"
        assert traits["plan"] in {"explorer", "starter", "growth", "enterprise"}
        dt.datetime.fromisoformat(traits["created_at"])
        if traits["kind"] == "affiliate":
            assert traits["program_tier"] == "partner"
    events = Counter(
        m["event"] for m in small if m["type"] == "track" and m.get("groupId") in partners
    )
    assert events["partner_applied"] == len(partners)
    assert 0 < events["partner_approved"] < len(partners)
    for event in ("referral_clicked", "commission_earned", "payout_sent", "credits_purchased"):
        assert events[event] > 0, event


def test_customers(small: list[Message]) -> None:
    partners = {m["groupId"] for m in small if m["type"] == "group" and "kind" in m["traits"]}
    created: dict[str, dict[str, Any]] = {}
    for m in small:
        if m["type"] == "identify" and "created_at" in m["traits"]:
            created[m["userId"]] = m["traits"]
    statuses: set[str] = set()
    for uid, traits in created.items():
        assert uid.startswith("c_")
        assert traits["platform"] in {"mobile", "desktop"}
        assert traits["channel"] in CHANNELS
        for key in ("partner_id", "referred_by"):
            if key in traits:
                assert traits[key] in partners
        if "status" in traits:
            statuses.add(traits["status"])
    later = {
        m["traits"]["status"] for m in small if m["type"] == "identify" and "status" in m["traits"]
    }
    assert later | statuses == STATUSES
    users = {m["userId"] for m in small if m.get("userId")}
    assert users <= set(created)  # every customer is identified


def test_occasion_seasonality(small: list[Message]) -> None:
    occasions = [o["traits"] for o in _groups(small, "occasion") if "partner_id" in o["traits"]]
    by_month: dict[str, Counter[int]] = defaultdict(Counter)
    for o in occasions:
        by_month[o["kind"]][int(o["starts_at"][5:7])] += 1
    total = Counter[int]()
    for counts in by_month.values():
        total.update(counts)

    def share(kind: str, months: range | tuple[int, ...]) -> float:
        return sum(by_month[kind][m] for m in months) / max(1, sum(total[m] for m in months))

    assert share("wedding", range(5, 11)) > 2 * share("wedding", (11, 12, 1, 2, 3))
    assert share("holiday", (12, 1, 2)) > 5 * share("holiday", range(5, 10))
    weddings = by_month["wedding"]
    assert weddings[6] + weddings[7] + weddings[8] > weddings[12] + weddings[1] + weddings[2]


def test_chat_sessions_split_on_30_minutes(small: list[Message]) -> None:
    last: dict[str, dt.datetime] = {}
    opened = 0
    chat = [m for m in small if m["type"] == "track" and "experience_id" in m["properties"]]
    for m in sorted(chat, key=lambda m: (m["userId"], m["timestamp"])):
        ts = _ts(m)
        previous = last.get(m["userId"])
        if m["event"] == "chat_opened":
            opened += 1
            assert previous is None or ts - previous > dt.timedelta(minutes=30), m
        else:
            assert previous is not None and ts - previous <= dt.timedelta(minutes=30), m
        last[m["userId"]] = ts
    assert opened > 500


def test_generations(small: list[Message]) -> None:
    styles = {s["groupId"]: s["traits"] for s in _groups(small, "style")}
    occasions = {o["groupId"] for o in _groups(small, "occasion")}
    per_occasion: Counter[str] = Counter()
    for m in small:
        if m["type"] == "track" and m["event"] == "generation_created":
            props = m["properties"]
            assert props["style_id"] in styles and styles[props["style_id"]]["active"]
            assert props["occasion_id"] in occasions
            per_occasion[props["occasion_id"]] += 1
    partner_counts = [n for o, n in per_occasion.items() if not o.startswith("occ_b2c_")]
    assert min(partner_counts) >= 40
    assert sum(partner_counts) / len(partner_counts) >= 100
