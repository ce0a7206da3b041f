"""Who sent a record: the complainant identity signals linking compares.

Public API:

- ``identity_of(content, nik_key) -> Identity`` from a record's stored content (the dict
  ``ComplaintRecord.content()`` makes): phone numbers (E.164), e-mail addresses, NIKs as keyed
  hashes (``pii.nik_hash``; never kept in clear; skipped when no ``[privacy] nik_hash_key`` is
  set), the platform handle (``channel:handle``), the name; from the author fields and from
  the body (``pii.find_pii``).
- ``compare(a, b) -> (state, signals)``: ``SAME`` when a strong identifier is shared,
  ``CONFLICT`` when both sides know an identifier of one kind and none agrees (and nothing is
  shared), ``UNKNOWN`` otherwise; ``signals`` says which, for the link's evidence.
- ``name_similarity(a, b) -> float | None`` (None when either name is unknown/anonymous).
- ``Identity.keys()``: hashed blocking keys for the ``dedup_identities`` table.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from functools import cached_property, lru_cache
from typing import Any

from pengaduan.normalizer.pii import find_pii, nik_hash, normalize_phone

SAME = "same"
CONFLICT = "conflict"
UNKNOWN = "unknown"

# Names that say nothing about who wrote: LAPOR's anonymous marker, masks, placeholders.
_NO_NAME = {"anonim", "anonymous", "[anonim]", "[dirahasiakan]", "[nama disamarkan]", "-", "warga",
            "hamba allah", "admin", "user", "pelapor"}
_HONORIFICS = frozenset("i ni bapak bpk pak ibu bu sdr sdri mas mbak kak dr ir drs hj h st se".split())
_NAME_WORD = re.compile(r"[a-z]+")


@dataclass(frozen=True)
class Identity:
    phones: frozenset[str] = frozenset()
    emails: frozenset[str] = frozenset()
    niks: frozenset[str] = frozenset()  # keyed hashes
    handles: frozenset[str] = frozenset()  # "channel:handle"
    name: str | None = None
    anonymous: bool = False
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def kinds(self) -> dict[str, frozenset[str]]:
        return {"phone": self.phones, "email": self.emails, "nik": self.niks, "handle": self.handles}

    def known(self) -> bool:
        return any(self.kinds().values())

    def keys(self) -> list[str]:
        return list(self._keys)

    @cached_property
    def _keys(self) -> tuple[str, ...]:
        """Blocking keys: blake2b of "kind:value", so the look-up table holds no value in clear."""
        return tuple(sorted(
            hashlib.blake2b(f"{kind}:{value}".encode(), digest_size=12).hexdigest()
            for kind, values in self.kinds().items()
            for value in values
        ))


def identity_of(content: dict[str, Any], nik_key: bytes | None) -> Identity:
    author = content.get("author") or {}
    channel = content.get("channel") or ""
    phones: set[str] = set()
    emails: set[str] = set()
    niks: set[str] = set()
    if author.get("phone"):
        phone = normalize_phone(author["phone"])
        if phone:
            phones.add(phone)
    if author.get("email"):
        emails.add(author["email"].strip().lower())
    document = author.get("identity") or {}
    numbers = [document["number"]] if document.get("number") else []
    text = " ".join(filter(None, [content.get("subject"), content.get("body")]))
    for span in find_pii(text):
        if span.kind == "phone":
            phone = normalize_phone(span.text)
            if phone:
                phones.add(phone)
        elif span.kind == "email":
            emails.add(span.text.lower())
        elif span.kind == "nik":
            numbers.append(span.text)
    if nik_key:
        for number in numbers:
            try:
                niks.add(nik_hash(number, nik_key))
            except ValueError:
                pass
    handles = {f"{channel}:{author['handle'].strip().lower()}"} if author.get("handle") else set()
    anonymous = bool(content.get("anonymous"))
    name = author.get("name")
    if name and (anonymous or name.strip().lower() in _NO_NAME):
        name = None
    return Identity(frozenset(phones), frozenset(emails), frozenset(niks), frozenset(handles),
                    name, anonymous)


def _name_words(name: str) -> list[str]:
    return [w for w in _NAME_WORD.findall(name.lower()) if w not in _HONORIFICS and len(w) > 1]


@lru_cache(maxsize=65536)
def name_similarity(a: str | None, b: str | None) -> float | None:
    """1.0 for the same name, high for one name inside the other ("Budi" / "Budi Santoso"),
    low for different names; None when either is unknown."""
    if not a or not b:
        return None
    wa, wb = _name_words(a), _name_words(b)
    if not wa or not wb:
        return None
    best = 0.0
    for x in wa:
        for y in wb:
            if x == y or (len(x) >= 3 and len(y) >= 3 and (x.startswith(y) or y.startswith(x))):
                best = max(best, 0.9)
            elif x[0] == y[0] or x[-1] == y[-1]:  # no letter in place at either end: unlike
                best = max(best, SequenceMatcher(None, x, y).ratio())
    if set(wa) == set(wb):
        return 1.0
    return best


def compare(a: Identity, b: Identity) -> tuple[str, dict[str, Any]]:
    """SAME / CONFLICT / UNKNOWN, with the signals: kinds shared, kinds in conflict, names."""
    shared: list[str] = []
    differ: list[str] = []
    for kind, values in a.kinds().items():
        other = b.kinds()[kind]
        if values and other:
            (shared if values & other else differ).append(kind)
    signals: dict[str, Any] = {}
    similarity = name_similarity(a.name, b.name)
    if similarity is not None:
        signals["name_similarity"] = round(similarity, 2)
    if shared:
        signals["identity_shared"] = shared
        return SAME, signals
    if differ:
        signals["identity_conflict"] = differ
        return CONFLICT, signals
    return UNKNOWN, signals
