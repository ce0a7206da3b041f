"""normalize_email / message_key / attachment_contents, from tables of literal message bytes.

Every mail below is invented: people of Karangasem writing about PKH, BPNT and KIS, addresses
@example.id / @example.com only, phones in the 0812-0000 block that does not exist.
"""

from __future__ import annotations

import hashlib
import time
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pengaduan.normalizer.email as mail_module
from pengaduan.collectors.base import RawItem
from pengaduan.errors import RecordError
from pengaduan.normalizer.email import attachment_contents, message_key, normalize_email
from pengaduan.normalizer.mail_mime import MAX_PARTS
from pengaduan.normalizer.record import Attachment, Author, Kind

WITA = ZoneInfo("Asia/Makassar")
RECEIVED = "2026-11-02T09:20:00+08:00"


def normalize(raw: bytes, received: str | None = RECEIVED, **meta: str):
    if received is not None:
        meta["received"] = received
    return normalize_email(RawItem(source_id=message_key(raw), payload=raw,
                                   media_type="message/rfc822", meta=meta))


def warnings_of(record) -> str:
    return "\n".join(record.extra.get("warnings", []))


# --- a whole, ordinary complaint ------------------------------------------------------------

COMPLAINT = (
    b"Return-Path: <wayan@example.id>\r\n"
    b"Received: from mail.example.id by mx.example.id; Mon, 2 Nov 2026 09:15:05 +0800\r\n"
    b"From: =?UTF-8?Q?I_Wayan_Sudarma?= <Wayan.Sudarma@Example.ID>\r\n"
    b"To: Dinas Sosial <pengaduan@example.id>, kabid@example.id\r\n"
    b"Cc: \"Ni Komang Ayu\" <komang@example.com>\r\n"
    b"Reply-To: wayan.lain@example.id\r\n"
    b"Subject: PKH belum cair\r\n"
    b"Date: Mon, 2 Nov 2026 09:15:00 +0800\r\n"
    b"Message-ID: <CAF1234.wayan@mail.example.id>\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=\"UTF-8\"\r\n"
    b"Content-Transfer-Encoding: 8bit\r\n"
    b"\r\n"
    b"Om Swastyastu,\r\n"
    b"\r\n"
    b"PKH keluarga kami di Desa Tianyar, Kubu belum cair sejak Agustus.\r\n"
    b"HP saya 0812-0000-1234.\r\n"
    b"\r\n"
    b"Matur suksma\r\n"
    b"-- \r\n"
    b"I Wayan Sudarma\r\n"
    b"Banjar Dinas Tianyar\r\n"
)


def test_a_whole_complaint():
    record = normalize(COMPLAINT)
    assert record.channel == "email"
    assert record.source_id == "CAF1234.wayan@mail.example.id"
    assert record.received_at == datetime(2026, 11, 2, 9, 15, tzinfo=WITA)
    assert record.subject == "PKH belum cair"
    assert record.author == Author(name="I Wayan Sudarma", email="wayan.sudarma@example.id")
    assert record.body == (
        "Om Swastyastu,\n\nPKH keluarga kami di Desa Tianyar, Kubu belum cair sejak Agustus.\n"
        "HP saya 0812-0000-1234.\n\nMatur suksma"
    )
    assert record.kind is Kind.COMPLAINT and record.kind_reason is None
    assert (record.anonymous, record.confidential) == (False, False)
    assert record.in_reply_to is None and record.attachments == ()
    assert record.extra == {
        "message_id": "CAF1234.wayan@mail.example.id",
        "to": ["pengaduan@example.id", "kabid@example.id"],
        "cc": ["komang@example.com"],
        "reply_to": ["wayan.lain@example.id"],
        "signature": "I Wayan Sudarma\nBanjar Dinas Tianyar",
    }


# --- headers: RFC 2047 subjects and names ---------------------------------------------------

SUBJECTS = [
    ("b-utf8", b"=?UTF-8?B?UEtIIGJlbHVtIGNhaXIg4oCTIERlc2EgVGlhbnlhciwgS3VidQ==?=",
     "PKH belum cair \u2013 Desa Tianyar, Kubu"),
    ("q-iso-8859-1", b"=?iso-8859-1?Q?Keluhan_KIS_Ibu_Ren=E9?=", "Keluhan KIS Ibu Ren\u00e9"),
    ("q-utf8-lowercase", b"=?utf-8?q?BPNT_=E2=80=9Cbelum_masuk=E2=80=9D?=",
     "BPNT \u201cbelum masuk\u201d"),
    # One character split over two words (its bytes in both), and the fold between dropped.
    ("split-character", b"=?utf-8?B?QmFudHVhbuKA?=\r\n =?utf-8?B?k0JQTlQ=?=", "Bantuan\u2013BPNT"),
    ("split-words-spaces", b"=?utf-8?Q?Bantuan_?= =?utf-8?Q?sembako?= tahap 3",
     "Bantuan sembako tahap 3"),
    ("text-around-words", b"Re: =?utf-8?Q?Kartu_KIS?= (Bebandem)", "Re: Kartu KIS (Bebandem)"),
    ("bad-charset-name", b"=?x-unknown-8?Q?Bantuan_sembako?=", "Bantuan sembako"),
    ("bad-charset-utf8-bytes", b"=?bogus?Q?Ibu_Ni_Luh_=E2=80=93_Abang?=", "Ibu Ni Luh \u2013 Abang"),
    ("b-without-padding", b"=?utf-8?B?UEtIIGJlbHVtIGNhaXI?=", "PKH belum cair"),
    ("raw-utf8-bytes", b"Bantuan \xe2\x80\x93 Datah", "Bantuan \u2013 Datah"),
    ("raw-cp1252-bytes", b"\x93Bantuan\x94 Datah", "\u201cBantuan\u201d Datah"),
    ("folded-plain", b"Bantuan PKH\r\n  belum cair", "Bantuan PKH belum cair"),
    ("not-closed-word", b"=?utf-8?Q?Bantuan", "=?utf-8?Q?Bantuan"),
]


@pytest.mark.parametrize("value, expected", [case[1:] for case in SUBJECTS],
                         ids=[case[0] for case in SUBJECTS])
def test_subject_decoding(value, expected):
    raw = b"From: wayan@example.id\r\nDate: Mon, 2 Nov 2026 09:15:00 +0800\r\nSubject: " + value
    raw += b"\r\n\r\nIsi.\r\n"
    assert normalize(raw).subject == expected


FROMS = [
    (b"=?utf-8?B?TmkgTHVoIFB1dHUgQXl1?= <NILUH@EXAMPLE.ID>", "Ni Luh Putu Ayu", "niluh@example.id"),
    (b"\"Sudarma, I Wayan\" <wayan@example.id>", "Sudarma, I Wayan", "wayan@example.id"),
    (b"wayan@example.id (I Wayan Sudarma)", "I Wayan Sudarma", "wayan@example.id"),
    (b"wayan@example.id", None, "wayan@example.id"),
    (b"<wayan@example.id>", None, "wayan@example.id"),
    (b"\"wayan@example.id\" <wayan@example.id>", None, "wayan@example.id"),
    (b"Ni Kadek R\xe9ka <kadek@example.id>", "Ni Kadek R\u00e9ka", "kadek@example.id"),
    (b"I Made tanpa alamat", "I Made tanpa alamat", None),
    (b"", None, None),
]


@pytest.mark.parametrize("value, name, address", FROMS)
def test_author_from_the_from_header(value, name, address):
    raw = b"From: " + value + b"\r\nDate: Mon, 2 Nov 2026 09:15:00 +0800\r\n\r\nIsi.\r\n"
    assert normalize(raw).author == Author(name=name, email=address)


# --- body charsets and transfer encodings ---------------------------------------------------

HEAD = b"From: wayan@example.id\nDate: Mon, 2 Nov 2026 09:15:00 +0800\nMessage-ID: <b@example.id>\n"

