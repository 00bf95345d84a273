"""The alert rules, declared as data: what each reads from the catalog, its condition and its
(editable) threshold, and the action item it opens.

A rule's `find` returns findings: one per subject (the platform, a partner, a provider, a
transaction …) for which the condition holds now. Only the catalog (metrics and tables) and the
audit log are read, never a formula of their own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import takewhile
from typing import Any, Literal

from pulse.access import audit
from pulse.metrics.catalog import safe_div
from pulse.metrics.engine import Engine, Query
from pulse.metrics.health_log import DATABASE, DEFAULT_CHECKED
from pulse.metrics.tables import TableQuery, evaluate_table
from pulse.store.store import Store

Severity = Literal["critical", "warning", "opportunity"]
Priority = Literal["high", "medium", "low"]
SEVERITIES: tuple[Severity, ...] = ("critical", "warning", "opportunity")


@dataclass(frozen=True)
class Finding:
    """The condition holds for `subject`; `message` says so in words, `value` in a number."""

    subject: str
    message: str
    value: float | None = None


@dataclass(frozen=True)
class Context:
    store: Store
    engine: Engine
    as_of: date
    now: datetime
    tz: str = "UTC"

    def metric(self, metric_id: str, window: str, **options: Any) -> dict[str, Any]:
        query = Query(metric=metric_id, as_of=self.as_of, window=window, tz=self.tz, **options)
        return self.engine.evaluate(query)

    def table(self, table_id: str, window: str, **params: str) -> list[dict[str, Any]]:
        query = TableQuery(table_id, self.as_of, window, tz=self.tz, params=params)
        rows: list[dict[str, Any]] = evaluate_table(self.engine, query)["rows"]
        return rows


Find = Callable[[Context, float], list[Finding]]


@dataclass(frozen=True)
class Rule:
    id: str
    label: str
    severity: Severity
    source: str  # the catalog metric or table (or `audit_log`) the rule reads
    condition: str  # in words, with {threshold}
    threshold: float
    find: Find
    action: str  # the action item opened when it fires ({subject} is filled in)
    owner: str
    priority: Priority
    due_days: int

    def as_dict(self, threshold: float | None = None) -> dict[str, Any]:
        used = self.threshold if threshold is None else threshold
        return {
            "id": self.id,
            "label": self.label,
            "severity": self.severity,
            "source": self.source,
            "condition": self.condition.format(threshold=f"{used:g}"),
            "threshold": used,
            "default_threshold": self.threshold,
            "owner": self.owner,
            "priority": self.priority,
        }


# -- system ---------------------------------------------------------------------------------------


def _pulse_red(ctx: Context, threshold: float) -> list[Finding]:
    """System Pulse's overall light over the last day (threshold unused: red is red)."""
    rows = ctx.table("system.pulse", f"{ctx.as_of}..{ctx.as_of}")
    red = [r["component"] for r in rows if r["status"] == "red" and r["component"] != "overall"]
    overall = next((r for r in rows if r["component"] == "overall"), None)
    if overall is None or overall["status"] != "red":
        return []
    return [Finding("platform", f"System Pulse is red ({', '.join(red) or 'overall'})")]


def _error_rate(ctx: Context, threshold: float) -> list[Finding]:
    answer = ctx.metric("system.error_rate", f"{ctx.as_of}..{ctx.as_of}")
    rate = answer["value"]
    if rate is None or rate <= threshold:
        return []
    return [Finding("platform", f"Error rate {rate:.1f}% today (threshold {threshold:g}%)", rate)]


RECENT_MINUTES = 15  # how far back "now" reaches for the database failures


def _health(ctx: Context) -> list[dict[str, Any]]:
    """The health log (newest first) of yesterday and today up to now: an outage or a burst
    of failures does not end at midnight."""
    rows = ctx.table("system.health_log", f"{ctx.as_of - timedelta(days=1)}..{ctx.as_of}")
    return [r for r in rows if datetime.fromisoformat(r["ts"]) <= ctx.now]


def _database_failures(ctx: Context, threshold: float) -> list[Finding]:
    """Database errors and failed database health checks in the last 15 minutes."""
    since = ctx.now - timedelta(minutes=RECENT_MINUTES)
    failures = [
        r
        for r in _health(ctx)
        if r["component"] in DATABASE and not r["ok"] and datetime.fromisoformat(r["ts"]) >= since
    ]
    if not failures or len(failures) < threshold:
        return []
    latest = failures[0]["message"] or "health check failed"
    return [
        Finding(
            "database",
            f"{len(failures)} database failure(s) in the last {RECENT_MINUTES} minutes "
            f"(latest: {latest})",
            len(failures),
        )
    ]


