"""Planted personal data for the privacy tests of the API and of the web page, and the
helpers that search a database and a download for it."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

from sqlalchemy import MetaData, select

from service.redaction import eleven_test
from service.store.db import make_engine


@dataclass(frozen=True)
class Person:
    """A student with the personal data a message may carry."""

    first: str
    last: str
    email: str
    phone: str
    bsn: str

    @property
    def planted(self) -> list[str]:
        """Every string that must not be found unredacted."""
        digits = "".join(ch for ch in self.phone if ch.isdigit())
        return [
            self.first,
            self.last,
            f"{self.first} {self.last}",
            self.email,
            self.phone,
            digits,
            self.bsn,
        ]


# Employers' messages and an officer's note that quote a student's name, phone, e-mail and
# BSN: the privacy tests send them through every route (placeholders filled per Person).
MESSAGES_WITH_PERSONAL_DATA = [
    "Beste {first} {last},\n\nBedankt voor je sollicitatie. Helaas zoeken wij iemand van "
    "max. 22 jaar. Bel gerust {phone} of mail {email}. Je BSN {bsn} hebben we niet nodig.\n\n"
    "Met vriendelijke groet,\nRichard Smeets\nBakkerij De Korenbloem",
    "Hoi {first},\n\nWe hebben een Nederlandse stagiair gekozen. Vragen? {email} of {phone}.\n"
    "Naam: {first} {last}\nBSN: {bsn}\n\nGroeten,\nPetra",
    "Vandaag sprak ik met mevrouw {last} over de stage. Student {first} {last} "
    "(tel. {phone}, {email}, burgerservicenummer {bsn}) mag geen hoofddoek dragen op de werkvloer.",
]


def bsns(count: int, start: int) -> list[str]:
    """`count` numbers from `start` up that pass the BSN eleven-test."""
    found: list[str] = []
    number = start
    while len(found) < count:
        if eleven_test(str(number)):
            found.append(str(number))
        number += 7
    return found


def database_dump(url: str) -> str:
    """Every row of every table, as text."""
    engine = make_engine(url)
    try:
        metadata = MetaData()
        metadata.reflect(engine)
        with engine.connect() as connection:
            return "\n".join(
                repr(row)
                for table in metadata.sorted_tables
                for row in connection.execute(select(table))
            )
    finally:
        engine.dispose()


def unzipped(content: bytes) -> str:
    """The text of every member of a zip (an XLSX workbook)."""
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return "".join(archive.read(n).decode("utf-8", "replace") for n in archive.namelist())