BODIES = [
    (
        "cp1252-labelled-iso-8859-1",
        b"Content-Type: text/plain; charset=iso-8859-1\n\n"
        b"Kartu \x91KKS\x92 saya rusak\x85 mohon diganti.\n",
        "Kartu \u2018KKS\u2019 saya rusak\u2026 mohon diganti.",
        "labelled iso-8859-1 but has bytes 0x80-0x9f of windows-1252; read as windows-1252",
    ),
    (
        "cp1252-labelled-us-ascii",
        b"Content-Type: text/plain; charset=us-ascii\n\n\x93BPNT\x94 belum masuk.\n",
        "\u201cBPNT\u201d belum masuk.",
        "labelled us-ascii",
    ),
    (
        "real-latin-1",
        b"Content-Type: text/plain; charset=ISO-8859-1\n\nIbu Ren\xe9 di Abang.\n",
        "Ibu Ren\u00e9 di Abang.",
        None,
    ),
    (
        "utf8-labelled-latin-1",
        b"Content-Type: text/plain; charset=latin-1\n\nBantuan \xe2\x80\x94 belum cair.\n",
        "Bantuan \u2014 belum cair.",
        "labelled latin-1 but written in utf-8",
    ),
    (
        "undeclared-utf8",
        b"Content-Type: text/plain\n\nIbu saya belum dapat bantuan \xe2\x80\x94 mohon dibantu.\n",
        "Ibu saya belum dapat bantuan \u2014 mohon dibantu.",
        "no charset was declared; read as utf-8",
    ),
    (
        "undeclared-cp1252",
        b"\nBantuan \x93BPNT\x94 belum masuk \x96 sudah 3 bulan.\n",
        "Bantuan \u201cBPNT\u201d belum masuk \u2013 sudah 3 bulan.",
        "no charset was declared; read as windows-1252",
    ),
    (
        "unknown-charset",
        b"Content-Type: text/plain; charset=x-mac-bogus\n\nKIS \xe2\x80\x93 ditolak.\n",
        "KIS \u2013 ditolak.",
        "the charset 'x-mac-bogus' is unknown; read as utf-8",
    ),
    (
        "invalid-utf8",
        b"Content-Type: text/plain; charset=utf-8\n\nKartu \x93KIS\x94 ditolak.\n",
        "Kartu \u201cKIS\u201d ditolak.",
        "the text is not valid utf-8; read as windows-1252",
    ),
    (
        "quoted-printable-soft-breaks",
        b"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n"
        b"Bantuan BPNT keluarga kami di Desa Datah sudah tiga bulan tidak masuk ke ka=\n"
        b"rtu KKS =E2=80=9Cmohon dicek=E2=80=9D.=20\nMatur suksma.\n",
        "Bantuan BPNT keluarga kami di Desa Datah sudah tiga bulan tidak masuk ke kartu KKS "
        "\u201cmohon dicek\u201d.\nMatur suksma.",
        None,
    ),
    (
        "quoted-printable-crlf",
        b"Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: QUOTED-PRINTABLE"
        b"\r\n\r\nIbu Ren=E9 =\r\ndi Abang.\r\n",
        "Ibu Ren\u00e9 di Abang.",
        None,
    ),
    (
        "base64",
        b"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n"
        b"T20gU3dhc3R5YXN0dSwKQmFudHVhbiBCUE5UIGtlbHVhcmdhIGthbWkgZGkgRGVzYSBEYXRhaCwgQWJh\n"
        b"bmcgc3VkYWggdGlnYSBidWxhbiB0aWRhayBtYXN1ayBrZSBrYXJ0dSBLS1MuCk1vaG9uIGRpY2VrLiBN\n"
        b"YXR1ciBzdWtzbWEuCg==\n",
        "Om Swastyastu,\nBantuan BPNT keluarga kami di Desa Datah, Abang sudah tiga bulan tidak "
        "masuk ke kartu KKS.\nMohon dicek. Matur suksma.",
        None,
    ),
    (
        "base64-broken-padding",
        b"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n"
        b"S2FydHUgS0lTIGlidSBzYXlhIGRpdG9sYWsgZGkgcHVza2VzbWFzIEJlYmFuZGVtLgo\n",
        "Kartu KIS ibu saya ditolak di puskesmas Bebandem.",
        None,
    ),
    (
        "base64-garbage-inside",
        b"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n"
        b"S2FydHUgS0lTIGlidSBz!!YXlhIGRpdG9sYWsgZGkgcHVza2VzbWFzIEJlYmFuZGVtLgo=\n",
        "Kartu KIS ibu saya ditolak di puskesmas Bebandem.",
        None,
    ),
    (
        "format-flowed",
        b"Content-Type: text/plain; charset=utf-8; format=flowed\n\n"
        b"Bantuan PKH tahap empat belum masuk ke rekening \nkami di Bank. Mohon dicek.\n",
        "Bantuan PKH tahap empat belum masuk ke rekening kami di Bank. Mohon dicek.",
        None,
    ),
    (
        "utf8-cut-in-a-character",
        b"Content-Type: text/plain; charset=utf-8\n\nBantuan \xe2\x80\x94 belum \xe2\x80",
        "Bantuan \u2014 belum \ufffd",
        "ends in the middle of a character",
    ),
]


@pytest.mark.parametrize("part, body, warning", [case[1:] for case in BODIES],
                         ids=[case[0] for case in BODIES])
def test_body_charsets_and_encodings(part, body, warning):
    record = normalize(HEAD + part)
    assert record.body == body
    if warning is None:
        assert "warnings" not in record.extra
    else:
        assert warning in warnings_of(record)


# --- HTML and multipart/alternative -----------------------------------------------------------

HTML_ONLY = HEAD + (
    b"Content-Type: text/html; charset=utf-8\n\n"
    b"<!DOCTYPE html><html><head><title>Keluhan</title>"
    b"<style>p { color: red; }</style><script>alert('x')</script></head>"
    b"<body><div>Om Swastyastu,<br></div><div><br></div>"
    b"<p>Data &amp; status bantuan keluarga kami:</p>"
    b"<table><tr><th>Program</th><th>Status</th></tr>"
    b"<tr><td>PKH</td><td>belum&nbsp;cair</td></tr>"
    b"<tr><td>BPNT</td><td>&ldquo;ditolak&rdquo;</td></tr></table>"
    b"<ul><li>Kartu KKS rusak</li><li>Nama salah &lt;typo&gt;</li></ul>"
    b"<p>Mohon   dibantu,\n   terima kasih.</p>"
    b"<div style=\"display:none\">teks tersembunyi</div><!-- komentar --></body></html>\n"
)


def test_html_only_body_becomes_readable_text():
    record = normalize(HTML_ONLY)
    assert record.body == (
        "Om Swastyastu,\n\nData & status bantuan keluarga kami:\n\n"
        "Program | Status\nPKH | belum cair\nBPNT | \u201cditolak\u201d\n\n"
        "- Kartu KKS rusak\n- Nama salah <typo>\n\nMohon dibantu, terima kasih."
    )


def alternative(plain: bytes, html: bytes) -> bytes:
    return HEAD + (
        b"MIME-Version: 1.0\nContent-Type: multipart/alternative; boundary=\"alt-1\"\n\n"
        b"--alt-1\nContent-Type: text/plain; charset=utf-8\n\n" + plain + b"\n"
        b"--alt-1\nContent-Type: text/html; charset=utf-8\n\n" + html + b"\n--alt-1--\n"
    )


@pytest.mark.parametrize(
    "raw, body",
    [
        (alternative(b"Versi teks: PKH belum cair.", b"<p>Versi <b>HTML</b>: PKH belum cair.</p>"),
         "Versi teks: PKH belum cair."),
        (alternative(b"  \n\n ", b"<p>Versi <b>HTML</b>: PKH belum cair.</p>"),
         "Versi HTML: PKH belum cair."),
        (alternative(b"", b"<div>KIS&nbsp;ditolak</div>"), "KIS ditolak"),
    ],
    ids=["plain-preferred", "blank-plain-falls-back-to-html", "empty-plain-falls-back-to-html"],
)
def test_multipart_alternative(raw, body):
    assert normalize(raw).body == body


# --- quoted replies and signatures ------------------------------------------------------------

