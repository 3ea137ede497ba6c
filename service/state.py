"""What one worker process holds while it serves: analyzer, database, rate limiter, model card.

Built once in the app's lifespan. Start-up refuses, with a message that says what to do,
a database that is behind and an authenticated service without any key.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, TypeVar

import anyio
import anyio.to_thread
from sqlalchemy import Engine
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm import Session, sessionmaker

from nlp.analyzer import Analyzer
from service.batching import AnalysisBatcher
from service.config import Settings
from service.model_card import build_model_card
from service.problem import SERVICE_UNAVAILABLE, ProblemError
from service.ratelimit import RateLimiter
from service.schemas import ModelCard
from service.store.checks import check_database
from service.store.db import make_engine, make_session_factory
from service.store.models import utcnow
from service.store.records import purge_records

if TYPE_CHECKING:
    from service.security import Caller

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Errors that mean "the database does not answer" rather than "the query is wrong".
UNAVAILABLE_ERRORS = (OperationalError, InterfaceError, DisconnectionError, PoolTimeoutError)
KNOWN_KEYS_MAX = 10_000

AUTH_DISABLED_WARNING = (
    "AUTHENTICATION IS DISABLED (STAGECHECK_AUTH=disabled): anyone who can reach this port "
    "can use the API, and nobody can keep records. Use this only on your own machine; "
    "create keys with `stagecheck keys create --org NAME --role ROLE` and unset "
    "STAGECHECK_AUTH for anything else."
)


@dataclass
class ServiceState:
    """The long-lived objects of one worker."""

    settings: Settings
    analyzer: Analyzer
    engine: Engine
    sessions: sessionmaker[Session]
    limiter: RateLimiter
    model_card: ModelCard
    analysis_slots: anyio.CapacityLimiter = field(repr=False)
    batcher: AnalysisBatcher = field(repr=False)

    known_keys: dict[str, Caller] = field(default_factory=dict, repr=False)

    async def run_analysis(self, func: Callable[[], T]) -> T:
        """Run CPU-bound analysis in a worker thread, never on the event loop."""
        return await anyio.to_thread.run_sync(func, limiter=self.analysis_slots)

    async def run_db(self, func: Callable[[Session], T]) -> T:
        """Run `func` with a session in a worker thread; a database that does not answer
        becomes a 503 problem (the session's transaction is rolled back, nothing half-written).
        """

        def call() -> T:
            with self.sessions() as session:
                return func(session)

        try:
            return await anyio.to_thread.run_sync(call)
        except UNAVAILABLE_ERRORS as exc:
            logger.error("database unavailable: %s", type(exc).__name__)
            raise ProblemError(
                SERVICE_UNAVAILABLE, "the database does not answer; nothing was stored, try again"
            ) from exc

    def remember_key(self, digest: str, caller: Caller) -> None:
        """Keep a key that was just found valid, for analysis while the database is down."""
        if len(self.known_keys) >= KNOWN_KEYS_MAX and digest not in self.known_keys:
            self.known_keys.clear()
        self.known_keys[digest] = caller

    def purge(self) -> int:
        """Delete the records past retention; logs and returns the count (never contents)."""
        return purge_expired(self.sessions, self.settings.retention_days)

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()


def purge_expired(sessions: sessionmaker[Session], retention_days: int) -> int:
    """Delete records older than `retention_days`; log how many, nothing else."""
    before = utcnow() - timedelta(days=retention_days)
    with sessions() as session:
        deleted = purge_records(session, before)
    logger.info(
        "retention: deleted %d record(s) older than %d days (before %s)",
        deleted,
        retention_days,
        before.strftime("%Y-%m-%d %H:%M UTC"),
    )
    return deleted


async def purge_periodically(state: ServiceState, first_delay: float = 60.0) -> None:
    """Run the retention purge every STAGECHECK_PURGE_INTERVAL_HOURS, first soon after start.

    Every worker runs it; deleting what another worker already deleted is harmless. A failing
    run is logged and tried again at the next interval.
    """
    interval = state.settings.purge_interval_hours * 3600
    await anyio.sleep(min(first_delay, interval))
    while True:
        try:
            await anyio.to_thread.run_sync(state.purge)
        except Exception as exc:
            logger.error("retention purge failed: %s", type(exc).__name__)
        await anyio.sleep(interval)


def build_state(settings: Settings, analyzer: Analyzer | None = None) -> ServiceState:
    """Check the database, build (or take) the analyzer, and assemble the worker's state."""
    engine = make_engine(settings.resolved_database_url)
    try:
        check_database(settings, engine)
        if not settings.auth_enabled:
            logger.warning(AUTH_DISABLED_WARNING)
        if analyzer is None:
            from service.runtime import load_analyzer

            analyzer = load_analyzer(
                rules_only=settings.rules_only, max_chars=settings.max_text_chars
            )
    except Exception:
        engine.dispose()
        raise
    slots = anyio.CapacityLimiter(settings.analysis_threads)
    state = ServiceState(
        settings=settings,
        analyzer=analyzer,
        engine=engine,
        sessions=make_session_factory(engine),
        limiter=RateLimiter(settings.rate_limit_per_minute),
        model_card=build_model_card(analyzer),
        analysis_slots=slots,
        batcher=AnalysisBatcher(analyzer, slots),
    )
    logger.info(
        "service ready: model_version=%s mode=%s auth=%s rate_limit=%d/min database=%s",
        analyzer.model_version,
        state.model_card.mode,
        settings.auth,
        settings.rate_limit_per_minute,
        engine.url.render_as_string(hide_password=True),
    )
    return state
