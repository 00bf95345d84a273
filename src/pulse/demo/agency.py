"""Partners with their own clients: resellers, white-label partners and business partners.

They buy credit packs, allocate credits to their clients and occasions, run chatbot
experiences, and pay the platform license fees (resellers, seed 003 §3.3), platform and seat
fees (white-label, §3.4) or credit purchases (everyone). Purchases are planned after the
partner's usage is known so utilisation lands where its segment says (seed 001 segments).
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass

from pulse.demo import names
from pulse.demo.calendar import Choice, poisson
from pulse.demo.catalog import PARTNER_PACKS
from pulse.demo.chat import ADVENT, TEMPLATES, Experience, sessions
from pulse.demo.clock import DAY, HOUR
from pulse.demo.context import Context
from pulse.demo.customers import CustomerSpec, customer_life, usage_profile
from pulse.demo.msg import Item, group, track_g, track_ug
from pulse.demo.occasions import CreditFlow, partner_occasions

LICENSE_FEE = 60.0  # per active reseller license and month
PLATFORM_FEE = 500.0  # white-label platform fee per month
SEAT_FEE = 10.0  # white-label seat per month
CLIENT_PLANS = Choice([("plan_basic_m", 0.15), ("plan_pro_m", 0.55), ("plan_business_m", 0.30)])
CHANNEL = {"reseller": "reseller", "white_label": "white_label", "business": "direct"}
# kind -> new clients per month at full size, occasions per month, chat sessions per month
KIND_RATES = {
    "reseller": (0.9, 0.3, 10.0),
    "white_label": (1.1, 0.8, 15.0),
    "business": (0.25, 0.0, 8.0),
}
# business partner activity segment (seed 001): occasions / month, utilisation target, months
SEGMENTS = {
    "power": (11.0, 0.92, 0),
    "active": (4.5, 0.78, 0),
    "occasional": (1.5, 0.55, 0),
    "dormant": (1.2, 0.2, 4),  # stops after a few months
}


@dataclass(slots=True)
class ClientPartnerPlan:
    pid: str
    kind: str  # reseller | white_label | business
    name: str
    size: float  # relative size (lognormal around 1)
    segment: str  # power | active | occasional | dormant
    taste: dict[str, float]  # occasion kind preference


def client_partner(
    ctx: Context, rng: random.Random, p: ClientPartnerPlan, start: int, stop: int
) -> Iterator[Item]:
    """Everything a client-owning partner does from `start` (onboarded) until `stop`."""
    win = ctx.win
    flow = CreditFlow()
    client_rate, occ_rate, session_rate = KIND_RATES[p.kind]
    per_month, util, active_months = SEGMENTS[p.segment]
    busy_until = stop if not active_months else min(stop, start + active_months * 30 * DAY)
    licenses: list[tuple[int, int]] = []
    age = 0
    for m in win.months:
        a, b = max(start, m.start), min(busy_until, m.stop, win.end + 1)
        if b <= a:
            continue
        ramp = min(1.0, 0.4 + 0.15 * age)
        age += 1
        lam = client_rate * p.size * ramp * ctx.scale.client_rate * (b - a) / m.span
        for t in ctx.b2b_time.sample_sorted(rng, a, b, poisson(rng, lam)):
            yield from _client(ctx, rng, p, t, flow, licenses)
    occasions_per_month = (per_month if p.kind == "business" else occ_rate) * p.size
    if occasions_per_month > 0:
        median = 130.0 if p.segment == "power" else 90.0 + rng.random() * 50
        yield from partner_occasions(
            ctx,
            rng,
            p.pid,
            start,
            busy_until,
            occasions_per_month * ctx.scale.occasion_rate,
            p.taste,
            median,
            flow,
            1.05 if p.segment == "power" else 1.25,
        )
    yield from _experiences(ctx, rng, p, start, busy_until, session_rate)
    if p.kind == "reseller":
        yield from _license_fees(ctx, p.pid, licenses, start, stop)
    elif p.kind == "white_label":
        yield from _white_label_fees(ctx, rng, p, start, stop)
    yield from _credit_purchases(ctx, rng, p.pid, flow, util, start)


def _client(
    ctx: Context,
    rng: random.Random,
    p: ClientPartnerPlan,
    t: int,
    flow: CreditFlow,
    licenses: list[tuple[int, int]],
) -> Iterator[Item]:
    cid, n = ctx.ids.customer()
    usage, trend = usage_profile(rng)
    company = names.company(rng)
    spec = CustomerSpec(
        cid=cid,
        created=t,
        channel=CHANNEL[p.kind],
        plan_id=CLIENT_PLANS.pick(rng),
        email=names.person_email(rng, n, names.domain_for(company, rng, n)),
        platform="desktop" if rng.random() < 0.75 else "mobile",
        currency="EUR" if rng.random() < 0.2 else "USD",
        partner_id=p.pid,
        start="trial" if p.kind == "business" else "paid",
        convert_p=0.6,
        churn_m=0.02 if p.kind == "white_label" else 0.028,
        usage=usage,
        usage_trend=trend,
        billed_by_partner=True,
        tickets_m=0.01,
    )
    items, life = customer_life(ctx, rng, spec)
    yield from items
    for month, credits in life.allocated.items():
        flow.add(month, credits, 0)
    for month, credits in life.consumed.items():
        flow.add(month, 0, credits)
    if p.kind == "reseller":
        for s, e in life.spans:
            licenses.append((s, e))
            props = {"partner_id": p.pid, "plan_id": spec.plan_id}
            yield track_ug(s + 120, cid, p.pid, "license_activated", props)
            if e <= ctx.win.end:
                yield track_ug(e + 60, cid, p.pid, "license_cancelled", {"partner_id": p.pid})


def _experiences(
    ctx: Context, rng: random.Random, p: ClientPartnerPlan, start: int, stop: int, rate: float
) -> Iterator[Item]:
    """One to three chatbots, each with its own sessions."""
    n = 1 + (rng.random() < 0.5) + (rng.random() < 0.2)
    for _ in range(n):
        template = ADVENT if rng.random() < 0.12 else int(rng.random() * len(TEMPLATES))
        exp = Experience(ctx.ids.experience(), template, p.pid, CHANNEL[p.kind])
        created = start + int((1 + rng.random() * 30) * DAY)
        short = p.name.split(" ")[0]
        yield group(created, exp.id, exp.traits(f"{short} {TEMPLATES[template][0]}"))
        monthly = rate * p.size * ctx.scale.session_rate * (0.4 + rng.random() * 1.2)
        per_month = [monthly * min(1.0, 0.3 + 0.1 * i) for i in range(len(ctx.win.months))]
        yield from sessions(ctx, rng, exp, created + HOUR, stop, per_month)


def _license_fees(
    ctx: Context, pid: str, licenses: list[tuple[int, int]], start: int, stop: int
) -> Iterator[Item]:
    """Monthly license invoice: active licenses x fee (seed 003 §3.3)."""
    for m in ctx.win.months:
        t = m.start + DAY + 9 * HOUR
        if t < start or t > stop:
            continue
        active = sum(1 for s, e in licenses if s <= t < e)
        if active:
            yield track_g(
                t,
                pid,
                "invoice_paid",
                {
                    "amount": active * LICENSE_FEE,
                    "currency": "USD",
                    "kind": "license",
                    "licenses": active,
                    "partner_id": pid,
                },
            )


def _white_label_fees(
    ctx: Context, rng: random.Random, p: ClientPartnerPlan, start: int, stop: int
) -> Iterator[Item]:
    """Seats over time and the monthly platform + seat invoices (seed 003 §3.4)."""
    seats = max(10, int(rng.lognormvariate(math.log(45 * p.size), 0.4)))
    pid = p.pid
    yield track_g(start + HOUR, pid, "seats_changed", {"partner_id": pid, "seats": seats})
    for m in ctx.win.months:
        t = m.start + DAY + 10 * HOUR
        if t < start or t > stop:
            continue
        if rng.random() < 0.55:
            new = max(5, int(seats * (0.97 + rng.random() * 0.12)))
            if new != seats:
                seats = new
                yield track_g(
                    t - 2 * HOUR, pid, "seats_changed", {"partner_id": pid, "seats": seats}
                )
        yield track_g(
            t,
            pid,
            "invoice_paid",
            {"amount": PLATFORM_FEE, "currency": "USD", "kind": "platform_fee", "partner_id": pid},
        )
        yield track_g(
            t + 60,
            pid,
            "invoice_paid",
            {
                "amount": seats * SEAT_FEE,
                "currency": "USD",
                "kind": "seats",
                "seats": seats,
                "partner_id": pid,
            },
        )


def _credit_purchases(
    ctx: Context, rng: random.Random, pid: str, flow: CreditFlow, util: float, start: int
) -> Iterator[Item]:
    """Buy packs early each month so allocations are covered and utilisation ~ `util`."""
    bought = allocated = consumed = 0
    first_buy = 0
    for m in ctx.win.months:
        if m.stop <= start:
            continue
        allocated += flow.allocated.get(m.index, 0)
        consumed += flow.consumed.get(m.index, 0)
        target = max(allocated, int(consumed / util))
        t = max(m.start, start) + int((1 + rng.random() * 48) * HOUR)
        while bought < target:
            need = target - bought
            credits, price = PARTNER_PACKS[0]
            for c, pr in PARTNER_PACKS:
                if c <= need:
                    credits, price = c, pr
            bought += credits
            first_buy = first_buy or t
            yield track_g(
                t,
                pid,
                "credits_purchased",
                {"credits": credits, "amount": price, "partner_id": pid},
            )
            yield track_g(
                t + 30,
                pid,
                "invoice_paid",
                {"amount": price, "currency": "USD", "kind": "credits", "partner_id": pid},
            )
            t += 1_800
        if first_buy and util < 0.35 and m.start > first_buy + 365 * DAY and bought > allocated:
            expired = int((bought - allocated) * 0.3)
            yield track_g(
                m.start + 3 * HOUR, pid, "credits_expired", {"credits": expired, "partner_id": pid}
            )
            bought -= expired
            first_buy = m.start
