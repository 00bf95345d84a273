"""The ingestion contract (SPEC §1): which fields a message needs and how properties are typed.

Kept as plain data so the validator, the docs and the tests read the same rules.
"""

from __future__ import annotations

from dataclasses import dataclass

MESSAGE_TYPES = ("track", "identify", "group")
MAX_BATCH_MESSAGES = 500
MAX_BATCH_BYTES = 1024 * 1024

# Envelope fields of a Segment-spec message, as they appear in JSON.
ENVELOPE = ("type", "messageId", "timestamp", "userId", "groupId", "event", "properties", "traits")


@dataclass(frozen=True)
class Column:
    """A property promoted to a typed column of the events table."""

    name: str  # column name in the store
    prop: str  # property name in the message
    sql_type: str  # portable SQL type (DuckDB and PostgreSQL)
    json_type: str  # DuckDB json_transform type used to parse it


def _text(name: str, prop: str | None = None) -> Column:
    return Column(name, prop or name, "VARCHAR", "VARCHAR")


def _number(name: str, sql_type: str = "DOUBLE PRECISION") -> Column:
    return Column(name, name, sql_type, "DOUBLE")


# Properties every metric reads often get their own column; everything else stays in `payload`.
PROPERTY_COLUMNS: tuple[Column, ...] = (
    _text("partner_id"),
    Column("amount", "amount", "DECIMAL(18,4)", "DOUBLE"),
    _text("currency"),
    _number("credits"),
    Column("mrr", "mrr", "DECIMAL(18,4)", "DOUBLE"),
    _text("plan_id"),
    _text("subscription_id"),
    _text("kind"),
    _text("source"),
    _text("status"),
    _text("target", "to"),
    _text("style_id"),
    _text("occasion_id"),
    _text("experience_id"),
    _text("module"),
    _text("role"),
    _text("channel"),
    _text("level"),
    _text("field"),
    _text("provider"),
    _text("ticket_id"),
    _number("score"),
    _number("csat"),
    Column("ok", "ok", "BOOLEAN", "BOOLEAN"),
    _number("duration_ms"),
    _number("seats"),
)
PROPERTY_BY_NAME = {c.prop: c for c in PROPERTY_COLUMNS}

# Enumerations of SPEC §1.3, checked when the property is present.
ENUMS: dict[str, tuple[str, ...]] = {
    "kind@invoice_paid": ("subscription", "credits", "platform_fee", "seats", "license"),
    "source@credits_consumed": ("generation", "message", "other"),
    "status@generation_created": ("succeeded", "failed", "deleted"),
    "role@message_sent": ("user", "bot"),
    "channel@opt_in_asked": ("web_push", "reminder"),
    "channel@opted_in": ("web_push", "reminder"),
    "level@opted_in": ("single", "double"),
    "channel@shared": ("facebook", "email", "native", "twitter", "whatsapp"),
    "kind@commission_earned": ("recurring", "milestone", "flat"),
}

# Numeric ranges (inclusive) of SPEC §1.3.
RANGES: dict[str, tuple[float, float]] = {
    "score@nps_submitted": (0, 10),
    "csat@ticket_resolved": (1, 5),
}

# Required properties per track event (SPEC §1.3). Unknown events are custom and accepted as-is.
REQUIRED: dict[str, tuple[str, ...]] = {
    "subscription_started": ("plan_id",),
    "subscription_changed": ("plan_id",),
    "subscription_cancelled": (),
    "invoice_paid": ("amount", "kind"),
    "payment_failed": ("amount",),
    "refund_issued": ("amount",),
    "credits_purchased": ("credits", "amount"),
    "credits_allocated": ("credits", "to"),
    "credits_consumed": ("credits", "source"),
    "credits_expired": ("credits",),
    "generation_created": ("style_id", "occasion_id", "status"),
    "chat_opened": ("experience_id",),
    "message_sent": ("experience_id", "role"),
    "button_clicked": ("experience_id",),
    "module_viewed": ("experience_id", "module"),
    "signed_up": (),
    "opt_in_asked": ("channel",),
    "opted_in": ("channel", "level"),
    "shared": ("channel",),
    "nps_submitted": ("score",),
    "data_entered": ("field",),
    "status_changed": ("to",),
    "tier_changed": ("to",),
    "referral_clicked": ("partner_id",),
    "referral_signed_up": ("partner_id",),
    "converted": ("amount",),
    "commission_earned": ("partner_id", "amount", "kind"),
    "payout_sent": ("partner_id", "amount"),
    "license_activated": ("partner_id",),
    "license_cancelled": ("partner_id",),
    "seats_changed": ("partner_id", "seats"),
    "integration_connected": ("provider",),
    "integration_synced": ("provider", "ok"),
    "ticket_opened": ("ticket_id",),
    "ticket_first_response": ("ticket_id",),
    "ticket_resolved": ("ticket_id",),
    "ticket_escalated": ("ticket_id",),
    "onboarding_started": ("partner_id",),
    "onboarding_completed": ("partner_id",),
    "health_check": ("ok",),
    "error_logged": ("source",),
    "spend_recorded": ("channel", "amount"),
}

# Typed traits: (entity, trait) -> "timestamp" | "number" | "date". Checked at ingestion so that
# metric queries can cast them safely on every engine; timestamps are stored as UTC text.
TYPED_TRAITS: dict[tuple[str, str], str] = {
    ("customer", "created_at"): "timestamp",
    ("partner", "created_at"): "timestamp",
    ("occasion", "starts_at"): "timestamp",
    ("plan", "price"): "number",
    ("plan", "credits_included"): "number",
    ("plan", "cost_per_credit"): "number",
    ("fx_rate", "rate"): "number",
    ("fx_rate", "date"): "date",
}

# Track events that change an entity trait:
# event -> (entity, trait, fixed value, or None for the value of properties.to).
TRAIT_EVENTS: dict[str, tuple[str, str, str | None]] = {
    "status_changed": ("customer", "status", None),
    "partner_applied": ("partner", "status", "applied"),
    "partner_approved": ("partner", "status", "active"),
    "partner_deactivated": ("partner", "status", "deactivated"),
    "tier_changed": ("partner", "program_tier", None),
    "customer_deleted": ("customer", "deleted", "true"),
}
# Billing events whose plan_id becomes the customer's plan from that moment.
PLAN_EVENTS = ("subscription_started", "subscription_changed")

ENTITY_KINDS = (
    "partner",
    "customer",
    "plan",
    "experience",
    "style",
    "occasion",
    "integration",
    "fx_rate",
)


@dataclass(frozen=True)
class Rejection:
    """Why one message was refused: its position (0-based index or file line) and the field."""

    index: int
    field: str
    message: str

    def as_dict(self) -> dict[str, object]:
        return {"index": self.index, "field": self.field, "message": self.message}


class RejectedBatch(ValueError):
    """A batch with at least one invalid message; nothing of it is stored."""

    def __init__(self, rejections: list[Rejection], where: str = "message") -> None:
        self.rejections = rejections
        first = rejections[0]
        super().__init__(f"{where} {first.index}: {first.field}: {first.message}")


class ForbiddenMessages(RejectedBatch):
    """A batch with messages outside the sender's partner scope."""
