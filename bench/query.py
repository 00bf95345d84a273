"""Dashboard speed: each page's numbers from the catalog, cold and warm, beside pandas.

    uv run python bench/query.py [--scale medium large] [--runs 15] [--cold-runs 3] [--data DIR]
                                 [--pages partner admin experiences program] [--slowest N]

A page's numbers are what its fragments ask the catalog for (`web/prime.py` asks them the same
way): every tile (value and previous window), chart (daily series over the window), breakdown,
benchmark and table, for the last 30 days ending on the demo's last day.

"cold" opens the store afresh for each run with no answer kept in it (no snapshot, no compiled
SQL, no remembered answer: the first start on new data); "new data" asks the same questions on an
open store right after an ingest of an hour of the platform's traffic (`new_data`: the answers
reading what it writes computed again, snapshots rebuilt for the customers and partners it names,
the SQL already compiled: what `pulse serve`'s refresher does after an ingest), and "msg" after
an ingest of one chat message (`one_message`: a steady stream between two refreshes); "start" is
a new process after new data; "restart" opens the store afresh with the answers an earlier
process kept in it for the current data (`store/kept.py`: the next start of `pulse serve`, or
another process on the same PostgreSQL store); "warm" asks again on an open store, as a
dashboard view between ingests does; "view" is a dashboard view right after new data while the
refresher computes the answers again in another thread (it reads the answers from before the
change, `Store.cached`), and "current" how long until all are current again.

The baseline computes a core set of the same numbers with pandas from the raw events and
traits, already loaded in memory (the load time is printed apart and not counted), and the
same core set is timed through the catalog, so the ratio compares like with like. The values of
both are printed side by side: they must agree.

Target on a 2-core machine: every page under 300 ms p95 at `large`, and >= 10x the baseline.
"""

from __future__ import annotations

import argparse
import gc
import json
import shutil
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd

from pulse.demo import iter_messages
from pulse.ingest.pipeline import ingest_messages
from pulse.metrics import CATALOG
from pulse.metrics.engine import Engine, Query
from pulse.settings import Settings
from pulse.store.kept import FORGET_ALL
from pulse.store.kept_sql import FORGET_COMPILED
from pulse.store.refresher import STALE_FOR
from pulse.store.store import Store, connect
from pulse.web.pages import ADMIN, EXPERIENCES, PARTNER, PROGRAM, Page
from pulse.web.prime import freeze_heap, prime_page
from pulse.web.scope import Scope

END = date(2026, 11, 22)
WINDOW = "last_30d"
PAGES = (PARTNER, ADMIN, EXPERIENCES, PROGRAM)


# -- the store -----------------------------------------------------------------------------------


def demo_store(scale: str, data: Path) -> Path:
    """The demo platform at `scale` in a DuckDB file, built once and kept between runs."""
    path = data / f"{scale}-{END.isoformat()}.duckdb"
    if path.exists():
        store = connect(str(path))  # migrated to this version's schema
        store.cluster_events()  # in (event, ts) order, as a running Pulse keeps it
        store.close()
        return path
    data.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".building")
    partial.unlink(missing_ok=True)
    store = connect(str(partial))
    started = time.perf_counter()
    batch: list[dict[str, Any]] = []
    for message in iter_messages(scale, 7, END):
        batch.append(message)
        if len(batch) == 200_000:
            ingest_messages(store, batch)
            batch = []
    if batch:
        ingest_messages(store, batch)
    store.cluster_events()
    store.close()
    partial.rename(path)
    print(f"built {scale} demo in {time.perf_counter() - started:.0f} s: {path}")
    return path


# -- a page's questions ---------------------------------------------------------------------------

SETTINGS = Settings(db="", tz="UTC", currency="USD")
SCOPE = Scope(window=WINDOW, as_of=END, tz="UTC", as_of_given=True)


def ask_page(store: Store, page: Page) -> int:
    """Every number `page` shows, asked as its fragments ask them (`web/prime.py`), and kept in
    the store as priming keeps them; how many."""
    asked = view_page(store, page)
    store.flush_kept()
    return asked


def view_page(store: Store, page: Page) -> int:
    """`ask_page` as a dashboard view asks: what it computes is kept later, by the refresher."""
    return prime_page(store, SETTINGS, page, SCOPE)


# -- the pandas baseline -------------------------------------------------------------------------


@dataclass
class Raw:
    events: pd.DataFrame
    traits: pd.DataFrame
    entities: pd.DataFrame


