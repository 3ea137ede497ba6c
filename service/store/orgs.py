"""Organisations: schools and SBB. Every record and every key with a role belongs to one."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.errors import OrganisationExistsError, OrganisationNotFoundError, RoleError
from service.store.models import ORGANISATION_TYPES, ROLES, ApiKey, Organisation, utcnow


def create_organisation(session: Session, name: str, type_: str) -> Organisation:
    """Store a new organisation; raise OrganisationExistsError if the name is taken."""
    name = name.strip()
    if not name:
        raise OrganisationNotFoundError("an organisation needs a name")
    if type_ not in ORGANISATION_TYPES:
        raise RoleError(f"unknown organisation type {type_!r}; use school or sbb")
    existing = session.scalar(
        select(Organisation).where(func.lower(Organisation.name) == name.lower())
    )
    if existing is not None:
        raise OrganisationExistsError(
            f"organisation {existing.name!r} exists already (id {existing.id})"
        )
    organisation = Organisation(name=name, type=type_, created_at=utcnow())
    session.add(organisation)
    session.commit()
    return organisation


def find_organisation(session: Session, name: str) -> Organisation:
    """The organisation with this name (case-insensitive); raise if there is none."""
    organisation = session.scalar(
        select(Organisation).where(func.lower(Organisation.name) == name.strip().lower())
    )
    if organisation is None:
        raise OrganisationNotFoundError(
            f"no organisation named {name!r}; see `stagecheck orgs list`, or make it with "
            "`stagecheck orgs create --name NAME --type school|sbb`"
        )
    return organisation


def list_organisations(session: Session) -> list[tuple[Organisation, int]]:
    """Every organisation with its number of keys, oldest first."""
    counts = (
        select(ApiKey.organisation_id, func.count().label("keys"))
        .group_by(ApiKey.organisation_id)
        .subquery()
    )
    rows: Any = session.execute(
        select(Organisation, func.coalesce(counts.c["keys"], 0))
        .outerjoin(counts, counts.c.organisation_id == Organisation.id)
        .order_by(Organisation.id)
    )
    return [(organisation, int(keys)) for organisation, keys in rows]


def check_role(organisation: Organisation, role: str) -> None:
    """Raise RoleError unless `organisation` may give keys this `role`.

    `sbb` sees the records of every organisation, so only an SBB organisation can give it.
    """
    if role not in ROLES:
        raise RoleError(f"unknown role {role!r}; use officer, sbb or admin")
    if role == "sbb" and organisation.type != "sbb":
        raise RoleError(
            f"the role sbb sees every organisation's records; {organisation.name!r} is a "
            f"{organisation.type}, so give its keys officer or admin"
        )
