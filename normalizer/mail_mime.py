"""MIME decoding of an e-mail: charsets, encoded words, addresses and the part tree.

Pure functions used by ``normalizer.email``. Everything here accepts any input and repairs what
it can: mail is written by hundreds of programs and many of them lie about their charset
(DESIGN.md §5; zammad#2176/#2227, chatwoot#4381, osTicket#1946 in reference/anchors.md). The
part tree is walked with hard limits (parts, depth, text length), so a 10 000-part or 30 MB
mail costs little more than its parse.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import email
import hashlib
import re
from dataclasses import dataclass, field
from email import policy
from email.message import Message
from typing import Any

from pengaduan.normalizer.mail_text import html_to_text, unflow
from pengaduan.normalizer.record import Attachment
from pengaduan.normalizer.text import clean_line

MAX_PARTS = 500  # MIME parts walked per mail; a 10 000-part mail is read up to here
MAX_DEPTH = 30  # nesting of multiparts and attached mails
MAX_TEXT_CHARS = 1_000_000  # of one text part; no complaint is longer
MAX_HTML_CHARS = 1_000_000  # of one HTML part before conversion (~3 s of html.parser)

# --- bytes to text --------------------------------------------------------------------------

_C1_BYTES = re.compile(rb"[\x80-\x9f]")
_LATIN1_FAMILY = frozenset({"ascii", "iso8859-1"})  # codecs.lookup names


def decode_bytes(data: bytes, declared: str | None) -> tuple[str, str | None]:
    """Text from ``data`` and, when the declared charset could not be trusted, why not.

    The declared charset is honoured except where mail is known to lie: us-ascii or
    iso-8859-1 over UTF-8 bytes (read as UTF-8) or over 0x80–0x9F bytes (really
    windows-1252). An unknown name or undecodable bytes fall back to UTF-8, then
    windows-1252, then latin-1, which cannot fail.
    """
    label = (declared or "").strip().strip("\"'").strip().lower()
    if not label:
        if data.isascii():
            return data.decode("ascii"), None
        text, used = guess_decode(data)
        return text, f"no charset was declared; read as {used}"
    try:
        info = codecs.lookup(label)
        if not getattr(info, "_is_text_encoding", True):  # rot13, base64, zlib: not charsets
            raise LookupError(label)
        codec = info.name
    except (LookupError, ValueError, TypeError):
        if data.isascii():
            return data.decode("ascii"), None
        text, used = guess_decode(data)
        return text, f"the charset {label!r} is unknown; read as {used}"
    if codec in _LATIN1_FAMILY:
        utf8 = None if data.isascii() else _utf8(data)
        if utf8 is not None:
            return utf8, f"labelled {label} but written in utf-8; read as utf-8"
        if data.isascii():
            return data.decode("ascii"), None
        if _C1_BYTES.search(data):
            text, used = _cp1252(data)
            return text, f"labelled {label} but has bytes 0x80-0x9f of windows-1252; read as {used}"
        if codec == "ascii":
            return data.decode("latin-1"), f"labelled {label} but has 8-bit bytes; read as latin-1"
        return data.decode("latin-1"), None
    try:
        return data.decode(codec), None
    except (UnicodeError, LookupError, ValueError, TypeError):
        pass
    if codec == "utf-8" and (text := _utf8(data)) is not None:
        return text, "the utf-8 text ends in the middle of a character"
    text, used = guess_decode(data)
    return text, f"the text is not valid {label}; read as {used}"


def guess_decode(data: bytes) -> tuple[str, str]:
    """(text, charset used) for bytes of unknown charset: utf-8, windows-1252, latin-1."""
    text = _utf8(data)
    if text is not None:
        return text, "utf-8"
    return _cp1252(data)


def _utf8(data: bytes) -> str | None:
    """UTF-8 text, also when only a cut-off character at the very end is broken."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.reason == "unexpected end of data" and error.end == len(data):
            head = data[: error.start]
            if not head.isascii():  # real UTF-8 before the cut, not a lone 8-bit byte
                return head.decode("utf-8", errors="replace") + "\ufffd"
        return None


