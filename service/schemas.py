"""Request and response schemas of the HTTP API. The analysis itself is nlp.schema.Analysis."""

from __future__ import annotations

import unicodedata
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_serializer,
    model_validator,
)

from nlp.schema import Analysis, Ground, Kind, Severity, Verdict
from service.problem import Problem
from service.redaction import find_personal_data, redact

# -- fields that are stored as given -----------------------------------------------------

# Personal data that an identifier or a company's name has no business holding.
_NOT_IN_IDENTIFIERS = {
    "email": "an e-mail address",
    "phone": "a phone number",
    "bsn": "a BSN",
    "iban": "an IBAN",
}


def _no_control_characters(value: str) -> str:
    """Refuse control characters (tabs and line breaks aside) and lone surrogates.

    They have no place in a name, reference or note, break spreadsheets and XML, and
    PostgreSQL refuses NUL.
    """
    for char in value:
        if char not in "\t\n\r" and unicodedata.category(char) in ("Cc", "Cs"):
            raise ValueError(f"contains the control character U+{ord(char):04X}")
    return value


def _no_personal_data(value: str) -> str:
    """Refuse an identifier that holds an e-mail address, phone number, BSN or IBAN.

    References and company names are stored as given (they are how officers find a record
    again), so they must not carry a student's personal data: refused, not silently
    redacted, so the caller can send a clean one.
    """
    for _, _, kind in find_personal_data(value):
        if kind in _NOT_IN_IDENTIFIERS:
            raise ValueError(
                f"looks like it holds {_NOT_IN_IDENTIFIERS[kind]}; send an identifier without "
                "personal data"
            )
    return value


def _redacted(value: str) -> str:
    """Free text of an officer (note, comment) with personal data redacted, as in records."""
    return redact(value).text


