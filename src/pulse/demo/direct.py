"""Customers who come to the platform directly: subscribers (B2B/prosumer) and consumers (B2C).

Subscribers carry most of the revenue (seed 003 §5.1: direct/organic ~80 %); consumers buy
small credit packs and generate photos at public occasions in the evenings and on weekends
(seed 001 B2C tab and "Peak usage times").
"""

from __future__ import annotations

import random
from collections.abc import Iterator

from pulse.demo import names
from pulse.demo.calendar import B2C_SEASON, Choice, monthly_counts, poisson
from pulse.demo.catalog import B2C_PACKS, LIVE_INTEGRATIONS
from pulse.demo.clock import DAY, MINUTE, Month
from pulse.demo.context import Context
from pulse.demo.customers import CustomerSpec, customer_life, usage_profile
from pulse.demo.msg import Item, Props, identify, track
from pulse.demo.occasions import STYLE_IDS, PublicOccasion, generation_status

CUSTOMER_GROWTH = 3.0  # sign-ups per month triple over the last year
SUBSCRIBER_CHANNEL = Choice(
    [("organic", 0.42), ("paid_ads", 0.28), ("direct", 0.27), ("integration", 0.03)]
)
SUBSCRIBER_PLAN = Choice(
    [
        ("plan_basic_m", 0.32),
        ("plan_pro_m", 0.40),
        ("plan_business_m", 0.12),
        ("plan_pro_y", 0.10),
        ("plan_business_y", 0.06),
    ]
)
CONSUMER_CHANNEL = Choice([("organic", 0.5), ("paid_ads", 0.35), ("direct", 0.15)])
PACK = Choice([("0", 0.5), ("1", 0.35), ("2", 0.15)])
INTEGRATION_REFERRAL = Choice([(i.provider, i.share) for i in LIVE_INTEGRATIONS])
PAID_ADS_CAC = 450.0  # seed 003 §5.4
SUBSCRIBER_CONVERSION = 0.38
FREE_CREDITS = 10


def expected_paid_ads_customers(ctx: Context) -> list[float]:
    """Expected paying customers from paid ads per window month (for marketing spend)."""
    share = 0.28 * (0.85 * SUBSCRIBER_CONVERSION * 0.9 + 0.15)
    counts = monthly_counts(ctx.scale.direct_signups, ctx.win, CUSTOMER_GROWTH)
    return [c * share for c in counts]


def subscribers(ctx: Context) -> Iterator[Item]:
    """Direct sign-ups month by month; most start a 14-day trial."""
    counts = monthly_counts(ctx.scale.direct_signups, ctx.win, CUSTOMER_GROWTH)
    for m, n in zip(ctx.win.months, counts, strict=True):
        rng = ctx.rng(f"subscribers/{m.index}")
        for _ in range(n):
            yield from _subscriber(ctx, rng, m)


def _subscriber(ctx: Context, rng: random.Random, m: Month) -> Iterator[Item]:
    t = ctx.b2b_time.sample(rng, m.start, m.stop)
    cid, n = ctx.ids.customer()
    channel = SUBSCRIBER_CHANNEL.pick(rng)
    referred_by = None
    if channel == "integration":
        provider = INTEGRATION_REFERRAL.pick(rng)
        referred_by = ctx.integration_partners.get(provider)
        if referred_by is None or ctx.live_at[provider] > t:
            channel, referred_by = "organic", None
    usage, trend = usage_profile(rng)
    b2b = rng.random() < 0.6
    domain = names.domain_for(names.company(rng, suffix=False), rng, n) if b2b else None
    paid_ads = channel == "paid_ads"
    spec = CustomerSpec(
        cid=cid,
        created=t,
        channel=channel,
        plan_id=SUBSCRIBER_PLAN.pick(rng),
        email=names.person_email(rng, n, domain),
        platform="desktop" if rng.random() < 0.7 else "mobile",
        currency="EUR" if rng.random() < 0.15 else "USD",
        referred_by=referred_by,
        start="trial" if rng.random() < 0.85 else "paid",
        convert_p=SUBSCRIBER_CONVERSION * (0.85 if paid_ads else 1.0),
        churn_m=0.034 if paid_ads else 0.026,
        usage=usage,
        usage_trend=trend,
    )
    items, _ = customer_life(ctx, rng, spec)
    yield from items


