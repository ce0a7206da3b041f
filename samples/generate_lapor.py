"""Invented SP4N-LAPOR! exports: the two committed samples, and large files for tests.

    python samples/generate_lapor.py        # rewrites samples/lapor/export-2026-{10,11}.*

Importable too: ``fake_rows`` makes any number of realistic-looking rows (benchmarks use
100 000) and ``write_export`` writes them as the admin panel would, title rows first.

Every person here is invented. NIKs carry the impossible birth month ``00`` and phone numbers
are ``0812-0000-xxxx``, so nothing in these files can be mistaken for a real citizen's data.
"""

from __future__ import annotations

import csv
import random
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from pengaduan.collectors.lapor_reader import CANONICAL_COLUMNS

from lapor_vocabulary import (  # beside this file: importable wherever this module is
    BANJAR,
    BIRTH_NAMES,
    CLOSINGS,
    DESA,
    FEMALE_NAMES,
    KECAMATAN,
    MALE_NAMES,
    MONTHS_EN,
    MONTHS_ID,
    MONTHS_LONG,
    OPENINGS,
    REASONS,
    SLANG,
    SLANG_RE,
    SOURCES,
    STATUSES,
    STYLES,
    Topic,
    TOPIC_WEIGHTS,
    TOPICS,
)

HEADERS = tuple(header for _, header in CANONICAL_COLUMNS)
OFFICE = "Dinas Sosial, PPPA dan PPKB Kabupaten Karangasem"
DISPOSED_TO = (
    "Dinas Sosial, Pemberdayaan Perempuan dan Perlindungan Anak, Pengendalian Penduduk dan "
    "Keluarga Berencana Kabupaten Karangasem"
)
DEFAULT_TITLE_ROWS = (
    "Daftar Laporan",
    f"Nama Instansi : {OFFICE}",
    "Tanggal Generate : 31 Oct 2026 16:05",
    "",
)
SAMPLES_DIR = Path(__file__).resolve().parent / "lapor"

Row = dict[str, Any]

def fake_nik(rng: random.Random, kecamatan: str) -> str:
    """A 16-digit NIK shape whose birth month is 00, which no real NIK has."""
    region = f"5107{KECAMATAN.index(kecamatan) + 1:02d}"
    return f"{region}{rng.randint(1, 71):02d}00{rng.randint(50, 99):02d}{rng.randint(1, 9999):04d}"


def fake_phone(rng: random.Random) -> str:
    """A phone number from the 0812-0000 block, written as people write it."""
    tail = f"{rng.randint(0, 9999):04d}"
    return rng.choice((f"0812-0000-{tail}", f"08120000{tail}", f"+62 812 0000 {tail}"))


