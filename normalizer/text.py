"""Text cleaning shared by every channel's normaliser."""

from __future__ import annotations

import re
import unicodedata

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b\ufeff]")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_BLANK_LINES = re.compile(r"\n{3,}")
# Anything clean_text could change: a character it removes, folds or might strip (every
# whitespace but a lone space or line end, every control), a doubled space, a space or line
# end at an edge of the text or of a line, a run of blank lines. Text without any of these
# (and already NFC) comes out of clean_text unchanged, so it is returned as it is.
_NEEDS_CLEANING = re.compile(
    r"[\x00-\x09\x0b-\x1f\x7f-\xa0\u1680\u2000-\u200b\u2028\u2029\u202f\u205f\u3000\ufeff]"
    r"|  |\A[ \n]|[ \n]\Z| \n|\n |\n\n\n"
)


def clean_text(text: str | None) -> str:
    """Plain text with normalised Unicode, line ends and spacing; paragraphs kept."""
    if not text:
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
    if text and "\n" not in text and _is_clean(text):
        return text
    return " ".join(clean_text(text).split())


def _is_clean(text: str) -> bool:
    """True when clean_text would return ``text`` unchanged (the common case, and cheap)."""
    if _NEEDS_CLEANING.search(text):
        return False
    return text.isascii() or unicodedata.is_normalized("NFC", text)
