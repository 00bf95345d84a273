"""The store's schema as numbered migrations, in SQL that DuckDB and PostgreSQL both accept.

A migration is applied once and recorded in `pulse_migrations`; never edit one that has shipped,
add the next number instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from pulse.ingest.contract import PROPERTY_COLUMNS


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    statements: tuple[str, ...]
    postgres_only: tuple[str, ...] = ()


_property_columns = ",\n  ".join(f"{c.name} {c.sql_type}" for c in PROPERTY_COLUMNS)

MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "events, trait history, entities, write keys",
        (
            f"""CREATE TABLE events (
  message_id VARCHAR PRIMARY KEY,
  type VARCHAR NOT NULL,
  event VARCHAR,
  user_id VARCHAR,
  group_id VARCHAR,
  ts TIMESTAMPTZ NOT NULL,
  received_at TIMESTAMPTZ NOT NULL,
  {_property_columns},
  payload VARCHAR
)""",
            """CREATE TABLE traits (
  entity VARCHAR NOT NULL,
  entity_id VARCHAR NOT NULL,
  name VARCHAR NOT NULL,
  value VARCHAR,
  ts TIMESTAMPTZ NOT NULL,
  message_id VARCHAR NOT NULL,
  PRIMARY KEY (message_id, entity, entity_id, name)
)""",
            """CREATE TABLE entities (
  entity VARCHAR NOT NULL,
  entity_id VARCHAR NOT NULL,
  first_seen TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (entity, entity_id)
)""",
            """CREATE TABLE write_keys (
  key_hash VARCHAR PRIMARY KEY,
  prefix VARCHAR NOT NULL,
  partner_id VARCHAR,
  label VARCHAR,
  created_at TIMESTAMPTZ NOT NULL,
  revoked_at TIMESTAMPTZ
)""",
        ),
        postgres_only=(
            "CREATE INDEX events_event_ts ON events (event, ts)",
            "CREATE INDEX events_user ON events (user_id)",
            "CREATE INDEX traits_entity ON traits (entity, name, entity_id, ts)",
        ),
    ),
)

LATEST = MIGRATIONS[-1].version
