"""Keeps the answers users look at warm: after new data arrives, a background thread computes
them again, so the next dashboard view reads a remembered answer instead of waiting for the
queries (SPEC §6: every number current within a minute of ingestion).

While it runs, a dashboard view reads the answer remembered before the data changed (for up to
`STALE_FOR` seconds after the change) instead of waiting for the queries: the view stays as fast
as a warm one, and the refresher replaces the answer within seconds.

It waits for the data to settle (ingestion often comes in bursts), but for `longest_settle`
seconds at most, so a steady stream cannot put refreshing off; then it calls `Store.refresh`.
On PostgreSQL, where other processes may write and answers expire after `Store.max_age`, it
also refreshes answers before they expire.
"""

from __future__ import annotations

import logging
import math
import threading
import time

from pulse.store.store import Store

log = logging.getLogger(__name__)
STALE_FOR = 60.0  # SPEC §6: every dashboard number current within a minute of ingestion


class Refresher:
    """A daemon thread refreshing `store`'s recently asked answers after each change."""

    def __init__(
        self, store: Store, poll: float = 1.0, settle: float = 1.0, longest_settle: float = 10.0
    ) -> None:
        self.store = store
        self.poll = poll  # how often to look for new data (seconds)
        self.settle = settle  # how long the data must stay unchanged before refreshing
        self.longest_settle = longest_settle  # ... unless it has changed for this long
        self.refreshed = 0  # answers computed again so far (for tests and logs)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pulse-refresher", daemon=True)

    def start(self) -> Refresher:
        self.store.stale_for = STALE_FOR
        self._thread.start()
        return self

    def stop(self) -> None:
        self.store.stale_for = 0.0  # nobody refreshes any more: views compute what is stale
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        seen = self.store.data_version
        ahead = self.store.max_age / 2  # refresh expiring answers halfway through their life
        waited = 0.0
        while not self._stop.wait(self.poll):
            self.store.flush_kept()  # what views computed since the last look
            waited += self.poll
            changed = self.store.data_version != seen
            due = not math.isinf(ahead) and waited >= ahead
            if not (changed or due):
                continue
            latest, since = self.store.data_version, time.monotonic()
            while changed and not self._stop.wait(self.settle):
                if self.store.data_version == latest:
                    break  # no write for `settle` seconds: the burst is over
                if time.monotonic() - since >= self.longest_settle:
                    break  # a steady stream: refresh now, answers are due within a minute
                latest = self.store.data_version
            if self._stop.is_set():
                return
            seen, waited = self.store.data_version, 0.0
            try:
                self.store.cluster_events()  # ingestion over weeks appends many events
            except Exception:  # the answers are due all the same
                log.exception("rewriting events in order failed")
            self.refreshed += self.store.refresh(older_than=ahead if due else None)
