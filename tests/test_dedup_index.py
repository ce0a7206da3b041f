"""The near-duplicate index itself (cases/dedup_index.py): band keys, the bucket cap, the
memory table and the SQL key table on SQLite and PostgreSQL (the band log: test_band_log.py). Linking built on it is tested in test_linking.py;
its speed is measured in bench/dedup_index.py."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import zlib

import numpy as np
from pengaduan.cases.dedup_index import (
    FullBucket,
    LshIndex,
    MemoryKeyTable,
    Signature,
    SqlKeyTable,
    collect,
    gram_hashes,
    lsh_keys,
)
from pengaduan.cases.similarity import BANDS, normalize_for_matching, shingle_codes, shingles
from pengaduan.store.db import Store
from pengaduan.store.schema import dedup_identities

TEXT = ("Bantuan PKH tahap 3 untuk anak saya yang sekolah di SDN 2 Bebandem belum cair sampai "
        "sekarang, padahal kartu KKS sudah diaktifkan di BRI unit Bebandem bulan Agustus")
RETYPED = ("bantuan pkh tahap 3 utk anak sy yg sekolah di sdn 2 bebandem blm cair smp skrg, pdhl "
           "kartu kks udh diaktifkan di bri unit bebandem bln agustus")


def test_band_keys_carry_the_band_number_and_empty_text_has_none() -> None:
    keys = Signature.of(TEXT).keys
    assert len(keys) == BANDS
    assert [k >> 48 for k in keys] == list(range(BANDS))
    assert Signature.of("").keys == () == lsh_keys(*shingle_codes([[]]))[0]
    assert Signature.of(TEXT, keys=False).keys == ()


def test_band_keys_are_the_stored_ones() -> None:
    """The band log holds keys made by earlier versions: the vectorised MinHash must make
    the same ones, or stored records stop being found (the figures: keys of migration 0004's
    per-shingle crc32 loop, for a text, one of one shingle and one shorter than a shingle)."""
    assert Signature.of(TEXT).keys[:3] == (89175630417534, 359077246739471, 789185517459655)
    assert Signature.of("abcde").keys[:2] == (169651142417884, 492190928044854)
    assert Signature.of("PKH").keys[:2] == (197628986357583, 520173066951849)


def test_shingle_codes_spell_the_grams_and_hash_like_zlib() -> None:
    grams = ["bantu", "antua", "ntuan", "tuan ", "uan p", "an pk", "n pkh"]
    codes, starts = shingle_codes([["bantuan", "pkh"], [], ["pkh"], ["dtks"]])
    assert starts.tolist() == [0, 7, 7, 8, 9]
    assert codes[:7].tolist() == [int.from_bytes(g.encode(), "big") for g in grams]
    assert gram_hashes(codes).tolist() == [zlib.crc32(g.encode()) for g in [*grams, "pkh", "dtks"]]
    assert shingles(normalize_for_matching("Bantuan PKH!!")) == frozenset(codes[:7].tolist())


def test_any_text_normalises_to_ascii_shingles() -> None:
    """Shingle codes are the bytes of ASCII text: whatever comes in, only [0-9a-z/&] stays."""
    found = Signature.of("Ñoño 🙏 İstanbul Straße ﬁx ٣ «PKH» ＰＫＨ anak2 tdk\u00a0cair")
    assert found.normalized.isascii() and len(found.keys) == BANDS


def test_a_batch_gets_the_signatures_of_its_texts_one_by_one() -> None:
    texts = [TEXT, "", "PKH", RETYPED, "abcde", "!!"]
    assert Signature.many(texts) == [Signature.of(t) for t in texts]
    assert Signature.many(texts, keys=False) == [Signature.of(t, keys=False) for t in texts]
    for text, signature in zip(texts, Signature.many(texts)):
        assert signature.codes.tolist() == Signature.of(text).codes.tolist() == sorted(
            shingles(normalize_for_matching(text)))


def test_jaccard_is_the_exact_one_of_the_shingle_sets_one_pair_or_many_at_once() -> None:
    """Repeated words (codes repeat in a text) and texts without shingles included."""
    texts = [TEXT, RETYPED, "", "PKH", "pkh pkh pkh belum cair belum cair", "abcde", "!!",
             "PKH belum cair", TEXT + " " + TEXT]
    signatures = Signature.many(texts)
    for a, sa in zip(texts, signatures):
        mine = shingles(normalize_for_matching(a))
        want = [len(mine & shingles(normalize_for_matching(b))) / len(mine | shingles(normalize_for_matching(b)))
                if mine and shingles(normalize_for_matching(b)) else 0.0 for b in texts]
        assert sa.jaccards(signatures) == want
        assert [sa.jaccard(sb) for sb in signatures] == want
        assert sa.jaccards([]) == []
    assert signatures[0].jaccard(signatures[1]) > 0.5 and signatures[0].jaccard(Signature.of(TEXT.upper())) == 1.0


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
    def keys(grams: set[str]) -> set[int]:  # any 5 bytes are a shingle code
        codes = [int.from_bytes(hashlib.blake2b(g.encode(), digest_size=5).digest(), "big")
                 for g in grams]
        return set(lsh_keys(np.array(codes, dtype=np.uint64), np.array([0, len(codes)]))[0])

    def pairs_sharing_a_band(jaccard: float) -> float:
        hits = 0
        for n in range(300):
            common = {f"c{n}-{i}" for i in range(int(200 * jaccard))}
            rest = 200 - len(common)  # |A ∪ B| = 200, |A ∩ B| = 200 * jaccard
            a = common | {f"a{n}-{i}" for i in range(rest // 2)}
            b = common | {f"b{n}-{i}" for i in range(rest - rest // 2)}
            hits += bool(keys(a) & keys(b))
        return hits / 300

    assert pairs_sharing_a_band(0.8) > 0.97
    assert 0.6 < pairs_sharing_a_band(0.5) < 0.995
    assert pairs_sharing_a_band(0.1) < 0.08


def test_a_full_bucket_keeps_its_newest_members_and_counts_as_saturated() -> None:
    """Copies and reposts come soon after their original: a bucket shared by ``cap`` records
    (boilerplate) keeps the newest of them, and a query is told it is full."""
    index = LshIndex(MemoryKeyTable(cap=3), cap=3)
    index.add_many([(n, Signature.of(TEXT)) for n in range(5)])
    index.add_many([(5, Signature.of(TEXT))])
    members = index.table.members(Signature.of(TEXT).keys)
    assert len(members) == BANDS
    assert all(isinstance(ids, FullBucket) and sorted(ids) == [3, 4, 5] for ids in members.values())
    found = index.query(TEXT)
    assert found.saturated == BANDS and [c.record_id for c in found.candidates] == [5, 4, 3]


def test_the_memory_table_keeps_what_the_sql_table_reads_whatever_the_order(store: Store) -> None:
    """Both keep a bucket's highest ``cap`` ids: added in arrival order (an append), late,
    twice, or below a full bucket's lowest."""
    adds = [[("a", 1), ("a", 2), ("b", 2), ("a", 5)], [("a", 3), ("a", 5), ("b", 1), ("b", 2)],
            [("a", 4), ("a", 0), ("c", 9), ("c", 9), ("b", 7), ("b", 3)]]
    memory = MemoryKeyTable(cap=3)
    with store.transaction() as conn:
        sql = SqlKeyTable(conn, dedup_identities, "key", cap=3)
        for pairs in adds:
            memory.add_pairs(pairs)
            sql.add([(record_id, [key]) for key, record_id in pairs])
            assert ({k: sorted(v) for k, v in memory.members("abc").items()}
                    == {k: sorted(v) for k, v in sql.members("abc").items()})
        assert memory.rows == {"a": [3, 4, 5], "b": [2, 3, 7], "c": 9}


