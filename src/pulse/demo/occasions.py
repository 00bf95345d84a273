"""Photo occasions (seed 001 "events") and the AI generations guests make at them.

Partner occasions follow the seasons of seed 001 (weddings May-Oct, corporate Sep-Nov,
holiday parties Dec/Jan/Feb) and happen on the evenings and weekends those events take place.
Guests are anonymous: their generations carry the partner as groupId and a `guest_id`
property, not a userId, so they do not count as customers. Consumers (B2C) generate at public,
platform-run occasions (`occ_b2c_*`).
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field

from pulse.demo import names
from pulse.demo.calendar import OCCASION_KINDS, OCCASION_SEASON, Picker, clip, poisson
from pulse.demo.catalog import STYLES
from pulse.demo.clock import DAY, HOUR, Window
from pulse.demo.context import Context
from pulse.demo.msg import Item, group, track_g

STYLE_IDS = tuple(s.id for s in STYLES)
STYLE_DELETION = tuple(s.deletion for s in STYLES)
FAILED = 0.03


def generation_status(x: float, style: int) -> str:
    """Outcome of one generation from a uniform draw `x`: some fail, some styles get deleted."""
    if x < FAILED:
        return "failed"
    return "deleted" if x < FAILED + STYLE_DELETION[style] else "succeeded"


# kind -> (weekday weights Mon..Sun, earliest start hour, hours of spread, duration hours)
_SCHEDULE: dict[str, tuple[tuple[float, ...], int, int, int]] = {
    "wedding": ((0.0, 0.0, 0.0, 0.05, 0.2, 0.65, 0.15), 14, 4, 7),
    "corporate": ((0.1, 0.3, 0.3, 0.3, 0.15, 0.02, 0.0), 17, 3, 4),
    "holiday": ((0.0, 0.05, 0.05, 0.1, 0.35, 0.45, 0.05), 19, 2, 5),
    "other": ((0.05, 0.05, 0.05, 0.05, 0.15, 0.4, 0.3), 12, 7, 4),
}


@dataclass(slots=True)
class CreditFlow:
    """Credits a partner allocated to / consumed at its occasions, per window month."""

    allocated: dict[int, int] = field(default_factory=dict)
    consumed: dict[int, int] = field(default_factory=dict)

    def add(self, month: int, allocated: int, consumed: int) -> None:
        self.allocated[month] = self.allocated.get(month, 0) + allocated
        self.consumed[month] = self.consumed.get(month, 0) + consumed


def _start_day(rng: random.Random, win: Window, kind: str, d0: int, d1: int) -> int:
    """A day in [d0, d1) with the kind's weekday pattern (and holiday dates in Dec-Feb)."""
    weekdays = _SCHEDULE[kind][0]
    best = d0 + int(rng.random() * (d1 - d0))
    for _ in range(12):
        d = d0 + int(rng.random() * (d1 - d0))
        month, day = win.cal_month[d], win.cal_day[d]
        if kind == "holiday" and (
            (month == 12 and day > 23)
            or (month == 2 and not 9 <= day <= 16)
            or (month == 1 and day > 20)
        ):
            continue
        if rng.random() < weekdays[win.weekday[d]] / max(weekdays):
            return d
    return best


def _client(rng: random.Random, kind: str, month: int) -> tuple[str, str]:
    """Client display name and occasion name."""
    if kind == "wedding":
        client = names.couple(rng)
        return client, f"{client} Wedding"
    if kind == "corporate":
        client = names.company(rng)
        return client, f"{client} {names.CORPORATE_EVENTS[int(rng.random() * 10)]}"
    if kind == "holiday":
        client = names.company(rng)
        pool = names.HOLIDAY_EVENTS.get(month, names.HOLIDAY_EVENTS[12])
        return client, f"{client} {pool[int(rng.random() * len(pool))]}"
    first, last = names.person(rng)
    client = f"{first} {last}"
    return client, f"{first}'s {names.OTHER_EVENTS[int(rng.random() * len(names.OTHER_EVENTS))]}"


def partner_occasions(
    ctx: Context,
    rng: random.Random,
    pid: str,
    lo: int,
    hi: int,
    per_month: float,
    taste: dict[str, float],
    median_generations: float,
    flow: CreditFlow,
    alloc_factor: float = 1.25,
) -> Iterator[Item]:
    """Occasions of one partner active in [lo, hi), `per_month` on a seasonally average month.

    Each occasion gets `alloc_factor` x its expected generations in credits beforehand.
    """
    win = ctx.win
    yearly = sum(taste.get(k, 0.0) * sum(OCCASION_SEASON[k]) for k in OCCASION_KINDS) / 12
    for m in win.months:
        a, b = max(lo, m.start), min(hi, m.stop)
        if b <= a or yearly <= 0:
            continue
        weights = [taste.get(k, 0.0) * OCCASION_SEASON[k][m.month - 1] for k in OCCASION_KINDS]
        lam = per_month * sum(weights) / yearly * (b - a) / m.span
        n = poisson(rng, lam)
        if n == 0:
            continue
        kinds = Picker(weights)
        d0, d1 = win.day_of(a), win.day_of(b - 1) + 1
        for _ in range(n):
            kind = OCCASION_KINDS[kinds.pick(rng)]
            d = _start_day(rng, win, kind, d0, d1)
            _, first_hour, spread, _dur = _SCHEDULE[kind]
            starts = win.start + d * DAY + (first_hour + int(rng.random() * spread)) * HOUR
            starts += 900 * int(rng.random() * 4)
            yield from _occasion(
                ctx, rng, pid, kind, starts, lo, median_generations, flow, alloc_factor
            )


