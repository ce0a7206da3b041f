"""Text cleaning shared by every channel's normaliser."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b\ufeff]")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_BLANK_LINES = re.compile(r"\n{3,}")
# Every character clean_text removes, folds or might strip: each whitespace but a space or a
# line end, each control. See _is_clean.
_UNCLEAN_CHAR = re.compile(
    r"[\x00-\x09\x0b-\x1f\x7f-\xa0\u1680\u2000-\u200b\u2028\u2029\u202f\u205f\u3000\ufeff]"
)


def clean_text(text: str | None) -> str:
    """Plain text with normalised Unicode, line ends and spacing; paragraphs kept.

    Anything but a string (an API's null, number, list or object where text belongs) is no text.
    """
    if not text or not isinstance(text, str):
        return ""
    if _is_clean(text):
        return text
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text)
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def clean_line(text: str | None) -> str:
    """One line of text (a subject, a name): all whitespace folded to single spaces."""
    if text and isinstance(text, str) and "\n" not in text and _is_clean(text):
        return text
    return " ".join(clean_text(text).split())


def text_or_none(value: Any) -> str | None:
    """A JSON value used as it is when it is a non-empty string (an id, a URL), else None."""
    return value if isinstance(value, str) and value else None


def _is_clean(text: str) -> bool:
    """True when clean_text would return ``text`` (not empty) unchanged: the common case.

    It would when the text is NFC and has none of: a character it removes or folds, a doubled
    space, a space or line end at an edge of the text or of a line, a run of blank lines.
    """
    if (
        text[0] in " \n"
        or text[-1] in " \n"
        or "  " in text
        or " \n" in text
        or "\n " in text
        or "\n\n\n" in text
        or _UNCLEAN_CHAR.search(text)
    ):
        return False
    return text.isascii() or unicodedata.is_normalized("NFC", text)
