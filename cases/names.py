"""Complainants' names as linking evidence, with Balinese naming in mind.

Public API:

- ``person_of(name, handle) -> Person``: the given-name words of a display name ("Ni Wayan
  Suartini" → suartini; "Suartini Official" → suartini), the words of a platform handle
  ("wayan_suartini", "suartinikom_kbu", "dek.juliani"; numeric ids and YouTube channel ids say
  nothing) and the birth-order name, if any.
- ``relation(a, b) -> (state, shared)``: ``"same"`` when a given name is shared (a handle may
  carry it glued to other letters: "hasanahnur" is Nur Hasanah), ``"differ"`` when both
  sides show names and none is shared, or the birth-order names disagree; ``"unknown"`` when
  either side shows no name.

Why birth order: in Bali a first name often says which child one is (Wayan/Putu/Gede/Luh
first, Made/Kadek/Nengah second, Nyoman/Komang third, Ketut fourth); "Ni Kadek Sulastri" and
"Komang Sulastri" are two people, "Made Budiasa" and "Kadek Budiasa" may be one. Handles often
abbreviate it ("…kom", "…kad").
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

SAME = "same"
DIFFER = "differ"
UNKNOWN = "unknown"

# "Luh" (girl) and "Dek" (younger one, a nickname for anyone) say no order, so they are not here.
BIRTH_ORDER = {"wayan": 1, "putu": 1, "gede": 1, "made": 2, "kadek": 2, "nengah": 2,
               "nyoman": 3, "komang": 3, "ketut": 4}
# How handles shorten them.
_ORDER_ABBREVIATIONS = {"way": 1, "put": 1, "ged": 1, "mad": 2, "kad": 2, "nen": 2,
                        "nyo": 3, "kom": 3, "ket": 4, "tut": 4, **BIRTH_ORDER}
# Words of a name that are not a given name: titles, articles, YouTube/Instagram decoration,
# Balinese caste titles shared by many.
_NOT_GIVEN = frozenset("""
    i ni bapak bpk pak ibu bu sdr sdri mas mbak kak dr ir drs hj h st se spd amd
    anak agung gusti ida bagus ayu dewa cokorda jero desak luh dek
    official channel tv vlog real the id kbu bali karangasem ig fb yt shop store
    """.split())
_NO_NAME = {"anonim", "anonymous", "dirahasiakan", "warga", "hamba allah", "admin", "user",
            "pelapor", "nama disamarkan"}
_WORD = re.compile(r"[a-z]+")
_OPAQUE_HANDLE = re.compile(r"\d+|UC[\w-]{22}")  # Facebook app-scoped ids, YouTube channel ids
_MIN_GIVEN = 3


@dataclass(frozen=True)
class Person:
    given: frozenset[str] = frozenset()  # given-name words of the display name
    handle: tuple[str, ...] = ()  # alphabetic parts of a handle, maybe with glued words
    orders: frozenset[int] = frozenset()  # birth-order numbers the name shows

    def __post_init__(self) -> None:
        # Hashed once: ``relation`` is cached by the pair, and linking asks it for every
        # candidate of every record.
        object.__setattr__(self, "_hash", hash((self.given, self.handle, self.orders)))

    def __hash__(self) -> int:
        return self._hash  # type: ignore[attr-defined, no-any-return]

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuilt, not restored: a string's hash differs from one process to the next.
        return _one, (self.given, self.handle, self.orders)

    def known(self) -> bool:
        return bool(self.given or self.handle)


@lru_cache(maxsize=65536)
def person_of(name: str | None, handle: str | None) -> Person:
    given: set[str] = set()
    orders: set[int] = set()
    if name and " ".join(name.lower().split()) not in _NO_NAME:
        for word in _WORD.findall(name.lower()):
            if word in BIRTH_ORDER:
                orders.add(BIRTH_ORDER[word])
            elif word not in _NOT_GIVEN and len(word) >= _MIN_GIVEN:
                given.add(word)
    parts: list[str] = []
    if handle and not _OPAQUE_HANDLE.fullmatch(handle.strip()):
        for word in _WORD.findall(handle.lower()):
            if word in _ORDER_ABBREVIATIONS:
                orders.add(_ORDER_ABBREVIATIONS[word])
            elif word not in _NOT_GIVEN and len(word) >= _MIN_GIVEN:
                parts.append(word)
    return _one(frozenset(given), tuple(parts), frozenset(orders))


@lru_cache(maxsize=65536)
def _one(given: frozenset[str], handle: tuple[str, ...], orders: frozenset[int]) -> Person:
    """One object for equal persons (two spellings of one name, or a person unpickled from
    the prepare worker): ``relation``'s cache then matches a pair by identity, not by the
    dataclass's field-by-field ``__eq__``, which cost ~2% of a large import."""
    return Person(given, handle, orders)


def _glued(word: str, part: str) -> tuple[bool, int | None]:
    """Does handle part carry the given name ``word``, and a birth order glued to it?"""
    if part == word:
        return True, None
    if len(word) >= 4 and part.startswith(word) and len(part) - len(word) <= 3:
        # A glued initial or shortened name: "susilojok" (Joko Susilo), "suartinikom" (Komang).
        return True, _ORDER_ABBREVIATIONS.get(part[len(word):])
    if len(word) >= 3 and part.endswith(word) and len(part) - len(word) >= 4:
        return True, None
    return False, None


@lru_cache(maxsize=65536)
def relation(a: Person, b: Person) -> tuple[str, tuple[str, ...]]:
    """See the module docstring; ``shared``: the given names both show."""
    if not a.known() or not b.known():
        return UNKNOWN, ()
    shared = sorted(a.given & b.given)
    orders_a, orders_b = set(a.orders), set(b.orders)
    for mine, theirs, their_orders in ((a.given, b.handle, orders_b), (b.given, a.handle, orders_a)):
        for word in mine:
            for part in theirs:
                found, order = _glued(word, part)
                if found:
                    shared.append(word)
                    if order:
                        their_orders.add(order)
    shared += [p for p in a.handle if p in b.handle and len(p) >= 4]
    if not shared:
        return DIFFER, ()
    if orders_a and orders_b and not orders_a & orders_b:
        return DIFFER, tuple(sorted(set(shared)))
    return SAME, tuple(sorted(set(shared)))


def block_keys(person: Person, when: datetime, around: bool = False) -> list[str]:
    """Look-up keys for records of the same name sent in the same week (``around``: the weeks
    before and after too, for a look-up): hashed, so the index table holds no name.

    The words: given names, handle parts, and handle parts without a 3-letter tail (what a
    glued birth order usually is). The week keeps a common name's bucket small: the same
    complaint comes through its doors within days.
    """
    words = set(person.given) | set(person.handle)
    words.update(p[:-3] for p in person.handle if len(p) - 3 >= 4)
    week = int(when.timestamp()) // WEEK
    weeks = (week - 1, week, week + 1) if around else (week,)
    return sorted(hashlib.blake2b(f"name:{w}:{n}".encode(), digest_size=12).hexdigest()
                  for w in words for n in weeks)


WEEK = 7 * 86400
