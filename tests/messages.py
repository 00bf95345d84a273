"""Readable builders for hand-made test datasets of Segment-spec messages."""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

from pulse.ingest.pipeline import ingest_messages
from pulse.metrics import CATALOG
from pulse.metrics.engine import Engine, Query
from pulse.store.store import Store

_ids = itertools.count()


def _stamp(when: str) -> str:
    """'2026-02-03' or '2026-02-03 10:00' → ISO with Z."""
    if len(when) == 10:
        when += " 12:00"
    return when.replace(" ", "T") + ":00Z" if len(when) == 16 else when


def track(
    event: str, when: str, user: str | None = None, group: str | None = None, **props: Any
) -> dict[str, Any]:
    message: dict[str, Any] = {
        "type": "track",
        "messageId": f"t{next(_ids)}",
        "timestamp": _stamp(when),
        "event": event,
        "properties": props,
    }
    if user is not None:
        message["userId"] = user
    if group is not None:
        message["groupId"] = group
    return message


def identify(user: str, when: str, **traits: Any) -> dict[str, Any]:
    return {
        "type": "identify",
        "messageId": f"i{next(_ids)}",
        "timestamp": _stamp(when),
        "userId": user,
        "traits": traits,
    }


def group(group_id: str, when: str, **traits: Any) -> dict[str, Any]:
    return {
        "type": "group",
        "messageId": f"g{next(_ids)}",
        "timestamp": _stamp(when),
        "groupId": group_id,
        "traits": traits,
    }


def load(store: Store, *messages: dict[str, Any]) -> None:
    ingest_messages(store, list(messages))


def ask(
    store: Store, metric: str, as_of: str, window: str = "last_30d", **options: Any
) -> dict[str, Any]:
    """The metric's JSON answer (the same the CLI and API print)."""
    query = Query(metric=metric, as_of=date.fromisoformat(as_of), window=window, **options)
    return Engine(store, CATALOG).evaluate(query)


def value(store: Store, metric: str, as_of: str, window: str = "last_30d", **options: Any) -> Any:
    return ask(store, metric, as_of, window, **options)["value"]


def rows(answer: dict[str, Any]) -> dict[Any, Any]:
    return {row["key"]: row["value"] for row in answer["rows"]}


def plan(plan_id: str, when: str, **traits: Any) -> dict[str, Any]:
    """A plan entity: plan("basic", "2026-01-01", price=30, interval="month")."""
    return group(plan_id, when, entity="plan", **traits)


def fx_rate(currency: str, day: str, rate: float) -> dict[str, Any]:
    """One day's rate from `currency` to the reporting currency (USD)."""
    return group(
        f"fx_{currency}_{day}", day, entity="fx_rate", currency=currency, rate=rate, date=day
    )


def series(answer: dict[str, Any]) -> list[tuple[str, Any]]:
    """The series of an answer as (period, value) pairs."""
    return [(point["period"], point["value"]) for point in answer["series"]]
