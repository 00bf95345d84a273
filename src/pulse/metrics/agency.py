"""agency.* — agency partners of seed 003 §3: referral partners, resellers and white-label.

Referral partners (`kind` referral) refer customers like affiliates do and earn commissions;
resellers (`kind` reseller) own clients who each hold a license (license_activated /
license_cancelled) and pay the platform a license fee (invoice_paid kind=license); white-label
partners (`kind` white_label) pay a platform fee and a fee per seat (seats_changed).

Reseller and white-label clients are invoiced by their partner (`billed_by: "partner"` on their
invoices): those invoices are the partner's revenue, not the platform's. Platform revenue from
these partners is the invoices the partner pays itself (no customer on the event).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import ibis
import pandas as pd

from pulse.metrics.affiliates import (
    by_partner,
    commission_facts,
    left_facts,
    member_facts,
    of_kind,
    partner_traits,
    program_events,
    referred_events,
    while_member,
)
from pulse.metrics.catalog import Balance, Column, Derived, Flow, Metric, Ref, Stock, Table, ratio
from pulse.metrics.customers import open_facts
from pulse.metrics.revenue import payment_facts
from pulse.metrics.source import Source

if TYPE_CHECKING:
    from pulse.metrics.tables import TableContext

REFERRAL = ("referral",)
RESELLER = ("reseller",)
WHITE_LABEL = ("white_label",)
AGENCY_DIMS = ("partner",)


# -- facts --------------------------------------------------------------------------------------


def referral_partner_facts(src: Source) -> ibis.Table:
    return member_facts(src, REFERRAL)


def referral_facts(src: Source) -> ibis.Table:
    return program_events(src, "referral_signed_up", REFERRAL)


def referral_conversion_facts(src: Source) -> ibis.Table:
    return referred_events(src, "converted", REFERRAL)


def referral_commission_facts(src: Source) -> ibis.Table:
    return commission_facts(src, REFERRAL)


def reseller_facts(src: Source) -> ibis.Table:
    return member_facts(src, RESELLER)


def reseller_churn_facts(src: Source) -> ibis.Table:
    return left_facts(src, RESELLER)


def license_facts(src: Source) -> ibis.Table:
    """+1 per license activated, −1 per license cancelled (running sum = active licenses)."""
    on = program_events(src, "license_activated", RESELLER)
    off = program_events(src, "license_cancelled", RESELLER)
    columns = ("ts", "customer_id", "partner_id")
    return ibis.union(
        on.select(*columns, value=ibis.literal(1)),
        off.select(*columns, value=ibis.literal(-1)),
    )


def partner_invoice_facts(
    src: Source, kinds: Sequence[str], invoice_kinds: Sequence[str] | None = None
) -> ibis.Table:
    """Invoices a partner of `kinds` pays the platform itself (no customer on the event),
    optionally only of some invoice kinds, in the reporting currency."""
    events = src.track("invoice_paid")
    events = events.filter(events.user_id.isnull())
    if invoice_kinds is not None:
        events = events.filter(events.kind.isin(tuple(invoice_kinds)))
    events = src.in_reporting_currency(events, "amount")
    events = events.filter(events.amount_rep.notnull())
    facts = events.select(
        "ts",
        customer_id=events.user_id,
        partner_id=ibis.coalesce(events.partner_id, events.group_id),
        value=events.amount_rep,
    )
    return of_kind(src, facts, kinds)


def license_fee_facts(src: Source) -> ibis.Table:
    return partner_invoice_facts(src, RESELLER, ("license",))


def reseller_revenue_facts(src: Source) -> ibis.Table:
    return partner_invoice_facts(src, RESELLER)


def client_revenue_facts(src: Source) -> ibis.Table:
    """What resellers' clients pay (invoices − refunds; billed by the reseller)."""
    money = payment_facts(src)
    return of_kind(src, money.filter(money.customer_id.notnull()), RESELLER)


def reseller_client_facts(src: Source) -> ibis.Table:
    """Resellers' clients while in trial, active or inactive status (customers.open)."""
    return of_kind(src, open_facts(src), RESELLER)


