"""PDF snapshot of a dashboard page (GET /api/v1/exports/page/{page}, `pulse export page:NAME`):
tiles equal to the metrics API's answers, charts drawn as vectors, sections narrowed to the
caller's role, partner data only its own, audited. The PDF's text is extracted (pypdf) and its
first page rendered to PNG (pypdfium2) into test-artifacts/."""

from __future__ import annotations

import io
import re
from dataclasses import replace

import httpx
import pypdf
import pypdfium2
from typer.testing import CliRunner

from messages import load
from pulse.access import audit, keys
from pulse.cli import app as cli_app
from pulse.exports.page import page_html
from pulse.metrics import CATALOG
from pulse.web.format import format_value
from pulse.web.pages import PARTNER
from pulse.web.scope import Scope
from test_exports import ARTIFACTS, AS_OF, FEB, api_fixture, world  # noqa: F401

SCOPE = Scope(FEB, AS_OF, "UTC", as_of_given=True)  # the period the PDF requests ask for

PARAMS = {"as_of": "2026-02-28", "window": FEB, "format": "pdf"}


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)


def raster_images(pdf: bytes) -> int:
    return sum(len(page.images) for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)


def shown_tiles(html: str) -> dict[str, str]:
    """metric id → the value a tile of the snapshot shows."""
    found = re.findall(
        r'data-metric="([^"]+)">\s*<div class="label">[^<]*</div>\s*<div class="value">([^<]*)<',
        html,
    )
    return dict(found)


def test_page_pdf_tiles_equal_the_api_and_charts_are_vectors(api, store, monkeypatch):
    client, auth = api
    response = client.get("/api/v1/exports/page/partner", params=PARAMS, headers=auth["admin"])
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert 'filename="page-partner-2026-02-28.pdf"' in response.headers["content-disposition"]
    pdf = response.content
    text = pdf_text(pdf)
    html = page_html(store, PARTNER, SCOPE, "USD")
    tiles = shown_tiles(html)
    wanted = [m for s in PARTNER.sections for m in s.tiles if m in CATALOG.metrics]
    assert sorted(tiles) == sorted(set(wanted))
    for metric_id in tiles:
        answer = client.get(
            f"/api/v1/metrics/{metric_id}",
            params={"as_of": "2026-02-28", "window": FEB},
            headers=auth["admin"],
        ).json()
        metric = CATALOG.get(metric_id)
        expected = format_value(answer["value"], metric.unit)
        assert tiles[metric_id] == expected, metric_id  # the tile shows the API's number
        assert metric.label in text and expected in text
    # hand-worked: February credits purchased 1,000, allocated 300, consumed 2; three customers
    assert (tiles["credits.purchased"], tiles["credits.allocated"]) == ("1,000", "300")
    assert (tiles["credits.consumed"], tiles["customers.total"]) == ("2", "3")
    # every chart is inline SVG, drawn as vector paths and text: no raster image in the PDF, and
    # the chart titles (text inside the SVG) are in the PDF's text
    charts = sum(len(s.charts) + len(s.breakdowns) for s in PARTNER.sections)
    assert html.count("<svg") == charts == 9
    assert raster_images(pdf) == 0
    assert "Credits consumed (cumulated)" in text and "Revenue (cumulated)" in text
    for section in PARTNER.sections:
        assert section.title in text
    ARTIFACTS.mkdir(exist_ok=True)
    image = pypdfium2.PdfDocument(pdf)[0].render(scale=1.5).to_pil()
    image.save(ARTIFACTS / f"export_page_partner_{store.engine}.png")
    assert image.size[0] > 800
    assert image.convert("L").getextrema()[0] < 100  # not a blank page
    logged = audit.entries(store, action="export")
    assert [(e.target, e.detail["format"]) for e in logged] == [("page:partner", "pdf")]
    assert logged[0].detail["sections"] == [s.name for s in PARTNER.sections]
    # tables are cut at the PDF row cap: customer usage segments has 4 rows (high, medium, low,
    # inactive); with a cap of 2 the snapshot shows the first two and says so
    monkeypatch.setattr("pulse.exports.page.PDF_ROWS", 2)
    cut = page_html(store, PARTNER, SCOPE, "USD")
    segments = cut[cut.index("<h3>Customer usage segments</h3>") :]
    segments = segments[: segments.index("</table>")]
    assert segments.count("<tr>") == 3  # the header and two rows
    assert "First 2 rows; the CSV and Excel exports carry every row." in cut


def test_page_pdf_access(api, store):
    client, auth = api

    def get(page: str, who: str, **params: str) -> httpx.Response:
        return client.get(
            f"/api/v1/exports/page/{page}", params={**PARAMS, **params}, headers=auth[who]
        )

    # support sees the operational section of the program page only, and not the admin page
    support = get("program", "support")
    assert support.status_code == 200, support.text
    text = pdf_text(support.content)
    assert "Operations" in text and "Average first response time (h)" in text
    assert "Executive summary" not in text and "Affiliate program" not in text
    assert "Financial" not in text and "Alerts & action items" not in text
    assert get("admin", "support").status_code == 403
    denied = audit.entries(store, action="access_denied")
    assert [(e.actor, e.target) for e in denied] == [
        (support_actor(store), "/api/v1/exports/page/admin")
    ]
    # a starter partner gets its own data: of the three customers, c1 of p1 only
    own = get("partner", "starter")
    assert own.status_code == 200
    assert "partner p1" in pdf_text(own.content)
    html = page_html(store, PARTNER, replace(SCOPE, partner="p1"), "USD")
    assert shown_tiles(html)["customers.total"] == "1"  # the same request the PDF rendered
    assert get("partner", "starter", partner="p2").status_code == 403
    # explorer partners cannot export; a key without the export scope cannot either
    assert get("partner", "explorer").status_code == 403
    assert get("partner", "reader").status_code == 403
    assert get("nope", "admin").status_code == 404
    assert get("partner", "admin", format="csv").status_code == 422
    assert get("partner", "admin", window="x").status_code == 422
    logged = {e.actor: e for e in audit.entries(store, action="export")}
    assert logged[support_actor(store)].detail["sections"] == ["operational"]


def support_actor(store) -> str:
    return next(f"key:{k.id}" for k in keys.listed(store) if k.role == "support")


def test_cli_exports_a_page(store, tmp_path):
    load(store, *world())
    out = tmp_path / "experiences.pdf"
    store.close()
    args = ["--as-of", "2026-02-28", "--window", FEB, "--db", store.url]
    result = CliRunner().invoke(
        cli_app, ["export", "page:experiences", "--format", "pdf", "--out", str(out), *args]
    )
    assert result.exit_code == 0, result.output
    text = pdf_text(out.read_bytes())
    assert "Experience analytics" in text and "Net Promoter Score" in text
    for bad in (["page:nope", "--format", "pdf"], ["page:partner", "--format", "csv"]):
        refused = CliRunner().invoke(cli_app, ["export", *bad, *args])
        assert refused.exit_code == 2, refused.output
