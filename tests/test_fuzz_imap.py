"""Fuzzing what the imap collector makes of a server's FETCH answers, without a server.

The answers are generated as imaplib hands them over (lines, and (text, literal) pairs),
parsed by imapclient's own ``parse_fetch_response`` as ``IMAPClient.fetch`` does, then read
by the collector's ``fetched_items``. They carry odd UIDs, INTERNALDATEs (no zone, year 1,
year 9999, twenty digits, NIL), FLAGS, BODY[] as a literal, a quoted string, NIL or a
number, unsolicited FETCHes for other UIDs, and damage (truncated, unbalanced). Talking to a
real server stays in tests/test_imap.py (Dovecot).

Property: parsing either works or raises what the collector turns into a TransientError with
its sentence (UNREADABLE_ANSWER in collectors/imap.py); then every asked UID the answer gives
a BODY[] for is one item, a record or a quarantine entry with its reason, never an exception.
Run size: tests/fuzzing.py.
"""

from __future__ import annotations

from datetime import datetime

from hypothesis import example, given
from hypothesis import strategies as st
from imapclient.response_parser import parse_fetch_response

from fuzzing import RUNS, fuzz_settings, normalize_or_quarantine, report
from pengaduan.collectors.base import source_id_problem
from pengaduan.collectors.imap import (
    NORMALISE_TIMES,
    UNREADABLE_ANSWER,
    ImapCollector,
    fetched_items,
    select_numbers,
)
from test_fuzz_mail import raw_mails

META = {"mailbox": "dinsos@mail.test", "folder": "INBOX", "uidvalidity": 1_700_000_000}
UIDS = st.integers(1, 6)
DATES = st.sampled_from([
    b'"02-Nov-2026 09:15:05 +0800"', b'"02-Nov-2026 09:15:05 +0800"', b'"17-Jul-1996 02:44:25 -0700"',
    b'"2-Nov-2026 09:15:05 -0000"', b'"02-Nov-2026 09:15:05"',
    b'"01-Jan-0001 00:00:00 +1400"', b'"31-Dec-9999 23:59:59 -1400"', b'"31-Feb-2026 25:61:61 +9999"',
    b'"01-Jan-99999999999999999999 00:00:00 +0000"', b'"yesterday"', b'""', b"NIL", b"12",
])
FLAGS = st.sampled_from([b"()", b"(\\Seen)", b"(\\Seen \\Deleted $Junk)", b"(\\Recent NonJunk $label1)",
                         b"(\\Seen", b"NIL"])
BODIES = st.one_of(
    raw_mails().map(lambda raw: ("literal", raw)),
    st.binary(max_size=80).map(lambda raw: ("literal", raw)),
    st.sampled_from([("text", b"NIL"), ("text", b'"From: a@b.id\r\n\r\nPKH"'), ("text", b"42"),
                     ("text", b'""'), ("text", b"(1 2)"), ("literal", b"")]),
)


@st.composite
def fetch_answer(draw) -> tuple[list[object], list[int]]:
    """(imaplib's untagged FETCH data, the UIDs asked)."""
    tokens: list[list[tuple[str, bytes]]] = []
    for seq in range(1, draw(st.integers(0, 4)) + 1):
        parts: list[list[tuple[str, bytes]]] = []
        uid = draw(st.one_of(*[UIDS.map(str)] * 6, st.sampled_from(["x", "-1", "99999999999999999999", ""])))
        parts.append([("text", b"UID " + uid.encode())])
        if draw(st.booleans()):
            parts.append([("text", b"INTERNALDATE " + draw(DATES))])
        if draw(st.booleans()):
            parts.append([("text", b"FLAGS " + draw(FLAGS))])
        if draw(st.integers(0, 4)):
            kind, body = draw(BODIES)
            parts.append([("text", b"BODY[] "), (kind, body)])
        order = draw(st.permutations(range(len(parts))))
        message = [("text", b"%d (" % seq)]  # imaplib has taken "* " and "FETCH" off
        for n, index in enumerate(order):
            message += ([("text", b" ")] if n else []) + parts[index]
        tokens.append(message + [("text", b")")])
    if tokens and not draw(st.integers(0, 9)):  # damaged: cut short, or a parenthesis missing
        tokens[-1] = tokens[-1][: draw(st.integers(0, len(tokens[-1]) - 1))]
    asked = sorted(set(draw(st.lists(UIDS, min_size=1, max_size=6))))
    return [element for message in tokens for element in imaplib_data(message)], asked


