"""Parse a SP4N-LAPOR! admin export (.xlsx or .csv) from its bytes.

The export starts with a few title rows (instansi name, generation date), then the header row
that holds a ``Tracking ID`` cell, then one row per report (reference/sp4n-lapor.md §1.2).
Columns are matched by normalised header text, never by position, because exports differ in
which columns they carry. Rows are handed out one at a time: a workbook's cells are held by
python-calamine (~270 MB at the peak for 100 000 generated rows, 17 MB of .xlsx), a CSV's
are decoded as read. Rows are not validated here (the collector decides what a bad Tracking
ID means).

Empty cells are left out of ``ExportRow.fields`` and ``ExportRow.extra``: an export that lacks
a column and one that has it empty then give the same row, and the same payload bytes.
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import PurePath
from typing import Any

from pengaduan.errors import ConfigError, PengaduanError

HEADER_SCAN_ROWS = 50

# (canonical key, header text exactly as LAPOR writes it), in the export's column order.
CANONICAL_COLUMNS: tuple[tuple[str, str], ...] = (
    ("tracking_id", "Tracking ID"),
    ("tanggal_laporan_masuk", "Tanggal Laporan Masuk"),
    ("waktu_laporan_masuk", "Waktu Laporan Masuk"),
    ("nama_pelapor", "Nama Pelapor"),
    ("klasifikasi_laporan", "Klasifikasi Laporan"),
    ("id_kategori", "ID Kategori"),
    ("kategori", "Kategori"),
    ("judul_laporan", "Judul Laporan"),
    ("isi_laporan_awal", "Isi Laporan Awal"),
    ("isi_laporan_akhir", "Isi Laporan Akhir"),
    ("tipe_laporan", "Tipe Laporan (Anonim/Rahasia)"),
    ("sumber_laporan", "Sumber Laporan"),
    ("instansi_induk", "Instansi Induk"),
    ("id_instansi_terdisposisi", "ID Instansi Terdisposisi"),
    ("instansi_terdisposisi", "Instansi Terdisposisi"),
    ("status_laporan", "Status Laporan"),
    ("alasan_tunda_arsip", "Alasan Tunda/Arsip"),
    ("provinsi", "Provinsi"),
    ("kota_kabupaten", "Kota/Kabupaten"),
    ("kecamatan", "Kecamatan"),
    ("kelurahan", "Kelurahan"),
    ("nomor_sk", "Nomor SK"),
    ("url_sk", "Url SK"),
    ("url_dokumen_laporan_tahunan", "Url Dokumen Laporan Tahunan"),
    ("kanal_setwapres", "Laporan yang Masuk melalui Kanal Aduan Setwapres"),
    ("rating", "Rating"),
)
CANONICAL_KEYS = frozenset(key for key, _ in CANONICAL_COLUMNS)

# Header spellings seen in older exports, local re-saves and sibling schemas (§1.2). Spacing,
# case and punctuation never matter: "Kota / Kabupaten" and "KOTA/KABUPATEN" match the standard.
_ALIASES: dict[str, tuple[str, ...]] = {
    "tracking_id": ("Nomor Tracking", "No. Tracking", "No Tracking", "ID Tracking"),
    "tanggal_laporan_masuk": ("Tanggal Laporan", "Tanggal Masuk", "Tanggal"),
    "waktu_laporan_masuk": ("Waktu Laporan", "Waktu Masuk", "Jam Laporan", "Waktu"),
    "nama_pelapor": ("Pelapor",),
    "klasifikasi_laporan": ("Klasifikasi",),
    "kategori": ("Kategori Laporan",),
    "judul_laporan": ("Judul",),
    "tipe_laporan": ("Tipe Laporan", "Anonim/Rahasia"),
    "sumber_laporan": ("Sumber",),
    "status_laporan": ("Status",),
    "alasan_tunda_arsip": ("Alasan Arsip/Tunda", "Alasan Tunda", "Alasan Arsip"),
    "provinsi": ("Propinsi",),
    "kota_kabupaten": ("Kabupaten/Kota", "Kab/Kota", "Kota/Kab", "Kabupaten", "Kota"),
    "kelurahan": ("Desa/Kelurahan", "Kelurahan/Desa", "Desa"),
    "nomor_sk": ("No SK", "No. SK"),
    "kanal_setwapres": ("Kanal Aduan Setwapres", "Kanal Setwapres"),
}
# "Isi Laporan" is the submitted text only when the export has no separate "Awal" column.
_FALLBACK_ALIASES: dict[str, str] = {"Isi Laporan": "isi_laporan_awal"}

_NOT_ALNUM = re.compile(r"[^0-9a-z]+")


class ExportFileError(PengaduanError):
    """The file as a whole cannot be read as a LAPOR! export; its message names the file."""


@dataclass(frozen=True)
class ExportRow:
    """One report row: canonical key -> cell text, unknown columns under their own header."""

    number: int  # 1-based row number in the sheet, or record number in the CSV
    fields: dict[str, str]
    extra: dict[str, str] = field(default_factory=dict)
    # ``row_payload``, made with the row: where the reader runs in a worker process, so does
    # this JSON encoding (a tenth of the importing process's own work on a large export).
    payload: bytes = field(default=b"", compare=False, repr=False)

    def __post_init__(self) -> None:
        if not self.payload:
            object.__setattr__(self, "payload", row_payload(self))


@dataclass
class ExportSheet:
    """An export's layout, and its data rows as a one-shot stream."""

    title_rows: list[str]
    header_row: int
    columns: dict[str, str]  # canonical key -> header text as found
    unknown_headers: list[str]
    rows: Iterator[ExportRow]
    _release: Callable[[], None] = field(default=lambda: None, repr=False)

    def close(self) -> None:
        """Stop the stream and free the workbook; needed only when ``rows`` is not exhausted."""
        close = getattr(self.rows, "close", None)
        if close is not None:
            close()
        self._release()

    def __enter__(self) -> ExportSheet:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def header_key(text: str) -> str:
    """The matching key of a header: NFKC, case-folded, letters and digits only."""
    return _NOT_ALNUM.sub("", unicodedata.normalize("NFKC", text).casefold())


