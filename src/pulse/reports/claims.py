"""Claiming a scheduled run, so it happens once however many processes schedule it.

Every `pulse serve` (with the scheduler on) and `pulse worker` fires the same jobs. Before a
report is sent (or the alert rules are checked), each process inserts the run's (job, period)
row into `scheduled_runs`; the primary key lets exactly one insert through and the others find
the key taken. Only the process whose insert went through runs the job. The database decides,
so this holds across hosts too.
"""

from __future__ import annotations

import os
import socket
from datetime import UTC, datetime, timedelta

from pulse.store.store import Store

ALERTS_JOB = "alerts"
ALERT_SLOTS_KEPT = timedelta(days=2)  # older alert-check claims are deleted (reports are kept)


def worker_name() -> str:
    """Who claimed a run (host and process id), for the operator reading `scheduled_runs`."""
    return f"{socket.gethostname()}:{os.getpid()}"


def claim(store: Store, job: str, period: str, by: str | None = None) -> bool:
    """True when this call claimed the run; False when another process already had it."""
    rows = store.execute(
        "INSERT INTO scheduled_runs (job, period, claimed_by, claimed_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (job, period) DO NOTHING RETURNING job",
        (job, period, by or worker_name(), datetime.now(UTC)),
    )
    return bool(rows)


def claimed_by(store: Store, job: str, period: str) -> str | None:
    rows = store.execute(
        "SELECT claimed_by FROM scheduled_runs WHERE job = ? AND period = ?", (job, period)
    )
    return str(rows[0][0]) if rows else None


def alert_slot(now: datetime, minutes: int) -> str:
    """The alert check's period: `now` floored to a multiple of `minutes` (UTC). Processes
    checking every `minutes` each fire once per slot, so every slot is checked once."""
    step = max(1, minutes) * 60
    moment = now.astimezone(UTC)
    seconds = moment.hour * 3600 + moment.minute * 60 + moment.second
    start = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return (start + timedelta(seconds=seconds - seconds % step)).isoformat()


def forget_alert_slots(store: Store, now: datetime) -> None:
    store.execute(
        "DELETE FROM scheduled_runs WHERE job = ? AND claimed_at < ?",
        (ALERTS_JOB, now - ALERT_SLOTS_KEPT),
    )
