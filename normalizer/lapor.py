"""Normalise one SP4N-LAPOR! export row into a complaint record. Pure: no I/O.

The raw item's payload is the JSON ``collectors.lapor_reader.row_payload`` writes:
``{"fields": {canonical key: text}, "extra": {header: text}}``; its ``source_id`` is the
Tracking ID. Vocabularies (statuses, privacy flags, date spellings) follow
reference/sp4n-lapor.md §1.3–1.8; none of them is a published spec, so anything unknown is
kept raw rather than rejected, except a date, without which no deadline can be computed.
"""

from __future__ import annotations

import json
import re
import unicodedata
from datetime import datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from pengaduan.collectors.base import RawItem
from pengaduan.errors import RecordError
from pengaduan.normalizer.record import SOURCE_STATUS_MAX, Author, ComplaintRecord, Kind
from pengaduan.normalizer.text import clean_line, clean_text

CHANNEL = "lapor"
WITA = ZoneInfo("Asia/Makassar")
_ZONES: dict[str, tzinfo] = {
    "wib": ZoneInfo("Asia/Jakarta"),
    "wita": WITA,
    "wit": ZoneInfo("Asia/Jayapura"),
}

LAPOR_STATES: tuple[str, ...] = (
    "received_unverified",
    "postponed",
    "verified_disposed",
    "in_progress",
    "responded_by_agency",
    "reporter_replied",
    "closed",
    "archived",
    "not_authority",
    "unknown",
)

# First match wins, so the negated and longer phrases come before the words they contain
# ("belum ditindaklanjuti" before "ditindaklanjuti", "selesai otomatis" before "selesai").
_STATUS_RULES: tuple[tuple[str, str], ...] = (
    ("bukan wewenang", "not_authority"),
    ("tunda", "postponed"),
    ("arsip", "archived"),
    ("selesai otomatis", "responded_by_agency"),
    ("ditutup", "closed"),
    ("belum terverifikasi", "received_unverified"),
    ("belum diverifikasi", "received_unverified"),
    ("menunggu verifikasi", "received_unverified"),
    ("belum terdisposisi", "received_unverified"),
    ("belum ditindaklanjuti", "verified_disposed"),
    ("ditindaklanjuti", "responded_by_agency"),
    ("ditanggapi oleh pelapor", "reporter_replied"),
    ("ditanggapi pelapor", "reporter_replied"),
    ("terverifikasi", "verified_disposed"),
    ("terdisposisi", "verified_disposed"),
    ("proses", "in_progress"),
    ("selesai", "closed"),
)

_MONTHS: dict[str, int] = {}
for _number, _names in enumerate(
    (
        ("jan", "januari", "january"),
        ("feb", "peb", "februari", "pebruari", "february"),
        ("mar", "maret", "march"),
        ("apr", "april"),
        ("mei", "may"),
        ("jun", "juni", "june"),
        ("jul", "juli", "july"),
        ("agu", "agt", "ags", "agus", "agustus", "aug", "august"),
        ("sep", "sept", "september"),
        ("okt", "oktober", "oct", "october"),
        ("nov", "nop", "nopember", "november"),
        ("des", "desember", "dec", "december"),
    ),
    start=1,
):
    _MONTHS.update(dict.fromkeys(_names, _number))

_TIME = r"(\d{1,2})[:.](\d{2})(?:[:.](\d{2}))?"
# "3 Jan 2026", "Senin, 03 Januari 2026", "3-Oct-2026"; an optional weekday is ignored.
_NAMED_DATE = re.compile(
    rf"(?:[^\W\d_]+,?\s+)?(\d{{1,2}})[\s\-/]+([^\W\d_]+)\.?[\s\-/]+(\d{{4}})(?:[\s,]+{_TIME})?"
)
# "03/01/2026", "03-01-2026 13:05:00": day first, as Indonesians write it.
_NUMERIC_DATE = re.compile(rf"(\d{{1,2}})[/\-.](\d{{1,2}})[/\-.](\d{{4}})(?:[\sT,]+{_TIME})?")
_ISO_DATE = re.compile(rf"(\d{{4}})-(\d{{1,2}})-(\d{{1,2}})(?:[\sT]+{_TIME})?")
# Excel day numbers from 1927 to 2173; a Tracking ID (7+ digits) can never look like one.
_EXCEL_SERIAL = re.compile(r"\d{5}(?:\.\d+)?")
_EXCEL_EPOCH = datetime(1899, 12, 30)
_CLOCK = re.compile(rf"{_TIME}(?:\s*(wib|wita|wit))?", re.IGNORECASE)
_DAY_FRACTION = re.compile(r"0?\.\d+")

