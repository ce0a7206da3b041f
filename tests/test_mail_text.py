"""The pieces of the e-mail normaliser on their own: charsets, encoded words, addresses, HTML to
text, reply / signature / forward splitting. Tables of literal bytes and strings."""

from __future__ import annotations

import time

import pytest

from pengaduan.normalizer.mail_mime import (
    decode_bytes,
    decode_header_value,
    find_addresses,
    guess_decode,
    lenient_b64decode,
    parse_address,
)
from pengaduan.normalizer.mail_text import find_forward, html_to_text, split_reply, unflow

# --- bytes to text --------------------------------------------------------------------------

DECODE = [
    (b"PKH belum cair", None, "PKH belum cair", None),
    (b"PKH belum cair", "x-bogus", "PKH belum cair", None),
    (b"Ren\xe9", "iso-8859-1", "Ren\u00e9", None),
    (b"\x91KKS\x92\x85", "ISO-8859-1", "\u2018KKS\u2019\u2026", "windows-1252"),
    (b"\x93BPNT\x94", "us-ascii", "\u201cBPNT\u201d", "windows-1252"),
    (b"Ren\xe9", "us-ascii", "Ren\u00e9", "read as latin-1"),
    (b"\xe2\x80\x94", "latin1", "\u2014", "written in utf-8"),
    (b"\xe2\x80\x94", None, "\u2014", "no charset was declared; read as utf-8"),
    (b"\x96", None, "\u2013", "no charset was declared; read as windows-1252"),
    (b"\x81\x8d", None, "\x81\x8d", "read as latin-1"),  # unassigned in windows-1252
    (b"\x96", "windows-1252", "\u2013", None),
    (b"\xe2\x80\x94", "\"utf-8\"", "\u2014", None),
    (b"\xe2\x80\x94", "UTF8", "\u2014", None),
    (b"\x93KIS\x94", "utf-8", "\u201cKIS\u201d", "not valid utf-8; read as windows-1252"),
    (b"\xe2\x80\x94 \xe2\x80", "utf-8", "\u2014 \ufffd", "ends in the middle of a character"),
    (b"abc \xe2", "utf-8", "abc \u00e2", "read as windows-1252"),  # a lone byte is not UTF-8
    (b"\xe2\x80\x94", "rot13", "\u2014", "is unknown"),  # not a text encoding
    (b"\xe2\x80\x94", "base64", "\u2014", "is unknown"),
    ("\u0431\u0438\u043b\u044c".encode("koi8-r"), "koi8-r", "\u0431\u0438\u043b\u044c", None),
    (b"h\x00i\x00", "utf-16-le", "hi", None),
]


@pytest.mark.parametrize("data, declared, text, note", DECODE)
def test_decode_bytes(data, declared, text, note):
    decoded, why = decode_bytes(data, declared)
    assert decoded == text
    if note is None:
        assert why is None
    else:
        assert note in why


def test_guess_decode_never_fails():
    for data in (b"", bytes(range(256)), b"\xff" * 10, b"\xe2\x80"):
        text, used = guess_decode(data)
        assert isinstance(text, str) and used in ("utf-8", "windows-1252", "latin-1")


@pytest.mark.parametrize(
    "data, decoded",
    [
        (b"UEtI", b"PKH"),
        (b"UEtIIA", b"PKH "),  # padding missing
        (b"UEtIIA=", b"PKH "),  # half the padding
        (b"UE tI\nIA==", b"PKH "),
        (b"UE*tI!IA==", b"PKH "),  # stray characters
        (b"UEtIx", b"PKH"),  # one dangling character cannot be decoded: dropped
        (b"", b""),
        (b"===", b""),
    ],
)
def test_lenient_b64decode(data, decoded):
    assert lenient_b64decode(data) == decoded


# --- header values -------------------------------------------------------------------------

