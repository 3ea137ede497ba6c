"""The cyclic garbage collector paused while a `stagecheck` process starts (issue 7).

Starting allocates objects that live as long as the process: modules, lexicons, pipelines,
the model. The collector still ran some 400 collections over them, a third of a second of
the service's cold start, and found about 4,000 objects to free. So the commands that load
the analyzer first thing (`serve`, `analyze`, `screen`) run with the collector paused
(`paused_until_started`) until the process has loaded what it keeps. `started()`, which
`load_analyzer` calls, then freezes those objects, which later collections skip and forked
workers do not copy, and turns the collector back on. This is the order Python's
documentation of `gc.freeze` gives for a process that forks: disable early, freeze before
the fork.

The few objects that were garbage at that moment stay frozen with the rest; collecting them
first would cost a full collection (0.2 s) and leave freed holes in the pages that forked
workers share.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

from nlp.diskcache import gc_paused

_paused = False  # whether paused_until_started turned the collector off


@contextmanager
def paused_until_started() -> Iterator[None]:
    """Run a command with the collector off until `started()`, or until the command ends.

    A process whose collector is already off keeps it as it is.
    """
    global _paused
    _paused = gc.isenabled()
    try:
        with gc_paused():
            yield
    finally:
        _paused = False


def started() -> None:
    """The process has loaded what it keeps: freeze it, and turn the collector back on."""
    global _paused
    gc.freeze()
    if _paused:
        _paused = False
        gc.enable()
