"""Generate tests/data/linking_eval.jsonl: a labelled set for cross-channel linking (issue 5).

Run: python tests/data/make_linking_eval.py  (seeded; the same output every time).

Each line is one record: id, group, channel, received_at, author, subject (e-mail and LAPOR),
body, kind. ``group`` is the truth: records of one group are the same complaint by the same
person. Everyone is invented: names, @example.id / example.com addresses, phones only
0812-0000-xxxx, NIKs of region 5107 with birth month 00 (never a real person's).

What is in it:
- true cross-channel groups: one person sends one complaint on 2-3 different channels within
  hours to a few days, pasted (same text, perhaps a different wrapper) or retyped (reworded,
  formal vs slang, shortened, another greeting, some details left out);
- boilerplate traps: different people writing nearly the same short words about their own case
  ("PKH saya belum cair min", "bansos blm masuk min"), or the same long sentence with only
  their village changed; some of them with look-alike Balinese names; each person its own group;
- copy-paste campaigns: one text posted by 5-15 different accounts, each its own group (a few
  participants paste it on a second channel too: those two records are one group);
- singletons: everything else, one record, one complaint.
"""

from __future__ import annotations

import json
import random
import re
import sys
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

SEED = 20261102
OUT = Path(__file__).resolve().parent / "linking_eval.jsonl"
WITA = timezone(timedelta(hours=8))
START = datetime(2026, 8, 3, tzinfo=WITA)
DAYS = 100
CHANNELS = ("email", "lapor", "facebook", "instagram", "youtube")

# --- people ----------------------------------------------------------------------------

BIRTH_ORDER_M = ["Wayan", "Putu", "Gede", "Made", "Kadek", "Nengah", "Nyoman", "Komang", "Ketut"]
BIRTH_ORDER_F = ["Wayan", "Putu", "Luh", "Made", "Kadek", "Nengah", "Nyoman", "Komang", "Ketut"]
GIVEN_M = [
    "Sudarma", "Sudarsana", "Budiasa", "Mertayasa", "Astawa", "Widiantara", "Suarjana",
    "Wirawan", "Juliantara", "Darmawan", "Sukadana", "Artawan", "Suardana", "Gunawan",
    "Arsana", "Sutama", "Parwata", "Adnyana", "Suparta", "Wiratama", "Jaya Negara", "Sukarta",
    "Ardana", "Mahendra", "Putra Yasa", "Kariasa", "Sedana", "Suwitra", "Arimbawa", "Sujana",
]
GIVEN_F = [
    "Suartini", "Sukerti", "Ariani", "Sriasih", "Artini", "Sulastri", "Suarni", "Wartini",
    "Ayu Suartini", "Ayu Lestari", "Mariani", "Sumiati", "Rai Wahyuni", "Purnamawati",
    "Kartini", "Sudiani", "Astiti", "Murniasih", "Ayu Kusuma", "Candra Dewi", "Sutarmi",
    "Widyasari", "Eka Pratiwi", "Juliani", "Darmi", "Rasmini", "Sekarini", "Wiryani",
]
OTHER_NAMES = [
    "Siti Aminah", "Ahmad Fauzi", "Muhammad Rizki", "Nur Hasanah", "Dewi Lestari", "Agus Salim",
    "Rina Marlina", "Hendra Gunawan", "Siti Khotijah", "Abdul Rahman", "Yuliana Sari",
    "Slamet Riyadi", "Fatimah Zahra", "Joko Susilo", "Rahmawati", "Ismail Marzuki",
    "Hasan Basri", "Nurul Hidayah", "Sri Wahyuni", "Andi Saputra", "Maria Goreti Kelen",
    "Yohanes Bere", "Lina Marlina", "Bambang Sutrisno", "Sumarni", "Heri Kurniawan",
]
KECAMATAN = {
    "Abang": ["Tista", "Culik", "Ababi", "Purwakerti", "Bunutan", "Datah", "Kertamandala"],
    "Bebandem": ["Bungaya", "Jungutan", "Sibetan", "Macang", "Budakeling", "Bhuana Giri"],
    "Karangasem": ["Subagan", "Padangkerta", "Seraya", "Bugbug", "Tumbu", "Pertima", "Karangasem"],
    "Kubu": ["Tianyar", "Ban", "Tulamben", "Dukuh", "Baturinggit", "Sukadana", "Kubu"],
    "Manggis": ["Padangbai", "Antiga", "Ngis", "Selumbung", "Sengkidu", "Ulakan", "Nyuh Tebel"],
    "Rendang": ["Besakih", "Pempatan", "Menanga", "Nongan", "Rendang", "Pesaban"],
    "Selat": ["Duda", "Sebudi", "Muncan", "Amerta Bhuana", "Selat", "Peringsari"],
    "Sidemen": ["Talibeng", "Tangkup", "Sinduwati", "Telaga Tawang", "Sangkan Gunung", "Kertha Buana"],
}
KEC_CODE = {k: f"{i + 1:02d}" for i, k in enumerate(KECAMATAN)}
BANJAR = [
    "Kaja", "Kelod", "Kangin", "Kauh", "Tengah", "Dukuh", "Pande", "Anyar", "Kawan", "Tebola",
    "Bukit", "Pasek", "Segara", "Kebon", "Juwuk", "Lebah", "Tihingan", "Umanyar", "Kesimpar",
]
MAIL_DOMAINS = ["example.id", "example.com"]


