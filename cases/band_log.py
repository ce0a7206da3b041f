"""The band index as ingestion keeps it: a log in the store, an index in each process's memory.

    bands = BandTable(conn)              # a key table (dedup_index.KeyTable) on the store
    bands.members(keys)                  # look-up: in memory, after reading the log's new rows
    bands.add([(record_id, keys), ...])  # one log row, in the caller's transaction

Linking appends each batch's band keys to ``dedup_band_log`` (one row a batch: its record ids
and their keys, int64 arrays) in the batch's transaction, so the index is committed with the
records it indexes, and looks candidates up in a ``MemoryKeyTable`` this process keeps in
step with the log: before a look-up it reads the rows appended since its last (a batch's
look-up finds the batches committed since, by any process), and on first use, after a
restart, the whole log (bench/RESULTS.md measures what that costs). Rows of (key, record)
in the store (``dedup_bands`` until migration 0008) cost a random B-tree insert per key,
20 a record: at a million records most of linking's index cost on both databases.

Why reading ``seq`` onwards misses nothing: rows are appended under the linking lock
(``store.leases.lock_linking``: PostgreSQL's advisory lock; on SQLite, BEGIN IMMEDIATE),
held until commit, so ``seq`` order is commit order: once a row is visible, every row before
it is committed or gone.

A batch's own keys go into this process's index as it appends them, so later look-ups in
the same transaction find them (linking looks up twice in a batch), and no look-up reads
the log while that transaction is open (it holds the lock: nothing newer can be committed).
The next read of the log finds them committed by the number their transaction drew (the
``writer`` column; their arrays are not read back) and skips them; if it does not find them
all, the transaction was rolled back, and the index is read again from the log rather than
keep records the store does not have.
"""

from __future__ import annotations

import secrets
import threading
import weakref
from collections import defaultdict
from collections.abc import Iterable, Sequence
from itertools import chain

import numpy as np
from sqlalchemy import Connection, Engine, RootTransaction, bindparam, case, insert, select

from pengaduan.cases.dedup_index import BUCKET_CAP, MemoryKeyTable
from pengaduan.store.schema import dedup_band_log as log

_INT64 = "<i8"
_NOBODY = -1  # no row has it: a transaction draws from 1 up, migration 0008's rows have 0
_SEQ = bindparam("seq")
_MINE = bindparam("mine")
# Built once: constructing the statement cost more than running it (~0.8 ms a look-up). The
# row already read comes back too, without its arrays, to tell the log is the one read; so do
# this process's rows, whose keys are in its index already (a batch's arrays are ~170 KB).
_THEIRS = (log.c.seq > _SEQ) & (log.c.writer != _MINE)
_NEWER = (select(log.c.seq, log.c.writer, case((_THEIRS, log.c.record_ids)),
                 case((_THEIRS, log.c.band_keys)))
          .where(log.c.seq >= _SEQ).order_by(log.c.seq))
_ALL = select(log.c.seq, log.c.record_ids, log.c.band_keys).order_by(log.c.seq)


class _Mirror:
    """One process's index of one store's log."""

    def __init__(self, cap: int):
        self.cap = cap
        self.table = MemoryKeyTable(cap)
        self.seq = 0  # the last log row in ``table``
        self.writer: RootTransaction | None = None  # the transaction that appended rows since
        self.mine = _NOBODY  # the number it drew, in the ``writer`` column of its rows
        self.pending = 0  # how many rows it appended
        self.lock = threading.Lock()  # collectors of one process may link in threads

    def catch_up(self, conn: Connection) -> None:
        if self.writer is not None and self.writer.is_active:
            return  # it holds the linking lock: nothing newer is committed
        if not self.seq:
            self._load(conn)
            return
        rows = conn.execute(_NEWER, {"seq": self.seq, "mine": self.mine}).all()
        if not rows or rows[0][0] != self.seq:
            self._load(conn)  # the log is not the one read: a store emptied or restored
            return
        committed = 0
        for _, writer, ids, keys in rows[1:]:
            if writer == self.mine:
                committed += 1  # ours: in the table already
                continue
            self.table.add(zip(*(a.tolist() for a in _decode(ids, keys))))
        if committed != self.pending:
            self._load(conn)  # ours were rolled back: the table holds records the store has not
            return
        self.seq = rows[-1][0]
        self._settled()

    def append(self, conn: Connection, ids: bytes, keys: bytes) -> None:
        transaction = conn.get_transaction()
        if self.writer is not transaction:
            self.writer, self.mine, self.pending = transaction, secrets.randbits(62) + 1, 0
        conn.execute(insert(log).values(writer=self.mine, record_ids=ids, band_keys=keys))
        self.pending += 1

    def _settled(self) -> None:
        self.writer, self.mine, self.pending = None, _NOBODY, 0

    def _load(self, conn: Connection) -> None:
        seq = 0
        by_width: dict[int, list[tuple[np.ndarray, np.ndarray]]] = defaultdict(list)
        for seq, ids, keys in conn.execute(_ALL):
            row = _decode(ids, keys)
            by_width[row[1].shape[1]].append(row)
        # By sorting, the rows of the usual number of keys a record; one pair at a time, any
        # others (migration 0008's of a record linked again after its text changed).
        rows = sorted(by_width.values(), key=len, reverse=True)
        self.table = (MemoryKeyTable.of_records(*(np.concatenate(a) for a in zip(*rows[0])), self.cap)
                      if rows else MemoryKeyTable(self.cap))
        for ids, keys in chain.from_iterable(rows[1:]):
            self.table.add(zip(ids.tolist(), keys.tolist()))
        self.seq = seq
        self._settled()


def _decode(ids: bytes, keys: bytes) -> tuple[np.ndarray, np.ndarray]:
    """A log row's record ids, and their keys a row each: every record has as many keys."""
    owners = np.frombuffer(ids, _INT64)
    return owners, np.frombuffer(keys, _INT64).reshape(len(owners), -1)


_MIRRORS: weakref.WeakKeyDictionary[Engine, dict[int, _Mirror]] = weakref.WeakKeyDictionary()
_MIRRORS_LOCK = threading.Lock()


def _mirror(engine: Engine, cap: int) -> _Mirror:
    with _MIRRORS_LOCK:
        return _MIRRORS.setdefault(engine, {}).setdefault(cap, _Mirror(cap))


class BandTable:
    """Band keys → records, for one connection: this process's index of the store's log."""

    def __init__(self, conn: Connection, cap: int = BUCKET_CAP):
        self.conn = conn
        self.cap = cap
        self.mirror = _mirror(conn.engine, cap)

    def members(self, keys: Iterable[int | str]) -> dict[int | str, Sequence[int]]:
        with self.mirror.lock:
            self.mirror.catch_up(self.conn)
            return self.mirror.table.members(keys)

    def add(self, records: Iterable[tuple[int, Iterable[int | str]]]) -> None:
        """Append records with their keys (a record without keys is in no bucket); every
        record has as many keys (``Signature.keys``: ``BANDS`` or none)."""
        rows = [(record_id, list(keys)) for record_id, keys in records]
        rows = [(record_id, keys) for record_id, keys in rows if keys]
        if not rows:
            return
        if len({len(keys) for _, keys in rows}) > 1:
            raise ValueError("records with different numbers of band keys in one log row")
        ids = np.array([record_id for record_id, _ in rows], _INT64).tobytes()
        keys = np.array([keys for _, keys in rows], _INT64).tobytes()
        mirror = self.mirror
        with mirror.lock:
            mirror.catch_up(self.conn)
            mirror.append(self.conn, ids, keys)
            mirror.table.add(rows)
