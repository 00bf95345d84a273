"""affiliates.tier_progress — where each affiliate stands against its tier's monthly referral
minimum and the next tier's (seed 003 §8.1: "12 Power affiliates at risk of tier downgrade (< 5
referrals MTD)", "@CRMQueen on track for Elite tier upgrade (2 more referrals needed)").

Tiers are kept and earned by referrals (sign-ups through the affiliate's link) a month: power
needs 5 (below it a power affiliate is at risk of falling back), elite 15 (seed 003: an elite
affiliate "usually 15+"); the partner tier needs none. The referrals are `affiliates.signups` in
the window, so read the table over `this_month` for month to date.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from pulse.metrics.affiliates import TIERS, by_partner, partner_traits
from pulse.metrics.catalog import Column, Metric, Table
from pulse.metrics.tables import TableContext

TIER_MINIMUM = {"partner": 0, "power": 5, "elite": 15}  # referrals a month to hold the tier


def next_tier(tier: str | None) -> str | None:
    """The tier above (None for elite and for an unknown tier)."""
    if tier not in TIERS or tier == TIERS[-1]:
        return None
    return TIERS[TIERS.index(tier) + 1]


def _progress(ctx: TableContext) -> pd.DataFrame:
    members = by_partner(ctx, "affiliates.total")  # affiliates with active status at the end
    referrals = by_partner(ctx, "affiliates.signups")
    traits = partner_traits(ctx, "name", "program_tier").set_index("partner_id")
    rows: list[dict[str, Any]] = []
    for pid in sorted(p for p, row in members.items() if row["value"]):
        tier = traits["program_tier"].get(pid) if pid in traits.index else None
        tier = tier if tier in TIERS else TIERS[0]  # no tier yet: the entry tier
        count = int((referrals.get(pid) or {}).get("value") or 0)
        above = next_tier(tier)
        needed = None if above is None else TIER_MINIMUM[above]
        rows.append(
            {
                "partner_id": pid,
                "name": traits["name"].get(pid) if pid in traits.index else None,
                "tier": tier,
                "referrals": count,
                "tier_minimum": TIER_MINIMUM[tier],
                "short_of_tier": max(TIER_MINIMUM[tier] - count, 0),
                "next_tier": above,
                "next_minimum": needed,
                "to_next_tier": None if needed is None else max(needed - count, 0),
            }
        )
    frame = pd.DataFrame(rows, columns=[c.name for c in COLUMNS])
    return frame.astype({"next_minimum": object, "to_next_tier": object})


COLUMNS = (
    Column("partner_id", "Affiliate", "text"),
    Column("name", "Name", "text"),
    Column("tier", "Tier", "text"),
    Column("referrals", "Referrals"),
    Column("tier_minimum", "Tier minimum"),
    Column("short_of_tier", "Short of tier minimum"),
    Column("next_tier", "Next tier", "text"),
    Column("next_minimum", "Next tier minimum"),
    Column("to_next_tier", "Referrals to next tier"),
)

METRICS: tuple[Metric | Table, ...] = (
    Table(
        "affiliates.tier_progress",
        "Tier progress",
        "Per active affiliate: its tier (partner when it has none), referrals in the window "
        "(affiliates.signups), the tier's monthly minimum (partner 0, power 5, elite 15) and how "
        "many it is short of it, the next tier with its minimum and the referrals still missing "
        "to it. Read over this month: short of the minimum = at risk of a tier downgrade.",
        COLUMNS,
        _progress,
        per_partner=True,
    ),
)
