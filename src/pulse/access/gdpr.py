"""GDPR requests about one customer: export everything stored, or erase the personal part.

Erasure keeps what the numbers need (the pseudonymous id, plan, status, partner, channel, dates)
and erases the rest: personal traits (email, name, …) from the trait history and from the stored
payloads, and personal properties (email, comment, …) of its track messages (the store keeps no
Segment `context`, so no IP or user agent). It then records a
`customer_deleted` event, so customer metrics exclude the customer from then on (SPEC §3).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from pulse.access import audit
from pulse.ingest.pipeline import ingest_messages
from pulse.store.kept import FORGET_ALL
from pulse.store.kept_sql import FORGET_COMPILED
from pulse.store.store import Store

# Customer traits of SPEC §1.2 that metrics read and that do not identify a person.
KEPT_TRAITS = frozenset(
    {"partner_id", "plan_id", "status", "channel", "referred_by", "platform", "created_at"}
    | {"deleted", "entity"}
)
PERSONAL_PROPERTIES = frozenset(
    {
        "email",
        "name",
        "first_name",
        "last_name",
        "firstName",
        "lastName",
        "username",
        "phone",
        "address",
        "birthday",
        "avatar",
        "comment",
        "ip",
    }
)


class UnknownCustomer(KeyError):
    """No data is stored about this customer id."""


def export_customer(
    store: Store, customer_id: str, *, actor: str = "system", ip: str | None = None
) -> dict[str, Any]:
    """Everything stored about a customer: entity, trait history and messages (with payloads)."""
    with store.transaction() as cur:
        entity = _rows(
            cur,
            store,
            "SELECT * FROM entities WHERE entity = 'customer' AND entity_id = ?",
            (customer_id,),
        )
        traits = _rows(
            cur,
            store,
            "SELECT name, value, ts, message_id FROM traits "
            "WHERE entity = 'customer' AND entity_id = ? ORDER BY ts, name",
            (customer_id,),
        )
        events = _rows(
            cur,
            store,
            "SELECT * FROM events WHERE user_id = ? OR target = ? ORDER BY ts, message_id",
            (customer_id, customer_id),
        )
    if not entity and not events:
        raise UnknownCustomer(customer_id)
    for event in events:
        event["payload"] = json.loads(event["payload"]) if event.get("payload") else None
    audit.record(
        store,
        actor=actor,
        action="customer_exported",
        target=f"customer:{customer_id}",
        ip=ip,
        detail={"events": len(events), "traits": len(traits)},
    )
    return {
        "customer_id": customer_id,
        "first_seen": entity[0]["first_seen"] if entity else None,
        "traits": traits,
        "events": events,
    }


def delete_customer(
    store: Store, customer_id: str, *, actor: str = "system", ip: str | None = None
) -> dict[str, int]:
    """Erase a customer's personal data and record `customer_deleted`; counts of what changed."""
    with store.transaction() as cur:
        sql = store.placeholders
        cur.execute(
            sql("SELECT count(*) FROM entities WHERE entity = 'customer' AND entity_id = ?"),
            (customer_id,),
        )
        if not cur.fetchall()[0][0]:
            raise UnknownCustomer(customer_id)
        kept = ", ".join(f"'{name}'" for name in sorted(KEPT_TRAITS))
        cur.execute(
            sql(
                "DELETE FROM traits WHERE entity = 'customer' AND entity_id = ? "
                f"AND name NOT IN ({kept}) RETURNING name"
            ),
            (customer_id,),
        )
        traits = len(cur.fetchall())
        cur.execute(
            sql("SELECT message_id, type, payload FROM events WHERE user_id = ?"), (customer_id,)
        )
        scrubbed = [
            (scrub(p, kind), m) for m, kind, p in cur.fetchall() if p and scrub(p, kind) != p
        ]
        for payload, message_id in scrubbed:
            cur.execute(
                sql("UPDATE events SET payload = ? WHERE message_id = ?"), (payload, message_id)
            )
        store.changed(cur, erasing=True)  # answers listing the customer are stale now
        cur.execute(FORGET_ALL)  # and kept ones go at once
        cur.execute(FORGET_COMPILED)  # with any query naming the customer in a literal
    now = datetime.now(UTC)
    ingest_messages(
        store,
        [
            {
                "type": "track",
                "event": "customer_deleted",
                "userId": customer_id,
                "messageId": f"gdpr-delete:{customer_id}",
                "timestamp": now.isoformat(),
                "properties": {},
            }
        ],
    )
    counts = {"traits_erased": traits, "messages_scrubbed": len(scrubbed)}
    audit.record(
        store,
        actor=actor,
        action="customer_deleted",
        target=f"customer:{customer_id}",
        ip=ip,
        detail=counts,
        now=now,
    )
    return counts


def scrub(payload: str, kind: str) -> str:
    """A stored payload without its personal fields (the text as is when it has none).

    The payload of a track message is its properties: personal ones are dropped; that of an
    identify or group message is its traits: only those metrics need are kept.
    """
    fields = json.loads(payload)
    if not isinstance(fields, dict):
        return payload
    if kind == "track":
        kept = {k: v for k, v in fields.items() if k not in PERSONAL_PROPERTIES}
    else:
        kept = {k: v for k, v in fields.items() if k in KEPT_TRAITS}
    return payload if kept == fields else json.dumps(kept, separators=(",", ":"))


def _rows(cur: Any, store: Store, sql: str, params: tuple[Any, ...]) -> list[dict[str, Any]]:
    cur.execute(store.placeholders(sql), params)
    names = [d[0] for d in cur.description]
    return [{n: _plain(v) for n, v in zip(names, row, strict=True)} for row in cur.fetchall()]


def _plain(value: Any) -> Any:
    """JSON-ready: instants as ISO-8601 UTC, decimals as floats."""
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value