_ANONYMOUS_NAMES = frozenset({"anonim", "anonym", "anonymous"})
_NO_NAME = _ANONYMOUS_NAMES | {"", "-", "tanpa nama"}
_NEGATIONS = frozenset({"tidak", "bukan", "non"})

# Reports that must stay inside the office even when LAPOR did not mark them Rahasia
# (DESIGN.md §3): domestic violence, sexual violence, children at risk. "[pm]erkosa" because
# the noun "pemerkosaan" does not contain the root "perkosa".
_SENSITIVE = (
    ("domestic violence", r"\bkdrt\b|kekerasan dalam rumah tangga"),
    ("sexual violence", r"pelecehan seksual|kekerasan seksual|\b\w*cabul\w*|\b\w*[pm]erkosa\w*"),
    ("child protection", r"eksploitasi anak|anak terlantar|kekerasan (?:terhadap|pada) anak"),
)
_SENSITIVE_RE = re.compile(
    "|".join(f"(?P<t{i}>{pattern})" for i, (_, pattern) in enumerate(_SENSITIVE))
)
# Every match of _SENSITIVE_RE contains one of these: most texts contain none, and a
# substring test rules them out far faster than the regex (its \b\w*cabul\w* scans each word).
_SENSITIVE_KEYS = (
    "kdrt", "kekerasan", "pelecehan seksual", "cabul", "erkosa", "eksploitasi anak", "anak terlantar"
)

_LOCATION_COLUMNS = {
    "provinsi": "provinsi",
    "kabupaten": "kota_kabupaten",
    "kecamatan": "kecamatan",
    "desa": "kelurahan",
}
_EXTRA_KEYS = (
    "klasifikasi_laporan",
    "kategori",
    "id_kategori",
    "sumber_laporan",
    "instansi_terdisposisi",
    "alasan_tunda_arsip",
    "rating",
    "tipe_laporan",
)


def normalize_lapor_row(item: RawItem) -> ComplaintRecord:
    """Turn one stored LAPOR! row into a complaint record, or raise RecordError."""
    tracking_id = item.source_id
    fields = _fields(item)
    received_at = parse_received_at(
        fields.get("tanggal_laporan_masuk", ""), fields.get("waktu_laporan_masuk", ""), tracking_id
    )

    original = clean_text(fields.get("isi_laporan_awal"))
    body = clean_text(fields.get("isi_laporan_akhir")) or original
    if not body:
        raise RecordError(
            f"Tracking ID {tracking_id}: both 'Isi Laporan Akhir' and 'Isi Laporan Awal' are "
            "empty, so the report has no text"
        )
    subject = clean_line(fields.get("judul_laporan")) or None

    anonymous, confidential = privacy_flags(fields.get("tipe_laporan", ""))
    name = clean_line(fields.get("nama_pelapor"))
    if name.casefold() in _NO_NAME:
        # LAPOR shows an anonymous reporter as "Anonim"; that is a mask, not a name.
        anonymous = anonymous or name.casefold() in _ANONYMOUS_NAMES
        name = ""

    extra: dict[str, Any] = {}
    for key in _EXTRA_KEYS:
        if value := clean_text(fields.get(key)):
            extra[key] = value
    if original and original != body:
        extra["isi_laporan_awal"] = original
    if confidential:
        extra["confidential_reason"] = "marked Rahasia in LAPOR"
    else:
        reason = sensitive_topic(fields.get("kategori", ""), subject or "", body, original)
        if reason:
            confidential = True
            extra["confidential_reason"] = reason

    status = clean_line(fields.get("status_laporan")) or None
    state = lapor_state(status or "")
    if status and len(status) > SOURCE_STATUS_MAX:
        extra["status_laporan"] = status
        status = status[: SOURCE_STATUS_MAX - 1] + "…"
    return ComplaintRecord(
        channel=CHANNEL,
        source_id=tracking_id,
        received_at=received_at,
        body=body,
        kind=Kind.COMPLAINT,
        subject=subject,
        author=Author(name=name or None),
        anonymous=anonymous,
        confidential=confidential,
        location=_location(fields),
        source_status=status,
        source_state=state,
        extra=extra,
    )


def lapor_state(status: str) -> str:
    """Map a raw ``Status Laporan`` to one of LAPOR_STATES; ``unknown`` for anything new."""
    folded = " ".join(status.casefold().split())
    for phrase, state in _STATUS_RULES:
        if phrase in folded:
            return state
    return "unknown"


