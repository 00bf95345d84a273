"""What paying customers do between invoices: consume credits and sync integrations.

Consumption is metered in a few events per month (one per usage burst), which is how the
platform reports it hourly-aggregated; integrations sync and call APIs about monthly.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from pulse.demo.calendar import Choice, poisson
from pulse.demo.catalog import LIVE_INTEGRATIONS, ZAPIER_INCIDENT_DAYS
from pulse.demo.clock import DAY, HOUR, TimeSampler
from pulse.demo.context import Context
from pulse.demo.msg import Item, track_c

SOURCE = Choice([("generation", 0.5), ("message", 0.45), ("other", 0.05)])


def consume(
    rng: random.Random,
    sampler: TimeSampler,
    items: list[Item],
    cid: str,
    gid: str | None,
    lo: int,
    hi: int,
    credits: int,
) -> int:
    """Emit `credits` of consumption in [lo, hi) as 1-6 bursts; returns what was emitted."""
    if credits <= 0 or hi <= lo:
        return 0
    n = min(1 + poisson(rng, 0.8), 5, credits)
    left = credits
    for i in range(n):
        part = left if i == n - 1 else max(1, int(left / (n - i) * (0.6 + 0.8 * rng.random())))
        part = min(part, left - (n - 1 - i))
        left -= part
        props = {"credits": part, "source": SOURCE.pick(rng)}
        if gid is not None:
            props["partner_id"] = gid
        items.append(track_c(sampler.sample(rng, lo, hi), cid, gid, "credits_consumed", props))
    return credits


@dataclass(slots=True)
class Connection:
    provider: str
    at: int
    sync_ms: float
    error: float
    announced: bool = False


_PLAN_AFFINITY = {"plan_basic_m": 0.35, "plan_pro_m": 1.0, "plan_pro_y": 1.1}


def pick_integrations(
    rng: random.Random, ctx: Context, activated: int, plan_id: str
) -> list[Connection]:
    """Which integrations a new paying customer connects, and when (after they are live)."""
    affinity = _PLAN_AFFINITY.get(plan_id, 1.25)
    out: list[Connection] = []
    for integ in LIVE_INTEGRATIONS:
        if rng.random() < integ.share * affinity:
            at = max(activated, ctx.live_at[integ.provider]) + int(rng.random() * 30 * DAY) + HOUR
            out.append(Connection(integ.provider, at, integ.sync_ms, integ.error))
    return out


def integration_month(
    rng: random.Random,
    ctx: Context,
    items: list[Item],
    cid: str,
    gid: str | None,
    conns: list[Connection],
    lo: int,
    hi: int,
) -> None:
    """Connection events, a sync and an API call per connected integration in [lo, hi)."""
    incident = ctx.win.end - ZAPIER_INCIDENT_DAYS * DAY
    for c in conns:
        if c.at >= hi:
            continue
        if not c.announced:
            c.announced = True
            items.append(track_c(c.at, cid, gid, "integration_connected", {"provider": c.provider}))
        a = max(lo, c.at)
        if rng.random() < 0.6:
            t = a + int(rng.random() * (hi - a))
            error = 0.023 if c.provider == "zapier" and t > incident else c.error
            props = {
                "provider": c.provider,
                "ok": rng.random() >= error,
                "duration_ms": int(c.sync_ms * rng.lognormvariate(0.0, 0.35)),
            }
            items.append(track_c(t, cid, gid, "integration_synced", props))
        if rng.random() < 0.4:
            t = a + int(rng.random() * (hi - a))
            calls = int(rng.lognormvariate(6.0, 0.8))
            items.append(
                track_c(t, cid, gid, "api_called", {"provider": c.provider, "count": calls})
            )
