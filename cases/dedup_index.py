"""The near-duplicate index: MinHash-LSH band keys and complainant keys, kept in the database.

Public API (the benchmark and the evaluation test use it directly):

    index = LshIndex(SqlKeyTable(conn, dedup_bands, "band_key"))   # or LshIndex(MemoryKeyTable())
    index.add(record_id, text)              # normalise → shingles → MinHash → 20 band keys
    index.query(text) -> list[Candidate]    # records sharing ≥ 1 band, most bands first
    index.add_signature / query_signature   # the same from a precomputed ``Signature``
    index.add_many([(record_id, signature), ...])   # a batch: one look-up, one write

Persistence: ``SqlKeyTable`` writes ``(key, record_id)`` rows into the caller's transaction
(``dedup_bands`` for bands, ``dedup_identities`` for complainant keys), so the index is
committed with the batch that adds the records, survives restarts with no rebuild, and is
shared by every process on one PostgreSQL. ``MemoryKeyTable`` is the same in a dict (tests,
benchmarks, a rebuildable cache).

Sub-linear: a look-up is one indexed probe per band key; a bucket stops taking members at
``BUCKET_CAP`` records: a band that many records share is boilerplate, reported to the caller
as ``saturated`` (template evidence) rather than enumerated, so no query ever reads a
bucket that grows with the store.

``TermCounts`` keeps the document frequency of content words (``dedup_terms``) for
``similarity.Rarity``.
"""

from __future__ import annotations

import zlib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import Connection, Table, bindparam, func, select
from sqlalchemy.dialects import postgresql, sqlite

from pengaduan.cases.similarity import (
    NUM_PERM,
    band_keys,
    content_tokens,
    normalize_for_matching,
    shingles,
)
from pengaduan.store.ingest import planned_per_call
from pengaduan.store.schema import dedup_terms

BUCKET_CAP = 40
_CHUNK = 500

_MASK = (1 << 64) - 1
_EMPTY = 1 << 64  # above every 64-bit value: a bin no shingle fell into
_MIX = 0x9E3779B97F4A7C15  # odd (2^64 / golden ratio): multiplying by it scrambles the order


def lsh_keys(grams: Iterable[str]) -> tuple[int, ...]:
    """The ``BANDS`` band keys of a shingle set (none for an empty set).

    Densified one-permutation MinHash (Li, Owen & Zhang 2012; Shrivastava & Li 2014): each
    shingle is hashed once, ``crc32 % NUM_PERM`` picks its bin and the bin keeps the least
    ``crc32 × _MIX mod 2^64``, whose top 16 bits are the bin's value; an empty bin borrows
    the next non-empty bin's value, mixed with the distance, so two sets still agree on a
    bin with probability ≈ their Jaccard. crc32 because it is C and stable across processes
    (``hash()`` of a str is not): 3× faster than a blake2b per shingle, and the per-shingle
    Python loop is now the whole cost.
    """
    mins = [_EMPTY] * NUM_PERM
    crc = zlib.crc32
    for gram in grams:
        h = crc(gram.encode())
        value = (h * _MIX) & _MASK
        if value < mins[h % NUM_PERM]:
            mins[h % NUM_PERM] = value
    if min(mins) == _EMPTY:
        return ()
    values = []
    for i, value in enumerate(mins):
        j, step = i, 0
        while value == _EMPTY:
            j, step = (j + 1) % NUM_PERM, step + 1
            value = mins[j]
        values.append((((value + step * _MIX) & _MASK) if step else value) >> 48)
    return tuple(band_keys(tuple(values)))


@dataclass(frozen=True)
class Signature:
    """Everything matching needs from one text, computed once."""

    normalized: str
    terms: frozenset[str]
    shingles: frozenset[str]
    keys: tuple[int, ...]

    @classmethod
    def of(cls, text: str, keys: bool = True) -> "Signature":
        """``keys=False``: no MinHash (a candidate only compared with, never looked up)."""
        normalized = normalize_for_matching(text)
        grams = shingles(normalized)
        return cls(
            normalized,
            frozenset(content_tokens(normalized)),
            frozenset(grams),
            lsh_keys(grams) if keys else (),
        )


@dataclass
class Candidate:
    record_id: int
    bands: int  # how many band keys it shares with the query


@dataclass
class QueryResult:
    candidates: list[Candidate] = field(default_factory=list)
    saturated: int = 0  # band keys whose bucket is full: shared by ≥ BUCKET_CAP records


class FullBucket(Sequence[int]):
    """A bucket at the cap, members unread: its size is all a caller gets (iterating it
    yields nothing), which is all ``collect`` and the cap checks use."""

    def __init__(self, size: int):
        self.size = size

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, index):  # type: ignore[no-untyped-def, override]
        raise IndexError(index)


