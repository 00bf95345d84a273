"""Priming: the numbers each dashboard shows in its default view, computed in the background when
`pulse serve` starts, so the first visitor of a page reads remembered answers instead of waiting
for its queries (issue: first meaningful paint under a second).

A default view ends today (UTC), so at midnight every page asks new questions: their SQL is
compiled and their answers computed on the first visit (3 to 15 s a page at `large`). So the
next day's default views are primed PRIME_AHEAD before midnight; the refresher keeps them
current through the last minutes' ingests, like any asked answer.

Every question is asked through the same functions the page's fragments use, so the answers are
remembered under the very keys a visit asks for; they count as asked, so the refresher keeps
them warm after each ingest.
"""

from __future__ import annotations

import dataclasses
import gc
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial

from pulse.metrics import CATALOG
from pulse.metrics.engine import Engine
from pulse.settings import Settings
from pulse.store.store import Store
from pulse.web import answers, choices
from pulse.web.pages import PAGES, Page
from pulse.web.routes import chart_spec, table_answer
from pulse.web.scope import Scope, default_scope

log = logging.getLogger(__name__)
PRIME_AHEAD = timedelta(minutes=10)  # the next day's default views are primed this long ahead


def prime_page(
    store: Store,
    settings: Settings,
    page: Page,
    scope: Scope,
    stop: threading.Event | None = None,
    timed: Callable[[str, float], None] | None = None,
) -> int:
    """Ask every question `page` asks in `scope`; return how many (a failing one is logged).
    Once `stop` is set, the remaining questions are not asked; `timed` hears each question's
    seconds (the bench's slowest questions)."""
    engine = Engine(store, CATALOG, settings.currency, stale_ok=True)  # as a view asks
    asked = 0

    def ask(what: str, question: Callable[[], object]) -> None:
        nonlocal asked
        if stop is not None and stop.is_set():
            return
        try:
            started = time.perf_counter()
            question()
            asked += 1
            if timed is not None:
                timed(what, time.perf_counter() - started)
        except Exception:  # one failing number must not keep the others cold
            log.exception("priming %s on %s failed", what, page.path)

    for picker in page.scopes:  # the shell's partner and experience lists
        ask(picker, partial(choices.everything, store, picker))
    for section in page.sections:
        for metric_id in (*section.tiles, *section.benchmarks):
            if metric_id in CATALOG.metrics:
                ask(metric_id, partial(answers.tile, engine, scope, metric_id, settings.currency))
        for chart in section.charts:
            if chart.metric in CATALOG.metrics:
                metric = CATALOG.metrics[chart.metric]
                ask(
                    chart.metric,
                    partial(chart_spec, engine, scope, metric, chart.cumulative, chart.by),
                )
        for breakdown in section.breakdowns:
            if breakdown.metric in CATALOG.metrics:
                ask(
                    breakdown.metric,
                    partial(answers.ask, engine, scope, breakdown.metric, by=breakdown.by),
                )
        for view in section.table_views():
            table = CATALOG.tables.get(view.table)
            if table is not None and not view.on_demand:
                ask(view.table, partial(table_answer, engine, scope, table, dict(view.params)))
    return asked


def prime(
    store: Store,
    settings: Settings,
    pages: Sequence[Page] = PAGES,
    stop: threading.Event | None = None,
    as_of: date | None = None,
) -> int:
    """Prime every page's default view (as it is on day `as_of`, default today); return how
    many questions were asked."""
    scope = default_scope(settings.tz)
    if as_of is not None:
        scope = dataclasses.replace(scope, as_of=as_of)
    asked = sum(prime_page(store, settings, page, scope, stop) for page in pages)
    store.flush_kept()  # for the next start, without waiting for the refresher's next look
    return asked


def until_next_day(now: datetime, day: date) -> float:
    """Seconds from `now` until the views of the day after `day` are to be primed: PRIME_AHEAD
    before it begins (UTC); 0 if that time has passed."""
    begins = datetime.combine(day + timedelta(days=1), datetime.min.time(), UTC)
    return max(0.0, (begins - PRIME_AHEAD - now).total_seconds())


def freeze_heap() -> None:
    """Take every object alive now out of the garbage collector's full passes (until
    `gc.unfreeze`).

    What priming builds lives as long as the server (expressions, compiled SQL, answers): a
    full pass over it took 0.1–0.5 s at `large`, paid by whichever request set it off. Objects
    freed later by reference counting are still freed; only their cycles would stay."""
    gc.collect()
    gc.freeze()


def _prime_days(
    store: Store, settings: Settings, stop: threading.Event, primed: threading.Event
) -> None:
    """Today's default views now (then frozen, see `freeze_heap`), and each next day's before
    midnight, until `stop`."""
    prime(store, settings, PAGES, stop)
    if stop.is_set():
        return
    freeze_heap()
    primed.set()
    day = datetime.now(UTC).date()
    while not stop.wait(until_next_day(datetime.now(UTC), day)):
        day += timedelta(days=1)
        try:
            prime(store, settings, PAGES, stop, as_of=day)
        except Exception:  # the next day's first visits compute instead
            log.exception("priming the views of %s failed", day)


@dataclass
class Priming:
    """Priming in a daemon thread: the server answers meanwhile, and a visit computes what is
    not primed yet, as without priming."""

    thread: threading.Thread
    stop: threading.Event
    primed: threading.Event  # today's default views are primed (those of the next days follow)

    @property
    def running(self) -> bool:
        """Whether the default views primed at start are still being computed."""
        return self.thread.is_alive() and not self.primed.is_set()

    def cancel(self, timeout: float = 30.0) -> None:
        """Stop after the question being computed (the server shuts down); what priming froze
        is handed back to the collector, to be freed with the rest."""
        self.stop.set()
        self.thread.join(timeout)
        gc.unfreeze()


def start_priming(store: Store, settings: Settings) -> Priming:
    stop, primed = threading.Event(), threading.Event()
    thread = threading.Thread(
        target=_prime_days, args=(store, settings, stop, primed), name="pulse-prime", daemon=True
    )
    thread.start()
    return Priming(thread, stop, primed)
