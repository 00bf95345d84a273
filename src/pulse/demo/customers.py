"""One customer's life: sign-up, trial, subscription, status history, billing and usage.

Every acquisition path (direct, affiliate, referral partner, reseller, white-label, business
partner) describes a customer with a `CustomerSpec`; `customer_life` plays it out month by
month and returns the messages plus a summary (`Life`) that partner-side generators need for
commissions, license counts and credit purchases.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from pulse.demo.catalog import DOWNGRADE, PLANS, UPGRADE, Plan
from pulse.demo.clock import DAY, HOUR, MINUTE
from pulse.demo.context import Context
from pulse.demo.msg import Item, Props, identify, track_c, track_g
from pulse.demo.support import ticket
from pulse.demo.usage import Connection, consume, integration_month, pick_integrations

EUR_TO_USD = 1.085  # for commission bases only; invoices keep their currency
TRIAL_DAYS = 14


@dataclass(slots=True)
class CustomerSpec:
    cid: str
    created: int
    channel: str
    plan_id: str
    email: str
    platform: str
    currency: str = "USD"
    partner_id: str | None = None  # the partner the customer belongs to (its client)
    referred_by: str | None = None  # affiliate / referral / integration partner
    start: str = "trial"  # trial | paid | lead
    convert_p: float = 0.35  # trial -> paid
    churn_m: float = 0.03  # monthly cancellation hazard
    usage: float = 0.6  # share of the plan's monthly credits consumed
    usage_trend: float = 1.0  # month-over-month usage multiplier (growth-potential customers)
    billed_by_partner: bool = False  # clients invoiced by their reseller / white-label partner
    integrations: bool = True
    tickets_m: float = 0.015  # support tickets per month


@dataclass(slots=True)
class Life:
    """What partner-side generators need to know about a customer's life."""

    converted_at: int | None = None
    invoices: list[tuple[int, float]] = field(default_factory=list)  # (t, USD) subscriptions
    refunds: list[tuple[int, float]] = field(default_factory=list)  # (t, USD)
    spans: list[tuple[int, int]] = field(default_factory=list)  # paid subscription [start, stop)
    allocated: dict[int, int] = field(default_factory=dict)  # window month -> credits
    consumed: dict[int, int] = field(default_factory=dict)  # window month -> credits


class _Customer:
    """Mutable state while a customer's life is generated."""

    def __init__(self, ctx: Context, rng: random.Random, spec: CustomerSpec) -> None:
        self.ctx = ctx
        self.rng = rng
        self.spec = spec
        self.items: list[Item] = []
        self.life = Life()
        self.status = ""
        self.gid = spec.partner_id

    def event(self, t: int, name: str, props: Props) -> None:
        self.items.append(track_c(t, self.spec.cid, self.gid, name, props))

    def set_status(self, t: int, status: str) -> None:
        if status == self.status:
            return
        if self.status and self.rng.random() < 0.3:
            self.event(t, "status_changed", {"from": self.status, "to": status})
        self.items.append(identify(t, self.spec.cid, {"status": status}))
        self.status = status

    def money(self, amount: float) -> Props:
        props: Props = {"amount": amount, "currency": self.spec.currency}
        if self.spec.billed_by_partner:
            props["billed_by"] = "partner"
        return props

    def usd(self, amount: float) -> float:
        return amount * EUR_TO_USD if self.spec.currency == "EUR" else amount


