"""The whole catalog: every id SPEC §3 names exists, and every metric and table runs on the demo.

Each metric's value is tested on hand-built data in its family's test file; this file checks the
catalog as a whole: nothing SPEC names is missing, and nothing fails on realistic data.
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest

from pulse.demo import iter_messages
from pulse.ingest.pipeline import ingest_messages
from pulse.metrics import CATALOG
from pulse.metrics.engine import Engine, Query
from pulse.metrics.tables import TableQuery, evaluate_table
from pulse.store.store import connect

SPEC = Path(__file__).resolve().parents[2] / "shared" / "docs" / "SPEC.md"
END = date(2026, 11, 22)
_ID = re.compile(r"`([a-z_0-9]*\.[a-z_0-9.]+)`")


def spec_ids() -> set[str]:
    """Backticked metric ids of SPEC §3; `.allocated` after `credits.purchased` means
    `credits.allocated`. Families written as `sessions.*` name no single id."""
    section = SPEC.read_text().split("## 3.")[1].split("## 4.")[0]
    ids: set[str] = set()
    family = ""
    for token in _ID.findall(section):
        if token.startswith("."):
            ids.add(family + token)
        else:
            family = token.split(".")[0]
            ids.add(token)
    return ids


def test_every_id_spec_names_is_in_the_catalog() -> None:
    known = set(CATALOG.metrics) | set(CATALOG.tables)
    missing = sorted(spec_ids() - known)
    assert missing == []


def test_every_listed_metric_has_help_and_a_known_unit() -> None:
    for metric in CATALOG.listed():
        assert metric.help.strip(), metric.id
        assert metric.label.strip(), metric.id


@pytest.fixture(scope="module")
def demo_engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    store = connect(str(tmp_path_factory.mktemp("demo") / "pulse.duckdb"))
    ingest_messages(store, list(iter_messages("small", 7, END)))
    return Engine(store, CATALOG)


@pytest.mark.parametrize("metric_id", sorted(m.id for m in CATALOG.listed()))
def test_metric_runs_on_the_demo(demo_engine: Engine, metric_id: str) -> None:
    metric = CATALOG.get(metric_id)
    answer = demo_engine.evaluate(Query(metric_id, END, "last_3m", series="month"))
    json.dumps(answer)
    assert answer["metric"] == metric_id
    assert len(answer["series"]) == 4  # August (from the 25th) .. November
    if metric.dims:
        by = demo_engine.evaluate(Query(metric_id, END, "last_3m", by=metric.dims[0]))
        assert isinstance(by["rows"], list)


@pytest.mark.parametrize("table_id", sorted(CATALOG.tables))
def test_table_runs_on_the_demo(demo_engine: Engine, table_id: str) -> None:
    answer = evaluate_table(demo_engine, TableQuery(table_id, END, "last_3m"))
    json.dumps(answer)
    names = [c["name"] for c in answer["columns"]]
    assert all(list(row) == names for row in answer["rows"])
