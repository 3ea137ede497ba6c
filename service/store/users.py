"""Personal accounts of the web page: create, sign in (with lock-out), sign out everywhere.

Passwords are hashed with Argon2id (pwdlib's recommended hasher); only the hash is kept.
After `max_failures` wrong passwords in a row an account is locked for a while, whatever
password is tried then. Sign-in answers an unknown address exactly like a wrong password,
and spends the same time on it (a hash of a dummy password), so the page does not tell
which addresses have an account.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from pwdlib import PasswordHash
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.errors import UserExistsError, UserNotFoundError, WeakPasswordError
from service.store.models import Organisation, User, utcnow
from service.store.orgs import check_role

MIN_PASSWORD_CHARS = 12
MAX_PASSWORD_CHARS = 1024


@lru_cache(maxsize=1)
def password_hasher() -> PasswordHash:
    """Argon2id with pwdlib's recommended parameters."""
    return PasswordHash.recommended()


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return password_hasher().hash("stagecheck-no-such-user")


def normalise_email(email: str) -> str:
    """The stored form of an address: trimmed, lower case."""
    return email.strip().lower()


def check_password(password: str) -> None:
    """Raise WeakPasswordError for a password that is too short or too long."""
    if len(password) < MIN_PASSWORD_CHARS:
        raise WeakPasswordError(f"a password needs at least {MIN_PASSWORD_CHARS} characters")
    if len(password) > MAX_PASSWORD_CHARS:
        raise WeakPasswordError(f"a password may hold at most {MAX_PASSWORD_CHARS} characters")


def create_user(
    session: Session, organisation: Organisation, role: str, email: str, password: str
) -> User:
    """Store a new account; raise UserExistsError, RoleError or WeakPasswordError."""
    address = normalise_email(email)
    if "@" not in address or address.startswith("@") or address.endswith("@"):
        raise UserNotFoundError(f"{email!r} is not an e-mail address")
    check_role(organisation, role)
    check_password(password)
    if find_user(session, address) is not None:
        raise UserExistsError(f"an account for {address} exists already")
    user = User(
        email=address,
        password_hash=password_hasher().hash(password),
        organisation_id=organisation.id,
        organisation=organisation,
        role=role,
        created_at=utcnow(),
        failed_logins=0,
        session_epoch=0,
    )
    session.add(user)
    session.commit()
    return user


def find_user(session: Session, email: str) -> User | None:
    """The account with this address (case-insensitive), or None."""
    return session.scalar(select(User).where(func.lower(User.email) == normalise_email(email)))


def get_user(session: Session, user_id: int) -> User | None:
    """The account with this id, or None."""
    return session.get(User, user_id)


def list_users(session: Session, organisation_id: int | None = None) -> list[User]:
    """Every account (or every account of one organisation), oldest first."""
    query = select(User).order_by(User.id)
    if organisation_id is not None:
        query = query.where(User.organisation_id == organisation_id)
    return list(session.scalars(query))


def count_active_users(session: Session) -> int:
    """How many accounts are not disabled."""
    query = select(func.count()).select_from(User).where(User.disabled_at.is_(None))
    return int(session.scalar(query) or 0)


def set_password(session: Session, user: User, password: str) -> None:
    """Give the account a new password; this ends its sessions and lifts a lock-out."""
    check_password(password)
    user.password_hash = password_hasher().hash(password)
    user.failed_logins = 0
    user.locked_until = None
    user.session_epoch += 1
    session.commit()


def set_disabled(session: Session, user: User, disabled: bool) -> None:
    """Disable (ending its sessions) or enable an account."""
    user.disabled_at = utcnow() if disabled else None
    if disabled:
        user.session_epoch += 1
    session.commit()


def end_sessions(session: Session, user_id: int) -> None:
    """Sign the user out everywhere: every session cookie issued so far stops working."""
    user = get_user(session, user_id)
    if user is not None:
        user.session_epoch += 1
        session.commit()


@dataclass(frozen=True)
class SignIn:
    """The outcome of a sign-in attempt: the user, or why not (`wrong` or `locked`)."""

    user: User | None
    problem: str | None = None
    locked_until: datetime | None = None


class _UnknownAddresses:
    """Failures for addresses without an account, so they lock exactly like real ones."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._failures: dict[str, tuple[int, datetime | None]] = {}

    def fail(self, address: str, now: datetime, max_failures: int, lockout: timedelta) -> SignIn:
        with self._lock:
            if len(self._failures) > 10_000:
                self._failures.clear()
            count, until = self._failures.get(address, (0, None))
            if until is not None and until > now:
                return SignIn(None, "locked", until)
            count += 1
            until = now + lockout if count >= max_failures else None
            self._failures[address] = (0 if until else count, until)
            return SignIn(None, "locked" if until else "wrong", until)


_unknown = _UnknownAddresses()


def sign_in(
    session: Session,
    email: str,
    password: str,
    max_failures: int,
    lockout: timedelta,
    now: datetime | None = None,
) -> SignIn:
    """Check a password, counting failures; a locked account is refused without a check."""
    moment = now or utcnow()
    address = normalise_email(email)
    user = find_user(session, address) if address else None
    if user is None or user.disabled_at is not None:
        password_hasher().verify(password[:MAX_PASSWORD_CHARS], _dummy_hash())
        return _unknown.fail(address, moment, max_failures, lockout)
    if user.locked_until is not None and user.locked_until > moment:
        return SignIn(None, "locked", user.locked_until)
    valid, new_hash = password_hasher().verify_and_update(
        password[:MAX_PASSWORD_CHARS], user.password_hash
    )
    if not valid:
        user.failed_logins += 1
        if user.failed_logins >= max_failures:
            user.failed_logins = 0
            user.locked_until = moment + lockout
            session.commit()
            return SignIn(None, "locked", user.locked_until)
        session.commit()
        return SignIn(None, "wrong")
    if new_hash is not None:
        user.password_hash = new_hash
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = moment
    session.commit()
    return SignIn(user)
