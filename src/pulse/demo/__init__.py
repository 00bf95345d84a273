"""The deterministic demo platform: 18 months of a synthetic credit-metered AI SaaS.

`iter_messages(scale, seed, end)` streams Segment-spec messages (plain dicts) describing
partners, customers, billing, credits, occasions, chatbot sessions, the partner program,
integrations, support and platform health, sized by `scale` (see `scales.py`). The same
(scale, seed, end) always gives the same messages in the same order with the same ids.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from pulse.demo.clock import DAY, Window, seconds_of_day
from pulse.demo.context import Context
from pulse.demo.scales import SCALES, get_scale
from pulse.demo.world import generate

__all__ = ["SCALES", "iter_messages"]


def iter_messages(
    scale: str = "medium", seed: int = 7, end: dt.date | None = None
) -> Iterator[dict[str, Any]]:
    """Yield Segment-spec messages (dicts) for 18 months of a synthetic platform ending on `end`
    (inclusive, UTC).

    `end=None` means today's UTC date. Unknown scales raise ValueError immediately.
    """
    params = get_scale(scale)  # raises ValueError now, not at the first next()
    if end is None:
        end = dt.datetime.now(dt.UTC).date()
    ctx = Context(params, seed, Window(end))
    prefix = f"{scale[0]}{seed}.{end:%Y%m%d}."
    return _stream(ctx, prefix)


def _stream(ctx: Context, prefix: str) -> Iterator[dict[str, Any]]:
    """Stamp timestamps and messageIds; drop anything outside the window."""
    win = ctx.win
    lo, hi = win.start, win.end
    days = win.day_prefix
    tod = seconds_of_day()
    n = 0
    for t, msg in generate(ctx):
        if t < lo or t > hi:
            continue
        d, r = divmod(t - lo, DAY)
        n += 1
        msg["messageId"] = prefix + str(n)
        msg["timestamp"] = days[d] + tod[r]
        yield msg