def white_label_facts(src: Source) -> ibis.Table:
    return member_facts(src, WHITE_LABEL)


def seat_facts(src: Source) -> ibis.Table:
    """Each white-label partner's seats from one seats_changed event until the next, while the
    partner is active (a deactivated partner's seats are no longer billed)."""
    changes = src.track("seats_changed")
    events = of_kind(
        src,
        changes.select(
            "ts",
            "message_id",
            "seats",
            partner_id=ibis.coalesce(changes.partner_id, changes.group_id),
        ),
        WHITE_LABEL,
    )
    order = ibis.window(group_by=events.partner_id, order_by=[events.ts, events.message_id])
    seats = events.select(
        "partner_id",
        valid_from=events.ts,
        valid_to=events.ts.lead().over(order),
        value=events.seats,
    )
    return while_member(src, seats, WHITE_LABEL)


def platform_fee_facts(src: Source) -> ibis.Table:
    return partner_invoice_facts(src, WHITE_LABEL, ("platform_fee",))


def seat_revenue_facts(src: Source) -> ibis.Table:
    return partner_invoice_facts(src, WHITE_LABEL, ("seats",))


# -- formulas -----------------------------------------------------------------------------------


def per_partner_month(values: Sequence[float | None], days: int) -> float | None:
    """A window's flow per partner (at the window end), normalised to 30 days."""
    flow, partners = values
    if not partners:
        return None
    return (flow or 0.0) / partners * 30 / days


def margin_per_license(values: Sequence[float | None], days: int) -> float | None:
    """(client revenue − license fees) / active licenses at the end, per 30 days."""
    client, fees, licenses = values
    if not licenses:
        return None
    return ((client or 0.0) - (fees or 0.0)) / licenses * 30 / days


# -- tables -------------------------------------------------------------------------------------


def _per_partner_table(
    ctx: TableContext, base: str, columns: dict[str, str], order: str
) -> pd.DataFrame:
    """One row per partner of the base stock metric (or with any value), catalog values."""
    answers = {name: by_partner(ctx, metric) for name, metric in columns.items()}
    ids = sorted({*by_partner(ctx, base), *(k for a in answers.values() for k in a)})
    names = partner_traits(ctx, "name").set_index("partner_id")["name"]
    rows = []
    for pid in ids:
        row: dict[str, Any] = {"partner_id": pid, "name": names.get(pid)}
        for name, answer in answers.items():
            found = answer.get(pid)
            row[name] = None if found is None else found["value"]
        rows.append(row)
    frame = pd.DataFrame(rows, columns=["partner_id", "name", *columns])
    return frame.sort_values([order, "partner_id"], ascending=[False, True], kind="stable")


def _referral_partners(ctx: TableContext) -> pd.DataFrame:
    frame = _per_partner_table(
        ctx,
        "agency.referral_partners",
        {
            "referrals": "agency.referrals",
            "conversions": "agency.referral_conversions",
            "conversion_rate": "agency.referral_conversion_rate",
            "commission": "agency.referral_commissions",
        },
        "referrals",
    )
    for name in ("referrals", "conversions", "commission"):
        frame[name] = frame[name].fillna(0)
    return frame


def _resellers(ctx: TableContext) -> pd.DataFrame:
    frame = _per_partner_table(
        ctx,
        "agency.resellers",
        {
            "clients": "agency.reseller_clients",
            "active_licenses": "agency.active_licenses",
            "revenue": "agency.reseller_revenue",
            "margin": "agency.margin_per_license",
        },
        "revenue",
    )
    for name in ("clients", "active_licenses", "revenue"):
        frame[name] = frame[name].fillna(0)
    return frame


def _white_label(ctx: TableContext) -> pd.DataFrame:
    frame = _per_partner_table(
        ctx,
        "agency.white_label_partners",
        {
            "seats": "agency.seats",
            "platform_fee": "agency.platform_revenue",
            "seat_revenue": "agency.seat_revenue",
        },
        "seats",
    )
    return frame.fillna({"seats": 0, "platform_fee": 0, "seat_revenue": 0})


def _partner_columns(*columns: Column) -> tuple[Column, ...]:
    return (Column("partner_id", "Partner", "text"), Column("name", "Name", "text"), *columns)


