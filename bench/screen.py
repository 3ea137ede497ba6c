"""Benchmark of `stagecheck screen` from a JSONL file to a JSONL file, one core and all cores.

Issue 7 item 2. Writes N generated vacancies (bench/generate.py) to a temporary JSONL file,
then runs `stagecheck screen IN -o OUT --no-progress -j J` as a subprocess for each J (default
1, then 0 = all cores). For each run: wall time, texts/s, words/s, the peak memory of the
process tree (RSS summed over the process and its children, sampled every 0.2 s with psutil;
PSS as well where the kernel reports it, since forked workers share pages and summed RSS
counts them twice) and the speed-up over the -j 1 run. The output must hold N lines in input
order.

    .venv/bin/python bench/screen.py                 # 100,000 vacancies (issue 7)
    .venv/bin/python bench/screen.py --n 5000
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import psutil
from benchlib import environment, format_table
from generate import DEFAULT_SEED, iter_vacancies, record_id, write_jsonl

SAMPLE_SECONDS = 0.2
MB = 1024 * 1024


@dataclass
class TreeMemory:
    """Peak memory of a process tree, sampled in a background thread."""

    pid: int
    peak_rss: int = 0
    peak_pss: int = 0
    peak_processes: int = 0
    samples: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)

    def _sample(self) -> None:
        try:
            root = psutil.Process(self.pid)
            processes = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return
        rss = pss = 0
        alive = 0
        for process in processes:
            try:
                rss += process.memory_info().rss
                pss += getattr(process.memory_full_info(), "pss", 0)
                alive += 1
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
        self.peak_rss = max(self.peak_rss, rss)
        self.peak_pss = max(self.peak_pss, pss)
        self.peak_processes = max(self.peak_processes, alive)
        self.samples += 1

    def run(self) -> None:
        """Sample until stopped."""
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(SAMPLE_SECONDS)

    def stop(self) -> None:
        """Stop sampling (the thread ends within one interval)."""
        self._stop.set()


@dataclass
class ScreenRun:
    """What one `stagecheck screen` run measured."""

    jobs: int
    seconds: float
    memory: TreeMemory
    lines: int
    errors: int
    in_order: bool
    verdicts: Counter[str]


def stagecheck_command() -> list[str]:
    """The `stagecheck` console script of this interpreter's environment."""
    script = Path(sys.executable).with_name("stagecheck")
    if script.exists():
        return [str(script)]
    found = shutil.which("stagecheck")
    if found is None:
        raise SystemExit("bench: no `stagecheck` command; run `make` or install the project")
    return [found]


def check_output(path: Path, n: int) -> tuple[int, int, bool, Counter[str]]:
    """(lines, error lines, whether the ids are in input order, verdict counts)."""
    lines = errors = 0
    in_order = True
    verdicts: Counter[str] = Counter()
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            record = json.loads(line)
            lines += 1
            if record.get("id") != record_id(number):
                in_order = False
            if "error" in record:
                errors += 1
            else:
                verdicts[record["verdict"]] += 1
    return lines, errors, in_order and lines == n, verdicts


def _kill_tree(pid: int) -> None:
    """Kill the process `pid` that this script started, and its children."""
    try:
        root = psutil.Process(pid)
        processes = [*root.children(recursive=True), root]
    except psutil.NoSuchProcess:
        return
    for process in processes:
        try:
            process.kill()
        except psutil.NoSuchProcess:
            continue


