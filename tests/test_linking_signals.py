"""The name and place evidence linking weighs (cases/names.py, cases/places.py), the bound
that lets it skip pairs (cases/scoring.py ``could_matter``), and that skipping them changes
no decision (cases/dedup.py ``_best_matches``)."""

from __future__ import annotations

import pickle
from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from pengaduan.cases import names, places
from pengaduan.cases.identity import SAME
from pengaduan.cases.link_settings import LinkingSettings
from pengaduan.cases.names import block_keys, person_of
from pengaduan.cases.dedup import SCREEN, _best_matches
from pengaduan.cases.scoring import (
    NEAR_IDENTICAL,
    Probe,
    could_matter,
    pair_of,
    person_proxy,
    probe_of,
    score_bound,
    score_pair,
    text_score,
)
from pengaduan.cases.similarity import BANDS, Rarity, jaccard
from test_linking_eval import load_set


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        # display names: honorifics, "Official", birth order that agrees or is missing
        (("Ni Wayan Suartini", None), ("Suartini Official", None), names.SAME),
        (("Made Budiasa", None), ("I Kadek Budiasa", None), names.SAME),  # both second-born
        (("Ni Luh Sukerti", None), ("Sukerti", None), names.SAME),
        # handles carry the name, glued to a birth order or an initial
        ((None, "wayan_suartini"), ("Ni Wayan Suartini", None), names.SAME),
        ((None, "hasanahnur_kbu"), ("Nur Hasanah", None), names.SAME),
        ((None, "susilojok_kbu"), ("Joko Susilo", None), names.SAME),
        (("kelen51", "UCd2V2d6PK9PAVoeO1BOvaiF"), ("Maria Goreti Kelen", "138415557472107"), names.SAME),
        # two people: different given names, or birth orders that disagree
        (("Ketut Sukarta", None), ("Nyoman Arimbawa", None), names.DIFFER),
        (("Ni Kadek Suarni", None), ("Ni Nyoman Suarni", None), names.DIFFER),
        ((None, "suartinikom_kbu"), ("Kadek Ayu Suartini", None), names.DIFFER),
        # "maria" is not glued into "marianimad": that is Mariani
        ((None, "marianimad_kbu"), ("Maria Goreti Kelen", None), names.DIFFER),
        # nothing to compare: anonymous, or ids only
        (("Anonim", None), ("Ketut Sukarta", None), names.UNKNOWN),
        ((None, "174070838359510"), ("Ketut Sukarta", None), names.UNKNOWN),
    ],
)
def test_name_relation(a: tuple, b: tuple, expected: str) -> None:
    assert names.relation(person_of(*a), person_of(*b))[0] == expected
    assert names.relation(person_of(*b), person_of(*a))[0] == expected


def test_equal_persons_are_one_object_in_process_and_after_pickling() -> None:
    """``relation`` is cached by the pair: equal persons (two spellings of one name, a person
    from the prepare worker) must hit it by identity. Equal, hashed alike, whatever the way."""
    one, other = person_of("I Wayan Sudarma", None), person_of("wayan  SUDARMA", "")
    assert one is other and pickle.loads(pickle.dumps(one)) is one
    assert person_of("Ni Luh Sari", None) is not one


def test_name_keys_meet_within_a_week_and_hold_no_name() -> None:
    monday = datetime(2026, 11, 2, 9, tzinfo=timezone.utc)
    email = person_of("Nur Hasanah", None)
    instagram = person_of(None, "hasanahnur_kbu")
    stored = set(block_keys(email, monday))
    assert stored & set(block_keys(instagram, monday + timedelta(days=4), around=True))
    assert not stored & set(block_keys(instagram, monday + timedelta(days=30), around=True))
    assert not any("hasanah" in key for key in stored)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("Saya warga Desa Bhuana Giri, Kec. Bebandem", "aku warga buanagiri, rmh kami bocor", places.SAME),
        ("sy penerima BPNT di Seraya Barat", "saya dari Desa Seraya Timur", places.DIFFER),
        ("di agen BRILink Tulamben", "di agen BRILink Jungutan", places.DIFFER),
        # "abang" is an older brother and "duda" a widower unless a marker says it is a place
        ("abang saya duda, tolong dibantu", "Saya warga Desa Culik", places.UNKNOWN),
        ("warga Kecamatan Abang", "Desa Culik, Kecamatan Abang", places.UNKNOWN),
        ("warga Kecamatan Abang", "warga Kecamatan Kubu", places.DIFFER),
        ("Kabupaten Karangasem", "Desa Sibetan", places.UNKNOWN),
    ],
)
def test_place_relation(a: str, b: str, expected: str) -> None:
    assert places.relation(places.places_of(a), places.places_of(b)) == expected