REPLIES = [
    (
        "english-gmail",
        b"Sudah saya kirim fotokopi KK kemarin.\n\n"
        b"On Mon, Nov 2, 2026 at 9:15 AM Dinas Sosial <dinsos@example.id> wrote:\n\n"
        b"> Mohon kirim fotokopi KK.\n> Terima kasih.\n",
        "Sudah saya kirim fotokopi KK kemarin.",
        "On Mon, Nov 2, 2026 at 9:15 AM Dinas Sosial <dinsos@example.id> wrote:\n\n"
        "> Mohon kirim fotokopi KK.\n> Terima kasih.",
        "",
    ),
    (
        "indonesian-gmail",
        b"Baik, terima kasih Pak.\n\n"
        b"Pada tanggal Sen, 2 Nov 2026 pukul 09.15 Dinas Sosial <dinsos@example.id> menulis:\n"
        b"> Data Bapak sudah kami teruskan.\n",
        "Baik, terima kasih Pak.",
        "Pada tanggal Sen, 2 Nov 2026 pukul 09.15 Dinas Sosial <dinsos@example.id> menulis:\n"
        "> Data Bapak sudah kami teruskan.",
        "",
    ),
    (
        "gmail-wrapped-attribution",
        b"Kartu KIS sudah saya terima. Suksma.\n\n"
        b"Pada Sen, 2 Nov 2026 pukul 09.15 I Wayan Sudarma <\n"
        b"wayan@example.id> menulis:\n\n"
        b"> Kartu KIS ibu saya ditolak di puskesmas.\n",
        "Kartu KIS sudah saya terima. Suksma.",
        "Pada Sen, 2 Nov 2026 pukul 09.15 I Wayan Sudarma <\nwayan@example.id> menulis:\n\n"
        "> Kartu KIS ibu saya ditolak di puskesmas.",
        "",
    ),
    (
        "english-wrapped-three-lines",
        b"Noted.\n\nOn Mon, 2 Nov 2026 at 09:15, Ni Komang Ayu Sekar\nWulandari\n"
        b"<komang@example.com> wrote:\n> BPNT belum masuk.\n",
        "Noted.",
        "On Mon, 2 Nov 2026 at 09:15, Ni Komang Ayu Sekar\nWulandari\n"
        "<komang@example.com> wrote:\n> BPNT belum masuk.",
        "",
    ),
    (
        "thunderbird-without-address",
        b"Terima kasih.\n\nOn 11/2/26 9:15 AM, Dinas Sosial wrote:\n> Sudah kami proses.\n",
        "Terima kasih.",
        "On 11/2/26 9:15 AM, Dinas Sosial wrote:\n> Sudah kami proses.",
        "",
    ),
    (
        "outlook-english",
        b"Berkas sudah lengkap.\n\n________________________________\n"
        b"From: Dinas Sosial <dinsos@example.id>\nSent: Monday, November 2, 2026 9:15 AM\n"
        b"To: I Wayan Sudarma <wayan@example.id>\nSubject: RE: PKH belum cair\n\n"
        b"Mohon lengkapi berkas.\n",
        "Berkas sudah lengkap.",
        "From: Dinas Sosial <dinsos@example.id>\nSent: Monday, November 2, 2026 9:15 AM\n"
        "To: I Wayan Sudarma <wayan@example.id>\nSubject: RE: PKH belum cair\n\n"
        "Mohon lengkapi berkas.",
        "",
    ),
    (
        "outlook-indonesian",
        b"Sudah saya lengkapi.\n\n"
        b"Dari: Dinas Sosial <dinsos@example.id>\nDikirim: Senin, 02 November 2026 09.15\n"
        b"Kepada: I Wayan Sudarma <wayan@example.id>\nSubjek: RE: PKH belum cair\n\n"
        b"Mohon lengkapi berkas.\n",
        "Sudah saya lengkapi.",
        "Dari: Dinas Sosial <dinsos@example.id>\nDikirim: Senin, 02 November 2026 09.15\n"
        "Kepada: I Wayan Sudarma <wayan@example.id>\nSubjek: RE: PKH belum cair\n\n"
        "Mohon lengkapi berkas.",
        "",
    ),
    (
        "outlook-original-message",
        b"Mohon segera ditindaklanjuti.\n\n-----Original Message-----\n"
        b"From: Dinas Sosial [mailto:dinsos@example.id]\nSent: Monday, November 2, 2026 9:15 AM\n"
        b"Subject: PKH\n\nSedang diproses.\n",
        "Mohon segera ditindaklanjuti.",
        "-----Original Message-----\nFrom: Dinas Sosial [mailto:dinsos@example.id]\n"
        "Sent: Monday, November 2, 2026 9:15 AM\nSubject: PKH\n\nSedang diproses.",
        "",
    ),
    (
        "bottom-posted-and-interleaved",
        b"On Mon, Nov 2, 2026 at 9:15 AM Dinas Sosial <dinsos@example.id> wrote:\n"
        b"> Nomor KKS Bapak?\n\nNomor KKS saya ada di foto terlampir.\n\n"
        b"> Desa?\n\nDesa Tianyar.\n",
        "Nomor KKS saya ada di foto terlampir.\n\nDesa Tianyar.",
        "On Mon, Nov 2, 2026 at 9:15 AM Dinas Sosial <dinsos@example.id> wrote:\n"
        "> Nomor KKS Bapak?\n> Desa?",
        "",
    ),
    (
        "signature-and-iphone",
        b"BPNT bulan ini belum masuk.\n\n-- \nNi Luh Sekar\nDesa Datah\n",
        "BPNT bulan ini belum masuk.",
        "",
        "Ni Luh Sekar\nDesa Datah",
    ),
    (
        "dikirim-dari-iphone-saya",
        b"BPNT bulan ini belum masuk.\n\nDikirim dari iPhone saya\n",
        "BPNT bulan ini belum masuk.",
        "",
        "Dikirim dari iPhone saya",
    ),
    (
        "sent-from-yahoo-above-quote",
        b"Terima kasih.\n\nSent from Yahoo Mail on Android\n\n"
        b"On Mon, 2 Nov 2026 at 9:15, Dinas Sosial<dinsos@example.id> wrote:\n> Sudah.\n",
        "Terima kasih.",
        "On Mon, 2 Nov 2026 at 9:15, Dinas Sosial<dinsos@example.id> wrote:\n> Sudah.",
        "Sent from Yahoo Mail on Android",
    ),
    (
        "letter-lines-are-not-a-reply",
        b"Pada tanggal 3 Oktober 2026 petugas desa menulis:\n"
        b"bahwa KIS ibu saya sudah tidak aktif.\nDari: I Wayan Sudarma\nTanggal: 3 Oktober 2026\n"
        b"Perihal: KIS tidak aktif\nSisa saldo >3 bulan tidak dipakai.\n"
        b"Dikirim dari kantor desa, surat itu belum sampai.\n",
        "Pada tanggal 3 Oktober 2026 petugas desa menulis:\n"
        "bahwa KIS ibu saya sudah tidak aktif.\nDari: I Wayan Sudarma\nTanggal: 3 Oktober 2026\n"
        "Perihal: KIS tidak aktif\nSisa saldo >3 bulan tidak dipakai.\n"
        "Dikirim dari kantor desa, surat itu belum sampai.",
        "",
        "",
    ),
]


@pytest.mark.parametrize("text, body, quoted, signature", [case[1:] for case in REPLIES],
                         ids=[case[0] for case in REPLIES])
def test_quoted_replies_and_signatures_are_split_off(text, body, quoted, signature):
    record = normalize(HEAD + b"Content-Type: text/plain; charset=utf-8\n\n" + text)
    assert record.body == body
    assert record.extra.get("quoted", "") == quoted
    assert record.extra.get("signature", "") == signature