def run_screen(
    source: Path, target: Path, jobs: int, n: int, rules_only: bool, timeout: float
) -> ScreenRun:
    """Run `stagecheck screen` once, sampling the memory of its process tree."""
    command = [*stagecheck_command(), "screen", str(source), "-o", str(target), "--no-progress"]
    command += ["-j", str(jobs)]
    if rules_only:
        command.append("--rules-only")
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    memory = TreeMemory(process.pid)
    sampler = threading.Thread(target=memory.run, daemon=True)
    sampler.start()
    try:
        _, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        # A pool whose initializer fails respawns workers forever; do not wait for that.
        _kill_tree(process.pid)
        _, stderr = process.communicate()
        memory.stop()
        raise SystemExit(
            f"bench: `{' '.join(command)}` did not finish within {timeout:.0f} s; last stderr:\n"
            f"{stderr.decode(errors='replace')[-2000:]}"
        ) from None
    seconds = time.perf_counter() - started
    memory.stop()
    sampler.join()
    # Exit status 1 means some lines failed (check_output counts them); anything else, or
    # no output file, is a failure of the command itself.
    if process.returncode not in (0, 1) or not target.exists():
        raise SystemExit(
            f"bench: `{' '.join(command)}` exited with {process.returncode}:\n"
            f"{stderr.decode(errors='replace')[-2000:]}"
        )
    lines, errors, in_order, verdicts = check_output(target, n)
    return ScreenRun(jobs, seconds, memory, lines, errors, in_order, verdicts)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="vacancies to screen")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument(
        "--jobs",
        default="1,0",
        help="comma-separated -j values to run, in order (0 = all cores); default 1,0",
    )
    parser.add_argument("--rules-only", action="store_true", help="without the model")
    parser.add_argument("--keep", type=Path, default=None, help="keep input and output here")
    parser.add_argument(
        "--timeout",
        type=float,
        default=None,
        help="seconds per run before it is killed (default: 300 + 0.2 s per text)",
    )
    args = parser.parse_args(argv)
    job_values = [int(j) for j in args.jobs.split(",")]

    print(environment())
    workdir = Path(args.keep or tempfile.mkdtemp(prefix="stagecheck-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        source = workdir / "vacancies.jsonl"
        started = time.perf_counter()
        with source.open("w", encoding="utf-8") as out:
            lines, words = write_jsonl(iter_vacancies(args.n, args.seed), out)
        print(
            f"{lines:,} generated vacancies, {words / lines:.0f} words on average, "
            f"{source.stat().st_size / MB:.0f} MB of JSONL, written in "
            f"{time.perf_counter() - started:.1f} s\n"
        )
        runs = []
        for jobs in job_values:
            target = workdir / f"screened-j{jobs}.jsonl"
            timeout = args.timeout or 300 + 0.2 * args.n
            run = run_screen(source, target, jobs, args.n, args.rules_only, timeout)
            runs.append(run)
            print(
                f"-j {jobs}: {run.seconds:.1f} s, {run.lines:,} lines, {run.errors} errors, "
                f"in order: {run.in_order}",
                flush=True,
            )
            if args.keep is None:
                target.unlink()
    finally:
        if args.keep is None:
            shutil.rmtree(workdir, ignore_errors=True)

    baseline = runs[0].seconds
    rows: list[list[object]] = []
    for run in runs:
        label = f"-j {run.jobs}" + (f" ({os.cpu_count()} cores)" if run.jobs == 0 else "")
        rows.append(
            [
                label,
                run.memory.peak_processes,
                run.seconds,
                lines / run.seconds,
                words / run.seconds,
                run.memory.peak_rss / MB,
                run.memory.peak_pss / MB if run.memory.peak_pss else "n/a",
                f"{baseline / run.seconds:.2f}x",
                "yes" if run.in_order else "NO",
            ]
        )
    print()
    print(
        format_table(
            [
                "run",
                "processes",
                "wall s",
                "texts/s",
                "words/s",
                "peak tree RSS MB",
                "peak tree PSS MB",
                "speed-up",
                f"{args.n:,} lines in order",
            ],
            rows,
        )
    )
    verdicts = runs[-1].verdicts
    print("\nverdicts: " + ", ".join(f"{k} {v}" for k, v in sorted(verdicts.items())))
    for run in runs:
        if run.jobs == 0:
            projected = 100_000 / (lines / run.seconds) / 60
            print(
                f"-j 0 at this rate: 100,000 vacancies in {projected:.1f} min "
                "(target <= 4 min, peak under 1 GB)"
            )
    ok = all(run.in_order and run.errors == 0 for run in runs)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
