"""Cross-channel duplicate linking (issue 5): normalisation, MinHash-LSH, identity guard,
bands, and the pipeline on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from helpers import ListCollector, ListConfig, make_settings
from pengaduan.cases.dedup_index import LshIndex, MemoryKeyTable, Signature
from pengaduan.cases.identity import CONFLICT, SAME, UNKNOWN, compare, identity_of
from pengaduan.cases.link_settings import LinkingSettings
from pengaduan.cases.scoring import probe_of, score_pair
from pengaduan.cases.similarity import Rarity, normalize_for_matching
from pengaduan.pipeline import Pipeline
from pengaduan.store import links as store_links
from pengaduan.store.db import Store
from pengaduan.store.schema import case_links, case_relations, cases, records

NOW = datetime(2026, 11, 2, 1, 0, tzinfo=timezone.utc)
KEY = b"test-nik-key"

COMPLAINT = (
    "Selamat pagi bapak/ibu, saya Ni Luh Sukerti warga Banjar Dinas Kaler, Desa Bebandem. "
    "Bantuan PKH tahap 3 untuk anak saya yang sekolah di SDN 2 Bebandem belum cair sampai "
    "sekarang, padahal kartu KKS sudah diaktifkan di BRI unit Bebandem bulan Agustus. "
    "Pendamping bilang data saya ganda dengan nama mertua. Mohon dicek. Terima kasih."
)
RETYPED = (
    "slmt siang min, sy ni luh sukerti dr banjar dinas kaler desa bebandem. bantuan pkh tahap 3 "
    "utk anak sy yg sekolah di sdn 2 bebandem blm cair smp skrg, pdhl kartu kks udh diaktifkan "
    "di bri unit bebandem bln agustus. pendamping blg data sy ganda dgn nama mertua. tlg dicek"
)


# --- normalisation, MinHash, LSH ----------------------------------------------------------

def test_informal_spellings_and_greetings_are_normalised() -> None:
    assert normalize_for_matching("Sy blm dpt, gk ada yg bantu dgn ini!!") == \
        "saya belum dapat tidak ada yang bantu dengan ini"
    assert Signature.of("Selamat pagi, PKH saya belum cair. Terima kasih").terms == \
        frozenset({"pkh", "belum", "cair"})
    assert normalize_for_matching("bangeeet anak2 https://x.id/a budi@mail.com") == "banget anak"


def test_lsh_finds_a_retyped_duplicate_and_nothing_for_unrelated_texts() -> None:
    index = LshIndex(MemoryKeyTable())
    index.add(1, COMPLAINT)
    index.add(2, "Jalan rusak di depan pura desa Tenganan sudah setahun, mohon diperbaiki PU.")
    index.add(3, "Lansia di Abang butuh kursi roda, pendaftaran ATENSI ditolak kantor desa.")
    found = [c.record_id for c in index.query(RETYPED).candidates]
    assert found[:1] == [1]
    assert index.query("Pelayanan KTP elektronik di Disdukcapil lambat sekali antre").candidates == []


def test_a_full_bucket_keeps_its_newest_members_and_counts_as_saturated() -> None:
    index = LshIndex(MemoryKeyTable(cap=3))
    for n in range(5):
        index.add(n, "PKH saya belum cair sudah tiga bulan di desa Bebandem")
    result = index.query("PKH saya belum cair sudah tiga bulan di desa Bebandem")
    assert [c.record_id for c in result.candidates] == [4, 3, 2] and result.saturated > 0


# --- identity and scoring -----------------------------------------------------------------

def content(body: str, channel: str = "email", **author) -> dict:
    return {"channel": channel, "body": body, "subject": None, "author": author, "anonymous": False}


def test_identity_same_conflicting_unknown() -> None:
    a = identity_of(content("hubungi 0812-3456-7890", name="Wayan"), KEY)
    b = identity_of(content("x", channel="lapor", phone="+6281234567890"), KEY)
    c = identity_of(content("x", phone="081299998888"), KEY)
    d = identity_of(content("x", name="Ketut"), KEY)
    assert compare(a, b)[0] == SAME
    assert compare(a, c)[0] == CONFLICT
    assert compare(a, d)[0] == UNKNOWN
    nik = identity_of(content("NIK saya 5107014506880001"), KEY)
    assert nik.niks and "5107014506880001" not in next(iter(nik.niks))
    assert identity_of(content("NIK saya 5107014506880001"), None).niks == frozenset()
    # Handles identify on their own platform only: one person is "wayan_s" on Instagram and a
    # number on Facebook.
    ig = identity_of(content("x", channel="instagram", handle="wayan_s"), KEY)
    assert compare(ig, identity_of(content("x", channel="facebook", handle="1234567"), KEY))[0] == UNKNOWN
    assert compare(ig, identity_of(content("x", channel="instagram", handle="made_s"), KEY))[0] == CONFLICT


def test_bands_and_the_identity_guard() -> None:
    settings = LinkingSettings()
    rarity = Rarity(1000, {})
    t = datetime(2026, 11, 2, tzinfo=timezone.utc)
    mail = probe_of(1, content(COMPLAINT, name="Ni Luh Sukerti"), KEY, t)
    fb = probe_of(2, content(RETYPED, channel="facebook", name="Luh Sukerti", handle="99"), KEY, t)
    other = probe_of(3, content(COMPLAINT + " 081299998888", phone="0812 3333 4444"), KEY, t)
    mine = probe_of(4, content(COMPLAINT, phone="0812 3333 4444"), KEY, t)
    assert score_pair(fb, mail, rarity, settings).score >= settings.auto_threshold
    # The same pasted text from a different known phone number never merges.
    assert score_pair(other, probe_of(5, content(COMPLAINT, phone="0813 1111 2222"), KEY, t),
                      rarity, settings).score == 0
    assert score_pair(other, mine, rarity, settings).identity == SAME
    # Boilerplate from two unknown people: rarity keeps it below the automatic band.
    a = probe_of(6, content("PKH saya belum cair", channel="email"), KEY, t)
    b = probe_of(7, content("pkh sy blm cair", channel="facebook"), KEY, t)
    assert score_pair(a, b, Rarity(1000, {"pkh": 400, "cair": 300, "belum": 500}), settings).score \
        < settings.auto_threshold
    # A template (near-identical for many people) is not evidence: no suggestion either.
    anonymous_mail = probe_of(8, content(COMPLAINT), KEY, t)
    anonymous_fb = probe_of(9, content(RETYPED, channel="facebook", handle="98"), KEY, t)
    assert score_pair(anonymous_fb, anonymous_mail, rarity, settings,
                      template=True).score < settings.suggest_threshold
    # ...unless the same named person pasted it on a second door.
    assert score_pair(fb, mail, rarity, settings, template=True).score >= settings.auto_threshold


# --- the pipeline, both backends ----------------------------------------------------------

def run(store: Store, tmp_path: Path, items: list[dict], name: str = "src", **sections):
    settings = make_settings(store.url, tmp_path, **sections)
    collector = ListCollector(name, ListConfig(items=items, batch_size=3))
    return Pipeline(store, settings, clock=lambda: NOW).run(collector)


def case_sets(store: Store) -> list[set[str]]:
    with store.transaction() as conn:
        rows = conn.execute(select(records.c.source_id, case_links.c.case_id)
                            .join(case_links, case_links.c.record_id == records.c.id)).all()
    groups: dict[int, set[str]] = {}
    for source_id, case_id in rows:
        groups.setdefault(case_id, set()).add(source_id)
    return sorted(groups.values(), key=lambda g: sorted(g))


class Channels(ListCollector):
    """ListCollector whose items say their channel and author fields."""

    @staticmethod
    def normalize(item):  # type: ignore[no-untyped-def]
        from pengaduan.normalizer.record import Author, ComplaintRecord, Kind
        data = json.loads(item.payload)
        return ComplaintRecord(
            channel=data.get("channel", "test"), source_id=item.source_id,
            received_at=datetime.fromisoformat(data.get("at", "2026-11-02T02:00:00+00:00")),
            body=data["body"], subject=data.get("subject"), kind=Kind(data.get("kind", "complaint")),
            author=Author(name=data.get("name"), email=data.get("email"), phone=data.get("phone"),
                          handle=data.get("handle")),
            anonymous=data.get("anonymous", False),
        )


def ingest(store: Store, tmp_path: Path, items: list[dict], name: str = "src"):
    settings = make_settings(store.url, tmp_path, privacy={"nik_hash_key": {"env": "PGD_TEST_NIK"}})
    return Pipeline(store, settings, clock=lambda: NOW).run(Channels(name, ListConfig(items=items, batch_size=2)))


@pytest.fixture(autouse=True)
def _nik_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PGD_TEST_NIK", "k3y")


def test_one_person_by_email_lapor_and_facebook_is_one_case(store: Store, tmp_path: Path) -> None:
    items = [
        {"id": "m1", "channel": "email", "body": COMPLAINT + " HP 081234567890",
         "email": "sukerti@example.id", "name": "Ni Luh Sukerti"},
        {"id": "9301187", "channel": "lapor", "body": COMPLAINT, "name": "Ni Luh Sukerti",
         "at": "2026-11-03T02:00:00+00:00"},
        {"id": "fb1", "channel": "facebook", "body": RETYPED + " wa 0812-3456-7890",
         "name": "Luh Sukerti", "handle": "1000123", "at": "2026-11-04T02:00:00+00:00"},
        {"id": "x", "channel": "email", "body": "Jalan rusak di depan pura desa Tenganan.",
         "email": "lain@example.id"},
    ]
    report = ingest(store, tmp_path, items)
    assert report.cases_opened == 2
    assert case_sets(store) == [{"9301187", "fb1", "m1"}, {"x"}]
    with store.transaction() as conn:
        links = conn.execute(select(case_links.c.method, case_links.c.score, case_links.c.evidence)
                             .where(case_links.c.method == "duplicate")).all()
    assert len(links) == 2 and all(score >= 0.8 and ev["matched_record_id"] for _, score, ev in links)


def test_a_campaign_from_ten_known_people_is_ten_cases(store: Store, tmp_path: Path) -> None:
    items = [{"id": f"c{n}", "channel": "facebook" if n % 2 else "email", "body": COMPLAINT,
              "phone": f"08123456{n:04d}", "handle": f"h{n}"} for n in range(10)]
    ingest(store, tmp_path, items)
    assert len(case_sets(store)) == 10


def test_boilerplate_from_two_phones_is_two_cases(store: Store, tmp_path: Path) -> None:
    items = [{"id": "a", "channel": "email", "body": "PKH saya belum cair", "phone": "081211112222"},
             {"id": "b", "channel": "facebook", "body": "PKH saya belum cair", "phone": "081233334444"}]
    ingest(store, tmp_path, items)
    assert case_sets(store) == [{"a"}, {"b"}]
    with store.transaction() as conn:
        assert store_links.suggestions(conn) == []


def test_a_middle_score_is_a_suggestion_then_rejected_never_again(store: Store, tmp_path: Path) -> None:
    # Same text, unknown identity, same channel: capped below automatic, so a suggestion.
    items = [{"id": "a", "body": COMPLAINT}, {"id": "b", "body": RETYPED}]
    ingest(store, tmp_path, items)
    assert case_sets(store) == [{"a"}, {"b"}]
    with store.transaction() as conn:
        (s,) = store_links.suggestions(conn)
        store_links.decide_suggestion(conn, s["id"], store_links.REJECTED, "staff", NOW)
        store_links.add_suggestions(conn, [{"record_id": s["record_id"], "case_id": s["case_id"],
                                            "matched_record_id": None, "score": 0.7, "evidence": {}}], NOW)
        assert store_links.suggestions(conn) == []


def test_archived_case_then_a_new_message_opens_a_case_linked_back(store: Store, tmp_path: Path) -> None:
    ingest(store, tmp_path, [{"id": "a", "channel": "email", "body": COMPLAINT, "phone": "081234567890"}])
    with store.transaction() as conn:
        conn.execute(cases.update().values(status="diarsipkan"))
    ingest(store, tmp_path, [{"id": "b", "channel": "facebook", "body": "PKH anak saya masih belum cair juga",
                              "phone": "0812 3456 7890"}], name="fb")
    assert case_sets(store) == [{"a"}, {"b"}]
    with store.transaction() as conn:
        (rel,) = conn.execute(select(case_relations)).mappings().all()
    assert rel["kind"] == "reopened_from" and rel["case_id"] != rel["related_case_id"]


def test_a_message_citing_a_lapor_tracking_id_is_a_follow_up(store: Store, tmp_path: Path) -> None:
    ingest(store, tmp_path, [
        {"id": "9301187", "channel": "lapor", "body": COMPLAINT},
        {"id": "m2", "channel": "email", "body": "Mohon info perkembangan nomor laporan 9301187, belum ada kabar."},
        {"id": "y1", "channel": "youtube", "body": "min, laporan #9301187 kapan ditindaklanjuti?"},
    ])
    assert case_sets(store) == [{"9301187", "m2", "y1"}]
    with store.transaction() as conn:
        methods = dict(conn.execute(select(records.c.source_id, case_links.c.method)
                                    .join(case_links, case_links.c.record_id == records.c.id)).all())
    assert methods == {"9301187": "new_case", "m2": "follow_up", "y1": "follow_up"}
