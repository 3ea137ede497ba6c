"""What the Batch, Opvolging, Bedrijven and Overzicht pages share.

Filters from the query string are read leniently: a value the page cannot use becomes a
Dutch message on the page, never a 422.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from service.web.auth import WebUser

DATE_FORMAT_HINT = "jjjj-mm-dd"


def owner_of(user: WebUser) -> str:
    """The owner of a user's batch jobs."""
    return f"user:{user.id}"


def scope_label(user: WebUser) -> str:
    """Whose records the pages show, in Dutch."""
    return "alle organisaties (landelijk)" if user.role == "sbb" else user.organisation_name


def may_change(user: WebUser, organisation_id: int) -> bool:
    """Whether the user may change a record of `organisation_id`: only its own organisation's
    (SBB reads every organisation's records but changes only its own)."""
    return user.organisation_id == organisation_id


@dataclass
class QueryProblems:
    """Dutch messages about query parameters the page ignored."""

    messages: list[str] = field(default_factory=list)


def parse_day(value: str | None, name: str, problems: QueryProblems) -> date | None:
    """A `YYYY-MM-DD` date from the query string; a bad one is reported and ignored."""
    if not value:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        problems.messages.append(f"De datum bij '{name}' is ongeldig; gebruik {DATE_FORMAT_HINT}.")
        return None


def day_range(
    start: date | None, end: date | None, problems: QueryProblems
) -> tuple[datetime | None, datetime | None]:
    """Dates `van` and `tot en met` (inclusive, UTC) as a half-open range of timestamps."""
    begin = datetime.combine(start, time.min, tzinfo=UTC) if start else None
    stop = datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC) if end else None
    if begin is not None and stop is not None and stop <= begin:
        problems.messages.append("De einddatum ligt voor de begindatum; die is genegeerd.")
        stop = None
    return begin, stop


def choice(value: str | None, allowed: Any, name: str, problems: QueryProblems) -> str | None:
    """`value` if it is one of `allowed` (empty means no filter); otherwise reported, None."""
    if not value:
        return None
    if value in allowed:
        return value
    problems.messages.append(f"Onbekende waarde voor '{name}'; dat filter is genegeerd.")
    return None


def page_number(value: str | None) -> int:
    """A page number from the query string, at least 1."""
    try:
        return max(1, int(value or "1"))
    except ValueError:
        return 1
