"""The scheduler (APScheduler 3.x, in-process): reports at their cron times (UTC) and the alert
rules every few minutes. Started by `pulse worker`, or by `pulse serve` when PULSE_SCHEDULER=1.

Several such processes may run against one store: each report run is claimed in the store
first (`claims.py`), so it is sent once."""

from __future__ import annotations

import logging

from apscheduler.schedulers.background import BackgroundScheduler

from pulse.reports.catalog import REPORTS
from pulse.reports.run import check_alerts_scheduled, run_scheduled
from pulse.settings import Settings
from pulse.store.store import Store

log = logging.getLogger(__name__)


def _run(store: Store, settings: Settings, name: str) -> None:
    try:
        run_scheduled(store, settings, name)
    except Exception:
        log.exception("report %s failed", name)


def _alerts(store: Store, settings: Settings) -> None:
    try:
        check_alerts_scheduled(store, settings)
    except Exception:
        log.exception("alert evaluation failed")


def build_scheduler(store: Store, settings: Settings) -> BackgroundScheduler:
    """A scheduler with every report's job and the alert job (not started)."""
    scheduler = BackgroundScheduler(timezone="UTC")
    for report in REPORTS.values():
        scheduler.add_job(
            _run,
            "cron",
            args=(store, settings, report.id),
            id=f"report:{report.id}",
            coalesce=True,
            misfire_grace_time=3600,
            **report.cron,
        )
    scheduler.add_job(
        _alerts,
        "interval",
        args=(store, settings),
        id="alerts",
        minutes=settings.alert_minutes,
        coalesce=True,
        max_instances=1,
    )
    return scheduler