def _api_outage(ctx: Context, threshold: float) -> list[Finding]:
    """The API's latest `threshold` health checks all failed (no pass since)."""
    checks = [
        r
        for r in _health(ctx)
        if r["event"] == "health_check" and r["component"] == DEFAULT_CHECKED
    ]
    needed = max(int(threshold), 1)
    if len(checks) < needed or any(r["ok"] for r in checks[:needed]):
        return []
    down = list(takewhile(lambda r: not r["ok"], checks))
    since = datetime.fromisoformat(down[-1]["ts"]).astimezone(UTC)
    return [
        Finding(
            "api",
            f"API down: the last {len(down)} health check(s) failed, "
            f"since {since:%Y-%m-%d %H:%M} UTC",
            len(down),
        )
    ]


# -- business -------------------------------------------------------------------------------------


def _low_credit(ctx: Context, threshold: float) -> list[Finding]:
    """Partners whose credit balance is under `threshold` % of what they bought in 12 months."""
    balance = _by_key(ctx.metric("credits.balance", "last_30d", by="partner"))
    bought = _by_key(ctx.metric("credits.purchased", "last_12m", by="partner"))
    found = []
    for partner, purchased in sorted((k, v) for k, v in bought.items() if k is not None):
        left = safe_div(balance.get(partner), purchased)
        if left is None or purchased is None or purchased <= 0:
            continue
        if left * 100 < threshold:
            pct = left * 100
            found.append(
                Finding(
                    str(partner),
                    f"Partner {partner} has {pct:.1f}% of its credits left "
                    f"({balance.get(partner):g} of {purchased:g})",
                    round(pct, 4),
                )
            )
    return found


def _high_value(ctx: Context, threshold: float) -> list[Finding]:
    rows = ctx.table("finance.transactions", "last_30d")
    found = []
    for r in rows:
        amount = r["amount_reporting"]
        if r["type"] == "credits purchase" and amount is not None and amount > threshold:
            who = r["partner"] or r["customer"]
            subject = f"{r['ts']}|{who}|{amount}"
            found.append(Finding(subject, f"Credit purchase of {amount:,.2f} by {who}", amount))
    return found


def _applications(ctx: Context, threshold: float) -> list[Finding]:
    rows = ctx.table("partners.list", "last_30d")
    return [
        Finding(r["partner_id"], f"New partner application: {r['name'] or r['partner_id']}")
        for r in rows
        if r["status"] == "applied"
    ]


def _reseller_clients_down(ctx: Context, threshold: float) -> list[Finding]:
    answer = ctx.metric("agency.reseller_clients", "last_30d", by="partner")
    found = []
    for row in answer.get("rows", []):
        change = row["change_pct"]
        if change is not None and change <= -threshold:
            found.append(
                Finding(
                    str(row["key"]),
                    f"Reseller {row['key']} client count dropped {abs(change):.0f}% "
                    f"({row['previous']:g} → {row['value']:g})",
                    change,
                )
            )
    return found


def _elite_idle(ctx: Context, threshold: float) -> list[Finding]:
    """Elite affiliates with at most `threshold` referrals this month."""
    tiers = ctx.table("affiliates.milestones", "this_month")
    signups = _by_key(ctx.metric("affiliates.signups", "this_month", by="partner"))
    found = []
    for r in tiers:
        if r["tier"] != "elite":
            continue
        count = signups.get(r["partner_id"]) or 0
        if count <= threshold:
            name = r["name"] or r["partner_id"]
            found.append(
                Finding(
                    r["partner_id"],
                    f"Elite affiliate {name} has {count:g} referrals this month",
                    count,
                )
            )
    return found


def _integration_errors(ctx: Context, threshold: float) -> list[Finding]:
    rows = ctx.table("integrations.providers", "last_30d")
    return [
        Finding(
            r["provider"],
            f"{r['provider']} integration error rate {r['error_rate']:.1f}% "
            f"(threshold {threshold:g}%)",
            r["error_rate"],
        )
        for r in rows
        if r["error_rate"] is not None and r["error_rate"] > threshold
    ]


def _below_target(ctx: Context, threshold: float) -> list[Finding]:
    """Targets whose actual is below `threshold` % of the target (off track by default)."""
    found = []
    for r in ctx.table("targets.status", "this_month"):
        reached = safe_div(r["actual"], r["target"])
        if reached is None or r["status"] == "on_track" or reached * 100 >= threshold:
            continue
        found.append(
            Finding(
                f"{r['metric']}|{r['period']}",
                f"{r['label']} below target: {r['actual']:g} vs {r['target']:g} ({r['period']})",
                round(reached * 100, 4),
            )
        )
    return found


