"""Shared state of one generation run: window, scale, id counters and samplers.

Ids come from counters advanced in emission order, so a (scale, seed, end) triple always
yields the same ids; per-entity random streams are derived from the seed and a label.
"""

from __future__ import annotations

import random

from pulse.demo.calendar import (
    HOURS_B2B,
    HOURS_B2C,
    HOURS_FLAT,
    WEEKDAY_B2B,
    WEEKDAY_B2C,
    WEEKDAY_FLAT,
    Picker,
)
from pulse.demo.catalog import integration_live_at, style_pickers
from pulse.demo.clock import TimeSampler, Window
from pulse.demo.scales import Scale


class Ids:
    """Sequential id counters (customers c_000001, occasions occ_00001, ...)."""

    __slots__ = ("customers", "experiences", "guests", "occasions", "tickets")

    def __init__(self) -> None:
        self.customers = 0
        self.occasions = 0
        self.experiences = 0
        self.tickets = 0
        self.guests = 0

    def customer(self) -> tuple[str, int]:
        self.customers += 1
        return f"c_{self.customers:06d}", self.customers

    def occasion(self) -> str:
        self.occasions += 1
        return f"occ_{self.occasions:06d}"

    def experience(self) -> str:
        self.experiences += 1
        return f"exp_{self.experiences:05d}"

    def ticket(self) -> str:
        self.tickets += 1
        return f"t_{self.tickets:06d}"

    def guest_block(self, n: int) -> int:
        """Reserve n guest numbers; returns the first."""
        first = self.guests + 1
        self.guests += n
        return first


class Context:
    """Everything generators share for one run."""

    def __init__(self, scale: Scale, seed: int, win: Window) -> None:
        self.scale = scale
        self.seed = seed
        self.win = win
        self.ids = Ids()
        self.b2c_time = TimeSampler(win, HOURS_B2C, WEEKDAY_B2C)
        self.b2b_time = TimeSampler(win, HOURS_B2B, WEEKDAY_B2B)
        self.any_time = TimeSampler(win, HOURS_FLAT, WEEKDAY_FLAT)
        self.styles: dict[tuple[str, int], Picker] = style_pickers()
        self.live_at = integration_live_at(win)
        # provider -> partner id of the integration partner (filled when partners are planned)
        self.integration_partners: dict[str, str] = {}

    def rng(self, label: str) -> random.Random:
        """An independent, reproducible random stream for one entity or block."""
        return random.Random(f"{self.seed}/{self.scale.name}/{label}")  # noqa: S311 (demo data)
