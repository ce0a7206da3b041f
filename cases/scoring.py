"""One score for "is this record the same complaint as that one", with its evidence.

Public API:

- ``Probe``: what scoring needs of one record (ids, channel, time, ``Identity``, ``Signature``,
  the places it names).
- ``probe_of(record_id, content, nik_key, ...)``: a Probe from stored record content;
  ``probes_of(sources, nik_key)`` many at once (cheaper a record).
- ``score_pair(new, old, rarity, settings, template) -> Match`` (score in [0, 1] and the
  signals stored as the link's evidence).
- ``person_proxy(probe)``: who a record is from, as far as it says, for the template rule (a
  text near-identical for ``template_people`` distinct people is a template: applied by
  ``dedup._best_matches``, which stops reading texts once it holds).

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

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pengaduan.cases import names, places
from pengaduan.cases.dedup_index import Signature
from pengaduan.cases.identity import CONFLICT, SAME, Identity, compare, identity_of
from pengaduan.cases.link_settings import LinkingSettings
from pengaduan.cases.similarity import Rarity
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
    return probes_of([Source(record_id, content, received_at, case_id, case_status)], nik_key, keys)[0]


@dataclass(frozen=True)
class Source:
    """What a probe is made of: a record's id, stored content and time, and its case if any."""

    record_id: int | None
    content: dict[str, Any]
    received_at: datetime
    case_id: int | None = None
    case_status: str | None = None


def probes_of(sources: Sequence[Source], nik_key: bytes | None, keys: bool = True) -> list[Probe]:
    """Probes of many records: their signatures in one ``Signature.many`` (numpy over the batch)."""
    texts = [text_of(s.content) for s in sources]
    spans = [find_pii(text) for text in texts]
    signatures = Signature.many([matching_text(t, found) for t, found in zip(texts, spans)], keys)
    return [Probe(s.record_id, s.content.get("channel") or "", s.received_at,
                  identity_of(s.content, nik_key, found), signature, s.case_id, s.case_status,
                  places.places_of(text))
            for s, text, found, signature in zip(sources, texts, spans, signatures)]


def text_score(a: Signature, b: Signature, rarity: Rarity,
               chars: float | None = None) -> tuple[float, dict[str, Any]]:
    """``chars``: the shingle Jaccard of the pair when the caller has it already."""
    if chars is None:
        chars = a.jaccard(b)
    shared_terms = a.terms & b.terms
    shared = rarity.total(shared_terms)
    union = rarity.total(a.terms) + rarity.total(b.terms) - shared
    # Clamped: a word every document has gets a weight ≤ 0, which must not push it past 1.
    words = min(1.0, max(0.0, shared / union)) if union > 0 else 0.0
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


@dataclass
class Pair:
    """What a pair's score depends on besides its text: computed first, because it is cheap and
    often says the text cannot matter (``could_matter``)."""

    identity: str  # SAME / CONFLICT / UNKNOWN
    id_signals: dict[str, Any]
    place: str
    same_channel: bool  # both through one channel
    days: float
    channels: list[str]


def pair_of(new: Probe, old: Probe) -> Pair:
    state, id_signals = compare(new.identity, old.identity)
    days = abs((new.received_at - old.received_at).total_seconds()) / 86400
    return Pair(state, id_signals, places.relation(new.places, old.places),
                new.channel == old.channel, days, [old.channel, new.channel])


def _decide(pair: Pair, text: float, evidence: float, settings: LinkingSettings,
            template: bool, signals: dict[str, Any]) -> float:
    """The rules of the module docstring. Non-decreasing in ``text`` and ``evidence`` (and a
    template only lowers), which ``could_matter`` relies on: keep it so."""
    if pair.identity == CONFLICT:
        return 0.0
    below_auto = settings.auto_threshold - 0.01
    below_suggest = settings.suggest_threshold - 0.01
    name = pair.id_signals["names"]
    if pair.identity == SAME:
        score = min(1.0, 0.4 + text)
        # A shared phone with a different name is a family or a shop's phone; two filings on
        # one channel sharing only a phone / NIK are two filings: staff decide, not us.
        shared = pair.id_signals["identity_shared"]
        if name == names.SAME and (text >= 0.1 or "nik" in shared):
            # The same phone / e-mail / NIK and the same name on two doors within the window:
            # one person; the texts share something, or both quote the NIK the complaint is
            # about: the same complaint.
            score = max(score, settings.auto_threshold)
        if name == names.DIFFER or pair.place == places.DIFFER:
            score = min(score, below_auto)
        if pair.same_channel and set(shared) <= {"phone", "nik"}:
            signals["same_channel"] = True
            score = min(score, below_auto)
    else:
        score = text
        if name == names.SAME and pair.place == places.SAME:
            score = min(1.0, max(score + 0.45, settings.auto_threshold if text > 0 else 0.0))
        elif name == names.SAME and pair.place == places.UNKNOWN:
            score = min(1.0, score + 0.3)
            if text >= TOPIC and evidence >= TOPIC_EVIDENCE:
                # Same name, and the texts share rare words (the topic, a month, an amount):
                # the same person's retyped complaint.
                score = max(score, settings.auto_threshold)
        elif pair.place == places.SAME:
            score = min(1.0, score + 0.1)
        if pair.place == places.DIFFER:
            score = min(score, below_suggest)
        if name == names.DIFFER:
            score = min(score, below_auto)
        if pair.same_channel:
            signals["same_channel"] = True
            score = min(score, below_auto)
        if template and name != names.SAME:
            signals["template"] = True
            score = min(score, below_suggest)
    if pair.days > settings.window_days:
        signals["outside_window"] = True
        score /= 2
    return score


def score_bound(pair: Pair, chars: float, settings: LinkingSettings, template: bool = False) -> float:
    """The most a pair whose shingle Jaccard is ``chars`` can score: its text score is at most
    (chars + 1) / 2 (``text_score``: the word Jaccard and the evidence factor are ≤ 1), and
    ``_decide`` is monotone, so the rules at that text bound the score from above. ``chars``
    1.0 bounds a pair whose text is not looked at; ``template``: the new record is known to be
    a template already (a template only lowers)."""
    return _decide(pair, (chars + 1) / 2, 1.0, settings, template, {})


def could_matter(pair: Pair, chars: float, settings: LinkingSettings) -> bool:
    """Can the pair reach the suggestion band, be near-identical (template evidence), or share
    an identifier? False: scoring it in full cannot change what linking decides."""
    return (pair.identity == SAME or (chars + 1) / 2 >= NEAR_IDENTICAL
            or score_bound(pair, chars, settings) >= settings.suggest_threshold)


def score_pair(new: Probe, old: Probe, rarity: Rarity, settings: LinkingSettings,
               template: bool = False,
               text: tuple[float, dict[str, Any]] | None = None,
               pair: Pair | None = None) -> Match:
    """``text``: ``text_score`` of the pair, ``pair``: its ``pair_of``, when the caller has them."""
    text, signals = text or text_score(new.signature, old.signature, rarity)
    pair = pair or pair_of(new, old)
    signals = dict(signals)
    signals.update(pair.id_signals)
    signals["identity"] = pair.identity
    signals["channels"] = pair.channels
    if pair.identity == CONFLICT:
        return Match(0.0, pair.identity, text, signals)
    signals["place"] = pair.place
    score = _decide(pair, text, signals["rarity_evidence"], settings, template, signals)
    signals["days_apart"] = round(pair.days, 1)
    return Match(round(score, 4), pair.identity, text, signals)