def _cp1252(data: bytes) -> tuple[str, str]:
    try:
        return data.decode("cp1252"), "windows-1252"
    except UnicodeDecodeError:  # 0x81, 0x8d, 0x8f, 0x90, 0x9d are unassigned in windows-1252
        return data.decode("latin-1", errors="replace"), "latin-1"


# --- header values (RFC 2047) ---------------------------------------------------------------

_ENCODED_WORD = re.compile(r"=\?([^?\s]*)\?([bBqQ])\?([^?]*)\?=")
_FOLD = re.compile(r"\r?\n(?=[ \t])|\r?\n")


def decode_header_value(value: str) -> str:
    """A header value as text: folding undone, encoded words and raw 8-bit bytes decoded.

    Adjacent encoded words in one charset are joined as bytes before decoding, since mailers
    split a multi-byte character across two words; whitespace between encoded words is
    dropped (RFC 2047 §6.2). Bad base64, unknown charsets and raw bytes are all tolerated.
    """
    text = _FOLD.sub("", value)
    if "=?" not in text:
        return _raw_8bit(text)
    out: list[str] = []
    run_charset: str | None = None
    run = bytearray()
    position = 0
    after_word = False
    for match in _ENCODED_WORD.finditer(text):
        between = text[position : match.start()]
        if between and not (after_word and between.isspace()):
            if run_charset is not None:
                out.append(decode_bytes(bytes(run), run_charset)[0])
                run_charset, run = None, bytearray()
            out.append(_raw_8bit(between))
        charset = match.group(1).split("*", 1)[0].lower()
        word = _word_bytes(match.group(2).lower(), match.group(3))
        if run_charset is not None and charset != run_charset:
            out.append(decode_bytes(bytes(run), run_charset)[0])
            run = bytearray()
        run_charset = charset
        run += word
        position = match.end()
        after_word = True
    if run_charset is not None:
        out.append(decode_bytes(bytes(run), run_charset)[0])
    out.append(_raw_8bit(text[position:]))
    return "".join(out)


def _word_bytes(encoding: str, payload: str) -> bytes:
    data = payload.encode("utf-8", errors="surrogateescape")
    if encoding == "q":
        return binascii.a2b_qp(data, header=True)
    return lenient_b64decode(data)


def lenient_b64decode(data: bytes) -> bytes:
    """Base64 with wrong padding or stray characters tolerated; a dangling char is dropped."""
    try:
        return binascii.a2b_base64(data)
    except binascii.Error:
        pass
    cleaned = re.sub(rb"[^A-Za-z0-9+/]", b"", data)
    cleaned = cleaned[: len(cleaned) - len(cleaned) % 4] if len(cleaned) % 4 == 1 else cleaned
    try:
        return base64.b64decode(cleaned + b"=" * (-len(cleaned) % 4))
    except (binascii.Error, ValueError):
        return b""


def _raw_8bit(text: str) -> str:
    """Undo the parser's surrogate escapes of raw 8-bit header bytes (UTF-8 or windows-1252)."""
    if text.isascii() or not any("\udc80" <= ch <= "\udcff" for ch in text):
        return text
    return guess_decode(text.encode("utf-8", errors="surrogateescape"))[0]


# --- addresses --------------------------------------------------------------------------------

_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")


def parse_address(value: str) -> tuple[str | None, str | None]:
    """(display name, lower-case address) from ``Name <addr>``, ``addr (Name)``, ``Name
    [mailto:addr]`` or a bare address; either may be None. The value is already decoded."""
    text = " ".join(value.split())
    found = _ADDRESS.search(text)
    address = found.group().lower() if found else None
    cuts = [index for index in (text.find("<"), text.find("[")) if index >= 0]
    if cuts:
        name = text[: min(cuts)]
    elif found:  # a bare address, maybe with a (comment) name
        name = text.replace(found.group(), " ").replace("(", " ").replace(")", " ")
    else:
        name = text
    name = " ".join(name.split()).strip("\"'* ")
    if address and name.lower() == address:
        name = ""
    return (name or None), address


def find_addresses(value: str) -> list[str]:
    """Every address in a decoded To / Cc / Reply-To value, lower-case, in order, once each."""
    return list(dict.fromkeys(match.lower() for match in _ADDRESS.findall(value)))


