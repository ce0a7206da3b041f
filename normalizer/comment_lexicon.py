"""Word lists and weighted patterns for comment triage (normalizer/comment_triage.py).

Patterns run over the *normalised* comment: lower case, letters and digits only, one space
between tokens, slang and Balinese mapped to standard Indonesian by ``SLANG`` ("sy blm dpt" →
"saya belum dapat", "tiang durung polih" → "saya belum dapat"). So a pattern is written once in
standard Indonesian and matches every spelling the dictionary knows.

Each rule is ``(name, weight, regex)``. The names are stable: staff see them in ``explain`` and
tests refer to them, so rename a rule only with its tests.
"""

from __future__ import annotations

# --- slang and Balinese → standard Indonesian (whole tokens) --------------------------------
_SLANG_GROUPS: dict[str, str] = {
    "saya": "sy sya aku aq gw gue gua ane tiang titiang icang",
    "tidak": "tdk gk gak ga nggak ngga ngak enggak engga ndak nda gx kagak tak sing tusing nenten"
    " ten nten",
    "belum": "blm belom blom blum blon durung dereng",
    "sudah": "sdh udh udah sudh dah uda sampun suba",
    "sekarang": "skrg skr skrang jani",
    "yang": "yg yng",
    "dengan": "dgn dg sareng",
    "karena": "krn krna karna cz coz",
    "untuk": "utk tuk",
    "kenapa": "knp napa knapa nguda",
    "admin": "min mimin",
    "benar": "bnr bener beneran",
    "banget": "bgt bngt bgd",
    "terus": "trs trus",
    "tapi": "tp tpi tetapi",
    "padahal": "pdhl pdahal",
    "dari": "dr dri uli",
    "juga": "jg jga",
    "bagaimana": "gmn gimana gmna gmana bgmn kenken kengken",
    "dimana": "dmn dimn dmana dija",
    "mau": "mo mw mao",
    "dapat": "dpt dapet dpat polih",
    "masuk": "msk masok",
    "tolong": "tlg tlong tulung",
    "mohon": "mhn nunas",
    "minta": "mnt ngidih",
    "bapak": "bpk bp pak bapa",
    "ibu": "bu ibuk",
    "terima": "trima",
    "ya": "iya yaa nggih inggih",
    "maaf": "ampura maap mf",
    "selamat": "slmt met rahajeng",
    "pagi": "semeng pgi",
    "malam": "wengi malem",
    "semoga": "dumogi smoga moga",
    "oke": "ok okay okey okee",
    "lagi": "lg lgi",
    "saja": "aja aj",
    "sama": "sm",
    "semua": "sami smua smw",
    "bisa": "bs bsa",
    "kalau": "klo kalo kl klw kalu",
    "berapa": "brp brapa",
    "bulan": "bln",
    "tahun": "thn th tiban",
    "orang": "org",
    "harus": "hrs",
    "jadi": "jd jdi",
    "masih": "msh masi",
    "kemarin": "kmrn kemaren kmren",
    "sampai": "sampe nyampe smpe kayang",
    "kasihan": "kasian ksian",
    "ingin": "pengen pgn pingin pengin",
    "tanya": "nanya tny",
    "cuma": "cuman cm",
    "pernah": "naenin",
    "apa": "napi",
    "ada": "wenten",
    "kasih": "ngasi ngasih ngemaang ngemang",
    "dibantu": "dibantuin",
    "bantu": "bantuin",
    "dibalas": "dibales dibls",
    "disini": "dsni dsini",
    "memang": "emg emang",
    "kak": "kakak ka",
    "hp": "hape",
    "mengajukan": "ngajuin ngajuang",
    "tua": "lingsir",
    "mantap": "mantab mantep mantaap",
    "senang": "seneng",
    "besar": "gede",
    "anak": "pianak",
    "hilang": "ilang",
    "disuruh": "suruh",
}
SLANG: dict[str, str] = {v: k for k, vs in _SLANG_GROUPS.items() for v in vs.split()}
SLANG.update(
    {
        "makasih": "terima kasih",
        "makasi": "terima kasih",
        "mksh": "terima kasih",
        "trimakasih": "terima kasih",
        "terimakasih": "terima kasih",
        "trmksh": "terima kasih",
        "thx": "terima kasih",
        "tq": "terima kasih",
        "tks": "terima kasih",
        "trims": "terima kasih",
        "nuwun": "terima kasih",
        "gada": "tidak ada",
        "gaada": "tidak ada",
        "ortu": "orang tua",
        "assalamu": "assalamualaikum",
        "alaikum": "",
        "swastiastu": "swastyastu",
    }
)
# Laughter written out ("wkwk", "hahaha", "ngakak"): dropped like emoji.
LAUGHTER = r"(?:a?w?k(?:wk)+\w*|(?:ha){2,}h?|(?:he){2,}h?|(?:hi){2,}h?|lol|xixi+|ngakak|kwkw\w*)"
# Words that end in a doubled consonant and are spelt so; other doubled final consonants are
# typos ("mantapp", "minn"). Doubled vowels are never folded ("free", "too").
DOUBLE_END_OK = frozenset(
    "all still will well full staff call off pass less miss kiss fill bill tell sell hell "
    "wall fall kill skill add odd egg buzz jazz access process success class small good".split()
)