def _occasion(
    ctx: Context,
    rng: random.Random,
    pid: str,
    kind: str,
    starts: int,
    lo: int,
    median: float,
    flow: CreditFlow,
    alloc_factor: float,
) -> Iterator[Item]:
    win = ctx.win
    occ = ctx.ids.occasion()
    month = win.cal_month[min(max(win.day_of(starts), 0), win.days - 1)]
    client, name = _client(rng, kind, month)
    created = max(starts - int((5 + rng.random() * 55) * DAY), lo + HOUR, win.start)
    yield group(
        created,
        occ,
        {
            "entity": "occasion",
            "name": name,
            "slug": f"{names.slugify(name)}-{occ[4:]}",
            "client": client,
            "kind": kind,
            "starts_at": win.iso(starts),
            "partner_id": pid,
        },
    )
    planned = int(clip(rng.lognormvariate(math.log(median), 0.55), 50, 500))
    credits = int(math.ceil(planned * alloc_factor / 50) * 50)
    alloc_at = created + int(rng.random() * 2 * DAY) + 60
    yield track_g(
        alloc_at, pid, "credits_allocated", {"credits": credits, "to": occ, "partner_id": pid}
    )
    duration = _SCHEDULE[kind][3] * HOUR
    guests = max(5, int(planned / (2.5 + rng.random() * 2.5)))
    g0 = ctx.ids.guest_block(guests)
    picker = ctx.styles[(kind, month)]
    used_live = used_later = 0
    rand = rng.random
    for _ in range(planned):
        if rand() < 0.85:
            t = starts + int((rand() + rand()) * 0.5 * duration)
            later = False
        else:
            t = starts + duration + int(rand() * 3 * DAY)
            later = True
        si = picker.pick(rng)
        status = generation_status(rand(), si)
        if status != "failed":
            if later:
                used_later += 1
            else:
                used_live += 1
        yield track_g(
            t,
            pid,
            "generation_created",
            {
                "style_id": STYLE_IDS[si],
                "occasion_id": occ,
                "status": status,
                "partner_id": pid,
                "guest_id": f"g_{g0 + int(rand() * guests)}",
            },
        )
    for used, at in ((used_live, starts + duration + HOUR), (used_later, starts + 3 * DAY + HOUR)):
        if used:
            yield track_g(
                at,
                pid,
                "credits_consumed",
                {"credits": used, "source": "generation", "partner_id": pid, "occasion_id": occ},
            )
    flow.add(win.month_of(alloc_at).index, credits, 0)
    flow.add(win.month_of(starts).index, 0, used_live + used_later)


@dataclass(frozen=True, slots=True)
class PublicOccasion:
    id: str
    kind: str
    weight: float


def public_occasions(win: Window) -> tuple[list[Item], list[list[PublicOccasion]]]:
    """Platform-run occasions consumers generate at: one per month plus seasonal campaigns."""
    items: list[Item] = []
    per_month: list[list[PublicOccasion]] = []
    seen: set[str] = set()
    for m in win.months:
        label = f"{m.year}-{m.month:02d}"
        opts = [(f"occ_b2c_{m.year}{m.month:02d}", "other", 1.0, f"Everyday Studio {label}")]
        if 5 <= m.month <= 10:
            opts.append((f"occ_b2c_wedding_{m.year}", "wedding", 0.7, f"Wedding Season {m.year}"))
        if m.month == 12:
            opts.append((f"occ_b2c_xmas_{m.year}", "holiday", 1.4, f"Christmas Magic {m.year}"))
        if m.month == 1:
            opts.append((f"occ_b2c_newyear_{m.year}", "holiday", 0.9, f"New Year {m.year}"))
        if m.month == 2:
            opts.append(
                (f"occ_b2c_valentine_{m.year}", "holiday", 0.8, f"Valentine's Studio {m.year}")
            )
        month_list: list[PublicOccasion] = []
        for oid, kind, weight, name in opts:
            month_list.append(PublicOccasion(oid, kind, weight))
            if oid in seen:
                continue
            seen.add(oid)
            items.append(
                group(
                    m.start + 600,
                    oid,
                    {
                        "entity": "occasion",
                        "name": name,
                        "slug": names.slugify(name),
                        "client": "Pulse consumer app",
                        "kind": kind,
                        "starts_at": win.iso(m.start),
                    },
                )
            )
        per_month.append(month_list)
    return items, per_month
