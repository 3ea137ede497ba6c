"""Redaction of personal data before a record is written, and offsets that stay right.

Each table reads like the rule it tests: what must go, what must stay. Offsets are checked
through `redacted_analysis`, the function that builds what is stored: after redaction every
finding's `text[start:end]` is its quote.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nlp.analyzer import Analyzer
from service.recordkeeping import redacted_analysis
from service.redaction import PLACEHOLDERS, eleven_test, find_personal_data, redact

ROOT = Path(__file__).resolve().parents[2]


def kinds(text: str) -> list[tuple[str, str]]:
    """(kind, original substring) of everything the redactor takes out."""
    return [(kind, text[start:end]) for start, end, kind in find_personal_data(text)]


# -- each kind of personal data ---------------------------------------------------------------

EMAILS = [
    ("Mail je cv naar jan.jansen@example.nl.", "jan.jansen@example.nl"),
    ("Contact: p&o@desmaakfabriek.nl", "p&o@desmaakfabriek.nl"),
    (
        "Stuur naar fatima.el-amrani+stage@student.roc.nl vandaag",
        "fatima.el-amrani+stage@student.roc.nl",
    ),
    ("mail: jan [at] bedrijf.nl", "jan [at] bedrijf.nl"),
    ("E-MAIL: INFO@BEDRIJF.COM", "INFO@BEDRIJF.COM"),
]


@pytest.mark.parametrize(("text", "found"), EMAILS)
def test_email_addresses(text: str, found: str) -> None:
    assert kinds(text) == [("email", found)]


PHONES = [
    ("Bel 06-12345678 gerust.", "06-12345678"),
    ("Bel 06 1234 5678 gerust.", "06 1234 5678"),
    ("Bel 06 12 34 56 78 gerust.", "06 12 34 56 78"),
    ("Bel 0612345678 gerust.", "0612345678"),
    ("Bel 06 - 12345678 gerust.", "06 - 12345678"),
    ("Tel. 020-1234567", "020-1234567"),
    ("Tel. 020 123 4567", "020 123 4567"),
    ("Tel. (010) 123 45 67", "(010) 123 45 67"),
    ("Tel. 0570-555 341", "0570-555 341"),
    ("Call +31 6 1234 5678 now", "+31 6 1234 5678"),
    ("Call +31612345678 now", "+31612345678"),
    ("Call +31(0)6-12345678 now", "+31(0)6-12345678"),
    ("Call +31 (0)20 123 4567 now", "+31 (0)20 123 4567"),
    ("Bel 0031 6 12345678", "0031 6 12345678"),
    ("Belgium: +32 470 12 34 56.", "+32 470 12 34 56"),
    ("London: +44 20 7946 0958.", "+44 20 7946 0958"),
    ("Germany: 0049 30 1234567.", "0049 30 1234567"),
    ("US: +1 (555) 123-4567.", "+1 (555) 123-4567"),
    ("Appen naar Joost: 06-28841902", "06-28841902"),
]


@pytest.mark.parametrize(("text", "found"), PHONES)
def test_phone_numbers_dutch_and_international(text: str, found: str) -> None:
    assert kinds(text) == [("phone", found)]


NOT_PHONES = [
    "Je bent tussen de 17 en 21 jaar.",
    "Begin op 01-03-2024 om 09:00-17:00 uur.",
    "Werktijden 09.00 - 17.00 uur, 2 x per week.",
    "Stagevergoeding € 300 per maand, 24/7 bereikbaar.",
    "KvK 12345678, btw NL001234567B01.",
    "Bel 0800-1234 (gratis).",
    "Postcode 3511 AB.",
    "Bestelnummer 123-456.",
]


@pytest.mark.parametrize("text", NOT_PHONES)
def test_dates_times_amounts_and_kvk_numbers_are_not_phone_numbers(text: str) -> None:
    assert [k for k, _ in kinds(text) if k == "phone"] == []


IBANS = [
    ("IBAN NL91 ABNA 0417 1643 00 ten name van J. Jansen", "NL91 ABNA 0417 1643 00"),
    ("Rekening NL91ABNA0417164300.", "NL91ABNA0417164300"),
    ("rekening nl91abna0417164300", "nl91abna0417164300"),
    ("Belgisch: BE68 5390 0754 7034.", "BE68 5390 0754 7034"),
    ("Deutsch: DE89 3704 0044 0532 0130 00", "DE89 3704 0044 0532 0130 00"),
    # A Dutch-shaped IBAN with a typo in it is still someone's account number.
    ("IBAN NL12 ABNA 0417 1643 00", "NL12 ABNA 0417 1643 00"),
]


@pytest.mark.parametrize(("text", "found"), IBANS)
def test_ibans(text: str, found: str) -> None:
    assert kinds(text) == [("iban", found)]


def test_a_foreign_iban_shape_with_a_bad_checksum_stays() -> None:
    assert [k for k, _ in kinds("Code DE00 3704 0044 0532 0130 00") if k == "iban"] == []


@pytest.mark.parametrize(
    ("digits", "valid"),
    [
        ("111222333", True),
        ("123456782", True),
        ("012345672", True),
        ("111222334", False),
        ("123456789", False),
        ("000000000", False),
        ("12345678", False),
    ],
)
def test_the_eleven_test(digits: str, valid: bool) -> None:
    assert eleven_test(digits) is valid


BSNS = [
    ("Mijn BSN is 111222333.", "111222333"),
    ("Burgerservicenummer: 1234.56.782", "1234.56.782"),
    ("BSN 123 456 782", "123 456 782"),
    ("bsn: 12345672", "12345672"),  # eight digits after the word BSN: a lost leading zero
]


@pytest.mark.parametrize(("text", "found"), BSNS)
def test_bsns_that_pass_the_eleven_test(text: str, found: str) -> None:
    assert kinds(text) == [("bsn", found)]


@pytest.mark.parametrize(
    "text",
    [
        "Ordernummer 123456789.",  # fails the eleven-test
        "KvK 12345672.",  # eight digits without the word BSN: a KvK number
        "Telefoon 0612345678.",  # ten digits: a phone number, not a BSN
    ],
)
def test_other_numbers_are_not_bsns(text: str) -> None:
    assert [k for k, _ in kinds(text) if k == "bsn"] == []


ADDRESSES = [
    ("Postcode 3511 AB 7a, Utrecht", "3511 AB 7a"),
    ("Adres: 1234AB-12", "1234AB-12"),
    ("1234 AB, 12 (bel aan)", "1234 AB, 12"),
    ("Ik woon op de Kerkstraat 12, 1234 AB Utrecht.", "Kerkstraat 12, 1234 AB"),
    ("Stationsweg 44\n8011 CZ Zwolle", "Stationsweg 44\n8011 CZ"),
    ("Kom langs op de Lindelaan 4?", "Lindelaan 4"),
]


@pytest.mark.parametrize(("text", "found"), ADDRESSES)
def test_postcodes_with_house_numbers_and_street_addresses(text: str, found: str) -> None:
    assert kinds(text) == [("address", found)]


@pytest.mark.parametrize(
    "text",
    ["Wij zitten in 3511 AB Utrecht.", "Sinds 2015 werken wij met 12 mensen.", "Om 9 uur"],
)
def test_a_postcode_alone_and_plain_numbers_stay(text: str) -> None:
    assert kinds(text) == []


URLS = [
    (
        "Solliciteer via https://portal.example.nl/vacature?id=123&student=fatima.",
        "https://portal.example.nl/vacature?id=123&student=fatima",
    ),
    (
        "Link: www.stages.nl/apply?token=abc123 (geldig tot vrijdag)",
        "www.stages.nl/apply?token=abc123",
    ),
    (
        "Zie http://x.example/a?mail=jan@example.nl",
        "http://x.example/a?mail=jan@example.nl",
    ),
]


@pytest.mark.parametrize(("text", "found"), URLS)
def test_urls_with_a_query_string(text: str, found: str) -> None:
    assert kinds(text) == [("url", found)]


def test_urls_without_a_query_stay() -> None:
    assert kinds("Kijk op www.bedrijf.nl of https://bedrijf.nl/over-ons.") == []


NAMES = [
    ("Beste Fatima,\n\nBedankt voor je sollicitatie.", ["Fatima"]),
    ("Hoi Sven, sorry dat ik nu pas reageer.", ["Sven"]),
    ("Hoi Sven\nWe hebben je cv bekeken.", ["Sven"]),
    ("hoi samira, sorry dat ik nu pas reageer.", ["samira"]),
    ("hoi jessica. we hebben je sollicitatie bekeken", ["jessica"]),
    ("Beste Fatima El Amrani,", ["Fatima El Amrani"]),
    ("Geachte mevrouw El Amrani,", ["El Amrani"]),
    ("Geachte heer De Vries, dank voor uw brief.", ["De Vries"]),
    ("Geachte heer Kowalski,", ["Kowalski"]),
    ("Dear Ms. Bouzid,\n\nThank you.", ["Bouzid"]),
    ("Hi Ricardo,\n\nThanks for applying.", ["Ricardo"]),
    ("Met vriendelijke groet, Richard Smeets", ["Richard Smeets"]),
    ("Met vriendelijke groet,\nRichard Smeets\nHR-manager", ["Richard Smeets"]),
    ("Met vriendelijke groet,\n\nMarloes Verbeek\nBedrijfsleider", ["Marloes Verbeek"]),
    ("Kind regards,\nRobert-Jan Timmermans\nFront Office Manager", ["Robert-Jan Timmermans"]),
    ("Regards,\nA. Dekker", ["A. Dekker"]),
    ("Groetjes,\nPeter", ["Peter"]),
    ("Mvg Linda de Boer", ["Linda de Boer"]),
    ("Best of luck,\nNadine de Kock", ["Nadine de Kock"]),
    ("Succes! Groet, Peter", ["Peter"]),
    ("Met vriendelijke groet,\nJan van der Berg", ["Jan van der Berg"]),
    (
        "Gerda Schouten is onze HR-adviseur.\n\nKind regards,\nGerda Schouten, HR",
        ["Gerda Schouten"],
    ),
    ("Naam: Fatima el Amrani\nKlas: 2B", ["Fatima el Amrani"]),
    ("Beste Özlem,", ["Özlem"]),
]


@pytest.mark.parametrize(("text", "names"), NAMES)
def test_names_in_greetings_signatures_and_labels(text: str, names: list[str]) -> None:
    assert kinds(text) == [("name", name) for name in names]


NOT_NAMES = [
    "Beste kandidaat,\nWij zoeken een stagiair.",
    "Beste sollicitant,",
    "Geachte heer/mevrouw,",
    "Dear Sir,",
    "Dear applicant,",
    "Hi there, thanks for applying.",
    "Hoi allemaal! Wij zoeken stagiairs.",
    "Hallo Team! Wij zoeken",
    "Dag en nacht werken wij door.",
    "Bedankt voor je sollicitatie.",
    "Met vriendelijke groet,\nTeam HR\nBakkerij Jansen",
    "Met vriendelijke groet,\nAfdeling HR",
    "Kind regards,\nOnboarding team",
    "With regards to your application, we have decided",
    "Leerling Autotechnicus (m) – BBL niveau 2/3",
    "Student Verpleegkunde niveau 4 gezocht",
]


@pytest.mark.parametrize("text", NOT_NAMES)
def test_roles_teams_and_ordinary_words_are_not_names(text: str) -> None:
    assert [k for k, _ in kinds(text) if k == "name"] == []


# -- the whole text and its offsets --------------------------------------------------------

LETTER = (
    "Beste Fatima,\n\n"
    "Bedankt voor je sollicitatie. Je bent helaas te oud: wij zoeken iemand van max. 22 jaar. "
    "Bel gerust 06-12345678 of mail fatima.elamrani@student.example.nl. Je stagevergoeding "
    "gaat naar NL91 ABNA 0417 1643 00 (BSN 111222333), adres Kerkstraat 12, 1234 AB Utrecht. "
    "Zie https://portal.example.nl/s?id=9&naam=fatima.\n\n"
    "Met vriendelijke groet,\nRichard Smeets\nBakkerij Jansen"
)
LETTER_REDACTED = (
    "Beste [NAME],\n\n"
    "Bedankt voor je sollicitatie. Je bent helaas te oud: wij zoeken iemand van max. 22 jaar. "
    "Bel gerust [PHONE] of mail [EMAIL]. Je stagevergoeding "
    "gaat naar [IBAN] (BSN [BSN]), adres [ADDRESS] Utrecht. "
    "Zie [URL].\n\n"
    "Met vriendelijke groet,\n[NAME]\nBakkerij Jansen"
)


def test_a_letter_with_every_kind_is_redacted_and_counted() -> None:
    result = redact(LETTER)
    assert result.text == LETTER_REDACTED
    assert result.counts == {
        "address": 1,
        "bsn": 1,
        "email": 1,
        "iban": 1,
        "name": 2,
        "phone": 1,
        "url": 1,
    }
    for span in result.spans:
        assert result.text[span.new_start : span.new_end] == PLACEHOLDERS[span.kind]


def test_offsets_map_around_inside_and_across_replacements() -> None:
    text = "Hoi Sven, bel 06-12345678 voor een stage. Max. 22 jaar."
    result = redact(text)
    assert result.text == "Hoi [NAME], bel [PHONE] voor een stage. Max. 22 jaar."
    start = text.index("Max. 22 jaar")
    new_start, new_end = result.map_span(start, start + len("Max. 22 jaar"))
    assert result.text[new_start:new_end] == "Max. 22 jaar"
    # Before any replacement: unchanged.
    assert result.map_span(0, 3) == (0, 3)
    # Inside a replaced part: the whole placeholder.
    inside = text.index("12345678")
    a, b = result.map_span(inside, inside + 4)
    assert result.text[a:b] == "[PHONE]"
    # Across a replaced part: grows to cover it.
    a, b = result.map_span(text.index("bel"), text.index("voor") + 4)
    assert result.text[a:b] == "bel [PHONE] voor"


def test_the_stored_analysis_points_into_the_redacted_text(rules: Analyzer) -> None:
    analysis = rules.analyze(LETTER, kind="rejection")
    assert any(f.quote == "max. 22 jaar" for f in analysis.findings)
    result = redact(LETTER)
    stored = redacted_analysis(analysis, result)
    assert stored["findings"], "the letter has findings"
    for finding in stored["findings"]:
        assert result.text[finding["start"] : finding["end"]] == finding["quote"]
    assert [f["quote"] for f in stored["findings"]] == [f.quote for f in analysis.findings]
    assert "trace" not in stored and "text" not in stored
    serialised = json.dumps(stored)
    for secret in ("Fatima", "06-12345678", "fatima.elamrani", "0417", "111222333", "Smeets"):
        assert secret not in serialised


def test_a_finding_that_overlaps_personal_data_covers_the_placeholder(rules: Analyzer) -> None:
    text = "Hoi Sven, wij zoeken iemand van max. 22 jaar."
    analysis = rules.analyze(text)
    finding = analysis.findings[0]
    # Pretend the finding reached into the name: the stored quote takes the placeholder along.
    widened = analysis.model_copy(
        update={
            "findings": [finding.model_copy(update={"start": 4, "quote": text[4 : finding.end]})]
        }
    )
    result = redact(text)
    stored = redacted_analysis(widened, result)
    quote = stored["findings"][0]["quote"]
    assert quote.startswith("[NAME]") and quote.endswith("max. 22 jaar")
    assert result.text[stored["findings"][0]["start"] : stored["findings"][0]["end"]] == quote


def test_no_gold_finding_of_the_corpus_is_touched_by_redaction() -> None:
    """Redaction must not eat the phrases the analysis is about."""
    for path in sorted((ROOT / "training_data").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            spans = find_personal_data(record["text"])
            for finding in record["findings"]:
                start = record["text"].find(finding["quote"])
                end = start + len(finding["quote"])
                for a, b, kind in spans:
                    assert not (a < end and start < b), (record["id"], finding["quote"], kind)


PII = st.sampled_from(
    ["06-12345678", "jan@example.nl", "NL91 ABNA 0417 1643 00", "BSN 111222333", "3511 AB 7"]
)
# No vowels: the filler can never spell a greeting, closing or label of its own.
FILLER = st.text(alphabet="bcdfkmpqxz .,\n", max_size=30)


@settings(max_examples=60, deadline=None)
@given(parts=st.lists(st.tuples(FILLER, PII), min_size=1, max_size=5), tail=FILLER)
def test_offsets_of_untouched_text_survive_any_mix(parts: list[tuple[str, str]], tail: str) -> None:
    pieces, fillers, cursor = [], [], 0
    for filler, pii in parts:
        fillers.append((cursor, filler))
        pieces.append(f"{filler} {pii} ")
        cursor += len(filler) + len(pii) + 2
    text = "".join(pieces) + tail
    result = redact(text)
    for start, filler in fillers:
        a, b = result.map_span(start, start + len(filler))
        assert result.text[a:b] == filler
    for secret in ("12345678", "jan@example", "0417", "111222333", "3511"):
        assert secret not in result.text


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("Ik sprak mevrouw Bouzid en dhr. De Vries gisteren.", ["Bouzid", "De Vries"]),
        ("Het gaat om student Sven de Vries uit klas 2B.", ["Sven de Vries"]),
        ("Vandaag belde leerling Fatima El Amrani.", ["Fatima El Amrani"]),
        ("Over de stage. Student Daan Oosterhuis belde.", ["Daan Oosterhuis"]),
        ("Ik sprak leerling Bakker over zijn rooster.", ["Bakker"]),
        ("Mijn naam is Noor Yilmaz en ik zoek een stage.", ["Noor Yilmaz"]),
        ("My name is Priya Natarajan. Thanks. Dear Tom, see you.", ["Priya Natarajan", "Tom"]),
        ("Bedankt. Beste Kees, welkom bij ons team.", ["Kees"]),
    ],
)
def test_names_after_cues_in_running_prose(text: str, kept: list[str]) -> None:
    redacted = redact(text).text
    for name in kept:
        assert name not in redacted
    assert "[NAME]" in redacted


@pytest.mark.parametrize(
    "text",
    [
        "Wij zoeken een stagiair Nederlands voor ons team.",
        "Een kandidaat Marokkaanse afkomst past niet.",
        "De beste Kandidaat krijgt de stage.",
    ],
)
def test_requirements_after_stagiair_or_kandidaat_stay(text: str) -> None:
    assert redact(text).text == text