def _labelled_probes() -> tuple[list[Probe], Rarity]:
    """The labelled set as probes in arrival order, shifted in time so that some pairs are
    outside the window; every seventh in an archived case."""
    rows = sorted(load_set(), key=lambda r: r["received_at"])
    probes = []
    for n, row in enumerate(rows):
        author = row.get("author") or {}
        content = {"channel": row["channel"], "body": row["body"], "author": author,
                   "anonymous": row["channel"] == "lapor" and author.get("name") == "Anonim"}
        when = datetime.fromisoformat(row["received_at"]) + timedelta(days=3 * (n % 5))
        status = "diarsipkan" if n % 7 == 3 else "diterima"
        probes.append(probe_of(n, content, b"nik-key", when, case_id=n, case_status=status))
    return probes, Rarity(len(probes), Counter(t for p in probes for t in p.signature.terms))


def test_the_score_bound_holds_and_skipped_pairs_could_not_have_mattered() -> None:
    """``could_matter`` lets linking skip scoring pairs in full. On every pair of nearby records
    of the labelled set: ``score_bound`` is at least the pair's score (template or not, and
    with the text unread, ``chars`` 1.0); a pair it skips scores below the suggestion band, is
    no near-identical template evidence and shares no identifier. And it must skip some, or it
    saves nothing. The exact shingle Jaccard is the one of the two shingle sets."""
    probes, rarity = _labelled_probes()
    settings = LinkingSettings()
    skipped = kept = unread = 0
    for i, new in enumerate(probes):
        mine = frozenset(new.signature.codes.tolist())
        olds = probes[max(0, i - 40) : i]
        for old, chars in zip(olds, new.signature.jaccards([o.signature for o in olds])):
            assert chars == jaccard(mine, frozenset(old.signature.codes.tolist()))
            assert chars == new.signature.jaccard(old.signature)
            pair = pair_of(new, old)
            for template in (False, True):
                match = score_pair(new, old, rarity, settings, template)
                assert match.score <= score_bound(pair, chars, settings, template) + 1e-4
                unread_bound = score_bound(pair, 1.0, settings, template)
                assert match.score <= unread_bound + 1e-4, (match.signals, unread_bound)
                unread += unread_bound < settings.suggest_threshold and pair.identity != SAME
            match = score_pair(new, old, rarity, settings)
            if could_matter(pair, chars, settings):
                kept += 1
                continue
            skipped += 1
            assert match.score < settings.suggest_threshold, match.signals
            assert match.text < NEAR_IDENTICAL and match.identity != SAME
    assert skipped > 1000 and kept > 1000 and unread > 1000, (skipped, kept, unread)


def _every_pair_scored(probe: Probe, pool: list[Probe], saturated: int, rarity: Rarity,
                       settings: LinkingSettings) -> tuple[Any, Any]:
    """What linking decided before it skipped pairs: every candidate's text read and every
    screened pair scored, the template rule over all of them."""
    screened = []
    for other in pool:
        chars = probe.signature.jaccard(other.signature)
        pair = pair_of(probe, other)
        if chars >= SCREEN or pair.identity == SAME or pair.id_signals["names"] == names.SAME:
            screened.append((other, pair, text_score(probe.signature, other.signature, rarity, chars)))
    people = {person_proxy(probe)} | {person_proxy(o) for o, _, t in screened if t[0] >= NEAR_IDENTICAL}
    template = saturated >= BANDS // 2 or len(people) >= settings.template_people
    best_open = best_archived = None
    for other, pair, text in screened:
        match = score_pair(probe, other, rarity, settings, template, text, pair)
        if other.case_status != "diarsipkan":
            if best_open is None or match.score > best_open[0].score:
                best_open = (match, other)
        elif ((match.identity == SAME or match.score >= settings.suggest_threshold)
              and (best_archived is None or match.score > best_archived[0].score)):
            best_archived = (match, other)
    return best_open, best_archived


@pytest.mark.parametrize("saturated", [0, BANDS // 2])
def test_linking_decides_as_if_every_pair_were_scored(saturated: int) -> None:
    """``dedup._best_matches`` reads the text of only the pairs that can change the outcome:
    on the labelled set (each record against the 40 before it, as a template by its buckets
    or not), the open case it would join or suggest, with its score, and the archived case
    it would relate to, are those of scoring every pair."""
    probes, rarity = _labelled_probes()
    settings = LinkingSettings()
    decided = 0
    for i, new in enumerate(probes):
        pool = probes[max(0, i - 40) : i]
        got = _best_matches(new, pool, saturated, rarity, settings)
        want = _every_pair_scored(new, pool, saturated, rarity, settings)
        if want[0] and want[0][0].score >= settings.suggest_threshold:
            decided += 1
            assert got[0] is not None
            assert (got[0][1].record_id, got[0][0].score) == (want[0][1].record_id, want[0][0].score)
            assert got[0][0].signals == want[0][0].signals
        else:
            assert got[0] is None or got[0][0].score < settings.suggest_threshold
        assert ((got[1][1].record_id, got[1][0].score) if got[1] else None) == (
            (want[1][1].record_id, want[1][0].score) if want[1] else None)
    assert decided > 100, decided