def imaplib_data(tokens: list[tuple[str, bytes]]) -> list[object]:
    """One response as imaplib returns it: text up to a literal's {n} paired with the literal."""
    data: list[object] = []
    text = b""
    for kind, value in tokens:
        if kind == "literal":
            data.append((text + b"{%d}" % len(value), value))
            text = b""
        else:
            text += value
    if text or not data:
        data.append(text)
    return data


def check_answer(data: list[object], asked: list[int]) -> None:
    try:  # as IMAPClient.fetch calls it, with the collector's setting
        response = parse_fetch_response(data, NORMALISE_TIMES, True)
    except UNREADABLE_ANSWER:
        return  # the collector's TransientError: "FETCH of UIDs ... failed (...); will retry"
    items = fetched_items(response, asked, META)
    answered = [uid for uid in asked if b"BODY[]" in (response.get(uid) or {})]
    assert [item.meta["uid"] for item in items] == answered  # none skipped, none doubled
    for item in items:
        assert isinstance(item.payload, bytes) and source_id_problem(item.source_id) is None, item
        received = item.meta.get("received")
        assert received is None or datetime.fromisoformat(received).utcoffset() is not None, received
        if item.error is not None:
            assert item.payload == b"" and "without the message" in item.error, item
        normalize_or_quarantine(ImapCollector, item, "email")


# What broke the collector before, kept as regressions. Each stopped the folder's run with an
# unexpected exception on every poll, or stored a wrong message:
@example(answer=([b'1 (UID 1 INTERNALDATE "31-Dec-9999 23:59:59 -1400")'], [1]))  # OverflowError: normalised
@example(answer=([b'1 (UID 1 INTERNALDATE "01-Jan-99999999999999999999 00:00:00 +0000")'], [1]))  # OverflowError
@example(answer=([b"1 (UID 1 INTERNALDATE 12)"], [1]))  # AttributeError: 'int' has no .decode
@example(answer=([(b'1 (UID 1 INTERNALDATE "02-Nov-2026 09:15:05 +9999" BODY[] {4}', b"x\r\n\r\n"), b")"],
                 [1]))  # ValueError from isoformat: an offset of 99 hours
@example(answer=([b"1 (UID 1 BODY[] NIL)"], [1]))  # TypeError: bytes(None)
@example(answer=([b"1 (UID 1 BODY[] 42)"], [1]))  # bytes(42): stored as 42 NUL bytes
@fuzz_settings(ci_examples=300)
@given(answer=fetch_answer())
def fuzz_fetch(answer: tuple[list[object], list[int]]) -> None:
    RUNS["IMAP FETCH answers"] += 1
    check_answer(*answer)


def test_generated_fetch_answers_give_items_or_a_transient_error(figures) -> None:  # type: ignore[no-untyped-def]
    fuzz_fetch()
    report(figures, "IMAP FETCH answers")


SELECT_VALUES = st.one_of(st.none(), st.integers(-5, 2**64), st.binary(max_size=12),
                          st.text(max_size=12), st.booleans(), st.lists(st.integers(), max_size=2))


@fuzz_settings(ci_examples=200)
@given(status=st.dictionaries(st.sampled_from([b"UIDVALIDITY", b"UIDNEXT", b"EXISTS", b"FLAGS"]),
                              SELECT_VALUES))
@example(status={})  # a server that leaves UIDVALIDITY out of its SELECT answer
@example(status={b"UIDVALIDITY": b"abc", b"UIDNEXT": b"-1"})
def test_a_select_answer_gives_numbers_or_none(status: dict) -> None:
    """What imapclient hands back for SELECT/EXAMINE, however odd: UIDVALIDITY and UIDNEXT are
    numbers ≥ 0 or None (the collector then retries the folder, or searches), never a crash."""
    found = select_numbers(status)
    for key, value in zip((b"UIDVALIDITY", b"UIDNEXT"), found):
        assert value is None or (isinstance(value, int) and value >= 0)
        if isinstance(status.get(key), int) and not isinstance(status.get(key), bool) \
                and status[key] >= 0:
            assert value == status[key]