HEADERS = [
    ("plain", "plain"),
    ("=?utf-8?q?Bantuan_PKH?=", "Bantuan PKH"),
    ("=?UTF-8?Q?Bantuan=5FPKH?=", "Bantuan_PKH"),
    ("=?utf-8*id?Q?Bantuan?=", "Bantuan"),  # RFC 2231 language tag
    ("=?utf-8?B?QmFudHVhbuKA?= =?utf-8?B?k0JQTlQ=?=", "Bantuan\u2013BPNT"),
    ("=?utf-8?Q?a?=\r\n\t=?iso-8859-1?Q?=E9?=", "a\u00e9"),
    ("=?utf-8?Q?a?= b =?utf-8?Q?c?=", "a b c"),
    ("a =?utf-8?Q?b?=", "a b"),
    ("=??Q?Bantuan?=", "Bantuan"),  # no charset at all
    ("=?utf-8?X?Bantuan?=", "=?utf-8?X?Bantuan?="),  # no such encoding: left as written
    ("=?utf-8?Q?Bantuan dengan spasi?=", "Bantuan dengan spasi"),  # broken, but readable
    ("Bantuan\udce2\udc80\udc93BPNT", "Bantuan\u2013BPNT"),  # raw UTF-8 bytes, escaped
    ("\udc93BPNT\udc94", "\u201cBPNT\u201d"),  # raw windows-1252 bytes, escaped
]


@pytest.mark.parametrize("value, text", HEADERS)
def test_decode_header_value(value, text):
    assert decode_header_value(value) == text


ADDRESSES = [
    ("I Wayan Sudarma <Wayan@Example.ID>", "I Wayan Sudarma", "wayan@example.id"),
    ("\"Sudarma, I Wayan\" <wayan@example.id>", "Sudarma, I Wayan", "wayan@example.id"),
    ("*Ni Luh* <niluh@example.id>", "Ni Luh", "niluh@example.id"),
    ("Dinas Sosial [mailto:dinsos@example.id]", "Dinas Sosial", "dinsos@example.id"),
    ("wayan@example.id (I Wayan)", "I Wayan", "wayan@example.id"),
    ("wayan@example.id", None, "wayan@example.id"),
    ("<wayan@example.id>", None, "wayan@example.id"),
    ("I Made Astawa", "I Made Astawa", None),
    ("I Wayan <wayan@example.id", "I Wayan", "wayan@example.id"),
    ("", None, None),
]


@pytest.mark.parametrize("value, name, address", ADDRESSES)
def test_parse_address(value, name, address):
    assert parse_address(value) == (name, address)


def test_find_addresses():
    value = "Dinas <PENGADUAN@example.id>, \"b@example.com\" <b@example.com>, c@example.id"
    assert find_addresses(value) == ["pengaduan@example.id", "b@example.com", "c@example.id"]
    assert find_addresses("undisclosed-recipients:;") == []


# --- HTML to text ----------------------------------------------------------------------------

HTML = [
    ("<p>a</p><p>b</p>", "a\n\nb"),
    ("a<br>b<br/><br>c", "a\nb\n\nc"),
    ("<div>a</div><div><br></div><div>b</div>", "a\n\nb"),
    ("<b>From:</b> Dinas &lt;d@example.id&gt;", "From: Dinas <d@example.id>"),
    ("<ul><li>satu</li><li>dua</li></ul><ol><li>tiga</li></ol>", "- satu\n- dua\n- tiga"),
    ("<table><tr><td>PKH</td><td>cair</td></tr><tr><td>KIS</td></tr></table>", "PKH | cair\nKIS"),
    ("<table><tr><td><p>PKH</p></td><td><p>cair</p></td></tr></table>", "PKH\n\ncair"),
    ("<blockquote>kutipan<br>baris 2</blockquote>baru", "> kutipan\n> baris 2\nbaru"),
    ("<blockquote>a<blockquote>b</blockquote></blockquote>", "> a\n>> b"),
    ("<pre>  NIK   belum\n  terdaftar</pre>", "NIK belum\nterdaftar"),
    ("<script>x()</script><style>p{}</style><noscript>n</noscript>teks", "teks"),
    ("<head><title>Judul</title></head><body>isi</body>", "isi"),
    ("<span style='display: none'>preheader</span>isi", "isi"),
    ("<!-- komentar --><!--[if mso]>x<![endif]-->isi", "isi"),
    ("&amp; &lt; &gt; &quot; &nbsp; &#8211; &mdash; &rsquo;", "& < > \" \u2013 \u2014 \u2019"),
    ("<p>unclosed <b>bold <i>italic", "unclosed bold italic"),
    ("<img src=\"cid:foto\" alt=\"foto\">", ""),
    ("", ""),
    ("teks biasa tanpa tag", "teks biasa tanpa tag"),
    ("<p>a</p></div></div></body>b", "a\n\nb"),
]


@pytest.mark.parametrize("html, text", HTML)
def test_html_to_text(html, text):
    assert html_to_text(html) == text


