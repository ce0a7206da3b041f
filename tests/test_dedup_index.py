"""The near-duplicate index itself (cases/dedup_index.py): band keys, the bucket cap, and the
SQL key table on SQLite and PostgreSQL. Linking built on it is tested in test_linking.py;
its speed is measured in bench/dedup_index.py."""

from __future__ import annotations

import os
import subprocess
import sys

from pengaduan.cases.dedup_index import (
    FullBucket,
    LshIndex,
    MemoryKeyTable,
    Signature,
    SqlKeyTable,
    collect,
    lsh_keys,
)
from pengaduan.cases.similarity import BANDS
from pengaduan.store.db import Store
from pengaduan.store.schema import dedup_bands

TEXT = ("Bantuan PKH tahap 3 untuk anak saya yang sekolah di SDN 2 Bebandem belum cair sampai "
        "sekarang, padahal kartu KKS sudah diaktifkan di BRI unit Bebandem bulan Agustus")
RETYPED = ("bantuan pkh tahap 3 utk anak sy yg sekolah di sdn 2 bebandem blm cair smp skrg, pdhl "
           "kartu kks udh diaktifkan di bri unit bebandem bln agustus")


def test_band_keys_carry_the_band_number_and_empty_text_has_none() -> None:
    keys = Signature.of(TEXT).keys
    assert len(keys) == BANDS
    assert [k >> 48 for k in keys] == list(range(BANDS))
    assert Signature.of("").keys == () == lsh_keys(set())
    assert Signature.of(TEXT, keys=False).keys == ()


def test_band_keys_are_the_same_in_every_process() -> None:
    """They are stored and compared across processes and restarts: no per-process hash seed."""
    code = ("from pengaduan.cases.dedup_index import Signature; "
            f"print(list(Signature.of({TEXT!r}).keys))")
    seed = "1" if os.environ.get("PYTHONHASHSEED") != "1" else "2"  # not this process's seed
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True, env={**os.environ, "PYTHONHASHSEED": seed}).stdout
    assert other == f"{list(Signature.of(TEXT).keys)}\n"


def test_shared_bands_follow_jaccard() -> None:
    """A pair at Jaccard j shares a band with probability 1 - (1 - j^3)^20: ~all pairs at 0.8,
    about 1 in 50 at 0.1 (similarity.py's S-curve). A broken hash fails one side or the other."""
    def pairs_sharing_a_band(jaccard: float) -> float:
        hits = 0
        for n in range(300):
            common = {f"c{n}-{i}" for i in range(int(200 * jaccard))}
            rest = 200 - len(common)  # |A ∪ B| = 200, |A ∩ B| = 200 * jaccard
            a = common | {f"a{n}-{i}" for i in range(rest // 2)}
            b = common | {f"b{n}-{i}" for i in range(rest - rest // 2)}
            hits += bool(set(lsh_keys(a)) & set(lsh_keys(b)))
        return hits / 300

    assert pairs_sharing_a_band(0.8) > 0.97
    assert 0.6 < pairs_sharing_a_band(0.5) < 0.995
    assert pairs_sharing_a_band(0.1) < 0.08


def test_a_batch_counts_its_own_records_towards_the_cap() -> None:
    index = LshIndex(MemoryKeyTable(), cap=3)
    index.add_many([(n, Signature.of(TEXT)) for n in range(5)])
    members = index.table.members(Signature.of(TEXT).keys)
    assert len(members) == BANDS and all(sorted(ids) == [0, 1, 2] for ids in members.values())
    assert index.query(TEXT).saturated == BANDS and index.query(TEXT).candidates == []


def test_sql_key_table_finds_a_retyped_text_and_reports_full_buckets(store: Store) -> None:
    with store.transaction() as conn:
        index = LshIndex(SqlKeyTable(conn, dedup_bands, "band_key", cap=3), cap=3)
        index.add_many([(1, Signature.of(TEXT)), (2, Signature.of("Jalan rusak di Tenganan"))])
        index.add_many([(n, Signature.of("PKH saya belum cair di desa Bebandem")) for n in
                        range(10, 15)])
    with store.transaction() as conn:
        table = SqlKeyTable(conn, dedup_bands, "band_key", cap=3)
        index = LshIndex(table, cap=3)
        assert [c.record_id for c in index.query(RETYPED).candidates][:1] == [1]
        boiler = Signature.of("PKH saya belum cair di desa Bebandem").keys
        members = table.members(boiler)
        assert all(isinstance(members[k], FullBucket) and len(members[k]) == 3 for k in boiler)
        assert list(members[boiler[0]]) == []
        assert sorted(table.members(Signature.of(TEXT).keys[:1]).popitem()[1]) == [1]
        assert index.query("PKH saya belum cair di desa Bebandem").saturated == BANDS


def test_collect_counts_shared_bands_skips_full_buckets_and_the_record_itself() -> None:
    members = {1: [7, 8], 2: [8, 9], 3: [8, 7], 4: FullBucket(40), 5: [5] * 40}
    found = collect([1, 2, 3, 4, 5, 6], members, cap=40, exclude=9)
    assert [(c.record_id, c.bands) for c in found.candidates] == [(8, 3), (7, 2)]
    assert found.saturated == 2
    assert [c.record_id for c in collect([1, 2, 3], members, 40, limit=1).candidates] == [8]