class Person:
    def __init__(self, rng: random.Random, serial: int, name: str | None = None):
        self.serial = serial
        female = rng.random() < 0.5
        if name is None:
            if rng.random() < 0.82:
                order = rng.choice(BIRTH_ORDER_F if female else BIRTH_ORDER_M)
                given = rng.choice(GIVEN_F if female else GIVEN_M)
                prefix = ("Ni " if female else "I ") if rng.random() < 0.6 else ""
                name = f"{prefix}{order} {given}"
            else:
                name = rng.choice(OTHER_NAMES)
        self.name = name
        self.female = female
        self.hindu = name not in OTHER_NAMES
        self.kecamatan = rng.choice(list(KECAMATAN))
        self.desa = rng.choice(KECAMATAN[self.kecamatan])
        self.banjar = rng.choice(BANJAR)
        self.phone_digits = f"08120000{1000 + serial:04d}"[-12:]
        self.nik = self._nik(rng)
        bare = [p for p in name.split() if p not in ("I", "Ni")]
        low = [re.sub(r"[^a-z]", "", p.lower()) for p in bare]
        self.short = " ".join(bare[-2:]) if len(bare) > 2 else " ".join(bare)
        r = rng.random()
        if r < 0.5:
            local = ".".join(low[-2:])
        elif r < 0.75:
            local = f"{''.join(low[-2:])}{rng.randint(1, 99)}"
        else:
            local = f"{low[-1]}.{self.desa.lower().replace(' ', '')}{rng.randint(70, 99)}"
        self.email = f"{local}@{rng.choice(MAIL_DOMAINS)}"
        self.fb_id = str(100000000000000 + rng.randint(10**9, 9 * 10**13))
        self.fb_name = name if rng.random() < 0.6 else self.short
        ig_styles = [
            f"{low[-2] if len(low) > 1 else low[0]}_{low[-1]}",
            f"{low[-1]}.{rng.randint(80, 99)}",
            f"{low[-1]}{low[0][:3]}_kbu" if len(low) > 1 else f"{low[0]}_kbu",
            f"dek.{low[-1]}",
            f"{low[-1]}_{self.desa.lower().replace(' ', '')}",
        ]
        self.ig = rng.choice(ig_styles)
        self.yt_id = "UC" + "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") for _ in range(22))
        self.yt_name = rng.choice([self.short, name, f"{bare[-1]} Official", f"{low[-1]}{rng.randint(10, 99)}", self.short])

    def _nik(self, rng: random.Random) -> str:
        day = rng.randint(1, 28) + (40 if self.female else 0)
        # 51 Bali, 07 Karangasem, district, DDMMYY with month 00 (no real person), serial.
        return f"5107{KEC_CODE[self.kecamatan]}{day:02d}00{rng.randint(50, 99):02d}{rng.randint(1, 9999):04d}"

    def phone(self, rng: random.Random) -> str:
        d = self.phone_digits
        return rng.choice([d, f"{d[:4]}-{d[4:8]}-{d[8:]}", f"{d[:4]} {d[4:8]} {d[8:]}", f"+62 {d[1:4]}-{d[4:8]}-{d[8:]}"])

    def address(self, rng: random.Random) -> str:
        return rng.choice([
            f"Banjar {self.banjar}, Desa {self.desa}, Kecamatan {self.kecamatan}",
            f"Br. {self.banjar}, Desa {self.desa}, Kec. {self.kecamatan}",
            f"Banjar Dinas {self.banjar} Desa {self.desa}",
        ])

    def author(self, channel: str, rng: random.Random, anonymous: bool = False) -> dict:
        a = {"name": None, "email": None, "phone": None, "handle": None}
        if channel == "email":
            a["name"], a["email"] = self.name, self.email
        elif channel == "lapor":
            a["name"] = "Anonim" if anonymous else self.name
        elif channel == "facebook":
            a["name"], a["handle"] = self.fb_name, self.fb_id
        elif channel == "instagram":
            a["handle"] = self.ig
        else:
            a["name"], a["handle"] = self.yt_name, self.yt_id
        return a


# --- slang ---------------------------------------------------------------------------------

SLANG = {
    "saya": ["sy", "sy", "aku", "tiang", "sya"],
    "belum": ["blm", "blm", "belom", "blum"],
    "tidak": ["tdk", "gk", "gak", "ga", "nggak"],
    "yang": ["yg"],
    "dengan": ["dgn", "dg"],
    "sudah": ["sdh", "udah", "udh", "sampun"],
    "sampai": ["sampe", "smpe"],
    "tapi": ["tp", "tpi"],
    "untuk": ["utk", "buat"],
    "karena": ["krn", "karna", "soalnya"],
    "sekarang": ["skrg", "skrng"],
    "bapak": ["bpk", "pak"],
    "kenapa": ["knp", "kok"],
    "juga": ["jg"],
    "terima kasih": ["makasih", "trimakasih", "tq", "suksma"],
    "tolong": ["tlg", "tolong"],
    "bagaimana": ["gimana", "gmn"],
    "dari": ["dr"],
    "bulan": ["bln"],
    "bantuan": ["bantuan", "bntuan"],
    "mohon": ["mohon", "mhn"],
    "sama": ["sm"],
    "lagi": ["lg"],
    "apa": ["apa", "ap"],
    "desa": ["desa", "ds"],
    "rumah": ["rmh", "rumah"],
    "kalau": ["kalo", "klo"],
    "hanya": ["cuma", "cm"],
    "bisa": ["bs", "bisa"],
}
_SLANG_RE = re.compile(r"\b(" + "|".join(sorted(SLANG, key=len, reverse=True)) + r")\b(?!/)", re.IGNORECASE)


def slangify(text: str, rng: random.Random, rate: float) -> str:
    def sub(m: re.Match[str]) -> str:
        if rng.random() >= rate:
            return m.group(0)
        return rng.choice(SLANG[m.group(0).lower()])

    return _SLANG_RE.sub(sub, text)


# --- complaints ----------------------------------------------------------------------------

MONTHS = ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober", "November", "Desember"]
RELATIVES_F = ["Ni Nyoman Rai", "Ni Ketut Sari", "Ni Wayan Rembun", "Ni Made Kerti", "Ni Luh Sumerti", "Ni Ketut Runi", "Siti Rohmah"]
RELATIVES_M = ["I Ketut Gede", "I Nyoman Reta", "I Wayan Regeg", "I Made Lempog", "I Nengah Mudra", "Pan Sukra"]
AGENTS = ["agen BRILink", "e-warong", "agen BNI46", "warung agen di dekat balai banjar"]


def fill(text: str, f: dict) -> str:
    return text.format(**f)


