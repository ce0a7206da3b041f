"""Invented complaints for the dedup index benchmark, with planted near-duplicates.

``generate(n, seed)`` yields ``Record(id, text, original)`` in arrival order: LAPOR-style
reports from ``samples/generate_lapor.py`` (its topics, names and styles) with one to three
sentences of personal detail each, so two reports on one topic differ the way two people's
do; copy-paste campaigns (one text, many signatories); and, for ``DUPLICATE_SHARE`` of the
records, a retyped or re-pasted copy of an earlier record, ``original`` naming it, which is
what recall is measured on: most of a recent one (a repost, the same complaint on another
channel), the rest of any earlier one. Same ``n`` and seed, same records.
"""

from __future__ import annotations

import random
import re
import sys
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "samples"))

from generate_lapor import make_row  # noqa: E402
from lapor_vocabulary import (  # noqa: E402
    BANJAR,
    BIRTH_NAMES,
    CLOSINGS,
    DESA,
    FEMALE_NAMES,
    KECAMATAN,
    MALE_NAMES,
    MONTHS_LONG,
    OPENINGS,
    SLANG,
    STYLES,
    TOPIC_WEIGHTS,
)

DUPLICATE_SHARE = 0.05
CAMPAIGN_SHARE = 0.01
RECENT_SHARE = 0.7  # copies of one of the last RECENT originals (a repost, another channel)
RECENT = 2_000
POOL = 20_000  # the other copies: of any earlier original, via a reservoir sample this big

# Personal detail: what makes two people's "PKH belum cair" two different texts.
DETAILS = (
    "Anak saya {anak} sekarang kelas {kelas} di SD Negeri {sd} {desa}.",
    "Sudah {kali} kali saya datang ke kantor desa {desa} tapi selalu disuruh menunggu.",
    "Terakhir kami terima bantuan bulan {bulan} {tahun}.",
    "Suami saya bekerja sebagai {kerja} dengan penghasilan tidak tentu.",
    "Di rumah {rumah} itu kami tinggal {jumlah} orang.",
    "Nomor KK kami berakhiran {kk}.",
    "Kelian banjar {banjar} sudah tahu masalah ini sejak {minggu} minggu lalu.",
    "Saya sudah lapor ke pendamping {pendamping} tapi belum ada jawaban.",
    "Rekening {bank} atas nama {nama} tidak pernah ada transaksi masuk.",
    "Jarak rumah kami ke kantor camat {kec} sekitar {km} km naik motor.",
    "Mertua saya umur {umur} tahun dan sering kambuh {sakit}.",
    "Formulir usulan sudah kami serahkan tanggal {tgl} {bulan} ke kantor desa.",
    "Waktu musim {musim} kemarin kami tidak punya penghasilan sama sekali.",
    "Petugas bilang data kami bermasalah di {sistem} tapi tidak dijelaskan apa masalahnya.",
)
WORK = ("buruh tani", "tukang batu", "pedagang canang", "nelayan", "sopir truk pasir",
        "buruh bangunan", "penjual nasi jinggo", "pemetik kopi", "tukang ojek", "peternak babi")
HOUSES = ("semi permanen", "berdinding bedeg", "berlantai tanah", "kontrakan", "warisan mertua",
          "bantuan tahun 2009")
BANKS = ("BRI", "BNI", "Mandiri", "BPD Bali", "BSI")
ILLNESS = ("asam urat", "darah tinggi", "gula", "sesak napas", "stroke ringan", "maag")
SEASONS = ("hujan", "kemarau", "galungan", "panen salak")
SYSTEMS = ("SIKS-NG", "DTSEN", "aplikasi cek bansos", "Dukcapil", "SIKS desa")

# Campaigns: one text pasted by many people, only the name and village theirs.
CAMPAIGNS = (
    "Kami warga Desa {desa} menolak pemotongan bantuan PKH oleh oknum pendamping. Kami minta "
    "Dinas Sosial Kabupaten Karangasem segera turun dan mengembalikan hak kami. Tertanda {nama}",
    "Mohon Bapak Bupati Karangasem memperhatikan nasib lansia di Kecamatan {kec} yang sampai "
    "sekarang belum menerima bantuan permakanan. Hormat saya, {nama}",
    "Saya {nama} dari Desa {desa} ikut mendukung usulan agar pendataan DTSEN diulang karena "
    "banyak warga miskin yang tidak terdata sedangkan yang mampu justru dapat bantuan",
)
REPOSTS = ("UP!! ", "Sudah dua minggu belum ada respon. ", "Laporan ulang: ", "Mohon ditanggapi. ",
           "Saya ulangi laporan saya kemarin, ", "")
