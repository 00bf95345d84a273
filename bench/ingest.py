"""Ingestion throughput: file import and HTTP batches, beside a naive row-by-row baseline.

    uv run python bench/ingest.py [--scale medium] [--http-messages 200000] [--data demo.jsonl]

Prints messages/s for each path and the ratio to the baseline measured in the same run. The
HTTP figure is the served steady state: batches start once the server has primed its dashboards
(`/healthz` says `priming: false`), a one-off computation at start that shares the two cores.
Targets on a 2-core machine: >= 200,000 msg/s file import, >= 20,000 msg/s over HTTP.
"""

from __future__ import annotations

import argparse
import itertools
import os
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import orjson

from pulse.access.write_keys import create as create_write_key
from pulse.demo import iter_messages
from pulse.ingest.files import read_chunks
from pulse.ingest.pipeline import ingest_chunks
from pulse.store.store import connect

BATCH = 500


def write_jsonl(path: Path, scale: str, limit: int | None) -> int:
    count = 0
    with path.open("wb") as out:
        for message in itertools.islice(iter_messages(scale, seed=7), limit):
            out.write(orjson.dumps(message) + b"\n")
            count += 1
    return count


def bench_file(path: Path, workdir: Path) -> tuple[int, float]:
    store = connect(str(workdir / "file.duckdb"))
    started = time.perf_counter()
    result = ingest_chunks(store, [(str(path), read_chunks(path))])
    seconds = time.perf_counter() - started
    store.close()
    return result.stored, seconds


def bench_naive(path: Path, workdir: Path, limit: int) -> tuple[int, float]:
    """Baseline: the textbook loop, parse one message and INSERT one row, one commit at the end."""
    store = connect(str(workdir / "naive.duckdb"))
    lines = path.read_bytes().splitlines()[:limit]
    received = datetime.now(UTC)
    started = time.perf_counter()
    with store.transaction() as cur:
        for line in lines:
            m = orjson.loads(line)
            body = m.get("properties") if m.get("type") == "track" else m.get("traits")
            cur.execute(
                "INSERT INTO events (message_id, type, event, user_id, group_id, ts, received_at,"
                " payload) VALUES (?, ?, ?, ?, ?, CAST(? AS TIMESTAMPTZ), ?, ?)"
                " ON CONFLICT DO NOTHING",
                [
                    m["messageId"],
                    m["type"],
                    m.get("event"),
                    m.get("userId"),
                    m.get("groupId"),
                    m["timestamp"],
                    received,
                    orjson.dumps(body).decode(),
                ],
            )
    seconds = time.perf_counter() - started
    store.close()
    return len(lines), seconds


def bench_http(path: Path, workdir: Path, messages: int, clients: int) -> tuple[int, float]:
    db = str(workdir / "http.duckdb")
    store = connect(db)
    key = create_write_key(store)
    store.close()
    port = 8765
    server = subprocess.Popen(
        [sys.executable, "-m", "pulse.cli", "serve", "--port", str(port)],
        env={**os.environ, "PULSE_DB": db},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        started = time.perf_counter()
        while True:  # steady state: up, and done priming the dashboards (a one-off at start)
            try:
                if not httpx.get(base + "/healthz", timeout=5).json()["priming"]:
                    break
            except httpx.TransportError:
                if time.perf_counter() - started > 60:
                    raise
            time.sleep(0.2)
        print(f"server up and primed in {time.perf_counter() - started:.1f} s")
        lines = path.read_bytes().splitlines()[:messages]
        bodies = [
            b'{"batch":[' + b",".join(lines[i : i + BATCH]) + b"]}"
            for i in range(0, len(lines), BATCH)
        ]
        queue = iter(bodies)
        lock = threading.Lock()
        failures: list[str] = []

        def send() -> None:
            with httpx.Client(base_url=base, auth=(key, ""), timeout=60) as client:
                while True:
                    with lock:
                        body = next(queue, None)
                    if body is None:
                        return
                    response = client.post(
                        "/v1/batch", content=body, headers={"content-type": "application/json"}
                    )
                    if response.status_code != 200:
                        failures.append(response.text[:200])

        threads = [threading.Thread(target=send) for _ in range(clients)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        seconds = time.perf_counter() - started
        if failures:
            raise SystemExit(f"HTTP failures: {failures[:3]}")
        return len(lines), seconds
    finally:
        server.terminate()
        server.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", default="medium")
    parser.add_argument("--limit", type=int, default=None, help="messages for the file import")
    parser.add_argument("--http-messages", type=int, default=200_000)
    parser.add_argument("--naive-messages", type=int, default=5_000)
    parser.add_argument(
        "--clients",
        type=int,
        default=16,
        help="concurrent senders; each waits for its batch's commit before the next, so fewer "
        "than about 16 leave the server idle between group commits",
    )
    parser.add_argument(
        "--data", type=Path, default=None, help="JSONL to reuse between runs (written if missing)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pulse-bench-") as tmp:
        workdir = Path(tmp)
        data = args.data or workdir / "demo.jsonl"
        started = time.perf_counter()
        if args.data is not None and args.data.exists():
            with data.open("rb") as lines:
                total = sum(1 for _ in lines)
        else:
            total = write_jsonl(data, args.scale, args.limit)
        size = data.stat().st_size / 1e6
        print(
            f"demo data: {total:,} messages, {size:,.0f} MB ({time.perf_counter() - started:.1f} s)"
        )

        n, s = bench_naive(data, workdir, args.naive_messages)
        naive = n / s
        print(f"baseline, row by row : {n:>10,} msg in {s:6.2f} s = {naive:>10,.0f} msg/s")
        n, s = bench_file(data, workdir)
        rate = n / s
        print(
            f"file import (JSONL)  : {n:>10,} msg in {s:6.2f} s = {rate:>10,.0f} msg/s"
            f"  ({rate / naive:,.0f}x baseline; target 200,000)"
        )
        n, s = bench_http(data, workdir, args.http_messages, args.clients)
        rate = n / s
        print(
            f"HTTP, {BATCH}-msg batches: {n:>10,} msg in {s:6.2f} s = {rate:>10,.0f} msg/s"
            f"  ({rate / naive:,.0f}x baseline; target 20,000; {args.clients} clients)"
        )


if __name__ == "__main__":
    main()