def test_html_reply_gmail_blockquote_and_signature():
    raw = HEAD + (
        b"Content-Type: text/html; charset=utf-8\n\n"
        b"<div dir=\"ltr\">Berkas sudah saya kirim.<br clear=\"all\"><div><br></div>"
        b"<span class=\"gmail_signature_prefix\">-- </span><br><div class=\"gmail_signature\">"
        b"I Wayan Sudarma</div></div><br><div class=\"gmail_quote\"><div dir=\"ltr\" "
        b"class=\"gmail_attr\">Pada Sen, 2 Nov 2026 pukul 09.15 Dinas Sosial &lt;"
        b"dinsos@example.id&gt; menulis:<br></div><blockquote class=\"gmail_quote\">"
        b"<div>Mohon kirim berkas.</div><div><br></div><div>Salam</div></blockquote></div>\n"
    )
    record = normalize(raw)
    assert record.body == "Berkas sudah saya kirim."
    assert record.extra["signature"] == "I Wayan Sudarma"
    assert record.extra["quoted"] == (
        "Pada Sen, 2 Nov 2026 pukul 09.15 Dinas Sosial <dinsos@example.id> menulis:\n"
        "> Mohon kirim berkas.\n>\n> Salam"
    )


def test_html_reply_outlook_block():
    raw = HEAD + (
        b"Content-Type: text/html; charset=utf-8\n\n"
        b"<div>Sudah lengkap.</div><hr style=\"display:inline-block;width:98%\">"
        b"<div id=\"divRplyFwdMsg\"><font><b>From:</b> Dinas Sosial &lt;dinsos@example.id&gt;"
        b"<br><b>Sent:</b> Monday, November 2, 2026 9:15 AM<br><b>To:</b> I Wayan Sudarma"
        b"<br><b>Subject:</b> PKH</font></div><div>Mohon lengkapi.</div>\n"
    )
    record = normalize(raw)
    assert record.body == "Sudah lengkap."
    assert record.extra["quoted"].startswith("From: Dinas Sosial <dinsos@example.id>\nSent:")


# --- forwarded complaints: the original sender is the author -------------------------------------

FORWARDS = [
    (
        "gmail-english",
        b"Subject: Fwd: PKH belum cair\n\n"
        b"Mohon ditindaklanjuti.\n\n---------- Forwarded message ---------\n"
        b"From: Ni Luh Putu Ayu <niluh@example.id>\nDate: Sun, Nov 1, 2026 at 8:02 PM\n"
        b"Subject: PKH belum cair\nTo: <kadis@example.id>\n\n"
        b"PKH keluarga kami di Desa Datah belum cair.\n\n-- \nNi Luh Putu Ayu\n",
        ("Ni Luh Putu Ayu", "niluh@example.id"),
        "PKH keluarga kami di Desa Datah belum cair.",
        "Mohon ditindaklanjuti.",
    ),
    (
        "gmail-indonesian",
        b"Subject: Fwd: KIS ditolak\n\n"
        b"---------- Pesan yang diteruskan ---------\n"
        b"Dari: *Ni Komang Ayu* <komang@example.com>\nTanggal: Min, 1 Nov 2026 pukul 20.02\n"
        b"Subjek: KIS ditolak\nKepada: <kadis@example.id>\n\n"
        b"Kartu KIS ibu saya ditolak di puskesmas Bebandem.\n",
        ("Ni Komang Ayu", "komang@example.com"),
        "Kartu KIS ibu saya ditolak di puskesmas Bebandem.",
        None,
    ),
    (
        "outlook-fw-block",
        b"Subject: FW: BPNT tidak masuk\n\n"
        b"Untuk ditindaklanjuti.\n\n________________________________\n"
        b"From: I Made Astawa <made@example.id>\nSent: Sunday, November 1, 2026 8:02 PM\n"
        b"To: Kepala Dinas <kadis@example.id>\nSubject: BPNT tidak masuk\n\n"
        b"BPNT kami tidak masuk dua bulan.\n",
        ("I Made Astawa", "made@example.id"),
        "BPNT kami tidak masuk dua bulan.",
        "Untuk ditindaklanjuti.",
    ),
    (
        "outlook-original-message-tr",
        b"Subject: TR: BPNT tidak masuk\n\n"
        b"-----Original Message-----\nFrom: I Made Astawa [mailto:made@example.id]\n"
        b"Sent: Sunday, November 1, 2026 8:02 PM\nTo: kadis@example.id\n"
        b"Subject: BPNT tidak masuk\n\nBPNT kami tidak masuk dua bulan.\n",
        ("I Made Astawa", "made@example.id"),
        "BPNT kami tidak masuk dua bulan.",
        None,
    ),
    (
        "apple-mail",
        b"Subject: Fwd: Bantuan sembako\n\n"
        b"Begin forwarded message:\n\nFrom: Ketut Suarta <ketut@example.id>\n"
        b"Subject: Bantuan sembako\nDate: 1 November 2026 at 20.02.00 WITA\n"
        b"To: kadis@example.id\n\nSembako untuk lansia di Desa Tianyar belum dibagikan.\n",
        ("Ketut Suarta", "ketut@example.id"),
        "Sembako untuk lansia di Desa Tianyar belum dibagikan.",
        None,
    ),
    (
        "forward-of-a-forward",
        b"Subject: Fwd: Fwd: PKH\n\nMohon dicek.\n\n---------- Forwarded message ---------\n"
        b"From: Perbekel Datah <perbekel@example.id>\nSubject: Fwd: PKH\n\nDari warga kami.\n\n"
        b"---------- Forwarded message ---------\nFrom: Ni Wayan Sari <sari@example.com>\n"
        b"Subject: PKH\n\nPKH saya belum cair.\n",
        ("Ni Wayan Sari", "sari@example.com"),
        "PKH saya belum cair.",
        "Mohon dicek.\n\nDari warga kami.",
    ),
]


@pytest.mark.parametrize("part, author, body, note", [case[1:] for case in FORWARDS],
                         ids=[case[0] for case in FORWARDS])
def test_forwarded_complaint_keeps_the_original_sender(part, author, body, note):
    raw = (
        b"From: Staf Pengaduan <staf@example.id>\nDate: Mon, 2 Nov 2026 09:15:00 +0800\n"
        b"Content-Type: text/plain; charset=utf-8\n" + part
    )
    record = normalize(raw)
    assert record.author == Author(name=author[0], email=author[1])
    assert record.body == body
    assert record.extra["forwarded_by"] == {"name": "Staf Pengaduan", "email": "staf@example.id"}
    assert record.extra.get("forward_note") == note
    assert record.kind is Kind.COMPLAINT
    assert record.received_at == datetime(2026, 11, 2, 9, 15, tzinfo=WITA)


def test_forward_details_are_kept():
    record = normalize(
        b"From: Staf Pengaduan <staf@example.id>\nDate: Mon, 2 Nov 2026 09:15:00 +0800\n"
        + FORWARDS[0][1]
    )
    assert record.extra["forwarded_date"] == "Sun, Nov 1, 2026 at 8:02 PM"
    assert record.extra["forwarded_subject"] == "PKH belum cair"
    assert record.extra["signature"] == "Ni Luh Putu Ayu"


def test_a_reply_with_original_message_is_not_a_forward():
    record = normalize(HEAD + b"Subject: RE: PKH\n\n" + REPLIES[7][1])
    assert record.author == Author(email="wayan@example.id")
    assert "forwarded_by" not in record.extra


NESTED = (
    b"From: Staf Pengaduan <staf@example.id>\nTo: pengaduan@example.id\n"
    b"Subject: Fwd: Keluhan KIS\nDate: Mon, 2 Nov 2026 09:15:00 +0800\n"
    b"Message-ID: <fwd-1@example.id>\nMIME-Version: 1.0\n"
    b"Content-Type: multipart/mixed; boundary=\"outer\"\n\n"
    b"--outer\nContent-Type: text/plain; charset=utf-8\n\nTerlampir keluhan warga.\n"
    b"--outer\nContent-Type: message/rfc822\nContent-Disposition: attachment; filename=\"keluhan.eml\"\n\n"
    b"From: =?utf-8?Q?Ni_Nyoman_Ras=C3=AD?= <rasi@example.com>\nSubject: Keluhan KIS\n"
    b"Date: Sun, 1 Nov 2026 20:02:00 +0800\nMessage-ID: <asli-1@example.com>\n"
    b"Content-Type: multipart/mixed; boundary=\"inner\"\n\n"
    b"--inner\nContent-Type: text/plain; charset=iso-8859-1\n\n"
    b"Kartu KIS saya ditolak \x96 mohon dibantu.\n\nOn Sun, 1 Nov 2026 at 19:00, Dinas Sosial "
    b"<dinsos@example.id> wrote:\n> Silakan kirim foto kartu.\n"
    b"--inner\nContent-Type: image/png; name=\"kartu.png\"\nContent-Transfer-Encoding: base64\n\n"
    b"iVBORw0KGgoAAAAAAAAAAGNvbnRvaCBmb3RvIGthcnR1\n--inner--\n"
    b"--outer--\n"
)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 8 + b"contoh foto kartu"


