"""The near-duplicate index: MinHash-LSH band keys and complainant keys.

Public API (the benchmark and the evaluation test use it directly):

    index = LshIndex(MemoryKeyTable())      # or over band_log.BandTable(conn): ingestion's
    index.add(record_id, text)              # normalise → shingles → MinHash → 20 band keys
    index.query(text) -> QueryResult        # records sharing ≥ 1 band, best first; saturated
    index.add_signature / query_signature   # the same from a precomputed ``Signature``
    index.add_many([(record_id, signature), ...])   # a batch: one write, no look-up
    Signature.many(texts)                   # a batch's signatures in a few array operations

A key table maps a key to the records that have it; ``add`` takes records with their keys.
``MemoryKeyTable`` holds it in a dict: what band look-ups read (``band_log`` keeps one per
process in step with the store). ``SqlKeyTable`` writes ``(key, record_id)`` rows into the
caller's transaction: complainant keys (``dedup_identities``), a few a record.

Sub-linear: a look-up is one probe per band key, and reads at most ``BUCKET_CAP`` members of
a bucket: its newest. A band shared by that many records is boilerplate, reported to the
caller as ``saturated`` (template evidence); its newest members are still candidates,
because copies, reposts and the same complaint on another channel come soon after their
original, and linking joins automatically only within ``window_days``. A copy of an old
record is found by the bands it shares that are not boilerplate (bench/RESULTS.md measures
what that costs in recall against an index that enumerates every bucket).

``TermCounts`` keeps the document frequency of content words (``dedup_terms``) for
``similarity.Rarity``.
"""

from __future__ import annotations

import json
import zlib
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import accumulate, chain
from typing import Any, Protocol

import numpy as np
from sqlalchemy import Connection, Table, select, text
from sqlalchemy.dialects import postgresql, sqlite

from pengaduan.cases.similarity import (
    NUM_PERM,
    SHINGLE,
    band_keys,
    content_tokens,
    normalize_for_matching,
    shingle_codes,
)
from pengaduan.store.ingest import planned_per_call
from pengaduan.store.schema import dedup_terms

BUCKET_CAP = 40
_CHUNK = 500

_EMPTY = np.uint64((1 << 64) - 1)  # no crc32 × _MIX reaches it: a bin no shingle fell into
_MIX = np.uint64(0x9E3779B97F4A7C15)  # odd (2^64 / golden ratio): multiplying scrambles the order
_TOP = np.uint64(48)
_BINS = np.arange(NUM_PERM)
_TEXT = np.uint64(8 * SHINGLE)  # a shingle code's bits: its bytes (shingle_codes)
_CODE = np.uint64((1 << (8 * SHINGLE)) - 1)
_NONE = np.zeros(1, dtype=np.int64)
# A candidate's rank in ``collect``: record ids (database integers) below 2^40, a count of
# shared buckets below 2^8 (a record has BANDS keys).
_SHARED, _RARE = 40, 48
_ID, _COUNT = (1 << 40) - 1, 0xFF


def _crc_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.uint32]:
    """crc32 is affine over GF(2): with ``z`` the crc32 of five zero bytes, the crc32 of five
    bytes is ``z`` XOR, for each byte, ``crc32(that byte at its place, zeros elsewhere) ^ z``.
    Tables of those terms for bytes 0–1, 2–3 and 4 make it three look-ups a shingle."""
    zero = zlib.crc32(bytes(5))
    at = [np.array([zlib.crc32(bytes(i) + bytes([v]) + bytes(4 - i)) ^ zero for v in range(256)],
                   dtype=np.uint32) for i in range(5)]
    return ((at[0][:, None] ^ at[1][None, :]).ravel(), (at[2][:, None] ^ at[3][None, :]).ravel(),
            at[4], np.uint32(zero))


_CRC_01, _CRC_23, _CRC_4, _CRC_ZERO = _crc_tables()
_PAIR = np.uint64(0xFFFF)
_BYTE = np.uint64(0xFF)


