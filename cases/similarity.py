"""Text similarity for linking: Indonesian normalisation, shingles, MinHash signatures.

Public API (used by ``cases/dedup_index.py``, ``cases/scoring.py``, the evaluation test and
the benchmark):

- ``normalize_for_matching(text) -> str``: lower case, no punctuation/URLs/e-mail addresses,
  informal spellings mapped ("sy"→"saya", "blm"→"belum", "gk/ga/tdk"→"tidak", "yg"→"yang",
  "dgn"→"dengan"…), greetings and sign-offs dropped, elongations collapsed ("bangeeet").
  Digits are kept (a Tracking ID, an amount, a date are evidence).
- ``content_tokens(normalized) -> list[str]``: the words that carry content (stop words out).
- ``shingle_codes(token_lists) -> (codes, starts)``: the character 5-grams of the content
  words of many texts, each as the integer its five ASCII bytes spell (normalised text is
  ASCII: ``_WORD``), so a gram is 40 bits, distinct grams are distinct codes, and no gram
  is a Python object; numpy arrays, a few array operations for a whole batch.
- ``shingles(normalized) -> frozenset[int]``: one text's codes as a set, for ``jaccard``.
- ``band_keys(values) -> list[list[int]]``: ``BANDS`` signed 64-bit keys (band number in the
  high bits, the band's ``ROWS`` values below) of each row of ``NUM_PERM`` 16-bit MinHash
  values, what the LSH index stores (the MinHash itself: ``dedup_index.lsh_keys``).
- ``jaccard(a, b)``, ``Rarity`` (IDF weights; ``evidence(shared_terms)`` in [0, 1]).

Why these numbers: ``../shared/reference/dedup.md`` §1.6/§6 (char 5-grams of normalised
text; candidate threshold well below the decision threshold). 20 bands of 3 rows make a pair
at Jaccard 0.5 a candidate with probability 0.93, at 0.3 with 0.42, at 0.1 with 0.02.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence, Set

import numpy as np

NUM_PERM = 60
ROWS = 3
BANDS = NUM_PERM // ROWS
SHINGLE = 5

# Informal spellings → one form. Negations all become "tidak" (dedup.md §6.1 step 2).
SLANG: dict[str, str] = {
    "sy": "saya", "aku": "saya", "ak": "saya", "gw": "saya", "gue": "saya", "tiang": "saya",
    "titiang": "saya", "sya": "saya", "saye": "saya",
    "blm": "belum", "blum": "belum", "blom": "belum", "belom": "belum", "lom": "belum",
    "tdk": "tidak", "gk": "tidak", "ga": "tidak", "gak": "tidak", "nggak": "tidak",
    "ngga": "tidak", "enggak": "tidak", "engga": "tidak", "tak": "tidak", "ndak": "tidak",
    "nda": "tidak", "kagak": "tidak", "g": "tidak", "tdak": "tidak", "tidk": "tidak",
    "yg": "yang", "yng": "yang", "dgn": "dengan", "dg": "dengan", "dngn": "dengan",
    "sdh": "sudah", "udh": "sudah", "udah": "sudah", "dah": "sudah", "sudh": "sudah",
    "krn": "karena", "karna": "karena", "krna": "karena", "utk": "untuk", "untk": "untuk",
    "u/": "untuk", "tp": "tapi", "tpi": "tapi", "jg": "juga", "jga": "juga", "aja": "saja",
    "aj": "saja", "sj": "saja", "bgt": "banget", "bngt": "banget", "dr": "dari", "dri": "dari",
    "kpd": "kepada", "pd": "pada", "sm": "sama", "ama": "sama", "bs": "bisa", "bsa": "bisa",
    "gmn": "bagaimana", "gimana": "bagaimana", "gmna": "bagaimana", "knp": "kenapa",
    "kenape": "kenapa", "napa": "kenapa", "trs": "terus", "trus": "terus", "lg": "lagi",
    "lgi": "lagi", "bln": "bulan", "thn": "tahun", "th": "tahun", "hr": "hari", "mgg": "minggu",
    "skrg": "sekarang", "skr": "sekarang", "skrang": "sekarang", "smp": "sampai",
    "sampe": "sampai", "ampe": "sampai", "org": "orang", "ortu": "orang tua", "tlg": "tolong",
    "tolongin": "tolong", "mhn": "mohon", "dn": "dan", "n": "dan", "&": "dan", "kmn": "kemana",
    "dmn": "dimana", "bpk": "bapak", "pak": "bapak", "bp": "bapak", "bu": "ibu", "kel": "kelurahan",
    "kec": "kecamatan", "kab": "kabupaten", "ds": "desa", "dsn": "dusun", "br": "banjar",
    "dapet": "dapat", "dpt": "dapat", "dapat": "dapat", "cairnya": "cair", "pencairan": "cair",
    "bansos": "bantuan sosial", "blt": "blt", "msk": "masuk", "masok": "masuk", "kapan2": "kapan",
    "ngurus": "urus", "ngurusin": "urus", "nanya": "tanya", "nanyain": "tanya",
}

# Words that carry no content for matching: function words, greetings, sign-offs, fillers.
STOP_WORDS = frozenset(
    """
    saya kami kita anda dia mereka ini itu yang dan di ke dari pada untuk dengan atau juga
    sudah akan ada adalah dalam oleh karena tapi tetapi namun jadi agar supaya bahwa sebagai
    saja sangat banget lagi terus masih pun lah kah dong deh sih nih tuh ya yah kok kan
    mohon tolong bantu bantuannya dibantu minta harap terima kasih makasih thanks thx tq
    selamat pagi siang sore malam assalamualaikum wr wb warahmatullahi wabarakatuh salam om
    swastiastu shanti halo hai hallo permisi maaf bapak ibu admin min kak sdr yth yang terhormat
    hormat atas perhatiannya perhatian regards dikirim iphone android sent from my
    sama bisa mau ingin apa kenapa bagaimana kapan kemana dimana siapa gimana
    tanggal tgl jam hari
    """.split()
)

_URL = re.compile(r"https?://\S+|www\.\S+")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_MENTION = re.compile(r"[@#](?=[A-Za-z_])\w+")
_WORD = re.compile(r"[0-9a-z/&]+")  # the only characters kept: normalised text is ASCII
_ELONGATION = re.compile(r"([a-z])\1{2,}")
_REDUPLICATION = re.compile(r"(?<=\w)2\b")  # "anak2" → "anak"


def normalize_for_matching(text: str) -> str:
    """The text as compared: see the module docstring. Pure and fast: a pattern runs only on
    a text holding the character it needs, and a word is one dict look-up."""
    text = text.lower()
    if "http" in text or "www." in text:
        text = _URL.sub(" ", text)
    if "@" in text:
        text = _EMAIL.sub(" ", text)
    if "@" in text or "#" in text:
        text = _MENTION.sub(" ", text)
    if "2" in text:
        text = _REDUPLICATION.sub("", text)
    text = _ELONGATION.sub(r"\1", text)
    words = _WORD.findall(text)
    return " ".join([w for w in map(SLANG.get, words, words) if w != "/"])


def content_tokens(normalized: str) -> list[str]:
    """The normalised words that carry content, in order (stop words and 1-letter words out)."""
    return [w for w in normalized.split() if w not in STOP_WORDS and (len(w) > 1 or w.isdigit())]


def shingle_codes(token_lists: Sequence[Sequence[str]],
                  size: int = SHINGLE) -> tuple[np.ndarray, np.ndarray]:
    """The character ``size``-grams of each text's tokens joined by one space, each as the
    big-endian integer of its bytes (a text of at most ``size`` characters is one gram), for
    many texts at once: ``(codes, starts)``, text i's grams being ``codes[starts[i]:starts[i+1]]``.
    Repeated grams repeat: a set or a minimum does not mind, and keeping them is cheaper."""
    texts = [" ".join(tokens).encode("ascii") for tokens in token_lists]
    # A short text gets leading zero bytes: the same integer, and every text a whole gram.
    padded = [bytes(size - len(t)) + t if 0 < len(t) < size else t for t in texts]
    lengths = np.fromiter(map(len, padded), dtype=np.int64, count=len(padded))
    counts = np.where(lengths > 0, lengths - size + 1, 0)
    starts = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(counts, out=starts[1:])
    chars = np.frombuffer(b"".join(padded), dtype=np.uint8).astype(np.uint64)
    if len(chars) < size:
        return np.zeros(0, dtype=np.uint64), starts
    n = len(chars) - size + 1
    codes = chars[:n] << np.uint64(8 * (size - 1))
    for i in range(1, size):
        codes |= chars[i : i + n] << np.uint64(8 * (size - 1 - i))
    # Only grams inside one text: text i's first starts at its offset in the joined bytes.
    offsets = np.cumsum(lengths) - lengths
    return codes[np.arange(starts[-1]) + np.repeat(offsets - starts[:-1], counts)], starts


def shingles(normalized: str) -> frozenset[int]:
    """The shingle codes of a normalised text's content words, as a set for ``jaccard``."""
    return frozenset(shingle_codes([content_tokens(normalized)])[0].tolist())