def test_nested_message_rfc822_is_the_forwarded_content():
    record = normalize(NESTED)
    assert record.author == Author(name="Ni Nyoman Ras\u00ed", email="rasi@example.com")
    assert record.body == "Kartu KIS saya ditolak \u2013 mohon dibantu."
    assert record.extra["forwarded_by"] == {"name": "Staf Pengaduan", "email": "staf@example.id"}
    assert record.extra["forward_note"] == "Terlampir keluhan warga."
    assert record.extra["forwarded_subject"] == "Keluhan KIS"
    assert record.extra["quoted"].endswith("> Silakan kirim foto kartu.")
    assert record.attachments == (
        Attachment("kartu.png", "image/png", len(PNG), hashlib.sha256(PNG).hexdigest()),
    )
    assert "read as windows-1252" in warnings_of(record)


def test_attached_mail_without_forward_is_summarised_not_the_author():
    raw = NESTED.replace(b"Subject: Fwd: Keluhan KIS", b"Subject: Keluhan lanjutan")
    record = normalize(raw)
    assert record.author == Author(name="Staf Pengaduan", email="staf@example.id")
    assert record.body == "Terlampir keluhan warga."
    attached = record.extra["attached_message"]
    assert attached["from"] == "Ni Nyoman Ras\u00ed <rasi@example.com>"
    assert attached["body"].startswith("Kartu KIS saya ditolak \u2013 mohon dibantu.")


def test_base64_encoded_message_rfc822_is_read():
    inner = b"From: Ketut <ketut@example.id>\nSubject: BPNT\n\nBPNT belum masuk.\n"
    import base64

    raw = (
        b"From: staf@example.id\nSubject: Fwd: BPNT\nDate: Mon, 2 Nov 2026 09:15:00 +0800\n"
        b"Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: message/rfc822\n"
        b"Content-Transfer-Encoding: base64\n\n" + base64.encodebytes(inner) + b"--b--\n"
    )
    record = normalize(raw)
    assert record.author == Author(name="Ketut", email="ketut@example.id")
    assert record.body == "BPNT belum masuk."


# --- attachments ------------------------------------------------------------------------------

PDF = b"%PDF-1.4\n% surat keterangan tidak mampu (contoh)\n%%EOF\n"
ATTACHMENTS = HEAD + (
    b"Subject: Berkas KIS\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"==mix==\"\n\n"
    b"This is a multi-part message in MIME format.\n"
    b"--==mix==\nContent-Type: text/plain; charset=utf-8\n\nBerkas terlampir.\n"
    b"--==mix==\nContent-Type: application/pdf\nContent-Transfer-Encoding: base64\n"
    b"Content-Disposition: attachment;\n filename*=utf-8''Surat%20Keterangan%20%E2%80%93%20Wayan.pdf\n\n"
    b"JVBERi0xLjQKJSBzdXJhdCBrZXRlcmFuZ2FuIHRpZGFrIG1hbXB1IChjb250b2gpCiUlRU9GCg==\n"
    b"--==mix==\nContent-Type: image/png; name=\"=?utf-8?B?Rm90byBLS1Mg4oCTIHJ1c2FrLmpwZw==?=\"\n"
    b"Content-Transfer-Encoding: base64\nContent-Disposition: inline; "
    b"filename=\"=?utf-8?B?Rm90byBLS1Mg4oCTIHJ1c2FrLmpwZw==?=\"\n\n"
    b"iVBORw0KGgoAAAAAAAAAAGNvbnRvaCBmb3RvIGthcnR1\n"
    b"--==mix==\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n"
    b"iVBORw0KGgoAAAAAAAAAAGNvbnRvaCBmb3RvIGthcnR1\n"
    b"--==mix==\nContent-Type: text/plain; charset=utf-8\n"
    b"Content-Disposition: attachment; filename=\"C:\\\\fakepath\\\\catatan.txt\"\n\nCatatan warga.\n"
    b"--==mix==--\n"
)


def test_attachments_are_listed_with_hash_and_size():
    record = normalize(ATTACHMENTS)
    assert record.body == "Berkas terlampir."
    note = b"Catatan warga."
    assert record.attachments == (
        Attachment("Surat Keterangan \u2013 Wayan.pdf", "application/pdf", len(PDF),
                   hashlib.sha256(PDF).hexdigest()),
        Attachment("Foto KKS \u2013 rusak.jpg", "image/png", len(PNG),
                   hashlib.sha256(PNG).hexdigest()),
        Attachment("attachment-3", "application/octet-stream", len(PNG),
                   hashlib.sha256(PNG).hexdigest()),
        Attachment("catatan.txt", "text/plain", len(note), hashlib.sha256(note).hexdigest()),
    )
    assert all(a.note is None for a in record.attachments)


def test_attachment_contents_gives_the_bytes_by_hash():
    contents = attachment_contents(ATTACHMENTS)
    assert contents == {
        hashlib.sha256(PDF).hexdigest(): PDF,
        hashlib.sha256(PNG).hexdigest(): PNG,
        hashlib.sha256(b"Catatan warga.").hexdigest(): b"Catatan warga.",
    }
    record = normalize(ATTACHMENTS)
    assert {a.sha256 for a in record.attachments} == set(contents)


INLINE_IMAGE = HEAD + (
    b"MIME-Version: 1.0\nContent-Type: multipart/alternative; boundary=alt\n\n"
    b"--alt\nContent-Type: text/plain; charset=utf-8\n\nFoto kartu rusak: [image: kartu]\n"
    b"--alt\nContent-Type: multipart/related; boundary=rel\n\n"
    b"--rel\nContent-Type: text/html; charset=utf-8\n\n"
    b"<p>Foto kartu rusak:</p><img src=\"cid:ii_kartu01\" alt=\"kartu\">\n"
    b"--rel\nContent-Type: image/png\nContent-ID: <ii_kartu01>\nContent-Transfer-Encoding: base64\n\n"
    b"iVBORw0KGgoAAAAAAAAAAGNvbnRvaCBmb3RvIGthcnR1\n--rel--\n--alt--\n"
)


def test_inline_cid_image_is_an_attachment():
    record = normalize(INLINE_IMAGE)
    assert record.body == "Foto kartu rusak: [image: kartu]"
    assert record.attachments == (
        Attachment("attachment-1", "image/png", len(PNG), hashlib.sha256(PNG).hexdigest()),
    )
    assert attachment_contents(INLINE_IMAGE) == {hashlib.sha256(PNG).hexdigest(): PNG}


# --- kind triage --------------------------------------------------------------------------------

