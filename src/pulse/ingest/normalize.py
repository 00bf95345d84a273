"""Validate and normalise raw messages into store rows, set-based, in DuckDB.

Every entry point (HTTP batch, JSON Lines, CSV, Parquet) hands over the same thing: a block of
text with one message as JSON per line, and the number of its first line (message index or file
line). One SQL pass checks the contract of `contract.py` into a `parsed` temp table; the three
SELECTs below turn it into rows of the store tables. On a DuckDB store this runs on the store's
own connection (rows go straight into the tables); for PostgreSQL an in-memory DuckDB is the JSON
engine and the rows travel as Arrow.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb
import pyarrow as pa

from pulse.ingest.contract import (
    ENUMS,
    MESSAGE_TYPES,
    PLAN_EVENTS,
    PROPERTY_COLUMNS,
    RANGES,
    REQUIRED,
    TRAIT_EVENTS,
    TYPED_TRAITS,
    RejectedBatch,
    Rejection,
)

MAX_REPORTED = 20


@dataclass(frozen=True)
class Normalized:
    """Rows ready for the store: events, trait history and entity first-seen times."""

    events: pa.Table
    traits: pa.Table
    entities: pa.Table


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _in_list(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(_quote(v) for v in values) + ")"


def _json_struct(fields: dict[str, str]) -> str:
    return _quote(json.dumps(fields))


ENVELOPE_STRUCT = _json_struct(
    {
        "type": "VARCHAR",
        "messageId": "VARCHAR",
        "timestamp": "VARCHAR",
        "userId": "VARCHAR",
        "groupId": "VARCHAR",
        "event": "VARCHAR",
        "properties": "JSON",
        "traits": "JSON",
    }
)
PROPERTY_STRUCT = _json_struct({c.prop: c.json_type for c in PROPERTY_COLUMNS})
# The same typed properties and typed traits as raw text: present but not parsed = wrong type.
PROPERTY_TEXT_STRUCT = _json_struct(
    {c.prop: "VARCHAR" for c in PROPERTY_COLUMNS if c.json_type != "VARCHAR"}
)
TRAIT_TEXT_STRUCT = _json_struct({trait: "VARCHAR" for _, trait in TYPED_TRAITS})


ENTITY_OF = (
    "CASE WHEN type = 'identify' THEN 'customer' "
    "WHEN type = 'group' THEN coalesce(traits ->> '$.entity', 'partner') END"
)
_TIMESTAMP_TRAITS = tuple(sorted({t for (_, t), k in TYPED_TRAITS.items() if k == "timestamp"}))


def _error_cases() -> str:
    """One CASE branch per rule; the first failing rule names the field."""
    cases = [
        ("NOT valid", "$", "is not valid JSON"),
        ("NOT is_object", "$", "must be a JSON object"),
        ("type IS NULL", "type", "is required"),
        (f"type NOT IN {_in_list(MESSAGE_TYPES)}", "type", "must be one of track, identify, group"),
        ("message_id IS NULL OR message_id = ''", "messageId", "is required"),
        ("ts_text IS NULL", "timestamp", "is required"),
        ("ts IS NULL", "timestamp", "must be an ISO-8601 date-time"),
        ("type = 'identify' AND user_id IS NULL", "userId", "is required for identify"),
        ("type = 'group' AND group_id IS NULL", "groupId", "is required for group"),
        ("type = 'track' AND coalesce(event, '') = ''", "event", "is required for track"),
        (
            "type = 'track' AND user_id IS NULL AND group_id IS NULL",
            "userId",
            "is required for track unless groupId is given",
        ),
        (
            "properties IS NOT NULL AND properties_type NOT IN ('OBJECT', 'NULL')",
            "properties",
            "must be an object",
        ),
        (
            "traits IS NOT NULL AND traits_type NOT IN ('OBJECT', 'NULL')",
            "traits",
            "must be an object",
        ),
    ]
    for col in PROPERTY_COLUMNS:
        if col.json_type == "VARCHAR":
            continue
        kind = "a boolean" if col.json_type == "BOOLEAN" else "a number"
        cases.append(
            (
                f"pv.{col.prop} IS NOT NULL AND p.{col.prop} IS NULL",
                f"properties.{col.prop}",
                f"must be {kind}",
            )
        )
    cast = {"timestamp": "TIMESTAMPTZ", "number": "DOUBLE", "date": "DATE"}
    kinds = {"timestamp": "an ISO-8601 date-time", "number": "a number", "date": "a date"}
    for (entity, trait), kind in TYPED_TRAITS.items():
        raw = f"tv.{trait}"
        cases.append(
            (
                f"entity = {_quote(entity)} AND {raw} IS NOT NULL "
                f"AND try_cast({raw} AS {cast[kind]}) IS NULL",
                f"traits.{trait}",
                f"must be {kinds[kind]}",
            )
        )
    needed_by: dict[str, list[str]] = {}
    for event, props in REQUIRED.items():
        for prop in props:
            needed_by.setdefault(prop, []).append(event)
    for prop, events in needed_by.items():
        value = "partner_id" if prop == "partner_id" else f"p.{_prop_ident(prop)}"
        cases.append(
            (
                f"event IN {_in_list(tuple(events))} AND {value} IS NULL",
                f"properties.{prop}",
                "is required for {event}",
            )
        )
    for key, allowed in ENUMS.items():
        prop, event = key.split("@")
        cases.append(
            (
                f"event = {_quote(event)} AND p.{prop} NOT IN {_in_list(allowed)}",
                f"properties.{prop}",
                "must be one of " + ", ".join(allowed),
            )
        )
    for key, (low, high) in RANGES.items():
        prop, event = key.split("@")
        cases.append(
            (
                f"event = {_quote(event)} AND NOT p.{prop} BETWEEN {low} AND {high}",
                f"properties.{prop}",
                f"must be between {low:g} and {high:g}",
            )
        )
    branches = "\n".join(
        f"    WHEN {cond} THEN {_message(field, msg)}" for cond, field, msg in cases
    )
    return f"CASE\n{branches}\n  END"


def _message(field: str, message: str) -> str:
    """`field|message` as SQL; "{event}" in the message is the message's event name."""
    text = f"{field}|{message}"
    if "{event}" not in text:
        return _quote(text)
    before, after = text.split("{event}")
    return f"{_quote(before)} || event || {_quote(after)}"


