"""Who is calling: API keys from `Authorization: Bearer` or `X-API-Key`, and the rate limit."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import SQLAlchemyError

from service.problem import (
    API_KEY_INVALID,
    API_KEY_MISSING,
    RATE_LIMITED,
    SERVICE_UNAVAILABLE,
    ProblemError,
)
from service.state import ServiceState
from service.store.keys import find_key, hash_secret
from service.store.models import ApiKey, utcnow
from service.store.records import Actor, Scope

logger = logging.getLogger(__name__)

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="stagecheck"'}


@dataclass(frozen=True)
class Caller:
    """The authenticated caller (a key), or an address when authentication is disabled.

    A key of an organisation carries its role: `officer` and `admin` see their own
    organisation's records, `sbb` every organisation's.
    """

    identity: str
    key_id: int | None = None
    key_prefix: str | None = None
    key_name: str | None = None
    organisation_id: int | None = None
    organisation_name: str | None = None
    organisation_type: str | None = None
    role: str | None = None
    expires_at: datetime | None = None

    @property
    def scope(self) -> Scope:
        """The records this caller may read (only meaningful with an organisation)."""
        return Scope(None if self.role == "sbb" else self.organisation_id)

    @property
    def actor(self) -> Actor:
        """How the caller appears in a record's history."""
        if self.key_id is None:
            return Actor(key_id=None, label=self.identity)
        return Actor(key_id=self.key_id, label=f"{self.key_name} ({self.key_prefix})")


def caller_of(key: ApiKey) -> Caller:
    """The caller a stored key stands for."""
    organisation = key.organisation
    return Caller(
        identity=f"key:{key.id}",
        key_id=key.id,
        key_prefix=key.prefix,
        key_name=key.name,
        organisation_id=organisation.id if organisation else None,
        organisation_name=organisation.name if organisation else None,
        organisation_type=organisation.type if organisation else None,
        role=key.role,
        expires_at=key.expires_at,
    )


def presented_key(authorization: str | None, x_api_key: str | None) -> str | None:
    """The key in the headers; Authorization must then be Bearer."""
    if authorization:
        scheme, _, credentials = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not credentials.strip():
            raise ProblemError(
                API_KEY_INVALID,
                "the Authorization header must be `Bearer <key>`",
                headers=_CHALLENGE,
            )
        return credentials.strip()
    if x_api_key:
        return x_api_key.strip()
    return None


def authenticate(
    state: ServiceState, authorization: str | None, x_api_key: str | None, address: str
) -> Caller:
    """The caller of a request; raise a 401 problem for a missing or unusable key."""
    if not state.settings.auth_enabled:
        return Caller(identity=f"addr:{address}")
    secret = presented_key(authorization, x_api_key)
    if secret is None:
        raise ProblemError(
            API_KEY_MISSING,
            "send an API key as `Authorization: Bearer <key>` or `X-API-Key: <key>`",
            headers=_CHALLENGE,
        )
    digest = hash_secret(secret)
    try:
        with state.sessions() as session:
            key = find_key(session, secret)
            caller = caller_of(key) if key is not None else None
            key_state = key.state(utcnow()) if key is not None else "unknown"
    except SQLAlchemyError as exc:
        known = state.known_keys.get(digest)
        if known is not None and (known.expires_at is None or known.expires_at > utcnow()):
            # The database is down, but this key was valid a moment ago: let it analyse.
            # Anything that needs the database still gets a 503 further on.
            logger.warning("key lookup failed (%s); using the key as last seen", type(exc).__name__)
            return known
        logger.error("key lookup failed: %s", type(exc).__name__)
        raise ProblemError(
            SERVICE_UNAVAILABLE, "the key database does not answer; try again later"
        ) from exc
    if caller is None:
        raise ProblemError(API_KEY_INVALID, "the API key is not known", headers=_CHALLENGE)
    if key_state != "active":
        state.known_keys.pop(digest, None)
        raise ProblemError(API_KEY_INVALID, f"the API key is {key_state}", headers=_CHALLENGE)
    state.remember_key(digest, caller)
    return caller


def rate_limit(state: ServiceState, caller: Caller) -> dict[str, str]:
    """Count one request of `caller`; raise a 429 problem when over the limit.

    Returns the headers that tell the caller where it stands.
    """
    decision = state.limiter.hit(caller.identity)
    if not state.limiter.enabled:
        return {}
    headers = {
        "X-RateLimit-Limit": str(decision.limit),
        "X-RateLimit-Remaining": str(decision.remaining),
    }
    if not decision.allowed:
        raise ProblemError(
            RATE_LIMITED,
            f"more than {decision.limit} requests a minute; retry in {decision.retry_after} s",
            headers={**headers, "Retry-After": str(decision.retry_after)},
        )
    return headers