TRIAGE = [
    (b"Auto-Submitted: auto-replied\n", Kind.NOT_COMPLAINT, "auto_reply"),
    (b"Auto-Submitted: auto-generated; owner-email=\"x@example.id\"\n", Kind.NOT_COMPLAINT,
     "auto_reply"),
    (b"Auto-Submitted: no\n", Kind.COMPLAINT, None),
    (b"X-Autoreply: yes\n", Kind.NOT_COMPLAINT, "auto_reply"),
    (b"X-Autorespond: Saya sedang cuti\n", Kind.NOT_COMPLAINT, "auto_reply"),
    (b"Precedence: auto_reply\n", Kind.NOT_COMPLAINT, "auto_reply"),
    (b"Precedence: junk\n", Kind.NOT_COMPLAINT, "auto_reply"),
    (b"Precedence: bulk\n", Kind.NOT_COMPLAINT, "bulk"),
    (b"Precedence: list\n", Kind.NOT_COMPLAINT, "newsletter"),
    (b"Subject: Out of Office: PKH belum cair\n", Kind.NOT_COMPLAINT, "auto_reply"),
    (b"Subject: Automatic reply: PKH belum cair\n", Kind.NOT_COMPLAINT, "auto_reply"),
    (b"Subject: Balasan otomatis: PKH belum cair\n", Kind.NOT_COMPLAINT, "auto_reply"),
    (b"Subject: Auto: PKH belum cair\n", Kind.NOT_COMPLAINT, "auto_reply"),
    (b"Content-Type: multipart/report; report-type=delivery-status; boundary=r\n",
     Kind.NOT_COMPLAINT, "bounce"),
    (b"Sender: MAILER-DAEMON@mx.example.com\n", Kind.COMPLAINT, None),  # From decides
    (b"Subject: Undeliverable: PKH belum cair\n", Kind.NOT_COMPLAINT, "bounce"),
    (b"Subject: Delivery Status Notification (Failure)\n", Kind.NOT_COMPLAINT, "bounce"),
    (b"Subject: Mail delivery failed: returning message to sender\n", Kind.NOT_COMPLAINT,
     "bounce"),
    (b"List-Unsubscribe: <mailto:unsub@example.com>\n", Kind.NOT_COMPLAINT, "newsletter"),
    (b"List-Id: Berita Desa <berita.example.com>\n", Kind.NOT_COMPLAINT, "newsletter"),
    (b"In-Reply-To: <case-1@example.id>\n", Kind.FOLLOW_UP, "reply"),
    (b"References: <case-1@example.id>\n", Kind.FOLLOW_UP, "reply"),
    (b"Subject: Re: PKH belum cair\n", Kind.FOLLOW_UP, "reply"),
    (b"Subject: RE : PKH belum cair\n", Kind.FOLLOW_UP, "reply"),
    (b"Subject: Balas: PKH belum cair\n", Kind.FOLLOW_UP, "reply"),
    (b"Subject: Bantuan tidak terkirim ke rekening\n", Kind.COMPLAINT, None),
    (b"Subject: Rekening: PKH belum cair\n", Kind.COMPLAINT, None),
    # Order: a bounce that says Auto-Submitted is a bounce; an auto-reply in a thread is one.
    (b"Auto-Submitted: auto-replied\nSubject: Undeliverable: PKH\n", Kind.NOT_COMPLAINT, "bounce"),
    (b"In-Reply-To: <case-1@example.id>\nSubject: Out of Office: Re: PKH\n", Kind.NOT_COMPLAINT,
     "auto_reply"),
    (b"List-Id: <berita.example.com>\nIn-Reply-To: <case-1@example.id>\n", Kind.NOT_COMPLAINT,
     "newsletter"),
]


@pytest.mark.parametrize("headers, kind, reason", TRIAGE,
                         ids=[case[0].decode().split("\n")[0][:40] for case in TRIAGE])
def test_kind_triage(headers, kind, reason):
    raw = (b"From: wayan@example.id\nDate: Mon, 2 Nov 2026 09:15:00 +0800\n" + headers
           + b"\n--r\nContent-Type: text/plain\n\nIsi.\n--r--\n")
    record = normalize(raw)
    assert (record.kind, record.kind_reason) == (kind, reason)
    if kind is not Kind.COMPLAINT:
        assert record.extra["triage"]


@pytest.mark.parametrize("sender", [b"MAILER-DAEMON@mx.example.com", b"postmaster@example.com",
                                    b"Mail Delivery System <Mailer-Daemon@example.com>"])
def test_bounce_by_sender(sender):
    raw = b"From: " + sender + b"\nDate: Mon, 2 Nov 2026 09:15:00 +0800\nSubject: Gagal\n\nx\n"
    record = normalize(raw)
    assert (record.kind, record.kind_reason) == (Kind.NOT_COMPLAINT, "bounce")


BOUNCE = (
    b"From: Mail Delivery Subsystem <mailer-daemon@example.com>\nTo: pengaduan@example.id\n"
    b"Subject: Delivery Status Notification (Failure)\nDate: Mon, 2 Nov 2026 09:15:00 +0800\n"
    b"Auto-Submitted: auto-replied\n"
    b"Content-Type: multipart/report; report-type=delivery-status; boundary=\"rep\"\n\n"
    b"--rep\nContent-Type: text/plain; charset=utf-8\n\nAlamat wayan@example.id tidak ditemukan.\n"
    b"--rep\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.com\n\n"
    b"Final-Recipient: rfc822; wayan@example.id\nAction: failed\nStatus: 5.1.1\n"
    b"--rep\nContent-Type: message/rfc822\n\nFrom: pengaduan@example.id\nTo: wayan@example.id\n"
    b"Subject: Re: PKH\n\nJawaban kami.\n--rep--\n"
)


def test_a_real_bounce_is_labelled_not_forwarded():
    record = normalize(BOUNCE)
    assert (record.kind, record.kind_reason) == (Kind.NOT_COMPLAINT, "bounce")
    assert record.author.email == "mailer-daemon@example.com"
    assert "forwarded_by" not in record.extra
    assert record.body == "Alamat wayan@example.id tidak ditemukan."
    assert [a.content_type for a in record.attachments] == ["message/delivery-status"]
    assert record.extra["attached_message"]["subject"] == "Re: PKH"


def test_thread_ids_without_angle_brackets():
    raw = (
        b"From: wayan@example.id\nDate: Mon, 2 Nov 2026 09:15:00 +0800\n"
        b"In-Reply-To: <case-2@example.id> (Dinas Sosial's message of Mon, 2 Nov 2026)\n"
        b"References: <root-1@example.id>\n <case-1@example.id>\n\t<case-2@example.id>\n"
        b"Subject: Re: PKH\n\nSudah saya lengkapi.\n"
    )
    record = normalize(raw)
    assert record.kind is Kind.FOLLOW_UP
    assert record.in_reply_to == "case-2@example.id"
    assert record.extra["references"] == ["root-1@example.id", "case-1@example.id",
                                          "case-2@example.id"]


# --- the source id -------------------------------------------------------------------------------

KEYS = [
    (b"Message-ID: <abc@example.id>\n\nx", "abc@example.id"),
    (b"Message-Id:   <abc@example.id>  \n\nx", "abc@example.id"),
    (b"MESSAGE-ID: abc@example.id\n\nx", "abc@example.id"),
    (b"Message-ID:\n <folded@example.id>\n\nx", "folded@example.id"),
    (b"Message-ID: <first@example.id>\nMessage-ID: <second@example.id>\n\nx", "first@example.id"),
    (b"Message-ID: <>\nMessage-ID: <second@example.id>\n\nx", "second@example.id"),
    (b"From wayan@example.id Mon Nov  2 09:15:00 2026\nMessage-ID: <mbox@example.id>\n\nx",
     "mbox@example.id"),
    (b"\r\nMessage-ID: <lead@example.id>\r\n\r\nx", "lead@example.id"),
]


@pytest.mark.parametrize("raw, key", KEYS)
def test_message_key(raw, key):
    assert message_key(raw) == key


@pytest.mark.parametrize(
    "raw",
    [
        b"From: wayan@example.id\n\nMessage-ID: <in-the-body@example.id>\n",
        b"Message-ID: <>\n\nx",
        b"Message-ID: <two words@example.id>\n\nx",
        b"Message-ID:    \n\nx",
        b"Message-ID: <\xff\xfe@example.id>\n\nx",
        b"\x00\x01garbage",
        b"",
    ],
    ids=["in-body", "empty", "spaces", "blank", "bad-bytes", "garbage", "nothing"],
)
def test_message_key_without_a_valid_message_id_hashes_the_bytes(raw):
    assert message_key(raw) == "sha256:" + hashlib.sha256(raw).hexdigest()