_STRONG = {header_key(text): key for key, text in CANONICAL_COLUMNS}
_STRONG.update({header_key(alias): key for key, aliases in _ALIASES.items() for alias in aliases})
_FALLBACK = {header_key(text): key for text, key in _FALLBACK_ALIASES.items()}


def read_export(
    data: bytes, filename: str, column_map: Mapping[str, str] | None = None
) -> ExportSheet:
    """Find the header of a LAPOR! export and return its layout and a stream of its rows.

    ``column_map`` (header text -> canonical key, from the settings) is matched before the
    built-in spellings. Raises ExportFileError when the file is unreadable or not an export.
    """
    matcher = _matcher(column_map or {})
    if not data:
        raise ExportFileError(f"{filename} is empty (0 bytes)")
    suffix = PurePath(filename).suffix.lower()
    if suffix == ".xlsx":
        return _read_xlsx(data, filename, matcher)
    if suffix == ".csv":
        return _read_csv(data, filename, matcher)
    if suffix == ".xls":
        raise ExportFileError(
            f"{filename} is in the old Excel .xls format, which is not supported: "
            "open it in Excel or LibreOffice and save it as .xlsx"
        )
    raise ExportFileError(
        f"{filename} has the unsupported extension '{suffix or '(none)'}': "
        "a LAPOR! export must be .xlsx or .csv"
    )


def row_payload(row: ExportRow) -> bytes:
    """Canonical JSON of a row, so the same report in two exports gives the same bytes."""
    payload = {"fields": row.fields, "extra": row.extra}
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def cell_text(value: Any) -> str:
    """The text of one cell as a person reads it in Excel; Excel numbers lose their ``.0``."""
    if value is None:
        return ""
    kind = type(value)
    if kind is str:
        return value.strip()
    if kind is int:
        return str(value)
    if kind is float:
        return str(int(value)) if value.is_integer() else repr(value)
    if kind is bool:
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):  # before date: datetime is a date
        return value.strftime("%Y-%m-%dT%H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M:%S")
    if isinstance(value, timedelta):  # time cells with an [h]:mm format come back as durations
        seconds = int(value.total_seconds())
        return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
    return str(value).strip()


