"""The order in which the demo platform is generated.

Catalog first (plans, styles, integrations, public occasions), then FX rates and platform
signals, then partner by partner (each with its customers, occasions and chatbots), then direct
subscribers, consumers and the platform's own chatbots. Within a block messages are roughly
chronological; across blocks they are not: every message carries its own timestamp, and
Segment ingestion does not require order.
"""

from __future__ import annotations

from collections.abc import Iterator

from pulse.demo.calendar import growth_factor
from pulse.demo.catalog import catalog_messages, fx_messages
from pulse.demo.chat import ADVENT, Experience, sessions
from pulse.demo.context import Context
from pulse.demo.direct import CUSTOMER_GROWTH, consumers, subscribers
from pulse.demo.msg import Item, group
from pulse.demo.occasions import public_occasions
from pulse.demo.partners import partner_block, plan_roster
from pulse.demo.system import system

# (name, template index, share of platform sessions)
PLATFORM_EXPERIENCES = (
    ("Photo Studio Assistant", 0, 0.6),
    ("Advent Calendar", ADVENT, 0.25),
    ("Wedding Planner Bot", 4, 0.3),
)


def generate(ctx: Context) -> Iterator[Item]:
    """Every (epoch, message) of the run, in the deterministic block order above."""
    win = ctx.win
    yield from catalog_messages(win, ctx.rng("catalog"))
    public_items, public = public_occasions(win)
    yield from public_items
    yield from fx_messages(win, ctx.rng("fx"))
    yield from system(ctx)
    for partner in plan_roster(ctx):
        yield from partner_block(ctx, partner)
    yield from subscribers(ctx)
    yield from consumers(ctx, public)
    yield from _platform_chat(ctx)


def _platform_chat(ctx: Context) -> Iterator[Item]:
    """The platform's own chatbots (no partner), growing with the customer base."""
    win = ctx.win
    factor = growth_factor(win, CUSTOMER_GROWTH)
    per_month_growth = [factor[m.first_day] / factor[-1] for m in win.months]
    rng = ctx.rng("platform-chat")
    for name, template, share in PLATFORM_EXPERIENCES:
        exp = Experience(ctx.ids.experience(), template, None, "organic")
        yield group(win.start + 120, exp.id, exp.traits(name))
        per_month = [ctx.scale.platform_sessions * share * g for g in per_month_growth]
        yield from sessions(ctx, rng, exp, win.start + 3_600, win.end + 1, per_month)