def test_missing_message_id_gives_a_stable_key():
    raw = b"From: wayan@example.id\nDate: Mon, 2 Nov 2026 09:15:00 +0800\n\nPKH belum cair.\n"
    first, second = normalize(raw), normalize(bytes(raw))
    assert first.source_id == second.source_id == "sha256:" + hashlib.sha256(raw).hexdigest()
    assert "message_id" not in first.extra
    assert normalize(raw + b" ").source_id != first.source_id


# --- dates --------------------------------------------------------------------------------------

DATES = [
    ("naive-is-wita", b"Date: Mon, 2 Nov 2026 09:15:00 -0000\n", RECEIVED,
     datetime(2026, 11, 2, 9, 15, tzinfo=WITA), None),
    ("no-zone-is-wita", b"Date: 2 Nov 2026 09:15\n", RECEIVED,
     datetime(2026, 11, 2, 9, 15, tzinfo=WITA), None),
    ("other-zone-kept", b"Date: Mon, 02 Nov 2026 08:15:00 +0700\n", RECEIVED,
     datetime(2026, 11, 2, 9, 15, tzinfo=WITA), None),
    ("indonesian-words", b"Date: Sen, 2 Des 2026 pukul 09.15 WITA\n", "2026-12-02T09:20:00+08:00",
     datetime(2026, 12, 2, 9, 15, tzinfo=WITA), None),
    ("unparsable", b"Date: kemarin sore\n", RECEIVED,
     datetime(2026, 11, 2, 9, 20, tzinfo=WITA), "the Date header 'kemarin sore' could not be read"),
    ("missing", b"", RECEIVED, datetime(2026, 11, 2, 9, 20, tzinfo=WITA), "no Date header"),
    ("future", b"Date: Fri, 1 Jan 2027 09:15:00 +0800\n", RECEIVED,
     datetime(2026, 11, 2, 9, 20, tzinfo=WITA), "more than a day after"),
    ("hours-ahead-is-fine", b"Date: Mon, 2 Nov 2026 20:00:00 +0800\n", RECEIVED,
     datetime(2026, 11, 2, 20, 0, tzinfo=WITA), None),
    ("broken-clock-1970", b"Date: Thu, 01 Jan 1970 00:00:00 +0000\n", RECEIVED,
     datetime(2026, 11, 2, 9, 20, tzinfo=WITA), "before 1990"),
    ("received-in-utc-z", b"Date: nonsense\n", "2026-11-02T01:20:00Z",
     datetime(2026, 11, 2, 1, 20, tzinfo=timezone.utc), "could not be read"),
    ("bad-meta-received-ignored", b"Date: Mon, 2 Nov 2026 09:15:00 +0800\n", "kemarin",
     datetime(2026, 11, 2, 9, 15, tzinfo=WITA), "is not an ISO-8601 time"),
]


@pytest.mark.parametrize("date, received, expected, warning", [case[1:] for case in DATES],
                         ids=[case[0] for case in DATES])
def test_received_at(date, received, expected, warning):
    raw = b"From: wayan@example.id\n" + date + b"\nPKH belum cair.\n"
    record = normalize(raw, received=received)
    assert record.received_at == expected
    assert record.received_at.tzinfo is not None
    if warning:
        assert warning in warnings_of(record)
    else:
        assert "warnings" not in record.extra


def test_received_header_is_the_last_resort_date():
    raw = (b"Received: from a.example.com by mx.example.id; Mon, 2 Nov 2026 09:16:00 +0800\n"
           b"From: wayan@example.id\nDate: rusak\n\nPKH belum cair.\n")
    record = normalize(raw, received=None)
    assert record.received_at == datetime(2026, 11, 2, 9, 16, tzinfo=WITA)
    assert "top Received header" in warnings_of(record)


def test_meta_received_may_be_a_datetime():
    moment = datetime(2026, 11, 2, 9, 20, tzinfo=WITA)
    raw = b"From: wayan@example.id\n\nPKH belum cair.\n"
    record = normalize_email(RawItem(source_id="x", payload=raw, meta={"received": moment}))
    assert record.received_at == moment


def test_no_usable_date_at_all_is_a_record_error():
    with pytest.raises(RecordError, match="no usable date"):
        normalize(b"From: wayan@example.id\nDate: kemarin\n\nPKH belum cair.\n", received=None)


# --- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [b"\x00\x01garbage", b"", b"\r\n\r\njust a body\n", b"ini bukan email sama sekali\nhalo\n"],
    ids=["binary", "empty", "body-only", "plain-text"],
)
def test_not_an_email_is_a_record_error(raw):
    with pytest.raises(RecordError, match="not an e-mail message: no header fields"):
        normalize(raw)
    with pytest.raises(RecordError):
        attachment_contents(raw)


def test_malformed_headers_still_give_a_record():
    raw = (
        b"From: I Wayan <wayan@example.id\nSubject: =?utf-8?B?!!!?= PKH\n"
        b"Date: Mon, 2 Nov 2026 09:15:00 +0800\nThis line is not a header\n"
        b"To: pengaduan@example.id\n\nPKH belum cair.\n"
    )
    record = normalize(raw)
    assert record.author == Author(name="I Wayan", email="wayan@example.id")
    assert record.subject == "PKH"
    assert "PKH belum cair." in record.body
    assert "malformed" in warnings_of(record)


def test_header_only_message_without_body():
    record = normalize(b"From: wayan@example.id\nDate: Mon, 2 Nov 2026 09:15:00 +0800\n"
                       b"Subject: PKH belum cair")
    assert record.body == "" and record.subject == "PKH belum cair"
    assert record.attachments == ()


def test_truncated_multipart_boundary():
    raw = HEAD + (
        b"Content-Type: multipart/mixed; boundary=\"cut\"\n\n"
        b"--cut\nContent-Type: text/plain; charset=utf-8\n\nBPNT belum masuk.\n"
        b"--cut\nContent-Type: image/jpeg; name=\"foto.jpg\"\nContent-Transfer-Encoding: base64\n\n"
        b"/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDA"
    )
    record = normalize(raw)
    assert record.body == "BPNT belum masuk."
    assert [a.filename for a in record.attachments] == ["foto.jpg"]
    assert "close boundary not found" in warnings_of(record)


def test_multipart_without_any_boundary_keeps_the_text():
    raw = HEAD + b"Content-Type: multipart/mixed; boundary=\"nowhere\"\n\nBPNT belum masuk.\n"
    record = normalize(raw)
    assert record.body == "BPNT belum masuk."
    assert "no readable parts" in warnings_of(record)


def test_invalid_bytes_everywhere():
    raw = (
        b"From: \xff\xfe <wayan@example.id>\nSubject: \xc3\x28 PKH \xa0\nDate: Mon, 2 Nov 2026 "
        b"09:15:00 +0800\nContent-Type: text/plain; charset=utf-8\n\n\xc3\x28 bantuan \x00\xff\n"
    )
    record = normalize(raw)
    assert "bantuan" in record.body
    assert record.author.email == "wayan@example.id"
    assert "PKH" in (record.subject or "")


def test_ten_thousand_parts_are_capped_and_warned():
    parts = b"".join(
        b"--many\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n"
        b"UEtI\n" for _ in range(10_000)
    )
    raw = HEAD + (b"Content-Type: multipart/mixed; boundary=many\n\n--many\n"
                  b"Content-Type: text/plain\n\nBanyak lampiran.\n" + parts + b"--many--\n")
    started = time.perf_counter()
    record = normalize(raw)
    assert time.perf_counter() - started < 10
    assert record.body == "Banyak lampiran."
    assert len(record.attachments) == MAX_PARTS - 2  # the container and the text part count
    assert f"more than {MAX_PARTS} MIME parts" in warnings_of(record)