def _matcher(column_map: Mapping[str, str]) -> Callable[[str], str | None]:
    wrong = sorted(f"{header!r} -> {key!r}" for header, key in column_map.items()
                   if key not in CANONICAL_KEYS)
    if wrong:
        raise ConfigError(
            [f"LAPOR column_map maps {w}, which is not a LAPOR column key" for w in wrong]
        )
    own = {header_key(header): key for header, key in column_map.items()}

    def match(header: str) -> str | None:
        hkey = header_key(header)
        return own.get(hkey) or _STRONG.get(hkey)

    return match


def _read_xlsx(
    data: bytes, filename: str, match: Callable[[str], str | None]
) -> ExportSheet:
    # python-calamine (Rust) reads a sheet ~15x faster than openpyxl's read-only mode, whose
    # parse was most of a large import's time (bench/RESULTS.md). It holds the sheet's cells
    # in its own memory (~270 MB at the peak for 100 000 rows) and hands them over row by row.
    from python_calamine import CalamineWorkbook, SheetTypeEnum, WorkbookClosed  # not for CSV

    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        # LAPOR writes one sheet; a workbook saved with more is read from its first worksheet.
        first = next((i for i, m in enumerate(workbook.sheets_metadata)
                      if m.typ == SheetTypeEnum.WorkSheet), None)
        if first is None:
            raise ValueError("no worksheet")
        sheet = workbook.get_sheet_by_index(first)
        source = _excel_rows(sheet.iter_rows(), sheet.start[1] if sheet.start else 0)
    except Exception as exc:  # calamine reports damage as zip, XML and value errors alike
        raise ExportFileError(
            f"{filename} cannot be read as an Excel workbook (damaged, truncated or not "
            f".xlsx at all: {type(exc).__name__})"
        ) from exc

    def release() -> None:
        try:
            workbook.close()
        except WorkbookClosed:  # closed by the rows' end and again by the sheet's close()
            pass

    try:
        sheet_data = _layout(_guarded(source, filename), filename, match)
    except BaseException:
        release()
        raise
    sheet_data.rows = _closing(sheet_data.rows, release)
    sheet_data._release = release
    return sheet_data


def _excel_rows(rows: Iterable[list[Any]], first_column: int) -> Iterator[Sequence[Any]]:
    """calamine's rows as a sheet's cells read before (openpyxl's, whose texts are stored in
    raw items): from column A (calamine starts at the first used column), and a date cell as
    the date-time Excel keeps (calamine gives a ``date`` when the time is midnight)."""
    pad = [""] * first_column
    for row in rows:
        cells = pad + row if pad else row
        for i, value in enumerate(cells):
            if type(value) is date:
                cells[i] = datetime(value.year, value.month, value.day)
        yield cells


def _guarded(rows: Iterator[Sequence[Any]], filename: str) -> Iterator[Sequence[Any]]:
    """Turn a mid-file read failure (bad CRC, cut XML) into an ExportFileError."""
    while True:
        try:
            row = next(rows)
        except StopIteration:
            return
        except Exception as exc:  # same reason as in _read_xlsx
            raise ExportFileError(
                f"{filename} is damaged: reading its rows failed ({type(exc).__name__}: {exc})"
            ) from exc
        yield row


def _closing(rows: Iterator[ExportRow], release: Callable[[], None]) -> Iterator[ExportRow]:
    try:
        yield from rows
    finally:
        release()


def _read_csv(data: bytes, filename: str, match: Callable[[str], str | None]) -> ExportSheet:
    if b"\x00" in data:
        raise ExportFileError(
            f"{filename} contains NUL bytes, so it is not a CSV text file "
            "(save it as .xlsx or as CSV UTF-8)"
        )
    text = _decode(data)
    if not text.strip(" \t\r\n;,"):  # blank lines and bare delimiters are no rows
        raise ExportFileError(f"{filename} is empty: it has no rows")
    # Title rows may contain commas ("Tanggal Generate : 3 Nov 2026, 10:00"), so the delimiter
    # is the one under which a header row appears, preferring the one splitting it wider.
    best: tuple[int, str] | None = None
    for delimiter in (";", ","):
        head = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        try:
            for _, cells in zip(range(HEADER_SCAN_ROWS), head):
                if any(match(c) == "tracking_id" for c in cells):
                    if best is None or len(cells) > best[0]:
                        best = (len(cells), delimiter)
                    break
        except csv.Error:  # a field over the csv module's limit (an unclosed quote): see below
            continue
    delimiter = best[1] if best else ","
    rows = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    # Like a damaged workbook, a row the csv module refuses makes the file a quarantine entry.
    return _layout(_guarded(rows, filename), filename, match)