def _missed_payments(ctx: Context, threshold: float) -> list[Finding]:
    """Partners with a failed payment unpaid for at least `threshold` days (90 days back)."""
    late: dict[str, list[dict[str, Any]]] = {}
    for r in ctx.table("finance.missed_payments", "last_3m"):
        if r["days_overdue"] >= threshold:
            late.setdefault(r["partner_id"], []).append(r)
    found = []
    for partner, rows in sorted(late.items()):
        name = rows[0]["name"] or partner
        kind = (rows[0]["partner_kind"] or "").replace("_", "-")
        kind = f"{kind} partner" if kind else "partner"
        oldest = max(r["days_overdue"] for r in rows)
        owed = ", ".join(f"{r['amount']:,.2f} {r['currency']}" for r in rows)
        what = "a payment" if len(rows) == 1 else f"{len(rows)} payments"
        found.append(
            Finding(
                partner,
                f"{kind.capitalize()} {name} missed {what} ({owed}; {oldest} days overdue)",
                oldest,
            )
        )
    return found


def _tier_at_risk(ctx: Context, threshold: float) -> list[Finding]:
    """From day `threshold` of the month: power and elite affiliates with fewer referrals this
    month than their tier's monthly minimum, one finding per tier (one campaign each)."""
    if ctx.as_of.day < threshold:
        return []
    short: dict[str, list[dict[str, Any]]] = {}
    for r in ctx.table("affiliates.tier_progress", "this_month"):
        if r["tier_minimum"] > 0 and r["short_of_tier"] > 0:
            short.setdefault(r["tier"], []).append(r)
    found = []
    for tier, rows in sorted(short.items()):
        names = [r["name"] or r["partner_id"] for r in rows]
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        found.append(
            Finding(
                tier,
                f"{len(rows)} {tier} affiliate(s) at risk of tier downgrade "
                f"(< {rows[0]['tier_minimum']} referrals this month): {shown}",
                len(rows),
            )
        )
    return found


def _tier_upgrade(ctx: Context, threshold: float) -> list[Finding]:
    """Affiliates at most `threshold` referrals this month short of the next tier's minimum."""
    found = []
    for r in ctx.table("affiliates.tier_progress", "this_month"):
        missing = r["to_next_tier"]
        if missing is None or missing > threshold:
            continue
        name = r["name"] or r["partner_id"]
        nxt = r["next_tier"].capitalize()
        message = (
            f"{name} reached the {nxt} tier minimum ({r['next_minimum']} referrals this month)"
            if missing == 0
            else f"{name} on track for {nxt} tier upgrade ({missing} more referral(s) needed)"
        )
        found.append(Finding(r["partner_id"], message, missing))
    return found


# -- security -------------------------------------------------------------------------------------


def _audit_bursts(
    ctx: Context, actions: tuple[str, ...], threshold: float, key: Callable[[Any], str]
) -> dict[str, int]:
    """How many of these audit actions each key (account, actor) had in the last hour, for the
    keys with at least `threshold`."""
    counts: dict[str, int] = {}
    for action in actions:
        entries = audit.entries(
            ctx.store,
            action=action,
            since=ctx.now - timedelta(hours=1),
            until=ctx.now,
            limit=100_000,
        )
        for entry in entries:
            counts[key(entry)] = counts.get(key(entry), 0) + 1
    return {k: n for k, n in sorted(counts.items()) if n >= threshold}


def _failed_logins(ctx: Context, threshold: float) -> list[Finding]:
    """Accounts with at least `threshold` failed log-ins in the last hour (audit log)."""
    found = _audit_bursts(ctx, ("login_failed",), threshold, lambda e: e.target or e.actor)
    return [Finding(k, f"{n} failed log-ins for {k} in the last hour", n) for k, n in found.items()]


def _bulk_exports(ctx: Context, threshold: float) -> list[Finding]:
    """Actors with at least `threshold` exports or deletions in the last hour."""
    actions = ("export", "customer_exported", "customer_deleted", "deletion")
    found = _audit_bursts(ctx, actions, threshold, lambda e: e.actor)
    return [
        Finding(k, f"{k} made {n} exports or deletions in the last hour", n)
        for k, n in found.items()
    ]


def _denied_access(ctx: Context, threshold: float) -> list[Finding]:
    """Callers (by IP, else name) refused at least `threshold` times in the last hour."""
    found = _audit_bursts(
        ctx, ("key_rejected", "access_denied"), threshold, lambda e: e.ip or e.actor
    )
    return [
        Finding(k, f"{n} refused API requests from {k} in the last hour", n)
        for k, n in found.items()
    ]


def _by_key(answer: dict[str, Any]) -> dict[Any, Any]:
    return {row["key"]: row["value"] for row in answer.get("rows", [])}


