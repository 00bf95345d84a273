"""Platform-level signals: health checks, error logs and marketing spend.

They carry `groupId: "platform"` (not a partner) so they need no userId. Uptime sits above the
99.5 % target of seed 001 with two short incidents; paid-ads spend is sized so that CAC lands
near seed 003 §5.4's $450.
"""

from __future__ import annotations

from collections.abc import Iterator

from pulse.demo.calendar import Choice, poisson
from pulse.demo.clock import DAY, HOUR
from pulse.demo.context import Context
from pulse.demo.direct import PAID_ADS_CAC, expected_paid_ads_customers
from pulse.demo.msg import Item, track_g

PLATFORM = "platform"
_SOURCE = Choice(
    [("api", 0.35), ("worker", 0.25), ("replicate", 0.2), ("db", 0.1), ("webhook", 0.1)]
)
_MESSAGES = {
    "api": ("Timeout calling /v1/generate", "Rate limit exceeded", "Invalid token"),
    "worker": ("Job retried after crash", "Queue backlog above threshold"),
    "replicate": ("Model cold start > 30s", "Prediction failed: NSFW filter", "HTTP 502"),
    "db": ("Connection pool exhausted", "Slow query > 5s"),
    "webhook": ("Stripe webhook signature mismatch", "Delivery failed after 3 retries"),
}
PROGRAM_INFRA = 12_000.0  # seed 003 §5.3, per month at medium scale


def system(ctx: Context) -> Iterator[Item]:
    yield from _health(ctx)
    yield from _errors(ctx)
    yield from _spend(ctx)


def _health(ctx: Context) -> Iterator[Item]:
    rng = ctx.rng("health")
    win = ctx.win
    every = ctx.scale.health_every
    incidents = [win.start + int(rng.random() * (win.end - win.start)) for _ in range(2)]
    degraded_day = win.start + int(rng.random() * win.days) * DAY
    t = win.start + 60
    while t <= win.end:
        down = any(0 <= t - i < 2 * HOUR for i in incidents)
        ok = not down and rng.random() > 0.001
        ms = rng.lognormvariate(5.7, 0.35)  # ~300 ms
        if degraded_day <= t < degraded_day + DAY:
            ms *= 6
        if not ok:
            ms = 10_000 + rng.random() * 20_000
        yield track_g(t, PLATFORM, "health_check", {"ok": ok, "duration_ms": int(ms)})
        t += every


def _errors(ctx: Context) -> Iterator[Item]:
    rng = ctx.rng("errors")
    win = ctx.win
    for d in range(win.days):
        for _ in range(poisson(rng, ctx.scale.errors_per_day)):
            source = _SOURCE.pick(rng)
            pool = _MESSAGES[source]
            yield track_g(
                win.start + d * DAY + int(rng.random() * DAY),
                PLATFORM,
                "error_logged",
                {"source": source, "message": pool[int(rng.random() * len(pool))]},
            )


def _spend(ctx: Context) -> Iterator[Item]:
    """Monthly paid-ads spend (CAC ~ $450) and partner-program infrastructure cost."""
    rng = ctx.rng("spend")
    win = ctx.win
    expected = expected_paid_ads_customers(ctx)
    infra = PROGRAM_INFRA * ctx.scale.partners.get("affiliate", 0) / 800
    for m in win.months:
        t = m.start + 8 * HOUR
        amount = expected[m.index] * PAID_ADS_CAC * (0.9 + 0.2 * rng.random())
        yield track_g(
            t, PLATFORM, "spend_recorded", {"channel": "paid_ads", "amount": round(amount, 2)}
        )
        infra_month = round(infra * min(m.days / 30.0, 1.0), 2)
        yield track_g(
            t + 60,
            PLATFORM,
            "spend_recorded",
            {"channel": "partner_program", "amount": infra_month},
        )
