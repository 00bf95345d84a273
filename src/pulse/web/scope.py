"""What a dashboard request looks at: the period (window, as-of) and the narrowing scopes.

The period lives in the URL query (`window=…&as_of=…`), so a link shows the same numbers and
every tile, chart and table of a page reads the same `Scope`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import HTTPException, Request

from pulse.metrics.windows import Window, parse_date, parse_window
from pulse.settings import check_tz

PERIODS = (
    ("last_30d", "Last 30 days"),
    ("last_3m", "Last 3 months"),
    ("last_12m", "Last 12 months"),
    ("this_month", "This month"),
    ("last_month", "Last month"),
    ("custom", "Custom range"),
)


@dataclass(frozen=True)
class Scope:
    window: str
    as_of: date
    tz: str
    as_of_given: bool = False
    partner: str | None = None
    experience: str | None = None

    @property
    def span(self) -> Window:
        return parse_window(self.window, self.as_of)

    @property
    def preset(self) -> str:
        return self.window if ".." not in self.window else "custom"

    def params(self, **extra: Any) -> dict[str, str]:
        """Query parameters that reproduce this scope (plus `extra`, None values dropped)."""
        base: dict[str, Any] = {"window": self.window}
        if self.as_of_given:
            base["as_of"] = self.as_of.isoformat()
        base |= {"partner": self.partner, "experience": self.experience, **extra}
        return {k: str(v) for k, v in base.items() if v is not None and v is not False}

    def query(self, **extra: Any) -> str:
        return urlencode(self.params(**extra))


def default_scope(tz: str) -> Scope:
    """What a page shows with no parameters: the last 30 days to today, platform-wide."""
    return Scope(window="last_30d", as_of=datetime.now(UTC).date(), tz=tz)


def read_scope(request: Request, default_tz: str) -> Scope:
    """The scope of a page or fragment request; 422 naming the bad parameter."""
    q = request.query_params
    try:
        as_of_text = q.get("as_of") or None
        default = default_scope(default_tz)
        as_of = parse_date(as_of_text) if as_of_text else default.as_of
        window = q.get("window") or default.window
        if window == "custom":
            window = f"{q.get('start', '')}..{q.get('end', '')}"
        parse_window(window, as_of)
        tz = check_tz(q["tz"]) if q.get("tz") else default_tz
    except ValueError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    return Scope(
        window=window,
        as_of=as_of,
        tz=tz,
        as_of_given=as_of_text is not None,
        partner=q.get("partner") or None,
        experience=q.get("experience") or None,
    )
