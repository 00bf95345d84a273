"""The access policy's own rules: sections of the catalog, the explorer plan, partner forcing."""

from __future__ import annotations

from datetime import date

import pytest

from pulse.access.policy import (
    RULES,
    Denied,
    Principal,
    check,
    forced_partner,
    may_see_item,
    plain_answer,
    section_for,
)
from pulse.metrics import CATALOG

TODAY = date(2026, 11, 26)
METRIC = RULES["/api/v1/metrics/{metric_id}"]


def partner(plan: str | None, partner_id: str = "pA") -> Principal:
    return Principal("key", "k", "partner", partner_id, plan, frozenset({"read", "export"}))


def denied(principal: Principal, item: str, **query: str) -> int | None:
    try:
        check(principal, METRIC, {"metric_id": item}, query, TODAY)
    except Denied as exc:
        return exc.status
    return None


def test_every_catalog_metric_and_table_has_a_section():
    unmapped = [i for i in [*CATALOG.metrics, *CATALOG.tables] if section_for(i) is None]
    assert not unmapped, f"add their prefixes to SECTION_OF_PREFIX in access/policy.py: {unmapped}"


@pytest.mark.parametrize(
    ("item", "section"),
    [
        ("finance.ltv_by_channel", "financials"),
        ("support.first_response_time", "operational"),
        ("system.uptime", "operational"),
        ("affiliates.epc", "affiliates"),
        ("agency.active_licenses", "agency"),
        ("integrations.error_rate", "integrations"),
        ("customers.churn_rate", "analytics"),
        ("credits.balance", "analytics"),
        ("revenue.mrr", "analytics"),
        ("partners.growth_rate", "summary"),
        ("nps.score", "experience"),
        ("users.b2c_total", "platform"),
        ("nothing.here", None),
    ],
)
def test_sections_follow_the_id_prefix(item, section):
    assert section_for(item) == section


def test_explorer_sees_basic_counts_for_30_days_only():
    explorer = partner("explorer")
    assert denied(explorer, "customers.total") is None
    assert denied(explorer, "credits.consumed", window="last_30d") is None
    assert denied(explorer, "revenue.mrr") == 403
    assert denied(explorer, "customers.total", window="last_3m") == 403
    # 30 days ending today: 2026-10-28..2026-11-26 is allowed, one day more is not
    assert denied(explorer, "customers.total", window="2026-10-28..2026-11-26") is None
    assert denied(explorer, "customers.total", window="2026-10-27..2026-11-26") == 403
    assert denied(explorer, "customers.total", series="day") == 403
    # a bad window is left to the handler (422), not refused here
    assert denied(explorer, "customers.total", window="last_7y") is None


def test_a_partner_without_a_plan_is_treated_as_explorer():
    assert denied(partner(None), "revenue.mrr") == 403
    assert denied(partner("growth"), "revenue.mrr") is None
    assert denied(partner("growth"), "finance.sample") == 403


def test_partner_forcing():
    own = partner("starter")
    admin = Principal("user", "ada", "platform_admin", scopes=frozenset({"read"}))
    assert forced_partner(own, None) == "pA" and forced_partner(own, "pA") == "pA"
    assert forced_partner(admin, None) is None and forced_partner(admin, "pB") == "pB"
    assert denied(own, "customers.total", partner="pB") == 403


def test_trends_are_dropped_for_explorer_only():
    answer = {"value": 3, "previous": 2, "change_pct": 50.0}
    assert plain_answer(partner("explorer"), answer)["change_pct"] is None
    assert plain_answer(partner("starter"), answer) == answer


def test_listing_filters_by_plan_and_per_partner_tables():
    assert may_see_item(partner("starter"), "revenue.mrr")
    assert not may_see_item(partner("starter"), "revenue.mrr_table", per_partner=False)
    assert not may_see_item(partner("explorer"), "revenue.mrr")
    assert not may_see_item(Principal("anonymous", "anonymous"), "customers.total")
