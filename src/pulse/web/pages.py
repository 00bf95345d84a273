"""The dashboards, declared as data: pages → sections → tiles, charts, breakdowns and tables.

Each page follows one seed. Ids name catalog metrics and tables; an id the catalog does not
have (yet) is shown as "not available" instead of failing, so a page can list what a seed
wants before the metric lands. Section `name`s are stable keys that access rules (SPEC §4)
can attach to.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True)
class Chart:
    """A metric's series over the window (line or bar), or its breakdown `by` a dimension."""

    metric: str
    cumulative: bool = False
    by: str | None = None


@dataclass(frozen=True)
class Breakdown:
    """A metric split by one dimension: a sortable table of rows beside its bar chart."""

    metric: str
    by: str


@dataclass(frozen=True)
class TableView:
    """A catalog table, with fixed parameters of the table's own (e.g. months=12), shown as a
    sortable table or in a `view` of its own: a funnel chart above the table, or an alert list
    with a severity badge per row."""

    table: str
    params: tuple[tuple[str, str], ...] = ()
    on_demand: bool = False  # slow to compute (forecasts): loaded when the user asks
    view: Literal["table", "funnel", "alerts"] = "table"


@dataclass(frozen=True)
class Heatmap:
    """Modules of an experience in flow order coloured by level; a click shows one module."""

    table: str = "modules.heatmap"
    detail: str = "modules.detail"


@dataclass(frozen=True)
class Section:
    name: str
    title: str
    intro: str = ""
    tiles: tuple[str, ...] = ()
    charts: tuple[Chart, ...] = ()
    breakdowns: tuple[Breakdown, ...] = ()
    tables: tuple[TableView, ...] = ()
    heatmap: Heatmap | None = None
    benchmarks: tuple[str, ...] = ()  # metrics shown as "good / needs improvement" rows

    def metric_ids(self) -> list[str]:
        ids = [*self.tiles, *(c.metric for c in self.charts), *self.benchmarks]
        return [*ids, *(b.metric for b in self.breakdowns)]

    def table_views(self) -> list[TableView]:
        """The tables whose answers the section shows, the heatmap's among them (its detail
        table is asked only when a module is clicked)."""
        heatmap = [] if self.heatmap is None else [TableView(self.heatmap.table)]
        return [*self.tables, *heatmap]

    def table_ids(self) -> list[str]:
        """Every table the section reads, the heatmap's detail table too."""
        detail = [] if self.heatmap is None else [self.heatmap.detail]
        return [*(v.table for v in self.table_views()), *detail]


@dataclass(frozen=True)
class Page:
    slug: str
    path: str
    title: str
    seed: str
    intro: str
    sections: tuple[Section, ...]
    scopes: tuple[str, ...] = ()  # URL parameters the page narrows by: partner, experience
    fields: dict[str, str] = field(default_factory=dict)  # scope → picker label

    def metric_ids(self) -> list[str]:
        return _unique(i for s in self.sections for i in s.metric_ids())

    def table_ids(self) -> list[str]:
        return _unique(i for s in self.sections for i in s.table_ids())


def _unique(ids: Iterator[str]) -> list[str]:
    return list(dict.fromkeys(ids))


KEY_METRICS = (
    "customers.growth_rate",
    "customers.churn_rate",
    "credits.utilization",
    "revenue.per_customer",
    "revenue.profit_margin",
)

PARTNER = Page(
    slug="partner",
    path="/partner",
    title="Partner analytics",
    seed="000",
    intro="Customer growth, credit usage and revenue for one partner (or the whole platform).",
    scopes=("partner",),
    fields={"partner": "Partner"},
    sections=(
        Section(
            "key_metrics",
            "Key metrics",
            "The five indicators to watch; green is healthy, red needs action.",
            tiles=KEY_METRICS,
        ),
        Section(
            "customers",
            "Customer metrics",
            tiles=(
                "customers.total",
                "customers.active",
                "customers.new",
                "customers.churned",
                "customers.retention_rate",
            ),
            breakdowns=(Breakdown("customers.by_status", "status"),),
            charts=(Chart("customers.new"), Chart("customers.total"), Chart("customers.active")),
            tables=(TableView("customers.segments"),),
        ),
        Section(
            "credits",
            "Credit metrics",
            tiles=(
                "credits.balance",
                "credits.purchased",
                "credits.allocated",
                "credits.consumed",
                "credits.expired",
                "credits.per_customer",
                "credits.consumers",
                "credits.avg_purchase_size",
            ),
            charts=(Chart("credits.consumed", cumulative=True), Chart("credits.purchased")),
        ),
        Section(
            "business",
            "Business performance",
            tiles=(
                "revenue.total",
                "revenue.mrr",
                "revenue.arr",
                "revenue.mrr_movements",
                "revenue.growth_rate",
            ),
            breakdowns=(Breakdown("revenue.mrr_movements", "movement"),),
            charts=(Chart("revenue.total", cumulative=True), Chart("revenue.mrr")),
            tables=(TableView("revenue.by_plan"), TableView("customers.cohorts")),
        ),
    ),
)

