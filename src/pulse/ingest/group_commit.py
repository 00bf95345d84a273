"""Group commit for the HTTP API: batches that arrive together are stored together.

Checking and storing a batch has a fixed cost (a handful of SQL statements and one commit)
that dwarfs its 500 messages. Two threads share the work: the checker takes every batch
waiting in the queue and checks them in one pass (outside any transaction); the writer stores
each checked group in one transaction. While one group commits the next is checked, and the
batches arriving meanwhile make the group after that larger. Each batch is still all or
nothing: a batch with an invalid message is refused alone and the others are checked again
without it. A caller gets its answer only after the commit, so a `200` still means durable.
"""

from __future__ import annotations

import bisect
import queue
import threading
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

import orjson

from pulse.ingest.contract import RejectedBatch, Rejection
from pulse.ingest.pipeline import StagedBatches, lines_chunk, stage_batches, store_batches
from pulse.ingest.scope import require_partner
from pulse.store.store import Store, WriteResult

Pending = tuple[list[str], "Future[WriteResult]"]


@dataclass(frozen=True)
class Checked:
    """A group of batches that passed the checks, ready to commit."""

    group: list[Pending]
    starts: list[int]
    staged: StagedBatches


class GroupWriter:
    """The checker and writer threads of one store."""

    def __init__(self, store: Store, max_messages: int = 10_000) -> None:
        self.store = store
        self.max_messages = max_messages
        self._queue: queue.Queue[Pending | None] = queue.Queue()
        # One checked group waits at most: the checker then gathers while the writer commits.
        self._checked: queue.Queue[Checked | None] = queue.Queue(maxsize=1)
        self._threads = [
            threading.Thread(target=self._check_loop, name="pulse-checker", daemon=True),
            threading.Thread(target=self._write_loop, name="pulse-writer", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def write(self, messages: list[Any], partner: str | None = None) -> WriteResult:
        """Store one batch (blocking until committed); raise RejectedBatch if it is invalid.

        With a partner key's `partner`, messages outside it raise ForbiddenMessages.
        """
        require_partner(messages, partner)
        if not messages:
            return WriteResult(0, 0)
        future: Future[WriteResult] = Future()
        self._queue.put(([orjson.dumps(m).decode() for m in messages], future))
        return future.result()

    def close(self) -> None:
        self._queue.put(None)
        for thread in self._threads:
            thread.join(timeout=30)

    def _check_loop(self) -> None:
        while True:
            group = self._gather()
            if group is None:
                self._checked.put(None)
                return
            checked = self._check(group)
            if checked is not None:
                self._checked.put(checked)

    def _gather(self) -> list[Pending] | None:
        """Wait for a batch, then take those queued behind it (up to `max_messages`)."""
        first = self._queue.get()
        if first is None:
            return None
        group, size = [first], len(first[0])
        while size < self.max_messages:
            try:
                following = self._queue.get_nowait()
            except queue.Empty:
                break
            if following is None:
                self._queue.put(None)
                break
            group.append(following)
            size += len(following[0])
        return group

    def _check(self, group: list[Pending]) -> Checked | None:
        """Check a group; refuse the batches with invalid messages, keep the rest (or None)."""
        while group:
            starts = _starts(group)
            chunk = lines_chunk([line for lines, _ in group for line in lines])
            try:
                return Checked(group, starts, stage_batches(chunk))
            except RejectedBatch as exc:
                group = _refuse(group, starts, exc.rejections)
            except BaseException as exc:  # the checker failed: every waiting batch learns it
                _fail(group, exc)
                return None
        return None

    def _write_loop(self) -> None:
        while True:
            checked = self._checked.get()
            if checked is None:
                return
            try:
                with self.store.transaction() as cur:
                    positions = store_batches(self.store, cur, checked.staged)
            except BaseException as exc:  # the store failed: every waiting batch learns it
                _fail(checked.group, exc)
                continue
            stored = [0] * len(checked.group)
            for position in positions:
                stored[bisect.bisect_right(checked.starts, position) - 1] += 1
            for (lines, future), count in zip(checked.group, stored, strict=True):
                future.set_result(WriteResult(len(lines), count))


def _fail(group: list[Pending], exc: BaseException) -> None:
    for _, future in group:
        future.set_exception(exc)


def _starts(group: list[Pending]) -> list[int]:
    """The position of each batch's first message in the combined chunk."""
    starts, position = [], 0
    for lines, _ in group:
        starts.append(position)
        position += len(lines)
    return starts


def _refuse(group: list[Pending], starts: list[int], rejections: list[Rejection]) -> list[Pending]:
    """Fail the batches the rejections point at (indices made local); return the others."""
    by_batch: dict[int, list[Rejection]] = {}
    for rejection in rejections:
        batch = bisect.bisect_right(starts, rejection.index) - 1
        local = Rejection(rejection.index - starts[batch], rejection.field, rejection.message)
        by_batch.setdefault(batch, []).append(local)
    for batch, local_rejections in by_batch.items():
        group[batch][1].set_exception(RejectedBatch(local_rejections))
    return [pending for i, pending in enumerate(group) if i not in by_batch]