def fake_rows(n: int, start_id: int = 9_300_000, seed: int = 1) -> list[Row]:
    """``n`` invented rows keyed by the standard header texts; Tracking IDs count up from
    ``start_id`` and dates run from September to November 2026. Same seed, same rows."""
    rng = random.Random(seed)
    topics, topic_weights = zip(*TOPIC_WEIGHTS.items())
    styles, style_weights = zip(*STYLES)
    rows = []
    for i in range(n):
        day = date(2026, 9, 1) + timedelta(days=i * 91 // max(n, 1))
        when = datetime.combine(day, datetime.min.time()) + timedelta(
            minutes=rng.randint(6 * 60, 23 * 60)
        )
        topic = rng.choices(topics, topic_weights)[0]
        style = rng.choices(styles, style_weights)[0]
        rows.append(make_row(rng, start_id + i, when, topic, style))
    return rows


def make_row(
    rng: random.Random,
    tracking_id: int,
    when: datetime,
    topic_name: str,
    style: str,
    *,
    tipe: str | None = None,
    status: str | None = None,
    date_style: str | None = None,
) -> Row:
    """One invented report; ``tipe``, ``status`` and ``date_style`` fix what is otherwise drawn."""
    topic = TOPICS[topic_name]
    kec = rng.choice(KECAMATAN)
    desa = rng.choice(DESA[kec])
    female = rng.random() < 0.55
    name = _person(rng, female)
    slots = {
        "nama": name, "nama2": _person(rng, rng.random() < 0.5), "desa": desa, "kec": kec,
        "banjar": rng.choice(BANJAR), "nik": fake_nik(rng, kec), "bulan": rng.choice(MONTHS_LONG),
        "tahap": rng.randint(1, 4), "n": rng.randint(2, 5), "umur": rng.randint(68, 92),
        "umur_anak": rng.randint(4, 15), "biaya": rng.choice(("50.000", "100.000", "150.000")),
    }
    title, body, style = _text(rng, topic, style, slots)
    if style != "short" and rng.random() < 0.12:
        body += rng.choice((" NIK saya {nik}", " a/n {nama2} NIK {nik}", ". NIK: {nik}")).format(
            **slots)
    if style != "short" and rng.random() < 0.06:
        body += f". Bisa hubungi saya di {fake_phone(rng)}"

    if tipe is None:
        if topic.sensitive:
            tipe = rng.choice(("Rahasia", "Rahasia", "Anonim, Rahasia", ""))
        else:
            tipe = rng.choices(("", "-", "Anonim", "Rahasia"), (60, 15, 22, 3))[0]
    if status is None:
        status = rng.choices(*zip(*STATUSES))[0]
    klasifikasi = "Permintaan Informasi" if style == "question" else rng.choices(
        ("Pengaduan", "Aspirasi"), (9, 1))[0]
    return {
        "Tracking ID": tracking_id,
        "Tanggal Laporan Masuk": _date_text(when, date_style or rng.choice(("id", "en"))),
        "Waktu Laporan Masuk": when.strftime(rng.choice(("%H:%M", "%H:%M:%S"))),
        "Nama Pelapor": "Anonim" if "anonim" in tipe.lower() else name,
        "Klasifikasi Laporan": klasifikasi,
        "ID Kategori": topic.id_kategori,
        "Kategori": topic.kategori,
        "Judul Laporan": title,
        "Isi Laporan Awal": body,
        "Isi Laporan Akhir": final_text(rng, body, status),
        "Tipe Laporan (Anonim/Rahasia)": tipe,
        "Sumber Laporan": rng.choices(*zip(*SOURCES))[0],
        "Instansi Induk": "Pemerintah Kabupaten Karangasem",
        "ID Instansi Terdisposisi": 104521,
        "Instansi Terdisposisi": DISPOSED_TO,
        "Status Laporan": status,
        "Alasan Tunda/Arsip": rng.choice(REASONS) if ("Tunda" in status or "Arsip" in status)
        else "",
        "Provinsi": "BALI",
        "Kota/Kabupaten": "KABUPATEN KARANGASEM",
        "Kecamatan": kec.upper(),
        "Kelurahan": desa.upper(),
        "Nomor SK": "",
        "Url SK": "",
        "Url Dokumen Laporan Tahunan": "",
        "Laporan yang Masuk melalui Kanal Aduan Setwapres": "Ya" if rng.random() < 0.04
        else "Tidak",
        "Rating": rng.randint(1, 5) if status.startswith("Ditutup") and rng.random() < 0.6
        else "",
    }


def final_text(rng: random.Random, original: str, status: str) -> str:
    """``Isi Laporan Akhir``: empty before verification, else the admin's tidied copy, which
    sometimes hides a NIK the citizen typed (the original keeps it)."""
    if status == "Belum Terverifikasi":
        return ""
    text = re.sub(r"\b\d{16}\b", "[NIK disamarkan]", original) if rng.random() < 0.5 else original
    if rng.random() < 0.4:
        text = text[:1].upper() + text[1:]
        if not text.endswith((".", "?", "!")):
            text += "."
    return text


def _person(rng: random.Random, female: bool) -> str:
    given = rng.choice(FEMALE_NAMES if female else MALE_NAMES)
    birth = rng.choice(BIRTH_NAMES[1:] if female else BIRTH_NAMES)  # "Gede" is for boys
    if birth in ("Komang", "Ketut") and rng.random() < 0.4:
        return f"{birth} {given}"
    return f"{'Ni' if female else 'I'} {birth} {given}"


def _text(
    rng: random.Random, topic: Topic, style: str, slots: dict[str, Any]
) -> tuple[str, str, str]:
    """(title, text, style used): a style the topic has no text for falls back to narrative."""
    title, core = (part.format(**slots) for part in rng.choice(topic.reports))
    if style == "short" and topic.short:
        return title, rng.choice(topic.short).format(**slots), style
    if style == "question" and topic.question:
        question_title, question = topic.question
        return question_title.format(**slots), question.format(**slots), style
    if style in ("short", "question"):
        style = "narrative"
    return title, _styled(rng, core, style, slots), style


def _styled(rng: random.Random, core: str, style: str, slots: dict[str, Any]) -> str:
    if style == "formal":
        return (
            "Yth. Bapak/Ibu Kepala Dinas Sosial PPPA dan PPKB Kabupaten Karangasem\n"
            f"Dengan hormat,\nSaya yang bertanda tangan di bawah ini, {slots['nama']}, warga "
            f"Desa {slots['desa']}, Kecamatan {slots['kec']}, menyampaikan bahwa {core[0].lower()}"
            f"{core[1:]}.\n\nDemikian laporan ini kami sampaikan. Atas perhatian Bapak/Ibu kami "
            f"ucapkan terima kasih.\n\nHormat kami,\n{slots['nama']}"
        )
    if style == "slang":
        core = SLANG_RE.sub(lambda m: SLANG[m.group()], core.lower())
        return " ".join(p for p in (core, rng.choice(("..", "", "tolong dong", "gmn ini"))) if p)
    if style == "angry":
        return f"{core.upper()}!!! TOLONG JANGAN DIPERMAINKAN RAKYAT KECIL!!!"
    return " ".join(p for p in (rng.choice(OPENINGS), core, rng.choice(CLOSINGS)) if p)


def _date_text(when: datetime, style: str) -> str:
    """``3 Okt 2026`` (Indonesian), ``3 Oct 2026`` (English), ``03 Oktober 2026`` (long)."""
    month = when.month - 1
    if style == "id":
        return f"{when.day} {MONTHS_ID[month]} {when.year}"
    if style == "long":
        return f"{when.day:02d} {MONTHS_LONG[month]} {when.year}"
    if style == "numeric":
        return when.strftime("%d/%m/%Y")
    return f"{when.day} {MONTHS_EN[month]} {when.year}"


def write_export(
    path: Path,
    rows: Sequence[Row],
    fmt: Literal["xlsx", "csv"],
    title_rows: Sequence[str] = DEFAULT_TITLE_ROWS,
    delimiter: str = ";",
    bom: bool = True,
    headers: Sequence[str] | None = None,
) -> None:
    """Write rows under ``headers`` (default: the keys of the rows, in first-seen order, or
    the standard headers) with the title rows above, as the LAPOR! admin export lays them out."""
    headers = list(headers or _headers(rows) or HEADERS)
    if fmt == "xlsx":
        _write_xlsx(path, rows, headers, title_rows)
    elif fmt == "csv":
        _write_csv(path, rows, headers, title_rows, delimiter, bom)
    else:
        raise ValueError(f"unknown export format {fmt!r}: use 'xlsx' or 'csv'")


def _headers(rows: Iterable[Row]) -> list[str]:
    seen: dict[str, None] = {}
    for row in rows:
        seen.update(dict.fromkeys(row))
    return list(seen)


def _write_xlsx(path: Path, rows: Sequence[Row], headers: list[str], titles: Sequence[str]) -> None:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)  # streams rows to disk: 100 000 rows stay cheap
    sheet = workbook.create_sheet("Laporan")
    for title in titles:
        sheet.append([title or None])
    sheet.append(headers)
    for row in rows:
        sheet.append([_xlsx_value(row.get(h)) for h in headers])
    workbook.save(path)


