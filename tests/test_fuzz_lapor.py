"""Fuzzing the LAPOR! export path: stored rows, and whole .csv / .xlsx files with odd cells.

Rows go straight to ``normalize_lapor_row``; files go through the real collector
(``LaporExportCollector.fetch_files``, which reads them with ``lapor_reader``), and every item
it yields must be a record or a quarantine entry (its own ``error``, or a RecordError).
Run size: tests/fuzzing.py.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, time, timedelta
from pathlib import Path

from hypothesis import example, given
from hypothesis import strategies as st

from fuzzing import ANY_JSON, RUNS, fuzz_settings, normalize_or_quarantine, report
from pengaduan.collectors.base import RawItem, source_id_problem
from pengaduan.collectors.lapor_export import ROW_MEDIA_TYPE, LaporExportCollector, LaporExportConfig
from pengaduan.collectors.lapor_reader import CANONICAL_COLUMNS, row_payload, ExportRow
from pengaduan.normalizer.lapor import normalize_lapor_row

MONTHS = ["Jan", "Januari", "Peb", "Mei", "Agt", "Okt", "Nop", "Des", "December", "Foo", "", "MEI"]
DIGITS = st.integers(0, 99999).map(str) | st.sampled_from(["٣", "٢٠٢٦", "३१", "0000", "00"])


@st.composite
def built_dates(draw) -> str:
    day, year = draw(DIGITS), draw(DIGITS)
    month = draw(st.sampled_from(MONTHS) | DIGITS)
    separator = draw(st.sampled_from([" ", "-", "/", ".", ", "]))
    weekday = draw(st.sampled_from(["", "Senin, ", "Mon "]))
    clock = draw(st.sampled_from(["", " 09:15", " 23:59:59", " 24:00", " 9.15"]))
    if draw(st.booleans()):
        return f"{year}-{month}-{day}{clock}"
    return f"{weekday}{day}{separator}{month}{separator}{year}{clock}"


DATES = st.one_of(
    st.sampled_from(
        ["3 Jan 2026", "3 Mei 2026", "Senin, 03 Januari 2026", "3-Oct-2026", "03/01/2026 13:05:00",
         "2026-01-03", "2026-01-03T09:15:00", "45000", "45000.75", "99999", "00000", "31 Feb 2026",
         "9999-12-31 23:59:59", "0001-01-01", "", " ", "-", "NaN", "1e5", "3 Jan 2026 WITA"]
    ),
    built_dates(),
    st.text(max_size=25),
)
CLOCKS = st.one_of(
    st.sampled_from(["", "09:15", "9.15 WITA", "09:15:59 WIB", "23:59 wit", "24:00", "12:60",
                     "0.5", ".999999999", "0.0", "1.5", "09:15 CET", "noon"]),
    st.text(max_size=12),
)
TEXTS = st.one_of(
    st.sampled_from(["Bantuan PKH belum cair", "KDRT di desa", "anak terlantar", "pemerkosaan",
                     "NIK 5107010000000001 hp 081234567890", "", "  \n\t ", "-"]),
    st.text(max_size=200),
    st.tuples(st.sampled_from(["PKH ", "x", "\u00a0"]), st.integers(1, 40_000)).map(lambda p: p[0] * p[1]),
)
TRACKING_IDS = st.one_of(st.integers(1, 10**10).map(str), st.sampled_from(["#1234567", " 1234567 ", "ABC", "", "12 34"]),
                         st.text(max_size=10))
STATUS = st.sampled_from(["Belum Terverifikasi", "Selesai", "Ditanggapi Oleh Pelapor", "Proses",
                          "Arsip", "Bukan Wewenang", "status baru", ""]) | st.text(max_size=30)
TYPES = st.sampled_from(["Anonim", "Rahasia", "Anonim, Rahasia", "Tidak Rahasia", "Non Anonim", "-", ""]) | st.text(max_size=20)
NAMES = st.sampled_from(["Anonim", "anonymous", "Tanpa Nama", "I Wayan Sudarma", "", "-"]) | st.text(max_size=30)

FIELD_VALUES = {
    "tracking_id": TRACKING_IDS,
    "tanggal_laporan_masuk": DATES,
    "waktu_laporan_masuk": CLOCKS,
    "nama_pelapor": NAMES,
    "judul_laporan": TEXTS,
    "isi_laporan_awal": TEXTS,
    "isi_laporan_akhir": TEXTS,
    "tipe_laporan": TYPES,
    "status_laporan": STATUS,
    "kategori": TEXTS,
    "kecamatan": TEXTS,
}


def cell(key: str) -> st.SearchStrategy[str]:
    return FIELD_VALUES.get(key, st.text(max_size=40))


FIELDS = st.fixed_dictionaries({}, optional={key: cell(key) for key, _ in CANONICAL_COLUMNS})


# --- stored rows ----------------------------------------------------------------------------

ROW_PAYLOADS = st.one_of(
    st.builds(lambda f, e: row_payload(ExportRow(1, f, e)), FIELDS,
              st.dictionaries(st.text(max_size=10), st.text(max_size=20), max_size=2)),
    st.builds(lambda v: json.dumps(v).encode(), ANY_JSON),  # any JSON at all
    st.builds(lambda f: json.dumps({"fields": f}).encode(), st.dictionaries(st.text(max_size=20), ANY_JSON)),
    st.binary(max_size=60),
)


# A 'Status Laporan' over 200 characters failed its batch on PostgreSQL (VARCHAR(200)).
@example(payload=row_payload(ExportRow(2, {"tanggal_laporan_masuk": "3 Jan 2026", "isi_laporan_akhir": "PKH",
                                          "status_laporan": "Proses " * 50})), tracking_id="1234567")
@fuzz_settings(ci_examples=300)
@given(payload=ROW_PAYLOADS, tracking_id=st.integers(1, 10**10).map(str))
def fuzz_rows(payload: bytes, tracking_id: str) -> None:
    RUNS["LAPOR rows"] += 1
    item = RawItem(tracking_id, payload, ROW_MEDIA_TYPE, {"file": "x.xlsx", "row": 7})
    record, _ = normalize_or_quarantine(LaporExportCollector, item, "lapor")
    if record is not None:
        fields = json.loads(payload)["fields"]
        if str(fields.get("nama_pelapor", "")).strip().casefold() in ("anonim", "anonymous"):
            assert record.author.name is None and record.anonymous  # "Anonim" is a mask, not a name


# --- whole files ------------------------------------------------------------------------------

HEADERS = st.sampled_from([text for _, text in CANONICAL_COLUMNS] + ["Nomor Tracking", "Tanggal", "Isi Laporan",
                                                                      "Kolom Baru", "", "Tracking ID"])
TITLE_ROWS = st.lists(st.lists(st.sampled_from(["Daftar Laporan", "Tanggal Generate : 3 Nov 2026, 10:00", ""]),
                               max_size=2), max_size=3)


@st.composite
def sheets(draw, cells: st.SearchStrategy) -> list[list]:
    """Title rows, a header row (usually with Tracking ID), data rows of uneven length."""
    headers = draw(st.lists(HEADERS, max_size=12))
    if draw(st.integers(0, 9)):  # one sheet in ten has no Tracking ID header at all
        headers.insert(draw(st.integers(0, len(headers))), "Tracking ID")
    keys = {text: key for key, text in CANONICAL_COLUMNS}
    rows = []
    for _ in range(draw(st.integers(0, 6))):
        width = draw(st.integers(0, len(headers) + 2))
        rows.append([draw(cells(keys.get(h, "")) if i < len(headers) else st.text(max_size=8))
                     for i, h in enumerate(headers + ["", ""])][:width])
    return draw(TITLE_ROWS) + [headers] + rows


def csv_cells(key: str) -> st.SearchStrategy[str]:
    return cell(key) | st.sampled_from(['"', ";", ",", "\n", '"quoted, text"', "=1+1"])


@st.composite
def csv_files(draw) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=draw(st.sampled_from([",", ";", "\t"])))
    writer.writerows(draw(sheets(csv_cells)))
    data = buffer.getvalue().encode(draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"])), "replace")
    damage = draw(st.sampled_from(["none", "none", "truncate", "splice"]))
    if damage == "truncate":
        data = data[: draw(st.integers(0, len(data)))]
    elif damage == "splice":
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(min_size=1, max_size=20)) + data[at:]
    return data


XLSX_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=60)
XLSX_ODD_VALUES = st.one_of(
    st.integers(-(2**53), 2**53), st.floats(allow_nan=True, allow_infinity=True), st.booleans(),
    st.datetimes(min_value=datetime(1900, 3, 1)), st.dates(min_value=date(1900, 3, 1)), st.times(),
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3)),
    st.sampled_from(["=1/0", "=A1+1", "=SUM(A:A)", "=NOW()", '=HYPERLINK("x","y")', "=", "#N/A"]),
    st.tuples(st.sampled_from(["Aduan ", "a"]), st.integers(1, 32_000)).map(lambda p: (p[0] * p[1])[:32_767]),
)


def xlsx_cells(key: str) -> st.SearchStrategy:
    return st.one_of(cell(key), XLSX_TEXT, XLSX_ODD_VALUES, st.none())


@st.composite
def xlsx_files(draw) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    workbook = Workbook()
    sheet = workbook.active
    for row in draw(sheets(xlsx_cells)):
        # openpyxl refuses control characters in cells (Excel cannot hold them either).
        sheet.append([ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    data = buffer.getvalue()
    # Where to damage is drawn as a fraction: the zip's length varies with its timestamps.
    damage = draw(st.sampled_from(["none", "none", "none", "truncate", "flip"]))
    at = draw(st.integers(0, 999_999)) * len(data) // 1_000_000
    if damage == "truncate":
        data = data[:at]
    elif damage == "flip":
        data = data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1 :]
    return data


def check_file(tmp: Path, name: str, data: bytes) -> None:
    path = tmp / name
    path.write_bytes(data)
    collector = LaporExportCollector("lapor", LaporExportConfig(watch_dir=tmp, batch_size=3))
    items = [item for batch in collector.fetch_files([path], None) for item in batch.items]
    for item in items:
        assert source_id_problem(item.source_id) is None, item.source_id
        normalize_or_quarantine(LaporExportCollector, item, "lapor")


def test_generated_rows_give_a_record_or_a_reason(figures) -> None:  # type: ignore[no-untyped-def]
    fuzz_rows()
    report(figures, "LAPOR rows")


def test_generated_csv_exports_give_records_or_quarantine(tmp_path: Path, figures) -> None:  # type: ignore[no-untyped-def]
    # Found by the fuzzer: a field over the csv module's 128 KiB limit (an unclosed quote, or a
    # very long report) raised _csv.Error out of the collector, so the file failed every poll.
    @example(data=b"Tracking ID,Isi Laporan\r\n1," + b"PKH " * 40_000 + b"\r\n")
    @example(data=b"Tracking ID,Isi Laporan\r\n1,\"" + b"tanpa tutup kutip " * 8_000)
    # A 300-digit Tracking ID would fail its batch on PostgreSQL (VARCHAR(255)), every poll.
    @example(data=b"Tracking ID,Tanggal Laporan Masuk,Isi Laporan\r\n" + b"7" * 300 + b",3 Jan 2026,PKH\r\n")
    @fuzz_settings(ci_examples=100)
    @given(data=csv_files())
    def fuzz_csv(data: bytes) -> None:
        RUNS["LAPOR .csv files"] += 1
        check_file(tmp_path, "export.csv", data)

    fuzz_csv()
    report(figures, "LAPOR .csv files")


def test_generated_xlsx_exports_give_records_or_quarantine(tmp_path: Path, figures) -> None:  # type: ignore[no-untyped-def]
    @fuzz_settings(ci_examples=50)
    @given(data=xlsx_files())
    def fuzz_xlsx(data: bytes) -> None:
        RUNS["LAPOR .xlsx files"] += 1
        check_file(tmp_path, "export.xlsx", data)

    fuzz_xlsx()
    report(figures, "LAPOR .xlsx files")
