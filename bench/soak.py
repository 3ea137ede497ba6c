"""Soak test: `stagecheck serve` on PostgreSQL under a steady mixed load, on loopback only.

    .venv/bin/python bench/soak.py [--duration 300] [--rate 20] [--concurrency 8]
                                   [--workers 1] [--database-url URL] [--model]

Starts a throwaway PostgreSQL cluster (or uses `--database-url`, whose database must be
empty), migrates it, makes two schools and SBB with keys, starts the server (rules only
unless `--model`) and drives it from a separate process at `--rate` requests a second,
at most `--concurrency` in flight, for `--duration` seconds or `--max-requests`, whichever
comes first. The mix: analyse without keeping (45 %), analyse and keep (20 %), a batch of
five kept (10 %), list records (10 %), read one record (5 %), statistics (10 %), spread over
the three keys.

It reports requests and errors by status, latency percentiles per time window, and the
server's memory (all its processes) at start and end; then checks that the database holds
exactly as many records as the server acknowledged. Exit status 1 when any request failed
(5xx or no answer), the counts differ, or memory grew by more than
`--max-growth-mib` (default 64 MiB) between the end of the first window and the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import random
import sys
import tempfile
import threading
import time
from collections import Counter
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from serverlib import (
    Server,
    count_records,
    postgres_cluster,
    prepare_database,
)

MIB = 1024 * 1024
TEXTS = [
    "Wij zoeken een enthousiaste stagiair van max. 22 jaar voor onze winkel in Utrecht.",
    "Beste Fatima,\n\nHelaas kiezen wij voor iemand zonder hoofddoek. Bel 06-12345678.\n\n"
    "Met vriendelijke groet,\nRichard Smeets",
    "Stagiair logistiek (m/v/x) gezocht. Je volgt een opleiding Logistiek medewerker en "
    "je bent beschikbaar op drie dagen per week. Leeftijd, afkomst en geloof spelen geen rol.",
    "We are looking for a young and dynamic intern, native English speaker, for our office.",
    "Voor onze kapsalon zoeken wij een vrouwelijke stagiaire, Nederlands als moedertaal.",
]
MIX = [
    ("analyze", 45),
    ("analyze_store", 20),
    ("batch_store", 10),
    ("records", 10),
    ("record", 5),
    ("stats", 10),
]


# -- the load process ----------------------------------------------------------------------


async def _one(
    client: httpx.AsyncClient, kind: str, key: str, rng: random.Random, known: list[str]
) -> tuple[int, int]:
    """Send one request of `kind`; returns (status, records acknowledged)."""
    headers = {"X-API-Key": key}
    text = rng.choice(TEXTS)
    if kind == "analyze":
        response = await client.post("/v1/analyze", json={"text": text}, headers=headers)
        return response.status_code, 0
    if kind == "analyze_store":
        body = {"text": text, "store": True, "company": {"kvk": "12345678", "name": "Soak BV"}}
        response = await client.post("/v1/analyze", json=body, headers=headers)
        if response.status_code == 200:
            known.append(response.json()["record_id"])
            return 200, 1
        return response.status_code, 0
    if kind == "batch_store":
        items = [{"text": rng.choice(TEXTS), "store": True} for _ in range(5)]
        response = await client.post("/v1/analyze/batch", json={"items": items}, headers=headers)
        if response.status_code == 200:
            results = response.json()["results"]
            ids = [r["record_id"] for r in results if "record_id" in r]
            known.extend(ids)
            return 200, len(ids)
        return response.status_code, 0
    if kind == "records":
        response = await client.get("/v1/records?limit=20", headers=headers)
        return response.status_code, 0
    if kind == "record":
        if not known:
            response = await client.get("/v1/records?limit=1", headers=headers)
        else:
            response = await client.get(f"/v1/records/{rng.choice(known)}", headers=headers)
        # Another school's record is a 404 by design: not an error of the service.
        return response.status_code, 0
    response = await client.get("/v1/stats?group_by=ground", headers=headers)
    return response.status_code, 0


async def _drive(
    base: str, keys: list[str], rate: float, concurrency: int, duration: float, limit: int
) -> list[tuple[float, str, int, float, int]]:
    """Open-loop load: start a request every 1/rate s, at most `concurrency` in flight."""
    rng = random.Random(5519)
    kinds, weights = zip(*MIX, strict=True)
    samples: list[tuple[float, str, int, float, int]] = []
    known: dict[str, list[str]] = {key: [] for key in keys}
    slots = asyncio.Semaphore(concurrency)
    started = time.perf_counter()

    async with httpx.AsyncClient(
        base_url=base, timeout=60, limits=httpx.Limits(max_connections=concurrency)
    ) as client:

        async def run(kind: str, key: str) -> None:
            began = time.perf_counter()
            try:
                status, stored = await _one(client, kind, key, rng, known[key])
            except httpx.HTTPError:
                status, stored = 0, 0  # no answer
            finally:
                slots.release()
            samples.append((began - started, kind, status, time.perf_counter() - began, stored))

        tasks = []
        sent = 0
        while sent < limit:
            due = started + sent / rate
            now = time.perf_counter()
            if due - started >= duration:
                break
            if due > now:
                await asyncio.sleep(due - now)
            await slots.acquire()
            kind = rng.choices(kinds, weights)[0]
            tasks.append(asyncio.create_task(run(kind, keys[sent % len(keys)])))
            sent += 1
        await asyncio.gather(*tasks)
    return samples


def _load_process(conn: Any, base: str, keys: list[str], args: dict[str, Any]) -> None:
    """Entry point of the separate load process."""
    samples = asyncio.run(
        _drive(
            base, keys, args["rate"], args["concurrency"], args["duration"], args["max_requests"]
        )
    )
    conn.send(samples)
    conn.close()


# -- memory ----------------------------------------------------------------------------------


class MemorySampler:
    """The resident memory of the server and all its processes, every second."""

    def __init__(self, pid: int) -> None:
        self.root = psutil.Process(pid)
        self.samples: list[tuple[float, int]] = []
        self.running = True
        self.started = time.perf_counter()

    def total(self) -> int:
        """RSS of the server and its children now, in bytes."""
        total = 0
        try:
            processes = [self.root, *self.root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return 0
        for process in processes:
            try:
                total += process.memory_info().rss
            except psutil.NoSuchProcess:
                continue
        return total

    def run(self) -> None:
        """Sample until stopped."""
        while self.running:
            self.samples.append((time.perf_counter() - self.started, self.total()))
            time.sleep(1.0)


def _percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


# -- main ------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Run the soak test and print its report; 1 when a check failed."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--duration", type=float, default=300.0, help="seconds of load")
    parser.add_argument("--rate", type=float, default=20.0, help="requests a second")
    parser.add_argument("--concurrency", type=int, default=8, help="requests in flight at most")
    parser.add_argument("--max-requests", type=int, default=100_000, help="upper bound")
    parser.add_argument("--workers", type=int, default=1, help="server worker processes")
    parser.add_argument("--model", action="store_true", help="serve with the learned model")
    parser.add_argument("--database-url", default=None, help="an empty PostgreSQL database")
    parser.add_argument("--window", type=float, default=None, help="seconds per report line")
    parser.add_argument("--max-growth-mib", type=float, default=64.0, help="memory allowed")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    if not 0 < args.duration <= 900:
        parser.error("--duration must be between 0 and 900 seconds")
    if not 0 < args.rate <= 500 or not 0 < args.concurrency <= 64:
        parser.error("--rate must be in (0, 500] and --concurrency in [1, 64]")
    window = args.window or max(5.0, args.duration / 10)

    with ExitStack() as stack:
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="stagecheck-soak-")))
        url = args.database_url or stack.enter_context(postgres_cluster()).url
        secrets = prepare_database(url)
        server = Server(scratch / "data", url, scratch / "server.log", args.workers, not args.model)
        (scratch / "data").mkdir()
        server.start()
        stack.callback(server.stop)
        memory = MemorySampler(server.process.pid if server.process else 0)
        start_rss = memory.total()
        sampler = threading.Thread(target=memory.run, daemon=True)
        sampler.start()
        model = httpx.get(f"{server.base}/v1/model", headers={"X-API-Key": secrets["sbb"]}).json()

        context = multiprocessing.get_context("spawn")
        receiver, sender = context.Pipe(duplex=False)
        loader = context.Process(
            target=_load_process,
            args=(
                sender,
                server.base,
                list(secrets.values()),
                {
                    "rate": args.rate,
                    "concurrency": args.concurrency,
                    "duration": args.duration,
                    "max_requests": args.max_requests,
                },
            ),
        )
        began = time.perf_counter()
        loader.start()
        samples: list[tuple[float, str, int, float, int]] = receiver.recv()
        loader.join(timeout=30)
        elapsed = time.perf_counter() - began
        memory.running = False
        sampler.join(timeout=5)
        end_rss = memory.total()
        acknowledged = sum(s[4] for s in samples)
        stored = count_records(url)

    statuses = Counter(s[2] for s in samples)
    failures = sum(n for status, n in statuses.items() if status == 0 or status >= 500)
    print(f"Stagecheck soak test, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(
        f"server  stagecheck serve --workers {args.workers} on 127.0.0.1, PostgreSQL, "
        f"{model['mode']}, model_version {model['model_version']}"
    )
    print(
        f"load    separate process, {args.rate:g} req/s open loop, at most {args.concurrency} "
        f"in flight, {args.duration:g} s; mix "
        + ", ".join(f"{kind} {weight}%" for kind, weight in MIX)
    )
    print()
    print(f"requests {len(samples):,} in {elapsed:.0f} s ({len(samples) / elapsed:.1f}/s)")
    print(
        "by status " + ", ".join(f"{k or 'no answer'}: {v:,}" for k, v in sorted(statuses.items()))
    )
    by_kind = Counter(s[1] for s in samples)
    print("by kind   " + ", ".join(f"{k}: {v:,}" for k, v in sorted(by_kind.items())))
    print()
    print(
        f"{'window':>13} {'requests':>9} {'errors':>7} {'p50 ms':>8} {'p95 ms':>8} "
        f"{'p99 ms':>8} {'max ms':>8} {'RSS MiB':>8}"
    )
    rows = []
    edge = 0.0
    # An overloaded server stretches the run past --duration: report until the last request.
    end = max(args.duration, max((s[0] for s in samples), default=0.0) + 1e-9)
    while edge < end:
        inside = [s for s in samples if edge <= s[0] < edge + window]
        latencies = [s[3] * 1000 for s in inside]
        errors = sum(1 for s in inside if s[2] == 0 or s[2] >= 500)
        rss = [m for t, m in memory.samples if t < edge + window]
        row = {
            "from_s": edge,
            "requests": len(inside),
            "errors": errors,
            "p50_ms": round(_percentile(latencies, 0.5), 1),
            "p95_ms": round(_percentile(latencies, 0.95), 1),
            "p99_ms": round(_percentile(latencies, 0.99), 1),
            "max_ms": round(max(latencies, default=float("nan")), 1),
            "rss_mib": round((rss[-1] if rss else 0) / MIB, 1),
        }
        rows.append(row)
        print(
            f"{edge:>5.0f}-{edge + window:>5.0f} s {row['requests']:>9,} {errors:>7} "
            f"{row['p50_ms']:>8.1f} {row['p95_ms']:>8.1f} {row['p99_ms']:>8.1f} "
            f"{row['max_ms']:>8.1f} {row['rss_mib']:>8.1f}"
        )
        edge += window
    baseline = rows[0]["rss_mib"] if rows else start_rss / MIB
    growth = end_rss / MIB - baseline
    print()
    print(
        f"server memory: {start_rss / MIB:.1f} MiB at start, {baseline:.1f} MiB after the first "
        f"window, {end_rss / MIB:.1f} MiB at the end (growth {growth:+.1f} MiB, allowed "
        f"{args.max_growth_mib:g})"
    )
    print(f"records: {acknowledged:,} acknowledged, {stored:,} in the database")
    problems = []
    if failures:
        problems.append(f"{failures} request(s) failed (5xx or no answer)")
    if stored != acknowledged:
        problems.append(f"the database holds {stored} records, {acknowledged} were acknowledged")
    if growth > args.max_growth_mib:
        problems.append(f"memory grew by {growth:.1f} MiB")
    print("result: " + ("; ".join(problems) if problems else "ok"))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps(
                {
                    "requests": len(samples),
                    "statuses": {str(k): v for k, v in statuses.items()},
                    "windows": rows,
                    "rss_start_mib": round(start_rss / MIB, 1),
                    "rss_end_mib": round(end_rss / MIB, 1),
                    "acknowledged": acknowledged,
                    "stored": stored,
                    "problems": problems,
                },
                indent=2,
            )
            + "\n"
        )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