def privacy_flags(tipe_laporan: str) -> tuple[bool, bool]:
    """(anonymous, confidential) from ``Tipe Laporan (Anonim/Rahasia)``.

    Its values are unknown (§1.8), so any mention counts ("Anonim, Rahasia", "Rahasia &
    Anonim"), except one negated by the word before it ("Tidak Rahasia", "Non Anonim").
    """
    words = re.findall(r"[^\W\d_]+", tipe_laporan.casefold())
    anonymous = confidential = False
    for before, word in zip(["", *words], words):
        if before in _NEGATIONS:
            continue
        anonymous = anonymous or word in _ANONYMOUS_NAMES
        confidential = confidential or word in ("rahasia", "secret", "confidential")
    return anonymous, confidential


def sensitive_topic(category: str, *texts: str) -> str | None:
    """Why a report must be confidential by its topic, or None."""
    scanned: set[str] = set()
    for where, text in (("Kategori", category), *(("the text", t) for t in texts)):
        if not text or text in scanned:  # nothing there, or already found clean
            continue
        scanned.add(text)
        folded = " ".join(unicodedata.normalize("NFKC", text).casefold().split())
        if not any(key in folded for key in _SENSITIVE_KEYS):
            continue
        found = _SENSITIVE_RE.search(folded)
        if found:
            label = _SENSITIVE[int(found.lastgroup[1:])][0]  # type: ignore[index]
            return f"{label}: '{found.group()}' in {where}"
    return None


def parse_received_at(day: str, clock: str, tracking_id: str) -> datetime:
    """The aware moment a report came in, from the date and time columns (WITA by default)."""
    parsed = _parse_date(day.strip())
    if parsed is None:
        shown = day.strip() or "(empty)"
        raise RecordError(
            f"Tracking ID {tracking_id}: date '{shown}' in column 'Tanggal Laporan Masuk' "
            "is not a date (expected e.g. 3 Jan 2026)"
        )
    zone: tzinfo = WITA
    clock = clock.strip()
    if clock:
        parsed_clock = _parse_clock(clock)
        if parsed_clock is None:
            raise RecordError(
                f"Tracking ID {tracking_id}: time '{clock}' in column 'Waktu Laporan Masuk' "
                "is not a time of day (expected e.g. 09:15)"
            )
        seconds, zone = parsed_clock
        parsed = datetime.combine(parsed.date(), datetime.min.time()) + timedelta(seconds=seconds)
    return parsed.replace(tzinfo=zone)


def _parse_date(text: str) -> datetime | None:
    """A naive date-time from any spelling §1.5 lists; its time is 00:00 unless written."""
    try:
        if _EXCEL_SERIAL.fullmatch(text):
            return _EXCEL_EPOCH + timedelta(days=float(text))
        if found := _ISO_DATE.fullmatch(text):
            year, month, day = found.group(1, 2, 3)
            return _at(int(year), int(month), int(day), found.group(4, 5, 6))
        if found := _NUMERIC_DATE.fullmatch(text):
            day, month, year = found.group(1, 2, 3)
            return _at(int(year), int(month), int(day), found.group(4, 5, 6))
        if found := _NAMED_DATE.fullmatch(text):
            month_number = _MONTHS.get(found.group(2).casefold())
            if month_number is None:
                return None
            return _at(int(found.group(3)), month_number, int(found.group(1)), found.group(4, 5, 6))
    except ValueError:  # 31 Feb, hour 25
        return None
    return None


def _at(year: int, month: int, day: int, clock: tuple[str | None, ...]) -> datetime:
    hour, minute, second = (int(part or 0) for part in clock)
    return datetime(year, month, day, hour, minute, second)


def _parse_clock(text: str) -> tuple[int, tzinfo] | None:
    """Seconds since midnight and the zone written after the time (WITA when none)."""
    if _DAY_FRACTION.fullmatch(text):  # an unformatted Excel time cell
        return round(float(text) * 86400) % 86400, WITA
    found = _CLOCK.fullmatch(text)
    if found is None:
        return None
    hour, minute, second = (int(part or 0) for part in found.group(1, 2, 3))
    if hour > 23 or minute > 59 or second > 59:
        return None
    zone = _ZONES[found.group(4).casefold()] if found.group(4) else WITA
    return hour * 3600 + minute * 60 + second, zone


def _fields(item: RawItem) -> dict[str, str]:
    try:
        payload = json.loads(item.payload)
        fields = payload["fields"]
    except (ValueError, TypeError, KeyError) as exc:
        raise RecordError(
            f"Tracking ID {item.source_id}: the stored row is not the JSON the LAPOR! export "
            f"reader writes ({type(exc).__name__})"
        ) from exc
    if not isinstance(fields, dict):
        raise RecordError(
            f"Tracking ID {item.source_id}: the stored row has no 'fields' object"
        )
    return {key: str(value) for key, value in fields.items() if value is not None}


def _location(fields: dict[str, str]) -> dict[str, str]:
    location = {}
    for name, key in _LOCATION_COLUMNS.items():
        if value := clean_line(fields.get(key)):
            location[name] = value
    return location
