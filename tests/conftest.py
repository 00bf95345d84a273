"""Every store test runs on both engines: a DuckDB file and a real PostgreSQL server."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from pg import PostgresServer
from pulse.store.store import Store, connect

_databases = itertools.count()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    server = PostgresServer()
    url = server.start()
    try:
        yield url
    finally:
        server.stop()


@pytest.fixture(params=["duckdb", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty store of each engine."""
    if request.param == "duckdb":
        return str(tmp_path / "pulse.duckdb")
    base: str = request.getfixturevalue("postgres_url")
    name = f"pulse_test_{next(_databases)}"
    with psycopg.connect(base, autocommit=True) as con:
        con.execute(f"CREATE DATABASE {name}")
    return base.rsplit("/", 1)[0] + "/" + name


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    opened = connect(store_url)
    try:
        yield opened
    finally:
        opened.close()
