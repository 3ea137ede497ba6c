"""Where multi-worker metrics are kept; importable before prometheus-client is.

prometheus-client picks in-process or multiprocess values when it is imported, from
PROMETHEUS_MULTIPROC_DIR, so `serve` sets that variable before anything imports it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def prepare_multiprocess_dir(path: Path) -> Path:
    """Empty `path` for a new server run (stale samples would add up) and return it."""
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path