# --- the part tree ----------------------------------------------------------------------------


@dataclass
class Body:
    """Text parts of one message in order, and the messages attached to it."""

    texts: list[tuple[str, str]] = field(default_factory=list)  # ("plain" | "html", text)
    nested: list[tuple[Message, Body]] = field(default_factory=list)


@dataclass
class Found:
    """What one walk over the whole tree found; shared by nested messages."""

    warnings: list[str] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    contents: dict[str, bytes] | None = None  # filled only for attachment_contents
    parts: int = 0
    capped: bool = False
    defects: set[str] = field(default_factory=set)


def walk_parts(part: Message, body: Body, found: Found, depth: int) -> None:
    """Sort one part (and what it contains) into body text, attachments and attached mails."""
    if found.parts >= MAX_PARTS:
        found.capped = True
        return
    found.parts += 1
    number = found.parts
    for defect in getattr(part, "defects", ()):
        found.defects.add(_defect_name(defect))
    content_type = part.get_content_type()
    if depth > MAX_DEPTH:
        found.warnings.append(f"part {number} is nested over {MAX_DEPTH} levels deep; skipped")
        return
    if content_type in ("message/rfc822", "message/global"):
        inner = _inner_message(part)
        if inner is not None:
            nested = Body()
            walk_parts(inner, nested, found, depth + 1)
            body.nested.append((inner, nested))
            return
    if part.is_multipart() and content_type.startswith("multipart/"):
        children = [child for child in part.get_payload() if isinstance(child, Message)]
        if content_type == "multipart/alternative":
            _walk_alternative(children, body, found, depth)
        else:
            for child in children:
                walk_parts(child, body, found, depth + 1)
        return
    if content_type.startswith("multipart/") and not part.is_multipart():
        found.warnings.append(f"part {number} ({content_type}) has no readable parts; "
                             "its content is kept as plain text")
        content_type = "text/plain"
    if content_type in ("text/plain", "text/html") and not _is_attachment(part):
        body.texts.append((content_type[5:], _text(part, content_type, number, found)))
    else:
        _add_attachment(part, content_type, found)


def _walk_alternative(children: list[Message], body: Body, found: Found, depth: int) -> None:
    """Keep the text of one alternative: plain if it has any text, else HTML.

    Attachments (a related part's images) and attached mails of every alternative are kept;
    warnings only of the one chosen (a charset guessed in an unused HTML copy is no news).
    """
    options: list[tuple[Body, list[str]]] = []
    kept = found.warnings
    for child in children:
        option = Body()
        found.warnings = []
        try:
            walk_parts(child, option, found, depth + 1)
        finally:
            option_warnings, found.warnings = found.warnings, kept
        body.nested.extend(option.nested)
        options.append((option, option_warnings))
    for wanted in ("plain", None):
        for option, option_warnings in options:
            if any(kind == (wanted or kind) and text.strip() for kind, text in option.texts):
                body.texts.extend(option.texts)
                kept.extend(option_warnings)
                return


def _is_attachment(part: Message) -> bool:
    return part.get_content_disposition() == "attachment" or bool(part.get_param("name")) or bool(
        part.get_param("filename", header="content-disposition")
    )


def _inner_message(part: Message) -> Message | None:
    payload = part.get_payload()
    inner = payload[0] if isinstance(payload, list) and payload else None
    if not isinstance(inner, Message):
        return None
    encoding = str(part.get("content-transfer-encoding", "")).strip().lower()
    if encoding in ("base64", "quoted-printable") and not inner.is_multipart():
        # Not allowed for message/rfc822, but sent: the parser saw only encoded text.
        data = inner.get_payload(decode=True)
        if not inner.keys() and isinstance(data, bytes):
            decoded = lenient_b64decode(data) if encoding == "base64" else binascii.a2b_qp(data)
            inner = email.message_from_bytes(decoded, policy=policy.compat32)
    return inner


