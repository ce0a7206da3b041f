"""Who sent a record: the complainant identity signals linking compares.

Public API:

- ``identity_of(content, nik_key) -> Identity`` from a record's stored content (the dict
  ``ComplaintRecord.content()`` makes): phone numbers (E.164), e-mail addresses, NIKs as keyed
  hashes (``pii.nik_hash``; never kept in clear; skipped when no ``[privacy] nik_hash_key`` is
  set), the platform handle (``channel:handle``), the name; from the author fields and from
  the body (``pii.find_pii``).
- ``compare(a, b) -> (state, signals)``: ``SAME`` when a strong identifier is shared,
  ``CONFLICT`` when both sides know an identifier of one kind (a handle: on the same
  platform) and none agrees (and nothing is shared), ``UNKNOWN`` otherwise; ``signals`` says which, for the link's evidence.
- ``Identity.person``: the name and handle as ``names.Person`` (given names, birth order);
  ``compare`` reports ``names.relation`` of the two as the ``names`` signal.
- ``Identity.keys()``: hashed blocking keys for the ``dedup_identities`` table.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from pengaduan.cases import names
from pengaduan.normalizer.pii import PiiSpan, find_pii, nik_hash, normalize_phone

SAME = "same"
CONFLICT = "conflict"
UNKNOWN = "unknown"

# Names that say nothing about who wrote: LAPOR's anonymous marker, masks, placeholders.
_NO_NAME = {"anonim", "anonymous", "[anonim]", "[dirahasiakan]", "[nama disamarkan]", "-", "warga",
            "hamba allah", "admin", "user", "pelapor"}


@dataclass(frozen=True)
class Identity:
    phones: frozenset[str] = frozenset()
    emails: frozenset[str] = frozenset()
    niks: frozenset[str] = frozenset()  # keyed hashes
    handles: frozenset[str] = frozenset()  # "channel:handle"
    name: str | None = None
    anonymous: bool = False
    person: names.Person = names.Person()
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def kinds(self) -> dict[str, frozenset[str]]:
        return {"phone": self.phones, "email": self.emails, "nik": self.niks, "handle": self.handles}

    def known(self) -> bool:
        return self._known

    @cached_property
    def _known(self) -> bool:
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


def identity_of(content: dict[str, Any], nik_key: bytes | None,
                spans: list[PiiSpan] | None = None) -> Identity:
    """``spans``: ``find_pii`` of the subject and body when the caller has them."""
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
    for span in find_pii(text) if spans is None else spans:
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
                    name, anonymous, names.person_of(name, author.get("handle")))


def compare(a: Identity, b: Identity) -> tuple[str, dict[str, Any]]:
    """SAME / CONFLICT / UNKNOWN, with the signals: kinds shared, kinds in conflict, names."""
    signals: dict[str, Any] = {"names": names.relation(a.person, b.person)[0]}
    if not (a.known() and b.known()):
        return UNKNOWN, signals
    shared: list[str] = []
    differ: list[str] = []
    theirs = b.kinds()
    for kind, values in a.kinds().items():
        other = theirs[kind]
        if not values or not other:
            continue
        if kind == "handle":
            # A handle identifies someone on its own platform only: the same person has
            # unrelated handles on Facebook, Instagram and YouTube.
            platforms = {h.split(":", 1)[0] for h in values} & {h.split(":", 1)[0] for h in other}
            values = frozenset(h for h in values if h.split(":", 1)[0] in platforms)
            other = frozenset(h for h in other if h.split(":", 1)[0] in platforms)
        if values and other:
            (shared if values & other else differ).append(kind)
    if shared:
        signals["identity_shared"] = shared
        return SAME, signals
    if differ:
        signals["identity_conflict"] = differ
        return CONFLICT, signals
    return UNKNOWN, signals