_SLANG_WORD = re.compile(r"\b(" + "|".join(SLANG) + r")\b")
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class Record:
    id: int
    text: str
    original: int | None  # the earlier record this one retypes or re-pastes


def generate(n: int, seed: int = 7) -> Iterator[Record]:
    rng = random.Random(seed)
    topics, topic_weights = zip(*TOPIC_WEIGHTS.items())
    styles, style_weights = zip(*STYLES)
    start = datetime(2026, 1, 1, 7, 0)
    # A reservoir sample of the originals so far (Vitter's algorithm R): copies pick their
    # original uniformly from all earlier ones while memory stays flat.
    pool: list[tuple[int, str]] = []
    recent: deque[tuple[int, str]] = deque(maxlen=RECENT)
    seen = 0
    for i in range(n):
        draw = rng.random()
        if draw < DUPLICATE_SHARE and pool:
            original, text = rng.choice(recent if rng.random() < RECENT_SHARE else pool)
            yield Record(i, variant(rng, text), original)
            continue
        slots = _slots(rng)
        if draw < DUPLICATE_SHARE + CAMPAIGN_SHARE:
            yield Record(i, rng.choice(CAMPAIGNS).format(**slots), None)
            continue
        row = make_row(rng, i, start + timedelta(minutes=i), rng.choices(topics, topic_weights)[0],
                       rng.choices(styles, style_weights)[0])
        details = " ".join(d.format(**slots) for d in
                           rng.sample(DETAILS, rng.choices((0, 1, 2, 3), (1, 3, 3, 2))[0]))
        text = f"{row['Judul Laporan']}\n{row['Isi Laporan Awal']} {details}".strip()
        seen += 1
        recent.append((i, text))
        if len(pool) < POOL:
            pool.append((i, text))
        elif (slot := rng.randrange(seen)) < POOL:
            pool[slot] = (i, text)
        yield Record(i, text, None)


def variant(rng: random.Random, text: str) -> str:
    """The same complaint again: retyped informally, with typos, part dropped, or re-pasted
    with a nudge in front; one to three of these."""
    for op in rng.sample(("retype", "typos", "drop", "repost"), rng.choice((1, 1, 2, 3))):
        if op == "retype":
            text = _SLANG_WORD.sub(lambda m: SLANG[m.group()] if rng.random() < 0.7 else m.group(),
                                   text.lower())
        elif op == "typos":
            chars = list(text)
            for _ in range(rng.randint(1, 4)):
                at = rng.randrange(len(chars))
                chars[at:at + 1] = rng.choice(([], [chars[at]] * 2, [rng.choice("aeiouknr")]))
            text = "".join(chars)
        elif op == "drop":
            sentences = _SENTENCE.split(text)
            if len(sentences) > 2:
                sentences.pop(rng.randrange(1, len(sentences)))
            text = " ".join(sentences)
        else:
            text = rng.choice(REPOSTS) + text + " " + rng.choice(CLOSINGS)
    return rng.choice(OPENINGS) + " " + text if rng.random() < 0.3 else text


def _slots(rng: random.Random) -> dict[str, object]:
    kec = rng.choice(KECAMATAN)
    return {
        "nama": _name(rng), "anak": _name(rng), "pendamping": _name(rng), "kec": kec,
        "desa": rng.choice(DESA[kec]), "banjar": rng.choice(BANJAR), "kelas": rng.randint(1, 6),
        "sd": rng.randint(1, 9), "kali": rng.randint(2, 7), "bulan": rng.choice(MONTHS_LONG),
        "tahun": rng.choice((2023, 2024, 2025)), "kerja": rng.choice(WORK),
        "rumah": rng.choice(HOUSES), "jumlah": rng.randint(3, 9), "kk": rng.randint(1000, 9999),
        "minggu": rng.randint(2, 12), "bank": rng.choice(BANKS), "km": rng.randint(3, 25),
        "umur": rng.randint(60, 90), "sakit": rng.choice(ILLNESS), "tgl": rng.randint(1, 28),
        "musim": rng.choice(SEASONS), "sistem": rng.choice(SYSTEMS),
    }


def _name(rng: random.Random) -> str:
    female = rng.random() < 0.5
    given = rng.choice(FEMALE_NAMES if female else MALE_NAMES)
    return f"{'Ni' if female else 'I'} {rng.choice(BIRTH_NAMES[1:])} {given}"
