"""Fuzzing the e-mail normaliser: generated raw mails, plausible in shape and hostile in detail.

Property (issue 7): every input gives a valid ComplaintRecord, or a RecordError for one of the
reasons the normaliser documents (no header, no usable date, MIME nested too deeply). Its
catch-all ("the e-mail could not be parsed: <exception>") keeps a folder running, but every
time it fires a mail is quarantined by a bug, so here it fails the test. Run size:
tests/fuzzing.py.
"""

from __future__ import annotations

import base64
import quopri

from hypothesis import example, given
from hypothesis import strategies as st

from fuzzing import RUNS, check_record, fuzz_settings, report
from pengaduan.collectors.base import RawItem, source_id_problem
from pengaduan.errors import RecordError
from pengaduan.normalizer.email import attachment_contents, message_key, normalize_email

DOCUMENTED_REASONS = (
    "not an e-mail message: no header fields",
    "the e-mail has no usable date",
    "the e-mail could not be parsed: its MIME parts are nested too deeply",
)

CHARSETS = st.sampled_from(
    ["utf-8", "UTF-8", "iso-8859-1", "windows-1252", "us-ascii", "gb2312", "utf-16", "koi8-r",
     "x-unknown", "", "utf-8\x00", "\xff", "iso-2022-jp", "cp65001", "bogus charset"]
)
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=80)
WORDS = st.sampled_from(
    ["Bantuan PKH belum cair", "KIS ditolak", "NIK 5107010000000001", "hp 0812-3456-7890",
     "Terima kasih", "Re: Fw: pengaduan", "Out of Office", "Undeliverable", "", "=?", "?=", "\\",
     "\"", "<", ">", "@", ";", ",", "(komentar)", "\t", " "]
)
ADDRESSES = st.sampled_from(
    ["wayan@example.id", "<made@example.id>", "\"Kadek, Putu\" <k@example.id>",
     "MAILER-DAEMON@mx.example.com", "undisclosed-recipients:;", "=?UTF-8?B?SSBXYXlhbg==?= <w@x.id>",
     "<>", "a@b@c", "@", "Ni Luh <luh@example.id", "noreply@example.id (Auto)"]
)
DATES = st.sampled_from(
    ["Mon, 2 Nov 2026 09:15:05 +0800", "2 Nov 2026 09:15 WITA", "Sen, 2 Nopember 2026 pukul 09.15 WITA",
     "Thu, 1 Jan 1970 00:00:00 +0000", "Fri, 31 Feb 2026 25:61:61 +9999", "yesterday", "",
     "Mon, 2 Nov 10000 09:15:05 +0800", "2026-11-02T09:15:05Z", "Tue, 3 Nov 2026 09:15:05 -2400",
     "=?utf-8?q?Mon=2C_2_Nov_2026?="]
)


def encoded_word(charset: str, encoding: str, payload: str) -> str:
    return f"=?{charset}?{encoding}?{payload}?="


HEADER_VALUES = st.one_of(
    TEXT, WORDS, ADDRESSES, DATES,
    st.builds(encoded_word, CHARSETS, st.sampled_from(["Q", "B", "q", "b", "X", ""]),
              st.text(st.characters(codec="ascii", exclude_characters="?\r\n"), max_size=30)),
    st.lists(WORDS | ADDRESSES, max_size=4).map(", ".join),
)
HEADER_NAMES = st.sampled_from(
    ["From", "Sender", "To", "Cc", "Reply-To", "Subject", "Date", "Message-ID", "In-Reply-To",
     "References", "Received", "Auto-Submitted", "X-Autoreply", "Precedence", "List-Unsubscribe",
     "List-Id", "MIME-Version", "Return-Path", "X-Mailer"]
) | st.text(st.characters(codec="ascii", min_codepoint=33, max_codepoint=126, exclude_characters=":"),
            min_size=1, max_size=12)


@st.composite
def header_block(draw, required: tuple[str, ...] = ()) -> bytes:
    """Header lines: sometimes folded, sometimes 8-bit, in any encoding the value survives."""
    names = list(required) + draw(st.lists(HEADER_NAMES, max_size=6))
    lines = []
    for name in names:
        value = draw(HEADER_VALUES)
        data = value.encode(draw(st.sampled_from(["utf-8", "latin-1", "cp1252"])), "replace")
        if draw(st.booleans()) and b" " in data:  # folding
            data = data.replace(b" ", b"\r\n ", 1)
        lines.append(name.encode("latin-1", "replace") + b": " + data)
    return b"\n".join(lines) + b"\n"


def encode_body(data: bytes, encoding: str) -> bytes:
    if encoding == "base64":
        return base64.encodebytes(data)
    if encoding == "quoted-printable":
        return quopri.encodestring(data)
    return data


LEAF_TYPES = st.sampled_from(
    ["text/plain", "text/html", "text/enriched", "image/png", "application/pdf",
     "application/octet-stream", "message/rfc822", "message/delivery-status", "text/x-unknown",
     "", "text", "text/plain/extra", "garbage"]
)
ENCODINGS = st.sampled_from(["7bit", "8bit", "base64", "quoted-printable", "binary", "x-uuencode", "bogus", ""])
BODY_BYTES = st.one_of(
    TEXT.map(lambda t: t.encode("utf-8")),
    TEXT.map(lambda t: t.encode("cp1252", "replace")),
    st.binary(max_size=120),
    st.just(b"<html><body><p>PKH <b>belum</b> cair<br>tolong</p><style>x{}</style></body></html>"),
    st.just(b"Pak,\n\n> pesan lama\n> dikutip\n\n-- \nI Wayan\n"),
    st.just(b"---------- Forwarded message ---------\nFrom: Ni Luh <luh@example.id>\n"
            b"Date: 1 Nov 2026\nSubject: KIS\n\nKIS ditolak\n"),
    st.tuples(st.binary(min_size=1, max_size=8), st.integers(0, 20_000)).map(lambda p: p[0] * p[1]),
)


