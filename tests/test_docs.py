"""The docs keep up with the catalog, and the README starts with the two commands."""

from pathlib import Path

from pulse.metrics import CATALOG
from pulse.metrics.docs import catalog_markdown

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text()
CATALOG_DOC = ROOT / "docs" / "CATALOG.md"


def test_the_catalog_reference_is_generated_from_the_catalog():
    assert CATALOG_DOC.read_text() == catalog_markdown(CATALOG), (
        "docs/CATALOG.md is out of date: uv run python -m pulse.metrics.docs > docs/CATALOG.md"
    )


def test_every_listed_metric_has_help():
    for metric in CATALOG.listed():
        assert len(metric.help) > 20, metric.id
    for table in CATALOG.tables.values():
        assert len(table.help) > 20, table.id


def test_readme_starts_with_the_demo_and_test_commands():
    block = README.split("```sh", 1)[1].split("```", 1)[0]
    assert "./scripts/demo" in block and "./scripts/test" in block
    assert "docs/CATALOG.md" in README