ADMIN = Page(
    slug="admin",
    path="/admin",
    title="Platform admin",
    seed="001",
    intro="Growth, revenue, credit flow, partners, styles and system health across the platform.",
    sections=(
        Section(
            "overview",
            "Overview",
            tiles=(
                "system.uptime",
                "partners.total",
                "occasions.total",
                "users.b2c_total",
                "credits.in_channels",
                "generations.total",
            ),
            charts=(Chart("revenue.total"), Chart("generations.total")),
            tables=(
                TableView("alerts.active", view="alerts"),
                TableView("system.pulse"),
                TableView("system.activity_log"),
            ),
        ),
        Section(
            "partners",
            "Partners",
            tiles=(
                "partners.active",
                "partners.active_ratio",
                "partners.new",
                "partners.churned",
                "partners.growth_rate",
                "partners.churn_rate",
                "occasions.total",
                "credits.in_channels",
                "credits.consumption_ratio",
            ),
            charts=(Chart("partners.total"), Chart("occasions.new")),
            tables=(TableView("partners.segments"), TableView("partners.list")),
        ),
        Section(
            "b2c",
            "B2C",
            tiles=(
                "users.b2c_total",
                "users.active_30d",
                "users.activation_rate",
                "users.revenue",
                "users.avg_credits",
                "credits.avg_purchase_size",
                "credits.repeat_purchase_rate",
            ),
            charts=(Chart("users.b2c_total"), Chart("users.revenue", cumulative=True)),
        ),
        Section(
            "styles",
            "Styles",
            tiles=(
                "styles.total",
                "styles.active",
                "styles.deletion_rate",
                "generations.per_occasion",
                "generations.failed",
            ),
            tables=(
                TableView("styles.usage"),
                TableView("styles.categories"),
                TableView("generations.stats"),
            ),
        ),
        Section(
            "logs",
            "Logs",
            tiles=(
                "system.error_rate",
                "system.response_ms",
                "system.errors",
                "usage.session_duration_avg",
            ),
            tables=(
                TableView("system.activity_log"),
                TableView("audit.log"),
                TableView("system.errors_by_source"),
                TableView("usage.peak_hours"),
                TableView("finance.transactions"),
            ),
        ),
        Section(
            "benchmarks",
            "Performance benchmarks",
            "Platform benchmarks against their target ranges.",
            benchmarks=(
                "system.uptime",
                "system.error_rate",
                "system.response_ms",
                "partners.growth_rate",
                "partners.churn_rate",
                "credits.consumption_ratio",
                "partners.active_ratio",
                "generations.per_occasion",
                "users.activation_rate",
                "revenue.growth_rate",
            ),
        ),
    ),
)

EXPERIENCES = Page(
    slug="experiences",
    path="/experiences",
    title="Experience analytics",
    seed="002",
    intro="Sessions, conversations, opt-ins, sharing and NPS of the chat experiences.",
    scopes=("experience",),
    fields={"experience": "Experience"},
    sections=(
        Section(
            "overview",
            "Overview",
            tiles=(
                "sessions.total",
                "sessions.with_conversation",
                "sessions.bounces",
                "sessions.bounce_rate",
                "sessions.screen_time_min",
                "chat.starts",
                "chat.participants",
                "chat.messages",
                "engagement.signups",
                "engagement.web_push_asked",
                "engagement.soi_web_push",
                "engagement.doi_web_push",
                "engagement.soi_reminder",
                "engagement.doi_reminder",
                "engagement.shares",
                "engagement.participations",
                "engagement.advent_doors",
                "engagement.pin_sent",
                "engagement.pin_succeeded",
                "engagement.pin_failed",
                "engagement.deletions",
            ),
            tables=(TableView("experiences.funnel", view="funnel"),),
        ),
        Section(
            "over_time",
            "KPIs over time",
            charts=(
                Chart("sessions.total"),
                Chart("sessions.with_conversation"),
                Chart("engagement.signups"),
                Chart("engagement.opted_in"),
                Chart("sessions.total", cumulative=True),
                Chart("engagement.signups", cumulative=True),
            ),
        ),
        Section(
            "others",
            "Others",
            tables=(
                TableView("sessions.platforms"),
                TableView("engagement.pin_attempts"),
                TableView("engagement.data_fields"),
                TableView("engagement.shares_by_channel"),
                TableView("engagement.opt_ins"),
            ),
        ),
        Section(
            "nps",
            "Net Promoter Score",
            tiles=("nps.responses", "nps.detractors", "nps.passives", "nps.promoters", "nps.score"),
            tables=(
                TableView("nps.segments"),
                TableView("nps.distribution"),
                TableView("nps.answers"),
            ),
        ),
        Section(
            "drilldown",
            "Drill-down",
            "Modules in flow order; colour shows how often each was visited (blue low → red high).",
            heatmap=Heatmap(),
        ),
    ),
)

