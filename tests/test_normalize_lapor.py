"""normalize_lapor_row: dates, statuses, privacy flags, body choice, from tables."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from pengaduan.collectors.base import RawItem
from pengaduan.collectors.lapor_reader import ExportRow, read_export, row_payload
from pengaduan.errors import RecordError
from pengaduan.normalizer.lapor import (
    LAPOR_STATES,
    lapor_state,
    normalize_lapor_row,
    privacy_flags,
)
from pengaduan.normalizer.record import Author, Kind

WITA = ZoneInfo("Asia/Makassar")
SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "lapor"
TID = "9412345"
# Invented NIK and phone: birth month 00 cannot exist; 0812-0000 is not a real block.
NIK = "5107014200850001"
PHONE = "0812-0000-1234"

BASE = {
    "tracking_id": TID,
    "tanggal_laporan_masuk": "3 Okt 2026",
    "waktu_laporan_masuk": "09:15",
    "nama_pelapor": "I Wayan Sudarma",
    "judul_laporan": "PKH Belum Cair",
    "isi_laporan_awal": "pkh sy blm cair",
    "isi_laporan_akhir": "PKH saya belum cair.",
    "kategori": "PKH PROGRAM KELUARGA HARAPAN",
    "status_laporan": "Belum Terverifikasi",
}


def item(**changes: str | None) -> RawItem:
    fields = {k: v for k, v in {**BASE, **changes}.items() if v is not None}
    row = ExportRow(number=6, fields=fields, extra={"Catatan": "x"})
    return RawItem(source_id=TID, payload=row_payload(row))


def normalize(**changes: str | None):
    return normalize_lapor_row(item(**changes))


# --- the whole record ---------------------------------------------------------------------


def test_a_full_row():
    record = normalize(
        isi_laporan_awal=f"pkh sy blm cair NIK {NIK} hp {PHONE}",
        klasifikasi_laporan="Pengaduan",
        id_kategori="436",
        sumber_laporan="Whatsapp",
        instansi_terdisposisi="Dinas Sosial PPPA dan PPKB Kabupaten Karangasem",
        tipe_laporan="-",
        provinsi="BALI",
        kota_kabupaten="KABUPATEN KARANGASEM",
        kecamatan="KUBU",
        kelurahan="TIANYAR",
        rating="4",
        status_laporan=" Ditindaklanjuti  oleh Instansi ",
    )
    assert record.channel == "lapor"
    assert record.source_id == TID
    assert record.source_url is None
    assert record.kind is Kind.COMPLAINT
    assert record.received_at == datetime(2026, 10, 3, 9, 15, tzinfo=WITA)
    assert record.subject == "PKH Belum Cair"
    assert record.body == "PKH saya belum cair."
    assert record.author == Author(name="I Wayan Sudarma")
    assert (record.anonymous, record.confidential) == (False, False)
    assert record.location == {
        "provinsi": "BALI",
        "kabupaten": "KABUPATEN KARANGASEM",
        "kecamatan": "KUBU",
        "desa": "TIANYAR",
    }
    assert record.source_status == "Ditindaklanjuti oleh Instansi"
    assert record.source_state == "responded_by_agency"
    assert record.extra == {
        "isi_laporan_awal": f"pkh sy blm cair NIK {NIK} hp {PHONE}",
        "klasifikasi_laporan": "Pengaduan",
        "kategori": "PKH PROGRAM KELUARGA HARAPAN",
        "id_kategori": "436",
        "sumber_laporan": "Whatsapp",
        "instansi_terdisposisi": "Dinas Sosial PPPA dan PPKB Kabupaten Karangasem",
        "rating": "4",
        "tipe_laporan": "-",
    }


def test_a_minimal_row():
    record = normalize_lapor_row(RawItem(
        source_id="1",
        payload=b'{"extra":{},"fields":{"tanggal_laporan_masuk":"3 Jan 2026",'
                b'"isi_laporan_awal":"Belum ada bantuan"}}',
    ))
    assert record.body == "Belum ada bantuan"
    assert record.subject is None
    assert record.author == Author()
    assert record.location == {}
    assert (record.source_status, record.source_state) == (None, "unknown")
    assert record.extra == {}
    assert record.received_at == datetime(2026, 1, 3, 0, 0, tzinfo=WITA)


@pytest.mark.parametrize("payload", [b"not json", b"[]", b'{"extra":{}}', b'{"fields":[]}'])
def test_a_payload_the_reader_did_not_write(payload):
    with pytest.raises(RecordError, match=rf"^Tracking ID {TID}: the stored row"):
        normalize_lapor_row(RawItem(source_id=TID, payload=payload))


# --- received_at --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "day, clock, expected",
    [
        ("3 Jan 2026", "", (2026, 1, 3, 0, 0, 0)),
        ("03 Januari 2026", "09:15", (2026, 1, 3, 9, 15, 0)),
        ("3 Mei 2026", "09.15", (2026, 5, 3, 9, 15, 0)),
        ("3 May 2026", "09:15:30", (2026, 5, 3, 9, 15, 30)),
        ("3 Okt 2026", "23.59.59", (2026, 10, 3, 23, 59, 59)),
        ("3 Oct 2026", "7:05", (2026, 10, 3, 7, 5, 0)),
        ("3 Oktober 2026", "", (2026, 10, 3, 0, 0, 0)),
        ("3 October 2026", "", (2026, 10, 3, 0, 0, 0)),
        ("3 okt. 2026", "", (2026, 10, 3, 0, 0, 0)),
        ("Senin, 3 Agt 2026", "", (2026, 8, 3, 0, 0, 0)),
        ("3-Oct-2026", "", (2026, 10, 3, 0, 0, 0)),
        ("03/01/2026", "", (2026, 1, 3, 0, 0, 0)),  # day first
        ("03-01-2026", "", (2026, 1, 3, 0, 0, 0)),
        ("21-07-2025 13:05:00", "", (2025, 7, 21, 13, 5, 0)),
        ("2026-01-03", "", (2026, 1, 3, 0, 0, 0)),
        ("2026-01-03T09:15:00", "", (2026, 1, 3, 9, 15, 0)),
        ("2026-01-03T00:00:00", "10:20", (2026, 1, 3, 10, 20, 0)),  # the time column wins
        ("46025", "", (2026, 1, 3, 0, 0, 0)),  # Excel day number
        ("46025.5", "", (2026, 1, 3, 12, 0, 0)),
        ("3 Jan 2026", "0.5", (2026, 1, 3, 12, 0, 0)),  # an unformatted Excel time cell
        ("  3 Jan 2026 ", " 09:15 ", (2026, 1, 3, 9, 15, 0)),
    ],
)
def test_date_and_time_spellings(day, clock, expected):
    received = normalize(tanggal_laporan_masuk=day, waktu_laporan_masuk=clock).received_at
    assert received == datetime(*expected, tzinfo=WITA)
    assert received.utcoffset() == timedelta(hours=8)


@pytest.mark.parametrize(
    "names, month",
    [
        (("Jan", "Januari", "January"), 1),
        (("Feb", "Februari", "Pebruari", "February"), 2),
        (("Mar", "Maret", "March"), 3),
        (("Apr", "April"), 4),
        (("Mei", "May"), 5),
        (("Jun", "Juni", "June"), 6),
        (("Jul", "Juli", "July"), 7),
        (("Agu", "Agt", "Agus", "Agustus", "Aug", "August"), 8),
        (("Sep", "Sept", "September"), 9),
        (("Okt", "Oktober", "Oct", "October"), 10),
        (("Nov", "Nopember", "November"), 11),
        (("Des", "Desember", "Dec", "December"), 12),
    ],
)
def test_every_month_name(names, month):
    for name in names + tuple(n.upper() for n in names):
        record = normalize(tanggal_laporan_masuk=f"5 {name} 2026", waktu_laporan_masuk="")
        assert record.received_at == datetime(2026, month, 5, tzinfo=WITA), name


@pytest.mark.parametrize(
    "clock, offset",
    [("09:15 WIB", 7), ("09:15 WITA", 8), ("09:15 wit", 9)],
)
def test_a_written_time_zone_is_honoured(clock, offset):
    received = normalize(tanggal_laporan_masuk="3 Jan 2026", waktu_laporan_masuk=clock).received_at
    assert received.utcoffset() == timedelta(hours=offset)
    assert (received.hour, received.minute) == (9, 15)


@pytest.mark.parametrize(
    "day", ["xx", "31 Feb 2026", "3 Foo 2026", "2026/13/45", "13/13/2026", "3 Jan", "9412345"]
)
def test_a_date_that_is_not_one(day):
    with pytest.raises(RecordError) as error:
        normalize(tanggal_laporan_masuk=day)
    assert str(error.value) == (
        f"Tracking ID {TID}: date '{day}' in column 'Tanggal Laporan Masuk' is not a date "
        "(expected e.g. 3 Jan 2026)"
    )


def test_a_missing_date():
    with pytest.raises(RecordError, match=r"date '\(empty\)' in column 'Tanggal Laporan Masuk'"):
        normalize(tanggal_laporan_masuk=None)


@pytest.mark.parametrize("clock", ["25:00", "09:75", "pagi", "9"])
def test_a_time_that_is_not_one(clock):
    with pytest.raises(RecordError) as error:
        normalize(waktu_laporan_masuk=clock)
    assert str(error.value) == (
        f"Tracking ID {TID}: time '{clock}' in column 'Waktu Laporan Masuk' is not a time of "
        "day (expected e.g. 09:15)"
    )


# --- status -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "status, state",
    [
        ("Belum Terverifikasi", "received_unverified"),
        ("Menunggu Verifikasi", "received_unverified"),
        ("Belum Terdisposisi", "received_unverified"),
        ("Ditunda", "postponed"),
        ("Tunda", "postponed"),
        ("Terverifikasi", "verified_disposed"),
        ("Sudah Terverifikasi", "verified_disposed"),
        ("Terdisposisi ke Dinas Sosial", "verified_disposed"),
        ("Belum Ditindaklanjuti", "verified_disposed"),
        ("Proses", "in_progress"),
        ("Dalam Proses", "in_progress"),
        ("Ditindaklanjuti oleh Instansi", "responded_by_agency"),
        ("Selesai otomatis dalam 10 hari", "responded_by_agency"),
        ("Ditanggapi oleh Pelapor", "reporter_replied"),
        ("Ditutup oleh Admin", "closed"),
        ("Ditutup oleh Sistem", "closed"),
        ("Selesai", "closed"),
        ("Diarsipkan oleh Admin", "archived"),
        ("Diarsipkan oleh Sistem", "archived"),
        ("Bukan Wewenang", "not_authority"),
        ("DITUTUP  OLEH\u00a0SISTEM", "closed"),
        ("Ditolak", "unknown"),
        ("Status baru 2027", "unknown"),
        ("", "unknown"),
    ],
)
def test_status_mapping(status, state):
    assert lapor_state(status) == state
    assert state in LAPOR_STATES


def test_an_unknown_status_is_kept_raw():
    record = normalize(status_laporan="Menunggu Konfirmasi Pelapor")
    assert (record.source_status, record.source_state) == ("Menunggu Konfirmasi Pelapor", "unknown")


def test_lapor_states():
    assert LAPOR_STATES == (
        "received_unverified", "postponed", "verified_disposed", "in_progress",
        "responded_by_agency", "reporter_replied", "closed", "archived", "not_authority",
        "unknown",
    )


# --- privacy ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "tipe, anonymous, confidential",
    [
        ("", False, False),
        ("-", False, False),
        ("Biasa", False, False),
        ("Publik", False, False),
        ("Anonim", True, False),
        ("ANONIM", True, False),
        ("Rahasia", False, True),
        ("Anonim, Rahasia", True, True),
        ("Anonim/Rahasia", True, True),
        ("Rahasia & Anonim", True, True),
        ("Tidak Rahasia", False, False),
        ("Non Anonim", False, False),
    ],
)
def test_tipe_laporan_flags(tipe, anonymous, confidential):
    assert privacy_flags(tipe) == (anonymous, confidential)
    record = normalize(tipe_laporan=tipe)
    assert (record.anonymous, record.confidential) == (anonymous, confidential)
    if confidential:
        assert record.extra["confidential_reason"] == "marked Rahasia in LAPOR"
    else:
        assert "confidential_reason" not in record.extra


@pytest.mark.parametrize(
    "name, author, anonymous",
    [
        ("Anonim", None, True),
        ("anonymous", None, True),
        ("-", None, False),
        ("", None, False),
        ("  Ni  Made\u00a0Ariani ", "Ni Made Ariani", False),
    ],
)
def test_reporter_name(name, author, anonymous):
    record = normalize(nama_pelapor=name, tipe_laporan="")
    assert record.author == Author(name=author)
    assert record.anonymous is anonymous


@pytest.mark.parametrize(
    "changes, reason",
    [
        ({"kategori": "KEKERASAN DALAM RUMAH TANGGA"},
         "domestic violence: 'kekerasan dalam rumah tangga' in Kategori"),
        ({"isi_laporan_akhir": "Saya korban KDRT, suami sering memukul."},
         "domestic violence: 'kdrt' in the text"),
        ({"kategori": "PELECEHAN SEKSUAL"}, "sexual violence: 'pelecehan seksual' in Kategori"),
        ({"isi_laporan_akhir": "Ada dugaan kekerasan seksual di sekolah."},
         "sexual violence: 'kekerasan seksual' in the text"),
        ({"isi_laporan_akhir": "Anak tetangga diduga dicabuli."},
         "sexual violence: 'dicabuli' in the text"),
        ({"isi_laporan_akhir": "Laporan pencabulan anak di banjar kami."},
         "sexual violence: 'pencabulan' in the text"),
        ({"judul_laporan": "Pemerkosaan anak"}, "sexual violence: 'pemerkosaan' in the text"),
        ({"kategori": "EKSPLOITASI ANAK"}, "child protection: 'eksploitasi anak' in Kategori"),
        ({"kategori": "ANAK TERLANTAR"}, "child protection: 'anak terlantar' in Kategori"),
        ({"isi_laporan_akhir": "Mohon tindak kekerasan terhadap anak di desa kami."},
         "child protection: 'kekerasan terhadap anak' in the text"),
        # the admin may edit the text: the citizen's original counts too
        ({"isi_laporan_awal": "sy korban kdrt", "isi_laporan_akhir": "Mohon pendampingan."},
         "domestic violence: 'kdrt' in the text"),
    ],
)
def test_sensitive_topics_are_confidential(changes, reason):
    record = normalize(tipe_laporan="", **changes)
    assert record.confidential is True
    assert record.anonymous is False
    assert record.extra["confidential_reason"] == reason


@pytest.mark.parametrize(
    "text", ["Anak saya butuh kursi roda.", "Dinas tidak pernah datang ke rumah tangga miskin."]
)
def test_ordinary_topics_are_not_confidential(text):
    record = normalize(tipe_laporan="", isi_laporan_akhir=text)
    assert record.confidential is False
    assert "confidential_reason" not in record.extra


# --- body and subject ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "awal, akhir, body, kept_awal",
    [
        ("pkh sy blm cair", "PKH saya belum cair.", "PKH saya belum cair.", "pkh sy blm cair"),
        ("PKH belum cair", "  PKH   belum cair\r\n", "PKH belum cair", None),
        ("pkh sy blm cair", "", "pkh sy blm cair", None),
        ("pkh sy blm cair", None, "pkh sy blm cair", None),
        ("", "Bantuan belum diterima", "Bantuan belum diterima", None),
        ("Yth. Bapak\r\n\r\n\r\n\r\nDengan hormat", None, "Yth. Bapak\n\nDengan hormat", None),
    ],
)
def test_body_prefers_the_final_text(awal, akhir, body, kept_awal):
    record = normalize(isi_laporan_awal=awal, isi_laporan_akhir=akhir)
    assert record.body == body
    assert record.extra.get("isi_laporan_awal") == kept_awal


def test_no_text_at_all():
    with pytest.raises(RecordError) as error:
        normalize(isi_laporan_awal=" ", isi_laporan_akhir=None)
    assert str(error.value) == (
        f"Tracking ID {TID}: both 'Isi Laporan Akhir' and 'Isi Laporan Awal' are empty, so the "
        "report has no text"
    )


@pytest.mark.parametrize("title, subject", [("  PKH\nBelum  Cair ", "PKH Belum Cair"),
                                            ("", None), (None, None)])
def test_subject(title, subject):
    assert normalize(judul_laporan=title).subject == subject


# --- the samples --------------------------------------------------------------------------


def sample_records(filename: str) -> dict[str, object]:
    sheet = read_export((SAMPLES / filename).read_bytes(), filename)
    return {
        row.fields["tracking_id"]: normalize_lapor_row(
            RawItem(source_id=row.fields["tracking_id"], payload=row_payload(row))
        )
        for row in sheet.rows
    }


def test_every_sample_row_normalises():
    october = sample_records("export-2026-10.xlsx")
    november = sample_records("export-2026-11.csv")
    assert (len(october), len(november)) == (25, 20)
    records = list(october.values()) + list(november.values())
    assert all(r.received_at.tzinfo is not None for r in records)
    assert all(datetime(2026, 9, 1, tzinfo=WITA) <= r.received_at < datetime(2026, 12, 1,
                                                                                tzinfo=WITA)
               for r in records)
    assert all(r.source_state in LAPOR_STATES and r.source_state != "unknown" for r in records)
    assert sum(r.anonymous for r in october.values()) >= 3
    sensitive = [r for r in records if r.extra["kategori"] in (
        "KEKERASAN DALAM RUMAH TANGGA", "PELECEHAN SEKSUAL", "EKSPLOITASI ANAK")]
    assert len(sensitive) >= 5 and all(r.confidential for r in sensitive)
    assert any(r.extra["confidential_reason"] != "marked Rahasia in LAPOR" for r in sensitive)
    assert all(r.author.name is None for r in records if r.anonymous)


def test_a_status_update_between_the_samples():
    october = sample_records("export-2026-10.xlsx")
    november = sample_records("export-2026-11.csv")
    moved = {
        (october[tid].source_state, november[tid].source_state)
        for tid in october.keys() & november.keys()
    }
    assert ("received_unverified", "responded_by_agency") in moved
    assert ("in_progress", "in_progress") in moved  # one report with no news