# --- grievance: a problem, a request for help, an accusation ---------------------------------
NEG = r"(?:tidak|belum|never|not)"
GRIEVANCE: tuple[tuple[str, int, str], ...] = (
    ("not_received", 3,
     rf"\b{NEG}(?: \w+){{0,2}}? (?:pernah |juga |lagi |kunjung )?(?:cair|dicairkan|masuk|dapat"
     r"|terima|diterima|menerima|sampai|datang|turun|disalurkan|diberikan|dikembalikan"
     r"|terdaftar|muncul|didata|aktif|received?|got|get)\b"
     rf"|\b{NEG} (?:ada |masuk )?(?:di|ke) (?:rekening|daftar|data|kks|atm)\b"),
    ("no_response", 3,
     rf"\b{NEG} (?:ada |pernah )?(?:kabar|tanggapan|respon|respons|jawaban|tindak lanjut"
     r"|tindakan|kejelasan|solusi|perkembangan|balasan|petugas\w*|bantuan|nama\w*|yang datang)\b"
     rf"|\b{NEG} (?:pernah )?(?:dibalas|dijawab|ditanggapi|diangkat|direspon|diproses"
     r"|dikunjungi|jelas|kelar|jadi|merata)\b|\bnobody answers\b"),
    ("still_waiting", 3,
     r"\bstill (?:has not|have not|waiting|not)\b|\b(?:has|have|did) not (?:received?|got|get)\b"),
    ("inactive_card", 3,
     r"\b(?:nonaktif|non aktif|dinonaktifkan|terblokir|diblokir|deactivated)\b"),
    ("zero_balance", 3, r"\bsaldo(?: \w+){0,2} (?:kosong|nol|0)\b"),
    ("struck_off", 3, r"\b(?:dicoret|tercoret|dihapus|terhapus|tidak terdapat)\b"),
    ("off_target", 3,
     r"\b(?:tidak|kurang|salah) (?:tepat )?sasaran\b|\b(?:tidak|kurang) adil\b|\bunfair\b"
     r"|\bpilih kasih\b"),
    ("cut_or_levy", 3,
     r"\b(?:dipotong|motong|potongan|pemotongan|pungli|pungutan|dipungut|uang rokok"
     r"|uang bensin|minta uang|minta transfer|disuruh (?:\w+ )?bayar|harus bayar)\b"),
    ("fraud", 3, r"\b(?:penipuan|ditipu|menipu|calo|oknum|ngaku ngaku)\b"),
    ("rejected", 3, r"\b(?:ditolak|tertolak|refused|rejected|dipersulit|persulit)\b"),
    ("violence", 3,
     r"\b(?:kdrt|kekerasan|pelecehan|dipukul|mukul|memukul|mukulin|dianiaya|dibully|bully"
     r"|perundungan|dirundung|diperkosa|dipasung|abuse|violence|tppo|dinikahkan"
     r"|nikah muda|dibawa kabur)\b"),
    ("neglect", 3,
     r"\b(?:terlantar|ditelantarkan|telantar|penelantaran|ditinggal|ninggalin|sebatang kara"
     r"|tinggal sendiri|hidup sendiri|tidak ada yang (?:urus|ngurus|mengurus|merawat)"
     r"|left alone|abandoned)\b"),
    ("no_money", 3,
     r"\b(?:tidak|belum) (?:punya|ada|mampu) (?:biaya|uang|dana|bpjs|kis|siapa siapa|kursi roda)\b"
     r"|\bbiayanya bagaimana\b"),
    ("appeal", 3,
     r"\b(?:tolong|mohon (?:bantuan|bantuannya|dibantu|tolong|perhatian|perhatiannya|keadilan"
     r"|ditindaklanjuti|ditindak|dicek|segera|ditolong|pendampingan)|minta bantuan|bisa dibantu"
     r"|butuh (?:bantuan|pendampingan)|please help|help us)\b"),
    ("disappointed", 3,
     r"\b(?:kecewa|mengecewakan|keterlaluan|tidak manusiawi|tidak becus|(?:tidak|kurang) ramah"
     r"|ketus|dibentak|membentak|jutek|not happy|disappointed)\b"),
    ("hardship", 2,
     r"\b(?:sakit|stroke|lumpuh|tidak bisa (?:jalan|kerja)|tidak bekerja|odgj|gangguan jiwa"
     r"|gizi buruk|kelaparan|kekeringan|miskin|hidup susah|tidak sanggup|kasihan|yatim|janda"
     r"|korban|pengungsian|mengungsi|longsor|kebakaran|roboh|bocor|retak|gubuk|lantai tanah"
     r"|putus sekolah|phk|sick|poor|hungry)\b"),
    ("long_wait", 2,
     r"\b(?:sudah|sejak|dari|selama|telat|lewat)(?: \w+)? (?:\d+x?|dua|tiga|empat|lima|enam)"
     r" ?(?:hari|minggu|bulan|tahun|kali|x|tahap)\b|\bse(?:minggu|bulan|tahun)\b"
     r"|\b(?:\d+|dua|tiga|empat|lima|enam) (?:hari|minggu|bulan|tahun)(?: \w+){0,2}"
     r" (?:belum|tidak|nunggu|menunggu)\b"),
    ("waiting", 2,
     r"\b(?:tunggu terus|disuruh (?:nunggu|tunggu|balik|kembali)|balik terus|bolak balik"
     r"|sampai kapan|sampai sekarang|lambat|lamban|lama sekali|kelamaan|telat|terlambat"
     r"|berhenti|waited|nihil|masih tutup|belum buka|tutup terus)\b"),
    ("why", 2,
     r"\b(?:kenapa|mengapa|kok|why)\b|\bkemana (?:saja|sisanya|uangnya)\b"
     r"|\b(?:dana|uang|bantuan|bansos|jatah|petugas|pegawai|pendamping)\w* (?:\w+ )?kemana\b"),
    ("where_to_turn", 2, r"\bharus (?:\w+ )?kemana\b"),
    ("report", 2, r"\b(?:lapor|melapor|melaporkan|laporan|dilaporin|komplain|keluhan|report)\b"),
    ("undeserving", 2,
     r"\b(?:punya mobil|mampu (?:juga )?dapat|orang kaya"
     r"|keluarga (?:perbekel|kelian|perangkat|kades|kadus|kepala desa)"
     r"|anak perangkat|kerabat|orang dalam|orang yang sama|bukan warga miskin|rich)\b"
     r"|\btetangga(?: \w+){0,5} dapat\b"),
    ("broken", 2,
     r"\b(?:error|rusak|busuk|berkutu|habis|mahal|maksa|dipaksa|ditahan|desak desakan|pingsan"
     r"|tidak bisa \w+|does not work|diam saja|tidak ada solusi|hilang|kosong|dobel|ganda)\b"),
    ("rhetorical", 2,
     r"\b(?:kerja kalian apa|mana peran|buat apa ada|mau maju|jawab dong|tanggapi dong"
     r"|kemana saja|harus kenal|itu resmi|itu boleh|itu pungli|benar tidak sih|yang benar"
     r"|bagaimana sih|bagaimana ini|hadeh|woy|parah|nol besar|realisasinya nol"
     r"|cuma (?:janji|foto|posting))\b"),
    ("persisting", 2, r"\bmasih (?:\w+ ){0,3}(?:sampai sekarang|bebas|keliaran|sama|dipakai)\b"),
    ("promised", 2, r"\b(?:dijanjikan|janji)\b"),
    ("need", 2, r"\b(?:butuh|membutuhkan|need)\b"),
    ("vulnerable", 1, r"\b(?:lansia|disabilitas|tunanetra|hamil|nenek|kakek|elderly|bayi)\b"),
    ("negation", 1, rf"\b{NEG} \w+"),
)
CONTRAST = r"\b(?:tapi|namun|sayang|sayangnya|but|padahal|sedangkan)\b"
# Emoji that turn praise into sarcasm or carry anger or distress: one point of grievance.
NEGATIVE_EMOJI = frozenset("😡😤😒😑🙄👎😭😢😩🙃😠🤬😞😔")

