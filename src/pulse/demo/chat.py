"""Chatbot experiences (seed 002): sessions, module flow with drop-off, and engagement events.

A session is a visitor's run of events with gaps of seconds to minutes; returning visitors come
back more than 30 minutes later, so the session rule of SPEC §3 separates them. Visitors become
customers (an `identify` with platform, partner and creation time, but no plan or status) the
first time they open a chat; `signed_up` adds their e-mail.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

from pulse.demo.calendar import B2C_SEASON, Choice, Picker, poisson
from pulse.demo.clock import MINUTE
from pulse.demo.context import Context
from pulse.demo.msg import Item, Props, identify, track_c

TEMPLATES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "Photo Booth Assistant",
        ("welcome", "style_picker", "photo_booth", "share", "nps", "goodbye"),
    ),
    ("Raffle & Quiz", ("welcome", "quiz", "raffle", "optin", "nps", "goodbye")),
    ("Guest Registration", ("welcome", "pin_login", "data_capture", "signup", "optin", "goodbye")),
    ("Advent Calendar", ("welcome", "signup", "advent_calendar", "optin", "share", "goodbye")),
    ("Feedback Bot", ("welcome", "quiz", "nps", "signup", "goodbye")),
)
ADVENT = 3  # index of the advent-calendar template
_OPT_CHANNEL = Choice([("web_push", 0.6), ("reminder", 0.4)])
_LEVEL = Choice([("single", 0.65), ("double", 0.35)])
_SHARE = Choice(
    [("whatsapp", 0.35), ("facebook", 0.2), ("native", 0.2), ("email", 0.15), ("twitter", 0.1)]
)
_FIELD = Choice([("postal_address", 0.4), ("phone", 0.35), ("birthday", 0.25)])
_NPS = Picker([1, 1, 1, 1.5, 2, 3, 4, 8, 14, 22, 30])  # skewed positive (score 0-10)
_COMMENTS = {
    "detractor": ("Too slow", "The photos did not look like me", "Confusing", "Bot kept repeating"),
    "passive": ("Nice but could be faster", "OK", "Fun, a few glitches", "Good idea"),
    "promoter": (
        "Loved it!",
        "Amazing photos",
        "So much fun at the party",
        "Super easy",
        "Best guest experience ever",
    ),
}
BOUNCE = 0.27
MAX_POOL = 400


def _nps_comment(rng: random.Random, score: int) -> str:
    seg = "detractor" if score <= 6 else "passive" if score <= 8 else "promoter"
    pool = _COMMENTS[seg]
    return pool[int(rng.random() * len(pool))]


class Visitor:
    """A chat participant (a customer id) and the end of their last session."""

    __slots__ = ("cid", "last", "signed")

    def __init__(self, cid: str, last: int) -> None:
        self.cid = cid
        self.last = last
        self.signed = False


class Experience:
    """One chatbot and its returning-visitor pool."""

    def __init__(self, eid: str, template: int, partner_id: str | None, channel: str) -> None:
        self.id = eid
        self.template = template
        self.modules = TEMPLATES[template][1]
        self.partner_id = partner_id
        self.channel = channel
        self.pool: list[Visitor] = []  # recent visitors, who may come back

    def traits(self, name: str) -> Props:
        traits: Props = {"entity": "experience", "name": name, "modules": list(self.modules)}
        if self.partner_id is not None:
            traits["partner_id"] = self.partner_id
        return traits


def sessions(
    ctx: Context, rng: random.Random, exp: Experience, lo: int, hi: int, per_month: list[float]
) -> Iterator[Item]:
    """Sessions of `exp` in [lo, hi); `per_month[i]` is the expected count in window month i."""
    win = ctx.win
    for m in win.months:
        a, b = max(lo, m.start), min(hi, m.stop)
        if b <= a:
            continue
        lam = per_month[m.index] * B2C_SEASON[m.month - 1] * (b - a) / m.span
        if exp.template == ADVENT:
            lam *= {12: 6.0, 11: 0.4, 1: 0.3}.get(m.month, 0.05)
        for t in ctx.b2c_time.sample_sorted(rng, a, b, poisson(rng, lam)):
            yield from _session(ctx, rng, exp, t, m.month == 12)


def _visitor(ctx: Context, rng: random.Random, exp: Experience, t: int) -> tuple[Visitor, bool]:
    pool = exp.pool
    if pool and rng.random() < 0.35:
        v = pool[int(rng.random() * len(pool))]
        if t - v.last > 30 * MINUTE:
            return v, False
    cid, _ = ctx.ids.customer()
    v = Visitor(cid, t)
    pool.append(v)
    if len(pool) > MAX_POOL:
        del pool[: MAX_POOL // 4]
    return v, True


def _session(
    ctx: Context, rng: random.Random, exp: Experience, t: int, december: bool
) -> Iterator[Item]:
    visitor, new = _visitor(ctx, rng, exp, t)
    cid = visitor.cid
    gid = exp.partner_id
    eid = exp.id
    platform = "mobile" if rng.random() < 0.68 else "desktop"
    if new:
        traits: Props = {"platform": platform, "channel": exp.channel, "created_at": ctx.win.iso(t)}
        if gid is not None:
            traits["partner_id"] = gid
        yield identify(t, cid, traits)
    rand = rng.random
    yield track_c(t, cid, gid, "chat_opened", {"experience_id": eid, "platform": platform})
    if rand() < BOUNCE:
        visitor.last = t
        return
    keep = 0.92
    for i, module in enumerate(exp.modules):
        if i and rand() >= keep:
            break
        keep = 0.84
        t += 2 + int(rand() * 20)
        yield track_c(t, cid, gid, "module_viewed", {"experience_id": eid, "module": module})
        yield track_c(
            t + 1, cid, gid, "message_sent", {"experience_id": eid, "role": "bot", "module": module}
        )
        t += 4 + int(rand() * 50)
        if rand() < 0.7:
            yield track_c(t, cid, gid, "button_clicked", {"experience_id": eid, "module": module})
        else:
            yield track_c(
                t,
                cid,
                gid,
                "message_sent",
                {"experience_id": eid, "role": "user", "module": module},
            )
        t += 1
        if module == "quiz":
            for _ in range(1 + int(rand() * 3)):
                t += 5 + int(rand() * 25)
                yield track_c(
                    t, cid, gid, "button_clicked", {"experience_id": eid, "module": module}
                )
        elif module == "raffle":
            if rand() < 0.75:
                yield track_c(t, cid, gid, "participated", {"experience_id": eid})
        elif module == "optin":
            channel = _OPT_CHANNEL.pick(rng)
            yield track_c(t, cid, gid, "opt_in_asked", {"experience_id": eid, "channel": channel})
            if rand() < 0.45:
                t += 3 + int(rand() * 20)
                yield track_c(
                    t,
                    cid,
                    gid,
                    "opted_in",
                    {"experience_id": eid, "channel": channel, "level": _LEVEL.pick(rng)},
                )
        elif module == "nps":
            if rand() < 0.65:
                score = _NPS.pick(rng)
                yield track_c(
                    t,
                    cid,
                    gid,
                    "nps_submitted",
                    {"experience_id": eid, "score": score, "comment": _nps_comment(rng, score)},
                )
        elif module == "signup":
            if not visitor.signed and rand() < 0.55:
                visitor.signed = True
                email = f"{cid.replace('_', '')}@{'gmail.com' if rand() < 0.6 else 'outlook.com'}"
                yield track_c(t, cid, gid, "signed_up", {"experience_id": eid, "email": email})
                yield track_c(t, cid, gid, "data_entered", {"experience_id": eid, "field": "email"})
                yield identify(t, cid, {"email": email})
        elif module == "share":
            if rand() < 0.3:
                yield track_c(
                    t, cid, gid, "shared", {"experience_id": eid, "channel": _SHARE.pick(rng)}
                )
        elif module == "pin_login":
            yield track_c(t, cid, gid, "pin_sent", {"experience_id": eid})
            t += 20 + int(rand() * 60)
            ok = rand() < 0.82
            yield track_c(
                t, cid, gid, "pin_succeeded" if ok else "pin_failed", {"experience_id": eid}
            )
            if not ok and rand() < 0.6:
                t += 15 + int(rand() * 40)
                yield track_c(t, cid, gid, "pin_succeeded", {"experience_id": eid})
        elif module == "data_capture":
            for _ in range(1 + int(rand() * 2)):
                t += 10 + int(rand() * 30)
                yield track_c(
                    t, cid, gid, "data_entered", {"experience_id": eid, "field": _FIELD.pick(rng)}
                )
        elif module == "advent_calendar" and december:
            yield track_c(t, cid, gid, "advent_door_opened", {"experience_id": eid})
    visitor.last = t
    if rand() < 0.002:
        yield track_c(t + 60, cid, gid, "customer_deleted", {"experience_id": eid})
        exp.pool = [v for v in exp.pool if v is not visitor]
