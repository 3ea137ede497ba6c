"""The collector paused while a command loads: back on afterwards, whatever happens.

A process left with its cyclic garbage collector off would grow for as long as it runs, so
each case runs in a fresh interpreter and reports the collector's state as JSON.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def run_python(code: str, stdin: str = "") -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-c", code],
        input=stdin.encode(),
        capture_output=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode()
    return dict(json.loads(result.stdout.decode().splitlines()[-1]))


def test_paused_until_started_turns_the_collector_off_then_on_and_freezes() -> None:
    state = run_python(
        """
import gc, json
from service.startup import paused_until_started, started
with paused_until_started():
    during = gc.isenabled()
    started()
    after_started = gc.isenabled()
    frozen = gc.get_freeze_count()
print(json.dumps({"during": during, "after_started": after_started, "frozen": frozen,
                  "after": gc.isenabled()}))
"""
    )
    assert state == {**state, "during": False, "after_started": True, "after": True}
    assert state["frozen"] > 1000


def test_collector_comes_back_when_the_command_fails_before_loading() -> None:
    state = run_python(
        """
import gc, json
from service.startup import paused_until_started
@paused_until_started()
def command():
    raise RuntimeError("no model")
try:
    command()
except RuntimeError:
    pass
print(json.dumps({"enabled": gc.isenabled(), "frozen": gc.get_freeze_count()}))
"""
    )
    assert state == {"enabled": True, "frozen": 0}


def test_a_process_that_turned_the_collector_off_keeps_it_off() -> None:
    state = run_python(
        """
import gc, json
from service.startup import paused_until_started, started
gc.disable()
with paused_until_started():
    started()
print(json.dumps({"enabled": gc.isenabled()}))
"""
    )
    assert state == {"enabled": False}


def test_analyze_command_collects_again_after_loading_the_analyzer() -> None:
    state = run_python(
        """
import contextlib, gc, io, json, sys
from service.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    code = main(["analyze", "--json", "-"])
print(json.dumps({"code": code, "enabled": gc.isenabled(), "frozen": gc.get_freeze_count()}))
""",
        stdin="Wij zoeken een jonge stagiair, max. 21 jaar.\n",
    )
    assert state["code"] == 0
    assert state["enabled"] is True
    assert state["frozen"] > 100_000  # modules, lexicons, pipelines and model