# --- spam: promotion, gambling, loans, follower selling, crypto -------------------------------
SPAM: tuple[tuple[str, int, str], ...] = (
    ("gambling", 3,
     r"\b(?:slot|gacor|maxwin|judi|togel|casino|kasino|scatter|spin|jackpot|jp|bosku|cuan)\b"
     r"|\bsitus (?:resmi|terpercaya|kami)\b"),
    ("deposit", 2, r"\b(?:deposit|wd)\b"),
    ("link_in_bio", 3,
     r"\b(?:link|cek|check|klik) (?:di |in )?(?:bio|profil\w*|profile|highlight\w*)\b"
     r"|\bcek (?:ig|akun) kami\b|\bcheck my profile\b"),
    ("loan", 3,
     r"\b(?:pinjol|pinjaman (?:online|dana)|dana (?:cepat|darurat|hibah)"
     r"|tanpa (?:jaminan|agunan|bi checking|survey|survei|ribet))\b"),
    ("followers", 3,
     r"\b(?:followers?|jual akun|jasa naik\w*|follow balik|subscribe balik|sub balik"
     r"|like balik|engagement|follow (?:ig|akun|kami|aku|balik))\b"),
    ("crypto", 3, r"\b(?:crypto|kripto|bitcoin|btc|forex|signals?)\b"),
    ("investment", 2, r"\b(?:investasi|profit|modal \d+\w*)\b"),
    ("promo", 2,
     r"\b(?:promo|endorse|reseller|dropship|order sekarang|open order|murah meriah"
     r"|untung besar|penghasilan tambahan|kerja dari rumah|loker|giveaway|cod|obat kuat"
     r"|kolaborasi|collab|bisnis online|agen pulsa|modal kecil|untung besar|diskon \d+"
     r"|gaji kecil|jual beli)\b"),
    ("trust_claim", 1, r"\b(?:terpercaya|legal ojk|aman dan terpercaya|100 aman)\b"),
    ("contact_me", 2,
     r"\b(?:wa|whatsapp|chat|hubungi|dm|inbox) (?:\w+ )?(?:\d{4}|admin kami|saya|sekarang"
     r"|for|untuk|aja|saja|ya)\b|\bchannel (?:saya|kami)\b|\b(?:grup|group) telegram\b"
     r"|\b(?:visit|check|cek|kunjungi|mampir) (?:ke )?(?:my|ig|akun|channel|profil)\w*"
     r"(?: (?:saya|aku|kami|my))?\b"),
    ("call_to_action", 2,
     r"\b(?:order sekarang|daftar sekarang|buruan|minat (?:chat|hubungi|wa|dm|inbox)"
     r"|dm sekarang|di dm|via dm)\b"),
    ("click_link", 2,
     r"\bklik link\b|\bdaftar (?:lewat|di|via) link\b|\bisi formulir\b|\bjoin (?:grup|group)\b"
     r"|\bgabung (?:sekarang|di grup)\b|\bsebelum (?:ditutup|terlambat)\b"
     r"|\bgabung (?:\w+ ){0,2}kami\b"
     r"|\b(?:cek|klik|daftar|kunjungi|click) (?:\w+ ){0,3}(?:di sini|here)\b"),
    ("bait", 1,
     r"\b(?:dijamin|bonus|new member|gratis|free|sampai cair|langsung cair|per hari)\b"),
)
SPAM_MIN = 3

