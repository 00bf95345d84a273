"""credits.* — purchases, allocations, consumption, balances and utilisation (seeds 000, 001).

Credits are held by partners (bought in bulk, allocated onwards), customers and occasions.
A fact's partner_id is the event's partner, else its customer's partner.
"""

from __future__ import annotations

import ibis

from pulse.metrics.catalog import Balance, Flow, Metric, Ref, health, ratio
from pulse.metrics.source import Source

CREDIT_DIMS = ("partner", "partner_kind", "tier", "plan", "channel", "status", "platform")


def _credits(src: Source, event: str, sign: int = 1) -> ibis.Table:
    events = src.attributed(src.track(event))
    return events.select(
        "ts",
        "customer_id",
        "partner_id",
        "target",
        value=events.credits * sign,
    )


def purchased_facts(src: Source) -> ibis.Table:
    return _credits(src, "credits_purchased").drop("target")


def allocated_facts(src: Source) -> ibis.Table:
    return _credits(src, "credits_allocated").drop("target")


def consumed_facts(src: Source) -> ibis.Table:
    return _credits(src, "credits_consumed").drop("target")


def expired_facts(src: Source) -> ibis.Table:
    return _credits(src, "credits_expired").drop("target")


def _allocations_in(src: Source) -> ibis.Table:
    """Allocations seen from the receiving side: the target customer or occasion holds them."""
    moves = _credits(src, "credits_allocated")
    return moves.select("ts", "partner_id", "value", customer_id=moves.target)


def _allocations_out(src: Source) -> ibis.Table:
    """Allocations seen from the sending side. Only a partner's own message (groupId, no
    userId) hands on credits it holds; an allocation sent about a customer is the platform
    granting plan credits, which leaves no holder's balance."""
    moves = _credits(src, "credits_allocated", sign=-1)
    moves = moves.filter(moves.customer_id.isnull())
    return moves.select("ts", "partner_id", "value", customer_id=ibis.null("string"))


def _columns(table: ibis.Table) -> ibis.Table:
    return table.select("ts", "customer_id", "partner_id", "value")


def ledger_facts(src: Source) -> ibis.Table:
    """Signed credit movements: purchased + allocated-in − consumed − expired − allocated-out."""
    parts = [
        purchased_facts(src),
        _columns(_credits(src, "credits_consumed", sign=-1)),
        _columns(_credits(src, "credits_expired", sign=-1)),
        _columns(_allocations_in(src)),
        _columns(_allocations_out(src)),
    ]
    return ibis.union(*[_columns(p) for p in parts])


def supplied_facts(src: Source) -> ibis.Table:
    """Credits that reached their final holders: customer purchases plus allocations received."""
    bought = purchased_facts(src)
    bought = bought.filter(bought.customer_id.notnull())
    return ibis.union(_columns(bought), _columns(_allocations_in(src)))


def consumers_facts(src: Source) -> ibis.Table:
    facts = consumed_facts(src)
    return facts.filter(facts.customer_id.notnull())


def channel_facts(src: Source) -> ibis.Table:
    """Partners' own credits: bought by the partner minus handed on (seed 001 "in channels")."""
    bought = purchased_facts(src)
    bought = bought.filter(bought.customer_id.isnull() & bought.partner_id.notnull())
    out = _allocations_out(src)
    return ibis.union(_columns(bought), _columns(out.filter(out.partner_id.notnull())))


def partner_purchased_facts(src: Source) -> ibis.Table:
    bought = purchased_facts(src)
    return bought.filter(bought.customer_id.isnull() & bought.partner_id.notnull())


def partner_consumed_facts(src: Source) -> ibis.Table:
    used = consumed_facts(src)
    return used.filter(used.partner_id.notnull())


METRICS = (
    Metric(
        "credits.purchased",
        "Credits purchased",
        "Credits bought in the window, by partners and by customers.",
        "credits",
        Flow(purchased_facts),
        dims=CREDIT_DIMS,
    ),
    Metric(
        "credits.allocated",
        "Credits allocated",
        "Credits handed on in the window: by partners to customers or occasions, and by the "
        "platform to customers (their plan's monthly credits).",
        "credits",
        Flow(allocated_facts),
        dims=CREDIT_DIMS,
    ),
    Metric(
        "credits.consumed",
        "Credits consumed",
        "Credits used in the window (generations, messages and other usage).",
        "credits",
        Flow(consumed_facts),
        dims=CREDIT_DIMS,
    ),
    Metric(
        "credits.expired",
        "Credits expired",
        "Credits that expired unused in the window.",
        "credits",
        Flow(expired_facts),
        direction="down",
        dims=CREDIT_DIMS,
    ),
    Metric(
        "credits.supplied",
        "Credits received by holders",
        "Credits bought by customers plus credits allocated to customers or occasions.",
        "credits",
        Flow(supplied_facts),
        dims=CREDIT_DIMS,
        listed=False,
    ),
    Metric(
        "credits.consumers",
        "Customers consuming credits",
        "Distinct customers with any credit consumption in the window.",
        "count",
        Flow(consumers_facts, agg="count_distinct"),
        dims=CREDIT_DIMS,
    ),
    Metric(
        "credits.balance",
        "Credit balance",
        "Credits held, all time up to the window end: purchased + allocated-in − consumed − "
        "expired − allocated-out.",
        "credits",
        Balance(ledger_facts),
        direction="none",
        dims=CREDIT_DIMS,
    ),
    Metric(
        "credits.utilization",
        "Credit utilisation",
        "Consumed / (purchased by customers + allocated to them) × 100 in the window: are "
        "customers using the service? Healthy above 70 %, warning below 40 %. Low usage: "
        "enhance customer education.",
        "percent",
        ratio(Ref("credits.consumed"), Ref("credits.supplied")),
        health=health("> 70", "< 40"),
        dims=CREDIT_DIMS,
    ),
    Metric(
        "credits.per_customer",
        "Average credits per customer",
        "Credits consumed / customers with any consumption in the window.",
        "credits_per_customer",
        ratio(Ref("credits.consumed"), Ref("credits.consumers"), scale=1),
        dims=CREDIT_DIMS,
    ),
    Metric(
        "credits.in_channels",
        "Credits in channels",
        "Partners' purchased credits not yet allocated, all time (seed 001 \"Créditos en "
        'Canales"): a liability, high is good for revenue but watch consumption.',
        "credits",
        Balance(channel_facts),
        direction="none",
        dims=("partner", "partner_kind", "tier"),
    ),
    Metric(
        "credits.partner_purchased",
        "Credits purchased by partners",
        "All-time credits bought by partners themselves.",
        "credits",
        Balance(partner_purchased_facts),
        dims=("partner", "partner_kind", "tier"),
        listed=False,
    ),
    Metric(
        "credits.partner_consumed",
        "Credits consumed in partner channels",
        "All-time credits consumed by partners' customers and occasions.",
        "credits",
        Balance(partner_consumed_facts),
        dims=("partner", "partner_kind", "tier"),
        listed=False,
    ),
    Metric(
        "credits.consumption_ratio",
        "Consumption ratio",
        "Σ partner credits consumed / Σ partner credits purchased × 100, all time (seed 001 "
        '"Ratio de Consumo"). Good 60–80 %; below 50 % partners buy but do not use '
        "(training issue?); above 95 % high engagement (upsell).",
        "percent",
        ratio(Ref("credits.partner_consumed"), Ref("credits.partner_purchased")),
        direction="none",
        health=health(">= 60, <= 80", "< 50, > 95"),
        dims=("partner", "partner_kind", "tier"),
    ),
)
