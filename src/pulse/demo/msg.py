"""Message builders shared by every generator.

Generators yield `(epoch_seconds, message)` pairs; the stream in `__init__` formats the
timestamp, assigns the messageId and drops anything outside the window. Keeping the epoch as an
int until the very end avoids datetime work per message and makes the window rule one check.
"""

from __future__ import annotations

from typing import Any

Props = dict[str, Any]
Item = tuple[int, dict[str, Any]]


def track(t: int, uid: str, event: str, props: Props) -> Item:
    """A customer-level track event."""
    return t, {
        "type": "track",
        "messageId": "",
        "timestamp": "",
        "userId": uid,
        "event": event,
        "properties": props,
    }


def track_ug(t: int, uid: str, gid: str, event: str, props: Props) -> Item:
    """A customer event that also names the partner the customer belongs to."""
    return t, {
        "type": "track",
        "messageId": "",
        "timestamp": "",
        "userId": uid,
        "groupId": gid,
        "event": event,
        "properties": props,
    }


def track_g(t: int, gid: str, event: str, props: Props) -> Item:
    """A partner-level (or platform-level) track event: groupId and no userId."""
    return t, {
        "type": "track",
        "messageId": "",
        "timestamp": "",
        "groupId": gid,
        "event": event,
        "properties": props,
    }


def track_c(t: int, uid: str, gid: str | None, event: str, props: Props) -> Item:
    """A customer event, with the customer's partner as groupId when it has one."""
    if gid is None:
        return track(t, uid, event, props)
    return track_ug(t, uid, gid, event, props)


def identify(t: int, uid: str, traits: Props) -> Item:
    """A customer trait change (full traits at creation, only the changed ones later)."""
    return t, {
        "type": "identify",
        "messageId": "",
        "timestamp": "",
        "userId": uid,
        "traits": traits,
    }


def group(t: int, gid: str, traits: Props) -> Item:
    """A partner or catalog entity (plan, style, occasion, ...) trait change."""
    return t, {"type": "group", "messageId": "", "timestamp": "", "groupId": gid, "traits": traits}