def gram_hashes(codes: np.ndarray) -> np.ndarray:
    """``zlib.crc32`` of each shingle's bytes, for a whole array at once (``shingle_codes``)."""
    h = (_CRC_01[codes >> np.uint64(24)] ^ _CRC_23[(codes >> np.uint64(8)) & _PAIR]
         ^ _CRC_4[codes & _BYTE] ^ _CRC_ZERO).astype(np.uint64)
    # A text shorter than a shingle is one code with leading zero bytes (every real shingle
    # starts with a printable byte): its crc32 is of its own bytes, not of five.
    for i in np.flatnonzero(codes < np.uint64(1 << 32)).tolist():
        h[i] = zlib.crc32(int(codes[i]).to_bytes(4, "big").lstrip(b"\0"))
    return h


def lsh_keys(codes: np.ndarray, starts: np.ndarray) -> list[tuple[int, ...]]:
    """The ``BANDS`` band keys of each text's shingle codes (``shingle_codes``), none for a
    text without shingles.

    Densified one-permutation MinHash (Li, Owen & Zhang 2012; Shrivastava & Li 2014): each
    shingle is hashed once, ``crc32 % NUM_PERM`` picks its bin and the bin keeps the least
    ``crc32 × _MIX mod 2^64``, whose top 16 bits are the bin's value; an empty bin borrows
    the next non-empty bin's value, mixed with the distance, so two sets still agree on a
    bin with probability ≈ their Jaccard. crc32 because it is stable across processes and
    versions (the keys are stored). Vectorised over a batch: no Python call per shingle or
    per text, and the keys are the ones the per-shingle loop of migration 0004's time made
    (tests/test_dedup_index.py), so stored rows stay valid.
    """
    texts = len(starts) - 1
    counts = np.diff(starts)
    h = gram_hashes(codes)
    owner = np.repeat(np.arange(texts, dtype=np.uint64), counts) * np.uint64(NUM_PERM)
    mins = np.full(texts * NUM_PERM, _EMPTY)
    np.minimum.at(mins, owner + h % np.uint64(NUM_PERM), h * _MIX)
    mins = mins.reshape(texts, NUM_PERM)
    empty = mins == _EMPTY
    if empty.any():
        # Each bin's next non-empty bin, going round: the least filled index at or after it
        # in the row written twice (an empty bin counts as past the end).
        own = np.where(empty, 3 * NUM_PERM, _BINS)
        twice = np.concatenate([own, np.where(empty, 3 * NUM_PERM, _BINS + NUM_PERM)], axis=1)
        ahead = np.minimum.accumulate(twice[:, ::-1], axis=1)[:, ::-1][:, :NUM_PERM]
        mins = (np.take_along_axis(mins, ahead % NUM_PERM, axis=1)
                + (ahead - _BINS).astype(np.uint64) * _MIX)
    keys = band_keys(mins >> _TOP)
    return [tuple(k) if n else () for k, n in zip(keys, counts.tolist())]


