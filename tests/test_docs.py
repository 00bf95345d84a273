"""The README keeps up with the catalog and starts with the two commands."""

from pathlib import Path

from pulse.metrics import CATALOG

README = (Path(__file__).parent.parent / "README.md").read_text()


def test_every_listed_metric_is_documented_with_help():
    for metric in CATALOG.listed():
        assert f"`{metric.id}`" in README, metric.id
        assert len(metric.help) > 20, metric.id


def test_readme_starts_with_the_demo_and_test_commands():
    block = README.split("```sh", 1)[1].split("```", 1)[0]
    assert "./scripts/demo" in block and "./scripts/test" in block