def topic_facts(rng: random.Random, p: Person, topic: str, at: datetime) -> dict:
    """The facts of one person's complaint; months are the ones before it was written."""
    f = {
        "desa": p.desa, "kec": p.kecamatan, "banjar": p.banjar, "name": p.name,
        "tahap": rng.choice(["2", "3", "3", str(min(4, (at.month - 1) // 3 + 1))]),
        "bulan": MONTHS[rng.randint(at.month - 3, at.month) - 1],
        "bulan0": MONTHS[rng.randint(1, at.month - 4) - 1], "tahun": rng.choice(["2019", "2020", "2021", "2022", "2023"]),
        "n": rng.choice(["2", "3", "4", "5"]), "jiwa": rng.choice(["4", "5", "6", "7"]),
        "umur": str(rng.randint(68, 91)), "anak_umur": str(rng.randint(4, 15)),
        "ortu": rng.choice(RELATIVES_F + RELATIVES_M), "agen": rng.choice(AGENTS),
        "potong": rng.choice(["50.000", "75.000", "100.000", "150.000"]),
        "nominal": rng.choice(["600.000", "750.000", "900.000", "1.200.000"]),
        "rs": rng.choice(["RSUD Karangasem", "Puskesmas Kubu I", "Puskesmas Abang I", "RSUD Karangasem", "Puskesmas Bebandem"]),
        "pkm": rng.choice(["Puskesmas Kubu II", "Puskesmas Manggis I", "Puskesmas Rendang", "Puskesmas Selat", "Puskesmas Sidemen"]),
        "desil": rng.choice(["5", "6", "7"]),
    }
    f["ortu_rel"] = "ibu" if f["ortu"].startswith(("Ni", "Siti")) else "bapak"
    f["ortu_rel_cap"] = f["ortu_rel"].capitalize()
    f["nik"] = p.nik
    return f


# Each topic: subjects (formal, informal), then sentences; each sentence has formal and
# informal phrasings. Optional sentences (marked "?") are the ones a retyped or short
# version leaves out.
TOPICS: dict[str, dict] = {
    "pkh": {
        "subj": ["Pengaduan Bantuan PKH Tahap {tahap} Belum Cair", "PKH tahap {tahap} belum cair", "Mohon Bantuan: PKH Belum Diterima Sejak Bulan {bulan}"],
        "s": [
            (["Saya penerima PKH sejak tahun {tahun}, tinggal di Banjar {banjar}, Desa {desa}.", "Saya warga Desa {desa} Kecamatan {kec}, terdaftar sebagai KPM PKH sejak {tahun}."],
             ["sy penerima PKH dr thn {tahun}, di Banjar {banjar} {desa}", "aku KPM PKH di desa {desa} dari {tahun}"]),
            (["Bantuan PKH tahap {tahap} tahun ini belum masuk ke rekening saya, padahal tetangga sudah cair sejak bulan {bulan}.", "Sampai hari ini dana PKH tahap {tahap} belum saya terima, sementara penerima lain di banjar kami sudah cair bulan {bulan}."],
             ["PKH tahap {tahap} saya blm cair padahal tetangga udah cair dr bulan {bulan}", "PKH sy tahap {tahap} kok blm masuk ya, yg lain udh pada cair bulan {bulan}"]),
            (["?Saya sudah menanyakan ke pendamping PKH, jawabannya disuruh menunggu saja.", "?Saya sudah cek saldo KKS di {agen} dan saldonya masih nol."],
             ["?udah tanya pendamping katanya tunggu aja", "?sdh cek saldo di {agen} masih 0 min"]),
            (["?Anak saya {n} orang masih sekolah dan kami sangat membutuhkan bantuan ini.", "?Kami keluarga {jiwa} jiwa dan suami hanya buruh harian."],
             ["?anak sy {n} masih sekolah butuh bgt", "?kami {jiwa} org di rmh suami cuma buruh"]),
            (["Mohon dicek apakah data saya bermasalah. Terima kasih.", "Mohon bantuan Bapak/Ibu untuk menindaklanjuti."],
             ["tolong dicek ya min data saya knp", "mohon dibantu min 🙏"]),
        ],
    },
    "bpnt": {
        "subj": ["Saldo KKS BPNT Kosong", "Bantuan Sembako/BPNT bulan {bulan} tidak masuk", "Pengaduan saldo BPNT"],
        "s": [
            (["Saya penerima BPNT (program Sembako) di Desa {desa}, Kecamatan {kec}.", "Saya KPM Sembako dari Banjar {banjar}, Desa {desa}."],
             ["sy penerima sembako/BPNT di {desa}", "aku dpt BPNT di banjar {banjar} {desa}"]),
            (["Saat saya gesek kartu KKS di {agen} pada bulan {bulan}, saldonya kosong.", "Kartu KKS saya tidak bisa dipakai di {agen} sejak bulan {bulan}, katanya saldo nol."],
             ["kartu KKS sy digesek di {agen} saldonya kosong dr bln {bulan}", "KKS ga bisa dipake di {agen}, saldo 0 terus dr {bulan}"]),
            (["?Bulan-bulan sebelumnya selalu ada isinya.", "?Padahal sampai bulan {bulan0} masih lancar."],
             ["?padahal dulu lancar", "?smpe {bulan0} masih ada isinya"]),
            (["Mohon penjelasan apakah saya dicoret atau ada kesalahan data.", "Mohon agar masalah ini dicek. Atas perhatiannya saya ucapkan terima kasih."],
             ["apa sy dicoret? mohon penjelasannya", "tolong dicek min"]),
        ],
    },
    "dicoret": {
        "subj": ["Nama Hilang dari DTKS/DTSEN", "Dicoret dari penerima bansos tanpa pemberitahuan", "Nama tidak muncul di cek bansos"],
        "s": [
            (["Nama saya {name}, warga Banjar {banjar}, Desa {desa}.", "Saya warga Desa {desa}, Kecamatan {kec}, Kabupaten Karangasem."],
             ["sy {name} dr banjar {banjar} {desa}", "aku warga {desa} kec {kec}"]),
            (["Dulu keluarga saya menerima bantuan sejak {tahun}, tetapi sekarang nama saya tidak muncul lagi di aplikasi Cek Bansos.", "Sejak bulan {bulan} nama saya hilang dari data penerima, padahal sebelumnya rutin dapat dari tahun {tahun}."],
             ["dulu dapet bantuan dr {tahun} skrg nama sy gk muncul di cek bansos", "dr bulan {bulan} nama sy ilang dr data, pdhl dulu dpt terus"]),
            (["?Kata operator desa, saya masuk desil {desil} sehingga dianggap mampu.", "?Kondisi ekonomi kami tidak berubah, rumah masih lantai tanah."],
             ["?kata operator desa sy desil {desil} jd dianggap mampu, mampu dr mana", "?rmh sy msh lantai tanah lo"]),
            (["Mohon dilakukan verifikasi ulang terhadap data keluarga kami.", "Mohon ditinjau kembali, kami benar-benar membutuhkan."],
             ["tolong diverifikasi ulang", "mohon ditinjau lg min"]),
        ],
    },
    "pbi": {
        "subj": ["KIS PBI Nonaktif Saat Berobat", "Mohon rekomendasi PBI JK untuk {ortu_rel} saya", "BPJS PBI tidak aktif"],
        "s": [
            (["{ortu_rel_cap} saya, {ortu}, umur {umur} tahun, sedang dirawat di {rs}.", "Saya mengurus {ortu_rel} saya {ortu} ({umur} th) yang dirawat di {rs}."],
             ["{ortu_rel} sy {ortu} umur {umur} lg dirawat di {rs}", "{ortu_rel} tiang {ortu} ({umur}) opname di {rs}"]),
            (["Ternyata kartu KIS PBI-nya tidak aktif sehingga kami diminta membayar sebagai pasien umum.", "Saat mendaftar, petugas mengatakan BPJS PBI-nya sudah dinonaktifkan."],
             ["ternyata KIS nya nonaktif jd disuruh bayar umum", "kata petugas BPJS PBI nya udah dinonaktifkan"]),
            (["?Kami tidak mampu membayar biaya perawatan.", "?Kami tidak pernah mendapat pemberitahuan sebelumnya."],
             ["?kami gk sanggup bayar", "?gak ada pemberitahuan sama sekali"]),
            (["Mohon bantuan rekomendasi dari Dinas Sosial agar PBI dapat diaktifkan kembali.", "Mohon dibantu reaktivasi PBI secepatnya."],
             ["mohon dibantu aktifin lg PBI nya, urgent 🙏", "tolong bantu rekomendasi dinsos biar aktif lg"]),
        ],
    },
    "rutilahu": {
        "subj": ["Permohonan Bedah Rumah (Rutilahu)", "Usulan rutilahu belum terealisasi", "Rumah tidak layak huni belum dapat bantuan"],
        "s": [
            (["Saya tinggal di Banjar {banjar}, Desa {desa}, dengan {jiwa} anggota keluarga.", "Saya warga Desa {desa} Kecamatan {kec}."],
             ["sy tinggal di banjar {banjar} {desa}, {jiwa} org serumah", "aku warga {desa}"]),
            (["Rumah kami atapnya bocor dan dinding retak sejak gempa, sudah diusulkan bedah rumah ke perbekel tahun {tahun}.", "Kami sudah mengajukan usulan rutilahu melalui desa sejak tahun {tahun} tetapi belum ada realisasi."],
             ["rmh kami atapnya bocor, tembok retak, udah diusulin bedah rumah ke perbekel thn {tahun}", "udh ngajuin rutilahu lewat desa dr {tahun} blm ada kabar"]),
            (["?Setiap hujan kami harus mengungsi ke rumah saudara.", "?Petugas sudah pernah datang memfoto rumah tetapi tidak ada kelanjutan."],
             ["?tiap hujan ngungsi ke rmh saudara", "?udah pernah difoto petugas tp gk ada lanjutannya"]),
            (["Mohon informasi kapan bantuan dapat direalisasikan.", "Mohon perhatian Bapak/Ibu Kepala Dinas."],
             ["kapan ya min realisasinya", "mohon perhatiannya pak"]),
        ],
    },
    "sasaran": {
        "subj": ["Bansos Tidak Tepat Sasaran di Desa {desa}", "Laporan penerima bantuan yang mampu", "Penyaluran bantuan tidak adil"],
        "s": [
            (["Saya warga Banjar {banjar}, Desa {desa}.", "Saya ingin melaporkan penyaluran bantuan di Desa {desa}, Kecamatan {kec}."],
             ["sy warga banjar {banjar} {desa}", "mau lapor soal bansos di {desa}"]),
            (["Ada penerima PKH di banjar kami yang punya mobil dan rumah bertingkat, sedangkan keluarga saya yang kekurangan tidak dapat apa-apa.", "Keluarga perangkat desa justru mendapat bantuan, sementara warga miskin seperti saya tidak terdata."],
             ["ada yg punya mobil rmh tingkat dpt PKH, sy yg susah gk dpt apa2", "keluarga perangkat desa dpt bansos, yg miskin kaya sy malah gk kedata"]),
            (["?Apakah ada permainan di tingkat banjar?", "?Sudah saya sampaikan ke kelian dinas tetapi tidak ditanggapi."],
             ["?apa ada permainan di banjar??", "?udh ngomong ke kelian dinas tp dicuekin"]),
            (["Mohon dilakukan pendataan ulang yang adil.", "Mohon ditindaklanjuti, terima kasih."],
             ["tolong didata ulang yg adil!!", "mohon ditindak lanjuti min"]),
        ],
    },
    "potong": {
        "subj": ["Dugaan Pemotongan Dana Bansos", "Pungli oleh agen penyalur", "Bantuan dipotong Rp {potong}"],
        "s": [
            (["Saya KPM di Desa {desa}, Kecamatan {kec}.", "Saya penerima bantuan dari Banjar {banjar}, Desa {desa}."],
             ["sy KPM di {desa}", "aku penerima bansos di banjar {banjar}"]),
            (["Pada pencairan bulan {bulan}, bantuan saya dipotong Rp {potong} oleh {agen} dengan alasan biaya administrasi.", "Saat pencairan di {agen} bulan {bulan}, kami diminta menyerahkan Rp {potong} per orang."],
             ["pas cair bulan {bulan} dipotong {potong} sama {agen}, katanya buat admin", "di {agen} bln {bulan} dimintain {potong} per org"]),
            (["?Tidak ada kuitansi atau penjelasan resmi.", "?Banyak warga lain mengalami hal yang sama tetapi takut melapor."],
             ["?gk ada kwitansi", "?byk warga lain jg tp pada takut lapor"]),
            (["Mohon ditindak tegas, identitas saya mohon dirahasiakan.", "Mohon pemotongan ini diusut."],
             ["tolong diusut min, nama sy jgn disebut ya", "mohon diusut tuntas"]),
        ],
    },
    "lansia": {
        "subj": ["Lansia Terlantar di Banjar {banjar}", "Mohon bantuan untuk lansia hidup sendiri", "Laporan lansia terlantar"],
        "s": [
            (["Saya ingin melaporkan tetangga saya, {ortu}, umur {umur} tahun, di Banjar {banjar}, Desa {desa}.", "Di banjar kami ({banjar}, Desa {desa}) ada lansia bernama {ortu}, {umur} tahun."],
             ["mau lapor tetangga sy {ortu} umur {umur} di banjar {banjar} {desa}", "di banjar {banjar} {desa} ada lansia {ortu} {umur} th"]),
            (["Beliau hidup sendiri, sakit-sakitan, dan tidak pernah menerima bantuan apa pun.", "Beliau tinggal sendirian di gubuk dan makan dari belas kasihan tetangga."],
             ["hidup sendiri, sakit2an, blm pernah dpt bantuan apa2", "tinggal sendiri di gubuk, makan dr tetangga"]),
            (["?Anak-anaknya merantau dan tidak pernah pulang.", "?Kartu identitasnya juga sudah hilang."],
             ["?anak2nya merantau gk pernah pulang", "?KTP nya jg udh ilang"]),
            (["Mohon Dinas Sosial dapat meninjau dan memberikan bantuan.", "Mohon segera ditangani."],
             ["tolong ditinjau dinsos 🙏", "mohon segera dibantu"]),
        ],
    },
    "disabilitas": {
        "subj": ["Permohonan Kursi Roda untuk Anak Disabilitas", "Bantuan alat bantu disabilitas", "Usulan bantuan kursi roda belum ada kabar"],
        "s": [
            (["Anak saya berumur {anak_umur} tahun menyandang disabilitas fisik dan tidak bisa berjalan.", "Saya orang tua dari anak disabilitas ({anak_umur} tahun) di Desa {desa}."],
             ["anak sy {anak_umur} th disabilitas gk bisa jalan", "anak aku umur {anak_umur} lumpuh"]),
            (["Kami sudah mengajukan permohonan kursi roda melalui desa sejak bulan {bulan0}, tetapi belum ada kabar.", "Usulan alat bantu sudah kami serahkan ke kantor desa bulan {bulan0}."],
             ["udh ngajuin kursi roda lewat desa dr {bulan0} blm ada kabar", "usulan alat bantu udh dikasi ke desa bln {bulan0}"]),
            (["?Selama ini anak harus digendong ke mana-mana.", "?Kursi roda lama sudah rusak."],
             ["?slama ini digendong terus", "?kursi roda lama udh rusak"]),
            (["Mohon informasi perkembangan usulan kami.", "Mohon bantuan Bapak/Ibu."],
             ["gimana kelanjutannya min?", "mohon bantuannya"]),
        ],
    },
    "nik": {
        "subj": ["NIK Tidak Padan Dukcapil", "Tidak bisa daftar bansos karena NIK tidak terdaftar", "Masalah NIK untuk usulan DTSEN"],
        "s": [
            (["Saya mendaftar usulan bantuan melalui desa, tetapi ditolak karena NIK saya tidak padan dengan data Dukcapil.", "Saat cek bansos, NIK saya dinyatakan tidak ditemukan."],
             ["sy daftar bansos lewat desa ditolak krn NIK gk padan dukcapil", "cek bansos NIK sy gk ditemukan"]),
            (["NIK saya {nik}.", "Nomor NIK: {nik}."],
             ["NIK {nik}", "nik sy {nik}"]),
            (["?KTP saya sudah elektronik dan masih berlaku.", "?Kartu keluarga sudah diperbarui bulan {bulan0}."],
             ["?ktp udh e-ktp", "?KK udh diperbarui bln {bulan0}"]),
            (["Mohon petunjuk apa yang harus saya lakukan.", "Mohon dibantu pengecekannya."],
             ["trs sy hrs gmn?", "mohon dibantu cek min"]),
        ],
    },
    "kb": {
        "subj": ["Keluhan Pelayanan KB di {pkm}", "Pengaduan layanan KB", "Pelayanan KB di {pkm}"],
        "s": [
            (["Saya akseptor KB dari Desa {desa}.", "Saya ibu rumah tangga di Banjar {banjar}, Desa {desa}."],
             ["sy akseptor KB dr {desa}", "aku ibu RT di {desa}"]),
            (["Sudah {n} kali saya datang ke {pkm} untuk pasang implan, selalu dibilang stok kosong.", "Di {pkm} saya diminta membayar Rp {potong} untuk KB suntik, padahal katanya gratis."],
             ["udh {n}x ke {pkm} mau pasang implan, stok kosong terus", "di {pkm} disuruh bayar {potong} buat KB suntik, katanya gratis??"]),
            (["?Implan lama saya sudah lewat masa pakai.", "?Petugas PLKB juga jarang datang ke desa kami."],
             ["?implan lama udh lewat masanya", "?PLKB jarang dateng"]),
            (["Mohon kejelasannya.", "Mohon segera diperbaiki pelayanannya."],
             ["mohon kejelasannya min", "tolong diperbaiki"]),
        ],
    },
    "blt": {
        "subj": ["BLT Dana Desa Tahap {tahap} Belum Diterima", "Pengaduan BLT DD", "BLT Desa {desa} belum cair"],
        "s": [
            (["Saya warga Banjar {banjar}, Desa {desa}, terdaftar sebagai penerima BLT Dana Desa.", "Saya penerima BLT DD di Desa {desa} Kecamatan {kec}."],
             ["sy penerima BLT DD di banjar {banjar} {desa}", "aku dpt BLT desa di {desa}"]),
            (["BLT tahap {tahap} sebesar Rp {nominal} belum saya terima, padahal desa tetangga sudah membagikan.", "Pembagian BLT tahap {tahap} di desa kami tertunda sejak bulan {bulan} tanpa penjelasan."],
             ["BLT tahap {tahap} {nominal} blm sy terima, desa sebelah udh", "BLT tahap {tahap} di desa kami ketunda dr {bulan} gk ada penjelasan"]),
            (["?Ketika ditanyakan ke kantor desa, jawabannya masih menunggu.", "?Kami sangat membutuhkan untuk biaya upacara dan sekolah anak."],
             ["?tanya kantor desa jawabnya nunggu terus", "?butuh bgt buat upacara sm sekolah anak"]),
            (["Mohon bantuan Dinas untuk menanyakan ke pihak desa.", "Mohon ditindaklanjuti."],
             ["tolong ditanyain ke desa min", "mohon ditindaklanjuti"]),
        ],
    },
    "nafkah": {
        "subj": ["Penelantaran Istri dan Anak", "Mohon pendampingan: suami tidak memberi nafkah", "Pengaduan penelantaran keluarga"],
        "s": [
            (["Saya ibu dengan {n} anak, tinggal di Desa {desa}, Kecamatan {kec}.", "Saya seorang istri dari Banjar {banjar}, Desa {desa}."],
             ["sy ibu {n} anak di {desa}", "aku istri dr banjar {banjar} {desa}"]),
            (["Sejak bulan {bulan0} suami saya pergi dan tidak memberi nafkah sama sekali.", "Suami meninggalkan kami sejak {bulan0} dan tidak pernah mengirim biaya."],
             ["dr bln {bulan0} suami pergi gk ngasih nafkah sm sekali", "suami ninggalin kami dr {bulan0} gk pernah kirim uang"]),
            (["?Anak-anak terancam putus sekolah.", "?Saya hanya bekerja sebagai buruh metik kopi."],
             ["?anak2 terancam putus sekolah", "?aku cm buruh petik kopi"]),
            (["Mohon pendampingan dari UPTD PPA.", "Saya mohon bantuan dan pendampingan hukum."],
             ["mohon dibantu pendampingan PPA", "butuh pendampingan hukum, tlg"]),
        ],
    },
    "info": {
        "subj": ["Permintaan Informasi", "Mohon informasi pendaftaran bantuan", "Pertanyaan tentang bantuan sosial"],
        "s": [
            (["Saya warga Desa {desa}, Kecamatan {kec}.", "Saya dari Banjar {banjar}, Desa {desa}."],
             ["sy dr {desa}", "aku warga {desa}"]),
            (["Bagaimana cara mendaftarkan keluarga saya sebagai penerima PKH? Kami {jiwa} jiwa dan belum pernah menerima bantuan.", "Saya ingin mengajukan usul sanggah karena keluarga saya masuk desil {desil}, bagaimana caranya?"],
             ["gmn caranya daftar PKH? kami {jiwa} org blm pernah dpt", "mau usul sanggah, kami masuk desil {desil}, caranya gmn?"]),
            (["?Apakah harus melalui desa atau bisa langsung ke Dinas?", "?Syaratnya apa saja?"],
             ["?lewat desa ato langsung ke dinas?", "?syaratnya ap aja?"]),
            (["Terima kasih atas informasinya.", "Mohon penjelasannya."],
             ["makasih min", "mohon infonya"]),
        ],
    },
}
TOPIC_WEIGHTS = {"pkh": 14, "bpnt": 9, "dicoret": 10, "pbi": 9, "rutilahu": 7, "sasaran": 7, "potong": 5,
                 "lansia": 5, "disabilitas": 4, "nik": 5, "kb": 5, "blt": 7, "nafkah": 3, "info": 6}

EMAIL_GREET = ["Yth. Bapak/Ibu Kepala Dinas Sosial P3AP2KB Kabupaten Karangasem,", "Yth. Admin Dinas Sosial Kab. Karangasem", "Om Swastyastu,", "Selamat siang Bapak/Ibu,", "Assalamualaikum wr. wb.", "Dengan hormat,", "Selamat pagi,"]
EMAIL_CLOSE = ["Hormat saya,", "Terima kasih.\n\nHormat saya,", "Om Shanti Shanti Shanti Om", "Salam,", "Atas perhatiannya saya ucapkan terima kasih.", "Matur suksma."]
MAIL_TAILS = ["", "", "", "\n\nDikirim dari iPhone saya", "\n\nDikirim dari Yahoo Mail di Android", "\n\nSent from my Samsung Galaxy"]
SOCIAL_OPEN = ["min, ", "Min ", "pak, ", "selamat siang min, ", "om swastyastu, ", "permisi min ", "", "", "", "tolong min ", "maaf min mau tanya, "]
SOCIAL_TAIL = ["", "", "", " 🙏", " 🙏🙏", " mohon dibalas", " #karangasem", " 😭", " tolong dibaca min", "..", " !!"]
CROSS_MENTION = {
    "email": ["Saya juga sudah mengirim email ke dinas tetapi belum dibalas.", "udh kirim email jg tp blm dibales"],
    "lapor": ["Laporan ini juga sudah saya sampaikan melalui LAPOR!.", "udh lapor di LAPOR jg min"],
    "facebook": ["Sebelumnya saya sudah menulis di Facebook dinas.", "kmrn udh komen di fb jg"],
    "instagram": ["Saya juga sudah berkomentar di Instagram dinas.", "udh komen di ig jg"],
    "youtube": ["Saya juga sempat menulis di kolom komentar YouTube.", "td udh komen di yutub"],
}


def compose(rng: random.Random, topic: str, f: dict, formal: bool, drop: float, pick: list[int] | None = None) -> tuple[list[str], list[int]]:
    """Sentences of one rendering; ``pick`` reuses an earlier choice of phrasings."""
    out, chosen = [], []
    for i, (formals, informals) in enumerate(TOPICS[topic]["s"]):
        options = formals if formal else informals
        k = pick[i] if pick else rng.randrange(len(options))
        chosen.append(k)
        text = options[k % len(options)]
        if text.startswith("?"):
            if rng.random() < drop:
                continue
            text = text[1:]
        out.append(fill(text, f))
    return out, chosen


def render(rng: random.Random, p: Person, topic: str, f: dict, channel: str, style: str,
           pick: list[int] | None = None, mention: str | None = None,
           anonymous: bool = False) -> tuple[str | None, str, str]:
    """(subject, body, core) for one channel; ``core`` is the complaint text without the
    channel's wrapper (greeting, signature), what a person copies to paste elsewhere."""
    formal = style in ("formal", "semi")
    drop = {"formal": 0.2, "semi": 0.4, "slang": 0.5, "short": 1.0}[style]
    sentences, _ = compose(rng, topic, f, formal, drop, pick)
    if style == "short":
        sentences = sentences[1:2] + sentences[-1:]
    if mention:
        sentences.insert(len(sentences) - 1, CROSS_MENTION[mention][0 if formal else 1])
    if style == "semi":
        # Run-on sentences, fewer full stops, some abbreviations.
        parts = [sentences[0]]
        for s in sentences[1:]:
            joiner = rng.choice([",", " dan", "..", ".", ","])
            parts[-1] = parts[-1].rstrip(".?") + joiner if not parts[-1].endswith("?") else parts[-1]
            if joiner in (",", " dan") and len(s) > 1 and s[1].islower():
                s = s[0].lower() + s[1:]
            parts.append(s)
        core = " ".join(parts).rstrip(".")
        core = slangify(core, rng, 0.25)
    elif style in ("slang", "short"):
        core = slangify(" ".join(sentences), rng, 0.5)
        if rng.random() < 0.5:
            core = core.lower()
    else:
        core = " ".join(sentences)
    core = re.sub(r"\s+([,.])", r"\1", core)
    subject = None
    if channel in ("email", "lapor"):
        subject = fill(rng.choice(TOPICS[topic]["subj"]), f)
        if channel == "email" and style in ("slang", "short"):
            subject = subject.lower()
    return subject, wrap(rng, p, channel, core, formal, anonymous), core


def wrap(rng: random.Random, p: Person, channel: str, core: str, formal: bool, anonymous: bool = False) -> str:
    if channel == "email":
        greet = rng.choice([g for g in EMAIL_GREET if ("Om" in g) <= p.hindu and ("Assalam" in g) <= (not p.hindu)])
        close = rng.choice([c for c in EMAIL_CLOSE if ("Om" in c or "suksma" in c) <= p.hindu
                            and not ("terima kasih" in c.lower() and "terima kasih" in core[-40:].lower())])
        sig = f"{close}\n{p.name}"
        if rng.random() < 0.55:
            sig += f"\nHP/WA: {p.phone(rng)}"
        if rng.random() < 0.2:
            sig += f"\n{p.address(rng)}"
        return f"{greet}\n\n{core}\n\n{sig}{rng.choice(MAIL_TAILS)}"
    if channel == "lapor":
        body = core
        if not anonymous and rng.random() < 0.3:
            body = f"Nama: {p.name}\nAlamat: {p.address(rng)}\n\n{body}"
        if not anonymous and rng.random() < 0.15:
            body += f"\nNo. HP {p.phone(rng)}"
        return body
    opener = rng.choice([o for o in SOCIAL_OPEN if "swast" not in o or p.hindu])
    body = f"{opener}{core}{rng.choice(SOCIAL_TAIL)}"
    if channel == "facebook" and rng.random() < 0.15:
        body = "Dinas Sosial P3AP2KB Karangasem " + body
    if rng.random() < 0.08:
        body += f" wa {p.phone(rng)}"
    return body


def when(rng: random.Random, day_lo: int = 0, day_hi: int = DAYS) -> datetime:
    day = rng.randrange(day_lo, day_hi)
    hour = rng.choices(range(24), weights=[1, 1, 1, 1, 1, 2, 4, 6, 8, 8, 8, 7, 7, 6, 6, 6, 6, 6, 7, 9, 10, 9, 5, 2])[0]
    return START + timedelta(days=day, hours=hour, minutes=rng.randrange(60), seconds=rng.randrange(60))


CHANNEL_STYLE = {
    "email": (["formal", "semi", "slang"], [5, 4, 1]),
    "lapor": (["formal", "semi", "slang"], [4, 5, 1]),
    "facebook": (["semi", "slang", "short"], [3, 5, 2]),
    "instagram": (["slang", "short", "semi"], [5, 3, 1]),
    "youtube": (["slang", "short", "semi"], [5, 2, 2]),
}
CHANNEL_WEIGHTS = {"email": 5, "lapor": 6, "facebook": 7, "instagram": 4, "youtube": 3}


def style_for(rng: random.Random, channel: str) -> str:
    styles, weights = CHANNEL_STYLE[channel]
    return rng.choices(styles, weights)[0]


def pick_channel(rng: random.Random, exclude: set[str] = frozenset()) -> str:  # type: ignore[assignment]
    options = [c for c in CHANNELS if c not in exclude]
    return rng.choices(options, [CHANNEL_WEIGHTS[c] for c in options])[0]


def pick_topic(rng: random.Random) -> str:
    return rng.choices(list(TOPIC_WEIGHTS), list(TOPIC_WEIGHTS.values()))[0]


# --- traps ---------------------------------------------------------------------------------

BOILERPLATE = [
    ["PKH saya belum cair min", "PKH sy blm cair min", "min PKH saya belum cair", "PKH saya belum cair min 🙏", "pkh saya blm cair min", "PKH saya belum cair"],
    ["bansos blm masuk min", "Bansos blm masuk min", "bansos belum masuk min", "min bansos blm masuk", "bansos blm masuk min.."],
    ["saldo KKS saya kosong min", "saldo kks sy kosong min", "min saldo KKS saya kosong", "Saldo KKS saya kosong"],
    ["Kenapa nama saya tidak ada di cek bansos?", "knp nama sy gk ada di cek bansos?", "kenapa nama saya tdk ada di cek bansos", "Kenapa nama saya tidak muncul di cek bansos??"],
    ["BLT DD tahap 3 belum cair min", "BLT tahap 3 blm cair min", "blt dd tahap 3 belum cair", "BLT DD tahap 3 blm cair min?"],
    ["Min mau tanya cara daftar PKH gimana ya", "min cara daftar PKH gimana ya?", "mau tanya cara daftar PKH gmn ya min", "Min, cara daftar PKH gimana?"],
    ["KIS saya tidak aktif waktu mau berobat, mohon bantuannya", "KIS sy gk aktif pas mau berobat, mohon bantuannya", "kis saya tidak aktif waktu berobat mohon bantuannya min"],
    ["Belum ada bantuan sama sekali min", "blm ada bantuan sama sekali min", "Belum ada bantuan sama sekali", "belum ada bantuan samsek min"],
    ["BPNT bulan ini belum masuk min", "bpnt bln ini blm masuk min", "BPNT bulan ini blm masuk", "min BPNT bulan ini belum masuk"],
    ["tolong didata ulang min kami tidak dapat bantuan", "tolong di data ulang min kami gk dapat bantuan", "Tolong didata ulang min, kami tidak dapat bantuan"],
]
# Longer boilerplate that differs only in the writer's own details.
SLOTTED = [  # (text, subject)
    ("Saya sudah terdaftar di DTKS tapi sampai sekarang belum pernah dapat bantuan apapun, padahal tetangga saya yang mampu malah dapat. Saya warga Desa {desa}. Mohon ditindaklanjuti.", "Belum pernah menerima bantuan"),
    ("Selamat siang, saya mau menanyakan bantuan PKH tahap {tahap} kenapa belum cair ya? Saya dari Desa {desa}, Kecamatan {kec}. Terima kasih.", "PKH tahap {tahap} belum cair"),
    ("Mohon maaf, BPNT saya sudah {n} bulan tidak masuk, saya dari Banjar {banjar} Desa {desa}. Mohon dicek.", "BPNT tidak masuk"),
    ("Mohon maaf, KIS PBI saya nonaktif padahal saya tidak mampu. Saya warga {desa}. Mohon bantuannya.", "KIS PBI nonaktif"),
]
CAMPAIGNS = [
    "KAMI WARGA DESA TIANYAR MEMOHON BANTUAN AIR BERSIH!! Sudah 4 bulan musim kering, sumur kering dan truk tangki hanya datang seminggu sekali. Anak-anak dan lansia kesulitan air minum. Mohon Pemkab Karangasem dan Dinas Sosial segera turun tangan. #KubuButuhAir #Karangasem",
    "Usut tuntas pemotongan dana PKH oleh oknum di Kecamatan Abang! Setiap pencairan KPM dimintai uang Rp 50.000 dengan alasan administrasi. Ini hak warga miskin, bukan untuk dipotong. Mohon Dinas Sosial dan aparat menindak tegas. #UsutTuntas #PKH",
    "Kami mohon pendataan ulang DTSEN di Kabupaten Karangasem. Banyak keluarga miskin di desa kami dicoret dari bansos sementara yang mampu tetap dapat. Tolong Dinsos turun langsung ke banjar-banjar, jangan hanya percaya data dari atas.",
    "Tolong perhatikan nasib lansia terlantar di Karangasem. Banyak kakek nenek hidup sendiri tanpa bantuan, tidak punya KTP sehingga tidak bisa didata. Mohon Dinas Sosial membuat program jemput bola untuk lansia. #PeduliLansia",
    "Stop pungli di e-warong! Penerima BPNT dipaksa membeli paket sembako yang harganya tidak sesuai, beras kualitas jelek dan telur busuk. Kami minta Dinas Sosial Karangasem mengawasi agen penyalur.",
    "Honor kader KB dan Tim Pendamping Keluarga di desa kami belum dibayar sejak awal tahun. Kami sudah bekerja mendata keluarga dan stunting tiap bulan. Mohon kejelasan dari Dinas P3AP2KB Karangasem.",
    "Mohon bantuan untuk korban angin kencang di Desa Seraya, banyak atap rumah warga rusak dan belum ada bantuan terpal maupun sembako sampai hari ini. Mohon Dinsos segera turun. 🙏🙏",
    "kami penerima PKH di Karangasem minta kejelasan kenapa tahap 3 tahun ini belum cair semua, sementara kabupaten lain sudah cair. tolong dinsos kasih penjelasan resmi jangan diam saja",
]
CAMPAIGN_PREFIX = ["", "", "", "", "Setuju!! ", "ikut share. ", "Benar sekali. ", "copas: ", "Mohon perhatiannya 🙏 "]
CAMPAIGN_SUFFIX = ["", "", "", "", " #Karangasem", " setuju", " 🙏", " tolong dibaca pak bupati"]


# --- build -----------------------------------------------------------------------------------


def build() -> tuple[list[dict], dict]:
    rng = random.Random(SEED)
    serial = 0

    def person(name: str | None = None) -> Person:
        nonlocal serial
        serial += 1
        return Person(rng, serial, name)

    rows: list[dict] = []
    gid = 0
    stats: Counter = Counter()

    def new_group() -> str:
        nonlocal gid
        gid += 1
        return f"G{gid:03d}"

    def emit(group: str, channel: str, at: datetime, p: Person, subject: str | None, body: str, anonymous: bool = False) -> None:
        rows.append({
            "group": group, "channel": channel, "received_at": at,
            "author": p.author(channel, rng, anonymous), "subject": subject, "body": body,
            "kind": "complaint",
        })

    # True cross-channel groups: one person, one complaint, 2-3 channels.
    for g in range(96):
        p = person()
        topic = pick_topic(rng)
        t0 = when(rng, 0, DAYS - 5)
        f = topic_facts(rng, p, topic, t0)
        size = 3 if rng.random() < 0.35 else 2
        chans = []
        while len(chans) < size:
            chans.append(pick_channel(rng, set(chans)))
        group = new_group()
        stats["cross_groups"] += 1
        stats[f"cross_size_{size}"] += 1
        first = chans[0]
        style0 = style_for(rng, first)
        anonymous = first == "lapor" and rng.random() < 0.15
        subject, body, core = render(rng, p, topic, f, first, style0, anonymous=anonymous)
        emit(group, first, t0, p, subject, body, anonymous)
        at = t0
        for ch in chans[1:]:
            at = at + timedelta(minutes=rng.choice([rng.randint(20, 240), rng.randint(240, 1440), rng.randint(1440, 5760)]))
            mention = first if rng.random() < 0.25 else None
            anon2 = ch == "lapor" and rng.random() < 0.15
            if rng.random() < 0.4:
                # Pasted: the same core text in this channel's wrapper, perhaps with a word before.
                stats["pasted_records"] += 1
                text = core
                lead = ""
                if mention and ch not in ("email", "lapor"):
                    lead = rng.choice([f"{CROSS_MENTION[mention][1]}, ini isinya: ", "copas dr laporan sy: "])
                    text = lead + text
                if ch == "instagram" and len(text) > 300:
                    text = text[:300].rsplit(" ", 1)[0] + "…"
                subj = subject if ch in ("email", "lapor") else None
                if ch in ("email", "lapor") and subj is None:
                    subj = fill(rng.choice(TOPICS[topic]["subj"]), f)
                if ch == "email":
                    body2 = wrap(rng, p, ch, text, True)
                elif ch == "lapor":
                    body2 = text
                else:
                    body2 = ("" if lead else rng.choice(["", "", "min ", "Tolong dibaca: "])) + text
            else:
                # Retyped: another register, other phrasings, details left out.
                stats["retyped_records"] += 1
                subj, body2, _ = render(rng, p, topic, f, ch, style_for(rng, ch), mention=mention, anonymous=anon2)
            emit(group, ch, at, p, subj, body2, anon2)

    # Boilerplate traps: different people, nearly the same words, each their own group.
    for variants in BOILERPLATE:
        n = rng.randint(4, 6)
        stats["trap_pairs_boilerplate"] += n * (n - 1) // 2
        for _ in range(n):
            p = person()
            group = new_group()
            stats["boilerplate_people"] += 1
            ch = rng.choice(["facebook", "instagram", "youtube", "facebook", "instagram"])
            text = rng.choice(variants)
            t = when(rng)
            emit(group, ch, t, p, None, text)
            if rng.random() < 0.12:
                # The same person says it again on another channel, with a number to call.
                ch2 = pick_channel(rng, {ch, "email", "lapor"})
                phone = p.phone(rng)
                rows[-1]["body"] = f"{text} wa {phone}"
                emit(group, ch2, t + timedelta(hours=rng.randint(1, 30)), p, None, f"{rng.choice(variants)}, hub {p.phone(rng)}")
                stats["boilerplate_repeat_groups"] += 1
    # Look-alike names writing the same boilerplate: the same common Balinese name on one
    # platform (two accounts, so two handles), and a near name elsewhere, weeks apart.
    for base, near in [("I Made Sudarma", "Made Sudarsana"), ("Ni Ketut Suartini", "Ketut Suarni"),
                       ("I Wayan Budiasa", "Wayan Budiarsa"), ("Ni Luh Sukerti", "Luh Sukarti"),
                       ("I Nyoman Astawa", "Nyoman Astawan")]:
        text = rng.choice(BOILERPLATE[rng.randrange(len(BOILERPLATE))])
        same = rng.choice(["facebook", "youtube"])
        stats["trap_pairs_lookalike_names"] += 3
        for name, ch in [(base, same), (base.split(" ", 1)[1], same), (near, rng.choice(["facebook", "youtube", "lapor"]))]:
            p = person(name)
            group = new_group()
            stats["lookalike_people"] += 1
            subj = "Bantuan belum diterima" if ch == "lapor" else None
            emit(group, ch, when(rng), p, subj, text)
    for tmpl in SLOTTED:
        n = rng.randint(4, 6)
        stats["trap_pairs_slotted"] += n * (n - 1) // 2
        for _ in range(n):
            p = person()
            group = new_group()
            stats["slotted_people"] += 1
            t = when(rng)
            f = topic_facts(rng, p, "pkh", t)
            ch = pick_channel(rng)
            text = fill(tmpl[0], f)
            if ch in ("facebook", "instagram", "youtube") and rng.random() < 0.5:
                text = slangify(text, rng, 0.3)
            subj = fill(tmpl[1], f) if ch in ("email", "lapor") else None
            body = wrap(rng, p, "email", text, True) if ch == "email" else text
            emit(group, ch, t, p, subj, body)

    # Copy-paste campaigns: one text, many accounts, each its own complaint.
    for c, text in enumerate(CAMPAIGNS):
        size = rng.randint(5, 15)
        day0 = rng.randrange(0, DAYS - 6)
        stats["campaigns"] += 1
        stats["trap_pairs_campaign"] += size * (size - 1) // 2
        for k in range(size):
            p = person()
            group = new_group()
            stats["campaign_accounts"] += 1
            ch = rng.choices(CHANNELS, [1, 2, 6, 5, 3])[0]
            t = when(rng, day0, day0 + rng.choice([1, 2, 3, 5]))
            body = rng.choice(CAMPAIGN_PREFIX) + text + rng.choice(CAMPAIGN_SUFFIX)
            subj = "Aspirasi warga" if ch in ("email", "lapor") else None
            if ch == "email":
                body = wrap(rng, p, "email", text, True)
                subj = rng.choice(["Aspirasi warga", "Mohon perhatian", "Pengaduan masyarakat"])
            emit(group, ch, t, p, subj, body)
            if k < 1 and c < 4:
                # One participant pastes it on a second channel too: the same complaint.
                ch2 = "youtube" if ch == "facebook" else "facebook"
                emit(group, ch2, t + timedelta(hours=rng.randint(1, 20)), p, None, text)
                stats["campaign_repeat_groups"] += 1

    # Singletons.
    for _ in range(175):
        p = person()
        topic = pick_topic(rng)
        t = when(rng)
        f = topic_facts(rng, p, topic, t)
        ch = pick_channel(rng)
        anonymous = ch == "lapor" and rng.random() < 0.15
        subject, body, _ = render(rng, p, topic, f, ch, style_for(rng, ch), anonymous=anonymous)
        emit(new_group(), ch, t, p, subject, body, anonymous)
        stats["singletons"] += 1

    rows.sort(key=lambda r: (r["received_at"], r["group"]))
    out = []
    for i, r in enumerate(rows, 1):
        line = {"id": f"R{i:04d}", "group": r["group"], "channel": r["channel"],
                "received_at": r["received_at"].isoformat(), "author": r["author"]}
        if r["channel"] in ("email", "lapor"):
            line["subject"] = r["subject"]
        line["body"] = r["body"]
        line["kind"] = r["kind"]
        out.append(line)
    return out, dict(stats)


def describe(rows: list[dict], stats: dict) -> str:
    groups: dict[str, list[dict]] = {}
    for r in rows:
        groups.setdefault(r["group"], []).append(r)
    multi = [g for g in groups.values() if len(g) > 1]
    cross = [g for g in multi if len({r["channel"] for r in g}) == len(g)]
    true_pairs = sum(len(g) * (len(g) - 1) // 2 for g in groups.values())
    by_text: dict[str, set[str]] = {}
    for r in rows:
        key = re.sub(r"[^a-z0-9]+", " ", r["body"].lower()).strip()
        by_text.setdefault(key, set()).add(r["group"])
    lines = [
        f"records: {len(rows)}",
        "per channel: " + ", ".join(f"{c} {n}" for c, n in sorted(Counter(r['channel'] for r in rows).items())),
        f"groups: {len(groups)}; with 2+ records: {len(multi)} (all on distinct channels: {len(cross)}); true pairs: {true_pairs}",
        f"identical normalised texts shared by different groups: {sum(1 for g in by_text.values() if len(g) > 1)} texts",
        "generator counts: " + ", ".join(f"{k} {v}" for k, v in sorted(stats.items())),
    ]
    return "\n".join(lines)


def main() -> None:
    rows, stats = build()
    with OUT.open("w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(describe(rows, stats), file=sys.stderr)


if __name__ == "__main__":
    main()
