"""Cold start: process start to the first answered analysis, model load time, artefact size.

Issue 7 item 4. Each figure is the median of fresh processes, beside baselines measured in
the same run: a bare interpreter, and `import spacy` + `spacy.blank("nl")`.

- CLI: `stagecheck analyze --json -` on a short text on stdin, from spawn until the JSON has
  been read and the process has exited;
- service: `stagecheck serve` (1 and 2 workers, authentication off, scratch data directory),
  from spawn to the first 200 answer of POST /v1/analyze;
- a breakdown of one cold start in a fresh process: imports, lexicon, spaCy pipelines and
  matchers, model load (`load_artifact`), first analysis, peak RSS;
- the artefact's size on disk;
- with --train: `stagecheck train --no-card` into a temporary file (the real artefact and
  MODEL_CARD.md are not touched).

    .venv/bin/python bench/coldstart.py
    .venv/bin/python bench/coldstart.py --train
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchlib import environment, format_table, median

SHORT_TEXT = "Wij zoeken een jonge stagiair, max. 21 jaar. Hoofddoekjes zijn niet toegestaan.\n"
MB = 1024 * 1024

# Runs in a fresh interpreter; prints one JSON object with the phases of a cold start.
# The collector is paused as `stagecheck` pauses it while it loads (service/startup.py).
_BREAKDOWN = r"""
import json, resource, sys, time
t0 = time.perf_counter()
from service.startup import paused_until_started, started
with paused_until_started():
    import spacy
    t_spacy = time.perf_counter()
    from models.artifact import load_artifact, model_path
    from models.scorer import ModelScorer
    from nlp.analyzer import Analyzer
    from nlp.lexicon import default_lexicon
    t_imports = time.perf_counter()
    lexicon = default_lexicon()
    t_lexicon = time.perf_counter()
    artifact = load_artifact(model_path(), lexicon.digest)
    t_model = time.perf_counter()
    analyzer = Analyzer(lexicon, scorer=ModelScorer(artifact))
    started()
