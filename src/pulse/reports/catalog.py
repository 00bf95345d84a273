"""The reports Pulse sends (SPEC §5; seed 001 daily summary, seed 002 per-experience daily
report, seed 003 "Automated Reports"): which KPIs, over which window, when."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Literal

Cadence = Literal["daily", "weekly", "monthly", "quarterly"]


@dataclass(frozen=True)
class Report:
    id: str  # its prefix is the dashboard section it belongs to (access/policy.py)
    label: str
    cadence: Cadence
    kpis: tuple[str, ...]
    chart: str | None  # a metric whose series is charted (None: the KPIs as bars)
    tables: tuple[tuple[str, int], ...] = ()  # (catalog table, rows shown)
    per_experience: bool = False
    cron: dict[str, Any] = field(default_factory=dict)  # APScheduler cron trigger, UTC

    def window(self, as_of: date) -> str:
        """The period a run covers, ending on `as_of` (the last complete day)."""
        days = {"daily": 1, "weekly": 7, "monthly": 0, "quarterly": 90}[self.cadence]
        if self.cadence == "monthly":
            return "this_month"
        return f"{as_of - timedelta(days=days - 1)}..{as_of}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "label": self.label,
            "cadence": self.cadence,
            "kpis": list(self.kpis),
            "per_experience": self.per_experience,
        }


REPORTS: dict[str, Report] = {
    r.id: r
    for r in (
        Report(
            "platform.daily",
            "Daily platform summary",
            "daily",
            (
                "customers.new",
                "partners.new",
                "occasions.new",
                "generations.total",
                "credits.consumed",
                "revenue.total",
                "system.uptime",
                "system.error_rate",
            ),
            "generations.total",
            (("styles.usage", 5),),
            cron={"hour": 6, "minute": 0},
        ),
        Report(
            "experiences.daily",
            "Daily experience report",
            "daily",
            (
                "sessions.total",
                "chat.starts",
                "engagement.signups",
                "engagement.opted_in",
                "engagement.shares",
                "engagement.participations",
                "nps.score",
            ),
            None,
            per_experience=True,
            cron={"hour": 6, "minute": 5},
        ),
        Report(
            "program.weekly",
            "Weekly partner report",
            "weekly",
            (
                "partners.active",
                "partners.new",
                "finance.partner_revenue",
                "affiliates.signups",
                "affiliates.conversions",
                "agency.resellers",
                "integrations.error_rate",
                "support.csat",
            ),
            "finance.partner_revenue",
            (("affiliates.leaderboard", 5),),
            cron={"day_of_week": "mon", "hour": 7, "minute": 0},
        ),
        Report(
            "program.monthly",
            "Monthly board summary",
            "monthly",
            (
                "revenue.mrr",
                "revenue.growth_rate",
                "customers.total",
                "customers.churn_rate",
                "partners.total",
                "finance.partner_revenue_share",
                "finance.program_roi",
                "finance.ltv_cac",
            ),
            "revenue.mrr",
            cron={"day": 1, "hour": 7, "minute": 0},
        ),
        Report(
            "program.quarterly",
            "Quarterly partner program review",
            "quarterly",
            (
                "partners.total",
                "partners.growth_rate",
                "partners.churn_rate",
                "finance.partner_revenue",
                "finance.program_roi",
                "affiliates.conversions",
                "agency.active_licenses",
                "integrations.share",
            ),
            "partners.total",
            (("affiliates.by_tier", 10),),
            cron={"month": "1,4,7,10", "day": 1, "hour": 8, "minute": 0},
        ),
    )
}


def get(name: str) -> Report:
    try:
        return REPORTS[name]
    except KeyError:
        raise KeyError(f"report: unknown {name!r} (one of {', '.join(REPORTS)})") from None