def customer_life(ctx: Context, rng: random.Random, spec: CustomerSpec) -> tuple[list[Item], Life]:
    """Generate the customer's messages (any order) and its summary."""
    c = _Customer(ctx, rng, spec)
    win = ctx.win
    t0 = spec.created
    status = {"trial": "trial", "paid": "active", "lead": "inactive"}[spec.start]
    traits: Props = {
        "email": spec.email,
        "plan_id": spec.plan_id,
        "status": status,
        "channel": spec.channel,
        "platform": spec.platform,
        "created_at": win.iso(t0),
    }
    if spec.partner_id is not None:
        traits["partner_id"] = spec.partner_id
    if spec.referred_by is not None:
        traits["referred_by"] = spec.referred_by
    c.items.append(identify(t0, spec.cid, traits))
    c.status = status

    start = spec.start
    trial_at = t0
    if start == "lead":
        if rng.random() >= 0.05:
            return c.items, c.life
        trial_at = t0 + int((3 + rng.random() * 80) * DAY)
        start = "trial"
    if start == "paid":
        _paying(c, t0 + int((1 + rng.random() * 50) * MINUTE), convert=False)
        return c.items, c.life

    props: Props = {"plan_id": spec.plan_id}
    if spec.referred_by is not None:
        props["partner_id"] = spec.referred_by
    c.event(trial_at + 30, "trial_started", props)
    c.set_status(trial_at + 30, "trial")
    trial_end = trial_at + TRIAL_DAYS * DAY
    plan = PLANS[spec.plan_id]
    trial_credits = int(plan.credits * 0.15 * spec.usage * (0.5 + rng.random()))
    if c.gid is None:  # the platform grants direct customers their trial credits
        c.event(trial_at + 40, "credits_allocated", {"credits": trial_credits, "to": spec.cid})
    consume(rng, ctx.b2b_time, c.items, spec.cid, c.gid, trial_at + HOUR, trial_end, trial_credits)
    if rng.random() < spec.convert_p:
        _paying(c, trial_at + int((2 + rng.random() * (TRIAL_DAYS - 2)) * DAY), convert=True)
        return c.items, c.life
    c.set_status(trial_end, "inactive")
    if rng.random() < 0.04:  # converts months later after a win-back campaign
        _paying(c, trial_end + int((20 + rng.random() * 150) * DAY), convert=True)
    return c.items, c.life


def _paying(c: _Customer, t_act: int, convert: bool) -> None:
    """Subscription runs from activation until the window ends; some churned customers return."""
    spec, rng, ctx, win = c.spec, c.rng, c.ctx, c.ctx.win
    plan = PLANS[spec.plan_id]
    conns = pick_integrations(rng, ctx, t_act, plan.id) if spec.integrations else []
    usage = spec.usage
    first = True
    while t_act <= win.end:
        c.set_status(t_act, "active")
        c.event(
            t_act + 1, "subscription_started", {"plan_id": plan.id, "mrr": plan.mrr, **_extra(c)}
        )
        stop, plan, usage = _run(c, t_act, plan, usage, conns, convert and first)
        c.life.spans.append((t_act, stop))
        first = False
        if stop > win.end or rng.random() >= 0.14:
            return
        t_act = stop + int((20 + rng.random() * 200) * DAY)  # the customer comes back


def _extra(c: _Customer) -> Props:
    props: Props = {"currency": c.spec.currency}
    if c.spec.billed_by_partner:
        props["billed_by"] = "partner"
    return props


