"""Personal data out of a text before it is stored, with a map from old offsets to new.

A stored record keeps the text of a vacancy or an employer's message so that an officer can
follow it up, but texts about students name them, give their phone number or address. The
redactor replaces, before anything is written:

- e-mail addresses (also `naam [at] domein.nl`)                       -> `[EMAIL]`
- phone numbers: Dutch (`06-12345678`, `020 123 4567`, `(010) 123 45 67`) and
  international (`+31 6 1234 5678`, `0032 470 12 34 56`, `+44 20 7946 0958`) -> `[PHONE]`
- IBANs (checked with mod 97; Dutch-shaped ones always)              -> `[IBAN]`
- BSNs: nine digits that pass the eleven-test (eight after the word BSN) -> `[BSN]`
- postcodes with a house number, and street names with a house number -> `[ADDRESS]`
- URLs with a query string (the query can hold ids, tokens, names)    -> `[URL]`
- names after a greeting ("Beste Fatima,", "Hoi Sven", "Dear Ms. Bouzid,"), after a closing
  ("Met vriendelijke groet, Richard Smeets" or on the next line), after a label
  ("Naam: ..."), and in running prose after a cue: a form of address ("mevrouw Bouzid",
  "dhr. De Vries"), a student named as such ("student Sven Jansen",
  "leerling Fatima"), an introduction ("mijn naam is ...", "my name is ...")  -> `[NAME]`

Detectors propose spans; overlapping proposals are resolved in favour of the one that starts
first (then the longest), so an e-mail address inside a URL goes with the URL.

`Redaction.map_span` carries a span of the original text to the redacted text: a span that
touches a replaced part grows to cover the whole placeholder, so `text[start:end]` of the
redacted text is always a well-defined quote. A name in running prose without such a cue
("Fatima belde gisteren") is not recognised: the redactor is a safety net for the common
forms, not a guarantee (SECURITY.md says so).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

PLACEHOLDERS = {
    "email": "[EMAIL]",
    "phone": "[PHONE]",
    "iban": "[IBAN]",
    "bsn": "[BSN]",
    "address": "[ADDRESS]",
    "url": "[URL]",
    "name": "[NAME]",
}


@dataclass(frozen=True)
class RedactedSpan:
    """One replaced part: where it was, where its placeholder is, and what kind it was."""

    kind: str
    start: int
    end: int
    new_start: int
    new_end: int


@dataclass(frozen=True)
class Redaction:
    """The redacted text and the replaced spans, in order."""

    text: str
    spans: tuple[RedactedSpan, ...] = ()
    counts: dict[str, int] = field(default_factory=dict)

    def map_offset(self, offset: int, side: str = "start") -> int:
        """Where `offset` of the original text lands in the redacted text.

        An offset strictly inside a replaced part goes to the placeholder's start (for the
        start of a span) or end (for its end).
        """
        shift = 0
        for span in self.spans:
            if offset <= span.start:
                break
            if offset < span.end:
                return span.new_start if side == "start" else span.new_end
            shift = span.new_end - span.end
        return offset + shift

    def map_span(self, start: int, end: int) -> tuple[int, int]:
        """The span of the redacted text that corresponds to `[start, end)` of the original."""
        new_start = self.map_offset(start, "start")
        new_end = self.map_offset(end, "end")
        return new_start, max(new_start, new_end)


# -- detectors -------------------------------------------------------------------------------

Candidate = tuple[int, int, str]

_EMAIL = re.compile(
    r"(?<![\w.+&-])[\w.%+&'-]+(?:@|\s?[\[(]at[\])]\s?)[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}\b",
    re.IGNORECASE,
)


def _emails(text: str) -> Iterator[Candidate]:
    for match in _EMAIL.finditer(text):
        yield match.start(), match.end(), "email"


_URL = re.compile(r"(?:\bhttps?://|\bwww\.)[^\s<>\"']+", re.IGNORECASE)
_URL_TRAILING = ".,;:!?)]}'\""


def _urls(text: str) -> Iterator[Candidate]:
    for match in _URL.finditer(text):
        url = match.group().rstrip(_URL_TRAILING)
        query = url.find("?")
        if 0 < query < len(url) - 1:
            yield match.start(), match.start() + len(url), "url"


# A run of digit groups with single separators; parentheses for area codes and "(0)".
_PHONE_RUN = re.compile(
    r"(?<![\w+@/.,-])(?:\+|\(\+?)?\d(?:(?:[ ]?[.-][ ]?|[ ]|\)[ ]?|[ ]?\()?\d)+\)?(?![\w@])"
)
_GROUP = re.compile(r"\d+")


def _digits(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit())


def _is_phone(candidate: str) -> bool:
    digits = _digits(candidate)
    stripped = candidate.lstrip("(")
    if stripped.startswith("+"):
        return 8 <= len(digits) <= 15 and digits[0] != "0"
    if digits.startswith("00"):
        rest = digits[2:]
        return 8 <= len(rest) <= 15 and rest[0] != "0"
    if digits.startswith("0"):
        return len(digits) == 10 and digits[1] != "0"
    return False


def _phones(text: str) -> Iterator[Candidate]:
    for run in _PHONE_RUN.finditer(text):
        value = run.group()
        groups = [(m.start(), m.end()) for m in _GROUP.finditer(value)]
        i = 0
        while i < len(groups):
            found = False
            # The longest prefix of the run from group i that reads as a phone number.
            for j in range(len(groups) - 1, i - 1, -1):
                start = groups[i][0]
                if start > 0 and value[start - 1] in "+(":
                    start -= 1
                    if start > 0 and value[start - 1] == "(":
                        start -= 1
                end = groups[j][1]
                if end < len(value) and value[end] == ")" and "(" in value[start:end]:
                    end += 1
                if _is_phone(value[start:end]):
                    yield run.start() + start, run.start() + end, "phone"
                    i = j + 1
                    found = True
                    break
            if not found:
                i += 1


_IBAN = re.compile(
    r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,3})?\b", re.IGNORECASE
)
_IBAN_LENGTHS = {"NL": 18, "BE": 16, "DE": 22, "FR": 27, "GB": 22, "ES": 24, "IT": 27, "LU": 20}
_NL_IBAN = re.compile(r"^NL\d{2}[A-Z]{4}\d{10}$")


def _iban_checksum_ok(compact: str) -> bool:
    rearranged = compact[4:] + compact[:4]
    number = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(number) % 97 == 1


def _is_iban(compact: str) -> bool:
    country = compact[:2]
    expected = _IBAN_LENGTHS.get(country)
    if expected is not None and len(compact) != expected:
        return False
    if not 15 <= len(compact) <= 34:
        return False
    return _iban_checksum_ok(compact) or bool(_NL_IBAN.match(compact))


def _ibans(text: str) -> Iterator[Candidate]:
    for match in _IBAN.finditer(text):
        value = match.group()
        # Try the whole match, then without trailing groups (the next word may have joined).
        pieces = value.split(" ")
        for cut in range(len(pieces), 0, -1):
            candidate = " ".join(pieces[:cut])
            if _is_iban(candidate.replace(" ", "").upper()):
                yield match.start(), match.start() + len(candidate), "iban"
                break


_BSN = re.compile(r"(?<![\w.,-])\d(?:[ .-]?\d){7,8}(?![\w]|[.,-]\d)")
_BSN_CONTEXT = re.compile(r"\b(?:bsn|burgerservicenummer|sofi-?nummer)\b[^\n]{0,30}$", re.I)


def eleven_test(digits: str) -> bool:
    """The BSN eleven-test: 9·d1 + 8·d2 + … + 2·d8 − 1·d9 is a multiple of 11 (and not 0)."""
    if len(digits) != 9 or not digits.isdigit() or set(digits) == {"0"}:
        return False
    total = sum(int(d) * w for d, w in zip(digits[:8], range(9, 1, -1), strict=True))
    return (total - int(digits[8])) % 11 == 0


def _bsns(text: str) -> Iterator[Candidate]:
    for match in _BSN.finditer(text):
        digits = _digits(match.group())
        if len(digits) == 8:
            # An eight-digit BSN lost its leading zero; KvK numbers also have eight digits,
            # so only take one that the text calls a BSN.
            if not _BSN_CONTEXT.search(text[: match.start()]):
                continue
            digits = "0" + digits
        if eleven_test(digits):
            yield match.start(), match.end(), "bsn"


_POSTCODE = r"[1-9]\d{3}[ ]?(?!SA|SD|SS)[A-Z]{2}"
_HOUSE_NUMBER = r"\d{1,5}(?:[ ]?[-/][ ]?\d{1,4}|(?:-?[a-zA-Z]|[ ][A-Z])(?![\w]))?"
_STREET_SUFFIX = (
    r"(?:straat|laan|weg|plein|gracht|kade|singel|dijk|park|hof|pad|steeg|dreef|markt|"
    r"plantsoen|boulevard|baan|ring|wal|veld|erf|hoek|haven|burg|oord|plaats|street|road|"
    r"avenue|lane)"
)
_STREET = rf"[A-Z][\w'’-]*{_STREET_SUFFIX}"
_ADDRESS_PATTERNS = (
    # 1234 AB 12a, 1234AB-12
    re.compile(
        rf"(?<![\w]){_POSTCODE}(?:[ ]?,[ ]?|[ ]?-[ ]?|[ ]+)(?:nr\.?[ ]?)?{_HOUSE_NUMBER}(?![\w])"
    ),
    # Kerkstraat 12, 1234 AB (on one line or the next)
    re.compile(
        rf"(?<![\w])(?:{_STREET})[ ]{_HOUSE_NUMBER}(?:[ ]?,?[ ]*\n?[ ]*{_POSTCODE}(?![\w]))?"
    ),
)


def _addresses(text: str) -> Iterator[Candidate]:
    for pattern in _ADDRESS_PATTERNS:
        for match in pattern.finditer(text):
            yield match.start(), match.end(), "address"


# -- names ---------------------------------------------------------------------------------


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_PARTICLES = _words(
    "van de der den het ten ter te in 't op von vom zu el al la le da di du dos del des bin ben ibn"
)
_TITLES = _words(
    "mevrouw mevr mevr. mw mw. meneer heer dhr dhr. de mr mr. ms ms. mrs mrs. miss dr dr. "
    "prof prof. ir ir. drs drs. ing ing."
)
# Words after a greeting or closing that address or sign as a role, not a person.
_NOT_NAMES = _words(
    """
    kandidaat kandidate sollicitant sollicitante stagiair stagiaire student studente
    allen allemaal iedereen team collega collega's lezer lezers heer mevrouw heer/mevrouw
    meneer/mevrouw mevrouw/heer ouders docent docenten stagebegeleider stagecoördinator
    sir madam sir/madam applicant applicants candidate candidates all everyone hiring manager
    recruiter recruitment hr personeelszaken afdeling the het een talent toppers
    zaterdag zondag maandag dinsdag woensdag donderdag vrijdag daar there jij jullie you
    guys mensen people folks lieverd schat administratie onboarding stagebureau secretariaat
    receptie directie management planning personeelszaken redactie klantenservice office
    """
)
_GREETING = re.compile(
    r"(?:^|(?<=[.!?] ))[ \t]*(?:beste|hoi|hallo|hey|hee|hi|hello|dag|goedemorgen|goedemiddag|goedenavond|"
    r"geachte|lieve|dear|good morning|good afternoon|good evening|greetings)\b[ \t]+",
    re.IGNORECASE | re.MULTILINE,
)
_CLOSINGS = (
    "met vriendelijke groet",
    "met vriendelijke groeten",
    "vriendelijke groet",
    "vriendelijke groeten",
    "met hartelijke groet",
    "hartelijke groet",
    "hartelijke groeten",
    "met sportieve groet",
    "sportieve groet",
    "warme groet",
    "zonnige groet",
    "beste groet",
    "beste groeten",
    "groetjes",
    "groeten",
    "groet",
    "mvg",
    "m.v.g.",
    "m.v.g",
    "gr.",
    "liefs",
    "bedankt",
    "dank je wel",
    "veel succes",
    "succes",
    "tot dan",
    "tot snel",
    "kind regards",
    "best regards",
    "warm regards",
    "regards",
    "yours sincerely",
    "yours faithfully",
    "sincerely",
    "best wishes",
    "all the best",
    "best of luck",
    "good luck",
    "best",
    "cheers",
    "many thanks",
    "thank you",
    "thanks",
    "take care",
    "warmly",
)
# At a line's start or after a sentence; the longest closing first, so "best of luck" wins.
_CLOSING = re.compile(
    r"(?:^|(?<=[.!?][ ]))[ \t]*(?:"
    + "|".join(re.escape(c) for c in sorted(_CLOSINGS, key=len, reverse=True))
    + r")(?![\w])",
    re.IGNORECASE | re.MULTILINE,
)
_LABEL = re.compile(
    r"^[ \t]*(?:naam|name|contactpersoon|contact person|student|leerling|afzender|from|van)"
    r"[ \t]*:[ \t]*",
    re.IGNORECASE | re.MULTILINE,
)
# Cues in running prose after which a capitalised word is a person's name: forms of address,
# a student named as such, and introductions ("mijn naam is"). Not "stagiair" or "kandidaat":
# in vacancies what follows them is more often a requirement ("stagiair Nederlands") than a
# name, and redacting it would hide the very wording a record is kept for.
_PROSE_CUE = re.compile(
    r"(?<![\w])(?:mevrouw|mevr\.|mw\.|meneer|mijnheer|dhr\.|de heer|mr\.|mrs\.|ms\.|miss|"
    r"mister|student|studente|leerling|mijn naam is|ik heet|genaamd|namens|my name is|"
    r"named|on behalf of)[ \t]+(?=[^\W\d_])",
    re.IGNORECASE,
)
_ROLE_CUES = frozenset({"student", "studente", "leerling"})
# Endings of mbo trades and courses ("Autotechnicus", "Verpleegkunde", "Servicemonteur").
# Trades that are also common surnames (Bakker, Kok, Schilder, Timmerman) are left out.
_TRADE_ENDINGS = (
    "technicus",
    "techniek",
    "kunde",
    "kundige",
    "monteur",
    "medewerker",
    "assistent",
    "assistente",
    "verzorgende",
    "installateur",
    "elektricien",
    "beveiliger",
    "logistiek",
    "welzijn",
    "horeca",
    "administratie",
    "onderwijs",
)


def _is_trade(text: str, position: int) -> bool:
    word = re.match(r"[^\W\d_][\w-]*", text[position:])
    return word is not None and word.group().lower().endswith(_TRADE_ENDINGS)


_TOKEN = re.compile(r"[^\s,;:!?()\[\]{}<>|/\"“”]+")


def _is_capitalised_name(token: str) -> bool:
    word = token.rstrip(".")
    if not word or not word[0].isupper():
        return False
    if re.fullmatch(r"(?:[^\W\d_]\.)+[^\W\d_]?\.?", token):  # initials: J. or J.P.
        return True
    return all(ch.isalpha() or ch in "-'’" for ch in word) and any(
        ch.islower() for ch in word[1:] or "x"
    )


def _name_after(text: str, position: int, allow_lowercase: bool) -> tuple[int, int] | None:
    """The span of a person's name starting at `position` (titles skipped), or None.

    A name is one to six tokens on the same line: capitalised words, initials, and the
    particles of Dutch, Arabic and German surnames between them. A single lowercase word
    counts only when `allow_lowercase` and a comma, `!` or the line's end follows ("hoi samira,").
    """
    line_end = text.find("\n", position)
    line_end = len(text) if line_end == -1 else line_end
    tokens = [
        (m.start() + position, m.end() + position, m.group())
        for m in _TOKEN.finditer(text[position:line_end])
    ]
    index = 0
    while index < len(tokens) and tokens[index][2].lower() in _TITLES:
        nxt = tokens[index + 1][2] if index + 1 < len(tokens) else ""
        # "de heer", "mevr." – but "De Vries" after a title is a name.
        if tokens[index][2].lower() == "de" and nxt.lower() not in _TITLES:
            break
        index += 1
    chosen: list[tuple[int, int, str]] = []
    previous_end = tokens[index][0] if index < len(tokens) else position
    for start, end, word in tokens[index : index + 8]:
        gap = text[previous_end:start]
        if chosen and gap not in (" ", ""):
            break
        lowered = word.lower().rstrip(".")
        if not chosen and lowered in _NOT_NAMES:
            return None
        is_name = _is_capitalised_name(word) and lowered not in _NOT_NAMES
        if not (is_name or (chosen and lowered in _PARTICLES)):
            break
        chosen.append((start, end, word))
        previous_end = end
        if len(chosen) >= 6:
            break
        if word.endswith(".") and not re.fullmatch(r"(?:[^\W\d_]\.)+", word):
            break  # a full stop that is not an initial ends the sentence, and the name
    while chosen and chosen[-1][2].lower() in _PARTICLES:
        chosen.pop()
    if chosen:
        end = chosen[-1][1]
        if text[end - 1] == "." and not re.fullmatch(r"(?:[^\W\d_]\.)+", chosen[-1][2]):
            end -= 1  # the sentence's full stop, not an initial
        return chosen[0][0], end
    if allow_lowercase and index < len(tokens):
        start, end, word = tokens[index]
        if word.endswith(".") and len(word) > 1:
            word, end = word[:-1], end - 1
        after = text[end : end + 1]
        if (
            word.isalpha()
            and word.lower() not in _NOT_NAMES
            and word.lower() not in _PARTICLES
            and 2 <= len(word) <= 20
            and after in (",", "!", ".", "\n", "")
        ):
            return start, end
    return None


def _names(text: str) -> Iterator[Candidate]:
    for match in _GREETING.finditer(text):
        span = _name_after(text, match.end(), allow_lowercase=True)
        if span:
            yield span[0], span[1], "name"
    for match in _LABEL.finditer(text):
        span = _name_after(text, match.end(), allow_lowercase=False)
        if span:
            yield span[0], span[1], "name"
    for match in _PROSE_CUE.finditer(text):
        if match.group().split()[0].lower() in _ROLE_CUES and _is_trade(text, match.end()):
            # "Leerling Autotechnicus", "student Verpleegkunde": a trade or a course, not a
            # person. Only such words are let through: a name must never be.
            continue
        span = _name_after(text, match.end(), allow_lowercase=False)
        if span:
            yield span[0], span[1], "name"
    for match in _CLOSING.finditer(text):
        after = match.end()
        rest_of_line = text[after : text.find("\n", after) if "\n" in text[after:] else len(text)]
        stripped = rest_of_line.lstrip(" \t,:-–")
        if stripped.strip():
            # "Groet, Peter" – but not "Succes! Morgen ..." (a new sentence, not a name).
            same_line = stripped[0].isalpha()
            offset = after + len(rest_of_line) - len(stripped)
            span = _name_after(text, offset, False) if same_line else None
        else:
            # The name is on the next non-empty line.
            next_line = re.compile(r"\n[ \t]*(?:\n[ \t]*)?").match(text, after + len(rest_of_line))
            span = _name_after(text, next_line.end(), False) if next_line else None
        if span:
            yield span[0], span[1], "name"


# -- putting it together -------------------------------------------------------------------

DETECTORS: tuple[Callable[[str], Iterator[Candidate]], ...] = (
    _urls,
    _emails,
    _ibans,
    _phones,
    _bsns,
    _addresses,
    _names,
)


def find_personal_data(text: str) -> list[Candidate]:
    """Non-overlapping spans of personal data in `text`, in order: (start, end, kind)."""
    proposals = sorted(
        {c for detect in DETECTORS for c in detect(text) if c[1] > c[0]},
        key=lambda c: (c[0], -(c[1] - c[0])),
    )
    chosen: list[Candidate] = []
    for candidate in proposals:
        if chosen and candidate[0] < chosen[-1][1]:
            continue
        chosen.append(candidate)
    return chosen


def redact(text: str) -> Redaction:
    """`text` with its personal data replaced by placeholders such as `[EMAIL]`."""
    pieces: list[str] = []
    spans: list[RedactedSpan] = []
    cursor = 0
    length = 0
    for start, end, kind in find_personal_data(text):
        kept = text[cursor:start]
        pieces.append(kept)
        length += len(kept)
        placeholder = PLACEHOLDERS[kind]
        spans.append(RedactedSpan(kind, start, end, length, length + len(placeholder)))
        pieces.append(placeholder)
        length += len(placeholder)
        cursor = end
    pieces.append(text[cursor:])
    counts = Counter(span.kind for span in spans)
    return Redaction(text="".join(pieces), spans=tuple(spans), counts=dict(sorted(counts.items())))
