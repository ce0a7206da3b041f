"""The name and place evidence linking weighs (cases/names.py, cases/places.py)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from pengaduan.cases import names, places
from pengaduan.cases.names import block_keys, person_of


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