RULES: dict[str, Rule] = {
    r.id: r
    for r in (
        Rule(
            "system_pulse_red",
            "System Pulse turned red",
            "critical",
            "system.pulse",
            "overall System Pulse status is red",
            0,
            _pulse_red,
            "Check System Pulse and the error logs",
            "Engineering",
            "high",
            0,
        ),
        Rule(
            "error_rate_high",
            "Error rate high",
            "critical",
            "system.error_rate",
            "error rate today > {threshold} %",
            5,
            _error_rate,
            "Investigate the error spike",
            "Engineering",
            "high",
            0,
        ),
        Rule(
            "database_failures",
            "Database failures",
            "critical",
            "system.health_log",
            f">= {{threshold}} database errors or failed database health checks in the last "
            f"{RECENT_MINUTES} minutes",
            1,
            _database_failures,
            "Check the database: connections, slow queries, disk",
            "Engineering",
            "high",
            0,
        ),
        Rule(
            "api_outage",
            "API outage",
            "critical",
            "system.health_log",
            "the API's last {threshold} health check(s) failed",
            1,
            _api_outage,
            "Restore the API and tell the partners",
            "Engineering",
            "high",
            0,
        ),
        Rule(
            "partner_low_credit",
            "Partner low on credits",
            "warning",
            "credits.balance",
            "credits left < {threshold} % of 12 months' purchases",
            10,
            _low_credit,
            "Offer {subject} a credit top-up",
            "Partner Manager",
            "medium",
            3,
        ),
        Rule(
            "high_value_transaction",
            "High-value transaction",
            "opportunity",
            "finance.transactions",
            "credit purchase > ${threshold}",
            500,
            _high_value,
            "Thank the buyer ({subject}) and check the invoice",
            "Finance",
            "low",
            7,
        ),
        Rule(
            "new_partner_application",
            "New partner application",
            "warning",
            "partners.list",
            "a partner has status applied",
            0,
            _applications,
            "Review the application of {subject}",
            "Partner Manager",
            "high",
            1,
        ),
        Rule(
            "failed_logins",
            "Repeated failed log-ins",
            "critical",
            "audit_log",
            ">= {threshold} failed log-ins for one account within an hour",
            5,
            _failed_logins,
            "Check the log-in attempts on {subject}",
            "Engineering",
            "high",
            0,
        ),
        Rule(
            "bulk_exports",
            "Bulk exports or deletions",
            "warning",
            "audit_log",
            ">= {threshold} exports or deletions by one actor within an hour",
            10,
            _bulk_exports,
            "Check the exports and deletions of {subject}",
            "Engineering",
            "high",
            0,
        ),
        Rule(
            "unauthorized_api_access",
            "Unauthorized API access attempts",
            "critical",
            "audit_log",
            ">= {threshold} refused API requests from one caller within an hour",
            10,
            _denied_access,
            "Check the refused requests from {subject}",
            "Engineering",
            "high",
            0,
        ),
        Rule(
            "integration_error_rate",
            "Integration error rate over threshold",
            "critical",
            "integrations.providers",
            "integration error rate > {threshold} %",
            1,
            _integration_errors,
            "Investigate the {subject} error spike",
            "Engineering",
            "high",
            0,
        ),
        Rule(
            "reseller_clients_down",
            "Reseller client count down",
            "warning",
            "agency.reseller_clients",
            "reseller's clients down >= {threshold} % over 30 days",
            20,
            _reseller_clients_down,
            "Schedule a QBR with {subject}",
            "Partner Success",
            "medium",
            7,
        ),
        Rule(
            "elite_affiliate_idle",
            "Elite affiliate without referrals",
            "critical",
            "affiliates.signups",
            "an elite affiliate has <= {threshold} referrals this month",
            0,
            _elite_idle,
            "Reach out to {subject} - check in",
            "Partner Manager",
            "high",
            0,
        ),
        Rule(
            "missed_payment",
            "Missed partner payment",
            "critical",
            "finance.missed_payments",
            "a partner payment failed and is unpaid for >= {threshold} days",
            3,
            _missed_payments,
            "Follow up on the payment of {subject}",
            "Finance",
            "high",
            0,
        ),
        Rule(
            "tier_downgrade_risk",
            "Affiliates at risk of tier downgrade",
            "warning",
            "affiliates.tier_progress",
            "from day {threshold} of the month, power or elite affiliates below their tier's "
            "monthly referral minimum",
            15,
            _tier_at_risk,
            "Run a tier-at-risk activation campaign for {subject} affiliates",
            "Marketing",
            "medium",
            7,
        ),
        Rule(
            "tier_upgrade_near",
            "Affiliate near a tier upgrade",
            "opportunity",
            "affiliates.tier_progress",
            "an affiliate is <= {threshold} referrals this month short of the next tier",
            2,
            _tier_upgrade,
            "Encourage {subject} toward the next tier",
            "Partner Manager",
            "low",
            7,
        ),
        Rule(
            "below_target",
            "Below target",
            "warning",
            "targets.status",
            "a metric is behind its target and under {threshold} % of it",
            100,
            _below_target,
            "Plan a campaign for {subject}",
            "Marketing",
            "medium",
            7,
        ),
    )
}