@dataclass(frozen=True)
class Signature:
    """Everything matching needs from one text, computed once."""

    normalized: str
    terms: frozenset[str]
    codes: np.ndarray = field(compare=False, repr=False)  # its distinct shingle codes, sorted
    keys: tuple[int, ...] = ()

    def jaccard(self, other: "Signature") -> float:
        """The exact Jaccard similarity of the two texts' shingle sets."""
        return self.jaccards([other])[0]

    def jaccards(self, others: Sequence["Signature"]) -> list[float]:
        """The exact Jaccard similarity with each of ``others``, in a few array operations
        for all of them: a record is compared with a dozen candidates, and a set
        intersection a pair cost several times more than the pair's share of these."""
        mine = self.codes
        sizes = [len(o.codes) for o in others]
        if not len(mine) or not any(sizes):
            return [0.0] * len(others)
        theirs = np.concatenate([o.codes for o in others])
        # Both sorted and distinct: a code of theirs is shared when the code of mine at its
        # place in my order is that code. Array methods, not numpy's functions: their Python
        # wrappers cost as much as the work for a dozen candidates.
        hit = mine.take(mine.searchsorted(theirs), mode="clip") == theirs
        # Hits before each candidate's first code, and after its last.
        counted = np.concatenate((_NONE, hit.cumsum())).take([0, *accumulate(sizes)]).tolist()
        n = len(mine)
        return [(after - before) / (n + size - after + before) if size else 0.0
                for before, after, size in zip(counted, counted[1:], sizes)]

    def __reduce__(self) -> tuple[Any, ...]:
        # The codes as bytes: a small array pickles ~50 us slower than its bytes, and
        # prepared batches (prepare.py) send a thousand signatures at a time.
        return _signature, (self.normalized, self.terms, self.codes.tobytes(), self.keys)

    @classmethod
    def of(cls, text: str, keys: bool = True) -> "Signature":
        """``keys=False``: no MinHash (a candidate only compared with, never looked up)."""
        return cls.many([text], keys)[0]

    @classmethod
    def many(cls, texts: Sequence[str], keys: bool = True) -> list["Signature"]:
        """Signatures of a batch: the shingles and MinHash of all texts in one go (a few
        numpy operations for the batch instead of a few dozen per text)."""
        normalized = [normalize_for_matching(t) for t in texts]
        tokens = [content_tokens(n) for n in normalized]
        codes, starts = shingle_codes(tokens)
        bands = lsh_keys(codes, starts) if keys else [()] * len(texts)
        # Each text's distinct codes, sorted (``jaccards`` needs both): one sort for the batch
        # of the codes tagged with their text's number in the bits above a code's 40.
        owner = np.repeat(np.arange(len(texts), dtype=np.uint64), np.diff(starts))
        tagged = _distinct((owner << _TEXT) | codes)
        cut = np.searchsorted(tagged, np.arange(len(texts) + 1, dtype=np.uint64) << _TEXT).tolist()
        distinct = tagged & _CODE
        # Copies: a slice would keep the whole batch's array alive as long as one signature.
        return [cls(n, frozenset(t), distinct[cut[i] : cut[i + 1]].copy(), bands[i])
                for i, (n, t) in enumerate(zip(normalized, tokens))]


def _distinct(values: np.ndarray) -> np.ndarray:
    """``np.unique(values)`` by a sort: numpy 2.3+'s ``np.unique`` takes a hash-table path for
    integers that measured 30x slower here (0.23 s against 7 ms for a batch's 300 000 codes,
    numpy 2.4.6), half of indexing a batch."""
    ordered = np.sort(values)
    first = np.ones(len(ordered), dtype=bool)
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    return ordered[first]


def _signature(normalized: str, terms: frozenset[str], codes: bytes,
               keys: tuple[int, ...]) -> Signature:
    return Signature(normalized, terms, np.frombuffer(codes, dtype=np.uint64), keys)


@dataclass
class Candidate:
    record_id: int
    bands: int  # how many band keys it shares with the query
    rare: int = 0  # of which in buckets not full: the stronger evidence


@dataclass
class QueryResult:
    candidates: list[Candidate] = field(default_factory=list)
    saturated: int = 0  # band keys whose bucket is full: shared by ≥ BUCKET_CAP records


class FullBucket(list[int]):
    """A bucket that has had ``cap`` or more members: its newest ``cap`` members (its length
    is the cap), all ``collect`` and the cap checks need of it."""