# The same rule as `_no_control_characters`, for the OpenAPI document.
_NO_CONTROL = Field(json_schema_extra={"pattern": r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"})
PlainText = Annotated[str, AfterValidator(_no_control_characters), _NO_CONTROL]
"""A short text stored as given, without control characters."""
Identifier = Annotated[
    str, AfterValidator(_no_control_characters), AfterValidator(_no_personal_data), _NO_CONTROL
]
"""A reference or name stored as given: no control characters, no personal data."""
RedactedText = Annotated[
    str, AfterValidator(_no_control_characters), AfterValidator(_redacted), _NO_CONTROL
]
"""Free text stored with its personal data replaced by placeholders such as `[EMAIL]`."""

KVK_PATTERN = r"^[0-9]{8}$"


class CompanyIn(BaseModel):
    """The company a screened text comes from, as the caller knows it."""

    model_config = ConfigDict(extra="forbid")

    kvk: str = Field(
        pattern=KVK_PATTERN,
        description="the company's KvK number: exactly 8 digits, as a string",
        examples=["12345678"],
    )
    name: Identifier = Field(min_length=1, max_length=300, description="the company's name")
    location: Identifier | None = Field(
        default=None, max_length=300, description="place of business"
    )

    @field_validator("kvk", mode="before")
    @classmethod
    def _kvk_without_spaces(cls, value: Any) -> Any:
        # "1234 5678" and "12.34.56.78" are common ways to write it; a number loses zeros.
        if isinstance(value, str):
            return value.replace(" ", "").replace(".", "")
        return value

    @field_validator("name", "location", mode="after")
    @classmethod
    def _stripped(cls, value: str | None) -> str | None:
        return value.strip() if isinstance(value, str) else value


class AnalyzeRequest(BaseModel):
    """One text to analyse, and whether to keep it as a record.

    Unknown fields are refused (422), never ignored: a typo such as `knd` must not pass
    silently. With `store: true` the caller's organisation keeps a record of the screening
    (text with personal data redacted, analysis, company, reference); `company` and
    `reference` are refused without it, so that nobody believes they were kept.
    """

    model_config = ConfigDict(
        extra="forbid",
        # The rule of `_record_fields_need_store`, in the schema so that clients (and the
        # fuzzer) can see it: company and reference only with store: true.
        json_schema_extra={
            "anyOf": [
                {"properties": {"store": {"const": True}}, "required": ["store"]},
                {"properties": {"company": {"type": "null"}, "reference": {"type": "null"}}},
            ]
        },
    )

    text: str = Field(
        min_length=1,
        description="the vacancy or message; at most STAGECHECK_MAX_TEXT_CHARS characters",
    )
    kind: Kind = Field(default=Kind.VACANCY, description="vacancy or rejection")
    lang: Literal["auto", "nl", "en"] | None = Field(
        default=None, description="nl or en; detected when absent, null or auto"
    )
    content_type: Literal["text/plain", "text/html"] = Field(
        default="text/plain",
        description="text/html: the visible text is extracted and returned as `text`",
    )
    id: PlainText | None = Field(
        default=None, max_length=256, description="your id, echoed in the analysis"
    )
    explain: bool = Field(default=False, description="include the decision trace (`trace`)")
    store: bool = Field(
        default=False,
        description="keep a record for your organisation: the text with personal data "
        "redacted, the analysis, `company` and `reference`; the response carries `record_id`",
    )
    company: CompanyIn | None = Field(default=None, description="only with `store: true`")
    reference: Identifier | None = Field(
        default=None,
        max_length=2000,
        description="the vacancy's id or URL in your portal; only with `store: true`; "
        "refused when it holds an e-mail address, phone number, BSN or IBAN",
    )

    @field_validator("id", mode="before")
    @classmethod
    def _id_from_number(cls, value: Any) -> Any:
        # JSON clients often use numeric ids; the analysis carries ids as strings.
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        return value

    @model_validator(mode="after")
    def _record_fields_need_store(self) -> AnalyzeRequest:
        if not self.store:
            given = [name for name in ("company", "reference") if getattr(self, name) is not None]
            if given:
                raise ValueError(
                    f"{' and '.join(given)} can only be given with store: true (nothing is kept "
                    "otherwise)"
                )
        return self


class AnalyzeResponse(Analysis):
    """The analysis object; with `store: true` also the id of the record that was kept."""

    record_id: str | None = Field(
        default=None, description="the kept record (GET /v1/records/{id}); only with store"
    )

    @model_serializer(mode="wrap")
    def _drop_absent_extras(self, handler: Any) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        for key in ("text", "trace", "record_id"):
            if data.get(key) is None:
                data.pop(key, None)
        return data


class BatchRequest(BaseModel):
    """Up to STAGECHECK_MAX_BATCH_ITEMS texts; each item is validated on its own."""

    model_config = ConfigDict(extra="forbid")

    items: list[AnalyzeRequest] = Field(min_length=1)


class BatchEnvelope(BaseModel):
    """The outer shape of a batch, checked before its items are."""

    model_config = ConfigDict(extra="forbid")

    items: list[Any] = Field(min_length=1)


class BatchItemError(BaseModel):
    """The result of a batch item that could not be analysed."""

    index: int = Field(ge=0, description="the item's position in the request")
    id: str | None = Field(default=None, description="the item's id, when it had one")
    error: Problem


class BatchResponse(BaseModel):
    """One result per item, in input order: an analysis or an error."""

    count: int = Field(description="number of items")
    failed: int = Field(description="number of items with an error")
    results: list[AnalyzeResponse | BatchItemError]


class LocalizedText(BaseModel):
    """A text in Dutch and English."""

    nl: str
    en: str


class GroundDescription(BaseModel):
    """One ground of the taxonomy, as the lexicons define it."""

    code: Ground
    label: LocalizedText
    legal_basis: str
    description: LocalizedText


class GroundsResponse(BaseModel):
    """The taxonomy of grounds the findings use."""

    grounds: list[GroundDescription]


class LexiconSummary(BaseModel):
    """The lexicon release the analyzer runs with."""

    digest: str = Field(description="SHA-256 over every lexicon file")
    entries: dict[str, int] = Field(description="lexicon entries per language")
    patterns: dict[str, int] = Field(description="patterns per language")


class ModelCard(BaseModel):
    """What produces the analyses: the lexicon release and, when loaded, the learned model."""

    model_version: str = Field(description="the `model_version` stamped on every analysis")
    mode: Literal["rules+model", "rules-only"]
    model: dict[str, Any] | None = Field(
        description="the loaded model's version, data hash and metrics, from "
        "models/metrics.json; null when no model is loaded"
    )
    lexicon: LexiconSummary
    note: str


class Health(BaseModel):
    """The process is up."""

    status: Literal["ok"]


class Readiness(BaseModel):
    """The analyzer, the lexicons and the database are usable."""

    status: Literal["ready"]
    checks: dict[str, str]
    model_version: str


# -- records -------------------------------------------------------------------------------


class RecordStatus(StrEnum):
    """Where the follow-up of a record stands."""

    OPEN = "open"
    COMPANY_CONTACTED = "company_contacted"
    RESOLVED = "resolved"
    WITHDRAWN = "withdrawn"
    NO_ACTION = "no_action"


class Company(BaseModel):
    """The company of a record."""

    kvk: str
    name: str | None = None
    location: str | None = None


class RecordSummary(BaseModel):
    """A record in a list: what it is, what was found, where its follow-up stands."""

    id: str
    organisation: str
    created_at: datetime
    updated_at: datetime
    kind: Kind
    lang: str
    verdict: Verdict
    risk: float
    grounds: list[Ground] = Field(description="the grounds of its findings")
    findings: int = Field(description="number of findings")
    company: Company | None = None
    reference: str | None = None
    external_id: str | None = Field(default=None, description="the `id` sent with the text")
    status: RecordStatus


class RecordList(BaseModel):
    """One page of records, newest first."""

    total: int = Field(description="records matching the filters")
    limit: int
    offset: int
    items: list[RecordSummary]


class RecordEventOut(BaseModel):
    """One change of a record: who, when, the status before and after, the note."""

    at: datetime
    by: str = Field(description="the key (name and prefix) that made the change")
    action: Literal["created", "updated"]
    status_before: RecordStatus | None = None
    status: RecordStatus
    note: str | None = None


class MissedPhraseIn(BaseModel):
    """A phrase the analysis did not flag but should have."""

    model_config = ConfigDict(extra="forbid")

    quote: RedactedText = Field(
        min_length=1, max_length=1000, description="verbatim from the record text"
    )
    ground: Ground
    severity: Severity = Field(default=Severity.IMPLICIT)
    comment: RedactedText | None = Field(
        default=None, max_length=2000, description="stored with personal data redacted"
    )


class FindingFeedbackIn(BaseModel):
    """An officer's judgement of one finding (by its position in `analysis.findings`)."""

    model_config = ConfigDict(extra="forbid")

    index: int = Field(ge=0, description="position of the finding in analysis.findings")
    assessment: Literal["correct", "incorrect"]
    comment: RedactedText | None = Field(
        default=None, max_length=2000, description="stored with personal data redacted"
    )


class FeedbackIn(BaseModel):
    """Feedback on a record: judgements of its findings and phrases it missed."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "anyOf": [
                {"properties": {"findings": {"minItems": 1}}, "required": ["findings"]},
                {"properties": {"missed": {"minItems": 1}}, "required": ["missed"]},
            ]
        },
    )

    findings: list[FindingFeedbackIn] = Field(default_factory=list, max_length=200)
    missed: list[MissedPhraseIn] = Field(default_factory=list, max_length=200)

    @model_validator(mode="after")
    def _not_empty(self) -> FeedbackIn:
        if not self.findings and not self.missed:
            raise ValueError("give at least one of findings or missed")
        return self


class FeedbackOut(BaseModel):
    """One piece of feedback as kept."""

    at: datetime
    by: str
    finding_index: int | None = None
    assessment: Literal["correct", "incorrect"] | None = None
    comment: str | None = None
    missed: MissedPhraseIn | None = None


class RecordDetail(RecordSummary):
    """A whole record: the redacted text, its analysis, the follow-up and the feedback."""

    text: str = Field(description="the text with personal data redacted; offsets point into it")
    analysis: Analysis
    redactions: dict[str, int] = Field(description="what was redacted, by kind")
    note: str | None = None
    history: list[RecordEventOut]
    feedback: list[FeedbackOut]


class RecordUpdate(BaseModel):
    """A change of status and/or note."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "anyOf": [
                {"properties": {"status": {"not": {"type": "null"}}}, "required": ["status"]},
                {"properties": {"note": {"type": "string"}}, "required": ["note"]},
            ]
        },
    )

    status: RecordStatus | None = None
    note: RedactedText | None = Field(
        default=None, max_length=5000, description="stored with personal data redacted"
    )

    @model_validator(mode="after")
    def _not_empty(self) -> RecordUpdate:
        if self.status is None and self.note is None:
            raise ValueError("give status, note or both")
        return self


