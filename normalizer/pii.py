"""Personal data in complaint text: find it, mask it, normalise phone numbers (DESIGN.md §2.6).

Masking is the default for every view, log line and export; only an explicit ``reveal`` shows
the original. What counts as personal data here (UU 27/2022, reference/sp4n-lapor.md §3.5):

- NIK and KK numbers: 16 digits standing alone, contiguous or in four groups of four split by
  the same single space, dot or hyphen ("5107 0100 0000 0001"). Any 16-digit run counts, with
  no check of the birth-date segment: a false alarm costs a masked number, a miss leaks one.
- Phone numbers: Indonesian mobiles (``0``, ``62`` or ``+62`` then ``8``) and landlines with an
  area code ("(0363) 21234", "0361-123456"), separators ``-``, space or ``.``; a candidate only
  counts when ``phonenumbers`` finds it a valid Indonesian number.
- E-mail addresses.
- Names of anonymous or confidential reporters, given by the caller.

Identifiers are never masked: a LAPOR tracking ID (7-10 digits, no trunk prefix), a case number
("PGD-2026-000123"), dates, amounts and RT/RW numbers all fall outside the patterns above.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

import phonenumbers

PiiKind = Literal["nik", "phone", "email"]

NAME_MASK = "[nama disamarkan]"
ANONYMOUS_NAME = "[anonim]"
CONFIDENTIAL_NAME = "[dirahasiakan]"

_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_NIK = re.compile(r"(?<!\d)(?:\d{16}|\d{4}([ .-])\d{4}\1\d{4}\1\d{4})(?!\d)")
# A candidate is a prefix, an operator or area code, then digit groups; phonenumbers decides.
# Groups are at least two digits so a stray count after a number ("... 1234 5 orang") stays out.
_PHONE = re.compile(
    r"""
    (?<![\d#+])(?<!\d[.\-/])      # not the tail of another number or an id
    (?:
        (?:\+62|62|0)[ .-]?8\d{1,3}             # mobile: 0812, 62812, +62 812
      | (?:\+62[ .-]?|0)[2-79]\d{1,2}           # landline area code: 0363, +62 361
      | \(0[2-79]\d{1,2}\)                      # landline area code in brackets: (0363)
    )
    (?:[ .-]?\d{2,4}){1,4}
    (?!\d)
    """,
    re.VERBOSE,
)
_SEPARATOR = re.compile(r"[ .-]")

# Birth-order names and titles most Balinese share, and Indonesian honorifics: masking them
# would blank half the island's names and common words ("anak" is also "child").
_COMMON_NAME_PARTS = frozenset(
    {
        "wayan", "putu", "gede", "made", "kadek", "nengah", "nyoman", "komang", "ketut",
        "ni", "i", "luh", "ida", "bagus", "ayu", "gusti", "ngurah", "anak", "agung", "dewa",
        "desak", "cokorda", "jero", "sang", "bapak", "ibu", "saudara", "saudari", "haji",
    }
)  # fmt: skip
_MIN_NAME_PART = 4
_NAME_SPLIT = re.compile(r"[^\w']+")


@dataclass(frozen=True)
class PiiSpan:
    start: int
    end: int
    kind: PiiKind
    text: str


def normalize_phone(text: str) -> str | None:
    """E.164 form of a phone number in any Indonesian spelling, or None if it is not valid."""
    try:
        number = phonenumbers.parse(text, "ID")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def find_pii(text: str) -> list[PiiSpan]:
    """NIK/KK numbers, phone numbers and e-mail addresses in ``text``, in order, never overlapping.

    Where two kinds overlap, e-mail wins over NIK and NIK over phone ("0812...@gmail.com" is one
    address; "0812 0000 1234 2026" is a NIK-shaped run).
    """
    found: list[PiiSpan] = []
    for match in _EMAIL.finditer(text):
        found.append(PiiSpan(match.start(), match.end(), "email", match.group()))
    for match in _NIK.finditer(text):
        _add_unless_overlapping(found, PiiSpan(match.start(), match.end(), "nik", match.group()))
    for match in _PHONE.finditer(text):
        span = _valid_phone_prefix(match)
        if span is not None:
            _add_unless_overlapping(found, span)
    return sorted(found, key=lambda span: span.start)


def mask_text(text: str, names: Iterable[str] = ()) -> str:
    """``text`` with every NIK, phone number, e-mail address and given name masked.

    NIK -> "5107************", phone -> "08**-****-1234" (only the last four digits kept, one
    shape for every length), e-mail -> "w***@gmail.com". Each name -> "[nama disamarkan]",
    case-insensitively, as a whole and by every part of four or more letters that is not a
    common Balinese birth-order name or title (Wayan, Made, Ketut, Gusti, Ayu...).
    """
    pieces: list[str] = []
    position = 0
    for span in find_pii(text):
        pieces.append(text[position : span.start])
        pieces.append(_MASKERS[span.kind](span.text))
        position = span.end
    pieces.append(text[position:])
    masked = "".join(pieces)
    name_pattern = _name_pattern(names)
    if name_pattern is None:
        return masked
    return name_pattern.sub(NAME_MASK, masked)


def mask_for_log(text: str) -> str:
    """A log line with NIK, phone numbers and e-mail addresses masked."""
    return mask_text(text)


def mask_record_content(content: dict[str, Any], reveal: bool = False) -> dict[str, Any]:
    """A masked deep copy of ``ComplaintRecord.content()``; ``reveal=True`` copies it unmasked.

    Free text (subject, body, every string in ``extra``, attachment file names) goes through
    ``mask_text``; for an anonymous or confidential reporter their name is masked there too, and
    ``author.name`` / ``author.handle`` become "[anonim]" or "[dirahasiakan]" (confidential wins).
    The author's phone, e-mail and identity number are always masked. The body stays readable:
    staff still have to work a confidential case. Identifiers (source_id, in_reply_to,
    source_url) are left as they are.
    """
    masked = copy.deepcopy(content)
    if reveal:
        return masked
    author = masked.get("author") or {}
    hidden = bool(masked.get("confidential")) or bool(masked.get("anonymous"))
    names = [author["name"]] if hidden and author.get("name") else []

    for key in ("subject", "body"):
        if isinstance(masked.get(key), str):
            masked[key] = mask_text(masked[key], names)
    if "extra" in masked:
        masked["extra"] = _mask_strings(masked["extra"], names)
    for attachment in masked.get("attachments") or ():
        if isinstance(attachment.get("filename"), str):
            attachment["filename"] = mask_text(attachment["filename"], names)

    if hidden:
        placeholder = CONFIDENTIAL_NAME if masked.get("confidential") else ANONYMOUS_NAME
        for key in ("name", "handle"):
            if author.get(key):
                author[key] = placeholder
    if author.get("phone"):
        author["phone"] = _mask_phone(author["phone"])
    if author.get("email"):
        author["email"] = _mask_email(author["email"])
    identity = author.get("identity")
    if identity and identity.get("number"):
        identity["number"] = _mask_identity_number(identity["number"])
    return masked


def nik_hash(nik: str, key: bytes) -> str:
    """Keyed HMAC-SHA256 (hex) of a NIK's digits, to match NIKs without storing them in clear."""
    digits = re.sub(r"\D", "", nik)
    if len(digits) != 16:
        raise ValueError(f"a NIK has 16 digits; this one has {len(digits)}")
    if not key:
        raise ValueError("nik_hash needs a non-empty key")
    return hmac.new(key, digits.encode("ascii"), hashlib.sha256).hexdigest()


def _add_unless_overlapping(found: list[PiiSpan], span: PiiSpan) -> None:
    if all(span.end <= other.start or other.end <= span.start for other in found):
        found.append(span)


def _valid_phone_prefix(match: re.Match[str]) -> PiiSpan | None:
    """The longest valid number in a candidate, cutting only at separators.

    The regex may run on into a following group ("0812 0000 1234 2026"); cutting only where a
    separator stands keeps a longer digit run from yielding a number out of its middle.
    """
    candidate = match.group()
    cuts = [len(candidate)] + [m.start() for m in reversed(list(_SEPARATOR.finditer(candidate)))]
    for cut in cuts:
        piece = candidate[:cut]
        if normalize_phone(piece) is not None:
            return PiiSpan(match.start(), match.start() + cut, "phone", piece)
    return None


def _mask_nik(text: str) -> str:
    return re.sub(r"\D", "", text)[:4] + "*" * 12


def _mask_phone(text: str) -> str:
    """Trunk prefix, first digit (8 mobile, else the landline region) and the last four digits."""
    digits = re.sub(r"\D", "", text)
    national = re.sub(r"^(?:62|0)", "", digits)
    if len(national) < 5:
        return "****"
    return f"0{national[0]}**-****-{national[-4:]}"


def _mask_email(text: str) -> str:
    local, _, domain = text.partition("@")
    if not domain:
        return "***"
    return f"{local[:1]}***@{domain}"


def _mask_identity_number(text: str) -> str:
    """A NIK keeps its regency code (5107 = Karangasem); other documents keep nothing."""
    if len(re.sub(r"\D", "", text)) == 16:
        return _mask_nik(text)
    return "*" * len(text)


_MASKERS = {"nik": _mask_nik, "phone": _mask_phone, "email": _mask_email}


def _mask_strings(value: Any, names: list[str]) -> Any:
    if isinstance(value, str):
        return mask_text(value, names)
    if isinstance(value, dict):
        return {key: _mask_strings(item, names) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_mask_strings(item, names) for item in value)
    return value


def _name_terms(name: str) -> list[str]:
    """Regex fragments for a name: the whole name, and each part of four or more letters that
    is not a common one.

    A lone common part ("Made", "I") is not masked even as the full name: it would blank every
    Made in the text without hiding anyone.
    """
    parts = [part for part in _NAME_SPLIT.split(name) if part]
    terms = [
        re.escape(part)
        for part in parts
        if len(part) >= _MIN_NAME_PART and part.casefold() not in _COMMON_NAME_PARTS
    ]
    if len(parts) > 1:
        terms.append(r"\W+".join(re.escape(part) for part in parts))
    return terms


def _name_pattern(names: Iterable[str]) -> re.Pattern[str] | None:
    terms = {term for name in names for term in _name_terms(name)}
    if not terms:
        return None
    # Longest first, so the full name is replaced once rather than part by part.
    ordered = sorted(terms, key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(ordered) + r")(?!\w)", re.IGNORECASE)
