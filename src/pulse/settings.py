"""Runtime settings, read once from the environment (12-factor style)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_DB = "./pulse.duckdb"


@dataclass(frozen=True)
class Settings:
    """Where the store lives and how numbers are reported."""

    db: str = DEFAULT_DB
    tz: str = "UTC"
    currency: str = "USD"

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            db=os.environ.get("PULSE_DB", DEFAULT_DB),
            tz=check_tz(os.environ.get("PULSE_TZ", "UTC")),
            currency=os.environ.get("PULSE_CURRENCY", "USD").upper(),
        )


def check_tz(name: str) -> str:
    """Return `name` if it is an IANA time zone, else raise ValueError naming it."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"tz: unknown time zone {name!r}") from exc
    return name