PROGRAM = Page(
    slug="program",
    path="/program",
    title="Partner program",
    seed="003",
    intro="Affiliate, agency and integration partners: growth, revenue, payouts and operations.",
    sections=(
        Section(
            "summary",
            "Executive summary",
            tiles=(
                "partners.total",
                "partners.active",
                "revenue.total",
                "finance.partner_revenue",
                "finance.partner_revenue_share",
                "partners.activation_rate",
                "partners.retention_90d",
            ),
            tables=(TableView("targets.status"), TableView("finance.revenue_by_channel")),
        ),
        Section(
            "affiliates",
            "Affiliate program",
            tiles=(
                "affiliates.total",
                "affiliates.active",
                "affiliates.new",
                "affiliates.churned",
                "affiliates.revenue",
                "affiliates.commissions",
                "affiliates.clicks",
                "affiliates.signups",
                "affiliates.trials",
                "affiliates.conversions",
                "affiliates.click_to_signup",
                "affiliates.signup_to_trial",
                "affiliates.trial_to_paid",
                "affiliates.click_to_paid",
                "affiliates.epc",
                "affiliates.revenue_per_click",
                "affiliates.flagged_referrals",
            ),
            charts=(Chart("affiliates.clicks"), Chart("affiliates.revenue", cumulative=True)),
            tables=(
                TableView("affiliates.funnel", view="funnel"),
                TableView("affiliates.by_tier"),
                TableView("affiliates.leaderboard"),
                TableView("affiliates.cohorts"),
                TableView("affiliates.milestones"),
                TableView("affiliates.flagged"),
            ),
        ),
        Section(
            "agency",
            "Agency partners",
            tiles=(
                "agency.referral_partners",
                "agency.referrals_per_partner",
                "agency.referral_conversion_rate",
                "agency.commission_per_partner",
                "agency.resellers",
                "agency.active_licenses",
                "agency.licenses_per_partner",
                "agency.margin_per_license",
                "agency.reseller_churn_rate",
                "agency.white_label_partners",
                "agency.seats",
                "agency.seats_per_partner",
                "agency.platform_revenue",
                "agency.seat_revenue",
            ),
            tables=(
                TableView("agency.referral_partner_list"),
                TableView("agency.reseller_list"),
                TableView("agency.white_label"),
            ),
        ),
        Section(
            "integrations",
            "Integration partners",
            tiles=(
                "integrations.users",
                "integrations.share",
                "integrations.api_calls",
                "integrations.uptime",
                "integrations.error_rate",
                "integrations.avg_sync_ms",
                "integrations.retention_impact",
            ),
            tables=(TableView("integrations.providers"), TableView("integrations.pipeline")),
        ),
        Section(
            "financials",
            "Financial",
            tiles=(
                "finance.commissions_earned",
                "finance.payouts",
                "finance.commissions_ytd",
                "finance.commissions_outstanding",
                "finance.program_costs",
                "finance.net_partner_revenue",
                "finance.program_roi",
                "finance.ltv",
                "finance.cac",
                "finance.ltv_cac",
            ),
            tables=(TableView("finance.commissions"), TableView("finance.ltv_by_channel")),
        ),
        Section(
            "operational",
            "Operations",
            tiles=(
                "support.first_response_hours",
                "support.resolution_hours",
                "support.csat",
                "support.tickets",
                "support.escalation_rate",
                "onboarding.avg_days",
                "onboarding.completion_rate",
                "onboarding.time_to_first_revenue_days",
            ),
            tables=(TableView("support.by_partner_kind"),),
        ),
        Section(
            "growth",
            "Growth & forecasting",
            charts=(Chart("partners.total"), Chart("finance.partner_revenue")),
            tables=(
                TableView("forecasts.partners", on_demand=True),
                TableView("forecasts.revenue", on_demand=True),
            ),
        ),
        Section(
            "alerts",
            "Alerts & action items",
            tables=(
                TableView("alerts.active", view="alerts"),
                TableView("alerts.action_items", view="alerts"),
            ),
        ),
    ),
)

PAGES: tuple[Page, ...] = (PARTNER, ADMIN, EXPERIENCES, PROGRAM)


def find_page(slug: str) -> Page | None:
    return next((p for p in PAGES if p.slug == slug), None)
