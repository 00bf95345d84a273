"""What each role gets on a dashboard page (SPEC §4), over HTTP: only the sections it may see,
in them only what it may read, every fragment of the page answering 200 (never a 403 box);
and the partner / experience pickers offering what the principal may choose."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from markupsafe import escape

from browser import AS_OF, Site, demo_store_fixture, site_fixture  # noqa: F401
from pulse.access import keys

FRAGMENT = re.compile(r'data-(?:tiles|fragment|chart)="([^"]+)"')
SECTION = re.compile(r'data-section="([^"]+)"')
PROGRAM = ["summary", "affiliates", "agency", "integrations", "financials", "operational"]
PROGRAM += ["growth", "alerts"]


@pytest.fixture(scope="module")
def as_role(site: Site) -> Iterator[Any]:
    """A client signed in with a read key of a role (and partner, for partner keys)."""
    opened: list[httpx.Client] = []

    def client(role: str, partner_id: str | None = None) -> httpx.Client:
        key = keys.create(site.store, role=role, scopes={"read"}, partner_id=partner_id)
        headers = {"Authorization": f"Bearer {key}"}
        opened.append(httpx.Client(base_url=site.base, headers=headers, timeout=120))
        return opened[-1]

    yield client
    for each in opened:
        each.close()


def sections(page: str) -> list[str]:
    return SECTION.findall(page)


def fragments(page: str) -> list[str]:
    return [html.unescape(url) for url in FRAGMENT.findall(page)]


def assert_fragments_answer(client: httpx.Client, page: str) -> None:
    """Every tile batch, table and chart the page will fetch is allowed for the role."""
    urls = fragments(page)
    assert urls
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, (url, response.text[:200])


def first_partner(site: Site, plan: str) -> str:
    """The first partner (by id) whose only `plan` trait is `plan`."""
    rows = site.store.execute(
        "SELECT entity_id FROM traits WHERE entity = 'partner' AND name = 'plan' "
        "GROUP BY entity_id HAVING min(value) = ? AND max(value) = ? ORDER BY entity_id LIMIT 1",
        (plan, plan),
    )
    return str(rows[0][0])


# -- section hiding per role -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "shown"),
    [
        ("platform_admin", PROGRAM),
        ("executive", PROGRAM),
        # everything but financials (the summary and growth sections stay, minus money items)
        ("partner_manager", [s for s in PROGRAM if s != "financials"]),
        ("marketing", ["affiliates", "agency", "integrations"]),
        ("support", ["operational"]),
    ],
)
def test_program_shows_only_the_sections_of_the_role(
    as_role: Any, role: str, shown: list[str]
) -> None:
    page = as_role(role).get("/program", params={"as_of": AS_OF})
    assert page.status_code == 200
    assert sections(page.text) == shown
    for hidden in set(PROGRAM) - set(shown):  # not even a tab pointing at it
        assert f'href="#{hidden}"' not in page.text


@pytest.mark.parametrize("role", ["support", "marketing", "partner_manager"])
def test_every_fragment_of_the_page_is_allowed_for_the_role(as_role: Any, role: str) -> None:
    client = as_role(role)
    page = client.get("/program", params={"as_of": AS_OF}).text
    assert_fragments_answer(client, page)


def test_partner_manager_gets_no_financial_item_in_shared_sections(as_role: Any) -> None:
    page = as_role("partner_manager").get("/program", params={"as_of": AS_OF}).text
    # summary keeps its partner counts but loses the partner-revenue tiles (finance.*)
    assert 'data-metric="partners.total"' in page
    assert "finance." not in page
    # growth keeps the partner chart and forecast, not the partner revenue chart
    assert "/web/charts/partners.total?" in page
    assert "/web/charts/finance.partner_revenue" not in page


def test_pages_of_other_sections_stay_refused(as_role: Any) -> None:
    client = as_role("support")
    for path in ("/partner", "/admin", "/experiences"):
        assert client.get(path, params={"as_of": AS_OF}).status_code == 403


def test_explorer_partner_sees_basic_counts_without_trends(as_role: Any, site: Site) -> None:
    """Explorer plan: customer counts and credit usage only, no series, no breakdowns. The
    explorer window is checked against today, so this page reads the default period."""
    partner = first_partner(site, "explorer")
    client = as_role("partner", partner)
    page = client.get("/partner").text
    assert sections(page) == ["customers", "credits"]
    tiles = re.findall(r'data-metric="([^"]+)"', page)
    assert sorted(tiles) == sorted(
        [
            "customers.total",
            "customers.active",
            "customers.new",
            "credits.balance",
            "credits.purchased",
            "credits.allocated",
            "credits.consumed",
        ]
    )
    assert "/web/charts/" not in page and "/web/breakdowns/" not in page
    assert_fragments_answer(client, page)


def test_full_plan_partner_sees_every_partner_section(as_role: Any, site: Site) -> None:
    partner = first_partner(site, "enterprise")
    page = as_role("partner", partner).get("/partner", params={"as_of": AS_OF}).text
    assert sections(page) == ["key_metrics", "customers", "credits", "business"]


# -- pickers ---------------------------------------------------------------------------------


def options(page: str, name: str) -> list[tuple[str, str]]:
    """(value, text) of each option of the picker `name`."""
    found = re.search(rf'<select name="{name}" data-scope-picker>(.*?)</select>', page, re.S)
    assert found, name
    pairs = re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', found.group(1))
    return [(html.unescape(v), html.unescape(t)) for v, t in pairs]


def named(site: Site, entity: str) -> dict[str, str]:
    """id → latest name of every entity of the kind, straight from the store."""
    rows = site.store.execute(
        "SELECT e.entity_id, (SELECT t.value FROM traits t WHERE t.entity = e.entity "
        "AND t.entity_id = e.entity_id AND t.name = 'name' ORDER BY t.ts DESC LIMIT 1) "
        "FROM entities e WHERE e.entity = ?",
        (entity,),
    )
    return {str(i): str(n) if n is not None else str(i) for i, n in rows}


def test_staff_pick_any_partner_by_name(site: Site, as_role: Any) -> None:
    page = as_role("platform_admin").get("/partner", params={"as_of": AS_OF}).text
    offered = options(page, "partner")
    assert offered[0] == ("", "All")
    names = named(site, "partner")
    assert sorted(v for v, _ in offered[1:]) == sorted(names)
    for value, text in offered[1:]:
        assert text == (f"{names[value]} ({value})" if names[value] != value else value)
    assert [t.lower() for _, t in offered[1:]] == sorted(t.lower() for _, t in offered[1:])


def test_the_chosen_partner_is_selected_and_kept_in_links(site: Site, as_role: Any) -> None:
    partner = first_partner(site, "growth")
    page = as_role("executive").get("/partner", params={"as_of": AS_OF, "partner": partner}).text
    assert f'<option value="{partner}" selected>' in page
    assert f"/web/tiles?window=last_30d&amp;as_of={AS_OF}&amp;partner={partner}&amp;" in page


def test_a_partner_is_offered_only_itself_and_its_experiences(site: Site, as_role: Any) -> None:
    owners = site.store.execute(
        "SELECT value, count(*) FROM traits WHERE entity = 'experience' AND name = 'partner_id' "
        "GROUP BY value ORDER BY count(*) DESC, value LIMIT 1"
    )
    partner, count = str(owners[0][0]), int(owners[0][1])
    client = as_role("partner", partner)
    page = client.get("/partner", params={"as_of": AS_OF}).text
    assert [v for v, _ in options(page, "partner")] == [partner]  # no "All", no other partner
    page = client.get("/experiences", params={"as_of": AS_OF}).text
    own = site.store.execute(
        "SELECT entity_id FROM traits WHERE entity = 'experience' AND name = 'partner_id' "
        "AND value = ? ORDER BY entity_id",
        (partner,),
    )
    offered = options(page, "experience")
    assert offered[0] == ("", "All")
    assert sorted(v for v, _ in offered[1:]) == [str(r[0]) for r in own]
    assert len(offered) == count + 1


def test_staff_pick_any_experience(site: Site, as_role: Any) -> None:
    page = as_role("platform_admin").get("/experiences", params={"as_of": AS_OF}).text
    offered = options(page, "experience")
    assert sorted(v for v, _ in offered[1:]) == sorted(named(site, "experience"))


def test_an_unknown_id_in_the_url_stays_selected(as_role: Any) -> None:
    page = as_role("platform_admin").get("/partner", params={"partner": "p_nobody"}).text
    assert '<option value="p_nobody" selected>p_nobody</option>' in page


def test_the_heading_names_the_chosen_partner(site: Site, as_role: Any) -> None:
    partner = first_partner(site, "growth")
    name = named(site, "partner")[partner]
    page = as_role("executive").get("/partner", params={"as_of": AS_OF, "partner": partner}).text
    assert f'<small data-chosen="partner">· {escape(name)} ({partner})</small>' in page
    page = as_role("executive").get("/partner", params={"as_of": AS_OF, "partner": "p_x"}).text
    assert '<small data-chosen="partner">· partner p_x</small>' in page


def test_explorer_partners_are_offered_only_periods_of_the_last_30_days(
    site: Site, as_role: Any
) -> None:
    page = as_role("partner", first_partner(site, "explorer")).get("/partner").text
    found = re.search(r'<select name="window" data-window>(.*?)</select>', page, re.S)
    assert found
    assert re.findall(r'<option value="([^"]+)"', found.group(1)) == ["last_30d", "this_month"]


def test_a_typed_partner_name_redirects_to_its_id(site: Site, as_role: Any) -> None:
    partner = first_partner(site, "starter")
    name = named(site, "partner")[partner]
    client = as_role("executive")
    params = {"window": "last_3m", "as_of": AS_OF, "partner": name}
    response = client.get("/partner", params=params, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == (
        f"/partner?window=last_3m&as_of={AS_OF}&partner={partner}"
    )
    unknown = client.get("/partner", params={"partner": "no such partner"})
    assert unknown.status_code == 200  # kept as typed: numbers for nobody, not an error


def test_many_choices_become_a_text_box_with_suggestions(
    site: Site, as_role: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pulse.web import routes

    monkeypatch.setattr(routes, "PICKER_SELECT_MAX", 10)  # the demo has 31 partners
    partner = first_partner(site, "growth")
    names = named(site, "partner")
    page = as_role("executive").get("/partner", params={"as_of": AS_OF, "partner": partner}).text
    assert '<select name="partner"' not in page
    shown = f"{escape(names[partner])} ({partner})"
    assert f'name="partner" list="choices-partner" value="{shown}"' in page
    found = re.search(r'<datalist id="choices-partner">(.*?)</datalist>', page, re.S)
    assert found
    assert len(re.findall(r"<option value=", found.group(1))) == len(names)