def test_a_thirty_megabyte_message():
    line = b"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAx\n"
    data = line * (30 * 1024 * 1024 // len(line))
    raw = HEAD + (
        b"Content-Type: multipart/mixed; boundary=big\n\n--big\nContent-Type: text/plain\n\n"
        b"Video bukti terlampir.\n--big\nContent-Type: video/mp4; name=bukti.mp4\n"
        b"Content-Transfer-Encoding: base64\n\n" + data + b"--big--\n"
    )
    assert len(raw) > 30_000_000
    started = time.perf_counter()
    record = normalize(raw)
    assert time.perf_counter() - started < 30
    assert record.body == "Video bukti terlampir."
    (video,) = record.attachments
    assert (video.filename, video.size) == ("bukti.mp4", len(data) // len(line) * 54)


def test_a_thirty_megabyte_text_body_is_cut_with_a_warning():
    raw = HEAD + b"Content-Type: text/plain; charset=utf-8\n\n" + b"PKH belum cair. " * 2_000_000
    record = normalize(raw)
    assert len(record.body) <= 1_000_000
    assert "only the start was read" in warnings_of(record)


def test_nesting_deeper_than_the_walk_reads_is_skipped_with_a_warning():
    raw = HEAD + b"".join(
        b"Content-Type: multipart/mixed; boundary=b%d\n\n--b%d\n" % (i, i) for i in range(40)
    ) + b"Content-Type: text/plain\n\nx\n"
    record = normalize(raw)
    assert record.body == ""
    assert "nested over 30 levels deep; skipped" in warnings_of(record)


def test_nesting_deeper_than_the_parser_can_go_is_a_record_error():
    raw = HEAD + b"".join(
        b"Content-Type: multipart/mixed; boundary=b%d\n\n--b%d\n" % (i, i) for i in range(3000)
    ) + b"Content-Type: text/plain\n\nx\n"
    with pytest.raises(RecordError, match="nested too deeply"):
        normalize(raw)


def test_unexpected_errors_become_record_errors(monkeypatch):
    def explode(*args, **kwargs):
        raise KeyError("boom")

    monkeypatch.setattr(mail_module, "walk_parts", explode)
    with pytest.raises(RecordError, match=r"^the e-mail could not be parsed: KeyError: 'boom'"):
        normalize(COMPLAINT)
    with pytest.raises(RecordError, match="could not be parsed"):
        attachment_contents(COMPLAINT)


def test_meta_is_optional_and_provenance_is_not_copied():
    record = normalize(COMPLAINT, folder="INBOX", uid="42", mailbox="pengaduan")
    assert not {"folder", "uid", "mailbox"} & set(record.extra)
    assert record.received_at - datetime(2026, 11, 2, 1, 15, tzinfo=timezone.utc) == timedelta(0)


FILENAMES = [
    (b"filename=\"Surat \xe2\x80\x93 KTM.pdf\"", "Surat \u2013 KTM.pdf"),  # raw UTF-8 bytes
    (b"filename=\"Surat \x96 KTM.pdf\"", "Surat \u2013 KTM.pdf"),  # raw windows-1252 bytes
    (b"filename*=x-bogus''Surat%20KTM%20%E2%80%93.pdf", "Surat KTM \u2013.pdf"),
    (b"filename*0*=utf-8''Surat%20; filename*1*=%E2%80%93%20KTM.pdf", "Surat \u2013 KTM.pdf"),
    (b"filename=\"=?iso-8859-1?Q?Ren=E9.pdf?=\"", "Ren\u00e9.pdf"),
    (b"filename=\"../../etc/passwd\"", "passwd"),
    (b"filename=\"\"", "attachment-1"),
    (b"filename*=utf-8''%E2%80", "attachment-1"),
]


@pytest.mark.parametrize("parameter, filename", FILENAMES)
def test_attachment_file_names(parameter, filename):
    raw = HEAD + (
        b"Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nx\n"
        b"--b\nContent-Type: application/pdf\nContent-Transfer-Encoding: base64\n"
        b"Content-Disposition: attachment; " + parameter + b"\n\nQUJD\n--b--\n"
    )
    (attachment,) = normalize(raw).attachments
    assert attachment.filename == filename
    assert (attachment.size, attachment.sha256) == (3, hashlib.sha256(b"ABC").hexdigest())


def test_forward_subject_without_forwarded_text_keeps_the_sender():
    raw = (b"From: Ketut <ketut@example.id>\nDate: Mon, 2 Nov 2026 09:15:00 +0800\n"
           b"Subject: Fwd: BPNT\n\nBPNT kami belum masuk, ini saya teruskan lagi.\n")
    record = normalize(raw)
    assert record.author == Author(name="Ketut", email="ketut@example.id")
    assert "forwarded_by" not in record.extra


def test_outlook_forward_with_only_a_display_name():
    raw = (b"From: Staf <staf@example.id>\nDate: Mon, 2 Nov 2026 09:15:00 +0800\n"
           b"Subject: FW: KIS\n\nFrom: I Made Astawa\nSent: Sunday, November 1, 2026 8:02 PM\n"
           b"To: Kepala Dinas\nSubject: KIS\n\nKIS ditolak.\n")
    record = normalize(raw)
    assert record.author == Author(name="I Made Astawa")
    assert record.body == "KIS ditolak."


def test_a_forward_inside_a_thread_stays_a_follow_up():
    raw = (b"From: Staf <staf@example.id>\nDate: Mon, 2 Nov 2026 09:15:00 +0800\n"
           b"In-Reply-To: <asli@example.com>\nSubject: Fwd: KIS\n\n"
           b"---------- Forwarded message ---------\nFrom: Rasi <rasi@example.com>\n\nKIS ditolak.\n")
    record = normalize(raw)
    assert (record.kind, record.in_reply_to) == (Kind.FOLLOW_UP, "asli@example.com")
    assert record.author == Author(name="Rasi", email="rasi@example.com")


def test_warnings_of_an_unused_alternative_are_not_reported():
    raw = HEAD + (
        b"Content-Type: multipart/alternative; boundary=a\n\n--a\nContent-Type: text/plain; "
        b"charset=utf-8\n\nPKH belum cair.\n--a\nContent-Type: text/html\n\n<p>PKH \x93belum\x94"
        b"</p>\n--a--\n"
    )
    record = normalize(raw)
    assert record.body == "PKH belum cair."
    assert "warnings" not in record.extra
    raw = raw.replace(b"PKH belum cair.\n--a", b"\n--a")
    assert "read as windows-1252" in warnings_of(normalize(raw))


def test_very_long_references_keep_the_root_and_the_latest():
    ids = b" ".join(b"<r%d@example.id>" % n for n in range(300))
    raw = b"From: a@example.id\nDate: Mon, 2 Nov 2026 09:15:00 +0800\nReferences: " + ids + b"\n\nx"
    references = normalize(raw).extra["references"]
    assert len(references) == 100
    assert references[0] == "r0@example.id" and references[-1] == "r299@example.id"


# Found by mutating the messages above: the stdlib decodes 8-bit payloads with the declared
# charset when asked for the payload text, which fails on a charset name with a NUL in it.
@pytest.mark.parametrize(
    "raw",
    [
        HEAD + b"Content-Type: text/plain; charset=\"ut\x00f-8\"\n\nBantuan \xe2\x80\x93 PKH\n",
        HEAD + b"Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: image/png; "
        b"charset=\"\x00\"\n\n\x89PNG\xff\n--b--\n",
        HEAD + b"Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: image/png\n"
        b"Content-Disposition: attachment; filename=\"=?utf-8?Q?foto_\xda?=.png\"\n\nx\n--b--\n",
        HEAD + b"Content-Type: text/plain; charset=\"\xff\xfe\"\n\nKIS \x96 ditolak\n",
    ],
    ids=["nul-in-charset", "nul-charset-on-image", "8bit-inside-encoded-word", "8bit-charset"],
)
def test_hostile_parameters_still_give_a_record(raw):
    record = normalize(raw)
    assert record.source_id == "b@example.id"
    assert attachment_contents(raw) is not None


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(head=st.sampled_from([HEAD, COMPLAINT[:400], NESTED[:600], ATTACHMENTS[:700]]),
       noise=st.binary(max_size=400))
def test_any_bytes_give_a_record_or_a_record_error(head, noise):
    try:
        record = normalize(head + noise)
    except RecordError as error:
        assert str(error)
    else:
        assert record.received_at.tzinfo is not None and record.source_id
