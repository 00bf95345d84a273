"""The demo's time window: 548 UTC days ending on `end`, as integer epoch seconds.

Everything inside the generator works on ints; strings are made once per day (the
`YYYY-MM-DDT` prefix) and once per second-of-day (`HH:MM:SSZ`), so formatting a timestamp is one
division and one string concatenation.
"""

from __future__ import annotations

import datetime as dt
import random
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

DAY = 86_400
HOUR = 3_600
MINUTE = 60
WINDOW_DAYS = 548  # 18 months


@lru_cache(maxsize=1)
def seconds_of_day() -> tuple[str, ...]:
    """`HH:MM:SSZ` for each of the 86,400 seconds of a day (built once per process)."""
    return tuple(
        f"{h:02d}:{m:02d}:{s:02d}Z" for h in range(24) for m in range(60) for s in range(60)
    )


@dataclass(frozen=True, slots=True)
class Month:
    """A calendar month clipped to the window (the first and last ones are partial)."""

    index: int
    year: int
    month: int
    first_day: int  # day index, inclusive
    stop_day: int  # day index, exclusive
    start: int  # epoch seconds, inclusive
    stop: int  # epoch seconds, exclusive
    span: int  # seconds in the whole calendar month (rates are per full month)

    @property
    def days(self) -> int:
        return self.stop_day - self.first_day


class Window:
    """The 548 days ending on `end` (inclusive), with per-day lookup tables."""

    def __init__(self, end: dt.date, days: int = WINDOW_DAYS) -> None:
        self.end_date = end
        self.days = days
        self.start_date = end - dt.timedelta(days=days - 1)
        first = dt.datetime(
            self.start_date.year, self.start_date.month, self.start_date.day, tzinfo=dt.UTC
        )
        self.start = int(first.timestamp())
        self.end = self.start + days * DAY - 1  # `end` 23:59:59, inclusive
        dates = [self.start_date + dt.timedelta(days=i) for i in range(days)]
        self.day_prefix: tuple[str, ...] = tuple(d.isoformat() + "T" for d in dates)
        self.weekday: tuple[int, ...] = tuple(d.weekday() for d in dates)
        self.cal_month: tuple[int, ...] = tuple(d.month for d in dates)
        self.cal_day: tuple[int, ...] = tuple(d.day for d in dates)
        months: list[Month] = []
        month_of_day: list[int] = []
        i = 0
        while i < days:
            d = dates[i]
            j = i
            while j < days and dates[j].month == d.month:
                j += 1
            nxt = dt.date(d.year + d.month // 12, d.month % 12 + 1, 1)
            span = (nxt - dt.date(d.year, d.month, 1)).days * DAY
            months.append(
                Month(
                    len(months),
                    d.year,
                    d.month,
                    i,
                    j,
                    self.start + i * DAY,
                    self.start + j * DAY,
                    span,
                )
            )
            month_of_day.extend([len(months) - 1] * (j - i))
            i = j
        self.months: tuple[Month, ...] = tuple(months)
        self.month_of_day: tuple[int, ...] = tuple(month_of_day)
        self._tod = seconds_of_day()
        self._month_shift: dict[tuple[int, int], int] = {}

    def day_of(self, t: int) -> int:
        return (t - self.start) // DAY

    def month_of(self, t: int) -> Month:
        """The window month containing `t` (clamped to the first/last month)."""
        d = min(max((t - self.start) // DAY, 0), self.days - 1)
        return self.months[self.month_of_day[d]]

    def iso(self, t: int) -> str:
        """ISO-8601 UTC text of `t` (fast inside the window, datetime outside)."""
        if self.start <= t <= self.end:
            d, r = divmod(t - self.start, DAY)
            return self.day_prefix[d] + self._tod[r]
        return dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def date_text(self, t: int) -> str:
        return self.iso(t)[:10]

    def add_months(self, t: int, k: int) -> int:
        """`t` moved k calendar months later, same time of day, day clamped to month end."""
        day, rest = divmod(t - self.start, DAY)
        key = (day, k)
        shifted = self._month_shift.get(key)
        if shifted is None:
            d = self.start_date + dt.timedelta(days=day)
            y, m = divmod(d.month - 1 + k, 12)
            year, month = d.year + y, m + 1
            last = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
            target = dt.date(year, month, min(d.day, last))
            shifted = (target - self.start_date).days
            self._month_shift[key] = shifted
        return self.start + shifted * DAY + rest


class TimeSampler:
    """Draws instants with an hour-of-day x weekday profile over the window.

    One cumulative weight per hour of the window (13,152 slots); a draw in [lo, hi) is a
    bisection restricted to the slots that overlap the interval.
    """

    def __init__(
        self,
        win: Window,
        hours: Sequence[float],
        weekdays: Sequence[float],
        day_factor: Sequence[float] | None = None,
    ) -> None:
        cum: list[float] = []
        acc = 0.0
        for d in range(win.days):
            f = weekdays[win.weekday[d]] * (day_factor[d] if day_factor is not None else 1.0)
            for h in range(24):
                acc += f * hours[h]
                cum.append(acc)
        self.cum = cum
        self.start = win.start
        self.last = len(cum) - 1

    def sample(self, rng: random.Random, lo: int, hi: int) -> int:
        """An instant in [lo, hi) (returns lo when the interval is empty or outside)."""
        start = self.start
        s0 = (lo - start) // HOUR
        s1 = (hi - 1 - start) // HOUR
        s0 = max(s0, 0)
        s1 = min(s1, self.last)
        if s1 < s0 or hi <= lo:
            return lo
        cum = self.cum
        a = cum[s0 - 1] if s0 else 0.0
        b = cum[s1]
        if b <= a:
            return lo + int(rng.random() * (hi - lo))
        slot = bisect_right(cum, a + rng.random() * (b - a), s0, s1)
        base = start + slot * HOUR
        slot_lo = max(lo, base)
        slot_hi = min(hi, base + HOUR)
        return slot_lo + int(rng.random() * (slot_hi - slot_lo))

    def sample_sorted(self, rng: random.Random, lo: int, hi: int, n: int) -> list[int]:
        out = [self.sample(rng, lo, hi) for _ in range(n)]
        out.sort()
        return out
