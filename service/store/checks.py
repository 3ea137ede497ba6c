"""The start-up checks of the database, light enough for `serve`'s supervisor.

`serve` runs them once before any worker starts; importing them must not import the web
app or spaCy, which the workers import themselves (issue 7, cold start).
"""

from __future__ import annotations

from sqlalchemy import Engine

from service.config import Settings
from service.errors import ServiceConfigError
from service.store.db import make_session_factory
from service.store.keys import count_active_keys
from service.store.migrate import require_current_schema
from service.store.users import count_active_users


def check_database(settings: Settings, engine: Engine) -> None:
    """Refuse a database that is behind, and an authenticated service without keys."""
    require_current_schema(engine)
    if not settings.auth_enabled:
        return
    with make_session_factory(engine)() as session:
        active = count_active_keys(session) + count_active_users(session)
    if active == 0:
        raise ServiceConfigError(
            "no API key or web account is configured, so nobody could use the service: "
            "create an account with `stagecheck users create --org NAME --role officer "
            "--email ADDRESS`, or a key with "
            "`stagecheck keys create --org NAME --role officer` (after `stagecheck orgs "
            "create`) or `stagecheck keys create --name NAME`, or set STAGECHECK_AUTH=disabled "
            "for local use only"
        )
