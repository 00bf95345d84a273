"""How a number reads on a dashboard: one formatter per unit, shared by pages and tests.

The server formats every value (tiles, tables, benchmarks), so the browser never re-derives a
number and a test can format the API's raw answer the same way and compare text.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

CURRENCY_SIGNS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}


def money(value: float, currency: str = "USD") -> str:
    """$1,234 for large sums, $12.34 below a thousand."""
    digits = 0 if abs(value) >= 1000 else 2
    sign = CURRENCY_SIGNS.get(currency, currency + " ")
    text = f"{abs(value):,.{digits}f}"
    return f"-{sign}{text}" if value < 0 else f"{sign}{text}"


def number(value: float) -> str:
    """Whole numbers with thousands separators; fractions with one decimal."""
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.1f}"


def format_value(value: Any, unit: str, currency: str = "USD") -> str:
    """A metric or cell value as text for its unit ("—" when there is no value)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if unit == "datetime" and isinstance(value, str):
        return _datetime(value)
    if unit in ("text", "date", "datetime") or isinstance(value, str | bool):
        return str(value)
    amount = float(value)
    if unit == "percent":
        return f"{amount:,.1f}%"
    if unit == "money":
        return money(amount, currency)
    if unit == "money_per_month":
        return f"{money(amount, currency)}/mo"
    if unit in ("credits_per_customer", "score"):
        return f"{amount:,.1f}"
    if unit in SUFFIXES:
        return f"{amount:,.1f} {SUFFIXES[unit]}"
    if unit == "milliseconds":
        return f"{amount:,.0f} ms"
    if unit == "ratio":
        return f"{amount:,.1f} : 1"
    return number(amount)


SUFFIXES = {"minutes": "min", "hours": "h", "days": "days"}


def _datetime(text: str) -> str:
    """ISO instants to the minute ("2026-11-22 23:58 UTC"); other text as it is."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text
    zone = "" if moment.tzinfo is None else f" {moment.tzname()}"
    return moment.strftime("%Y-%m-%d %H:%M") + zone


@dataclass(frozen=True)
class Change:
    """The comparison with the previous window as shown: arrow, text and its meaning."""

    arrow: str  # "▲", "▼" or ""
    text: str
    tone: str  # "good", "bad" or "flat"


def format_change(change_pct: float | None, direction: str) -> Change:
    """▲/▼ with the percent change; good or bad according to the metric's direction."""
    if change_pct is None:
        return Change("", "—", "flat")
    if change_pct == 0:
        return Change("", "0.0%", "flat")
    rising = change_pct > 0
    arrow = "▲" if rising else "▼"
    if direction == "up":
        tone = "good" if rising else "bad"
    elif direction == "down":
        tone = "bad" if rising else "good"
    else:
        tone = "flat"
    return Change(arrow, f"{abs(change_pct):,.1f}%", tone)
