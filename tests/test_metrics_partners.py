"""partners.* on hand-built datasets; every expected value is worked out by hand beside it."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from messages import ask, group, identify, load, rows, series, track, value
from pulse.metrics import CATALOG
from pulse.metrics.engine import Engine
from pulse.metrics.tables import TableQuery, evaluate_table

FEB = ("2026-02-28", "this_month")  # previous window: January


def table(store: Any, table_id: str, as_of: str, **options: Any) -> list[dict[str, Any]]:
    query = TableQuery(table_id, date.fromisoformat(as_of), **options)
    rows_: list[dict[str, Any]] = evaluate_table(Engine(store, CATALOG), query)["rows"]
    return rows_


def approved(pid: str, when: str) -> dict[str, Any]:
    return track("partner_approved", when, group=pid, partner_id=pid)


def deactivated(pid: str, when: str) -> dict[str, Any]:
    return track("partner_deactivated", when, group=pid, partner_id=pid)


# -- counts, growth, churn ----------------------------------------------------------------------


def lifecycle() -> list[dict[str, Any]]:
    return [
        # p1: applied Jan 5, approved Jan 10 (group and event at the same moment: one approval),
        # deactivated Feb 15, approved again Mar 5
        group("p1", "2026-01-05", kind="business", status="applied"),
        track("partner_applied", "2026-01-05", group="p1", partner_id="p1"),
        group("p1", "2026-01-10", status="active"),
        approved("p1", "2026-01-10"),
        deactivated("p1", "2026-02-15"),
        approved("p1", "2026-03-05"),
        # p2: applied Jan 20, approved Feb 3 by a group message only
        group("p2", "2026-01-20", kind="affiliate", program_tier="partner", status="applied"),
        group("p2", "2026-02-03", status="active"),
        # p3: applied Feb 10, never approved
        group("p3", "2026-02-10", kind="affiliate", status="applied"),
        # p4: joins active on Feb 20 (created_at given earlier than the message)
        group("p4", "2026-02-20", kind="reseller", status="active", created_at="2026-02-18"),
        # system events with groupId "platform": an entity id, but not a partner
        track("health_check", "2026-01-15", group="platform", ok=True, duration_ms=100),
    ]


def test_counts_by_status_and_kind(store):
    load(store, *lifecycle())
    total = ask(store, "partners.total", *FEB, by="partner_kind")
    # Feb 28: p1 p2 p3 p4 (platform is no partner) · Jan 31: p1, p2
    assert (total["value"], total["previous"]) == (4, 2)
    assert rows(total) == {"affiliate": 2, "business": 1, "reseller": 1}
    active = ask(store, "partners.active", *FEB)
    # Feb 28: p2, p4 (p1 deactivated Feb 15) · Jan 31: p1
    assert (active["value"], active["previous"]) == (2, 1)
    new = ask(store, "partners.new", *FEB)
    # February approvals: p2 (Feb 3), p4 (Feb 20) · January: p1 once, not twice
    assert (new["value"], new["previous"]) == (2, 1)
    churned = ask(store, "partners.churned", *FEB)
    assert (churned["value"], churned["previous"]) == (1, 0)  # p1 on Feb 15
    # March: p1's second approval is a new approval
    assert value(store, "partners.new", "2026-03-31", "this_month") == 1


def test_growth_churn_and_active_ratio(store):
    load(store, *lifecycle())
    growth = ask(store, "partners.growth_rate", *FEB)
    # Feb: 2 approved / 2 partners at Jan 31 = 100 %; Jan: 1 / 0 partners at Dec 31 → None
    assert (growth["value"], growth["previous"]) == (100.0, None)
    assert growth["status"] == "healthy"  # ≥ 10 × 28/30
    churn = ask(store, "partners.churn_rate", *FEB)
    # Feb: 1 deactivated / 1 active at Jan 31 (p1) = 100 %; Jan: 0 / 0 active → None
    assert (churn["value"], churn["previous"], churn["status"]) == (100.0, None, "warning")
    ratio = ask(store, "partners.active_ratio", *FEB)
    # Feb 28: 2 active / 4 = 50 % (between 40 and 60: neutral); Jan 31: 1 / 2 = 50 %
    assert (ratio["value"], ratio["previous"], ratio["status"]) == (50.0, 50.0, "neutral")
    # an empty store: no partners → None, not 0
    assert value(store, "partners.active_ratio", "2025-06-30", "this_month") is None


def test_approval_day_follows_the_reporting_time_zone(store):
    load(
        store,
        group("p1", "2026-02-01", kind="business", status="applied"),
        # 02:00 UTC on Mar 1 is 21:00 on Feb 28 in New York
        approved("p1", "2026-03-01 02:00"),
    )
    assert value(store, "partners.new", *FEB) == 0
    assert value(store, "partners.new", *FEB, tz="America/New_York") == 1


# -- activation and 90-day retention ------------------------------------------------------------


def test_activation_rate_counts_a_first_referral_or_sale_within_30_days(store):
    load(
        store,
        group("a1", "2026-01-05", kind="affiliate", status="applied"),
        approved("a1", "2026-01-10"),  # due Feb 9: referral on Feb 5 (26 days) → activated
        track("referral_signed_up", "2026-02-05", user="c1", partner_id="a1"),
        group("a2", "2026-01-05", kind="business", status="applied"),
        approved("a2", "2026-01-15"),  # due Feb 14
        # the partner's own invoice is no sale; its customer's sale on Feb 20 is 36 days late
        track("invoice_paid", "2026-01-20", group="a2", amount=10, kind="credits"),
        identify("c9", "2026-01-16", partner_id="a2"),
        track("invoice_paid", "2026-02-20", user="c9", amount=50, kind="subscription"),
        group("a3", "2026-01-05", kind="business", status="applied"),
        approved("a3", "2026-01-20 12:00"),  # due Feb 19 12:00: an allocation right then counts
        track("credits_allocated", "2026-02-19 12:00", group="a3", credits=5, to="o1"),
        group("a4", "2026-02-10", kind="affiliate", status="applied"),
        approved("a4", "2026-02-15"),  # due Mar 17: not in February's cohort
        group("a5", "2025-12-01", kind="reseller", status="applied"),
        approved("a5", "2025-12-20"),  # due Jan 19 → January; license on Dec 25 → activated
        track("license_activated", "2025-12-25", user="c5", group="a5", partner_id="a5"),
    )
    answer = ask(store, "partners.activation_rate", *FEB)
    # February cohort a1, a2, a3 → activated a1, a3: 2 / 3; January cohort a5 → 1 / 1
    assert answer["value"] == 66.6667
    assert answer["previous"] == 100.0
    assert answer["status"] == "neutral"  # below the 80 % target; the seed gives no warning
    assert value(store, "partners.activation_rate", "2025-11-30", "this_month") is None


def test_retention_90d_reads_the_cohort_approved_90_days_before_the_end(store):
    load(
        store,
        group("r1", "2026-01-01 08:00", kind="business", status="applied"),
        approved("r1", "2026-01-01"),  # + 90 days = Apr 1 12:00; still active
        group("r2", "2026-01-02", kind="business", status="applied"),
        approved("r2", "2026-01-05"),
        deactivated("r2", "2026-03-01"),  # in the cohort, not retained
        group("r3", "2026-01-02", kind="affiliate", status="applied"),
        approved("r3", "2026-01-10"),  # first approval counts: in the cohort from Apr 10
        deactivated("r3", "2026-02-01"),
        approved("r3", "2026-04-20"),  # active again at Apr 30 → retained
        group("r4", "2026-02-10", kind="affiliate", status="applied"),
        approved("r4", "2026-02-15"),  # + 90 days = May 16: not yet in the cohort
        group("r5", "2026-01-01", kind="affiliate", status="applied"),  # never approved
    )
    answer = ask(store, "partners.retention_90d", "2026-04-30", "this_month")
    assert answer["value"] == 66.6667  # r1, r3 of r1, r2, r3
    # Mar 31 (end of Apr 1 00:00): nobody has been approved for 90 days yet
    assert answer["previous"] is None
    daily = ask(
        store, "partners.retention_90d", "2026-04-30", "2026-03-31..2026-04-11", series="day"
    )
    by_day = dict(series(daily))
    assert by_day["2026-03-31"] is None
    assert by_day["2026-04-01"] == 100.0  # r1 (from Apr 1 12:00) of r1
    # Apr 5: r2 joins (approved Jan 5), deactivated: 1 / 2; Apr 10: r3 joins, deactivated: 1 / 3
    assert by_day["2026-04-05"] == 50.0
    assert by_day["2026-04-10"] == 33.3333
    assert answer["status"] == "neutral"  # below the 75 % target


# -- tables: list and segments ------------------------------------------------------------------


def test_partner_list_shows_traits_occasions_credits_and_last_activity(store):
    load(
        store,
        group(
            "p1",
            "2026-01-01",
            name="Acme Events",
            email="a@acme.test",
            kind="business",
            plan="growth",
            status="active",
        ),
        track("credits_purchased", "2026-01-10", group="p1", credits=1000, amount=100),
        group("o1", "2026-01-11", entity="occasion", name="Gala", partner_id="p1"),
        track("credits_allocated", "2026-01-12", group="p1", credits=300, to="o1"),
        track(
            "generation_created",
            "2026-01-20",
            group="p1",
            style_id="s1",
            occasion_id="o1",
            status="succeeded",
        ),
        track(
            "credits_consumed",
            "2026-01-20",
            group="p1",
            credits=150,
            source="generation",
            occasion_id="o1",
        ),
        group("p1", "2026-02-10", status="deactivated"),  # after the as-of date
        group("p2", "2026-01-05", name="Ann", kind="affiliate", program_tier="power"),
        track("partner_applied", "2026-01-05", group="p2", partner_id="p2"),
        track("referral_clicked", "2026-01-25 09:30", group="p2", partner_id="p2"),
        track("referral_clicked", "2026-02-03 10:00", group="p2", partner_id="p2"),  # after
        track("error_logged", "2026-01-26", group="platform", source="api", message="x"),
        group("p3", "2026-01-07", name="Quiet"),  # no events at all
        identify("c9", "2026-01-02", partner_id="p2"),  # a customer of p2, quiet until below
    )
    listed = table(store, "partners.list", "2026-01-31")
    assert [r["partner_id"] for r in listed] == ["p1", "p2", "p3"]  # no "platform"
    p1, p2, p3 = listed
    assert (p3["last_activity"], p3["occasions"], p3["status"]) == (None, 0, None)
    assert (p1["name"], p1["kind"], p1["plan"], p1["status"]) == (
        "Acme Events",
        "business",
        "growth",
        "active",  # deactivated only on Feb 10
    )
    assert p1["occasions"] == 1
    # purchased 1000, consumed 150, in channel 1000 − 300 allocated = 700, ratio 150 / 1000
    assert (p1["credits_purchased"], p1["credits_consumed"]) == (1000, 150)
    assert (p1["credits_in_channels"], p1["consumption_ratio"]) == (700, 15.0)
    assert p1["last_activity"] == "2026-01-20T12:00:00+00:00"
    assert p1["created"] == "2026-01-01T12:00:00+00:00"
    assert (p2["tier"], p2["status"], p2["occasions"]) == ("power", "applied", 0)
    assert p2["credits_purchased"] is None
    assert p2["last_activity"] == "2026-01-25T09:30:00+00:00"

    # a chat message of a p2 customer: its last activity moves; the list's other parts (traits,
    # occasions, credit metrics) read nothing it writes and are not computed again
    load(
        store,
        track("message_sent", "2026-01-28 08:00", user="c9", experience_id="e1", role="user"),
    )
    computed = store.computed
    again = {r["partner_id"]: r for r in table(store, "partners.list", "2026-01-31")}
    assert again["p2"]["last_activity"] == "2026-01-28T08:00:00+00:00"
    assert again["p1"] == p1
    assert store.computed - computed == 2  # the table, and its last-activity piece

    # as of Feb 5 no event is after the window: read from the last-events snapshots, which a
    # message of c9 rebuilds for c9 alone
    later = {r["partner_id"]: r for r in table(store, "partners.list", "2026-02-05")}
    assert later["p2"]["last_activity"] == "2026-02-03T10:00:00+00:00"
    assert later["p1"]["last_activity"] == "2026-01-20T12:00:00+00:00"
    builds = store.whole_builds
    load(
        store,
        track("message_sent", "2026-02-04 18:00", user="c9", experience_id="e1", role="user"),
    )
    later = {r["partner_id"]: r for r in table(store, "partners.list", "2026-02-05")}
    assert later["p2"]["last_activity"] == "2026-02-04T18:00:00+00:00"
    assert (later["p1"]["last_activity"], later["p3"]["last_activity"]) == (
        p1["last_activity"],
        None,
    )
    assert store.whole_builds == builds  # rebuilt in part


def segment_data() -> list[dict[str, Any]]:
    def partner(pid: str, status: str = "active") -> dict[str, Any]:
        return group(pid, "2025-11-01", name=pid.upper(), kind="business", status=status)

    def occasions(pid: str, when: str, n: int) -> list[dict[str, Any]]:
        return [group(f"{pid}_o{i}", when, entity="occasion", partner_id=pid) for i in range(n)]

    return [
        # power: 10 occasions in March, 90 of 100 allocated credits consumed (90 %)
        partner("power"),
        *occasions("power", "2026-03-10", 10),
        track("credits_allocated", "2026-03-10", group="power", credits=100, to="power_o0"),
        track("credits_consumed", "2026-03-20", group="power", credits=90, source="generation"),
        # busy: 10 occasions, but 50 of 100 credits consumed → active
        partner("busy"),
        *occasions("busy", "2026-03-10", 10),
        track("credits_allocated", "2026-03-10", group="busy", credits=100, to="busy_o0"),
        track("credits_consumed", "2026-03-20", group="busy", credits=50, source="generation"),
        # steady: 3 occasions known only from generations in March → active
        partner("steady"),
        *[
            track(
                "generation_created",
                "2026-03-15",
                group="steady",
                style_id="s",
                occasion_id=o,
                status="succeeded",
            )
            for o in ("x1", "x2", "x3")
        ],
        # rare: one occasion on Feb 15 (in 90 days, not in 30) → occasional
        partner("rare"),
        *occasions("rare", "2026-02-15", 1),
        # sleepy: last occasion on Dec 1, 2025 (more than 90 days before Mar 31) → dormant
        partner("sleepy"),
        *occasions("sleepy", "2025-12-01", 1),
        # never had an occasion, or deactivated: not segmented
        partner("fresh"),
        partner("gone", status="deactivated"),
        *occasions("gone", "2026-03-10", 4),
    ]


def test_partner_segments_with_default_thresholds(store):
    load(store, *segment_data())
    members = table(store, "partners.segment_members", "2026-03-31")
    by_id = {r["partner_id"]: r for r in members}
    assert {p: r["segment"] for p, r in by_id.items()} == {
        "power": "power",
        "busy": "active",
        "steady": "active",
        "rare": "occasional",
        "sleepy": "dormant",
    }
    # 30 days to Mar 31 = Mar 2..31; 90 days = Jan 1..Mar 31
    assert (by_id["power"]["occasions_30d"], by_id["power"]["utilization"]) == (10, 90.0)
    assert (by_id["busy"]["occasions_30d"], by_id["busy"]["utilization"]) == (10, 50.0)
    assert (by_id["steady"]["occasions_30d"], by_id["steady"]["utilization"]) == (3, None)
    assert (by_id["rare"]["occasions_30d"], by_id["rare"]["occasions_90d"]) == (0, 1)
    assert (by_id["sleepy"]["occasions_90d"], by_id["sleepy"]["name"]) == (0, "SLEEPY")
    assert [r["partner_id"] for r in members] == ["power", "busy", "steady", "rare", "sleepy"]
    summary = table(store, "partners.segments", "2026-03-31")
    # 5 partners: power 1 (20 %), active 2 (40 %), occasional 1, dormant 1
    assert [(r["segment"], r["partners"], r["share"]) for r in summary] == [
        ("power", 1, 20.0),
        ("active", 2, 40.0),
        ("occasional", 1, 20.0),
        ("dormant", 1, 20.0),
    ]


def test_partner_segment_thresholds_are_parameters(store):
    load(store, *segment_data())
    # 11 occasions needed for power → "power" becomes active; 121 days reach back to Dec 1
    # (Mar 31 − 120 days), so "sleepy" is occasional
    params = {"power_occasions": "11", "dormant_days": "121"}
    summary = table(store, "partners.segments", "2026-03-31", params=params)
    assert [(r["segment"], r["partners"]) for r in summary] == [
        ("power", 0),
        ("active", 3),
        ("occasional", 2),
        ("dormant", 0),
    ]
    # 120 days (Dec 2..Mar 31) still miss Dec 1
    members = table(store, "partners.segment_members", "2026-03-31", params={"dormant_days": "120"})
    assert {r["partner_id"]: r["segment"] for r in members}["sleepy"] == "dormant"
    with pytest.raises(ValueError, match=r"^power_occasions: must be a number"):
        table(store, "partners.segments", "2026-03-31", params={"power_occasions": "many"})
    # no partners yet: every segment at 0, shares None
    empty = table(store, "partners.segments", "2025-06-30")
    assert [(r["partners"], r["share"]) for r in empty] == [(0, None)] * 4