METRICS: tuple[Metric | Table, ...] = (
    # -- referral partners
    Metric(
        "agency.referral_partners",
        "Referral partners",
        "Partners of kind referral whose status is active (approved, not deactivated) as of "
        "the window end.",
        "count",
        Stock(referral_partner_facts),
        dims=AGENCY_DIMS,
    ),
    Metric(
        "agency.referrals",
        "Referral-partner referrals",
        "Sign-ups referred by referral partners (referral_signed_up) in the window.",
        "count",
        Flow(referral_facts),
        dims=AGENCY_DIMS,
        listed=False,
    ),
    Metric(
        "agency.referral_conversions",
        "Referral-partner conversions",
        "Customers referred by referral partners who became paying in the window (converted).",
        "count",
        Flow(referral_conversion_facts),
        dims=AGENCY_DIMS,
        listed=False,
    ),
    Metric(
        "agency.referral_commissions",
        "Referral-partner commissions",
        "Commissions earned by referral partners in the window (commission_earned).",
        "money",
        Flow(referral_commission_facts),
        direction="none",
        dims=AGENCY_DIMS,
        listed=False,
    ),
    Metric(
        "agency.referrals_per_partner",
        "Referrals per referral partner",
        "Referral-partner sign-ups in the window / referral partners at its end, per 30 days "
        "(seed 003 target: 5 a month). Low: run an activation campaign.",
        "count",
        Derived((Ref("agency.referrals"), Ref("agency.referral_partners")), per_partner_month),
        dims=AGENCY_DIMS,
    ),
    Metric(
        "agency.referral_conversion_rate",
        "Referral conversion rate",
        "Conversions of customers referred by referral partners / their referral sign-ups in "
        "the window × 100 (seed 003 target: 35 %).",
        "percent",
        ratio(Ref("agency.referral_conversions"), Ref("agency.referrals")),
        dims=AGENCY_DIMS,
    ),
    Metric(
        "agency.commission_per_partner",
        "Commission per referral partner",
        "Commissions earned by referral partners in the window / referral partners at its end, "
        "per 30 days (seed 003 target: $200 a month).",
        "money_per_month",
        Derived(
            (Ref("agency.referral_commissions"), Ref("agency.referral_partners")),
            per_partner_month,
        ),
        direction="none",
        dims=AGENCY_DIMS,
    ),
    # -- resellers
    Metric(
        "agency.resellers",
        "Reseller partners",
        "Partners of kind reseller whose status is active as of the window end.",
        "count",
        Stock(reseller_facts),
        dims=AGENCY_DIMS,
    ),
    Metric(
        "agency.active_licenses",
        "Active licenses",
        "Reseller licenses activated minus cancelled, all time up to the window end.",
        "count",
        Balance(license_facts),
        dims=AGENCY_DIMS,
    ),
    Metric(
        "agency.licenses_per_partner",
        "Licenses per reseller",
        "Active licenses / reseller partners at the window end (seed 003 target: 10).",
        "count",
        ratio(Ref("agency.active_licenses"), Ref("agency.resellers"), scale=1),
        dims=AGENCY_DIMS,
    ),
    Metric(
        "agency.reseller_client_revenue",
        "Reseller client billings",
        "What resellers' clients paid in the window (invoices − refunds; billed by the "
        "reseller, not platform revenue).",
        "money",
        Flow(client_revenue_facts),
        dims=AGENCY_DIMS,
        listed=False,
    ),
    Metric(
        "agency.license_fees",
        "License fees",
        "License fees resellers paid the platform in the window (invoice_paid kind=license).",
        "money",
        Flow(license_fee_facts),
        dims=AGENCY_DIMS,
        listed=False,
    ),
    Metric(
        "agency.reseller_revenue",
        "Revenue from resellers",
        "Invoices resellers paid the platform themselves in the window (license fees, credit "
        "packs), in the reporting currency.",
        "money",
        Flow(reseller_revenue_facts),
        dims=AGENCY_DIMS,
        listed=False,
    ),
    Metric(
        "agency.margin_per_license",
        "Margin per license",
        "The reseller's margin: what its clients paid it (invoices − refunds) minus the "
        "license fees it paid the platform in the window, / active licenses at the window end, "
        "per 30 days (seed 003 target: $100 a month). Low: review license pricing.",
        "money_per_month",
        Derived(
            (
                Ref("agency.reseller_client_revenue"),
                Ref("agency.license_fees"),
                Ref("agency.active_licenses"),
            ),
            margin_per_license,
        ),
        dims=AGENCY_DIMS,
    ),
    Metric(
        "agency.reseller_churned",
        "Resellers deactivated",
        "Reseller partners deactivated in the window.",
        "count",
        Flow(reseller_churn_facts),
        direction="down",
        dims=AGENCY_DIMS,
        listed=False,
    ),
    Metric(
        "agency.reseller_churn_rate",
        "Reseller churn rate",
        "Resellers deactivated in the window / resellers active at its start × 100 (seed 003 "
        "target: 3 % a month). Top reason: client churn — offer client success support.",
        "percent",
        ratio(Ref("agency.reseller_churned"), Ref("agency.resellers", at="start")),
        direction="down",
        dims=AGENCY_DIMS,
    ),
    Metric(
        "agency.reseller_clients",
        "Reseller clients",
        "Customers of reseller partners in trial, active or inactive status as of the window "
        "end (deleted, cancelled and churned clients excluded).",
        "count",
        Stock(reseller_client_facts),
        dims=AGENCY_DIMS,
    ),
    # -- white-label
    Metric(
        "agency.white_label_partners",
        "White-label partners",
        "Partners of kind white_label whose status is active as of the window end.",
        "count",
        Stock(white_label_facts),
        dims=AGENCY_DIMS,
    ),
    Metric(
        "agency.seats",
        "White-label seats",
        "Seats of white-label partners as of the window end (each partner's latest seats_changed).",
        "count",
        Stock(seat_facts),
        dims=AGENCY_DIMS,
    ),
    Metric(
        "agency.seats_per_partner",
        "Seats per white-label partner",
        "White-label seats / white-label partners at the window end (seed 003 target: 100).",
        "count",
        ratio(Ref("agency.seats"), Ref("agency.white_label_partners"), scale=1),
        dims=AGENCY_DIMS,
    ),
    Metric(
        "agency.platform_revenue",
        "White-label platform revenue",
        "Platform fees white-label partners paid in the window (invoice_paid kind=platform_fee).",
        "money",
        Flow(platform_fee_facts),
        dims=AGENCY_DIMS,
    ),
    Metric(
        "agency.seat_revenue",
        "White-label seat revenue",
        "Seat fees white-label partners paid in the window (invoice_paid kind=seats).",
        "money",
        Flow(seat_revenue_facts),
        dims=AGENCY_DIMS,
    ),
    # -- tables
    Table(
        "agency.referral_partner_list",
        "Referral partners",
        "Per referral partner (active at the window end or with activity in it): referrals, "
        "conversions, conversion rate and commissions in the window.",
        _partner_columns(
            Column("referrals", "Referrals"),
            Column("conversions", "Conversions"),
            Column("conversion_rate", "Conversion rate", "percent"),
            Column("commission", "Commissions", "money"),
        ),
        _referral_partners,
        per_partner=True,
    ),
    Table(
        "agency.reseller_list",
        "Reseller partners",
        "Per reseller: clients and active licenses at the window end, revenue it paid the "
        "platform in the window and its margin per license (per 30 days).",
        _partner_columns(
            Column("clients", "Clients"),
            Column("active_licenses", "Active licenses"),
            Column("revenue", "Revenue", "money"),
            Column("margin", "Margin per license", "money_per_month"),
        ),
        _resellers,
        per_partner=True,
    ),
    Table(
        "agency.white_label",
        "White-label partners",
        "Per white-label partner: seats at the window end, platform and seat fees paid in the "
        "window.",
        _partner_columns(
            Column("seats", "Seats"),
            Column("platform_fee", "Platform fee", "money"),
            Column("seat_revenue", "Seat revenue", "money"),
        ),
        _white_label,
        per_partner=True,
    ),
)