_BAND_SHIFTS = np.arange(BANDS, dtype=np.uint64) << np.uint64(48)


def band_keys(values: np.ndarray) -> list[list[int]]:
    """Per row of ``NUM_PERM`` 16-bit values, one signed 64-bit key per band: band number in
    bits 48–55, its 3 × 16-bit values below."""
    rows = values.reshape(-1, BANDS, ROWS)
    keys = (_BAND_SHIFTS | (rows[..., 0] << np.uint64(32)) | (rows[..., 1] << np.uint64(16))
            | rows[..., 2])
    return keys.tolist()  # type: ignore[no-any-return]


def jaccard(a: Set[object], b: Set[object]) -> float:
    if not a or not b:
        return 0.0
    inter = len(a & b)
    return inter / (len(a) + len(b) - inter)


# Words every complaint to a social-affairs office uses: weak evidence even before the store
# has seen enough records for its own counts to say so.
COMMON_DOMAIN = frozenset(
    """
    pkh bantuan sosial belum tidak cair masuk dana uang bulan tahun desa kecamatan kabupaten
    karangasem bali dtks terdaftar daftar data kartu kks kip blt bpnt sembako beras rumah
    warga keluarga anak orang tua lansia disabilitas dinas kantor sudah lama sampai sekarang
    kapan tahap program penerima pendamping urus tanya info informasi tolong cek status
    """.split()
)


