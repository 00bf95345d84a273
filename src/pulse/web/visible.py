"""What of a page a principal gets: the sections its role sees, and in them only what it may read.

Fragments refuse what a role may not see (403). Leaving those parts out of the page itself means
a support user gets the operational section and nothing else, never an empty box or a refused
fragment (SPEC §4). A section named like a policy section needs that section; every other
section is kept when something in it is left for the principal.
"""

from __future__ import annotations

from dataclasses import replace

from pulse.access import policy
from pulse.access.policy import Principal
from pulse.metrics import CATALOG
from pulse.web.pages import Page, Section


def for_principal(page: Page, principal: Principal) -> Page:
    """The page narrowed to what the principal may see (sections without content dropped)."""
    kept = (narrow(section, principal) for section in page.sections)
    return replace(page, sections=tuple(s for s in kept if s is not None))


def narrow(section: Section, principal: Principal) -> Section | None:
    """The section with only the ids the principal may read; None when it shows nothing."""
    if section.name in policy.SECTIONS and not policy.sees(principal, section.name):
        return None
    trends = principal.full_plan  # explorer partners: no series, no breakdowns

    def readable(item_id: str) -> bool:
        table = CATALOG.tables.get(item_id)
        per_partner = table.per_partner if table is not None else True
        return policy.may_see_item(principal, item_id, per_partner)

    heatmap = section.heatmap
    narrowed = replace(
        section,
        tiles=tuple(i for i in section.tiles if readable(i)),
        charts=tuple(c for c in section.charts if trends and readable(c.metric)),
        breakdowns=tuple(b for b in section.breakdowns if trends and readable(b.metric)),
        tables=tuple(t for t in section.tables if readable(t.table)),
        heatmap=heatmap if heatmap is not None and readable(heatmap.table) else None,
        benchmarks=tuple(i for i in section.benchmarks if readable(i)),
    )
    return narrowed if narrowed.metric_ids() or narrowed.table_ids() else None
