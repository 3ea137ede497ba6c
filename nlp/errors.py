"""Errors of the text pipeline: one hierarchy, one specific subclass per failure."""

from __future__ import annotations


class StagecheckError(Exception):
    """Base of every error Stagecheck raises on purpose."""

    code = "stagecheck-error"


class InputError(StagecheckError, ValueError):
    """The text or its options cannot be analysed as given."""

    code = "invalid-input"


class EmptyTextError(InputError):
    """The text is empty or holds only whitespace."""

    code = "empty-text"


class TextTooLongError(InputError):
    """The text exceeds the configured maximum length."""

    code = "text-too-long"

    def __init__(self, length: int, limit: int) -> None:
        super().__init__(f"text is {length:,} characters long; the limit is {limit:,} characters")
        self.length = length
        self.limit = limit


class BinaryTextError(InputError):
    """The text holds NUL bytes, which means a binary file was sent as text."""

    code = "binary-text"


class UnknownOptionError(InputError):
    """An option such as `kind` or `lang` has a value Stagecheck does not know."""

    code = "unknown-option"


class LexiconError(StagecheckError):
    """A lexicon or context file is missing, malformed or inconsistent."""

    code = "lexicon-error"