def test_a_memory_table_built_from_records_is_the_one_built_pair_by_pair() -> None:
    """``of_records`` (a restart's load) keeps what ``add`` keeps: each bucket's highest
    ``cap`` ids, a bucket of one as the bare id, a record given twice once, whatever the
    records' order; and keys shared by two columns (not band keys) all the same."""
    rng = np.random.default_rng(5)
    ids = rng.permutation(np.repeat(np.arange(400), 2)[:700])  # some records twice
    columns = [rng.integers(0, 300, len(ids)) + (band << 48) for band in range(3)]
    for keys in (np.stack(columns, axis=1), rng.integers(0, 300, (len(ids), 3))):
        one_by_one = MemoryKeyTable(cap=4)
        one_by_one.add(zip(ids.tolist(), keys.tolist()))
        built = MemoryKeyTable.of_records(ids, keys, cap=4)
        assert built.rows == one_by_one.rows
        assert any(isinstance(v, int) for v in built.rows.values())
        assert any(isinstance(v, list) and len(v) == 4 for v in built.rows.values())
    assert MemoryKeyTable.of_records(np.array([3, 3, 1]), np.array([[7], [7], [8]])).rows == {7: 3, 8: 1}


def test_sql_key_table_keys_may_be_strings(store: Store) -> None:
    with store.transaction() as conn:
        table = SqlKeyTable(conn, dedup_identities, "key", cap=2)
        table.add([(1, ["phone:a"]), (2, ["phone:a", "mail:b"]), (3, ["phone:a"])])
        members = table.members(["phone:a", "mail:b", "nik:c"])
        assert sorted(members["phone:a"]) == [2, 3] and isinstance(members["phone:a"], FullBucket)
        assert list(members["mail:b"]) == [2] and "nik:c" not in members


def test_collect_ranks_shared_rare_buckets_first_and_skips_the_record_itself() -> None:
    members = {1: [7, 8], 2: [8, 9], 3: [8, 7], 4: FullBucket([5, 6, 8]), 5: FullBucket([5, 6, 7])}
    found = collect([1, 2, 3, 4, 5, 6], members, cap=3, exclude=9)
    assert [(c.record_id, c.bands, c.rare) for c in found.candidates] == [
        (8, 4, 3), (7, 3, 2), (6, 2, 0), (5, 2, 0)]
    assert found.saturated == 2
    assert [c.record_id for c in collect([1, 2, 3], members, 3, limit=1).candidates] == [8]
