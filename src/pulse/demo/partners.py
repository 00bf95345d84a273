"""Partners: who they are (roster), their lifecycle, and what each kind does.

The roster follows seed 003: the channel mix of §1 (affiliates, referral, reseller,
white-label), tiers 72/22/6 % for affiliates (§2.1), growth over the window like §7.1, churn by
kind like §6.3, and onboarding times like §6.2. Each partner is generated as one block: its
lifecycle, then everything its kind does (referrals, clients, occasions, experiences, fees).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field

from pulse.demo import names
from pulse.demo.agency import ClientPartnerPlan, client_partner
from pulse.demo.calendar import HOURS_B2B, WEEKDAY_B2B, Choice, growth_factor
from pulse.demo.catalog import LIVE_INTEGRATIONS, PIPELINE
from pulse.demo.clock import DAY, HOUR, TimeSampler
from pulse.demo.context import Context
from pulse.demo.msg import Item, Props, group, track_g
from pulse.demo.program import ReferrerPlan, referral_program
from pulse.demo.support import onboarding, ticket

PARTNER_GROWTH = 4.12  # seed 003 §7.1: +312 % partners year over year
PLAN_BY_KIND = {
    "affiliate": Choice([("explorer", 0.7), ("starter", 0.25), ("growth", 0.05)]),
    "referral": Choice([("explorer", 0.4), ("starter", 0.45), ("growth", 0.15)]),
    "reseller": Choice([("starter", 0.2), ("growth", 0.6), ("enterprise", 0.2)]),
    "white_label": Choice([("growth", 0.3), ("enterprise", 0.7)]),
    "business": Choice(
        [("explorer", 0.15), ("starter", 0.45), ("growth", 0.3), ("enterprise", 0.1)]
    ),
    "integration": Choice([("growth", 0.5), ("enterprise", 0.5)]),
}
# Affiliate productivity class; more start at the bottom than end there, since upgrades take time.
AFFILIATE_CLASS = Choice([("partner", 0.62), ("power", 0.26), ("elite", 0.12)])
BUSINESS_SEGMENT = Choice(
    [("power", 0.15), ("active", 0.40), ("occasional", 0.30), ("dormant", 0.15)]
)
AGENCY_SEGMENT = Choice([("power", 0.2), ("active", 0.55), ("occasional", 0.25)])
APPROVAL_DAYS = {
    "affiliate": (0.2, 4.0),
    "referral": (1.0, 6.0),
    "reseller": (3.0, 14.0),
    "white_label": (5.0, 21.0),
    "business": (1.0, 7.0),
    "integration": (5.0, 30.0),
}
# Monthly deactivation hazard (seed 003 §6.3 ordering: affiliates churn most, white-label least).
DEACTIVATION = {
    "affiliate": 0.02,
    "referral": 0.015,
    "reseller": 0.012,
    "white_label": 0.006,
    "business": 0.015,
    "integration": 0.0,
}
TICKETS_PER_MONTH = {
    "affiliate": 0.05,
    "referral": 0.08,
    "reseller": 0.35,
    "white_label": 0.6,
    "business": 0.3,
    "integration": 0.2,
}
THEMES = ("light", "dark", "ocean", "sunset", "forest")


@dataclass(slots=True)
class PartnerPlan:
    pid: str
    kind: str
    applied: int
    name: str
    email: str
    domain: str
    plan: str
    cls: str = "partner"  # affiliate/referral productivity class or business segment
    size: float = 1.0
    provider: str | None = None  # integration partners
    pending: bool = False  # integration pipeline: applied, not approved
    fraud: bool = False
    self_referrer: bool = False
    taste: dict[str, float] = field(default_factory=dict)


def plan_roster(ctx: Context) -> list[PartnerPlan]:
    """All partners with their application time, sorted by it, ids p_0001... in that order."""
    win = ctx.win
    rng = ctx.rng("roster")
    sampler = TimeSampler(win, HOURS_B2B, WEEKDAY_B2B, growth_factor(win, PARTNER_GROWTH))
    drafts: list[tuple[int, str, int]] = []  # (applied, kind, integration index)
    for kind, count in ctx.scale.partners.items():
        for _ in range(count):
            drafts.append((sampler.sample(rng, win.start, win.end - 2 * DAY), kind, -1))
    n_int = min(ctx.scale.integration_partners, len(LIVE_INTEGRATIONS) + len(PIPELINE))
    for i in range(n_int):
        if i < len(LIVE_INTEGRATIONS):
            live = ctx.live_at[LIVE_INTEGRATIONS[i].provider]
            early = win.start + int(rng.random() * 10 * DAY)
            t = max(live - int((20 + rng.random() * 40) * DAY), early)
        else:
            t = win.end - int((60 + rng.random() * 140) * DAY)
        drafts.append((t, "integration", i))
    drafts.sort()
    roster: list[PartnerPlan] = []
    used_domains: set[str] = set()
    for n, (t, kind, integ) in enumerate(drafts, start=1):
        pid = f"p_{n:04d}"
        roster.append(_draft(ctx, rng, pid, kind, t, integ, used_domains))
    affiliates = [p for p in roster if p.kind == "affiliate"]
    power = [p for p in affiliates if p.cls == "power" and p.applied < win.start + 300 * DAY]
    for p in power[: ctx.scale.fraud_affiliates]:
        p.fraud = True
    for p in affiliates[:: max(40, len(affiliates) // 12 or 1)][1:]:
        p.self_referrer = True
    return roster


def _draft(
    ctx: Context,
    rng: random.Random,
    pid: str,
    kind: str,
    t: int,
    integ: int,
    used: set[str],
) -> PartnerPlan:
    n = int(pid[2:])
    if kind == "integration":
        if integ < len(LIVE_INTEGRATIONS):
            provider, name = LIVE_INTEGRATIONS[integ].provider, LIVE_INTEGRATIONS[integ].name
            pending = False
        else:
            provider, name = PIPELINE[integ - len(LIVE_INTEGRATIONS)][:2]
            pending = True
            ctx.integration_partners.setdefault(provider, pid)
        domain = provider.replace("_", "") + ".com"
        ctx.integration_partners.setdefault(provider, pid)
        return PartnerPlan(
            pid,
            kind,
            t,
            name,
            f"partners@{domain}",
            domain,
            PLAN_BY_KIND[kind].pick(rng),
            provider=provider,
            pending=pending,
        )
    if kind == "affiliate":
        name = names.affiliate_handle(rng)
        cls = AFFILIATE_CLASS.pick(rng)
    else:
        name = names.company(rng)
        cls = BUSINESS_SEGMENT.pick(rng) if kind == "business" else AGENCY_SEGMENT.pick(rng)
        if kind == "referral":
            cls = AFFILIATE_CLASS.pick(rng)
    domain = names.domain_for(name, rng, 0)
    if domain in used:
        domain = names.domain_for(name, rng, n)
    used.add(domain)
    first, _ = names.person(rng)
    plan = PartnerPlan(
        pid,
        kind,
        t,
        name,
        f"{first.lower()}@{domain}",
        domain,
        PLAN_BY_KIND[kind].pick(rng),
        cls=cls,
        size=min(4.0, rng.lognormvariate(0.0, 0.5)),
    )
    if kind == "business":
        plan.taste = {
            "wedding": rng.random() * 2,
            "corporate": rng.random() * 2,
            "holiday": 0.3 + rng.random(),
            "other": rng.random(),
        }
    else:
        plan.taste = {"wedding": 0.5, "corporate": 1.0, "holiday": 0.8, "other": 0.4}
    return plan


def partner_block(ctx: Context, p: PartnerPlan) -> Iterator[Item]:
    """One partner: application, approval, onboarding, tiers, churn, tickets and its activity."""
    win = ctx.win
    rng = ctx.rng(p.pid)
    pid = p.pid
    traits: Props = {
        "name": p.name,
        "email": p.email,
        "kind": p.kind,
        "plan": p.plan,
        "status": "applied",
        "created_at": win.iso(p.applied),
    }
    if p.kind == "affiliate":
        traits["program_tier"] = "partner"
    yield group(p.applied, pid, traits)
    yield track_g(p.applied, pid, "partner_applied", {"partner_id": pid})
    if p.pending or rng.random() < 0.05:
        return  # still in the pipeline, or never approved
    lo, hi = APPROVAL_DAYS[p.kind]
    approved = p.applied + int((lo + rng.random() * (hi - lo)) * DAY)
    yield group(approved, pid, {"status": "active"})
    yield track_g(approved, pid, "partner_approved", {"partner_id": pid})
    items, onboarded = onboarding(rng, pid, p.kind, approved)
    yield from items
    hazard = DEACTIVATION[p.kind] * (4 if p.cls == "dormant" else 1)
    stop = _deactivation(rng, win.end, approved, hazard)
    if stop <= win.end:
        yield group(stop, pid, {"status": "deactivated"})
        yield track_g(stop, pid, "partner_deactivated", {"partner_id": pid})
    if p.kind == "affiliate":
        yield from _tiers(rng, p, approved, stop)
    yield from _tickets(ctx, rng, p, approved, stop)
    if p.kind in ("business", "white_label") and rng.random() < 0.4:
        t = approved + int(rng.random() * 90 * DAY)
        yield track_g(
            t,
            pid,
            "theme_changed",
            {"partner_id": pid, "theme": THEMES[int(rng.random() * len(THEMES))]},
        )
    start = (onboarded or approved + int(3 * DAY * rng.random())) + HOUR
    if p.kind in ("affiliate", "referral"):
        ref = ReferrerPlan(pid, p.kind, p.cls, p.domain, p.self_referrer, p.fraud)
        yield from referral_program(ctx, rng, ref, start, stop)
    elif p.kind in ("reseller", "white_label", "business"):
        plan = ClientPartnerPlan(pid, p.kind, p.name, p.size, p.cls, p.taste)
        yield from client_partner(ctx, rng, plan, start, stop)


def _deactivation(rng: random.Random, end: int, approved: int, hazard: float) -> int:
    """When the partner is deactivated (a time after `end` means never in the window)."""
    t = approved
    while t <= end and hazard > 0:
        if rng.random() < hazard:
            return t + int(rng.random() * 30 * DAY)
        t += 30 * DAY
    return end + DAY


def _tiers(rng: random.Random, p: PartnerPlan, approved: int, stop: int) -> Iterator[Item]:
    """Power and elite affiliates earn their tier after a few months; a few fall back."""
    if p.cls == "partner":
        return
    steps: list[tuple[int, str, str]] = []
    t = approved + int((20 + rng.random() * 55) * DAY)
    steps.append((t, "partner", "power"))
    if p.cls == "elite":
        steps.append((t + int((30 + rng.random() * 90) * DAY), "power", "elite"))
    elif rng.random() < 0.08:
        steps.append((t + int((60 + rng.random() * 120) * DAY), "power", "partner"))
    for at, old, new in steps:
        if at >= stop:
            return
        yield track_g(at, p.pid, "tier_changed", {"from": old, "to": new, "partner_id": p.pid})
        yield group(at, p.pid, {"program_tier": new})


def _tickets(
    ctx: Context, rng: random.Random, p: PartnerPlan, approved: int, stop: int
) -> Iterator[Item]:
    rate = TICKETS_PER_MONTH[p.kind]
    end = min(stop, ctx.win.end)
    t = approved
    while t < end:
        if rng.random() < rate:
            yield from ticket(ctx, rng, t + int(rng.random() * 30 * DAY), None, p.pid)
        t += 30 * DAY
