"""The partners and experiences a page's pickers offer: ids and names from the store.

A picker lists what exists (entities) with its latest `name` trait, so nobody has to know an
id by heart; a partner principal is offered only its own partner and its own experiences.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

from pulse.access.policy import Principal

ENTITIES = {"partner": "partner", "experience": "experience"}  # page scope → entity kind


@dataclass(frozen=True)
class Choice:
    id: str
    name: str | None
    partner: str | None = None  # the owning partner (experiences)

    @property
    def text(self) -> str:
        return f"{self.name} ({self.id})" if self.name and self.name != self.id else self.id


def everything(store: Any, scope: str) -> list[Choice]:
    """Every choice of the picker of `scope`, by name (remembered until the data changes).

    Its rows are asked as a page's numbers are, so kept in the store: a restart lists a partner
    picker without reading every entity again (a tenth to a fifth of a second at `large`), and
    a view while the refresher reads them again takes the rows read before (`Store.cached`)."""
    entity = ENTITIES[scope]

    def listed() -> list[Choice]:
        read = partial(_read, store, entity)
        rows = store.cached(("web.choices", entity), read, asked=True, stale_ok=True)
        return [Choice(*row) for row in rows]

    found: list[Choice] = store.cached(("web.choice_list", entity), listed, stale_ok=True)
    return found


def choices(store: Any, scope: str, principal: Principal) -> list[Choice]:
    """What the picker of `scope` offers this principal, by name."""
    entity = ENTITIES[scope]
    found = everything(store, scope)
    if principal.partner_id is None:
        return found
    own = principal.partner_id
    if entity == "partner":
        return [c for c in found if c.id == own] or [Choice(own, None)]
    return [c for c in found if c.partner == own]


def resolve(offered: list[Choice], typed: str) -> str | None:
    """The id a typed picker value means: an id as it is, else the one choice whose shown text
    or name it is (case aside); None when it names none or several."""
    if any(c.id == typed for c in offered):
        return typed
    wanted = typed.strip().casefold()
    found = {c.id for c in offered if wanted in (c.text.casefold(), (c.name or "").casefold())}
    return found.pop() if len(found) == 1 else None


def _read(store: Any, entity: str) -> list[tuple[str, str | None, str | None]]:
    """Every entity of the kind with its latest name and partner traits (one query), by name:
    each as (id, name, partner)."""
    store.reads(
        frozenset({("entity", entity), ("trait", entity, "name"), ("trait", entity, "partner_id")})
    )
    rows = store.execute(
        "SELECT e.entity_id, t.name, t.value, t.ts FROM entities e "
        "LEFT JOIN traits t ON t.entity = e.entity AND t.entity_id = e.entity_id "
        "AND t.name IN ('name', 'partner_id') WHERE e.entity = ? ORDER BY t.ts",
        (entity,),
    )
    traits: dict[str, dict[str, str]] = {}
    for entity_id, name, value, _ in rows:
        held = traits.setdefault(str(entity_id), {})
        if name is not None and value is not None:
            held[str(name)] = str(value)  # ordered by time: the latest wins
    rows = [(i, t.get("name"), t.get("partner_id")) for i, t in traits.items()]
    return sorted(rows, key=lambda row: ((row[1] or row[0]).lower(), row[0]))
