"""A disk cache for data that is slow to build and wholly decided by the bytes it is built from.

Start-up spent most of its time rebuilding the same data (issue 7: cold start): the lemma
tables from spacy-lookups-data (about 1 s for Dutch) and the parsed lexicon YAML (0.5 s).
`cached(name, key, build)` returns `build()`, kept as a pickle under a name made from the
SHA-256 of `key`, so changed inputs make a new entry and a stale one is never read. A
missing, unreadable or corrupt entry is rebuilt; a cache directory that cannot be written
is skipped. Nothing about a text or a student goes here: only lexicon and lemma data.

The directory is `$STAGECHECK_CACHE_DIR`, else `$XDG_CACHE_HOME/stagecheck`, else
`~/.cache/stagecheck`; `STAGECHECK_CACHE_DIR=off` turns the cache off.
"""

from __future__ import annotations

import gc
import hashlib
import logging
import os
import pickle
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")

CACHE_ENV = "STAGECHECK_CACHE_DIR"
# Part of every key: bump it when what a `build` returns changes shape.
CACHE_FORMAT = b"stagecheck-cache-1"


def cache_dir() -> Path | None:
    """Where entries live, or None when the cache is turned off."""
    configured = os.environ.get(CACHE_ENV)
    if configured is not None:
        return None if configured.strip().lower() in ("", "off", "0", "false") else Path(configured)
    base = os.environ.get("XDG_CACHE_HOME")
    if not base:
        try:
            base = str(Path.home() / ".cache")
        except RuntimeError:  # no home directory (a system user): no cache, only slower
            return None
    return Path(base) / "stagecheck"


def cached(name: str, key: bytes, build: Callable[[], T]) -> T:
    """`build()`, read from the cache when an entry for (`name`, `key`) is there."""
    folder = cache_dir()
    if folder is None:
        return build()
    digest = hashlib.sha256(CACHE_FORMAT + b"\0" + name.encode() + b"\0" + key).hexdigest()
    path = folder / f"{name}-{digest[:40]}.pickle"
    try:
        with path.open("rb") as stream, gc_paused():
            return pickle.load(stream)
    except FileNotFoundError:
        pass
    except Exception as exc:  # a torn or foreign file: rebuild and replace it
        logger.warning(
            "cache entry %s unreadable (%s); rebuilding it", path.name, type(exc).__name__
        )
    value = build()
    _store(folder, path, value)
    return value


@contextmanager
def gc_paused() -> Iterator[None]:
    """The cyclic garbage collector off while long-lived objects are made, then as it was.

    Making many containers that stay (unpickling a cache entry or the model, or a whole
    start-up: service/startup.py) triggers collection after collection that find nothing.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _store(folder: Path, path: Path, value: object) -> None:
    """Write `value` to `path` atomically; a cache that cannot be written is only skipped."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, part = tempfile.mkstemp(dir=folder, prefix=path.name, suffix=".part")
        try:
            with os.fdopen(handle, "wb") as stream:
                pickle.dump(value, stream, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(part, path)
        except BaseException:
            Path(part).unlink(missing_ok=True)
            raise
    except OSError as exc:
        logger.info("cache %s not written (%s)", folder, type(exc).__name__)
