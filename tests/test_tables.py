"""Catalog tables: window, partner scope, column filters, parameters and limits, on both engines."""

from __future__ import annotations

import json
from datetime import date

import ibis
import pytest
from typer.testing import CliRunner

from messages import load, track
from pulse.cli import app
from pulse.metrics.catalog import Catalog, Column, Table
from pulse.metrics.engine import Engine
from pulse.metrics.tables import TableContext, TableQuery, evaluate_table, split_extras


def _consumers(ctx: TableContext) -> ibis.Table:
    """Credits consumed per customer in the window, at least `min` credits (a parameter)."""
    facts = ctx.scoped(ctx.in_window(ctx.src.attributed(ctx.src.track("credits_consumed"))))
    per_customer = facts.group_by("customer_id").aggregate(
        credits=facts.credits.sum(), last_used=facts.ts.max()
    )
    least = float(ctx.params.get("min", "0"))
    return per_customer.filter(per_customer.credits >= least).order_by(
        ibis.desc("credits"), "customer_id"
    )


CONSUMERS = Table(
    "test.consumers",
    "Consumers",
    "Credits consumed per customer.",
    (
        Column("customer_id", "Customer", "text"),
        Column("credits", "Credits", "credits"),
        Column("last_used", "Last used", "datetime"),
    ),
    _consumers,
    per_partner=True,
    params=("min",),
)
PLATFORM = Table("test.platform", "Platform", "Platform-wide.", CONSUMERS.columns, _consumers)


@pytest.fixture
def engine(store):
    load(
        store,
        track("credits_consumed", "2026-03-01 10:00", user="c1", credits=5, source="generation"),
        track("credits_consumed", "2026-03-02", user="c2", credits=7, source="message"),
        track("credits_consumed", "2026-03-03", user="c1", credits=4, source="generation"),
        track(
            "credits_consumed", "2026-03-04", user="c3", credits=1, source="other", partner_id="p1"
        ),
        # outside the window ending 2026-03-10 (last_30d starts 2026-02-09)
        track("credits_consumed", "2026-02-08", user="c2", credits=100, source="message"),
    )
    catalog = Catalog()
    catalog.add(CONSUMERS, PLATFORM)
    return Engine(store, catalog)


def ask(engine: Engine, **options: object) -> dict[str, object]:
    return evaluate_table(engine, TableQuery("test.consumers", date(2026, 3, 10), **options))  # type: ignore[arg-type]


def test_rows_are_the_window_in_the_builders_order(engine):
    answer = ask(engine)
    # c1: 5 + 4 = 9, c2: 7 (the 100 of 2026-02-08 is before the window), c3: 1
    assert [(r["customer_id"], r["credits"]) for r in answer["rows"]] == [
        ("c1", 9),
        ("c2", 7),
        ("c3", 1),
    ]
    assert answer["rows"][0]["last_used"] == "2026-03-03T12:00:00+00:00"
    assert answer["window"] == {"start": "2026-02-09", "end": "2026-03-10"}
    assert [c["name"] for c in answer["columns"]] == ["customer_id", "credits", "last_used"]


def test_filters_parameters_and_limit(engine):
    assert [r["customer_id"] for r in ask(engine, where={"customer_id": "c2"})["rows"]] == ["c2"]
    assert [r["customer_id"] for r in ask(engine, params={"min": "5"})["rows"]] == ["c1", "c2"]
    assert len(ask(engine, limit=1)["rows"]) == 1
    assert [r["customer_id"] for r in ask(engine, partner="p1")["rows"]] == ["c3"]


def test_bad_requests_name_what_is_wrong(engine):
    with pytest.raises(ValueError, match=r"^nope: not a column"):
        ask(engine, where={"nope": "x"})
    with pytest.raises(ValueError, match=r"^max: not a parameter"):
        ask(engine, params={"max": "1"})
    with pytest.raises(ValueError, match=r"^window:"):
        ask(engine, window="last_week")
    with pytest.raises(ValueError, match=r"^partner: table test.platform is platform-wide"):
        evaluate_table(engine, TableQuery("test.platform", date(2026, 3, 10), partner="p1"))
    with pytest.raises(KeyError, match=r"unknown id 'test.nothing'"):
        evaluate_table(engine, TableQuery("test.nothing", date(2026, 3, 10)))
    assert split_extras(CONSUMERS, {"min": "2", "customer_id": "c1"}) == (
        {"min": "2"},
        {"customer_id": "c1"},
    )
    with pytest.raises(ValueError, match=r"^colour: not a parameter or column"):
        split_extras(CONSUMERS, {"colour": "red"})


def test_an_empty_window_has_no_rows(engine):
    answer = evaluate_table(engine, TableQuery("test.consumers", date(2025, 1, 31)))
    assert answer["rows"] == []


def test_cli_lists_and_shows_tables(tmp_path):
    db = ["--db", str(tmp_path / "pulse.duckdb")]
    runner = CliRunner()
    listed = runner.invoke(app, ["table", "--list", "--json", *db])
    assert listed.exit_code == 0
    assert "customers.segments" in {t["id"] for t in json.loads(listed.stdout)}
    shown = runner.invoke(
        app, ["table", "customers.segments", "--as-of", "2026-03-10", "--json", *db]
    )
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["table"] == "customers.segments"
    bad = runner.invoke(app, ["table", "customers.segments", "--where", "nothing", *db])
    assert bad.exit_code == 2 and "where: 'nothing' is not NAME=VALUE" in bad.output
    unknown = runner.invoke(app, ["table", "nope.nothing", *db])
    assert unknown.exit_code == 2 and "unknown id 'nope.nothing'" in unknown.output
