"""The band index ingestion uses (cases/band_log.py): a log in the store, read into each
process's memory. On SQLite and PostgreSQL; linking on top of it is tested in
test_linking.py, its speed measured in bench/dedup_index.py."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlalchemy import delete, func, select

from pengaduan.cases.band_log import BandTable
from pengaduan.cases.dedup_index import FullBucket, LshIndex, Signature
from pengaduan.cases.similarity import BANDS
from pengaduan.store.db import Store
from pengaduan.store.schema import dedup_band_log

TEXT = ("Bantuan PKH tahap 3 untuk anak saya yang sekolah di SDN 2 Bebandem belum cair sampai "
        "sekarang, padahal kartu KKS sudah diaktifkan di BRI unit Bebandem bulan Agustus")
RETYPED = ("bantuan pkh tahap 3 utk anak sy yg sekolah di sdn 2 bebandem blm cair smp skrg, pdhl "
           "kartu kks udh diaktifkan di bri unit bebandem bln agustus")
BOILER = "PKH saya belum cair di desa Bebandem"
OTHER = "Jalan rusak di Tenganan sudah tiga bulan"
LAMP = "Lampu penerangan mati di banjar Kaler sejak Galungan"


def _found(store: Store, text: str) -> list[int]:
    with store.transaction() as conn:
        return _found_in(conn, text)


def _found_in(conn, text: str) -> list[int]:  # type: ignore[no-untyped-def]
    return [c.record_id for c in LshIndex(BandTable(conn)).query(text).candidates]


def test_it_finds_a_retyped_text_and_the_newest_of_a_full_bucket(store: Store) -> None:
    with store.transaction() as conn:
        index = LshIndex(BandTable(conn, cap=3))
        index.add_many([(1, Signature.of(TEXT)), (2, Signature.of(OTHER))])
        index.add_many([(n, Signature.of(BOILER)) for n in range(10, 15)])
        index.add_many([(3, Signature.of(""))])  # no shingles: in no bucket, no row
    with store.transaction() as conn:  # the same record again: found once
        LshIndex(BandTable(conn, cap=3)).add_many([(1, Signature.of(TEXT))])
    with store.transaction() as conn:
        table = BandTable(conn, cap=3)
        assert [c.record_id for c in LshIndex(table).query(RETYPED).candidates][:1] == [1]
        keys = Signature.of(BOILER).keys
        members = table.members(keys)
        assert all(isinstance(members[k], FullBucket) and sorted(members[k]) == [12, 13, 14]
                   for k in keys)
        assert table.members([]) == {} and table.members([12345]) == {}
        found = LshIndex(table).query(BOILER)
        assert found.saturated == BANDS and [c.record_id for c in found.candidates] == [14, 13, 12]
        # one row a batch, not one a key
        assert conn.execute(select(func.count()).select_from(dedup_band_log)).scalar() == 3


def test_another_process_finds_what_one_committed_and_a_restart_reads_the_log(store: Store) -> None:
    """Each process (here: each Store, an engine of its own) has its own index of the log;
    what one commits the other's next look-up finds, and a new one starts from the log."""
    other = Store(store.url)
    try:
        assert _found(other, TEXT) == []  # its index is read (empty) before the first add
        with store.transaction() as conn:
            LshIndex(BandTable(conn)).add_many([(1, Signature.of(TEXT))])
        assert _found(other, RETYPED) == [1]
        with other.transaction() as conn:
            LshIndex(BandTable(conn)).add_many([(2, Signature.of(OTHER))])
        assert _found(store, OTHER) == [2]
        assert _found(store, RETYPED) == [1]
    finally:
        other.dispose()
    # A separate Python process: loads the log on its first look-up, then appends.
    code = ("import sys; from pengaduan.store.db import Store; "
            "from pengaduan.cases.band_log import BandTable; "
            "from pengaduan.cases.dedup_index import LshIndex, Signature\n"
            "s = Store(sys.argv[1])\n"
            "with s.transaction() as c:\n"
            "    i = LshIndex(BandTable(c))\n"
            "    print([x.record_id for x in i.query(sys.argv[2]).candidates])\n"
            "    i.add_many([(3, Signature.of(sys.argv[3]))])\n")
    out = subprocess.run([sys.executable, "-c", code, store.url, RETYPED, LAMP],
                         capture_output=True, text=True, env=os.environ.copy())
    assert out.returncode == 0, out.stderr
    assert out.stdout == "[1]\n"
    assert _found(store, LAMP) == [3]


def test_a_look_up_after_an_add_in_one_transaction_finds_it(store: Store) -> None:
    """Linking looks up twice in a batch: the second finds the first's records. Once
    committed, the next look-up finds them in the log and keeps the index it has (reading
    the whole log again each batch would be correct, and as slow as a restart)."""
    with store.transaction() as conn:
        LshIndex(BandTable(conn)).add_many([(1, Signature.of(OTHER))])
    with store.transaction() as conn:
        table = BandTable(conn)
        table.members(Signature.of(TEXT).keys)
        index = table.mirror.table
        LshIndex(table).add_many([(2, Signature.of(TEXT))])
        assert _found_in(conn, RETYPED) == [2]
    assert _found(store, RETYPED) == [2] and _found(store, OTHER) == [1]
    with store.transaction() as conn:
        assert BandTable(conn).mirror.table is index


def test_what_a_rolled_back_transaction_added_is_not_found(store: Store) -> None:
    with store.transaction() as conn:
        LshIndex(BandTable(conn)).add_many([(1, Signature.of(OTHER))])
    with pytest.raises(RuntimeError):
        with store.transaction() as conn:
            LshIndex(BandTable(conn)).add_many([(2, Signature.of(TEXT))])
            assert _found_in(conn, RETYPED) == [2]
            raise RuntimeError("the batch fails after linking")
    # Another process appends first: on SQLite it gets the rolled-back row's seq again.
    _add_elsewhere(store, [(3, LAMP)])
    assert _found(store, RETYPED) == []
    assert _found(store, OTHER) == [1] and _found(store, LAMP) == [3]


def test_a_log_emptied_under_a_running_process_is_read_again(store: Store) -> None:
    with store.transaction() as conn:
        LshIndex(BandTable(conn)).add_many([(1, Signature.of(TEXT))])
    assert _found(store, RETYPED) == [1]
    with store.transaction() as conn:
        conn.execute(delete(dedup_band_log))
    _add_elsewhere(store, [(2, OTHER)])
    _add_elsewhere(store, [(3, LAMP)])
    assert _found(store, RETYPED) == []
    assert _found(store, OTHER) == [2] and _found(store, LAMP) == [3]


def _add_elsewhere(store: Store, records: list[tuple[int, str]]) -> None:
    """Append as another process would: through an engine, so an index, of its own."""
    other = Store(store.url)
    try:
        with other.transaction() as conn:
            LshIndex(BandTable(conn)).add_many([(n, Signature.of(t)) for n, t in records])
    finally:
        other.dispose()


def test_records_of_different_key_counts_are_refused_in_one_row(store: Store) -> None:
    with store.transaction() as conn:
        with pytest.raises(ValueError, match="different numbers of band keys"):
            BandTable(conn).add([(1, [1, 2]), (2, [3])])