def _decode(data: bytes) -> str:
    # Excel's "CSV UTF-8" writes a BOM; its plain "CSV" writes the Windows code page.
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:  # the five bytes cp1252 leaves undefined
        return data.decode("latin-1")


def _layout(
    source: Iterable[Sequence[Any]], filename: str, match: Callable[[str], str | None]
) -> ExportSheet:
    rows = iter(source)
    title_rows: list[str] = []
    seen_cells = False
    for number, raw in enumerate(rows, start=1):
        cells = [cell_text(v) for v in raw]
        if any(match(c) == "tracking_id" for c in cells if c):
            return _sheet(cells, number, title_rows, rows, match)
        text = " ".join(c for c in cells if c)
        if text:
            seen_cells = True
            title_rows.append(text)
        if number >= HEADER_SCAN_ROWS:
            break
    if not seen_cells:
        raise ExportFileError(f"{filename} is empty: it has no rows")
    raise ExportFileError(
        f"{filename} is not a LAPOR! export: no header row with a 'Tracking ID' cell "
        f"in its first {HEADER_SCAN_ROWS} rows"
    )


def _sheet(
    headers: list[str],
    header_row: int,
    title_rows: list[str],
    rows: Iterator[Sequence[Any]],
    match: Callable[[str], str | None],
) -> ExportSheet:
    columns: dict[str, str] = {}
    known: list[tuple[int, str]] = []
    loose: list[tuple[int, str]] = []
    for index, header in enumerate(headers):
        if not header:
            continue
        key = match(header)
        if key is not None and key not in columns:
            columns[key] = header
            known.append((index, key))
        else:
            loose.append((index, header))
    unknown: list[tuple[int, str]] = []
    for index, header in loose:
        key = _FALLBACK.get(header_key(header))
        if key is not None and key not in columns:
            columns[key] = header
            known.append((index, key))
        else:
            unknown.append((index, header))
    extra_names = _unique_names(unknown)
    stream = _rows(rows, header_row, known, extra_names, len(headers))
    return ExportSheet(
        title_rows=title_rows,
        header_row=header_row,
        columns=columns,
        unknown_headers=[header for _, header in unknown],
        rows=stream,
    )


def _unique_names(unknown: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """Name each unknown column so two columns with the same header keep both values."""
    seen: dict[str, int] = {}
    named = []
    for index, header in unknown:
        seen[header] = seen.get(header, 0) + 1
        named.append((index, header if seen[header] == 1 else f"{header} ({seen[header]})"))
    return named


def _rows(
    rows: Iterator[Sequence[Any]],
    header_row: int,
    known: list[tuple[int, str]],
    unknown: list[tuple[int, str]],
    width: int,
) -> Iterator[ExportRow]:
    # The index lists are fixed once; the loop does no header work and no regex per cell.
    header_indexes = {index for index, _ in known} | {index for index, _ in unknown}
    unnamed = [i for i in range(width) if i not in header_indexes]
    for number, raw in enumerate(rows, start=header_row + 1):
        size = len(raw)
        fields: dict[str, str] = {}
        for index, key in known:
            if index < size:
                text = cell_text(raw[index])
                if text:
                    fields[key] = text
        extra: dict[str, str] = {}
        for index, name in unknown:
            if index < size:
                text = cell_text(raw[index])
                if text:
                    extra[name] = text
        if size > width or unnamed:
            # Cells under a blank header or past the last header still belong to the row.
            for index in unnamed + list(range(width, size)):
                if index < size:
                    text = cell_text(raw[index])
                    if text:
                        extra[f"column {index + 1}"] = text
        if fields or extra:
            yield ExportRow(number=number, fields=fields, extra=extra)
