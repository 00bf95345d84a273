"""Group commit: batches stored together, each still accepted or refused as a whole."""

from __future__ import annotations

import threading

import pytest

from messages import identify, track
from pulse.ingest.contract import RejectedBatch
from pulse.ingest.group_commit import GroupWriter, _refuse, _starts


def test_concurrent_batches_are_each_all_or_nothing(store):
    writer = GroupWriter(store)
    good = [[identify(f"c{b}-{i}", "2026-02-01") for i in range(50)] for b in range(4)]
    bad = [
        identify("x1", "2026-02-01"),
        track("invoice_paid", "2026-02-01", user="x1", kind="subscription"),
    ]
    batches = [*good[:2], bad, *good[2:]]
    outcomes: dict[int, object] = {}

    def send(position: int) -> None:
        try:
            outcomes[position] = writer.write(batches[position])
        except RejectedBatch as exc:
            outcomes[position] = exc

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(batches))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    writer.close()
    refused = outcomes[2]
    assert isinstance(refused, RejectedBatch)
    assert (refused.rejections[0].index, refused.rejections[0].field) == (1, "properties.amount")
    assert [outcomes[i].stored for i in (0, 1, 3, 4)] == [50, 50, 50, 50]  # type: ignore[union-attr]
    assert store.execute("SELECT count(*) FROM events")[0][0] == 200  # 4 × 50, nothing of `bad`


def test_refusal_maps_positions_back_to_each_batch():
    from concurrent.futures import Future

    from pulse.ingest.contract import Rejection

    group = [(["a"] * 3, Future()), (["b"] * 2, Future()), (["c"] * 4, Future())]
    starts = _starts(group)
    assert starts == [0, 3, 5]
    kept = _refuse(group, starts, [Rejection(4, "event", "is required for track")])
    assert [len(lines) for lines, _ in kept] == [3, 4]
    with pytest.raises(RejectedBatch) as caught:
        group[1][1].result()
    assert caught.value.rejections[0].index == 1  # position 4 = second message of batch 2


def test_a_resent_batch_counts_its_duplicates(store):
    writer = GroupWriter(store)
    batch = [identify("c1", "2026-02-01"), identify("c2", "2026-02-01")]
    assert writer.write(batch).stored == 2
    again = writer.write(batch)
    writer.close()
    assert (again.received, again.stored, again.duplicates) == (2, 0, 2)


def test_the_same_batch_sent_at_once_is_stored_once(store):
    """Four senders of one batch: whether their copies are checked in one group (a repeated id
    within a group) or in groups committed one after the other, 50 messages are stored once."""
    writer = GroupWriter(store)
    batch = [identify(f"c{i}", "2026-02-01") for i in range(50)]
    results = []

    def send() -> None:
        results.append(writer.write(batch))

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    writer.close()
    assert sorted(r.received for r in results) == [50, 50, 50, 50]
    assert sum(r.stored for r in results) == 50  # each message counted new exactly once
    assert store.execute("SELECT count(*) FROM events")[0][0] == 50
    assert store.execute("SELECT count(*) FROM traits")[0][0] == 0  # identify without traits