class MemoryKeyTable:
    """key → the newest (highest) ``cap`` record ids in a dict. Most buckets hold one record,
    so a bucket of one is the bare id, not a list: half the memory at a million records
    (bench/RESULTS.md)."""

    def __init__(self, cap: int = BUCKET_CAP) -> None:
        self.cap = cap
        self.rows: dict[int | str, int | list[int]] = {}

    @classmethod
    def of_records(cls, ids: np.ndarray, keys: np.ndarray, cap: int = BUCKET_CAP) -> "MemoryKeyTable":
        """The table of records ``ids[i]`` with integer keys ``keys[i]`` (a row each), built by
        sorting, not an insert a pair: a restart loads a million records' 20 million keys
        (bench/RESULTS.md). A column at a time: band keys carry their band's number, so a
        column's keys are no other column's, and sorting twenty columns of a million costs a
        fraction of sorting twenty million. Each record id is one int object whichever buckets
        hold it, as when records are added one by one (an object a key: twice the memory)."""
        table = cls(cap)
        order = np.argsort(ids, kind="stable")
        ids, keys = ids[order], keys[order]  # by id: a stable sort by key keeps a bucket in id order
        objects = ids.tolist()
        get = objects.__getitem__
        rows = table.rows
        for column in keys.T:
            at = np.argsort(column, kind="stable")
            sorted_keys = column[at]
            new_pair = np.ones(len(at), dtype=bool)
            new_pair[1:] = (sorted_keys[1:] != sorted_keys[:-1]) | (ids[at[1:]] != ids[at[:-1]])
            sorted_keys, at = sorted_keys[new_pair], at[new_pair]
            first = np.ones(len(at), dtype=bool)
            np.not_equal(sorted_keys[1:], sorted_keys[:-1], out=first[1:])
            starts = np.flatnonzero(first)
            ends = np.append(starts[1:], len(at))
            alone = ends - starts == 1
            # A shared bucket keeps its ``cap`` highest ids: the last of its run.
            last = ends[~alone]
            low = np.maximum(starts[~alone], last - cap)
            sizes = last - low
            offsets = np.concatenate((_NONE, np.cumsum(sizes)))
            kept = np.repeat(low - offsets[:-1], sizes) + np.arange(offsets[-1])
            members = list(map(get, at[kept].tolist()))
            size = len(rows)
            rows.update(zip(sorted_keys[starts[alone]].tolist(), map(get, at[starts[alone]].tolist())))
            rows.update(zip(sorted_keys[last - 1].tolist(),
                            [members[b:e] for b, e in zip(offsets[:-1].tolist(), offsets[1:].tolist())]))
            if len(rows) != size + len(starts):
                # A key in two columns (not band keys): one pair at a time after all.
                table = cls(cap)
                table.add(zip(ids.tolist(), keys.tolist()))
                return table
        return table

    def members(self, keys: Iterable[int | str]) -> dict[int | str, Sequence[int]]:
        found: dict[int | str, Sequence[int]] = {}
        for k in set(keys):
            ids = self.rows.get(k)
            if isinstance(ids, int):
                found[k] = [ids]
            elif ids is not None:
                found[k] = FullBucket(ids) if len(ids) >= self.cap else list(ids)
        return found

    def add(self, records: Iterable[tuple[int, Iterable[int | str]]]) -> None:
        """Add records, each with its keys."""
        self.add_pairs((key, record_id) for record_id, keys in records for key in keys)

    def add_pairs(self, pairs: Iterable[tuple[int | str, int]]) -> None:
        """Add (key, record) pairs; a bucket past the cap drops its lowest record id. A bucket
        is kept sorted by id, so its members are the ``cap`` highest ids, newest being highest,
        as ``SqlKeyTable`` reads them; in arrival order that is an append, with no scan of
        the bucket for the id (the scan was over half of the table's work at 300 000 records)."""
        rows = self.rows
        cap = self.cap
        setdefault = rows.setdefault
        for key, record_id in pairs:
            # One dict operation for a new bucket: it is the record's own id back.
            ids = setdefault(key, record_id)
            if ids is record_id:
                continue
            if type(ids) is int:
                if ids != record_id:
                    rows[key] = [ids, record_id] if ids < record_id else [record_id, ids]
                continue
            if record_id > ids[-1]:
                ids.append(record_id)
            else:
                at = bisect_left(ids, record_id)
                if ids[at] == record_id:
                    continue
                ids.insert(at, record_id)
            if len(ids) > cap:
                del ids[0]