def _xlsx_value(value: Any) -> Any:
    return None if value == "" else value


def _write_csv(
    path: Path,
    rows: Sequence[Row],
    headers: list[str],
    titles: Sequence[str],
    delimiter: str,
    bom: bool,
) -> None:
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as out:
        writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
        for title in titles:
            writer.writerow([title] if title else [])
        writer.writerow(headers)
        for row in rows:
            writer.writerow([_csv_text(row.get(h)) for h in headers])


def _csv_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):  # as a spreadsheet saved with Indonesian settings writes it
        return value.strftime("%d/%m/%Y")
    return str(value)


def sample_exports() -> tuple[list[Row], list[Row]]:
    """The October and November 2026 samples: 25 and 20 rows, 8 Tracking IDs in both."""
    rng = random.Random(2026)
    plan = [  # (topic, style, tipe, status) of each October report; None draws
        ("pkh", "narrative", "", "Belum Terverifikasi"),
        ("bpnt", "slang", "-", "Belum Terverifikasi"),
        ("kdrt", "narrative", "Rahasia", "Terverifikasi"),
        ("kis", "formal", "", "Ditindaklanjuti oleh Instansi"),
        ("dtks", "narrative", "Anonim", "Belum Terverifikasi"),
        ("kb", "short", "", "Proses"),
        ("lansia", "narrative", "", "Ditindaklanjuti oleh Instansi"),
        ("anak", "narrative", "", "Terverifikasi"),  # sensitive, yet not marked Rahasia
        ("pkh", "angry", "", "Ditutup oleh Sistem"),
        ("disabilitas", "narrative", "", "Ditanggapi oleh Pelapor"),
        ("bpnt", "narrative", "Anonim", "Diarsipkan oleh Admin"),
        ("pungli", "narrative", "Anonim, Rahasia", "Ditunda"),
        ("pkh", "question", "", "Ditutup oleh Admin"),
        ("rutilahu", "slang", "", "Bukan Wewenang"),
        ("kb", "narrative", "", "Ditindaklanjuti oleh Instansi"),
        ("stunting", "narrative", "-", "Ditutup oleh Sistem"),
        ("nafkah", "narrative", "", "Terverifikasi"),
        ("dtks", "slang", "", "Ditutup oleh Sistem"),
        ("kis", "short", "", "Diarsipkan oleh Sistem"),
        ("eksploitasi", "narrative", "Rahasia", "Proses"),
        ("bpnt", "formal", "", "Ditanggapi oleh Pelapor"),
        ("pkh", "slang", "Anonim", "Belum Terverifikasi"),
        ("lansia", "question", "", "Belum Terverifikasi"),
        ("kdrt", "slang", "Rahasia & Anonim", "Belum Terverifikasi"),
        ("dtks", "narrative", "", "Belum Terverifikasi"),
    ]
    october: list[Row] = []
    tracking_id = 9_412_301
    for i, (topic, style, tipe, status) in enumerate(plan):
        tracking_id += rng.randint(3, 400)
        when = datetime(2026, 9, 2, 7, 0) + timedelta(days=i * 59 // len(plan),
                                                      minutes=rng.randint(0, 14 * 60))
        row = make_row(rng, tracking_id, when, topic, style, tipe=tipe, status=status,
                       date_style="id" if i % 2 else "en")
        if i in (6, 16):  # real Excel date cells, as a re-saved workbook carries them
            row["Tanggal Laporan Masuk"] = datetime.combine(when.date(), datetime.min.time())
        october.append(row)

    # November repeats 8 October reports still open at the end of October, most with news.
    updates = {
        0: "Ditindaklanjuti oleh Instansi",
        1: "Ditindaklanjuti oleh Instansi",
        2: "Ditindaklanjuti oleh Instansi",
        3: "Ditanggapi oleh Pelapor",
        4: "Terverifikasi",
        5: "Proses",  # unchanged
        9: "Ditutup oleh Sistem",
        14: "Ditindaklanjuti oleh Instansi",  # unchanged
    }
    november: list[Row] = []
    for index, status in updates.items():
        row = dict(october[index])
        if row["Status Laporan"] != status:
            row["Status Laporan"] = status
            row["Isi Laporan Akhir"] = row["Isi Laporan Akhir"] or final_text(
                rng, row["Isi Laporan Awal"], status)
        november.append(row)
    new_plan = ["pkh", "bpnt", "kis", "kdrt", "kb", "dtks", "lansia", "pkh", "disabilitas",
                "bpnt", "kb", "pungli"]
    styles = ["narrative", "slang", "short", "narrative", "angry", "formal", "narrative",
              "slang", "question", "narrative", "slang", "narrative"]
    for i, (topic, style) in enumerate(zip(new_plan, styles)):
        tracking_id += rng.randint(3, 400)
        when = datetime(2026, 11, 2, 7, 0) + timedelta(days=i * 2, minutes=rng.randint(0, 840))
        november.append(make_row(rng, tracking_id, when, topic, style,
                                 date_style=("id", "en", "long", "numeric")[i % 4]))
    return october, november


def write_samples(directory: Path = SAMPLES_DIR) -> None:
    """Write the two committed sample exports into ``directory``."""
    october, november = sample_exports()
    directory.mkdir(parents=True, exist_ok=True)
    write_export(directory / "export-2026-10.xlsx", october, "xlsx")
    write_export(
        directory / "export-2026-11.csv",
        november,
        "csv",
        title_rows=("Daftar Laporan", f"Nama Instansi : {OFFICE}",
                    "Tanggal Generate : 30 Nov 2026, 15:40", ""),
    )


if __name__ == "__main__":
    write_samples()
