"""Runtime settings, read once from the environment (12-factor style)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_DB = "./pulse.duckdb"


@dataclass(frozen=True)
class Settings:
    """Where the store lives and how numbers are reported."""

    db: str = DEFAULT_DB
    tz: str = "UTC"
    currency: str = "USD"
    # access (api/auth.py): cookie signing secret (default: a random one kept in the store),
    # session length, log-in lock-out, rate limits per caller (requests per minute, 0 = none),
    # and how often one key's use is written to the audit log (0 = every request)
    secret_key: str | None = field(default=None, repr=False)
    session_hours: float = 12.0
    lockout_failures: int = 5
    lockout_minutes: int = 15
    rate_ingest_per_minute: int = 6000
    rate_query_per_minute: int = 600
    audit_key_use_seconds: float = 60.0
    # reports and alerts (src/pulse/reports, src/pulse/alerts): SMTP server and sender, the
    # in-process scheduler (`pulse serve` starts it only when enabled), alert recipients
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_from: str = "pulse@localhost"
    scheduler: bool = False
    alert_minutes: int = 5
    alert_webhooks: tuple[str, ...] = ()
    alert_emails: tuple[str, ...] = ()
    # prime the dashboards' default views at start and recompute the answers users looked at
    # after new data, in the background (web/prime.py, store/refresher.py); on in `pulse serve`
    refresh: bool = False

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ.get
        return cls(
            db=env("PULSE_DB", DEFAULT_DB),
            tz=check_tz(env("PULSE_TZ", "UTC")),
            currency=env("PULSE_CURRENCY", "USD").upper(),
            secret_key=env("PULSE_SECRET_KEY") or None,
            session_hours=float(env("PULSE_SESSION_HOURS", "12")),
            lockout_failures=int(env("PULSE_LOCKOUT_FAILURES", "5")),
            lockout_minutes=int(env("PULSE_LOCKOUT_MINUTES", "15")),
            rate_ingest_per_minute=int(env("PULSE_RATE_INGEST_PER_MINUTE", "6000")),
            rate_query_per_minute=int(env("PULSE_RATE_QUERY_PER_MINUTE", "600")),
            audit_key_use_seconds=float(env("PULSE_AUDIT_KEY_USE_SECONDS", "60")),
            smtp_host=env("PULSE_SMTP_HOST") or None,
            smtp_port=int(env("PULSE_SMTP_PORT", "25")),
            smtp_from=env("PULSE_SMTP_FROM", "pulse@localhost"),
            scheduler=env("PULSE_SCHEDULER", "0").lower() in ("1", "true", "yes", "on"),
            alert_minutes=int(env("PULSE_ALERT_MINUTES", "5")),
            alert_webhooks=_listed(env("PULSE_ALERT_WEBHOOKS", "")),
            alert_emails=_listed(env("PULSE_ALERT_EMAILS", "")),
            refresh=env("PULSE_REFRESH", "1").lower() in ("1", "true", "yes", "on"),
        )


def _listed(text: str) -> tuple[str, ...]:
    """A comma-separated setting as a tuple (empty items dropped)."""
    return tuple(item.strip() for item in text.split(",") if item.strip())


def check_tz(name: str) -> str:
    """Return `name` if it is an IANA time zone, else raise ValueError naming it."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"tz: unknown time zone {name!r}") from exc
    return name
