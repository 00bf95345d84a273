"""The store's lock: one statement at a time on the shared connection, granted in turn.

Python's own locks let the thread that just released take the lock again before a waiting one
wakes up. A background computation (priming, the refresher) asks the store one query after
another, so with them an ingest batch could wait for the whole computation; granted in turn, it
waits for one query at most, and a dashboard request for one commit at most.
"""

from __future__ import annotations

import threading
from types import TracebackType


class FairLock:
    """A reentrant lock granted in the order it was asked for (a ticket lock)."""

    def __init__(self) -> None:
        self._changed = threading.Condition(threading.Lock())
        self._owner: int | None = None
        self._depth = 0
        self._next_ticket = 0
        self._serving = 0

    def acquire(self) -> bool:
        me = threading.get_ident()
        with self._changed:
            if self._owner == me:
                self._depth += 1
                return True
            ticket = self._next_ticket
            self._next_ticket += 1
            self._changed.wait_for(lambda: self._serving == ticket)
            self._owner, self._depth = me, 1
            return True

    def release(self) -> None:
        with self._changed:
            if self._owner != threading.get_ident():
                raise RuntimeError("release of a lock this thread does not hold")
            self._depth -= 1
            if self._depth == 0:
                self._owner = None
                self._serving += 1
                self._changed.notify_all()

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.release()