class SqlKeyTable:
    """key → record ids in a table of (key, record_id) rows, inside the caller's transaction.

    Every row is kept (an insert never reads or deletes, so processes sharing PostgreSQL
    never wait on each other's buckets); a look-up reads each bucket's newest ``cap`` rows
    only, by its primary-key index (key, record_id) backwards: one bounded index range a
    key, however many records share it."""

    def __init__(self, conn: Connection, table: Table, key_column: str, cap: int = BUCKET_CAP):
        self.conn = conn
        self.table = table
        self.key_name = key_column
        self.cap = cap
        self.postgres = conn.dialect.name == "postgresql"
        newest = (f"SELECT record_id FROM {table.name} WHERE {key_column} = k.key "
                  f"ORDER BY record_id DESC LIMIT {int(cap)}")
        if self.postgres:
            array = f"{table.c[key_column].type.compile(dialect=conn.dialect)}[]"
            self.lookup = text(f"SELECT k.key, ARRAY({newest}) FROM unnest(CAST(:keys AS {array})) "
                               "AS k(key)")
        else:  # the keys as one JSON array: one statement whatever their number
            self.lookup = text(f"SELECT k.key, (SELECT group_concat(record_id) FROM ({newest})) "
                               "FROM (SELECT value AS key FROM json_each(:keys)) AS k")

    def members(self, keys: Iterable[int | str]) -> dict[int | str, Sequence[int]]:
        """The newest ``cap`` members of each non-empty bucket; a full one as a ``FullBucket``."""
        wanted = sorted(set(keys))
        if not wanted:
            return {}
        found: dict[int | str, Sequence[int]] = {}
        param = wanted if self.postgres else json.dumps(wanted)
        for key, members in self.conn.execute(self.lookup, {"keys": param}):
            if not members:
                continue
            if not self.postgres:
                members = list(map(int, members.split(",")))
            found[key] = FullBucket(members) if len(members) >= self.cap else members
        return found

    def add(self, records: Iterable[tuple[int, Iterable[int | str]]]) -> None:
        """Insert a (key, record) row for each key of each record, in key order (two processes
        adding overlapping keys lock rows in one order: no deadlock). Straight to the driver:
        on PostgreSQL one INSERT of two arrays, on SQLite sqlite3's executemany; SQLAlchemy's
        per-row parameter handling cost 2.4x the insert."""
        rows = sorted({(key, record_id) for record_id, keys in records for key in keys})
        if not rows:
            return
        name, key = self.table.name, self.key_name
        if self.postgres:
            array = f"{self.table.c[key].type.compile(dialect=self.conn.dialect)}[]"
            keys, ids = zip(*rows)
            mark = "$" if self.conn.dialect.paramstyle == "numeric_dollar" else None
            params = ("$1", "$2") if mark else ("%s", "%s")
            self.conn.exec_driver_sql(
                f"INSERT INTO {name} ({key}, record_id) SELECT * FROM unnest("
                f"CAST({params[0]} AS {array}), CAST({params[1]} AS INTEGER[])) "
                "ON CONFLICT DO NOTHING",
                (list(keys), _int_array(ids)))
        else:
            self.conn.exec_driver_sql(
                f"INSERT INTO {name} ({key}, record_id) VALUES (?, ?) ON CONFLICT DO NOTHING", rows)


def _int_array(values: Sequence[int]) -> str:
    """Integers as a PostgreSQL array literal, cast by the statement: psycopg adapts a list
    element by element in Python (60 ms for 20 000 integers); this join is C. Text keys
    stay lists: they would need quoting."""
    return "{" + ",".join(map(str, values)) + "}"


class KeyTable(Protocol):
    """What ``LshIndex`` needs of a key table."""

    cap: int

    def members(self, keys: Iterable[int | str]) -> dict[int | str, Sequence[int]]: ...
    def add(self, records: Iterable[tuple[int, Iterable[int | str]]]) -> None: ...