def _prop_ident(prop: str) -> str:
    return '"to"' if prop == "to" else prop


def _kind(value: str) -> str:
    """The JSON kind of an extracted value from its first character, as `json_type` names it
    (OBJECT, NULL, or another kind): the value is parsed once, by `json_transform`, not again."""
    text = f"CAST({value} AS VARCHAR)"
    return (
        f"CASE WHEN {value} IS NULL THEN NULL WHEN starts_with({text}, '{{') THEN 'OBJECT' "
        f"WHEN {text} = 'null' THEN 'NULL' ELSE 'OTHER' END"
    )


# Each line is parsed once for the envelope (`try`: an invalid line gives NULL, and only then
# is it checked again with json_valid); properties and traits are typed once more.
_PARSE_SQL = f"""
CREATE OR REPLACE TEMP TABLE parsed AS
WITH j AS (
  SELECT n, line, try(json_transform(line, {ENVELOPE_STRUCT})) AS m FROM {{source}}
), m AS (
  SELECT n, m IS NOT NULL OR json_valid(line) AS valid,
    m IS NOT NULL AND starts_with(ltrim(line, ' ' || chr(9) || chr(13)), '{{') AS is_object, m
  FROM j
), f AS (
  SELECT n, valid, is_object,
    m.type AS type, m.messageId AS message_id, m.timestamp AS ts_text,
    try_cast(m.timestamp AS TIMESTAMPTZ) AS ts,
    nullif(m.userId, '') AS user_id, nullif(m.groupId, '') AS group_id, m.event AS event,
    m.properties AS properties, m.traits AS traits,
    {_kind("m.properties")} AS properties_type, {_kind("m.traits")} AS traits_type
  FROM m
), t AS (
  SELECT *, type = 'track' AND properties_type = 'OBJECT' AS track_object FROM f
), typed AS (
  SELECT *, CASE WHEN track_object THEN json_transform(properties, {PROPERTY_STRUCT}) END AS p
  FROM t
)
SELECT * EXCLUDE (track_object),
  {ENTITY_OF} AS entity,
  CASE WHEN track_object THEN json_transform(properties, {PROPERTY_TEXT_STRUCT}) END AS pv,
  CASE WHEN type <> 'track' AND traits_type = 'OBJECT'
       THEN json_transform(traits, {TRAIT_TEXT_STRUCT}) END AS tv,
  coalesce(nullif(p.partner_id, ''), CASE WHEN type = 'track' THEN group_id END) AS partner_id
FROM typed
"""