def load_raw(path: Path) -> Raw:
    store = connect(str(path))
    con: Any = store.con.con
    events = con.sql(
        "SELECT event, user_id, group_id, ts, partner_id, credits, amount, currency, kind, "
        "experience_id, role, score, target FROM events WHERE type = 'track'"
    ).df()
    traits = con.sql("SELECT entity, entity_id, name, value, ts, message_id FROM traits").df()
    entities = con.sql("SELECT entity, entity_id, first_seen FROM entities").df()
    store.close()
    return Raw(events, traits, entities)


def _bounds() -> tuple[pd.Timestamp, pd.Timestamp]:
    end = pd.Timestamp(datetime.combine(END + timedelta(days=1), datetime.min.time(), UTC))
    return end - pd.Timedelta(days=30), end


def _in_window(frame: pd.DataFrame, *events: str) -> pd.DataFrame:
    start, end = _bounds()
    rows = frame[frame["event"].isin(events)]
    return rows[(rows["ts"] >= start) & (rows["ts"] < end)]


def _latest(raw: Raw, entity: str, name: str, before: pd.Timestamp) -> pd.Series:
    rows = raw.traits[
        (raw.traits["entity"] == entity)
        & (raw.traits["name"] == name)
        & (raw.traits["ts"] < before)
    ]
    rows = rows.sort_values(["ts", "message_id"])
    return rows.groupby("entity_id")["value"].last()


def _customers(raw: Raw) -> pd.DataFrame:
    seen = raw.entities[raw.entities["entity"] == "customer"].set_index("entity_id")["first_seen"]
    _, end = _bounds()
    created = pd.to_datetime(_latest(raw, "customer", "created_at", end + pd.Timedelta(days=3650)))
    deleted = raw.traits[(raw.traits["entity"] == "customer") & (raw.traits["name"] == "deleted")]
    frame = pd.DataFrame({"first_seen": seen})
    frame["created"] = created.reindex(frame.index).fillna(frame["first_seen"])
    frame["deleted_at"] = deleted.groupby("entity_id")["ts"].min().reindex(frame.index)
    return frame


def base_customers_total(raw: Raw) -> float:
    _, end = _bounds()
    c = _customers(raw)
    return float(((c["created"] < end) & ~(c["deleted_at"] < end)).sum())


def base_customers_new(raw: Raw) -> float:
    start, end = _bounds()
    c = _customers(raw)
    alive = ~(c["deleted_at"] < end)
    return float(((c["created"] >= start) & (c["created"] < end) & alive).sum())


def base_customers_active(raw: Raw) -> float:
    _, end = _bounds()
    c = _customers(raw)
    status = _latest(raw, "customer", "status", end).reindex(c.index)
    alive = (c["created"] < end) & ~(c["deleted_at"] < end)
    return float(((status == "active") & alive).sum())


def base_credits(event: str) -> Callable[[Raw], float]:
    return lambda raw: float(_in_window(raw.events, event)["credits"].sum())


def base_generations_total(raw: Raw) -> float:
    return float(len(_in_window(raw.events, "generation_created")))


def base_nps_score(raw: Raw) -> float | None:
    scores = _in_window(raw.events, "nps_submitted")["score"]
    if scores.empty:
        return None
    return float(((scores >= 9).mean() - (scores <= 6).mean()) * 100)


def base_sessions_total(raw: Raw) -> float:
    """Runs of a customer's experience events with no gap over 30 minutes, started in window."""
    start, end = _bounds()
    rows = raw.events[raw.events["experience_id"].notna() & raw.events["user_id"].notna()]
    rows = rows.sort_values(["user_id", "ts"])
    gap = rows.groupby("user_id")["ts"].diff()
    first = gap.isna() | (gap > pd.Timedelta(minutes=30))
    starts = rows.loc[first, "ts"]
    return float(((starts >= start) & (starts < end)).sum())


def base_affiliate_clicks(raw: Raw) -> float:
    """Referral clicks of partners whose kind (as of the window end) is affiliate."""
    _, end = _bounds()
    kinds = _latest(raw, "partner", "kind", end)
    affiliates = set(kinds[kinds == "affiliate"].index)
    clicks = _in_window(raw.events, "referral_clicked")
    return float(clicks["partner_id"].isin(affiliates).sum())


BASELINE: dict[str, Callable[[Raw], float | None]] = {
    "customers.total": base_customers_total,
    "customers.new": base_customers_new,
    "customers.active": base_customers_active,
    "credits.purchased": base_credits("credits_purchased"),
    "credits.consumed": base_credits("credits_consumed"),
    "generations.total": base_generations_total,
    "nps.score": base_nps_score,
    "sessions.total": base_sessions_total,
    "affiliates.clicks": base_affiliate_clicks,
}