t_analyzer = time.perf_counter()
analysis = analyzer.analyze(sys.argv[1], kind="vacancy")
analysis.model_dump_json()
t_first = time.perf_counter()
analyzer.analyze(sys.argv[1], kind="vacancy")
t_second = time.perf_counter()
print(json.dumps({
    "import spacy": t_spacy - t0,
    "import nlp, models, service": t_imports - t_spacy,
    "lexicon (YAML + validation)": t_lexicon - t_imports,
    "model load (load_artifact)": t_model - t_lexicon,
    "Analyzer(): pipelines + matchers": t_analyzer - t_model,
    "first analysis + JSON": t_first - t_analyzer,
    "second analysis (warm)": t_second - t_first,
    "total in process": t_first - t0,
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "verdict": analysis.verdict.value,
}))
"""


def stagecheck_command() -> list[str]:
    """The `stagecheck` console script beside this interpreter."""
    script = Path(sys.executable).with_name("stagecheck")
    if not script.exists():
        raise SystemExit("bench: no `stagecheck` beside this Python; run `make` first")
    return [str(script)]


def time_process(command: list[str], stdin: bytes = b"") -> tuple[float, bytes]:
    """Seconds from spawn to exit of `command`, and its stdout; fails loudly on an error."""
    started = time.perf_counter()
    result = subprocess.run(command, input=stdin, capture_output=True, check=False)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(
            f"bench: `{' '.join(command)}` exited with {result.returncode}:\n"
            f"{result.stderr.decode(errors='replace')}"
        )
    return seconds, result.stdout


def time_service(workers: int = 1) -> tuple[float, float] | None:
    """Seconds from spawning `stagecheck serve` to its first answered POST /v1/analyze.

    Authentication off and a scratch data directory, on a free loopback port; polls every
    50 ms. Also returns the time to the first 200 from /ready; None when the service exits
    or does not answer within 180 s (for example when uvicorn's supervisor keeps killing
    workers that do not answer its 5 s health check while they load on a busy machine).
    """
    import os
    import signal
    import socket

    import httpx

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    with tempfile.TemporaryDirectory(prefix="stagecheck-bench-") as scratch:
        env = {k: v for k, v in os.environ.items() if not k.startswith("STAGECHECK_")}
        env.update(STAGECHECK_DATA_DIR=scratch, STAGECHECK_AUTH="disabled")
        subprocess.run(
            [*stagecheck_command(), "db", "upgrade"], env=env, capture_output=True, check=True
        )
        command = [*stagecheck_command(), "serve", "--host", "127.0.0.1", "--port", str(port)]
        command += ["--workers", str(workers)]
        started = time.perf_counter()
        server = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        ready = answered = 0.0
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
                while not answered:
                    if server.poll() is not None or time.perf_counter() - started > 180:
                        return None
                    try:
                        if not ready and client.get("/ready").status_code == 200:
                            ready = time.perf_counter() - started
                        response = client.post("/v1/analyze", json={"text": SHORT_TEXT})
                        if response.status_code == 200:
                            answered = time.perf_counter() - started
                            ready = ready or answered
                    except httpx.HTTPError:
                        pass
                    time.sleep(0.05)
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
    return answered, ready


def median_of(command: list[str], repeats: int, stdin: bytes = b"") -> tuple[float, float, float]:
    """(median, min, max) seconds over `repeats` fresh processes."""
    runs = [time_process(command, stdin)[0] for _ in range(repeats)]
    return median(runs), min(runs), max(runs)


def bytecode_status() -> str:
    """Whether our modules' compiled bytecode is there for a process to load.

    Without it a process that may not write __pycache__ (PYTHONDONTWRITEBYTECODE, as on the
    machine of issue 7's figures) compiles every module it imports, at every start.
    """
    root = Path(__file__).resolve().parents[1]
    sources = [
        path for part in ("nlp", "models", "service") for path in (root / part).rglob("*.py")
    ]
    stale = [path for path in sources if not _compiled(path)]
    if not stale:
        return f"bytecode of our {len(sources)} modules: compiled (`make bytecode`)"
    return (
        f"bytecode: {len(stale)} of our {len(sources)} modules not compiled, so compiled at "
        "every start unless Python may write __pycache__ (run `make bytecode`)"
    )


def _compiled(source: Path) -> bool:
    """Whether `source` has bytecode in __pycache__ written after its last change."""
    import importlib.util

    cached = Path(importlib.util.cache_from_source(str(source)))
    return cached.exists() and cached.stat().st_mtime >= source.stat().st_mtime


def main(argv: list[str] | None = None) -> int:
    """Run the cold-start measurements and print their tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="fresh processes per figure")
    parser.add_argument("--train", action="store_true", help="also time `stagecheck train`")
    parser.add_argument(
        "--service-workers",
        type=lambda value: [int(part) for part in value.split(",")],
        default=[1, 2],
        help="worker counts for the service's cold start (default 1,2)",
    )
    args = parser.parse_args(argv)

    from models.artifact import model_path

    artefact = model_path()
    if not artefact.exists():
        print(f"bench: no model at {artefact}; build it with `stagecheck train`", file=sys.stderr)
        return 2
    print(environment())
    print(f"artefact: {artefact} ({artefact.stat().st_size / MB:.1f} MB on disk)")
    print(f"{bytecode_status()}\n")

    python = sys.executable
    analyze = [*stagecheck_command(), "analyze", "--json", "-"]
    _, output = time_process(analyze, SHORT_TEXT.encode())
    verdict = json.loads(output)["verdict"]
    rows: list[list[object]] = []
    for label, command, stdin in (
        ("python -c pass (baseline)", [python, "-c", "pass"], b""),
        (
            'import spacy; spacy.blank("nl") (baseline)',
            [python, "-c", "import spacy; spacy.blank('nl')('test')"],
            b"",
        ),
        (f"stagecheck analyze --json - (verdict {verdict})", analyze, SHORT_TEXT.encode()),
    ):
        mid, low, high = median_of(command, args.repeats, stdin)
        rows.append([label, args.repeats, mid, low, high])
    for workers in args.service_workers:
        runs = [time_service(workers) for _ in range(args.repeats)]
        answered = [run[0] for run in runs if run is not None]
        if not answered:
            rows.append(
                [f"stagecheck serve --workers {workers}: no answer in 180 s", 0, "", "", ""]
            )
            continue
        rows.append(
            [
                f"stagecheck serve --workers {workers}: spawn to first POST /v1/analyze 200",
                len(answered),
                median(answered),
                min(answered),
                max(answered),
            ]
        )
    print("process start to first answer, seconds (fresh processes)")
    print(format_table(["command", "runs", "median s", "min s", "max s"], rows))

    phases: dict[str, list[float]] = {}
    rss: list[float] = []
    for _ in range(args.repeats):
        _, output = time_process([python, "-c", _BREAKDOWN, SHORT_TEXT])
        result = json.loads(output)
        rss.append(float(result.pop("peak_rss_mb")))
        result.pop("verdict")
        for phase, seconds in result.items():
            phases.setdefault(phase, []).append(float(seconds))
    print(f"\nphases of one cold start in a fresh process, median of {args.repeats}")
    print(
        format_table(
            ["phase", "median s", "min s", "max s"],
            [[phase, median(v), min(v), max(v)] for phase, v in phases.items()],
        )
    )
    print(f"peak RSS of that process (ru_maxrss): {median(rss):.0f} MB (median)")

    if args.train:
        with tempfile.TemporaryDirectory(prefix="stagecheck-bench-") as workdir:
            target = Path(workdir) / "model.joblib"
            command = [*stagecheck_command(), "train", "--no-card", "-o", str(target)]
            seconds, output = time_process(command)
            size = target.stat().st_size / MB
        print(f"\nstagecheck train --no-card: {seconds:.1f} s wall, artefact {size:.1f} MB")
        for line in output.decode().splitlines():
            print(f"  {line}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
