"""Where a complaint is about: the desa (villages) and kecamatan of Kabupaten Karangasem a text names.

Public API:

- ``places_of(text) -> Places``: the desa and kecamatan a complaint names ("Desa Bhuana Giri",
  "ds buanagiri", "warga Seraya Barat", "Kec. Abang"), a desa's kecamatan included.
- ``relation(a, b) -> "same" | "differ" | "unknown"``: the same village, two different ones,
  or not enough said to tell.

Why: the same complainant writes the same village on every channel however the rest is
retyped, and two people sending the same words about their own village name different ones;
a place is evidence that word overlap cannot give. The list is the office's own area (BPS
Kabupaten Karangasem: 8 kecamatan, 75 desa and 3 kelurahan); spellings are compared
compacted ("Bhuana Giri" = "buanagiri", "Kertha" = "kerta").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

SAME = "same"
DIFFER = "differ"
UNKNOWN = "unknown"

DESA: dict[str, list[str]] = {
    "Abang": ["Ababi", "Abang", "Bunutan", "Culik", "Datah", "Kertamandala", "Kesimpar",
              "Labasari", "Nawakerti", "Pidpid", "Purwakerti", "Tiyingtali", "Tista", "Tribuana"],
    "Bebandem": ["Bebandem", "Bhuana Giri", "Budakeling", "Bungaya", "Bungaya Kangin", "Jungutan",
                 "Macang", "Sibetan"],
    "Karangasem": ["Bugbug", "Bukit", "Jasri", "Karangasem", "Padangkerta", "Perasi", "Pertima",
                   "Seraya", "Seraya Barat", "Seraya Timur", "Subagan", "Tegallinggah", "Tumbu"],
    "Kubu": ["Ban", "Baturinggit", "Dukuh", "Kubu", "Sukadana", "Tianyar", "Tianyar Barat",
             "Tianyar Tengah", "Tulamben"],
    "Manggis": ["Antiga", "Antiga Kelod", "Gegelang", "Manggis", "Ngis", "Nyuh Tebel", "Padangbai",
                "Pesedahan", "Selumbung", "Sengkidu", "Tenganan", "Ulakan"],
    "Rendang": ["Besakih", "Menanga", "Nongan", "Pempatan", "Pesaban", "Rendang"],
    "Selat": ["Amerta Bhuana", "Duda", "Duda Timur", "Duda Utara", "Muncan", "Peringsari", "Sebudi",
              "Selat"],
    "Sidemen": ["Kertha Buana", "Lokasari", "Sangkan Gunung", "Sidemen", "Sinduwati", "Talibeng",
                "Tangkup", "Telaga Tawang", "Tri Eka Buana", "Wisma Kerta"],
}

# Names that are also ordinary words ("abang" older brother, "duda" widower, "bukit" hill,
# "culik" kidnap, "selat" strait) or the kecamatan/kabupaten itself: a place only after a marker.
_AMBIGUOUS = {"abang", "ban", "bukit", "duda", "kubu", "selat", "seraya", "rendang", "manggis",
              "karangasem", "culik", "dukuh", "sidemen", "bebandem", "ngis", "tumbu"}
_DESA_MARKERS = {"desa", "ds", "kelurahan", "kel", "warga", "di", "dari", "dr", "banjar", "br"}
_KECAMATAN_MARKERS = {"kecamatan", "kec", "kcmtn"}
_SKIP_MARKERS = {"kabupaten", "kab", "kota", "pemkab"}
_WORD = re.compile(r"[a-z]+")


def _compact(name: str) -> str:
    return name.lower().replace(" ", "").replace("bh", "b").replace("th", "t").replace("tiy", "ti")


_PLACES: dict[str, tuple[str, str]] = {  # compact desa name → (desa, kecamatan)
    _compact(desa): (desa, kecamatan) for kecamatan, names in DESA.items() for desa in names
}
_KECAMATAN = {_compact(k): k for k in DESA}
# A text is scanned word by word: only a word that can begin a place name is looked at closer
# (with the words after it, longest name first).
_STARTS: dict[str, list[int]] = {}  # compact first word → word counts of names it begins
for _name in (n.split() for names in DESA.values() for n in names):
    _STARTS.setdefault(_compact(_name[0]), []).append(len(_name))
_STARTS = {first: sorted(set(sizes), reverse=True) for first, sizes in _STARTS.items()}


@dataclass(frozen=True)
class Places:
    desa: frozenset[str] = frozenset()
    kecamatan: frozenset[str] = frozenset()


@lru_cache(maxsize=65536)
def places_of(text: str) -> Places:
    words = _WORD.findall(text.lower())
    # The words compacted in one pass over the text: a word has no space to remove, and none
    # of the replaced pairs can span two words of letters.
    compacted = _WORD.findall(_compact(text.lower().replace(" ", "\0")))
    desa: set[str] = set()
    kecamatan: set[str] = set()
    i = 0
    while i < len(words):
        sizes = _STARTS.get(compacted[i])
        if sizes is None:
            # A place written as one word ("buanagiri", "nyuhtebel") starts no listed name.
            sizes = [1] if compacted[i] in _PLACES else []
        before = words[i - 1] if i else ""
        step = 1
        for size in sizes:
            if i + size > len(words):
                continue
            compact = _compact("".join(words[i : i + size]))
            if before in _KECAMATAN_MARKERS and compact in _KECAMATAN:
                kecamatan.add(_KECAMATAN[compact])
            elif before in _SKIP_MARKERS:
                break
            elif compact in _PLACES and (size > 1 or compact not in _AMBIGUOUS
                                         or before in _DESA_MARKERS):
                name, district = _PLACES[compact]
                desa.add(name)
                kecamatan.add(district)
            else:
                continue
            step = size
            break
        i += step
    return Places(frozenset(desa), frozenset(kecamatan))


def relation(a: Places, b: Places) -> str:
    if a.desa and b.desa:
        return SAME if a.desa & b.desa else DIFFER
    if a.kecamatan and b.kecamatan and not a.kecamatan & b.kecamatan:
        return DIFFER
    return UNKNOWN