# -- timing --------------------------------------------------------------------------------------


def _ms(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered) * 1000, p95 * 1000


def forget_kept(path: Path) -> None:
    """Drop the answers and the SQL kept in the store: the next connection computes and
    compiles everything."""
    store = connect(str(path), migrate=False)
    store.execute(FORGET_ALL)
    store.execute(FORGET_COMPILED)
    store.close()


LAST_HOUR = datetime.combine(END, datetime.min.time(), UTC) + timedelta(hours=23)


def new_data(store: Store) -> None:
    """An ingest of an hour of the platform's traffic: the messages of the demo's last hour
    (about 2,000 at `large`: 37 event names, and identifies) sent again as new messages, with
    the same customers, partners, times and properties. Every answer reading what they write is
    stale (`Store.changed`); snapshots are rebuilt for the customers and partners they name."""
    rows = store.execute(
        "SELECT type, event, user_id, group_id, ts, payload FROM events "
        "WHERE ts >= ? AND ts < ? ORDER BY ts, message_id",
        (LAST_HOUR, LAST_HOUR + timedelta(hours=1)),
    )
    ingest_messages(store, [_message(*row) for row in rows])


def _message(
    kind: str, event: str | None, user: str | None, group: str | None, ts: datetime, body: str
) -> dict[str, Any]:
    """A stored message as it was sent, with a new id."""
    message: dict[str, Any] = {
        "type": kind,
        "messageId": f"bench-{uuid.uuid4()}",
        "timestamp": ts.isoformat(),
    }
    if user is not None:
        message["userId"] = user
    if group is not None:
        message["groupId"] = group
    if kind == "track":
        message |= {"event": event, "properties": json.loads(body or "{}")}
    else:
        message["traits"] = json.loads(body or "{}")
    return message


def one_message(store: Store) -> None:
    """An ingest of one chat message: what a steady stream at this scale brings between two
    refreshes (a few seconds apart). Only the answers reading chat messages are stale."""
    user, experience = store.execute(
        "SELECT user_id, experience_id FROM events WHERE event = 'chat_opened' "
        "ORDER BY ts DESC, message_id LIMIT 1"
    )[0]
    message = {
        "type": "track",
        "event": "message_sent",
        "userId": user,
        "messageId": f"bench-{uuid.uuid4()}",
        "timestamp": (LAST_HOUR + timedelta(minutes=59)).isoformat(),
        "properties": {"experience_id": experience, "role": "user"},
    }
    ingest_messages(store, [message])


def compiled(store: Store, page: Page) -> int:
    """Ask `page` once computing every answer, so its queries are built and compiled (answers
    kept by an earlier run would be read instead); how many numbers it shows."""
    new_data(store)
    return ask_page(store, page)


def timed(run: Callable[[], object]) -> float:
    """Seconds `run()` takes. The earlier runs' objects are first taken out of the garbage
    collector's passes, as the server does once primed (`prime.freeze_heap`) and as a new
    process would not have them: a full pass over them (0.1–0.5 s) otherwise lands on a
    random run."""
    freeze_heap()
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def time_page(path: Path, page: Page, runs: int, cold_runs: int) -> dict[str, Any]:
    cold: list[float] = []
    for _ in range(cold_runs):
        forget_kept(path)
        store = connect(str(path), migrate=False)
        cold.append(timed(partial(ask_page, store, page)))
        store.close()
    restart: list[float] = []  # answers kept by the last cold run, on the same data
    for _ in range(runs):
        store = connect(str(path), migrate=False)
        restart.append(timed(partial(ask_page, store, page)))
        store.close()
    start: list[float] = []  # a new process after new data: answers computed again
    for _ in range(cold_runs):
        store = connect(str(path), migrate=False)
        new_data(store)
        store.close()
        store = connect(str(path), migrate=False)
        start.append(timed(partial(ask_page, store, page)))
        store.close()
    store = connect(str(path), migrate=False)
    asked = compiled(store, page)
    fresh: list[float] = []  # after new data: every answer computed again, nothing compiled
    for _ in range(cold_runs):
        new_data(store)
        fresh.append(timed(partial(ask_page, store, page)))
    small: list[float] = []  # after one chat message: only what reads chats computed again
    for _ in range(cold_runs):
        one_message(store)
        small.append(timed(partial(ask_page, store, page)))
    warm = [timed(partial(ask_page, store, page)) for _ in range(runs)]
    view, lag = views_while_refreshing(store, page, cold_runs)
    store.close()
    return {
        "view": _ms(view),
        "lag": statistics.median(lag),
        "cold": _ms(cold),
        "fresh": _ms(fresh),
        "small": _ms(small),
        "restart": _ms(restart),
        "start": _ms(start),
        "warm": _ms(warm),
        "asked": asked,
    }