class MemoryKeyTable:
    """key → record ids in a dict: tests, benchmarks, or a cache rebuilt from the SQL table.
    Most buckets hold one record, so a bucket of one is the bare id, not a list: half the
    memory at a million records (bench/RESULTS.md)."""

    def __init__(self) -> None:
        self.rows: dict[int | str, int | list[int]] = {}

    def members(self, keys: Iterable[int | str]) -> dict[int | str, Sequence[int]]:
        found: dict[int | str, Sequence[int]] = {}
        for k in set(keys):
            ids = self.rows.get(k)
            if ids is not None:
                found[k] = [ids] if isinstance(ids, int) else list(ids)
        return found

    def add(self, pairs: Sequence[tuple[int | str, int]]) -> None:
        rows = self.rows
        for key, record_id in pairs:
            ids = rows.get(key)
            if ids is None:
                rows[key] = record_id
            elif isinstance(ids, int):
                if ids != record_id:
                    rows[key] = [ids, record_id]
            elif record_id not in ids:
                ids.append(record_id)


class SqlKeyTable:
    """key → record ids in a table of (key, record_id) rows, inside the caller's transaction."""

    def __init__(self, conn: Connection, table: Table, key_column: str, cap: int = BUCKET_CAP):
        self.conn = conn
        self.table = table
        self.key = table.c[key_column]
        self.key_name = key_column
        self.cap = cap
        self.postgres = conn.dialect.name == "postgresql"
        ids = table.c.record_id
        # One row per bucket: its size and members (an array, or "1,2,3" on SQLite).
        self.lookup = select(
            self.key, func.count(), func.array_agg(ids) if self.postgres else func.group_concat(ids)
        ).where(self.key.in_(bindparam("keys", expanding=True))).group_by(self.key)

    def members(self, keys: Iterable[int | str]) -> dict[int | str, Sequence[int]]:
        """Members of each non-empty bucket; a full one (``cap`` or more) as a ``FullBucket``,
        so a query never turns the rows of a boilerplate bucket into Python objects."""
        found: dict[int | str, Sequence[int]] = {}
        wanted = sorted(set(keys))
        with planned_per_call(self.conn):
            for start in range(0, len(wanted), _CHUNK):
                chunk = wanted[start : start + _CHUNK]
                for key, size, members in self.conn.execute(self.lookup, {"keys": chunk}):
                    if size >= self.cap:
                        found[key] = FullBucket(size)
                    elif self.postgres:
                        found[key] = members
                    else:
                        found[key] = [int(m) for m in members.split(",")]
        return found

    def add(self, pairs: Sequence[tuple[int | str, int]]) -> None:
        """Insert (key, record) rows, in key order (two processes adding overlapping keys
        lock rows in one order: no deadlock). Straight to the driver's executemany: bands are
        20 rows a record, and SQLAlchemy's per-row parameter handling cost 2.4x the insert."""
        rows = sorted(set(pairs))
        if rows:
            self.conn.exec_driver_sql(self._insert(), rows)

    def _insert(self) -> str:
        marks = {"qmark": ("?", "?"), "numeric_dollar": ("$1", "$2")}.get(
            self.conn.dialect.paramstyle, ("%s", "%s"))  # format, pyformat
        return (f"INSERT INTO {self.table.name} ({self.key_name}, record_id) "
                f"VALUES ({marks[0]}, {marks[1]}) ON CONFLICT DO NOTHING")


class LshIndex:
    """MinHash-LSH over a key table; see the module docstring."""

    def __init__(self, table: MemoryKeyTable | SqlKeyTable, cap: int = BUCKET_CAP):
        self.table = table
        self.cap = cap

    def add(self, record_id: int, text: str) -> Signature:
        signature = Signature.of(text)
        self.add_signature(record_id, signature)
        return signature

    def add_signature(self, record_id: int, signature: Signature) -> None:
        self.add_many([(record_id, signature)])

    def add_many(self, batch: Sequence[tuple[int, Signature]]) -> None:
        """Add records to every bucket not yet full: one look-up and one write for the batch,
        and records earlier in the batch count towards the cap like stored ones."""
        members = self.table.members({k for _, s in batch for k in s.keys})
        sizes = {k: len(ids) for k, ids in members.items()}
        pairs = []
        for record_id, signature in batch:
            for k in signature.keys:
                if sizes.get(k, 0) < self.cap:
                    sizes[k] = sizes.get(k, 0) + 1
                    pairs.append((k, record_id))
        self.table.add(pairs)

    def query(self, text: str) -> QueryResult:
        return self.query_signature(Signature.of(text))

    def query_signature(self, signature: Signature) -> QueryResult:
        return collect(signature.keys, self.table.members(signature.keys), self.cap)


def collect(keys: Iterable[int | str], members: Mapping[int | str, Sequence[int]], cap: int,
            exclude: int | None = None, limit: int | None = None) -> QueryResult:
    """Candidates from looked-up buckets: full buckets count as saturated, not as members;
    ``limit``: only that many, most shared bands first (cheaper than all of them sorted)."""
    result = QueryResult()
    shared: Counter[int] = Counter()
    for key in keys:
        bucket = members.get(key, ())
        if len(bucket) >= cap:
            result.saturated += 1
            continue
        shared.update(bucket)  # a list: counted in C, unlike a filtering generator
    shared.pop(exclude, None)  # type: ignore[arg-type]
    result.candidates = [Candidate(r, n) for r, n in shared.most_common(limit)]
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
