"""The words of the invented LAPOR! reports (``generate_lapor.py``): places, names, months,
topics with their texts, openings, closings, slang, statuses and sources, with their weights.

Every person here is invented.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Kecamatan of Karangasem with a few of their desa; the region code feeds the fake NIKs.
DESA: dict[str, tuple[str, ...]] = {
    "Rendang": ("Rendang", "Besakih", "Menanga", "Pesaban", "Nongan", "Pempatan"),
    "Sidemen": ("Sidemen", "Talibeng", "Tangkup", "Telaga Tawang", "Sangkan Gunung"),
    "Manggis": ("Manggis", "Padangbai", "Ulakan", "Antiga", "Sengkidu", "Selumbung"),
    "Karangasem": ("Subagan", "Padangkerta", "Bukit", "Seraya", "Tumbu", "Pertima"),
    "Abang": ("Abang", "Ababi", "Culik", "Datah", "Tista", "Bunutan"),
    "Bebandem": ("Bebandem", "Budakeling", "Jungutan", "Sibetan", "Bungaya", "Macang"),
    "Selat": ("Selat", "Duda", "Muncan", "Sebudi", "Amerta Bhuana", "Sogra"),
    "Kubu": ("Kubu", "Tianyar", "Tulamben", "Sukadana", "Ban", "Baturinggit"),
}
KECAMATAN = tuple(DESA)
BANJAR = ("Kaler", "Kelod", "Kangin", "Kauh", "Tengah", "Dauh Tukad", "Sala", "Bukit Tabuan")

BIRTH_NAMES = ("Gede", "Wayan", "Putu", "Made", "Kadek", "Nengah", "Nyoman", "Komang", "Ketut")
MALE_NAMES = ("Sudarma", "Suarta", "Astawa", "Mertayasa", "Budiasa", "Widiantara", "Sukadana",
              "Arsana", "Suweca", "Darmawan", "Artawan", "Rai Pujana")
FEMALE_NAMES = ("Ariani", "Sukerti", "Sumerti", "Kariasih", "Suastini", "Wartini", "Murniati",
                "Sri Lestari", "Puspadewi", "Rusmini", "Adnyani", "Suciani")
MONTHS_ID = ("Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des")
MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
MONTHS_LONG = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
               "September", "Oktober", "November", "Desember")


@dataclass(frozen=True)
class Topic:
    """A complaint theme: its LAPOR category, (title, text) pairs, and optional very short
    texts and information requests, so a drawn style never contradicts the category."""

    kategori: str
    id_kategori: int
    reports: tuple[tuple[str, str], ...]
    short: tuple[str, ...] = ()
    question: tuple[str, str] | None = None
    sensitive: bool = False


TOPICS: dict[str, Topic] = {
    "pkh": Topic("PKH PROGRAM KELUARGA HARAPAN", 436, (
        ("PKH Belum Cair",
         "Saya {nama} warga Banjar {banjar}, Desa {desa}, Kecamatan {kec}. Saya penerima PKH "
         "sejak 2021 tapi bantuan tahap {tahap} tahun ini belum cair padahal tetangga saya "
         "sudah terima semua"),
        ("Bantuan PKH tahap {tahap} belum masuk",
         "PKH saya sudah {n} bulan tidak masuk ke rekening KKS, sudah tanya ke pendamping "
         "katanya tunggu saja tapi sampai sekarang belum ada kejelasan"),
        ("PKH dicoret",
         "Ibu saya {nama2} dulu dapat PKH sekarang dicoret dan tidak muncul lagi di cek bansos "
         "padahal kondisi ekonomi kami masih sama bahkan lebih susah karena habis biaya ngaben"),
    ), short=("PKH saya blm cair", "pkh tahap {tahap} kapan cair min?", "PKH saya dicoret"),
        question=("Cara daftar PKH",
                  "Bagaimana cara mendaftar PKH untuk keluarga kami? Syaratnya apa saja dan ke "
                  "mana harus mengajukan?")),
    "bpnt": Topic("BANTUAN PANGAN NON TUNAN (BPNT)", 441, (
        ("Saldo BPNT Kosong",
         "Saldo KKS BPNT saya kosong waktu mau ambil di e-warong Desa {desa}, kata agen belum "
         "ada penyaluran untuk bulan {bulan}"),
        ("BPNT tidak tepat sasaran di Desa {desa}",
         "Bantuan sembako BPNT di Desa {desa} tidak tepat sasaran, yang dapat malah keluarga "
         "perangkat desa yang rumahnya bagus dan punya mobil, sedangkan kami yang benar benar "
         "tidak mampu tidak dapat"),
        ("Kartu KKS hilang",
         "Kartu KKS saya hilang waktu banjir di Banjar {banjar}, mohon dibantu cara mengurus "
         "kartu pengganti supaya bisa ambil bantuan lagi"),
    ), short=("saldo kks kosong..", "BPNT bulan {bulan} tidak masuk", "Belum ada bantuan"),
        question=("Usul sanggah bansos",
                  "Bagaimana cara usul sanggah di aplikasi cek bansos kalau tetangga yang mampu "
                  "dapat bantuan?")),
    "kis": Topic("NON-AKTIF KARENA TIDAK MASUK SK MENSOS", 1203, (
        ("KIS PBI Tidak Aktif",
         "Kartu KIS PBI saya tidak aktif waktu berobat di RSUD Karangasem, katanya non-aktif "
         "karena tidak masuk SK Mensos. Saya jadi harus bayar umum padahal tidak punya uang"),
        ("Mohon rekomendasi PBI",
         "Mohon rekomendasi PBI untuk bapak saya {nama2} yang dirawat di rumah sakit, BPJS nya "
         "nonaktif sejak bulan {bulan}"),
    ), short=("KIS tidak aktif", "kis pbi sy nonaktif"),
        question=("Cara aktifkan PBI",
                  "Bagaimana cara mengaktifkan kembali KIS PBI yang dinonaktifkan? Apa "
                  "syaratnya?")),
    "dtks": Topic("DATA TERPADU KESEJAHTERAAN SOSIAL (DTKS)", 439, (
        ("NIK tidak terdaftar DTSEN",
         "NIK saya {nik} tidak terdaftar di DTSEN padahal sudah diusulkan lewat Desa {desa} "
         "sejak tahun lalu"),
        ("Desil salah",
         "Data keluarga saya di DTKS masih salah, desil kami tertulis desil 6 padahal kami buruh "
         "harian lepas dan rumah masih lantai tanah"),
        ("NIK tidak padan Dukcapil",
         "NIK tidak padan Dukcapil sehingga bantuan tidak bisa dicairkan, sudah ke kantor desa "
         "disuruh ke dinas, di dinas disuruh ke Dukcapil"),
    ), short=("Nik saya belum terdaftar", "Tolong cek data saya di DTSEN"),
        question=("Cek desil DTSEN",
                  "Di mana saya bisa melihat desil keluarga saya di DTSEN dan bagaimana kalau "
                  "datanya salah?")),
    "lansia": Topic("LAINNYA TERKAIT BANTUAN SOSIAL", 447, (
        ("Lansia Terlantar",
         "Di Banjar {banjar} Desa {desa} ada lansia bernama {nama2} umur {umur} tahun tinggal "
         "sendiri, rumahnya hampir roboh dan tidak pernah dapat bantuan apapun. Mohon dinas "
         "turun melihat langsung"),
        ("Bantuan lansia belum diterima",
         "Nenek saya sudah {umur} tahun dan sakit sakitan, bantuan ATENSI lansia yang "
         "dijanjikan tahun lalu belum pernah diterima"),
    ), short=("bantuan lansia gmn pak",),
        question=("Bantuan untuk lansia",
                  "Apakah ada program bantuan untuk lansia yang tinggal sendiri di Desa {desa}? "
                  "Syaratnya apa saja?")),
    "disabilitas": Topic("AKSES MASYARAKAT BERKEBUTUHAN KHUSUS/ DISABILITAS", 1522, (
        ("Kursi Roda Disabilitas",
         "Anak saya penyandang disabilitas cerebral palsy umur {umur_anak} tahun, kami sudah "
         "mengajukan kursi roda ke dinas sejak bulan {bulan} tapi belum ada kabar"),
        ("Kartu disabilitas belum jadi",
         "Saya tuna netra di Desa {desa}, kartu penyandang disabilitas saya belum jadi sehingga "
         "saya tidak bisa ikut pelatihan pijat dari dinas"),
    ), short=("kursi roda blm ada kabar",),
        question=("Alat bantu dengar",
                  "Bagaimana cara mengajukan alat bantu dengar untuk anak saya yang tuna rungu?")),
    "kdrt": Topic("KEKERASAN DALAM RUMAH TANGGA", 1518, (
        ("Tetangga sering dipukul suami",
         "Saya ingin melaporkan tetangga saya di Banjar {banjar}, seorang ibu yang sering "
         "dipukul suaminya sampai memar. Anak anaknya ketakutan. Kami takut melapor langsung ke "
         "kelian banjar. Mohon identitas saya dirahasiakan"),
        ("Mohon perlindungan",
         "Saya korban KDRT, suami saya sering memukul dan mengancam kalau saya melapor. Saya "
         "butuh pendampingan dan tempat aman untuk saya dan anak saya"),
    ), short=("tolong sy dipukul suami",), sensitive=True),
    "anak": Topic("PELECEHAN SEKSUAL", 1520, (
        ("Mohon pendampingan UPTD PPA",
         "Ada anak perempuan umur {umur_anak} tahun di Desa {desa} yang diduga dicabuli oleh "
         "orang dewasa di lingkungannya. Keluarga takut melapor ke polisi. Mohon UPTD PPA segera "
         "mendampingi"),
    ), sensitive=True),
    "eksploitasi": Topic("EKSPLOITASI ANAK", 1517, (
        ("Anak dipekerjakan mengemis",
         "Anak anak usia sekolah dari Kecamatan {kec} disuruh mengemis di Amlapura setiap sore "
         "oleh orang dewasa, mohon ditertibkan dan anak anaknya dilindungi"),
    ), sensitive=True),
    "nafkah": Topic("LAINNYA TERKAIT KESETARAAN GENDER DAN SOSIAL INKLUSIF", 1523, (
        ("Suami tidak memberi nafkah",
         "Suami saya pergi sejak bulan {bulan} tahun lalu dan tidak pernah memberi nafkah untuk "
         "{n} anak kami. Saya tidak bekerja, bagaimana cara mendapat bantuan dan pendampingan "
         "hukum"),
    ), short=("suami tdk kasih nafkah",)),
    "kb": Topic("LAINNYA TERKAIT PENGENDALIAN PENDUDUK DAN KELUARGA BERENCANA", 1610, (
        ("Stok Implan KB Kosong",
         "Stok implan KB di Puskesmas {kec} kosong sudah dua bulan, kami disuruh beli sendiri di "
         "bidan praktek padahal katanya KB gratis"),
        ("Lepas implan",
         "Saya mau lepas implan yang sudah lewat 3 tahun tapi di puskesmas dibilang alatnya "
         "tidak ada dan petugas PLKB tidak pernah datang ke Desa {desa}"),
        ("KB gratis dipungut biaya",
         "Pelayanan KB gratis di Desa {desa} dipungut biaya Rp{biaya} oleh oknum petugas, mohon "
         "diperiksa"),
    ), short=("implan kosong di puskesmas",),
        question=("Layanan KB gratis",
                  "Di mana bisa mendapat layanan KB implan gratis di Kecamatan {kec}?")),
    "rutilahu": Topic("RUMAH SEJAHTERA TERPADU (RST)", 446, (
        ("Bedah Rumah",
         "Rumah saya di Banjar {banjar} rusak berat setelah hujan angin, atap jebol dan dinding "
         "retak. Sudah mengajukan bedah rumah tiga kali tapi tidak pernah diverifikasi"),
    ), short=("rumah sy hampir roboh",),
        question=("Syarat bedah rumah",
                  "Apa saja syarat untuk mendapat bantuan bedah rumah dari dinas sosial?")),
    "pungli": Topic("PENYALAHGUNAAN BANTUAN", 2104, (
        ("Potongan bantuan oleh pendamping",
         "Pendamping PKH di Desa {desa} meminta potongan Rp{biaya} setiap pencairan dengan "
         "alasan uang administrasi. Kalau tidak mau bayar diancam dicoret dari daftar"),
    )),
    "stunting": Topic("GIZI BURUK/STUNTING", 1302, (
        ("PMT balita stunting",
         "Bantuan makanan tambahan untuk balita stunting di posyandu Banjar {banjar} tidak "
         "dibagikan lagi sejak bulan {bulan}"),
    ), short=("PMT balita tidak dibagi lagi",)),
}
TOPIC_WEIGHTS = {"pkh": 14, "bpnt": 12, "kis": 9, "dtks": 10, "lansia": 6, "disabilitas": 4,
                 "kdrt": 3, "anak": 1, "eksploitasi": 1, "nafkah": 2, "kb": 5, "rutilahu": 4,
                 "pungli": 3, "stunting": 2}

OPENINGS = ("", "", "", "Om Swastyastu.", "Selamat pagi.", "Selamat siang bapak/ibu.",
            "Selamat malam min.", "Assalamualaikum.", "Mohon maaf mengganggu.", "Permisi pak.")
CLOSINGS = ("", "", "", "Terima kasih.", "Trimakasih", "Suksma.", "Mohon ditindaklanjuti.",
            "Mohon bantuannya 🙏", "mohon segera ditindaklanjuti, terima kasih",
            "Atas perhatiannya saya ucapkan terima kasih..")
SLANG = {"saya": "sy", "belum": "blm", "tidak": "gk", "sudah": "sdh", "yang": "yg",
         "karena": "krn", "untuk": "utk", "sekarang": "skrg", "bapak": "bpk", "dapat": "dpt",
         "tapi": "tp", "padahal": "pdhl", "dengan": "dgn", "sampai": "sampe", "bagaimana": "gmn"}
SLANG_RE = re.compile(r"\b(" + "|".join(SLANG) + r")\b")

STATUSES = (("Belum Terverifikasi", 20), ("Terverifikasi", 8), ("Proses", 4),
            ("Ditindaklanjuti oleh Instansi", 20), ("Ditanggapi oleh Pelapor", 10),
            ("Ditutup oleh Admin", 8), ("Ditutup oleh Sistem", 12), ("Ditunda", 5),
            ("Diarsipkan oleh Admin", 5), ("Diarsipkan oleh Sistem", 3), ("Bukan Wewenang", 3))
REASONS = ("Masukan terlalu umum", "Kesalahan format TL/BL", "Laporan ganda",
           "Tidak relevan dengan kinerja pemerintah", "Data pelapor tidak lengkap")
SOURCES = (("Website", 5), ("Android - lapor", 4), ("Whatsapp", 4), ("iOS", 1), ("SMS", 1),
           ("Twitter", 1))
STYLES = (("narrative", 50), ("slang", 22), ("short", 9), ("formal", 8), ("question", 6),
          ("angry", 5))
