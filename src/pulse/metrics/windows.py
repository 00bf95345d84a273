"""Windows, comparison windows and series buckets (SPEC §2).

A window is a range of whole local days [start, end] in the reporting time zone; queries use
its UTC instants [start 00:00, end+1 00:00). Nothing here reads the wall clock: the as-of date
is always given.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

PRESETS = ("last_30d", "last_3m", "last_12m", "this_month", "last_month")
PRESET_DAYS = {"last_30d": 30, "last_3m": 90, "last_12m": 365}
GRAINS = ("day", "week", "month")
Grain = Literal["day", "week", "month"]
_CUSTOM = re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")


@dataclass(frozen=True)
class Window:
    """Whole local days from `start` to `end`, both included."""

    start: date
    end: date
    monthly: bool = False  # compared with the previous calendar month

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Window:
        """The window this one is compared with: the preceding one of the same length."""
        if self.monthly:
            end = self.start - timedelta(days=1)
            return Window(end.replace(day=1), end, monthly=True)
        return Window(self.start - timedelta(days=self.days), self.start - timedelta(days=1))

    def year_ago(self) -> Window:
        """The same days a year earlier (year-over-year comparison); 29 February → 28th."""
        return Window(_year_before(self.start), _year_before(self.end), self.monthly)

    def as_dict(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}


def _year_before(day: date) -> date:
    if day.month == 2 and day.day == 29:
        return day.replace(year=day.year - 1, day=28)
    return day.replace(year=day.year - 1)


def parse_window(spec: str, as_of: date) -> Window:
    """A preset name or `START..END`; raise ValueError naming the parameter."""
    if spec in PRESET_DAYS:
        return Window(as_of - timedelta(days=PRESET_DAYS[spec] - 1), as_of)
    if spec == "this_month":
        return Window(as_of.replace(day=1), as_of, monthly=True)
    if spec == "last_month":
        end = as_of.replace(day=1) - timedelta(days=1)
        return Window(end.replace(day=1), end, monthly=True)
    match = _CUSTOM.match(spec)
    if match is None:
        raise ValueError(
            f"window: {spec!r} is not one of {', '.join(PRESETS)} or START..END (YYYY-MM-DD)"
        )
    try:
        start, end = (date.fromisoformat(part) for part in match.groups())
    except ValueError as exc:
        raise ValueError(f"window: {spec!r} has an invalid date ({exc})") from exc
    if end < start:
        raise ValueError(f"window: {spec!r} ends before it starts")
    return Window(start, end)


def parse_date(value: str, name: str = "as_of") -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"{name}: {value!r} is not a date (YYYY-MM-DD)") from exc


@dataclass(frozen=True)
class Span:
    """One period a number is computed for: local days [first, last] as UTC instants."""

    first: date
    last: date
    start: datetime  # UTC, inclusive
    end: datetime  # UTC, exclusive
    key: datetime  # naive local time that identifies the span in SQL (its bucket start)
    grain: Grain | None = None  # set for series buckets
    monthly: bool = False  # a calendar-month window

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def preceding(self, tz: str) -> Span:
        """The span just before this one: the previous bucket, or the comparison window."""
        if self.grain is not None:
            start = bucket_start(self.first - timedelta(days=1), self.grain)
            return buckets(Window(start, self.first - timedelta(days=1)), self.grain, tz)[0]
        previous = Window(self.first, self.last, self.monthly).previous()
        return window_span(previous, tz)


def instant(day: date, tz: str) -> datetime:
    """The UTC instant at which local `day` begins."""
    return datetime.combine(day, time(), ZoneInfo(tz)).astimezone(UTC)


def span(
    first: date, last: date, tz: str, key: date | None = None, grain: Grain | None = None
) -> Span:
    return Span(
        first,
        last,
        instant(first, tz),
        instant(last + timedelta(days=1), tz),
        datetime.combine(key or first, time()),
        grain,
    )


def window_span(window: Window, tz: str) -> Span:
    whole = span(window.start, window.end, tz)
    return Span(whole.first, whole.last, whole.start, whole.end, whole.key, None, window.monthly)


def bucket_start(day: date, grain: Grain) -> date:
    if grain == "week":
        return day - timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    return day


def _next_bucket(day: date, grain: Grain) -> date:
    if grain == "day":
        return day + timedelta(days=1)
    if grain == "week":
        return day + timedelta(days=7)
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def buckets(window: Window, grain: Grain, tz: str) -> list[Span]:
    """Day / ISO week / calendar month buckets covering the window, clipped to it."""
    spans: list[Span] = []
    start = bucket_start(window.start, grain)
    while start <= window.end:
        following = _next_bucket(start, grain)
        first = max(start, window.start)
        last = min(following - timedelta(days=1), window.end)
        spans.append(span(first, last, tz, key=start, grain=grain))
        start = following
    return spans
