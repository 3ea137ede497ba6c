"""Errors of the service: configuration and storage problems that stop start-up or a command."""

from __future__ import annotations

from nlp.errors import StagecheckError


class ServiceError(StagecheckError):
    """Base of the service's own errors."""

    code = "service-error"


class ServiceConfigError(ServiceError):
    """The settings do not allow the service to start (for example: auth on, no key)."""

    code = "service-config"


class StoreError(ServiceError):
    """The database cannot be used."""

    code = "store-error"


class DatabaseUnreachableError(StoreError):
    """The database cannot be opened or queried."""

    code = "database-unreachable"


class DatabaseBehindError(StoreError):
    """The database schema is older than this release; `stagecheck db upgrade` fixes it."""

    code = "database-behind"


class DatabaseAheadError(StoreError):
    """The database carries a schema revision this release does not know (a newer release)."""

    code = "database-ahead"


class KeyNotFoundError(StoreError):
    """No API key matches the given id or prefix."""

    code = "key-not-found"


class OrganisationNotFoundError(StoreError):
    """No organisation has the given name."""

    code = "organisation-not-found"


class OrganisationExistsError(StoreError):
    """An organisation with this name exists already."""

    code = "organisation-exists"


class RoleError(ServiceError):
    """A role that the organisation cannot give (for example `sbb` at a school)."""

    code = "invalid-role"


class UserNotFoundError(StoreError):
    """No account has the given e-mail address (or the address is not one)."""

    code = "user-not-found"


class UserExistsError(StoreError):
    """An account with this e-mail address exists already."""

    code = "user-exists"


class WeakPasswordError(ServiceError):
    """A password the service does not accept (too short or too long)."""

    code = "weak-password"