class Rarity:
    """IDF weights from document frequencies (``dedup_terms``), with a prior for domain words.

    ``evidence(shared)`` says how much a set of shared words proves, from 0 (only boilerplate
    in common) to 1 (at least ``enough`` of weight, about five rare words). Identical texts made
    only of "PKH saya belum cair" share little evidence however identical they are.
    """

    def __init__(self, docs: int, df: Mapping[str, int], enough: float = 10.0):
        self.docs = docs
        self.df = df
        self.enough = enough
        self._weights: dict[str, float] = {}
        self._totals: dict[frozenset[str], float] = {}

    def weight(self, term: str) -> float:
        found = self._weights.get(term)
        if found is not None:
            return found
        df = self.df.get(term, 0)
        if term in COMMON_DOMAIN:
            df += (self.docs + 10) // 2 + 1
        found = self._weights[term] = math.log((self.docs + 10) / (df + 1))
        return found

    def total(self, terms: frozenset[str]) -> float:
        found = self._totals.get(terms)
        if found is None:
            found = self._totals[terms] = sum(map(self.weight, terms))
        return found

    def weighted_jaccard(self, a: set[str] | frozenset[str], b: set[str] | frozenset[str]) -> float:
        shared = self.total(frozenset(a & b))
        union = self.total(frozenset(a)) + self.total(frozenset(b)) - shared
        return shared / union if union > 0 else 0.0

    def evidence(self, shared: set[str] | frozenset[str]) -> float:
        return min(1.0, self.total(frozenset(shared)) / self.enough)