def views_while_refreshing(store: Store, page: Page, runs: int) -> tuple[list[float], list[float]]:
    """Dashboard views of `page` after new data while the refresher computes its answers again
    in another thread, as in `pulse serve` (views read the answers from before the change);
    and the seconds until every answer was current again, per change."""
    store.stale_for = STALE_FOR  # as the refresher sets it
    views: list[float] = []
    lags: list[float] = []
    for _ in range(runs):
        new_data(store)
        refreshing = threading.Thread(target=store.refresh)
        started = time.perf_counter()
        refreshing.start()
        views.append(timed(partial(view_page, store, page)))
        while refreshing.is_alive():  # a visitor viewing the page again every half second
            refreshing.join(0.5)
            if refreshing.is_alive():
                views.append(timed(partial(view_page, store, page)))
        lags.append(time.perf_counter() - started)
    store.stale_for = 0.0
    return views, lags


def slowest(path: Path, page: Page, count: int) -> list[tuple[float, str]]:
    """The page's `count` slowest questions after new data (compiled, computed again), in ms:
    where the time of a "new data" run goes."""
    store = connect(str(path), migrate=False)
    compiled(store, page)
    new_data(store)
    seconds: list[tuple[float, str]] = []
    prime_page(store, SETTINGS, page, SCOPE, timed=lambda what, s: seconds.append((s * 1000, what)))
    store.close()
    return sorted(seconds, reverse=True)[:count]


def time_empty(page: Page) -> float:
    """Seconds to ask `page` on a new, empty store: the cost of building and compiling its
    queries, which a cold run pays whatever the data (its queries then find no rows)."""
    with tempfile.TemporaryDirectory(prefix="pulse-empty-") as tmp:
        store = connect(str(Path(tmp) / "empty.duckdb"))
        seconds = timed(partial(ask_page, store, page))
        store.close()
    return seconds


def time_core(path: Path, raw: Raw, ids: list[str], cold_runs: int) -> dict[str, Any]:
    """The page's core numbers through the catalog (cold) and through pandas."""
    values: dict[str, tuple[Any, Any]] = {}

    def ours(store: Store) -> None:
        for metric_id in ids:
            answer = Engine(store, CATALOG).evaluate(Query(metric_id, END, WINDOW))
            values.setdefault(metric_id, (answer["value"], None))  # on the demo data as built

    def theirs() -> None:
        for metric_id in ids:
            values[metric_id] = (values[metric_id][0], BASELINE[metric_id](raw))

    catalog_s: list[float] = []
    for _ in range(cold_runs):
        forget_kept(path)
        store = connect(str(path), migrate=False)
        catalog_s.append(timed(partial(ours, store)))
        store.close()
    store = connect(str(path), migrate=False)
    fresh_s: list[float] = []
    for run in range(cold_runs + 1):
        new_data(store)
        seconds = timed(partial(ours, store))
        if run:  # the first run compiles
            fresh_s.append(seconds)
    store.close()
    pandas_s = [timed(theirs) for _ in range(cold_runs)]
    return {
        "catalog": _ms(catalog_s),
        "fresh": _ms(fresh_s),
        "pandas": _ms(pandas_s),
        "values": values,
    }


