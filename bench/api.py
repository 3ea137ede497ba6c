"""HTTP benchmark: `stagecheck serve` under load from a separate process, on loopback only.

    .venv/bin/python bench/api.py [--duration 20] [--concurrency 1,16,64] [--workers 1,2]
                                  [--rules-only]

Issue 7 item 3. First the baseline, in this process: `Analyzer.analyze` of the same vacancy
one at a time (analyses/s, the median of timed rounds before and after the HTTP runs). Then,
for each `--workers` value:

starts the server on a free 127.0.0.1 port with a scratch data directory and a fresh API
key (authentication on, rate limit off), then for each `--concurrency` value drives it from
a separate load process with that many keep-alive connections: POST /v1/analyze with a
Dutch vacancy of about 250 words for `--duration` seconds (and GET /health for as long at
the first concurrency). Prints requests/s, p50/p95/p99 latency, requests/s as a share of
the in-process analyses/s, and the server's peak memory (all its processes, and each
process's kernel high-water mark). Every phase stops at its duration or at
`--max-requests`, whichever comes first.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

HOST = "127.0.0.1"  # loopback only, by design: there is no flag to change it

VACANCY = (
    "Stagiair(e) logistiek en magazijn – Van der Linden Groothandel (BOL, niveau 2 of 3)\n\n"
    "Over ons\n"
    "Van der Linden Groothandel is een familiebedrijf in Tilburg met veertig medewerkers. "
    "Wij leveren verse groente, fruit en zuivel aan restaurants, zorginstellingen en "
    "scholen in de regio. Ons magazijn draait van maandag tot en met zaterdag, en we werken "
    "met een klein, hecht team dat elkaar goed kent.\n\n"
    "Wat ga je doen?\n"
    "Als stagiair help je bij het ontvangen en controleren van binnenkomende leveringen. Je "
    "verzamelt orders met een handscanner, je pakt ze in en je zorgt dat ze op tijd klaar "
    "staan voor de chauffeurs. Daarnaast leer je werken met ons voorraadsysteem en help je "
    "bij de wekelijkse inventarisatie. Na een paar weken mag je onder begeleiding met de "
    "elektrische pompwagen rijden.\n\n"
    "Wat vragen wij?\n"
    "- Je volgt een opleiding Logistiek medewerker of Medewerker warehousing\n"
    "- Je bent max. 23 jaar en past in ons jonge team\n"
    "- Nederlands is je moedertaal\n"
    "- Je bent fit en hebt geen rugklachten\n"
    "- Je bent beschikbaar op minimaal drie dagen per week, ook op zaterdag\n"
    "- Je kunt goed samenwerken en je neemt zelf initiatief\n\n"
    "Wat bieden wij?\n"
    "Een stagevergoeding van € 350 per maand, werkkleding en veiligheidsschoenen, een "
    "vaste begeleider die je elke week spreekt, en gratis lunch in onze kantine. Na je stage "
    "is er misschien een bijbaan of een BBL-plek voor je.\n\n"
    "Interesse?\n"
    "Stuur je cv en een korte motivatie naar Marieke de Groot, stage@vanderlinden.example. "
    "Heb je vragen? Bel ons gerust op 013 123 45 67. We nodigen kandidaten binnen twee "
    "weken uit voor een kennismakingsgesprek in het magazijn."
)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


# -- load process ---------------------------------------------------------------------------


def _request(method: str, path: str, port: int, key: str, body: bytes = b"") -> bytes:
    lines = [
        f"{method} {path} HTTP/1.1",
        f"Host: {HOST}:{port}",
        f"X-API-Key: {key}",
        "Connection: keep-alive",
    ]
    if body:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def _connection(
    port: int, request: bytes, deadline: float, budget: list[int], out: dict[str, Any]
) -> None:
    # A minimal HTTP/1.1 keep-alive client: cheap enough that the server, not the client,
    # sets the pace (a general-purpose client costs more CPU than GET /health does).
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        while time.perf_counter() < deadline and budget[0] > 0:
            budget[0] -= 1
            started = time.perf_counter()
            writer.write(request)
            await writer.drain()
            status = int((await reader.readline()).split()[1])
            length = 0
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b""):
                    break
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            await reader.readexactly(length)
            out["latencies"].append(time.perf_counter() - started)
            if status != 200:
                out["errors"] += 1
    finally:
        writer.close()


def _load_phase(
    port: int, request: bytes, concurrency: int, duration: float, max_requests: int
) -> dict[str, Any]:
    out: dict[str, Any] = {"latencies": [], "errors": 0}

    async def run() -> float:
        budget = [max_requests]
        started = time.perf_counter()
        deadline = started + duration
        await asyncio.gather(
            *(_connection(port, request, deadline, budget, out) for _ in range(concurrency))
        )
        return time.perf_counter() - started

    out["elapsed"] = asyncio.run(run())
    return out


def _load_process(conn: Any, port: int, key: str, args: dict[str, Any]) -> None:
    """Entry point of the separate load process: run both phases, send the results back."""
    analyze = _request(
        "POST",
        "/v1/analyze",
        port,
        key,
        json.dumps({"text": VACANCY, "kind": "vacancy"}).encode(),
    )
    health = _request("GET", "/health", port, key)
    results = {}
    phases = [("POST /v1/analyze", analyze)]
    if args["health"]:
        phases.append(("GET /health", health))
    for name, request in phases:
        results[name] = _load_phase(
            port, request, args["concurrency"], args["duration"], args["max_requests"]
        )
    conn.send(results)
    conn.close()


# -- server ---------------------------------------------------------------------------------


@dataclass
class MemoryWatch:
    """Samples the resident memory of the server and its workers until stopped."""

    root: psutil.Process
    peak_total: int = 0
    running: bool = True

    def processes(self) -> list[psutil.Process]:
        """The server process and its children."""
        try:
            return [self.root, *self.root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def run(self) -> None:
        """Sample every 0.2 s."""
        while self.running:
            total = 0
            for process in self.processes():
                try:
                    total += process.memory_info().rss
                except psutil.NoSuchProcess:
                    continue
            self.peak_total = max(self.peak_total, total)
            time.sleep(0.2)

    def high_water_marks(self) -> dict[int, int]:
        """The kernel's peak RSS (VmHWM) of each process, in bytes."""
        marks = {}
        for process in self.processes():
            try:
                status = Path(f"/proc/{process.pid}/status").read_text()
            except OSError:
                continue
            for line in status.splitlines():
                if line.startswith("VmHWM:"):
                    marks[process.pid] = int(line.split()[1]) * 1024
        return marks


