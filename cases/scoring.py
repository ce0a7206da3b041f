"""One score for "is this record the same complaint as that one", with its evidence.

Public API:

- ``Probe``: what scoring needs of one record (ids, channel, time, ``Identity``, ``Signature``).
- ``probe_of(record_id, content, nik_key, ...)``: a Probe from stored record content.
- ``score_pair(new, old, rarity, settings, template) -> Match`` (score in [0, 1] and the
  signals stored as the link's evidence).
- ``is_template(new, neighbours, settings) -> bool``.

The rules (``../shared/reference/dedup.md`` §6.1):

- identity CONFLICT (both sides know a phone / e-mail / NIK / same-platform handle, none
  shared) → score 0: text similarity alone never merges two different known complainants;
- identity SAME → 0.4 + text score (a retyped text of the same person still joins);
- identity UNKNOWN → the text score, +0.1 for the same name; capped below the auto threshold
  when the names differ or both come through the same channel (reposts there come with a
  handle; two LAPOR reports are two filings), and below the suggestion threshold when the
  text is a template (near-identical for ≥ ``template_people`` distinct people);
- text score = mean of char-5-gram Jaccard and rarity-weighted word Jaccard, times
  0.4 + 0.6 × the rarity evidence of the shared words (boilerplate proves little);
- further apart than ``window_days``: half the score.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pengaduan.cases.dedup_index import Signature
from pengaduan.cases.identity import CONFLICT, SAME, Identity, compare, identity_of
from pengaduan.cases.link_settings import LinkingSettings
from pengaduan.cases.similarity import Rarity, jaccard

NEAR_IDENTICAL = 0.7  # text score at which a neighbour counts towards the template rule


@dataclass
class Probe:
    record_id: int | None
    channel: str
    received_at: datetime
    identity: Identity
    signature: Signature
    case_id: int | None = None
    case_status: str | None = None


@dataclass
class Match:
    score: float
    identity: str
    text: float
    signals: dict[str, Any] = field(default_factory=dict)


def text_of(content: dict[str, Any]) -> str:
    return "\n".join(filter(None, [content.get("subject"), content.get("body")]))


def probe_of(record_id: int | None, content: dict[str, Any], nik_key: bytes | None,
             received_at: datetime, case_id: int | None = None,
             case_status: str | None = None, keys: bool = True) -> Probe:
    """``keys=False`` for a stored candidate: its band keys are not needed."""
    return Probe(record_id, content.get("channel") or "", received_at,
                 identity_of(content, nik_key), Signature.of(text_of(content), keys), case_id,
                 case_status)


def text_score(a: Signature, b: Signature, rarity: Rarity) -> tuple[float, dict[str, Any]]:
    chars = jaccard(a.shingles, b.shingles)  # type: ignore[arg-type]
    shared_terms = a.terms & b.terms
    shared = rarity.total(shared_terms)
    union = rarity.total(a.terms) + rarity.total(b.terms) - shared
    words = shared / union if union > 0 else 0.0
    evidence = min(1.0, shared / rarity.enough)
    score = (chars + words) / 2 * (0.4 + 0.6 * evidence)
    return score, {"char_jaccard": round(chars, 3), "word_jaccard": round(words, 3),
                   "rarity_evidence": round(evidence, 2)}


def person_proxy(probe: Probe) -> str:
    keys = probe.identity.keys()
    if keys:
        return keys[0]
    if probe.identity.name:
        return "name:" + " ".join(probe.identity.name.lower().split())
    return f"record:{probe.record_id if probe.record_id is not None else id(probe)}"


def is_template(new: Probe, near: list[Probe], settings: LinkingSettings) -> bool:
    """A text near-identical for ``template_people`` distinct people is a template."""
    people = {person_proxy(new)} | {person_proxy(p) for p in near}
    return len(people) >= settings.template_people


def score_pair(new: Probe, old: Probe, rarity: Rarity, settings: LinkingSettings,
               template: bool = False,
               text: tuple[float, dict[str, Any]] | None = None) -> Match:
    """``text``: ``text_score`` of the pair when the caller has it already."""
    text, signals = text or text_score(new.signature, old.signature, rarity)
    signals = dict(signals)
    state, id_signals = compare(new.identity, old.identity)
    signals.update(id_signals)
    signals["identity"] = state
    signals["channels"] = [old.channel, new.channel]
    if state == CONFLICT:
        return Match(0.0, state, text, signals)
    below_auto = settings.auto_threshold - 0.01
    below_suggest = settings.suggest_threshold - 0.01
    name = id_signals.get("name_similarity")
    if state == SAME:
        score = min(1.0, 0.4 + text)
        # A shared phone with a different name is a family or a shop's phone; two filings on
        # one channel sharing only a phone / NIK are two filings: staff decide, not us.
        if name is not None and name < 0.5:
            signals["names_differ"] = True
            score = min(score, below_auto)
        if new.channel == old.channel and set(id_signals["identity_shared"]) <= {"phone", "nik"}:
            signals["same_channel"] = True
            score = min(score, below_auto)
    else:
        score = text
        if name is not None and name >= 0.85:
            score = min(1.0, score + 0.1)
        if name is not None and name < 0.5:
            signals["names_differ"] = True
            score = min(score, below_auto)
        if new.channel == old.channel:
            signals["same_channel"] = True
            score = min(score, below_auto)
        if template:
            signals["template"] = True
            score = min(score, below_suggest)
    days = abs((new.received_at - old.received_at).total_seconds()) / 86400
    signals["days_apart"] = round(days, 1)
    if days > settings.window_days:
        signals["outside_window"] = True
        score /= 2
    return Match(round(score, 4), state, text, signals)