def _text(part: Message, content_type: str, number: int, found: Found) -> str:
    limit = MAX_HTML_CHARS if content_type == "text/html" else MAX_TEXT_CHARS
    data = _payload_bytes(part)
    text, note = decode_bytes(data[: limit * 4], part.get_content_charset())
    if note:
        found.warnings.append(f"part {number} ({content_type}): {note}")
    if len(text) > limit or len(data) > limit * 4:
        text = text[:limit]
        found.warnings.append(f"part {number} ({content_type}) is longer than {limit} "
                             "characters; only the start was read")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if content_type == "text/plain" and str(part.get_param("format", "")).lower() == "flowed":
        text = unflow(text, delsp=str(part.get_param("delsp", "")).lower() == "yes")
    return text


def text_of(body: Body) -> str:
    """The message's text parts joined; HTML converted (only parts chosen as body)."""
    pieces = [html_to_text(text) if kind == "html" else text for kind, text in body.texts]
    return "\n\n".join(piece.strip("\n") for piece in pieces if piece.strip())


def _add_attachment(part: Message, content_type: str, found: Found) -> None:
    data = _payload_bytes(part)
    digest = hashlib.sha256(data).hexdigest()
    number = len(found.attachments) + 1
    found.attachments.append(
        Attachment(
            filename=_filename(part, number),
            content_type=content_type,
            size=len(data),
            sha256=digest,
            note=None,
        )
    )
    if found.contents is not None:
        found.contents.setdefault(digest, data)


def _filename(part: Message, number: int) -> str:
    """The RFC 2231 / RFC 2047 decoded file name without any folder; ``attachment-N`` if none.

    Raw 8-bit bytes in the parameter are decoded as UTF-8 or windows-1252 first (the stdlib
    would turn them into U+FFFD), and an RFC 2231 name in an unknown charset that is really
    UTF-8 is repaired.
    """
    for header in ("content-disposition", "content-type"):
        value = next((v for k, v in part.raw_items() if k.lower() == header), None)
        if isinstance(value, str) and not value.isascii():
            part.replace_header(header, _raw_8bit(value))
    try:
        raw = part.get_filename()
    except (ValueError, LookupError, TypeError):  # a charset name the codec machinery rejects
        raw = None
    name = clean_line(decode_header_value(str(raw))) if raw else ""
    if not name.isascii() and max(name) <= "\xff":
        try:  # latin-1 stand-ins for the bytes of a UTF-8 name
            name = name.encode("latin-1").decode("utf-8")
        except UnicodeError:
            pass
    name = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    return name if name.strip("\ufffd ") else f"attachment-{number}"


def _payload_bytes(part: Message) -> bytes:
    """The part's content with its transfer encoding undone (bad base64 tolerated).

    ``get_payload()`` alone would decode raw 8-bit bytes with the declared charset, which is
    exactly what cannot be trusted; ``decode=True`` gives the bytes as sent (and undoes
    quoted-printable on those bytes). Base64 is decoded here, more leniently than the stdlib.
    """
    if part.is_multipart():  # message/delivery-status and the like: header blocks
        return b"\n".join(_as_message_bytes(item) for item in part.get_payload())
    encoding = str(part.get("content-transfer-encoding", "")).strip().lower()
    if encoding == "base64":
        # The encoded text as parsed: get_payload() would first decode any 8-bit bytes in it
        # with the declared charset (and fail on a bogus one), get_payload(decode=True) gives
        # the undecoded text back when the base64 is broken. Only ASCII letters matter here.
        raw = part._payload  # noqa: SLF001
        return lenient_b64decode(raw.encode("ascii", errors="ignore") if isinstance(raw, str)
                                 else b"")
    data = part.get_payload(decode=True)
    return data if isinstance(data, bytes) else b""


def _as_message_bytes(item: Any) -> bytes:
    if not isinstance(item, Message):
        return str(item).encode("utf-8", errors="surrogateescape")
    try:
        return item.as_bytes(policy=policy.compat32)
    except Exception:  # a report block the generator chokes on is not worth the whole mail
        return b""


def _defect_name(defect: object) -> str:
    """``StartBoundaryNotFoundDefect`` → ``start boundary not found``."""
    words = re.findall(r"[A-Z][a-z0-9]*", type(defect).__name__.removesuffix("Defect"))
    return " ".join(words).lower() or "unknown defect"
