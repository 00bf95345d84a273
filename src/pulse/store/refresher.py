"""Keeps the answers users look at warm: after new data arrives, a background thread computes
them again, so the next dashboard view reads a remembered answer instead of waiting for the
queries (SPEC §6: every number current within a minute of ingestion).

It waits for the data to settle (ingestion often comes in bursts), then calls `Store.refresh`.
On PostgreSQL, where other processes may write and answers expire after `Store.max_age`, it also
refreshes answers before they expire.
"""

from __future__ import annotations

import math
import threading

from pulse.store.store import Store


class Refresher:
    """A daemon thread refreshing `store`'s recently asked answers after each change."""

    def __init__(self, store: Store, poll: float = 1.0, settle: float = 1.0) -> None:
        self.store = store
        self.poll = poll  # how often to look for new data (seconds)
        self.settle = settle  # how long the data must stay unchanged before refreshing
        self.refreshed = 0  # answers computed again so far (for tests and logs)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pulse-refresher", daemon=True)

    def start(self) -> Refresher:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        seen = self.store.data_version
        ahead = self.store.max_age / 2  # refresh expiring answers halfway through their life
        waited = 0.0
        while not self._stop.wait(self.poll):
            waited += self.poll
            changed = self.store.data_version != seen
            due = not math.isinf(ahead) and waited >= ahead
            if not (changed or due):
                continue
            latest = self.store.data_version
            while changed and not self._stop.wait(self.settle):
                if self.store.data_version == latest:
                    break  # no write for `settle` seconds: the burst is over
                latest = self.store.data_version
            if self._stop.is_set():
                return
            seen, waited = self.store.data_version, 0.0
            self.refreshed += self.store.refresh(older_than=ahead if due else None)