# --- praise, thanks, wishes ------------------------------------------------------------------
PRAISE: tuple[tuple[str, int, str], ...] = (
    ("thanks", 2, r"\b(?:terima kasih|suksma|matur suksma|thank you|thanks)\b"),
    ("praise_word", 2,
     r"\b(?:mantap|mantab|mantul|keren|luar biasa|hebat|bagus|top|salut|bangga|apresiasi"
     r"|terbaik|the best|great|good job|nice|well done|amazing|awesome|love|inspiring"
     r"|inspiratif|informatif|bermanfaat|membantu|helpful|positif|sip|jos|proud|kind|seru"
     r"|senang|puas|memuaskan|terbantu|peduli|cepat tanggap|salute)\b"
     r"|\b(?:negara|pemerintah\w*) (?:\w+ )?hadir\b|\bhadir (?:untuk|bagi|buat) (?:rakyat"
     r"|masyarakat|warga)\b"),
    ("wish", 1,
     r"\b(?:sukses(?: selalu| terus)?|sehat selalu|semangat|semoga|lanjutkan|rahayu|berkah"
     r"|amanah|sejahtera|a+mi+n)\b"),
)

# --- greetings and phatic one-liners ("hadir", "nyimak", "siap min") -----------------------
GREETING: tuple[tuple[str, int, str], ...] = (
    ("salutation", 1,
     r"\b(?:om swastyastu|swastyastu|om santi santi santi om|assalamualaikum(?: wr wb)?"
     r"|waalaikumsalam|shalom|salam(?: \w+)?|halo|hallo|hai|hi|hello|permisi|punten"
     r"|good (?:morning|afternoon|evening)"
     r"|(?:selamat )?(?:pagi|siang|sore|malam)(?: hari)?)\b"),
    ("festive", 1,
     r"\bselamat (?:(?:ber)?hari (?:raya )?|rahina |tahun )?\w+(?: (?:lan|dan) \w+)?\b"
     r"|\bmohon maaf lahir (?:dan )?batin\b|\bminal aidin\w*(?: wal faizin)?\b|\bhappy \w+\b"),
    ("phatic", 1,
     r"\b(?:hadir|nyimak|ijin nyimak|izin nyimak|siap|oke|first|pertamax|up|noted|tes|test"
     r"|testing)\b"),
)

