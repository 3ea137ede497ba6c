"""API keys: create, look up, list and revoke. Only a SHA-256 hash of each secret is kept."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from service.errors import KeyNotFoundError
from service.store.models import ApiKey, Organisation, utcnow
from service.store.orgs import check_role

KEY_PREFIX = "sc_"
_PREFIX_CHARS = 8  # of the random part, shown in `keys list` to tell keys apart


def generate_secret() -> str:
    """A new key: `sc_` and 256 random bits, URL-safe."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    """The stored form of a key. A plain SHA-256 suffices: the key has 256 bits of entropy."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def display_prefix(secret: str) -> str:
    """The part of a key that may be shown and logged, e.g. `sc_AbCdEfGh`."""
    return secret[: len(KEY_PREFIX) + _PREFIX_CHARS]


def create_key(
    session: Session,
    name: str,
    expires_at: datetime | None = None,
    organisation: Organisation | None = None,
    role: str | None = None,
) -> tuple[ApiKey, str]:
    """Store a new key named `name`; returns the row and the secret, which is never stored.

    With an organisation the key needs a role (officer, sbb or admin) and may keep records;
    without one it may only analyse.
    """
    if organisation is not None:
        check_role(organisation, role or "")
    elif role is not None:
        raise ValueError("a role needs an organisation")
    secret = generate_secret()
    key = ApiKey(
        name=name,
        prefix=display_prefix(secret),
        key_hash=hash_secret(secret),
        created_at=utcnow(),
        expires_at=expires_at,
        organisation_id=organisation.id if organisation is not None else None,
        organisation=organisation,
        role=role,
    )
    session.add(key)
    session.commit()
    return key, secret


def find_key(session: Session, secret: str) -> ApiKey | None:
    """The key whose hash matches `secret`, whatever its state, or None."""
    return session.scalars(select(ApiKey).where(ApiKey.key_hash == hash_secret(secret))).first()


def list_keys(session: Session, organisation_id: int | None = None) -> list[ApiKey]:
    """Every key (or every key of one organisation), oldest first."""
    query = select(ApiKey).order_by(ApiKey.id)
    if organisation_id is not None:
        query = query.where(ApiKey.organisation_id == organisation_id)
    return list(session.scalars(query))


def count_active_keys(session: Session, now: datetime | None = None) -> int:
    """How many keys are neither revoked nor expired."""
    moment = now or utcnow()
    query = (
        select(func.count())
        .select_from(ApiKey)
        .where(ApiKey.revoked_at.is_(None))
        .where(or_(ApiKey.expires_at.is_(None), ApiKey.expires_at > moment))
    )
    return int(session.scalar(query) or 0)


def revoke_key(session: Session, ident: str, organisation_id: int | None = None) -> ApiKey:
    """Revoke the key with this id or prefix; raise KeyNotFoundError if none or several match.

    With `organisation_id`, only that organisation's keys are considered.
    """
    query = select(ApiKey)
    if organisation_id is not None:
        query = query.where(ApiKey.organisation_id == organisation_id)
    if ident.isdigit():
        matches = list(session.scalars(query.where(ApiKey.id == int(ident))))
    else:
        matches = list(session.scalars(query.where(ApiKey.prefix == ident)))
    if len(matches) != 1:
        found = "no key" if not matches else f"{len(matches)} keys"
        raise KeyNotFoundError(f"{found} with id or prefix {ident!r}; see `stagecheck keys list`")
    key = matches[0]
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        session.commit()
    return key