def test_html_to_text_deep_nesting_and_data_uris_stay_cheap():
    started = time.perf_counter()
    assert html_to_text("<div>" * 20_000 + "teks" + "</div>" * 20_000) == "teks"
    image = "<p>foto</p><img src=\"data:image/png;base64," + "A" * 5_000_000 + "\">"
    assert html_to_text(image) == "foto"
    assert time.perf_counter() - started < 10


def test_unflow():
    assert unflow("satu \ndua \ntiga\n-- \nsig", delsp=False) == "satu dua tiga\n-- \nsig"
    assert unflow("sa \nmbung", delsp=True) == "sambung"


# --- replies, signatures, forwards -------------------------------------------------------------


@pytest.mark.parametrize(
    "text, new, quoted, signature",
    [
        ("baru\n> lama", "baru", "> lama", ""),
        ("> lama\nbaru", "baru", "> lama", ""),
        (">> lama sekali\n> lama\nbaru", "baru", ">> lama sekali\n> lama", ""),
        ("saldo >3 bulan", "saldo >3 bulan", "", ""),
        ("baru\n--\nsig", "baru", "", "sig"),
        ("baru\n--\n" + "\n".join(f"baris {n}" for n in range(12)), "baru\n--\n"
         + "\n".join(f"baris {n}" for n in range(12)), "", ""),
        ("baru\nSent from my iPhone", "baru", "", "Sent from my iPhone"),
        ("baru\nDikirim dari Yahoo Mail di Android", "baru", "",
         "Dikirim dari Yahoo Mail di Android"),
        ("Dikirim dari iPhone saya\nbaris\nbaris\nbaris", "Dikirim dari iPhone saya\nbaris\nbaris"
         "\nbaris", "", ""),
        ("baru\r\n\r\nOn Mon, 2 Nov 2026 at 9:15 Dinas <d@example.id> wrote:\r\n> lama", "baru",
         "On Mon, 2 Nov 2026 at 9:15 Dinas <d@example.id> wrote:\n> lama", ""),
        ("baru\nPada 2 Nov 2026, pukul 09.15, Dinas <d@example.id> menulis:\nlama tanpa kutip",
         "baru", "Pada 2 Nov 2026, pukul 09.15, Dinas <d@example.id> menulis:\nlama tanpa kutip",
         ""),
        ("Pada hari Senin petugas menulis:\nsurat", "Pada hari Senin petugas menulis:\nsurat", "",
         ""),
        ("", "", "", ""),
    ],
)
def test_split_reply(text, new, quoted, signature):
    reply = split_reply(text)
    assert (reply.new, reply.quoted, reply.signature) == (new, quoted, signature)


def test_split_reply_is_linear_on_long_text():
    text = ("Pada tanggal 1 menulis\n> x\nFrom: a\n" * 50_000) + "akhir"
    started = time.perf_counter()
    split_reply(text)
    assert time.perf_counter() - started < 5


@pytest.mark.parametrize(
    "text, forward_subject, sender, content",
    [
        ("catatan\n---------- Forwarded message ---------\nFrom: A <a@example.id>\n\nisi", False,
         "A <a@example.id>", "isi"),
        ("-------- Forwarded Message --------\nSubject: x\nDate: y\nFrom: a@example.id\nTo: b\n\n"
         "isi", False, "a@example.id", "isi"),
        ("Awal pesan yang diteruskan:\n\nDari: A <a@example.id>\nSubjek: x\n\nisi", False,
         "A <a@example.id>", "isi"),
        ("From: A\nSent: Senin\nTo: B\nSubject: x\n\nisi", True, "A", "isi"),
        ("From: A\nSent: Senin\nTo: B\nSubject: x\n\nisi", False, None, None),  # a reply
        ("-----Original Message-----\nFrom: A <a@example.id>\nSubject: x\n\nisi", True,
         "A <a@example.id>", "isi"),
        ("-----Original Message-----\nFrom: A <a@example.id>\nSubject: x\n\nisi", False, None,
         None),
        ("---------- Forwarded message ---------\nSubject: tanpa pengirim\n\nisi", False, None,
         None),
        ("> ---------- Forwarded message ---------\n> From: A <a@example.id>\n", False, None, None),
        ("On 1 Nov 2026, A <a@example.id> wrote:\n> ---------- Forwarded message ---------\n",
         True, None, None),
        ("teks tanpa penerusan", True, None, None),
    ],
)
def test_find_forward(text, forward_subject, sender, content):
    forward = find_forward(text, forward_subject)
    if sender is None:
        assert forward is None
    else:
        assert forward.fields["from"] == sender
        assert forward.content == content