def _percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(fraction * (len(sorted_values) - 1))))
    return sorted_values[index]


def _prepare_data(data_dir: Path) -> str:
    from service.store.db import make_engine, make_session_factory
    from service.store.keys import create_key
    from service.store.migrate import upgrade

    url = f"sqlite:///{data_dir / 'stagecheck.db'}"
    upgrade(url)
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        _, secret = create_key(session, "bench")
    engine.dispose()
    return secret


def _in_process_rate(seconds: float, rules_only: bool) -> tuple[float, float]:
    """Analyses/s of VACANCY with `Analyzer.analyze` in this process, and ms per analysis."""
    from service.runtime import load_analyzer

    analyzer = load_analyzer(rules_only=rules_only)
    for _ in range(5):
        analyzer.analyze(VACANCY, kind="vacancy")
    rounds: list[float] = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline or len(rounds) < 5:
        started = time.perf_counter()
        for _ in range(10):
            analyzer.analyze(VACANCY, kind="vacancy")
        rounds.append((time.perf_counter() - started) / 10)
    rounds.sort()
    per_call = rounds[len(rounds) // 2]
    return 1 / per_call, 1000 * per_call


@dataclass
class ServerRun:
    """The figures of one server (one --workers value) under every concurrency."""

    workers: int
    results: dict[int, dict[str, Any]]
    card: dict[str, Any]
    sample: dict[str, Any]
    ready_seconds: float
    started_memory: int
    peak_total: int
    marks: dict[int, int]
    # Established connections per worker process during each concurrency's POST phase: the
    # workers share one listening socket, and whichever wakes first accepts what is queued.
    splits: dict[int, list[int]] = field(default_factory=dict)


def _serve_and_load(workers: int, concurrencies: list[int], args: Any) -> ServerRun | None:
    """Start `stagecheck serve --workers N`, load it at each concurrency, stop it."""
    with tempfile.TemporaryDirectory(prefix="stagecheck-bench-") as scratch:
        data_dir = Path(scratch) / "data"
        key = _prepare_data(data_dir)
        port = _free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("STAGECHECK_")}
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        env.update(
            STAGECHECK_DATA_DIR=str(data_dir),
            STAGECHECK_RATE_LIMIT_PER_MINUTE="0",
            STAGECHECK_RULES_ONLY="true" if args.rules_only else "false",
            PYTHONUNBUFFERED="1",
        )
        if args.analysis_threads is not None:
            env["STAGECHECK_ANALYSIS_THREADS"] = str(args.analysis_threads)
        log_path = Path(scratch) / "server.log"
        spawned = time.perf_counter()
        with log_path.open("wb") as log:
            server = subprocess.Popen(
                [
                    sys.executable,
                    *("-m", "service.cli", "serve", "--host", HOST, "--port", str(port)),
                    *("--workers", str(workers)),
                ],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        watch = MemoryWatch(psutil.Process(server.pid))
        watcher = threading.Thread(target=watch.run, daemon=True)
        watcher.start()
        results: dict[int, dict[str, Any]] = {}
        splits: dict[int, list[int]] = {}
        try:
            base = f"http://{HOST}:{port}"
            deadline = time.monotonic() + 120
            while True:
                if server.poll() is not None:
                    print(log_path.read_text(), file=sys.stderr)
                    print(f"server exited with {server.returncode}", file=sys.stderr)
                    return None
                try:
                    if httpx.get(f"{base}/ready", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    print(log_path.read_text(), file=sys.stderr)
                    return None
                time.sleep(0.1)
            ready_seconds = time.perf_counter() - spawned
            started_memory = sum(p.memory_info().rss for p in watch.processes())
            headers = {"X-API-Key": key}
            card = httpx.get(f"{base}/v1/model", headers=headers).json()
            sample = httpx.post(
                f"{base}/v1/analyze", json={"text": VACANCY}, headers=headers, timeout=30
            ).json()
            context = multiprocessing.get_context("spawn")
            for number, concurrency in enumerate(concurrencies):
                receiver, sender = context.Pipe(duplex=False)
                loader = context.Process(
                    target=_load_process,
                    args=(
                        sender,
                        port,
                        key,
                        {
                            "concurrency": concurrency,
                            "duration": args.duration,
                            "max_requests": args.max_requests,
                            "health": number == 0,
                        },
                    ),
                )
                loader.start()
                time.sleep(min(1.0, args.duration / 4))  # the connections are open by then
                splits[concurrency] = _connections_per_worker(watch, port, workers)
                results[concurrency] = receiver.recv()
                loader.join(timeout=30)
        finally:
            watch.running = False
            marks = watch.high_water_marks()
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=60)
            except subprocess.TimeoutExpired:
                server.kill()
        watcher.join(timeout=2)
    return ServerRun(
        workers,
        results,
        card,
        sample,
        ready_seconds,
        started_memory,
        watch.peak_total,
        marks,
        splits,
    )


def _connections_per_worker(watch: MemoryWatch, port: int, workers: int) -> list[int]:
    """Established client connections on `port` held by each worker, most first."""
    counts = []
    for process in watch.processes():
        try:
            listing = getattr(process, "net_connections", process.connections)(kind="tcp")
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        held = sum(
            1 for c in listing if c.status == psutil.CONN_ESTABLISHED and c.laddr.port == port
        )
        if held or workers == 1:
            counts.append(held)
    return sorted(counts, reverse=True)


def _int_list(value: str) -> list[int]:
    return [int(part) for part in value.split(",") if part.strip()]


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per phase")
    parser.add_argument(
        "--concurrency", type=_int_list, default=[1, 16, 64], help="keep-alive connections"
    )
    parser.add_argument("--workers", type=_int_list, default=[1, 2], help="server worker processes")
    parser.add_argument(
        "--max-requests", type=int, default=1_000_000, help="upper bound per endpoint"
    )
    parser.add_argument(
        "--baseline-seconds", type=float, default=5.0, help="in-process timing, each side"
    )
    parser.add_argument("--rules-only", action="store_true", help="serve without the model")
    parser.add_argument(
        "--analysis-threads",
        type=int,
        default=None,
        help="STAGECHECK_ANALYSIS_THREADS for the server (default: the service's default)",
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    if not 0 < args.duration <= 300:
        parser.error("--duration must be between 0 and 300 seconds")
    if not args.concurrency or not all(0 < c <= 256 for c in args.concurrency):
        parser.error("--concurrency must be between 1 and 256")
    if not args.workers or not all(0 < w <= 16 for w in args.workers):
        parser.error("--workers must be between 1 and 16")

    load_before = os.getloadavg()
    rate_before, _ = _in_process_rate(args.baseline_seconds, args.rules_only)
    runs: list[ServerRun] = []
    for workers in args.workers:
        run = _serve_and_load(workers, args.concurrency, args)
        if run is None:
            print(f"bench: the server with {workers} workers did not start", file=sys.stderr)
            continue
        runs.append(run)
    if not runs:
        return 1
    rate_after, _ = _in_process_rate(args.baseline_seconds, args.rules_only)
    in_process = (rate_before + rate_after) / 2
    load_after = os.getloadavg()

    words = len(VACANCY.split())
    mib = 1024 * 1024
    card, sample = runs[0].card, runs[0].sample
    print(f"Stagecheck API benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(
        f"server   stagecheck serve --workers N on {HOST}, model_version "
        f"{card['model_version']} ({card['mode']}), API key auth on, rate limit off, "
        "access log on"
    )
    print(
        f"load     separate process, keep-alive connections, {args.duration:g} s per phase, "
        f"at most {args.max_requests:,} requests each"
    )
    print(
        f"text     Dutch vacancy, {words} words, {len(VACANCY):,} characters "
        f"(verdict {sample['verdict']}, {len(sample['findings'])} findings)"
    )
    print(
        f"machine  {os.cpu_count()} cores, load average {load_before[0]:.2f} at start, "
        f"{load_after[0]:.2f} at the end (shared with other processes: expect noise)"
    )
    print(
        f"baseline in-process Analyzer.analyze of the same text, one process: "
        f"{in_process:.1f} analyses/s ({1000 / in_process:.1f} ms each; {rate_before:.1f} "
        f"before and {rate_after:.1f} after the HTTP runs)"
    )
    print()
    header = (
        f"{'workers':>7} {'conc':>4} {'endpoint':<18} {'requests':>9} {'errors':>6} "
        f"{'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'vs in-process':>13}"
    )
    print(header)
    print("-" * len(header))
    figures: list[dict[str, Any]] = []
    failed = False
    for run in runs:
        for concurrency, phases in run.results.items():
            for name, result in phases.items():
                latencies = sorted(result["latencies"])
                count = len(latencies)
                rate = count / result["elapsed"] if result["elapsed"] else 0.0
                p50, p95, p99 = (1000 * _percentile(latencies, q) for q in (0.50, 0.95, 0.99))
                share = f"{rate / in_process:.0%}" if name.startswith("POST") else ""
                failed = failed or bool(result["errors"])
                figures.append(
                    {
                        "workers": run.workers,
                        "concurrency": concurrency,
                        "endpoint": name,
                        "requests": count,
                        "errors": result["errors"],
                        "requests_per_second": round(rate, 1),
                        "p50_ms": round(p50, 1),
                        "p95_ms": round(p95, 1),
                        "p99_ms": round(p99, 1),
                    }
                )
                print(
                    f"{run.workers:>7} {concurrency:>4} {name:<18} {count:>9,} "
                    f"{result['errors']:>6,} {rate:>8.1f} {p50:>8.1f} {p95:>8.1f} {p99:>8.1f} "
                    f"{share:>13}"
                )
    print()
    for run in runs:
        per_process = ", ".join(f"{mark / mib:.0f}" for mark in run.marks.values())
        print(
            f"workers {run.workers}: ready {run.ready_seconds:.1f} s after spawn; "
            f"{run.started_memory / mib:.0f} MiB RSS when ready; peak "
            f"{run.peak_total / mib:.0f} MiB RSS (all server processes, sampled every 0.2 s); "
            f"kernel peak per process (VmHWM): {per_process} MiB"
        )
        if run.workers > 1:
            shares = "; ".join(
                f"concurrency {c}: {' + '.join(str(n) for n in split)}"
                for c, split in run.splits.items()
            )
            print(f"workers {run.workers}: connections held per worker process: {shares}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps(
                {
                    "figures": figures,
                    "in_process_per_second": round(in_process, 1),
                    "model_version": card["model_version"],
                    "mode": card["mode"],
                    "duration": args.duration,
                },
                indent=2,
            )
            + "\n"
        )
    return 1 if failed or len(runs) < len(args.workers) else 0


if __name__ == "__main__":
    sys.exit(main())
