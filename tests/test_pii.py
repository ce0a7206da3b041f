"""Finding and masking personal data. Every NIK here has month "00" and every phone a "0000"
block, so none can be a real person's."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pengaduan.normalizer.pii import (
    PiiSpan,
    find_pii,
    mask_for_log,
    mask_record_content,
    mask_text,
    nik_hash,
    normalize_phone,
)
from pengaduan.normalizer.record import Author, ComplaintRecord, IdentityDocument

NIK = "5107011500900001"
KK = "5107012000850002"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0812-0000-1234", "+6281200001234"),
        ("+62 812 0000 1234", "+6281200001234"),
        ("62812-0000-1234", "+6281200001234"),
        ("6281200001234", "+6281200001234"),
        ("081200001234", "+6281200001234"),
        ("+62 (812) 0000-1234", "+6281200001234"),
        ("0812.0000.1234", "+6281200001234"),
        ("(0363) 000012", "+62363000012"),
        ("0363-0000-12", "+62363000012"),
        ("+62 361 000012", "+62361000012"),
        ("08120000", None),  # too short for a mobile
        ("0812-0000-123456", None),  # too long
        ("9301187", None),  # a LAPOR tracking ID
        ("PGD-2026-000123", None),
        ("bukan nomor", None),
        ("", None),
    ],
)
def test_normalize_phone(text: str, expected: str | None) -> None:
    assert normalize_phone(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"NIK {NIK} a/n pelapor", [("nik", NIK)]),
        ("KK 5107 0120 0085 0002.", [("nik", "5107 0120 0085 0002")]),
        ("KK 5107.0120.0085.0002", [("nik", "5107.0120.0085.0002")]),
        ("KK 5107-0120-0085-0002", [("nik", "5107-0120-0085-0002")]),
        (f"NIK:{NIK}, KK:{KK}", [("nik", NIK), ("nik", KK)]),
        ("WA 0812-0000-1234 ya", [("phone", "0812-0000-1234")]),
        ("hp: +62 812 0000 1234.", [("phone", "+62 812 0000 1234")]),
        ("hub 62812-0000-5678", [("phone", "62812-0000-5678")]),
        ("HP081300004321", [("phone", "081300004321")]),
        ("no 0878.0000.9012 atau", [("phone", "0878.0000.9012")]),
        ("kantor desa (0363) 000012", [("phone", "(0363) 000012")]),
        ("telp 0361-000012", [("phone", "0361-000012")]),
        # a count after the number is not part of it
        ("0812 0000 1234 5 orang", [("phone", "0812 0000 1234")]),
        ("0812 0000 1234 12 orang", [("phone", "0812 0000 1234")]),
        ("surel wayan.sari@gmail.com.", [("email", "wayan.sari@gmail.com")]),
        ("x+dinsos@karangasemkab.go.id", [("email", "x+dinsos@karangasemkab.go.id")]),
        # e-mail wins over the phone in its local part, NIK over a phone-shaped prefix
        ("081200001234@gmail.com", [("email", "081200001234@gmail.com")]),
        ("0812 0000 1234 2026", [("nik", "0812 0000 1234 2026")]),
        # identifiers and numbers that are not personal data
        ("Tracking ID 9301187 dan #9301187", []),
        ("ID 1234567890 di LAPOR", []),
        ("kasus PGD-2026-000123 sudah ditangani", []),
        ("tanggal 17-06-2026, 08.06.2026, 2026-06-08, 08062026", []),
        ("bantuan Rp 600.000 dan Rp 1.200.000.000", []),
        ("RT 005 RW 003 Banjar Dinas Kaler", []),
        ("jam 08.00-14.00, ruang 0930-1200", []),
        ("17 digit 51070115009000011 bukan NIK", []),
        ("15 digit 510701150090000 bukan NIK", []),
    ],
)
def test_find_pii(text: str, expected: list[tuple[str, str]]) -> None:
    assert [(span.kind, span.text) for span in find_pii(text)] == expected


def test_find_pii_offsets_point_into_the_text() -> None:
    text = f"Saya {NIK}, WA 0812-0000-1234"
    assert find_pii(text) == [
        PiiSpan(5, 21, "nik", NIK),
        PiiSpan(26, 40, "phone", "0812-0000-1234"),
    ]


@pytest.mark.parametrize(
    ("text", "names", "expected"),
    [
        (f"NIK {NIK}", (), "NIK 5107************"),
        ("KK 5107 0120 0085 0002", (), "KK 5107************"),
        ("WA 0812-0000-1234", (), "WA 08**-****-1234"),
        ("+62 852 0000 5678", (), "08**-****-5678"),
        ("telp (0363) 000012", (), "telp 03**-****-0012"),
        ("ke wayan.sari@gmail.com", (), "ke w***@gmail.com"),
        ("Tracking #9301187, PGD-2026-000123", (), "Tracking #9301187, PGD-2026-000123"),
        (
            "Saya Ni Luh Sari Dewi dari Abang. Sari minta tolong.",
            ["Ni Luh Sari Dewi"],
            "Saya [nama disamarkan] dari Abang. [nama disamarkan] minta tolong.",
        ),
        (
            "NI LUH SARI DEWI, anak saya Made, kelas 3",
            ["Ni Luh Sari Dewi"],
            "[nama disamarkan], anak saya Made, kelas 3",
        ),
        (
            "I Gede Bagus Pasek lapor; pak Pasek dan Gede Bagus lain orang",
            ["I Gede Bagus Pasek"],
            "[nama disamarkan] lapor; pak [nama disamarkan] dan Gede Bagus lain orang",
        ),
        # a name part inside another word is left alone
        ("Sarinah dan Sari", ["Sari"], "Sarinah dan [nama disamarkan]"),
        # a lone common name hides no one; masking it would blank every Ketut in the text
        ("Ketut datang", ["Ketut"], "Ketut datang"),
        # regex characters in a name are literal
        ("Komang (Dek) A.B. Putra", ["Komang (Dek) A.B. Putra"], "[nama disamarkan]"),
        (
            "Nama: Ketut Arsana, HP 0813-0000-4321",
            ["Ketut Arsana"],
            "Nama: [nama disamarkan], HP 08**-****-4321",
        ),
    ],
)
def test_mask_text(text: str, names: list[str], expected: str) -> None:
    assert mask_text(text, names) == expected


def test_mask_for_log_masks_pii_and_keeps_ids() -> None:
    line = f"record lapor:9301187 author=putu@example.com phone=+6281200001234 nik={NIK}"
    assert mask_for_log(line) == (
        "record lapor:9301187 author=p***@example.com phone=08**-****-1234 nik=5107************"
    )


def _content(**changes: object) -> dict:
    record = ComplaintRecord(
        channel="lapor",
        source_id="9301187",
        received_at=datetime(2026, 7, 6, 2, 0, tzinfo=UTC),
        subject="Bantuan PKH untuk Wayan Sudarma",
        body=f"Saya Wayan Sudarma, NIK {NIK}, WA 0812-0000-1234. Sudarma belum terima PKH.",
        author=Author(
            name="Wayan Sudarma",
            email="sudarma@example.com",
            phone="+6281200001234",
            handle="fb:1000000001",
            identity=IdentityDocument(type="KTP", number=NIK),
        ),
        extra={"kategori": "Sosial", "catatan": ["hub 0852-0000-5678", 3], "asli": {"t": NIK}},
        **changes,
    )
    return record.content()


def test_mask_record_content_of_a_named_reporter() -> None:
    content = _content()
    masked = mask_record_content(content)
    assert masked["author"] == {
        "name": "Wayan Sudarma",
        "email": "s***@example.com",
        "phone": "08**-****-1234",
        "handle": "fb:1000000001",
        "identity": {"type": "KTP", "number": "5107************"},
    }
    assert masked["subject"] == "Bantuan PKH untuk Wayan Sudarma"
    assert masked["body"] == (
        "Saya Wayan Sudarma, NIK 5107************, WA 08**-****-1234. Sudarma belum terima PKH."
    )
    assert masked["extra"] == {
        "kategori": "Sosial",
        "catatan": ["hub 08**-****-5678", 3],
        "asli": {"t": "5107************"},
    }
    assert masked["source_id"] == "9301187"
    assert content["author"]["phone"] == "+6281200001234"  # the input is left untouched


@pytest.mark.parametrize(
    ("flags", "placeholder"),
    [
        ({"anonymous": True}, "[anonim]"),
        ({"confidential": True}, "[dirahasiakan]"),
        ({"anonymous": True, "confidential": True}, "[dirahasiakan]"),
    ],
)
def test_mask_record_content_hides_anonymous_and_confidential_reporters(
    flags: dict[str, bool], placeholder: str
) -> None:
    masked = mask_record_content(_content(**flags))
    assert masked["author"]["name"] == placeholder
    assert masked["author"]["handle"] == placeholder
    assert masked["subject"] == "Bantuan PKH untuk [nama disamarkan]"
    assert masked["body"] == (
        "Saya [nama disamarkan], NIK 5107************, WA 08**-****-1234. "
        "[nama disamarkan] belum terima PKH."
    )
    assert masked["source_id"] == "9301187"


def test_mask_record_content_masks_attachment_names() -> None:
    content = _content(anonymous=True)
    content["attachments"] = [
        {"filename": f"KTP {NIK} Sudarma.jpg", "content_type": "image/jpeg", "size": 1,
         "sha256": None, "note": None}
    ]  # fmt: skip
    masked = mask_record_content(content)
    assert masked["attachments"][0]["filename"] == "KTP 5107************ [nama disamarkan].jpg"


def test_mask_record_content_reveal_is_an_unmasked_copy() -> None:
    content = _content(confidential=True)
    revealed = mask_record_content(content, reveal=True)
    assert revealed == content
    revealed["author"]["name"] = "changed"
    assert content["author"]["name"] == "Wayan Sudarma"


def test_mask_record_content_without_author_details() -> None:
    content = _content()
    content["author"] = {"name": None, "email": None, "phone": None, "handle": None,
                         "identity": None}  # fmt: skip
    content["anonymous"] = True
    masked = mask_record_content(content)
    assert masked["author"] == content["author"]
    assert masked["body"] == (
        "Saya Wayan Sudarma, NIK 5107************, WA 08**-****-1234. Sudarma belum terima PKH."
    )


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("SIM 1234-5678-9012", "*" * 18),  # not a NIK: nothing of it is kept
        ("5107 0115 0090 0001", "5107************"),  # a NIK keeps its regency code
    ],
)
def test_identity_number_masking(number: str, expected: str) -> None:
    content = _content()
    content["author"]["identity"]["number"] = number
    assert mask_record_content(content)["author"]["identity"]["number"] == expected


def test_nik_hash_is_keyed_and_ignores_separators() -> None:
    key = b"k" * 32
    digest = nik_hash(NIK, key)
    assert len(digest) == 64
    assert nik_hash("5107 0115 0090 0001", key) == digest
    assert nik_hash(NIK, b"another key") != digest
    assert nik_hash(KK, key) != digest


@pytest.mark.parametrize(("nik", "key"), [("12345", b"k"), (NIK, b"")])
def test_nik_hash_rejects_bad_input(nik: str, key: bytes) -> None:
    with pytest.raises(ValueError):
        nik_hash(nik, key)