# --- plain questions ------------------------------------------------------------------------
# A question is set aside only when it asks for information: hours, requirements, procedures,
# places, contacts, schedules. "bantuannya mana pak?" asks for none of these and stays a
# complaint.
INFO_TOPIC = (
    r"\b(?:jam|buka|dibuka|tutup|operasional|libur|hari apa|syarat\w*|persyaratan|berkas\w*"
    r"|dokumen\w*|fotokopi|asli|bawa|cara\w*|prosedur|daftar|mendaftar|pendaftaran|registrasi"
    r"|mengajukan|pengajuan|alamat|lokasi|kantor\w*|dimana|di mana|nomor|no telp|telepon|kontak"
    r"|hotline|email|form\w*|online|jadwal|tanggal|tgl|usia|umur|minimal|biaya|gratis|bedanya"
    r"|diwakilkan|konsultasi|layanan|pelayanan|pelatihan|sosialisasi|relawan|pencairan|tahap"
    r"|lewat|pindah|domisili|hours|open|office|address|requirements?|apply|register|donate)\b"
)
QUESTION_WORD = (
    r"\b(?:apa|apakah|kapan|dimana|di mana|kemana|bagaimana|berapa|siapa|mana|bisakah|bolehkah"
    r"|tanya|mohon info|syarat\w*|prosedur|cara\w*|what|when|where|how|is there|can i|do i)\b"
)

# Tokens that do not count as content when deciding "greeting only" or "just a link".
FILLER = frozenset(
    "admin bapak ibu kak mas mbak semua semuanya sekalian dinsos tim team all everyone wr wb om"
    " ya dari desa banjar untuk sahabat teman ini nih ne nah liat lihat cek check baca disini info"
    " lengkap tag kamu the to you dan lan karangasem bali warga kami saya semeton".split()
)