# Lines of a text chunk, registered from Arrow as `raw_lines` (n, line).
PARSE_SQL = _PARSE_SQL.replace("{source}", "raw_lines")
# Lines low < n <= high of the file read by `read_lines`.
PARSE_SLICE_SQL = _PARSE_SQL.replace("{source}", "raw_file WHERE n > $low AND n <= $high")

# One pass for the verdict: how many messages, whether an id may repeat, the first errors.
# Distinct hashes are cheaper to count than distinct ids; as many hashes as messages proves
# every id distinct, fewer (a repeat, or rarely two ids with one hash) sends to DEDUPE_SQL.
# It also tells whether any message can make trait history (identify, group, or a track event
# that changes a trait or a plan): if none does, the traits step is skipped.
CHECK_SQL = f"""
WITH checked AS (
  SELECT n, message_id, {_error_cases()} AS error,
    type IN ('identify', 'group') OR event IN {_in_list((*TRAIT_EVENTS, *PLAN_EVENTS))} AS traits
  FROM parsed
)
SELECT count(*), count(DISTINCT hash(message_id)),
  list_slice(list([CAST(n AS VARCHAR), error] ORDER BY n) FILTER (WHERE error IS NOT NULL),
             1, {MAX_REPORTED}),
  coalesce(bool_or(traits), false)
FROM checked
"""

_money = ("amount", "mrr")
_promoted = ",\n  ".join(
    (
        f"CAST(p.{_prop_ident(c.prop)} AS {c.sql_type}) AS {c.name}"
        if c.name != "partner_id" and c.name != "currency"
        else (
            "partner_id"
            if c.name == "partner_id"
            else "CASE WHEN p.amount IS NOT NULL OR p.mrr IS NOT NULL "
            "THEN upper(coalesce(p.currency, 'USD')) END AS currency"
        )
    )
    for c in PROPERTY_COLUMNS
)

EVENTS_SQL = f"""
SELECT message_id, type, CASE WHEN type = 'track' THEN event END AS event,
  user_id, group_id, ts, CAST($received_at AS TIMESTAMPTZ) AS received_at,
  {_promoted},
  CAST(CASE WHEN type = 'track' THEN properties ELSE traits END AS VARCHAR) AS payload
FROM parsed
"""

_trait_events = " UNION ALL ".join(
    f"SELECT {_quote(ev)} AS event, {_quote(entity)} AS entity, {_quote(trait)} AS name, "
    f"{_quote(value) if value is not None else 'NULL'} AS fixed"
    for ev, (entity, trait, value) in TRAIT_EVENTS.items()
)

# `parsed AS msgs` in each branch, not one `WITH msgs` CTE: DuckDB materialises a CTE read more
# than once, which copied every staged message (four times the cost of the whole SELECT).
TRAITS_SQL = f"""
WITH entity_traits AS (
  SELECT msgs.entity,
         CASE WHEN msgs.type = 'identify' THEN msgs.user_id ELSE msgs.group_id END AS entity_id,
         e.key AS name,
         CASE WHEN e.type = 'NULL' THEN NULL
              WHEN e.key IN {_in_list(_TIMESTAMP_TRAITS)}
                THEN CAST(try_cast(e.value ->> '$' AS TIMESTAMPTZ) AS VARCHAR)
              WHEN e.type = 'VARCHAR' THEN e.value ->> '$'
              ELSE CAST(e.value AS VARCHAR) END AS value,
         msgs.ts, msgs.message_id
  FROM parsed AS msgs, json_each(msgs.traits) AS e
  WHERE msgs.type IN ('identify', 'group') AND msgs.traits_type = 'OBJECT'
    AND NOT (msgs.type = 'group' AND e.key = 'entity')
), membership AS (
  SELECT 'customer', user_id, 'partner_id', group_id, ts, message_id FROM parsed AS msgs
  WHERE type = 'group' AND user_id IS NOT NULL AND entity = 'partner'
), lifecycle AS (
  SELECT r.entity, CASE WHEN r.entity = 'customer' THEN msgs.user_id ELSE msgs.partner_id END,
         r.name, coalesce(r.fixed, msgs.p."to"), msgs.ts, msgs.message_id
  FROM parsed AS msgs JOIN ({_trait_events}) AS r ON msgs.event = r.event
  WHERE msgs.type = 'track'
), plans AS (
  SELECT 'customer', user_id, 'plan_id', p.plan_id, ts, message_id FROM parsed AS msgs
  WHERE type = 'track' AND event IN {_in_list(PLAN_EVENTS)}
    AND user_id IS NOT NULL AND p.plan_id IS NOT NULL
)
SELECT * FROM (
  SELECT * FROM entity_traits UNION ALL SELECT * FROM membership
  UNION ALL SELECT * FROM lifecycle UNION ALL SELECT * FROM plans
) WHERE entity_id IS NOT NULL
"""

