"""An alert or action-item table read as a list: a severity badge, the message, the details.

Alerts carry a severity (critical, warning, opportunity); action items a priority (high,
medium, low), shown in the colour of the matching severity. Cells stay the table's own,
formatted by their column unit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pulse.web.format import format_value

LEVEL_COLUMNS = ("severity", "priority")
TITLE_COLUMNS = ("message", "action", "title", "label", "rule", "subject")
PRIORITY_LEVEL = {"high": "critical", "medium": "warning", "low": "opportunity"}
LEVELS = ("critical", "warning", "opportunity")


@dataclass(frozen=True)
class Item:
    level: str  # critical, warning, opportunity or none: the badge colour
    badge: str  # the row's own word (a severity or a priority)
    title: str
    details: tuple[tuple[str, str], ...]  # (column label, formatted cell)


def items(answer: dict[str, Any], currency: str) -> list[Item]:
    """The answer's rows as list items (the table's order)."""
    names = [c["name"] for c in answer["columns"]]
    level_column = next((n for n in LEVEL_COLUMNS if n in names), None)
    title_column = next((n for n in TITLE_COLUMNS if n in names), names[0] if names else None)
    shown = [c for c in answer["columns"] if c["name"] not in (level_column, title_column)]
    out = []
    for row in answer["rows"]:
        word = str(row[level_column] or "") if level_column else ""
        level = PRIORITY_LEVEL.get(word.lower(), word.lower())
        details = tuple(
            (c["label"], format_value(row[c["name"]], c["unit"], currency))
            for c in shown
            if row[c["name"]] not in (None, "")
        )
        title = format_value(row[title_column], "text") if title_column else ""
        out.append(Item(level if level in LEVELS else "none", word, title, details))
    return out