def consumers(ctx: Context, public: list[list[PublicOccasion]]) -> Iterator[Item]:
    """B2C photo-app users: free credits, packs, bursts of generations, then fading."""
    counts = monthly_counts(ctx.scale.consumers, ctx.win, CUSTOMER_GROWTH)
    for m, n in zip(ctx.win.months, counts, strict=True):
        rng = ctx.rng(f"consumers/{m.index}")
        for _ in range(n):
            yield from _consumer(ctx, rng, m, public)


def _consumer(
    ctx: Context, rng: random.Random, m0: Month, public: list[list[PublicOccasion]]
) -> Iterator[Item]:
    win = ctx.win
    created = ctx.b2c_time.sample(rng, m0.start, m0.stop)
    cid, n = ctx.ids.customer()
    currency = "EUR" if rng.random() < 0.15 else "USD"
    yield identify(
        created,
        cid,
        {
            "email": names.person_email(rng, n),
            "plan_id": "plan_payg",
            "status": "trial",
            "channel": CONSUMER_CHANNEL.pick(rng),
            "platform": "mobile" if rng.random() < 0.7 else "desktop",
            "created_at": win.iso(created),
        },
    )
    status = "trial"
    buyer = rng.random() < 0.55
    pace = rng.lognormvariate(0.3, 0.5)  # visits per month when fresh
    decay = 0.55 + rng.random() * 0.35
    balance = FREE_CREDITS
    last = created
    purchases = 0

    def set_status(t: int, new: str) -> Item:
        nonlocal status
        status = new
        return identify(t, cid, {"status": new})

    for k, m in enumerate(win.months[m0.index :]):
        lam = pace * decay**k * B2C_SEASON[m.month - 1]
        n_visits = max(poisson(rng, lam), 1 if k == 0 else 0)
        a = created + MINUTE if k == 0 else m.start
        for t in ctx.b2c_time.sample_sorted(rng, a, m.stop, n_visits):
            if status == "churned":
                return
            idle = t - last
            if status == "active" and idle > 45 * DAY:
                yield set_status(last + 45 * DAY, "inactive")
            if status == "trial" and purchases == 0 and idle > 30 * DAY:
                yield set_status(last + 30 * DAY, "inactive")
            if status == "inactive" and rng.random() < 0.12:
                yield set_status(last + 120 * DAY, "churned")
                if balance > 0:
                    yield track(last + 120 * DAY, cid, "credits_expired", {"credits": balance})
                return
            gens = 3 + poisson(rng, 6.0)
            if balance < gens and buyer:
                credits, price = B2C_PACKS[int(PACK.pick(rng))]
                money: Props = {"amount": price, "currency": currency}
                yield track(t - 60, cid, "credits_purchased", {"credits": credits, **money})
                yield track(t - 55, cid, "invoice_paid", {**money, "kind": "credits"})
                if rng.random() < 0.01:
                    yield track(t + 2 * DAY, cid, "refund_issued", dict(money))
                balance += credits
                purchases += 1
            gens = min(gens, balance)
            if gens <= 0:
                continue
            if status != "active" and purchases:
                yield set_status(t - 50, "active")
            yield from _visit(ctx, rng, cid, t, gens, public[m.index], m.month)
            balance -= gens
            last = t
    if status == "trial" and purchases == 0 and last + 30 * DAY <= win.end:
        yield set_status(last + 30 * DAY, "inactive")
    elif status == "active" and last + 45 * DAY <= win.end:
        yield set_status(last + 45 * DAY, "inactive")


def _visit(
    ctx: Context,
    rng: random.Random,
    cid: str,
    t: int,
    gens: int,
    options: list[PublicOccasion],
    month: int,
) -> Iterator[Item]:
    """A burst of generations at a public occasion, then its credit consumption."""
    total = sum(o.weight for o in options)
    x = rng.random() * total
    occ = options[-1]
    for o in options:
        x -= o.weight
        if x < 0:
            occ = o
            break
    picker = ctx.styles[(occ.kind, month)]
    rand = rng.random
    for _ in range(gens):
        t += 15 + int(rand() * 75)
        si = picker.pick(rng)
        status = generation_status(rand(), si)
        yield track(
            t,
            cid,
            "generation_created",
            {"style_id": STYLE_IDS[si], "occasion_id": occ.id, "status": status},
        )
    yield track(t + 5, cid, "credits_consumed", {"credits": gens, "source": "generation"})