# -- companies and statistics --------------------------------------------------------------


class VerdictCounts(BaseModel):
    """Records per verdict."""

    reject: int = 0
    review: int = 0
    ok: int = 0


class CompanyName(BaseModel):
    """A name a company was screened under."""

    name: str
    records: int
    last_seen: datetime


class CompanyMonth(BaseModel):
    """One month of a company's screenings."""

    month: str = Field(examples=["2026-11"])
    records: int
    verdicts: VerdictCounts
    grounds: dict[str, int] = Field(description="records with a finding of each ground")


class CompanyOverviewOut(BaseModel):
    """What the caller's records say about one company."""

    kvk: str
    names: list[CompanyName]
    locations: list[str]
    records: int
    verdicts: VerdictCounts
    grounds: dict[str, int] = Field(description="records with a finding of each ground")
    months: list[CompanyMonth]
    first_screening: datetime
    last_screening: datetime
    recent: list[RecordSummary] = Field(description="the newest records (at most 50)")


class CompanyHitOut(BaseModel):
    """A company found by a search."""

    kvk: str
    name: str | None
    records: int
    last_screening: datetime


class CompanySearch(BaseModel):
    """Companies in the caller's records, most recently screened first."""

    items: list[CompanyHitOut]


class StatsRow(BaseModel):
    """One group of the statistics."""

    key: str | None = Field(description="the ground, month (YYYY-MM), kind, verdict or KvK")
    label: str | None = Field(default=None, description="the company name, for company")
    records: int
    verdicts: VerdictCounts
    findings: int