def _run(
    c: _Customer,
    t_act: int,
    plan: Plan,
    usage: float,
    conns: list[Connection],
    convert: bool,
) -> tuple[int, Plan, float]:
    """One subscription, month by month, until it is cancelled (returns stop, plan, usage)."""
    spec, rng, ctx, win, life = c.spec, c.rng, c.ctx, c.ctx.win, c.life
    cid, gid = spec.cid, c.gid
    every = 12 if plan.interval == "year" else 1
    k = 0
    t_m = t_act
    while t_m <= win.end:
        t_next = win.add_months(t_act, k + 1)
        mi = win.month_of(t_m).index
        if k % every == 0:
            price = plan.price
            paid = t_m + 60
            if rng.random() < 0.03:
                c.event(t_m, "payment_failed", c.money(price))
                if rng.random() < 0.2:  # involuntary churn
                    tc = t_m + 5 * DAY
                    c.event(tc, "subscription_cancelled", {"reason": "payment_failed", **_extra(c)})
                    c.set_status(tc, "churned")
                    return tc, plan, usage
                paid = t_m + int((1 + rng.random() * 3) * DAY)
            c.event(
                paid, "invoice_paid", {**c.money(price), "kind": "subscription", "plan_id": plan.id}
            )
            life.invoices.append((paid, c.usd(price)))
            if convert and k == 0:
                life.converted_at = paid
                props = {"amount": price, "currency": spec.currency, "plan_id": plan.id}
                if spec.referred_by is not None:
                    props["partner_id"] = spec.referred_by
                c.event(paid + 5, "converted", props)
            if rng.random() < 0.012:
                t_ref = paid + int((1 + rng.random() * 9) * DAY)
                c.event(t_ref, "refund_issued", c.money(price))
                life.refunds.append((t_ref, c.usd(price)))
        active = c.status == "active"
        want = int(plan.credits * usage * (0.8 + 0.4 * rng.random())) if active else 0
        if gid is not None:
            # the partner allocates what the client is expected to need, up to the plan
            grant = min(plan.credits, max(100, -(-int(usage * plan.credits * 1.1) // 100) * 100))
            grant = grant if active else max(100, grant // 5)
            want = min(want, grant)
            c.items.append(
                track_g(
                    t_m + 120,
                    gid,
                    "credits_allocated",
                    {"credits": grant, "to": cid, "partner_id": gid},
                )
            )
            life.allocated[mi] = life.allocated.get(mi, 0) + grant
        elif active:
            # the platform grants a direct customer its plan's monthly credits (a platform
            # allocation: sent about the customer, from no partner)
            c.event(t_m + 120, "credits_allocated", {"credits": plan.credits, "to": cid})
            want = min(want, plan.credits)
        if active:
            used = consume(rng, ctx.b2b_time, c.items, cid, gid, t_m, t_next, want)
            life.consumed[mi] = life.consumed.get(mi, 0) + used
            usage = min(usage * spec.usage_trend, 1.3)
        if conns:
            integration_month(rng, ctx, c.items, cid, gid, conns, t_m, t_next)
        if rng.random() < spec.tickets_m:
            c.items.extend(ticket(ctx, rng, t_m + int(rng.random() * (t_next - t_m)), cid, gid))
        tx = t_m + int(rng.random() * (t_next - t_m))
        r = rng.random()
        cancel = spec.churn_m
        if every == 12:  # annual plans churn at renewal
            cancel *= 5.0 if k % 12 == 11 else 0.15
        if c.status == "inactive":
            cancel *= 2.5
        if r < cancel:
            c.event(tx, "subscription_cancelled", _extra(c))
            c.set_status(tx, "cancelled" if rng.random() < 0.75 else "churned")
            return tx, plan, usage
        r -= cancel
        if c.status == "inactive":
            if r < 0.45:
                c.set_status(tx, "active")
        elif r < 0.03:
            c.set_status(tx, "inactive")
        elif r < 0.052 and plan.id in UPGRADE:
            plan = _change(c, tx, PLANS[UPGRADE[plan.id]])
        elif 0.052 <= r < 0.06 and plan.id in DOWNGRADE:
            plan = _change(c, tx, PLANS[DOWNGRADE[plan.id]])
        k += 1
        t_m = t_next
    return t_m, plan, usage


def _change(c: _Customer, t: int, plan: Plan) -> Plan:
    c.event(t, "subscription_changed", {"plan_id": plan.id, "mrr": plan.mrr, **_extra(c)})
    c.items.append(identify(t, c.spec.cid, {"plan_id": plan.id}))
    return plan


def usage_profile(rng: random.Random) -> tuple[float, float]:
    """(usage share, monthly trend) for seed 000's segments: high, medium, low, growing."""
    x = rng.random()
    if x < 0.25:
        return 0.8 + rng.random() * 0.25, 1.0
    if x < 0.70:
        return 0.3 + rng.random() * 0.5, 1.0
    if x < 0.90:
        return 0.05 + rng.random() * 0.25, 0.97
    return 0.3 + rng.random() * 0.2, 1.12
