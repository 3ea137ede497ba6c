"""The caller's organisation, and its keys for the role admin."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from service.deps import JsonBody, MemberDep, StateDep
from service.errors import KeyNotFoundError, RoleError
from service.openapi_examples import json_examples, request_body
from service.problem import (
    API_KEY_INVALID,
    API_KEY_MISSING,
    FORBIDDEN,
    MALFORMED_JSON,
    NOT_FOUND,
    RATE_LIMITED,
    SERVICE_UNAVAILABLE,
    UNSUPPORTED_MEDIA_TYPE,
    VALIDATION_ERROR,
    FieldError,
    ProblemError,
    problem_responses,
    validation_problem,
)
from service.schemas import KeyCreate, KeyCreated, KeyOut, OrganisationOut
from service.security import Caller
from service.store.keys import create_key, list_keys, revoke_key
from service.store.models import ApiKey, Organisation, utcnow

router = APIRouter(prefix="/v1", tags=["organisation"])

_PROBLEMS = (API_KEY_MISSING, API_KEY_INVALID, FORBIDDEN, RATE_LIMITED, SERVICE_UNAVAILABLE)


def key_out(key: ApiKey) -> KeyOut:
    """A key as the API shows it."""
    return KeyOut(
        id=key.id,
        prefix=key.prefix,
        name=key.name,
        role=key.role,  # type: ignore[arg-type]
        state=key.state(utcnow()),  # type: ignore[arg-type]
        created_at=key.created_at,
        expires_at=key.expires_at,
        revoked_at=key.revoked_at,
    )


def _require_admin(caller: Caller) -> None:
    if caller.role != "admin":
        raise ProblemError(
            FORBIDDEN, f"managing keys needs the role admin; this key is {caller.role}"
        )


@router.get(
    "/organisation",
    response_model=OrganisationOut,
    response_model_exclude_none=True,
    summary="Your organisation",
    description="The organisation and role of the key; for admins also every key of the "
    "organisation (never the keys themselves).",
    responses={**json_examples("organisation"), **problem_responses(*_PROBLEMS)},
)
async def organisation(state: StateDep, caller: MemberDep) -> OrganisationOut:
    """GET /v1/organisation."""

    def run(session: Session) -> OrganisationOut:
        keys = None
        if caller.role == "admin":
            keys = [key_out(k) for k in list_keys(session, caller.organisation_id)]
        return OrganisationOut(
            name=str(caller.organisation_name),
            type=caller.organisation_type,  # type: ignore[arg-type]
            role=caller.role,  # type: ignore[arg-type]
            key=str(caller.key_prefix),
            keys=keys,
        )

    return await state.run_db(run)


@router.post(
    "/keys",
    response_model=KeyCreated,
    status_code=201,
    summary="Make a key (admin)",
    description="A new key of the admin's own organisation, with the role officer or admin "
    "(sbb only in an SBB organisation). The key is in the response this once; only its hash "
    "is kept.",
    openapi_extra=request_body("KeyCreate", "key_create"),
    responses={
        **json_examples("key_create", 201),
        **problem_responses(*_PROBLEMS, MALFORMED_JSON, UNSUPPORTED_MEDIA_TYPE, VALIDATION_ERROR),
    },
)
async def create(body: JsonBody, state: StateDep, caller: MemberDep) -> KeyCreated:
    """POST /v1/keys."""
    _require_admin(caller)
    try:
        wanted = KeyCreate.model_validate(body)
    except ValidationError as exc:
        raise validation_problem(exc) from None

    def run(session: Session) -> KeyCreated:
        organisation = session.get(Organisation, caller.organisation_id)
        assert organisation is not None
        expires = utcnow() + timedelta(days=wanted.expires_days) if wanted.expires_days else None
        try:
            key, secret = create_key(
                session, wanted.name, expires, organisation=organisation, role=wanted.role
            )
        except RoleError as exc:
            raise ProblemError(
                VALIDATION_ERROR,
                str(exc),
                errors=[FieldError(field="role", message=str(exc), type="role")],
            ) from None
        return KeyCreated(**key_out(key).model_dump(), key=secret)

    return await state.run_db(run)


@router.delete(
    "/keys/{key_id}",
    status_code=204,
    response_class=Response,
    summary="Revoke a key (admin)",
    description="The key stops working at its next request. Only keys of the admin's own "
    "organisation; any other id is 404.",
    responses=problem_responses(*_PROBLEMS, NOT_FOUND, VALIDATION_ERROR),
)
async def revoke(key_id: int, state: StateDep, caller: MemberDep) -> Response:
    """DELETE /v1/keys/{key_id}."""
    _require_admin(caller)

    def run(session: Session) -> None:
        try:
            key = revoke_key(session, str(key_id), organisation_id=caller.organisation_id)
        except KeyNotFoundError:
            raise ProblemError(NOT_FOUND, f"no key {key_id} in your organisation") from None
        # Forget it here at once; other workers see the revocation at its next lookup.
        state.known_keys = {d: c for d, c in state.known_keys.items() if c.key_id != key.id}

    await state.run_db(run)
    return Response(status_code=204)
