"""The name and place evidence linking weighs (cases/names.py, cases/places.py), and the bound
that lets it skip pairs (cases/scoring.py ``could_matter``)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest

from pengaduan.cases import names, places
from pengaduan.cases.identity import SAME
from pengaduan.cases.link_settings import LinkingSettings
from pengaduan.cases.names import block_keys, person_of
from pengaduan.cases.scoring import (
    NEAR_IDENTICAL,
    could_matter,
    pair_of,
    probe_of,
    score_bound,
    score_pair,
)
from pengaduan.cases.similarity import Rarity, jaccard
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


def test_the_score_bound_holds_and_skipped_pairs_could_not_have_mattered() -> None:
    """``could_matter`` lets linking skip scoring pairs in full. On every pair of nearby records
    of the labelled set, shifted in time so that some are outside the window: ``score_bound``
    is at least the pair's score (template or not); a pair it skips scores below the suggestion
    band, is no near-identical template evidence and shares no identifier. And it must skip
    some, or it saves nothing."""
    rows = sorted(load_set(), key=lambda r: r["received_at"])
    probes = []
    for n, row in enumerate(rows):
        author = row.get("author") or {}
        content = {"channel": row["channel"], "body": row["body"], "author": author,
                   "anonymous": row["channel"] == "lapor" and author.get("name") == "Anonim"}
        when = datetime.fromisoformat(row["received_at"]) + timedelta(days=3 * (n % 5))
        probes.append(probe_of(n, content, b"nik-key", when))
    rarity = Rarity(len(probes), Counter(t for p in probes for t in p.signature.terms))
    settings = LinkingSettings()
    skipped = kept = 0
    for i, new in enumerate(probes):
        for old in probes[max(0, i - 40) : i]:
            chars = jaccard(new.signature.shingles, old.signature.shingles)
            pair = pair_of(new, old)
            bound = score_bound(pair, chars, settings)
            for template in (False, True):
                match = score_pair(new, old, rarity, settings, template)
                assert match.score <= bound + 1e-4, (match.signals, bound)
            if could_matter(pair, chars, settings):
                kept += 1
                continue
            skipped += 1
            assert match.score < settings.suggest_threshold, match.signals
            assert match.text < NEAR_IDENTICAL and match.identity != SAME
    assert skipped > 1000 and kept > 1000, (skipped, kept)