class LshIndex:
    """MinHash-LSH over a key table; see the module docstring."""

    def __init__(self, table: KeyTable, cap: int | None = None):
        """``cap``: when a bucket counts as full; the table's own cap unless told."""
        self.table = table
        self.cap = table.cap if cap is None else cap

    def add(self, record_id: int, text: str) -> Signature:
        signature = Signature.of(text)
        self.add_signature(record_id, signature)
        return signature

    def add_signature(self, record_id: int, signature: Signature) -> None:
        self.add_many([(record_id, signature)])

    def add_many(self, batch: Sequence[tuple[int, Signature]]) -> None:
        """Add records, in arrival order: one write for the batch, no look-up (a full bucket
        keeps its newest members, so nothing about the stored ones decides what is written)."""
        self.table.add([(record_id, signature.keys) for record_id, signature in batch])

    def query(self, text: str) -> QueryResult:
        return self.query_signature(Signature.of(text))

    def query_signature(self, signature: Signature) -> QueryResult:
        return collect(signature.keys, self.table.members(signature.keys), self.cap)


def collect(keys: Iterable[int | str], members: Mapping[int | str, Sequence[int]], cap: int,
            exclude: int | None = None, limit: int | None = None) -> QueryResult:
    """Candidates from looked-up buckets. A full bucket (``cap`` or more members) counts as
    saturated and gives its newest members; a shared bucket that is not full is rarer, so
    stronger, evidence: candidates come most shared non-full buckets first, then most shared
    buckets, then newest. ``limit``: only that many."""
    result = QueryResult()
    full: list[Sequence[int]] = []
    rare_buckets: list[Sequence[int]] = []
    for key in keys:
        bucket = members.get(key)
        if not bucket:
            continue
        if len(bucket) >= cap:
            result.saturated += 1
            full.append(bucket)
        else:
            rare_buckets.append(bucket)
    # Counted in one pass each (Counter's C loop), not one update a bucket.
    rare: Counter[int] = Counter(chain.from_iterable(rare_buckets))
    rare.pop(exclude, None)  # type: ignore[arg-type]
    shared = rare.copy()  # the rare ones first, in rare's order
    shared.update(chain.from_iterable(full))
    shared.pop(exclude, None)  # type: ignore[arg-type]
    if not shared:
        return result
    # Ranked by (rare, shared, id), packed into one int64 each and sorted by numpy: a template
    # record's buckets hold hundreds of ids, and sorting as many tuples cost ~0.3 ms a record.
    rank = np.fromiter(shared.values(), np.int64, len(shared)) << _SHARED
    rank[: len(rare)] |= np.fromiter(rare.values(), np.int64, len(rare)) << _RARE
    rank |= np.fromiter(shared.keys(), np.int64, len(shared))
    rank.sort()
    result.candidates = [Candidate(v & _ID, (v >> _SHARED) & _COUNT, v >> _RARE)
                         for v in rank[::-1][:limit].tolist()]
    return result


class TermCounts:
    """Document frequencies of content words (``dedup_terms``); term "" counts documents."""

    def __init__(self, conn: Connection):
        self.conn = conn

    def load(self, terms: Iterable[str]) -> tuple[int, dict[str, int]]:
        wanted = sorted({t[:64] for t in terms} | {""})
        df: dict[str, int] = {}
        with planned_per_call(self.conn):
            for start in range(0, len(wanted), _CHUNK):
                chunk = wanted[start : start + _CHUNK]
                for term, n in self.conn.execute(
                    select(dedup_terms.c.term, dedup_terms.c.df).where(dedup_terms.c.term.in_(chunk))
                ):
                    df[term] = n
        return df.pop("", 0), df

    def add(self, documents: Sequence[Iterable[str]]) -> None:
        """Count each document's distinct terms once; one upsert, in key order (no deadlock
        between two processes adding overlapping words)."""
        counts: Counter[str] = Counter()
        for terms in documents:
            counts.update({t[:64] for t in terms})
        if not documents:
            return
        counts[""] = len(documents)
        dialect = postgresql if self.conn.dialect.name == "postgresql" else sqlite
        stmt = dialect.insert(dedup_terms)
        stmt = stmt.on_conflict_do_update(
            index_elements=["term"], set_={"df": dedup_terms.c.df + stmt.excluded.df}
        )
        self.conn.execute(stmt, [{"term": t, "df": n} for t, n in sorted(counts.items())])