ENTITIES_SQL = """
WITH seen AS (
  SELECT 'customer' AS entity, user_id AS entity_id, ts FROM parsed WHERE user_id IS NOT NULL
  UNION ALL
  SELECT 'partner', partner_id, ts FROM parsed WHERE partner_id IS NOT NULL
  UNION ALL
  SELECT entity, group_id, ts FROM parsed WHERE type = 'group'
)
SELECT entity, entity_id, min(ts) AS first_seen FROM seen GROUP BY entity, entity_id
"""


def new_engine() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB used as the JSON engine; UTC so offset-less timestamps mean UTC."""
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")
    return con


FILE_SQL = """
CREATE OR REPLACE TEMP TABLE raw_file AS
SELECT n, CASE WHEN ends_with(line, chr(13)) THEN rtrim(line, chr(13)) ELSE line END AS line
FROM (
  SELECT row_number() OVER () AS n, line
  FROM read_csv($path, columns = {'line': 'VARCHAR'}, header = false, delim = chr(1), quote = '',
                escape = '', auto_detect = false, strict_mode = false, max_line_size = 67108864)
) WHERE line IS NOT NULL AND (NOT starts_with(line, ' ') OR trim(line) <> '')
"""


DEDUPE_SQL = """
DELETE FROM parsed WHERE n IN (
  SELECT n FROM parsed QUALIFY row_number() OVER (PARTITION BY message_id ORDER BY n) > 1)
"""

# Messages stored before (a re-sent batch, a file imported twice) leave the staged set, so the
# rows that remain are all new: they go in with a plain INSERT (see `Store.append_select`).
FORGET_STORED_SQL = """
DELETE FROM parsed WHERE message_id IN (SELECT message_id FROM events)
"""


def read_lines(con: Any, path: str) -> int:
    """Read a JSON Lines file into temp table `raw_file` (n = line number); return the last n.

    DuckDB's parallel CSV reader splits the lines (one VARCHAR column, no quoting).
    """
    con.execute(FILE_SQL, {"path": path})
    con.execute("SELECT coalesce(max(n), 0) FROM raw_file")
    return int(con.fetchall()[0][0])


@dataclass(frozen=True)
class Staged:
    """What the check found: how many distinct messages, and whether any makes trait history."""

    messages: int
    traits: bool


def stage_text(con: Any, lines: list[str], first: int, where: str = "message") -> Staged:
    """Stage `lines` (one message each, the first numbered `first`); blank lines are skipped
    but keep their number."""
    numbers, kept = [], []
    for i, line in enumerate(lines):
        line = line.removesuffix("\r")
        if line.strip():
            numbers.append(first + i)
            kept.append(line)
    con.register("raw_lines", pa.table({"n": pa.array(numbers, pa.int64()), "line": kept}))
    try:
        con.execute(PARSE_SQL)
    finally:
        con.unregister("raw_lines")
    return check(con, where)


def stage_rows(con: Any, low: int, high: int, where: str) -> Staged:
    """Stage rows low < n <= high of the file read by `read_lines`."""
    con.execute(PARSE_SLICE_SQL, {"low": low, "high": high})
    return check(con, where)


def check(con: Any, where: str) -> Staged:
    """Check the staged messages of temp table `parsed`.

    Raise RejectedBatch (naming `where` and the line number) if any message is invalid. A
    messageId repeated within the batch keeps its first occurrence.
    """
    con.execute(CHECK_SQL)
    total, hashes, errors, traits = con.fetchall()[0]
    if errors:
        rejections = [Rejection(int(n), *str(error).split("|", 1)) for n, error in errors]
        raise RejectedBatch(rejections, where)
    if hashes == total:
        return Staged(int(total), bool(traits))
    con.execute(DEDUPE_SQL)
    return Staged(int(total) - int(con.fetchall()[0][0]), bool(traits))


def staged_rows(
    con: duckdb.DuckDBPyConnection, received_at: datetime, staged: Staged
) -> Normalized:
    """The staged messages as Arrow rows of the three store tables (no trait rows to compute
    when no message makes trait history)."""
    return Normalized(
        con.sql(EVENTS_SQL, params={"received_at": received_at}).to_arrow_table(),
        con.sql(TRAITS_SQL).to_arrow_table() if staged.traits else pa.table({}),
        con.sql(ENTITIES_SQL).to_arrow_table(),
    )
