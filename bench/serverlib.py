"""Processes for the soak and fault tests: a throwaway PostgreSQL cluster and `stagecheck serve`.

Loopback only. The cluster belongs to the `postgres` user when run as root (initdb refuses
root), as in .ci/run; it lives in a temporary folder and is removed afterwards.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"


def free_port() -> int:
    """A TCP port on loopback that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def postgres_bin() -> Path | None:
    """The newest PostgreSQL server binaries installed, or None."""
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: p.parent.name)
    return candidates[-1] if candidates and (candidates[-1] / "pg_ctl").exists() else None


@dataclass
class PostgresCluster:
    """A running throwaway cluster: its URL, and how to stop and start it again."""

    folder: Path
    port: int
    bin: Path

    @property
    def url(self) -> str:
        """SQLAlchemy URL of its `postgres` database for the trusted user `app`."""
        return f"postgresql+psycopg://app@{HOST}:{self.port}/postgres"

    def _as_owner(self, *command: str) -> subprocess.CompletedProcess[bytes]:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        return subprocess.run([*prefix, *command], check=True, capture_output=True)

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        self._as_owner(
            str(self.bin / "pg_ctl"),
            *("-D", str(self.folder / "data"), "-l", str(self.folder / "postgres.log")),
            *("-o", f"-k {self.folder} -p {self.port} -c listen_addresses={HOST}", "-w"),
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (`immediate` is like pulling the plug)."""
        self._as_owner(
            str(self.bin / "pg_ctl"), "-D", str(self.folder / "data"), "-m", mode, "-w", "stop"
        )


@contextmanager
def postgres_cluster() -> Iterator[PostgresCluster]:
    """A new PostgreSQL cluster on a free loopback port, removed afterwards."""
    binaries = postgres_bin()
    if binaries is None:
        raise RuntimeError("PostgreSQL is not installed (apt-get install -y postgresql)")
    folder = Path(tempfile.mkdtemp(prefix="stagecheck-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    cluster = PostgresCluster(folder, free_port(), binaries)
    try:
        cluster._as_owner(
            str(binaries / "initdb"),
            *("-D", str(folder / "data"), "-U", "app", "--auth=trust", "-E", "UTF8"),
            "--locale=C.UTF-8",
        )
        cluster.start()
        yield cluster
    finally:
        with suppress(subprocess.CalledProcessError):
            cluster.stop("immediate")
        shutil.rmtree(folder, ignore_errors=True)


def server_env(data_dir: Path, database_url: str, rules_only: bool) -> dict[str, str]:
    """The environment of a server process: no STAGECHECK_ setting of the caller leaks in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STAGECHECK_")}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    env.update(
        STAGECHECK_DATA_DIR=str(data_dir),
        STAGECHECK_DATABASE_URL=database_url,
        STAGECHECK_RATE_LIMIT_PER_MINUTE="0",
        STAGECHECK_RULES_ONLY="true" if rules_only else "false",
        STAGECHECK_PURGE_INTERVAL_HOURS="0",
        PYTHONUNBUFFERED="1",
    )
    return env


class Server:
    """`stagecheck serve` in a child process on a free loopback port."""

    def __init__(
        self,
        data_dir: Path,
        database_url: str,
        log_path: Path,
        workers: int = 1,
        rules_only: bool = True,
        port: int | None = None,
        settings: dict[str, str] | None = None,
        ready_path: str = "/health",
    ) -> None:
        self.data_dir = data_dir
        self.database_url = database_url
        self.log_path = log_path
        self.workers = workers
        self.rules_only = rules_only
        self.port = port or free_port()
        self.ready_path = ready_path
        # The process's environment; `settings` (STAGECHECK_... values) override the defaults.
        self.env = {**server_env(data_dir, database_url, rules_only), **(settings or {})}
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        """The base URL."""
        return f"http://{HOST}:{self.port}"

    def start(self, timeout: float = 120) -> None:
        """Start it and wait until `ready_path` answers 200."""
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    *("-m", "service.cli", "serve", "--host", HOST, "--port", str(self.port)),
                    *("--workers", str(self.workers)),
                ],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"server exited with {self.process.returncode}:\n{self.log_path.read_text()}"
                )
            try:
                if httpx.get(f"{self.base}{self.ready_path}", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"server not up in {timeout:.0f} s:\n{self.log_path.read_text()}"
                )
            time.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL: no draining, no clean-up, as in a crash or an OOM kill."""
        if self.process and self.process.poll() is None:
            # The server and its workers: kill the workers first so none outlives it.
            try:
                import psutil

                for child in psutil.Process(self.process.pid).children(recursive=True):
                    child.kill()
            except Exception:  # pragma: no cover - the process went away by itself
                pass
            self.process.kill()
            self.process.wait(timeout=30)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 60 s."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.kill()


def prepare_database(database_url: str) -> dict[str, str]:
    """Migrate the database and make two schools and SBB with keys; returns role -> secret."""
    sys.path.insert(0, str(ROOT))
    from service.store.db import make_engine, make_session_factory
    from service.store.keys import create_key
    from service.store.migrate import upgrade
    from service.store.orgs import create_organisation

    upgrade(database_url)
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine)() as session:
            alfa = create_organisation(session, "ROC Alfa", "school")
            beta = create_organisation(session, "ROC Beta", "school")
            sbb = create_organisation(session, "SBB", "sbb")
            return {
                "officer_a": create_key(session, "soak Alfa", organisation=alfa, role="officer")[1],
                "officer_b": create_key(session, "soak Beta", organisation=beta, role="officer")[1],
                "sbb": create_key(session, "soak SBB", organisation=sbb, role="sbb")[1],
            }
    finally:
        engine.dispose()


def count_records(database_url: str) -> int:
    """How many records the database holds."""
    from sqlalchemy import text

    from service.store.db import make_engine

    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(text("SELECT count(*) FROM records")).scalar_one())
    finally:
        engine.dispose()
