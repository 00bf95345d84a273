"""Shapes of time: growth curves, seasonality and daily/weekly rhythms.

The seeds describe them qualitatively (seed 001 "Seasonal Patterns" and "Peak usage times",
seed 003 §7.1 partner growth); this module turns them into weights the generators sample from.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_right
from collections.abc import Sequence

from pulse.demo.clock import Window

# Hour-of-day weights (UTC, read as local time of a European-centred customer base).
HOURS_B2C = (
    0.30, 0.20, 0.12, 0.08, 0.06, 0.08, 0.20, 0.40, 0.60, 0.70, 0.75, 0.80,
    0.90, 0.85, 0.80, 0.80, 0.90, 1.10, 1.40, 1.70, 1.90, 1.80, 1.30, 0.70,
)  # fmt: skip
HOURS_B2B = (
    0.05, 0.03, 0.02, 0.02, 0.03, 0.06, 0.20, 0.50, 1.00, 1.40, 1.50, 1.40,
    1.10, 1.30, 1.40, 1.35, 1.20, 0.90, 0.50, 0.35, 0.25, 0.20, 0.12, 0.08,
)  # fmt: skip
HOURS_FLAT = (1.0,) * 24

WEEKDAY_B2C = (0.85, 0.82, 0.86, 0.92, 1.10, 1.40, 1.35)  # Monday first; weekends peak
WEEKDAY_B2B = (1.10, 1.15, 1.15, 1.10, 1.00, 0.25, 0.20)
WEEKDAY_FLAT = (1.0,) * 7

# Occasion kinds by calendar month (index 0 = January), seed 001 "Seasonal Patterns":
# weddings May-Oct, corporate Sep-Nov (low Jul-Aug), holidays Dec / Jan / Feb.
OCCASION_SEASON: dict[str, tuple[float, ...]] = {
    "wedding": (0.20, 0.25, 0.40, 0.70, 1.30, 1.70, 1.60, 1.60, 1.70, 1.30, 0.35, 0.25),
    "corporate": (0.60, 0.80, 1.00, 1.00, 1.00, 0.90, 0.30, 0.25, 1.60, 1.70, 1.60, 1.10),
    "holiday": (1.30, 1.10, 0.08, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.10, 0.40, 3.00),
    "other": (0.50, 0.50, 0.55, 0.60, 0.65, 0.70, 0.70, 0.70, 0.60, 0.60, 0.55, 0.60),
}
OCCASION_KINDS = ("wedding", "corporate", "holiday", "other")

# Overall consumer (B2C) activity by calendar month: December, January and February spikes.
B2C_SEASON = (1.15, 1.10, 0.90, 0.90, 1.00, 1.10, 1.00, 0.95, 1.00, 1.00, 1.05, 1.40)


def yearly_rate(ratio: float) -> float:
    """Growth rate k (per day) of a launch-from-zero curve whose size grows `ratio`x in a year.

    Cumulative size N(t) ~ e^(kt) - 1 over the 548 days; solving N(T)/N(T-365) = ratio for
    x = e^(k*182.5) gives x^2 + x + 1 = ratio.
    """
    x = (-1.0 + math.sqrt(1.0 + 4.0 * (ratio - 1.0))) / 2.0
    return 2.0 * math.log(max(x, 1.0001)) / 365.0


def growth_factor(win: Window, ratio: float) -> list[float]:
    """Per-day intensity e^(k*day) for a curve that grows `ratio`x over the last year."""
    k = yearly_rate(ratio)
    return [math.exp(k * d) for d in range(win.days)]


def monthly_counts(total: int, win: Window, ratio: float) -> list[int]:
    """Split `total` entities over the window's months along the growth curve (exact sum)."""
    factor = growth_factor(win, ratio)
    weights = [sum(factor[m.first_day : m.stop_day]) for m in win.months]
    scale = total / sum(weights)
    raw = [w * scale for w in weights]
    counts = [int(r) for r in raw]
    rest = sorted(range(len(raw)), key=lambda i: counts[i] - raw[i])
    for i in rest[: total - sum(counts)]:
        counts[i] += 1
    return counts


def poisson(rng: random.Random, lam: float) -> int:
    """A Poisson draw (Knuth below 30, normal approximation above)."""
    if lam <= 0.0:
        return 0
    if lam < 30.0:
        limit = math.exp(-lam)
        k = 0
        p = rng.random()
        while p > limit:
            k += 1
            p *= rng.random()
        return k
    return max(0, round(rng.gauss(lam, math.sqrt(lam))))


def clip(x: float, lo: float, hi: float) -> float:
    return lo if x < lo else hi if x > hi else x


class Picker:
    """Weighted choice of an index by bisection over cumulative weights."""

    __slots__ = ("cum", "total")

    def __init__(self, weights: Sequence[float]) -> None:
        cum: list[float] = []
        acc = 0.0
        for w in weights:
            acc += w
            cum.append(acc)
        self.cum = cum
        self.total = acc

    def pick(self, rng: random.Random) -> int:
        return bisect_right(self.cum, rng.random() * self.total)


class Choice:
    """Weighted choice among labelled values."""

    __slots__ = ("picker", "values")

    def __init__(self, pairs: Sequence[tuple[str, float]]) -> None:
        self.values = tuple(v for v, _ in pairs)
        self.picker = Picker([w for _, w in pairs])

    def pick(self, rng: random.Random) -> str:
        return self.values[self.picker.pick(rng)]