class StatsResponse(BaseModel):
    """Counts of the caller's records in a period, in total and per group."""

    scope: str = Field(description="the organisation, or `all organisations` for SBB")
    group_by: Literal["ground", "month", "kind", "verdict", "company"]
    from_: date | None = Field(alias="from", default=None, description="first day, inclusive")
    to: date | None = Field(default=None, description="last day, inclusive")
    records: int
    verdicts: VerdictCounts
    findings: int
    groups: list[StatsRow]

    model_config = ConfigDict(populate_by_name=True)


# -- the organisation and its keys ----------------------------------------------------------


class KeyOut(BaseModel):
    """An API key as its organisation's admin sees it (never the key itself)."""

    id: int
    prefix: str
    name: str
    role: Literal["officer", "sbb", "admin"] | None
    state: Literal["active", "revoked", "expired"]
    created_at: datetime
    expires_at: datetime | None = None
    revoked_at: datetime | None = None


class KeyCreate(BaseModel):
    """A new key of the caller's organisation."""

    model_config = ConfigDict(extra="forbid")

    name: Identifier = Field(min_length=1, max_length=200, description="who or what uses the key")
    role: Literal["officer", "sbb", "admin"]
    expires_days: int | None = Field(default=None, ge=1, le=3650)


class KeyCreated(KeyOut):
    """A key just made: `key` is shown this once and only its hash is kept."""

    key: str


class OrganisationOut(BaseModel):
    """The caller's organisation, its role, and (for admins) the organisation's keys."""

    name: str
    type: Literal["school", "sbb"]
    role: Literal["officer", "sbb", "admin"]
    key: str = Field(description="the prefix of the key making this request")
    keys: list[KeyOut] | None = Field(default=None, description="for admins: every key")
