"""Support tickets and partner onboarding (seed 003 §6.1 and §6.2 magnitudes)."""

from __future__ import annotations

import math
import random

from pulse.demo.calendar import Choice
from pulse.demo.clock import DAY, HOUR
from pulse.demo.context import Context
from pulse.demo.msg import Item, Props, track_c, track_g

# kind -> (average onboarding days, completion rate), seed 003 §6.2
ONBOARDING = {
    "affiliate": (2.0, 0.89),
    "referral": (5.0, 0.78),
    "reseller": (12.0, 0.92),
    "white_label": (28.0, 0.95),
    "business": (7.0, 0.85),
    "integration": (30.0, 0.90),
}
_CATEGORY = Choice(
    [
        ("how_to", 3),
        ("billing", 2),
        ("credits", 2),
        ("integration", 1.5),
        ("bug", 1.2),
        ("account", 1),
    ]
)
_PRIORITY = Choice([("normal", 7), ("high", 2), ("low", 1)])
_CSAT = Choice([("1", 0.02), ("2", 0.03), ("3", 0.07), ("4", 0.18), ("5", 0.70)])
# Lognormal parameters giving means of 4.2 h to first response and 18 h to resolution.
_SIGMA = 0.8
_MU_FIRST = math.log(4.2) - _SIGMA**2 / 2
_MU_REST = math.log(13.0) - _SIGMA**2 / 2


def onboarding(
    rng: random.Random, pid: str, kind: str, approved: int
) -> tuple[list[Item], int | None]:
    """onboarding_started after approval, onboarding_completed after the kind's usual time."""
    start = approved + int((0.5 + rng.random() * 20) * HOUR)
    props = {"partner_id": pid}
    items = [track_g(start, pid, "onboarding_started", dict(props))]
    days, rate = ONBOARDING[kind]
    if rng.random() >= rate:
        return items, None
    done = start + int(days * rng.lognormvariate(0.0, 0.35) * DAY)
    items.append(track_g(done, pid, "onboarding_completed", props))
    return items, done


def ticket(
    ctx: Context, rng: random.Random, t: int, uid: str | None, gid: str | None
) -> list[Item]:
    """One ticket's life: opened, first response, maybe escalated, resolved with a CSAT."""
    tid = ctx.ids.ticket()

    def emit(at: int, event: str, props: Props) -> Item:
        if uid is not None:
            return track_c(at, uid, gid, event, props)
        return track_g(at, gid or "platform", event, props)

    first = t + int(rng.lognormvariate(_MU_FIRST, _SIGMA) * HOUR) + 60
    items = [
        emit(
            t,
            "ticket_opened",
            {"ticket_id": tid, "category": _CATEGORY.pick(rng), "priority": _PRIORITY.pick(rng)},
        ),
        emit(first, "ticket_first_response", {"ticket_id": tid}),
    ]
    rest = rng.lognormvariate(_MU_REST, _SIGMA) * HOUR
    if rng.random() < 0.08:
        items.append(
            emit(first + int((1 + rng.random() * 5) * HOUR), "ticket_escalated", {"ticket_id": tid})
        )
        rest += 12 * HOUR
    csat = int(_CSAT.pick(rng))
    items.append(emit(first + int(rest), "ticket_resolved", {"ticket_id": tid, "csat": csat}))
    return items