@contextmanager
def working_copy(built: Path) -> Iterator[Path]:
    """A copy of the demo store to run on: the runs ingest new data (`new_data`), and every
    page starts from the demo data as built, on which pandas computes its baseline."""
    with tempfile.TemporaryDirectory(prefix="pulse-bench-", dir=built.parent) as tmp:
        path = Path(tmp) / built.name
        shutil.copyfile(built, path)
        yield path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", nargs="+", default=["medium", "large"])
    parser.add_argument("--runs", type=int, default=15, help="warm runs per page")
    parser.add_argument("--cold-runs", type=int, default=3, help="cold runs per page")
    parser.add_argument("--data", type=Path, default=Path(__file__).parent / ".data")
    parser.add_argument(
        "--pages", nargs="+", default=[p.slug for p in PAGES], help="only these pages (slugs)"
    )
    parser.add_argument(
        "--slowest", type=int, default=0, help="only list each page's N slowest questions"
    )
    args = parser.parse_args()
    pages = [p for p in PAGES if p.slug in args.pages]
    for scale in args.scale:
        built = demo_store(scale, args.data)
        if args.slowest:
            for page in pages:
                with working_copy(built) as path:
                    listed = slowest(path, page, args.slowest)
                print(f"\n== {scale} {page.slug}: slowest questions after new data (ms)")
                for ms, what in listed:
                    print(f"{ms:9.0f}  {what}")
            continue
        started = time.perf_counter()
        raw = load_raw(built)
        print(
            f"\n== {scale}: {len(raw.events):,} track events; pandas load "
            f"{time.perf_counter() - started:.1f} s (not counted below)"
        )
        print(
            "ms; cold = a new store connection, no answer and no SQL kept; empty = cold on an\n"
            "empty store (building and compiling the queries); start = a new connection after\n"
            "new data (answers computed again, SQL kept by an earlier one); new data = the same\n"
            "questions again after an ingest of an hour of traffic (the answers reading what\n"
            "it writes computed again, SQL not compiled again); msg = the same after one chat\n"
            "message;\n"
            "restart = a new connection reading the answers kept in the store; warm = remembered\n"
            "answers; view = a dashboard view right after new data while the refresher\n"
            "computes the answers again (it reads those from before); current = seconds until\n"
            "every answer is current again; core = the page's numbers pandas also computes,\n"
            "catalog (cold / new data) vs pandas"
        )
        print(
            f"{'page':12} {'numbers':>7} {'cold p50':>9} {'cold p95':>9} {'empty':>7} "
            f"{'start p50':>9} {'start p95':>9} "
            f"{'new p50':>9} {'new p95':>9} {'msg p50':>9} {'msg p95':>9} "
            f"{'restart p50':>11} {'restart p95':>11} "
            f"{'warm p50':>9} {'warm p95':>9} {'view p50':>9} {'view p95':>9} {'current':>7} "
            f"| {'core':>4} "
            f"{'cold p95':>9} {'new p95':>8} {'pandas p95':>10} {'ratio cold/new':>14}"
        )
        for page in pages:
            with working_copy(built) as path:
                page_times = time_page(path, page, args.runs, args.cold_runs)
            empty = time_empty(page) * 1000
            ids = [i for i in page.metric_ids() if i in BASELINE and i in CATALOG.metrics]
            core = None
            if ids:
                with working_copy(built) as path:
                    core = time_core(path, raw, ids, args.cold_runs)
            (cold50, cold95), (warm50, warm95) = page_times["cold"], page_times["warm"]
            (new50, new95), (restart50, restart95) = page_times["fresh"], page_times["restart"]
            start50, start95 = page_times["start"]
            view50, view95 = page_times["view"]
            small50, small95 = page_times["small"]
            line = (
                f"{page.slug:12} {page_times['asked']:7} {cold50:9.0f} {cold95:9.0f} {empty:7.0f} "
                f"{start50:9.0f} {start95:9.0f} "
                f"{new50:9.0f} {new95:9.0f} {small50:9.1f} {small95:9.1f} "
                f"{restart50:11.1f} {restart95:11.1f} "
                f"{warm50:9.1f} {warm95:9.1f} {view50:9.1f} {view95:9.1f} "
                f"{page_times['lag']:7.1f} |"
            )
            if core:
                pandas95 = core["pandas"][1]
                cold_ratio = pandas95 / core["catalog"][1]
                new_ratio = pandas95 / core["fresh"][1]
                line += (
                    f" {len(ids):4} {core['catalog'][1]:9.0f} {core['fresh'][1]:8.0f} "
                    f"{pandas95:10.0f} {cold_ratio:6.1f}x/{new_ratio:5.1f}x"
                )
            print(line)
            if core:
                for metric_id, (ours, theirs) in core["values"].items():
                    same = "same" if _same(ours, theirs) else "DIFFERENT"
                    print(f"    {metric_id:24} catalog {ours!s:>14}  pandas {theirs!s:>14}  {same}")


def _same(ours: Any, theirs: Any) -> bool:
    if ours is None or theirs is None:
        return ours is theirs
    # the catalog rounds answers to 4 decimals
    return abs(float(ours) - float(theirs)) <= 5e-5 + 1e-9 * abs(float(theirs))


if __name__ == "__main__":
    main()
    gc.unfreeze()  # what the runs froze is freed before the engines shut down
