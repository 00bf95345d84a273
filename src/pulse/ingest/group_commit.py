"""Group commit for the HTTP API: batches that arrive together are stored together.

Checking and storing a batch has a fixed cost (a handful of SQL statements and one commit)
that dwarfs its 500 messages. A single writer thread takes every batch waiting in the queue,
checks them in one pass and commits them in one transaction. Each batch is still all or
nothing: a batch with an invalid message is refused alone and the others are retried without
it. A caller gets its answer only after the commit, so a `200` still means durable.
"""

from __future__ import annotations

import bisect
import queue
import threading
from concurrent.futures import Future
from typing import Any

import orjson

from pulse.ingest.contract import RejectedBatch, Rejection
from pulse.ingest.pipeline import lines_chunk, load_batches
from pulse.ingest.scope import require_partner
from pulse.store.store import Store, WriteResult

Pending = tuple[list[str], "Future[WriteResult]"]


class GroupWriter:
    """The single writer thread of one store."""

    def __init__(self, store: Store, max_messages: int = 10_000) -> None:
        self.store = store
        self.max_messages = max_messages
        self._queue: queue.Queue[Pending | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="pulse-writer", daemon=True)
        self._thread.start()

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
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
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
            self._commit(group)

    def _commit(self, group: list[Pending]) -> None:
        while group:
            starts = _starts(group)
            chunk = lines_chunk([line for lines, _ in group for line in lines])
            try:
                with self.store.transaction() as cur:
                    positions, stored_ids = load_batches(self.store, cur, chunk)
            except RejectedBatch as exc:
                group = _refuse(group, starts, exc.rejections)
                continue
            except BaseException as exc:  # the store failed: every waiting batch learns it
                for _, future in group:
                    future.set_exception(exc)
                return
            stored = [0] * len(group)
            for message_id in stored_ids:
                stored[bisect.bisect_right(starts, positions[message_id]) - 1] += 1
            for (lines, future), count in zip(group, stored, strict=True):
                future.set_result(WriteResult(len(lines), count))
            return


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
