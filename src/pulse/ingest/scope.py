"""What a partner's write key may send: its own partner's data only (SPEC §1.1)."""

from __future__ import annotations

from typing import Any

from pulse.ingest.contract import ForbiddenMessages, Rejection

PLATFORM_ENTITIES = ("plan", "fx_rate", "integration", "style")
OWNED_ENTITIES = ("occasion", "experience")


def _check_one(index: int, message: dict[str, Any], partner: str) -> Rejection | None:
    def other(field: str) -> Rejection:
        return Rejection(index, field, f"belongs to another partner than this key's ({partner})")

    kind = message.get("type")
    group = message.get("groupId")
    traits = message.get("traits")
    props = message.get("properties")
    entity = traits.get("entity", "partner") if isinstance(traits, dict) else "partner"
    if kind == "group" and entity in PLATFORM_ENTITIES:
        return Rejection(index, "traits.entity", f"{entity} is platform data; use a platform key")
    if group is not None and group != partner and not (kind == "group" and entity != "partner"):
        return other("groupId")
    if isinstance(props, dict) and props.get("partner_id", partner) != partner:
        return other("properties.partner_id")
    owned = kind == "identify" or (kind == "group" and entity in OWNED_ENTITIES)
    if owned and isinstance(traits, dict) and traits.setdefault("partner_id", partner) != partner:
        return other("traits.partner_id")
    return None


def enforce_partner(messages: list[dict[str, Any]], partner: str) -> list[Rejection]:
    """Rejections for messages outside `partner`; identify/owned entities get its partner_id."""
    found = (_check_one(i, m, partner) for i, m in enumerate(messages) if isinstance(m, dict))
    return [r for r in found if r is not None]


def require_partner(messages: list[Any], partner: str | None) -> None:
    """Raise ForbiddenMessages unless every message is `partner`'s (None: a platform key)."""
    if partner is not None:
        rejections = enforce_partner(messages, partner)
        if rejections:
            raise ForbiddenMessages(rejections)
