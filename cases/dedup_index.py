"""The near-duplicate index: MinHash-LSH band keys and complainant keys, kept in the database.

Public API (the benchmark and the evaluation test use it directly):

    index = LshIndex(SqlKeyTable(conn, dedup_bands, "band_key"))   # or LshIndex(MemoryKeyTable())
    index.add(record_id, text)              # normalise → shingles → MinHash → 20 band keys
    index.query(text) -> list[Candidate]    # records sharing ≥ 1 band, most bands first
    index.add_signature / query_signature   # the same from a precomputed ``Signature``

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

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import Connection, Table, select
from sqlalchemy.dialects import postgresql, sqlite

from pengaduan.cases.similarity import (
    band_keys,
    content_tokens,
    minhash,
    normalize_for_matching,
    shingles,
)
from pengaduan.store.ingest import insert_ignore, planned_per_call
from pengaduan.store.schema import dedup_terms

BUCKET_CAP = 40
_CHUNK = 500


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
            tuple(band_keys(minhash(grams))) if grams and keys else (),
        )


@dataclass
class Candidate:
    record_id: int
    bands: int  # how many band keys it shares with the query


@dataclass
class QueryResult:
    candidates: list[Candidate] = field(default_factory=list)
    saturated: int = 0  # band keys whose bucket is full: shared by ≥ BUCKET_CAP records


class MemoryKeyTable:
    """key → record ids in a dict: tests, benchmarks, or a cache rebuilt from the SQL table."""

    def __init__(self) -> None:
        self.rows: dict[int | str, list[int]] = defaultdict(list)

    def members(self, keys: Iterable[int | str]) -> dict[int | str, list[int]]:
        return {k: list(self.rows[k]) for k in set(keys) if k in self.rows}

    def add(self, pairs: Sequence[tuple[int | str, int]]) -> None:
        for key, record_id in pairs:
            if record_id not in self.rows[key]:
                self.rows[key].append(record_id)


class SqlKeyTable:
    """key → record ids in a table of (key, record_id) rows, inside the caller's transaction."""

    def __init__(self, conn: Connection, table: Table, key_column: str, cap: int = BUCKET_CAP):
        self.conn = conn
        self.table = table
        self.key = table.c[key_column]
        self.key_name = key_column
        self.cap = cap

    def members(self, keys: Iterable[int | str]) -> dict[int | str, list[int]]:
        found: dict[int | str, list[int]] = defaultdict(list)
        wanted = sorted(set(keys))
        with planned_per_call(self.conn):
            for start in range(0, len(wanted), _CHUNK):
                chunk = wanted[start : start + _CHUNK]
                for key, record_id in self.conn.execute(
                    select(self.key, self.table.c.record_id).where(self.key.in_(chunk))
                ):
                    found[key].append(record_id)
        return found

    def add(self, pairs: Sequence[tuple[int | str, int]]) -> None:
        rows = [{self.key_name: key, "record_id": record_id} for key, record_id in sorted(set(pairs))]
        insert_ignore(self.conn, self.table, rows, [self.key_name, "record_id"])


class LshIndex:
    """MinHash-LSH over a key table; see the module docstring."""

    def __init__(self, table: MemoryKeyTable | SqlKeyTable, cap: int = BUCKET_CAP):
        self.table = table
        self.cap = cap

    def add(self, record_id: int, text: str) -> Signature:
        signature = Signature.of(text)
        self.add_signature(record_id, signature)
        return signature

    def add_signature(self, record_id: int, signature: Signature,
                      known: dict[int | str, list[int]] | None = None) -> None:
        """Add to every bucket not yet full (``known``: members already looked up)."""
        members = known if known is not None else self.table.members(signature.keys)
        self.table.add([(k, record_id) for k in signature.keys
                        if len(members.get(k, ())) < self.cap])

    def query(self, text: str) -> QueryResult:
        return self.query_signature(Signature.of(text))

    def query_signature(self, signature: Signature,
                        known: dict[int | str, list[int]] | None = None) -> QueryResult:
        members = known if known is not None else self.table.members(signature.keys)
        return collect(signature.keys, members, self.cap)


def collect(keys: Iterable[int | str], members: dict[int | str, list[int]], cap: int,
            exclude: int | None = None) -> QueryResult:
    """Candidates from looked-up buckets: full buckets count as saturated, not as members."""
    result = QueryResult()
    shared: Counter[int] = Counter()
    for key in keys:
        bucket = members.get(key, ())
        if len(bucket) >= cap:
            result.saturated += 1
            continue
        shared.update(r for r in bucket if r != exclude)
    result.candidates = [Candidate(r, n) for r, n in shared.most_common()]
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
