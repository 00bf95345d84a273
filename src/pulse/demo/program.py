"""The partner program of seed 003 §2-3: affiliates and referral partners.

Clicks -> sign-ups (~8 %) -> trials (~55 %) -> paid (~30 %), with elite affiliates far more
productive than the partner tier; recurring, flat and milestone commissions; monthly payouts
after a 30-day holding period. Referred customers are ordinary platform customers (no
`partner_id`), attributed through `referred_by` and `channel`.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

from pulse.demo import names
from pulse.demo.calendar import Choice, poisson
from pulse.demo.clock import DAY, HOUR, MINUTE
from pulse.demo.context import Context
from pulse.demo.customers import CustomerSpec, customer_life, usage_profile
from pulse.demo.msg import Item, track, track_g

# class -> (sign-ups per mature, active month; share of months with activity)
AFFILIATE_CLASS = {"partner": (0.9, 0.5), "power": (5.0, 0.85), "elite": (18.0, 0.98)}
REFERRAL_CLASS = {"partner": (0.8, 0.55), "power": (2.5, 0.8), "elite": (6.0, 0.95)}
RECURRING = {"partner": 0.30, "power": 0.30, "elite": 0.40}
REFERRAL_RECURRING = 0.15
REFERRAL_FLAT = 100.0
# seed 003 §2.6: bonus per milestone of referrals (sign-ups)
MILESTONES = {3: 100.0, 10: 500.0, 25: 1_500.0, 50: 5_000.0, 100: 15_000.0, 250: 50_000.0}
HOLDING = 30 * DAY
MIN_PAYOUT = 50.0
PLAN_MIX = Choice(
    [
        ("plan_basic_m", 0.50),
        ("plan_pro_m", 0.38),
        ("plan_business_m", 0.06),
        ("plan_pro_y", 0.05),
        ("plan_business_y", 0.01),
    ]
)


@dataclass(slots=True)
class ReferrerPlan:
    """What the program needs to know about an affiliate or referral partner."""

    pid: str
    kind: str  # affiliate | referral
    cls: str  # productivity class: partner | power | elite
    domain: str  # the partner's e-mail domain (self-referral detection)
    self_referrer: bool = False
    fraud: bool = False


def _ip(rng: random.Random) -> str:
    r = rng.getrandbits(24)
    return f"{11 + int(rng.random() * 212)}.{r >> 16}.{(r >> 8) & 255}.{r & 255}"


def referral_program(
    ctx: Context, rng: random.Random, p: ReferrerPlan, start: int, stop: int
) -> Iterator[Item]:
    """Clicks, sign-ups and the referred customers' lives, then commissions and payouts."""
    win = ctx.win
    affiliate = p.kind == "affiliate"
    rate, activity = (AFFILIATE_CLASS if affiliate else REFERRAL_CLASS)[p.cls]
    recurring = RECURRING[p.cls] if affiliate else REFERRAL_RECURRING
    volume = ctx.scale.referral_volume
    pid = p.pid
    commissions: list[tuple[int, float, str]] = []  # (t, USD, kind)
    signups = 0
    fraud_month = -1
    if p.fraud:
        months = [m.index for m in win.months if m.start >= start and m.stop <= stop]
        fraud_month = months[len(months) // 2] if months else -1
    age = 0
    for m in win.months:
        a, b = max(start, m.start), min(stop, m.stop, win.end + 1)
        if b <= a:
            continue
        frac = (b - a) / m.span
        active = rng.random() < activity
        ramp = min(1.0, 0.35 + 0.2 * age)
        age += 1
        lam = rate * ramp * frac * volume * (1.0 if active else 0.06)
        n_sign = poisson(rng, lam)
        ctr = 0.06 + rng.random() * 0.04 if affiliate else 0.12 + rng.random() * 0.08
        n_click = int(n_sign / ctr) + poisson(rng, (3.0 if active else 0.4) * frac)
        for t in ctx.b2c_time.sample_sorted(rng, a, b, n_click):
            yield track_g(t, pid, "referral_clicked", {"partner_id": pid})
        times = ctx.b2c_time.sample_sorted(rng, a, b, n_sign)
        burst_ip = ""
        if m.index == fraud_month:
            burst_ip = f"203.0.113.{1 + int(rng.random() * 250)}"
            t0 = a + int(rng.random() * max(0, b - a - 3 * DAY))
            times += [t0 + int(rng.random() * 2 * DAY) for _ in range(20 + int(rng.random() * 20))]
        for i, t in enumerate(times):
            signups += 1
            fraud = bool(burst_ip) and i >= n_sign
            yield from _referred(
                ctx, rng, p, t, burst_ip if fraud else _ip(rng), fraud, recurring, stop, commissions
            )
            bonus = MILESTONES.get(signups)
            if bonus is not None and affiliate:
                commissions.append((t + HOUR, bonus, "milestone"))
    yield from _payouts(ctx, pid, commissions, start, stop)


def _referred(
    ctx: Context,
    rng: random.Random,
    p: ReferrerPlan,
    t: int,
    ip: str,
    fraud: bool,
    recurring: float,
    stop: int,
    commissions: list[tuple[int, float, str]],
) -> Iterator[Item]:
    """One referral sign-up and the referred customer's whole life."""
    affiliate = p.kind == "affiliate"
    cid, n = ctx.ids.customer()
    domain = p.domain if p.self_referrer and rng.random() < 0.3 else None
    yield track(t, cid, "referral_signed_up", {"partner_id": p.pid, "ip": ip})
    usage, trend = usage_profile(rng)
    boost = 1.15 if p.cls == "elite" else 1.0
    spec = CustomerSpec(
        cid=cid,
        created=t,
        channel="affiliate" if affiliate else "referral",
        plan_id=PLAN_MIX.pick(rng),
        email=names.person_email(rng, n, domain),
        platform="mobile" if rng.random() < 0.45 else "desktop",
        currency="EUR" if rng.random() < 0.15 else "USD",
        referred_by=p.pid,
        start="lead" if fraud or rng.random() >= 0.55 else "trial",
        convert_p=(0.22 if affiliate else 0.34) * boost,
        churn_m=0.045 if affiliate else 0.035,
        usage=usage,
        usage_trend=trend,
    )
    items, life = customer_life(ctx, rng, spec)
    yield from items
    for ti, usd in life.invoices:
        if ti < stop:
            commissions.append((ti + 10 * MINUTE, round(usd * recurring, 2), "recurring"))
    for tr, usd in life.refunds:
        if tr < stop:
            commissions.append((tr + 10 * MINUTE, -round(usd * recurring, 2), "reversal"))
    if not affiliate and life.converted_at is not None and life.converted_at < stop:
        commissions.append((life.converted_at + 15 * MINUTE, REFERRAL_FLAT, "flat"))


def _payouts(
    ctx: Context, pid: str, commissions: list[tuple[int, float, str]], start: int, stop: int
) -> Iterator[Item]:
    """commission_earned / commission_reversed events and monthly payouts of held commissions."""
    if not commissions:
        return
    commissions.sort()
    for t, amount, kind in commissions:
        if kind == "reversal":
            yield track_g(t, pid, "commission_reversed", {"partner_id": pid, "amount": -amount})
        else:
            yield track_g(
                t, pid, "commission_earned", {"partner_id": pid, "amount": amount, "kind": kind}
            )
    i = 0
    carry = 0.0
    for m in ctx.win.months:
        run = m.start + 10 * HOUR
        if run < start + HOLDING or run > stop + 60 * DAY:
            continue
        while i < len(commissions) and commissions[i][0] <= run - HOLDING:
            carry += commissions[i][1]
            i += 1
        if carry >= MIN_PAYOUT:
            yield track_g(run, pid, "payout_sent", {"partner_id": pid, "amount": round(carry, 2)})
            carry = 0.0
