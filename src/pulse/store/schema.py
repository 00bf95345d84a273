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
    Migration(
        2,
        "targets",
        (
            """CREATE TABLE targets (
  metric VARCHAR NOT NULL,
  period VARCHAR NOT NULL,
  value DOUBLE PRECISION NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (metric, period)
)""",
        ),
    ),
    Migration(
        3,
        "accounts",
        (
            """CREATE TABLE users (
  username VARCHAR PRIMARY KEY,
  password_hash VARCHAR NOT NULL,
  role VARCHAR NOT NULL,
  partner_id VARCHAR,
  created_at TIMESTAMPTZ NOT NULL,
  disabled_at TIMESTAMPTZ
)""",
            """CREATE TABLE sessions (
  token_hash VARCHAR PRIMARY KEY,
  username VARCHAR NOT NULL,
  csrf_token VARCHAR NOT NULL,
  created_at TIMESTAMPTZ NOT NULL,
  expires_at TIMESTAMPTZ NOT NULL,
  ip VARCHAR,
  revoked_at TIMESTAMPTZ
)""",
            """CREATE TABLE api_keys (
  id VARCHAR PRIMARY KEY,
  key_hash VARCHAR NOT NULL UNIQUE,
  prefix VARCHAR NOT NULL,
  role VARCHAR NOT NULL,
  partner_id VARCHAR,
  scopes VARCHAR NOT NULL,
  label VARCHAR,
  created_by VARCHAR,
  created_at TIMESTAMPTZ NOT NULL,
  last_used_at TIMESTAMPTZ,
  revoked_at TIMESTAMPTZ
)""",
            # Write keys of version 1 become API keys with the `write` scope.
            """INSERT INTO api_keys (id, key_hash, prefix, role, partner_id, scopes, label,
  created_by, created_at, revoked_at)
SELECT substr(key_hash, 1, 12), key_hash, prefix,
  CASE WHEN partner_id IS NULL THEN 'platform_admin' ELSE 'partner' END,
  partner_id, 'write', label, 'migration 3', created_at, revoked_at
FROM write_keys""",
            "DROP TABLE write_keys",
            "CREATE SEQUENCE audit_log_id",
            """CREATE TABLE audit_log (
  id BIGINT PRIMARY KEY DEFAULT nextval('audit_log_id'),
  ts TIMESTAMPTZ NOT NULL,
  actor VARCHAR NOT NULL,
  action VARCHAR NOT NULL,
  category VARCHAR NOT NULL,
  target VARCHAR,
  ip VARCHAR,
  detail VARCHAR NOT NULL
)""",
            "CREATE TABLE app_secrets (name VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)",
        ),
        postgres_only=(
            "CREATE INDEX audit_log_ts ON audit_log (ts)",
            "CREATE INDEX audit_log_action_target ON audit_log (action, target, ts)",
            """CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only';
END
$$""",
            """CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log
FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()""",
            """CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()""",
        ),
    ),
    Migration(
        4,
        "alerts, action items, alert thresholds, report subscriptions",
        (
            "CREATE SEQUENCE alert_id",
            """CREATE TABLE alerts (
  id BIGINT PRIMARY KEY DEFAULT nextval('alert_id'),
  rule_id VARCHAR NOT NULL,
  subject VARCHAR NOT NULL,
  severity VARCHAR NOT NULL,
  message VARCHAR NOT NULL,
  value DOUBLE PRECISION,
  fired_at TIMESTAMPTZ NOT NULL,
  cleared_at TIMESTAMPTZ
)""",
            "CREATE SEQUENCE action_item_id",
            """CREATE TABLE action_items (
  id BIGINT PRIMARY KEY DEFAULT nextval('action_item_id'),
  alert_id BIGINT,
  priority VARCHAR NOT NULL,
  action VARCHAR NOT NULL,
  owner VARCHAR NOT NULL,
  due DATE NOT NULL,
  status VARCHAR NOT NULL,
  created_at TIMESTAMPTZ NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL
)""",
            """CREATE TABLE alert_thresholds (
  rule_id VARCHAR PRIMARY KEY,
  threshold DOUBLE PRECISION NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL
)""",
            """CREATE TABLE report_subscriptions (
  report VARCHAR NOT NULL,
  subject VARCHAR NOT NULL,
  channel VARCHAR NOT NULL,
  address VARCHAR NOT NULL,
  partner_id VARCHAR,
  created_by VARCHAR,
  created_at TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (report, subject, channel, address)
)""",
        ),
        postgres_only=(
            "CREATE INDEX alerts_rule_subject ON alerts (rule_id, subject, cleared_at)",
        ),
    ),
    Migration(
        5,
        "scheduled runs, claimed once across processes",
        (
            # One row per (job, period) run of a report or the alert check: the process whose
            # insert goes through runs it, the others find the key taken.
            """CREATE TABLE scheduled_runs (
  job VARCHAR NOT NULL,
  period VARCHAR NOT NULL,
  claimed_by VARCHAR NOT NULL,
  claimed_at TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (job, period)
)""",
        ),
    ),
    Migration(
        6,
        "answers kept across processes, and the data stamp they were computed from",
        (
            # Bumped by every write of events, traits, entities or targets (`Store.changed`).
            "CREATE TABLE pulse_state (name VARCHAR PRIMARY KEY, value BIGINT NOT NULL)",
            "INSERT INTO pulse_state VALUES ('data', 0)",
            """CREATE TABLE pulse_answers (
  key VARCHAR PRIMARY KEY,
  stamp BIGINT NOT NULL,
  answer VARCHAR NOT NULL,
  computed_at TIMESTAMPTZ NOT NULL
)""",
        ),
    ),
    Migration(
        7,
        "compiled SQL kept across processes",
        (
            """CREATE TABLE pulse_compiled (
  key VARCHAR PRIMARY KEY,
  sql VARCHAR NOT NULL,
  compiled_at TIMESTAMPTZ NOT NULL
)""",
        ),
    ),
    Migration(
        8,
        "events stored in (event, ts) order",
        # How many events the last rewrite of `events` in order left (`Store.cluster_events`).
        ("INSERT INTO pulse_state VALUES ('clustered', 0)",),
    ),
)

LATEST = MIGRATIONS[-1].version
