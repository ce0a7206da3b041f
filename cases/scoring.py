"""One score for "is this record the same complaint as that one", with its evidence.

Public API:

- ``Probe``: what scoring needs of one record (ids, channel, time, ``Identity``, ``Signature``,
  the places it names).
- ``probe_of(record_id, content, nik_key, ...)``: a Probe from stored record content.
- ``score_pair(new, old, rarity, settings, template) -> Match`` (score in [0, 1] and the
  signals stored as the link's evidence).
- ``is_template(new, neighbours, settings) -> bool``.

The rules (``../shared/reference/dedup.md`` §6.1, and what the labelled set in
``tests/data/linking_eval.jsonl`` shows about who writes what):

- identity CONFLICT (both sides know a phone / e-mail / NIK / same-platform handle, none
  shared) → score 0: text similarity alone never merges two different known complainants;
- identity SAME → 0.4 + text score (a retyped text of the same person still joins), below
  the auto threshold when the names differ or both came through one channel on a phone/NIK
  alone (two filings: staff decide);
- otherwise the complainant's name (``names.relation``: given names, handles, birth order)
  and the village (``places.relation``) decide with the text:
  - same name, same village: the same complaint however retyped (+0.45 over the text, at
    least the auto threshold when the text shares anything);
  - same name, village unknown: +0.3 (a pasted or lightly edited text joins), and the auto
    threshold when the texts share rare words (``TOPIC``), else a retyped one is a suggestion;
  - a different village: below the suggestion threshold; different names: below auto;
  - no name: the text alone, below auto on one channel, below the suggestion threshold for
    a template (near-identical for ≥ ``template_people`` distinct people);
- text score = mean of char-5-gram Jaccard and rarity-weighted word Jaccard, times
  0.4 + 0.6 × the rarity evidence of the shared words (boilerplate proves little), with
  phone numbers, NIKs and e-mail addresses taken out (they are identity, compared as such);
- further apart than ``window_days``: half the score (the same complaint comes through its
  doors within days; later it is a reminder, for staff to link).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pengaduan.cases import names, places
from pengaduan.cases.dedup_index import Signature
from pengaduan.cases.identity import CONFLICT, SAME, Identity, compare, identity_of
from pengaduan.cases.link_settings import LinkingSettings
from pengaduan.cases.similarity import Rarity, jaccard
from pengaduan.normalizer.pii import PiiSpan, find_pii

NEAR_IDENTICAL = 0.7
# Text score and rarity evidence at which a same-name pair shares its topic (on the labelled
# set: every true same-name pair above, different people of one name below or boilerplate).
TOPIC = 0.12
TOPIC_EVIDENCE = 0.6  # text score at which a neighbour counts towards the template rule


@dataclass
class Probe:
    record_id: int | None
    channel: str
    received_at: datetime
    identity: Identity
    signature: Signature
    case_id: int | None = None
    case_status: str | None = None
    places: places.Places = places.Places()


@dataclass
class Match:
    score: float
    identity: str
    text: float
    signals: dict[str, Any] = field(default_factory=dict)


def text_of(content: dict[str, Any]) -> str:
    return "\n".join(filter(None, [content.get("subject"), content.get("body")]))


_IDENTIFIERS = {"phone", "nik", "email"}


def matching_text(text: str, spans: list[PiiSpan]) -> str:
    """The text without phone numbers, NIKs and e-mail addresses (``spans``: its ``find_pii``):
    one side writing its phone under a pasted text must not make the texts look different."""
    for span in reversed(spans):
        if span.kind in _IDENTIFIERS:
            text = text[: span.start] + " " + text[span.end :]
    return text


def probe_of(record_id: int | None, content: dict[str, Any], nik_key: bytes | None,
             received_at: datetime, case_id: int | None = None,
             case_status: str | None = None, keys: bool = True) -> Probe:
    """``keys=False`` for a stored candidate: its band keys are not needed."""
    text = text_of(content)
    spans = find_pii(text)
    return Probe(record_id, content.get("channel") or "", received_at,
                 identity_of(content, nik_key, spans), Signature.of(matching_text(text, spans), keys),
                 case_id, case_status, places.places_of(text))


def text_score(a: Signature, b: Signature, rarity: Rarity,
               chars: float | None = None) -> tuple[float, dict[str, Any]]:
    """``chars``: the shingle Jaccard of the pair when the caller has it already."""
    if chars is None:
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
    person = probe.identity.person
    if person.known():
        return "name:" + " ".join(sorted(person.given | set(person.handle)))
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
    name = id_signals["names"]
    place = places.relation(new.places, old.places)
    signals["place"] = place
    if state == SAME:
        score = min(1.0, 0.4 + text)
        # A shared phone with a different name is a family or a shop's phone; two filings on
        # one channel sharing only a phone / NIK are two filings: staff decide, not us.
        if name == names.SAME and (text >= 0.1 or "nik" in id_signals["identity_shared"]):
            # The same phone / e-mail / NIK and the same name on two doors within the window:
            # one person; the texts share something, or both quote the NIK the complaint is
            # about: the same complaint.
            score = max(score, settings.auto_threshold)
        if name == names.DIFFER or place == places.DIFFER:
            score = min(score, below_auto)
        if new.channel == old.channel and set(id_signals["identity_shared"]) <= {"phone", "nik"}:
            signals["same_channel"] = True
            score = min(score, below_auto)
    else:
        score = text
        if name == names.SAME and place == places.SAME:
            score = min(1.0, max(score + 0.45, settings.auto_threshold if text > 0 else 0.0))
        elif name == names.SAME and place == places.UNKNOWN:
            score = min(1.0, score + 0.3)
            if text >= TOPIC and signals["rarity_evidence"] >= TOPIC_EVIDENCE:
                # Same name, and the texts share rare words (the topic, a month, an amount):
                # the same person's retyped complaint.
                score = max(score, settings.auto_threshold)
        elif place == places.SAME:
            score = min(1.0, score + 0.1)
        if place == places.DIFFER:
            score = min(score, below_suggest)
        if name == names.DIFFER:
            score = min(score, below_auto)
        if new.channel == old.channel:
            signals["same_channel"] = True
            score = min(score, below_auto)
        if template and name != names.SAME:
            signals["template"] = True
            score = min(score, below_suggest)
    days = abs((new.received_at - old.received_at).total_seconds()) / 86400
    signals["days_apart"] = round(days, 1)
    if days > settings.window_days:
        signals["outside_window"] = True
        score /= 2
    return Match(round(score, 4), state, text, signals)
