"""Kind triage of one social-media comment: a complaint, or not (with the reason).

Citizens write under the office's Facebook, Instagram and YouTube posts in formal and informal
Indonesian, a little Balinese and English. The rules are plain weighted patterns (word lists in
normalizer/comment_lexicon.py) so staff can see why a comment was sorted as it was
(``explain``), and the result depends on the text alone: the same text always gets the same
kind and reason, and staff can override it later.

The bias is deliberate: a missed complaint is worse than a false alarm. A comment is set aside
as not a complaint only when a not-complaint rule accounts for it and no grievance is found;
anything else, including text no rule understands, is a complaint.

Decision order (the first that holds names the kind):

1. no letter or digit left once links, mentions, emoji and laughter ("wkwk") are removed →
   ``link_drop`` if there was a link or mention, else ``emoji_only`` (empty and
   punctuation-only comments too);
2. spam score ≥ SPAM_MIN and ≥ the grievance score → ``spam``;
3. links or mentions with at most three other content words and no grievance → ``link_drop``
   (tagging friends counts: a mention is a link to a profile);
4. grievance score ≥ COMPLAINT_MIN → complaint;
5. a question ("?" or a question word) about information — hours, requirements, procedures,
   places, contacts, schedules (INFO_TOPIC) → ``question``;
6. praise or thanks → ``praise``;
7. a greeting or a phatic one-liner ("hadir", "nyimak", "siap min") with at most two other
   content words → ``greeting``;
8. otherwise → complaint.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from pengaduan.normalizer.comment_lexicon import (
    CONTRAST,
    DOUBLE_END_OK,
    FILLER,
    GREETING,
    GRIEVANCE,
    INFO_TOPIC,
    LAUGHTER,
    NEGATIVE_EMOJI,
    PRAISE,
    QUESTION_WORD,
    SLANG,
    SPAM,
    SPAM_MIN,
)
from pengaduan.normalizer.record import Kind

COMPLAINT_MIN = 2
REASONS = frozenset({"praise", "emoji_only", "greeting", "spam", "link_drop", "question"})

_URL = re.compile(
    r"(?:https?://|www\.)\S+"
    r"|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|id|co|net|org|ly|me|io|be|gl|link)\b(?:/\S*)?",
    re.IGNORECASE,
)
_MENTION = re.compile(r"(?<![\w.])@[\w.]+")
_PHONE = re.compile(r"(?:\+?62|\b0)8\d{1,3}[\s.-]?\d{3,4}[\s.-]?\d{3,5}\b")
_CONTRACTION = re.compile(r"\b(\w+?)n['’]t\b")  # "hasn't" → "has not", "can't" → "can not"
_POSSESSIVE = re.compile(r"(?<=[a-z])['’]s\b")  # "neighbour's" → "neighbour"
_REDUPLICATION = re.compile(r"\b([a-z]{2,})2([a-z]*)\b")
_RUN = re.compile(r"([a-z])\1{2,}")
_NON_WORD = re.compile(r"[^a-z0-9]+")
_CONSONANTS = frozenset("bcdfghjklmnpqrstvwxz")


Rules = tuple[tuple[str, int, re.Pattern[str]], ...]


def _compile(rules: tuple[tuple[str, int, str], ...]) -> Rules:
    return tuple((name, weight, re.compile(pattern)) for name, weight, pattern in rules)


_GRIEVANCE = _compile(GRIEVANCE)
_SPAM = _compile(SPAM)
_PRAISE = _compile(PRAISE)
_GREETING = _compile(GREETING)
_CONTRAST = re.compile(CONTRAST)
_QUESTION_WORD = re.compile(QUESTION_WORD)
_INFO_TOPIC = re.compile(INFO_TOPIC)
_LAUGHTER = re.compile(LAUGHTER)


@dataclass(frozen=True)
class Hit:
    group: str  # "grievance", "spam", "praise", "greeting"
    rule: str
    weight: int
    matched: str
    span: tuple[int, int] = (0, 0)

    def __str__(self) -> str:
        return f"{self.group}:{self.rule} +{self.weight} {self.matched!r}"


@dataclass
class _Analysis:
    text: str  # normalised
    links: int = 0
    mentions: int = 0
    negative_emoji: int = 0
    question_mark: bool = False
    hits: list[Hit] = field(default_factory=list)

    def score(self, group: str) -> int:
        return sum(h.weight for h in self.hits if h.group == group)

    def fired(self, group: str) -> bool:
        return any(h.group == group for h in self.hits)

    def leftover(self, *groups: str) -> list[str]:
        """Content tokens that no hit of ``groups`` covers and that are not filler."""
        covered = [h.span for h in self.hits if h.group in groups]
        words = []
        for m in re.finditer(r"\S+", self.text):
            if m.group() in FILLER or any(a <= m.start() < b for a, b in covered):
                continue
            words.append(m.group())
        return words


def normalise(text: str) -> str:
    """Lower case, letters and digits only, repeated letters folded, slang made standard."""
    text = unicodedata.normalize("NFKC", text or "").lower()
    text = _URL.sub(" ", _MENTION.sub(" ", text))
    text = _CONTRACTION.sub(lambda m: {"ca": "can", "wo": "will"}.get(m[1], m[1]) + " not", text)
    text = _POSSESSIVE.sub("", text)
    text = _REDUPLICATION.sub(r"\1 \1\2", text)  # "cair2" → "cair cair", "anak2nya"
    text = _RUN.sub(r"\1", text)  # "belummm" → "belum", "mantappp" → "mantap"
    words: list[str] = []
    for token in _NON_WORD.sub(" ", text).split():
        if token not in SLANG and len(token) >= 4 and token[-1] == token[-2] \
                and token[-1] in _CONSONANTS and token not in DOUBLE_END_OK:
            token = token[:-1]  # "mantapp" → "mantap", "minn" → "min"
        token = SLANG.get(token, token)
        if token and not _LAUGHTER.fullmatch(token):
            words.append(token)
    return " ".join(words)


def _analyse(text: str) -> _Analysis:
    raw = unicodedata.normalize("NFKC", text or "")
    a = _Analysis(
        text=normalise(raw),
        links=len(_URL.findall(raw)),
        mentions=len(_MENTION.findall(raw)),
        negative_emoji=sum(1 for ch in raw if ch in NEGATIVE_EMOJI),
        question_mark="?" in _URL.sub(" ", raw),  # not the "?" of "watch?v="
    )
    for group, rules in (("grievance", _GRIEVANCE), ("spam", _SPAM), ("praise", _PRAISE),
                         ("greeting", _GREETING)):
        for name, weight, pattern in rules:
            for m in pattern.finditer(a.text):
                a.hits.append(Hit(group, name, weight, m.group(), m.span()))
                if group in ("grievance", "spam"):
                    break  # a rule counts once: ten "tolong" are one appeal
    phone = _PHONE.search(raw)
    if phone and re.search(r"\b(?:wa|whatsapp|hub\w*|chat|call)\b", a.text):
        a.hits.append(Hit("spam", "phone_contact", 2, phone.group()))
    if a.links and a.fired("spam"):
        a.hits.append(Hit("spam", "link_in_spam", 1, "link"))
    if a.negative_emoji:
        a.hits.append(Hit("grievance", "negative_emoji", 1, "emoji"))
    contrast = _CONTRAST.search(a.text)
    if contrast and a.fired("praise"):
        a.hits.append(Hit("grievance", "praise_then_but", 2, contrast.group(), contrast.span()))
    return a


def _decide(a: _Analysis) -> tuple[Kind, str | None, str]:
    grievance, spam = a.score("grievance"), a.score("spam")
    if not re.search(r"[a-z0-9]", a.text):
        if a.links or a.mentions:
            return Kind.NOT_COMPLAINT, "link_drop", "only links or mentions"
        return Kind.NOT_COMPLAINT, "emoji_only", "no words: emoji, punctuation or nothing"
    if spam >= SPAM_MIN and spam >= grievance:
        return Kind.NOT_COMPLAINT, "spam", f"spam {spam} >= {SPAM_MIN} and >= grievance {grievance}"
    if (a.links or a.mentions) and grievance == 0 and len(a.leftover()) <= 3:
        return Kind.NOT_COMPLAINT, "link_drop", "links or mentions with at most 3 other words"
    if grievance >= COMPLAINT_MIN:
        return Kind.COMPLAINT, None, f"grievance {grievance} >= {COMPLAINT_MIN}"
    topic = _INFO_TOPIC.search(a.text)
    if topic and (a.question_mark or _QUESTION_WORD.search(a.text)):
        return Kind.NOT_COMPLAINT, "question", (
            f"a question about {topic.group()!r} without grievance ({grievance})")
    if a.fired("praise"):
        return Kind.NOT_COMPLAINT, "praise", f"praise without grievance ({grievance})"
    if a.fired("greeting") and len(a.leftover("greeting")) <= 2:
        return Kind.NOT_COMPLAINT, "greeting", "a greeting with at most 2 other words"
    return Kind.COMPLAINT, None, "default: no not-complaint rule accounts for the text"


def triage_comment(text: str) -> tuple[Kind, str | None]:
    """(Kind.COMPLAINT, None) or (Kind.NOT_COMPLAINT, reason), reason one of ``REASONS``."""
    kind, reason, _ = _decide(_analyse(text))
    return kind, reason


def explain(text: str) -> list[str]:
    """The rules that fired, in order, then the normalised text and the decision."""
    a = _analyse(text)
    kind, reason, why = _decide(a)
    lines = [str(h) for h in a.hits]
    lines.append(f"normalised: {a.text!r}")
    lines.append(f"=> {kind}{f' ({reason})' if reason else ''}: {why}")
    return lines