@st.composite
def leaf(draw) -> bytes:
    content_type = draw(LEAF_TYPES)
    encoding = draw(ENCODINGS)
    params = ""
    if draw(st.booleans()):
        params += f'; charset="{draw(CHARSETS)}"'
    if draw(st.booleans()):
        filename = draw(st.sampled_from(["foto.png", "=?utf-8?Q?foto_\xda?=.png", "", "../../etc/passwd"]))
        params += f'; name="{filename}"'
    disposition = draw(st.sampled_from(["", "attachment", "inline", "attachment; filename*=utf-8''KTP%20saya.pdf",
                                        "attachment; filename*0*=x; filename*1=y", "weird"]))
    body = draw(BODY_BYTES)
    if content_type == "message/rfc822" and draw(st.booleans()):
        body = draw(header_block(("From", "Subject", "Date"))) + b"\n" + body
    head = f"Content-Type: {content_type}{params}\n".encode("utf-8", "surrogateescape")
    if encoding:
        head += f"Content-Transfer-Encoding: {encoding}\n".encode()
    if disposition:
        head += f"Content-Disposition: {disposition}\n".encode()
    body = encode_body(body, encoding) if draw(st.booleans()) else body
    return head + b"\n" + body


def multipart(children: st.SearchStrategy[list[bytes]]) -> st.SearchStrategy[bytes]:
    @st.composite
    def build(draw) -> bytes:
        subtype = draw(st.sampled_from(["mixed", "alternative", "related", "report", "signed", "digest", "x"]))
        boundary = draw(st.sampled_from(["b1", "==_b", "a b", "", "--", "x" * 80]))
        quoted = draw(st.booleans())
        parts = draw(children)
        shown = f'"{boundary}"' if quoted else boundary
        head = f"Content-Type: multipart/{subtype}; boundary={shown}\n\n"
        body = draw(st.sampled_from([b"", b"preamble\n"]))
        for part in parts:
            body += f"--{boundary}\n".encode() + part + b"\n"
        if draw(st.booleans()):  # the closing delimiter is often missing in broken mail
            body += f"--{boundary}--\n".encode()
        return head.encode() + body

    return build()


MIME_TREE = st.recursive(leaf(), lambda inner: multipart(st.lists(inner, max_size=4)), max_leaves=8)


@st.composite
def raw_mails(draw) -> bytes:
    """A whole message: headers, a MIME tree, then maybe damage."""
    required = draw(st.sampled_from([("From", "Date", "Subject", "Message-ID"), ("From",), ()]))
    raw = draw(header_block(required)) + b"MIME-Version: 1.0\n" + draw(MIME_TREE)
    if draw(st.booleans()):
        raw = raw.replace(b"\n", b"\r\n")
    damage = draw(st.sampled_from(["none", "none", "truncate", "splice", "bom"]))
    if damage == "truncate":
        raw = raw[: draw(st.integers(0, len(raw)))]
    elif damage == "splice":
        at = draw(st.integers(0, len(raw)))
        raw = raw[:at] + draw(st.binary(min_size=1, max_size=40)) + raw[at:]
    elif damage == "bom":
        raw = b"\xef\xbb\xbf\n" + raw
    return raw


RECEIVED = st.sampled_from([None, "2026-11-02T09:20:00+08:00", "2026-11-02T01:20:00", "not a time", ""])


def check_mail(raw: bytes, received: str | None) -> None:
    RUNS["e-mail normaliser"] += 1
    meta = {} if received is None else {"received": received}
    item = RawItem(message_key(raw), raw, "message/rfc822", meta)
    assert source_id_problem(item.source_id) is None, item.source_id
    try:
        record = normalize_email(item)
    except RecordError as error:
        assert error.reason.startswith(DOCUMENTED_REASONS), error.reason
        return
    check_record(record, "email")
    assert record.source_id == item.source_id
    contents = attachment_contents(raw)  # the pipeline stores these bytes by hash
    for attachment in record.attachments:
        if attachment.sha256 is not None:
            assert attachment.sha256 in contents, attachment


# A Message-ID of up to 998 characters is valid mail, but one over 255 failed the batch on
# PostgreSQL (VARCHAR(255)) and the folder on every poll: it is now keyed by the hash.
@example(raw=b"Message-ID: <" + b"x" * 300 + b"@example.id>\nDate: 2 Nov 2026 09:15 WITA\n\nPKH\n",
         received=None)
@fuzz_settings(ci_examples=300)
@given(raw=raw_mails(), received=RECEIVED)
def fuzz_mail(raw: bytes, received: str | None) -> None:
    check_mail(raw, received)


@fuzz_settings(ci_examples=150)
@given(raw=st.binary(max_size=600), received=RECEIVED)
def fuzz_mail_bytes(raw: bytes, received: str | None) -> None:
    check_mail(raw, received)


def test_generated_mails_give_a_record_or_a_documented_reason(figures) -> None:  # type: ignore[no-untyped-def]
    fuzz_mail()
    fuzz_mail_bytes()
    report(figures, "e-mail normaliser")
