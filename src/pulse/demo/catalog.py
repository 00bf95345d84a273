"""The platform's catalog: plans, credit packs, styles, integrations and daily FX rates.

These are the reference entities every other generator points at (plan_id, style_id,
provider), so they are emitted first, at the very start of the window.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass

from pulse.demo.calendar import OCCASION_KINDS, Picker, clip
from pulse.demo.clock import DAY, Window
from pulse.demo.msg import Item, group


@dataclass(frozen=True, slots=True)
class Plan:
    id: str
    name: str
    price: float  # per interval
    interval: str  # month | year
    credits: int  # included per month
    cost_per_credit: float

    @property
    def mrr(self) -> float:
        return round(self.price / 12, 2) if self.interval == "year" else self.price


PLANS: dict[str, Plan] = {
    p.id: p
    for p in (
        Plan("plan_basic_m", "Basic", 29.0, "month", 500, 0.025),
        Plan("plan_pro_m", "Pro", 99.0, "month", 2_000, 0.028),
        Plan("plan_business_m", "Business", 299.0, "month", 8_000, 0.022),
        Plan("plan_pro_y", "Pro (annual)", 990.0, "year", 2_000, 0.028),
        Plan("plan_business_y", "Business (annual)", 2_990.0, "year", 8_000, 0.022),
        Plan("plan_payg", "Pay as you go", 0.0, "month", 0, 0.03),
    )
}
UPGRADE = {
    "plan_basic_m": "plan_pro_m",
    "plan_pro_m": "plan_business_m",
    "plan_pro_y": "plan_business_y",
}
DOWNGRADE = {v: k for k, v in UPGRADE.items()}

# Credit packs (credits, price USD): partners buy in bulk, consumers in small packs.
PARTNER_PACKS = ((1_000, 45.0), (5_000, 200.0), (20_000, 700.0), (100_000, 3_000.0))
B2C_PACKS = ((100, 9.0), (500, 39.0), (1_500, 99.0))


@dataclass(frozen=True, slots=True)
class Style:
    id: str
    name: str
    category: str
    active: bool
    deletion: float  # share of generations the guest deletes (seed 001 "quality issues")


_STYLE_NAMES: dict[str, tuple[str, ...]] = {
    "portrait": (
        "Studio Portrait",
        "Soft Glow",
        "Black & White Classic",
        "Magazine Cover",
        "Golden Hour",
        "Corporate Headshot",
        "Film Noir",
    ),
    "cartoon": (
        "Pixar Style",
        "Anime",
        "Comic Book",
        "Caricature",
        "Claymation",
        "Chibi",
        "Pop Art",
    ),
    "fantasy": (
        "Elven Royalty",
        "Space Explorer",
        "Superhero",
        "Steampunk",
        "Underwater Kingdom",
        "Dragon Rider",
        "Cyberpunk",
    ),
    "vintage": (
        "Roaring Twenties",
        "Victorian",
        "70s Disco",
        "Polaroid",
        "Sepia Western",
        "80s Neon",
    ),
    "art": (
        "Oil Painting",
        "Watercolor",
        "Van Gogh",
        "Pencil Sketch",
        "Mosaic",
        "Renaissance",
        "Ukiyo-e",
    ),
    "seasonal": (
        "Christmas Sweater",
        "Winter Wonderland",
        "Valentine Hearts",
        "Summer Beach",
        "Halloween Spooky",
        "New Year Sparkle",
    ),
}
_INACTIVE = {"Claymation", "Sepia Western", "Mosaic"}
_UNUSED = _INACTIVE | {"Ukiyo-e"}
_HIGH_DELETION = {"Caricature": 0.22, "Van Gogh": 0.18, "Chibi": 0.15}
# Months (1-12) in which a seasonal style is used at all.
_STYLE_MONTHS = {
    "Christmas Sweater": {11, 12, 1},
    "Winter Wonderland": {12, 1, 2},
    "Valentine Hearts": {2},
    "Summer Beach": {6, 7, 8},
    "Halloween Spooky": {10},
    "New Year Sparkle": {12, 1},
}
# Style category preference per occasion kind (seed 001 "style pack preferences by event type").
_CATEGORY_TASTE: dict[str, dict[str, float]] = {
    "wedding": {
        "portrait": 3.0,
        "vintage": 2.0,
        "art": 2.0,
        "fantasy": 0.6,
        "cartoon": 0.6,
        "seasonal": 0.3,
    },
    "corporate": {
        "portrait": 2.5,
        "cartoon": 1.5,
        "art": 1.0,
        "fantasy": 1.0,
        "vintage": 0.8,
        "seasonal": 0.3,
    },
    "holiday": {
        "seasonal": 3.0,
        "cartoon": 1.2,
        "portrait": 1.0,
        "fantasy": 1.0,
        "vintage": 0.6,
        "art": 0.6,
    },
    "other": {
        "cartoon": 2.0,
        "fantasy": 2.0,
        "portrait": 1.0,
        "art": 1.0,
        "vintage": 1.0,
        "seasonal": 0.5,
    },
}


def _styles() -> tuple[Style, ...]:
    out: list[Style] = []
    for category, names in _STYLE_NAMES.items():
        for name in names:
            out.append(
                Style(
                    f"style_{len(out) + 1:02d}",
                    name,
                    category,
                    name not in _INACTIVE,
                    _HIGH_DELETION.get(name, 0.03),
                )
            )
    return tuple(out)


STYLES = _styles()


def style_pickers() -> dict[tuple[str, int], Picker]:
    """A style picker per (occasion kind, calendar month): taste x popularity x season."""
    pickers: dict[tuple[str, int], Picker] = {}
    rank_in_category: dict[str, int] = {}
    popularity: list[float] = []
    for s in STYLES:
        r = rank_in_category.get(s.category, 0)
        rank_in_category[s.category] = r + 1
        popularity.append(1.0 / (r + 1) ** 0.9)
    for kind in OCCASION_KINDS:
        for month in range(1, 13):
            weights = []
            for s, pop in zip(STYLES, popularity, strict=True):
                months = _STYLE_MONTHS.get(s.name)
                usable = s.name not in _UNUSED and (months is None or month in months)
                weights.append(_CATEGORY_TASTE[kind][s.category] * pop if usable else 0.0)
            pickers[(kind, month)] = Picker(weights)
    return pickers


@dataclass(frozen=True, slots=True)
class Integration:
    provider: str
    name: str
    share: float  # adoption among eligible customers (seed 003 §4.2)
    sync_ms: float  # average sync time (seed 003 §4.3)
    error: float  # share of failed syncs
    launch_days_before_end: int | None  # None: live before the window; else launched in it


LIVE_INTEGRATIONS = (
    Integration("google_workspace", "Google Workspace", 0.67, 1_200, 0.0002, None),
    Integration("stripe", "Stripe", 0.60, 800, 0.0001, None),
    Integration("zapier", "Zapier", 0.44, 2_100, 0.0005, None),
    Integration("slack", "Slack", 0.38, 500, 0.0003, None),
    Integration("microsoft_365", "Microsoft 365", 0.26, 1_800, 0.0008, None),
    Integration("twilio", "Twilio", 0.20, 1_000, 0.0004, None),
    Integration("quickbooks", "QuickBooks", 0.16, 1_500, 0.0004, None),
    Integration("facebook_ads", "Facebook Ads", 0.13, 1_300, 0.0006, 75),
    Integration("hubspot", "HubSpot Migration", 0.09, 2_500, 0.0005, 60),
    Integration("google_ads", "Google Ads", 0.08, 1_400, 0.0006, 40),
)
# (provider, name, stage, potential users, revenue potential per month, days to launch after end)
PIPELINE = (
    ("linkedin", "LinkedIn", "negotiation", 2_000, 0.0, 80),
    ("shopify", "Shopify", "development", 1_500, 1_200.0, 70),
    ("docusign", "DocuSign", "discovery", 1_200, 0.0, 170),
    ("zoom", "Zoom", "planned", 2_500, 0.0, 160),
)
_STAGES = ("discovery", "negotiation", "development", "planned", "live")
ZAPIER_INCIDENT_DAYS = 7  # seed 003 §8.1: "Zapier error rate spiked to 2.3%" in the last week


def integration_live_at(win: Window) -> dict[str, int]:
    """Epoch at which each live integration became usable (window start if live before)."""
    out: dict[str, int] = {}
    for integ in LIVE_INTEGRATIONS:
        days = integ.launch_days_before_end
        out[integ.provider] = win.start if days is None else win.end - days * DAY + 1 - DAY // 2
    return out


def catalog_messages(win: Window, rng: random.Random) -> Iterator[Item]:
    """Plans, styles and integrations, at the start of the window (integration stages later)."""
    t = win.start
    for plan in PLANS.values():
        yield group(
            t,
            plan.id,
            {
                "entity": "plan",
                "name": plan.name,
                "price": plan.price,
                "currency": "USD",
                "interval": plan.interval,
                "credits_included": plan.credits,
                "cost_per_credit": plan.cost_per_credit,
            },
        )
    t += 1
    for style in STYLES:
        yield group(
            t,
            style.id,
            {
                "entity": "style",
                "name": style.name,
                "category": style.category,
                "active": style.active,
            },
        )
    t += 1
    live_at = integration_live_at(win)
    for integ in LIVE_INTEGRATIONS:
        gid = f"int_{integ.provider}"
        base = {"entity": "integration", "provider": integ.provider, "name": integ.name}
        if integ.launch_days_before_end is None:
            yield group(t, gid, {**base, "stage": "live"})
            continue
        launch = win.date_text(live_at[integ.provider])
        yield group(t, gid, {**base, "stage": "development", "expected_launch": launch})
        yield group(live_at[integ.provider], gid, {"entity": "integration", "stage": "live"})
    for provider, name, stage, users, revenue, launch_in in PIPELINE:
        gid = f"int_{provider}"
        launch = _date_after(win, launch_in)
        first_seen = win.end - int((120 + rng.random() * 200) * DAY)
        traits = {
            "entity": "integration",
            "provider": provider,
            "name": name,
            "stage": "discovery",
            "potential_users": users,
            "revenue_potential": revenue,
            "expected_launch": launch,
        }
        yield group(max(first_seen, t), gid, traits)
        stages = _STAGES[: _STAGES.index(stage) + 1]
        for i, later in enumerate(stages[1:], start=1):
            step = first_seen + int(i * (win.end - first_seen) / len(stages))
            yield group(max(step, t + i), gid, {"entity": "integration", "stage": later})


def _date_after(win: Window, days: int) -> str:
    return (win.end_date + dt.timedelta(days=days)).isoformat()


def fx_messages(win: Window, rng: random.Random) -> Iterator[Item]:
    """One EUR rate (USD per EUR) per day, a mean-reverting walk within 1.05-1.12."""
    rate = 1.06 + rng.random() * 0.04
    for d in range(win.days):
        rate = clip(rate + 0.12 * (1.085 - rate) + rng.gauss(0.0, 0.004), 1.05, 1.12)
        date = win.day_prefix[d][:10]
        yield group(
            win.start + d * DAY + 300,
            f"fx_EUR_{date}",
            {"entity": "fx_rate", "currency": "EUR", "rate": round(rate, 4), "date": date},
        )
