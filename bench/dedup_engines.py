"""The indexes the dedup benchmark compares, each behind one small interface, run one per
process by ``dedup_index.py --engine NAME`` so their memory is measured apart.

An engine: ``add(batch)`` indexes records, ``query(text)`` returns candidate record ids,
best first when it ranks them, ``rank(text, ids)`` puts them in its order of preference (not
timed: what a caller with a candidate budget would keep first), ``restart()`` says what a
restart costs (seconds, how), ``close()``.
"""

from __future__ import annotations

import pickle
import time
from collections import Counter
from collections.abc import Sequence
from typing import Protocol

from sqlalchemy import Connection

from dedup_records import Record
from pengaduan.cases.band_log import BandTable
from pengaduan.cases.dedup_index import BUCKET_CAP, LshIndex, MemoryKeyTable, Signature
from pengaduan.cases.similarity import BANDS, NUM_PERM, ROWS, SHINGLE, content_tokens, normalize_for_matching
from pengaduan.store.db import Store


class Engine(Protocol):
    def add(self, batch: Sequence[Record]) -> None: ...
    def query(self, text: str, exclude: int) -> list[int]: ...
    def rank(self, text: str, ids: list[int]) -> list[int]: ...
    def restart(self) -> tuple[float, str]: ...
    def close(self) -> None: ...


def _pickle_round_trip(obj: object) -> tuple[object, float, str]:
    """What "persisted by pickling" costs at start-up: loading the pickle (saving is not timed)."""
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    started = time.perf_counter()
    loaded = pickle.loads(data)
    return loaded, time.perf_counter() - started, f"pickle load, {len(data) / 1e6:.0f} MB"


class OursMemory:
    """``LshIndex`` over ``MemoryKeyTable``: the index with no database."""

    def __init__(self, url: str | None = None, cap: int = BUCKET_CAP):
        self.index = LshIndex(MemoryKeyTable(cap))

    def add(self, batch: Sequence[Record]) -> None:
        self.index.add_many(list(zip([r.id for r in batch], Signature.many([r.text for r in batch]))))

    def query(self, text: str, exclude: int) -> list[int]:
        found = self.index.query_signature(Signature.of(text))
        return [c.record_id for c in found.candidates if c.record_id != exclude]

    def rank(self, text: str, ids: list[int]) -> list[int]:
        return ids  # ``collect``'s order

    def restart(self) -> tuple[float, str]:
        self.index.table, seconds, how = _pickle_round_trip(self.index.table)  # type: ignore[assignment]
        return seconds, how

    def close(self) -> None:
        pass


class OursSql:
    """``LshIndex`` over ``BandTable``, the store's band log and this process's index of it:
    what ingestion uses. A batch is one transaction, as an import batch is, and then the
    log is read as the next batch's look-up would (here, so that it is counted in the
    insert); each query reads through one open connection, as a running service does."""

    def __init__(self, url: str | None = None, cap: int = BUCKET_CAP):
        assert url, "a store URL"
        self.url = url
        self.cap = cap
        self.store = Store(url)
        self.store.ensure_schema()
        self.reader = self._reader()

    def _reader(self) -> Connection:
        reader = self.store.engine.connect()
        if reader.dialect.name == "postgresql":
            # A look-up is one statement: it needs no transaction, so no BEGIN and ROLLBACK
            # round trips to the server (SQLite's are calls in this process).
            reader.execution_options(isolation_level="AUTOCOMMIT")
        return reader

    def add(self, batch: Sequence[Record]) -> None:
        signatures = list(zip([r.id for r in batch], Signature.many([r.text for r in batch])))
        with self.store.transaction() as conn:
            LshIndex(BandTable(conn, self.cap)).add_many(signatures)
        BandTable(self.reader, self.cap).members(())  # a batch's look-up: one statement
        self.reader.rollback()

    def query(self, text: str, exclude: int) -> list[int]:
        index = LshIndex(BandTable(self.reader, self.cap))
        found = index.query_signature(Signature.of(text))
        self.reader.rollback()  # end the read transaction: a reader must not pin old rows
        return [c.record_id for c in found.candidates if c.record_id != exclude]

    def rank(self, text: str, ids: list[int]) -> list[int]:
        return ids  # ``collect``'s order

    def restart(self) -> tuple[float, str]:
        """Persisted in the store's log: a restart opens the store, and its first query reads
        the whole log into the new process's index."""
        self.close()
        started = time.perf_counter()
        self.store = Store(self.url)
        self.reader = self._reader()
        self.query("pkh saya belum cair", -1)
        return time.perf_counter() - started, "reopen the store + read the log + first query"

    def close(self) -> None:
        self.reader.close()
        self.store.dispose()


class Datasketch:
    """datasketch ``MinHashLSH`` with our parameters (``NUM_PERM`` permutations, ``BANDS`` bands
    of ``ROWS`` rows) on the char 5-grams of our normalised content words, as the ``bytes`` its
    API hashes (``MinHash.update_batch``), built the fast way its docs and
    ../shared/reference/dedup.md §5.2b describe: one shared permutation array, xxh32.

    ``bands``: fewer bands of the same rows, over as many permutations (``bands × ROWS``: the
    first ones of the full engine's, so its hash values are a prefix of the full engine's):
    datasketch at a lower recall and a lower cost, for comparing at equal recall."""

    def __init__(self, url: str | None = None, cap: int = BUCKET_CAP, bands: int = BANDS):
        import xxhash
        from datasketch import MinHash, MinHashLSH

        perms = bands * ROWS
        self.lsh = MinHashLSH(num_perm=perms, params=(bands, ROWS))
        proto = MinHash(num_perm=NUM_PERM, hashfunc=xxhash.xxh32_intdigest)
        permutations = proto.permutations[:, :perms]
        self.make = lambda: MinHash(num_perm=perms, hashfunc=xxhash.xxh32_intdigest,
                                    permutations=permutations, scheme=proto.scheme)

    def minhash(self, text: str):  # type: ignore[no-untyped-def]
        data = " ".join(content_tokens(normalize_for_matching(text))).encode()
        grams = {data[i : i + SHINGLE] for i in range(max(1, len(data) - SHINGLE + 1))} - {b""}
        m = self.make()
        m.update_batch(list(grams))
        return m

    def add(self, batch: Sequence[Record]) -> None:
        for r in batch:
            self.lsh.insert(r.id, self.minhash(r.text), check_duplication=False)

    def query(self, text: str, exclude: int) -> list[int]:
        return [k for k in self.lsh.query(self.minhash(text)) if k != exclude]

    def rank(self, text: str, ids: list[int]) -> list[int]:
        """Most shared bands first, then newest: datasketch returns a set, so this is what a
        caller keeping only its best few would do (its own band tables, read again)."""
        hashvalues = self.minhash(text).hashvalues
        shared: Counter[int] = Counter()
        for (start, end), table in zip(self.lsh.hashranges, self.lsh.hashtables):
            shared.update(table.get(self.lsh._H(hashvalues[start:end])))
        return sorted(ids, key=lambda r: (shared[r], r), reverse=True)

    def restart(self) -> tuple[float, str]:
        self.lsh, seconds, how = _pickle_round_trip(self.lsh)  # type: ignore[assignment]
        return seconds, how

    def close(self) -> None:
        pass


ENGINES: dict[str, type] = {"ours-memory": OursMemory, "ours-sql": OursSql,
                            "datasketch": Datasketch}


def datasketch_name(bands: int) -> str:
    """The engine name of datasketch with ``bands`` bands of ``ROWS`` rows (``datasketch_bands``
    reads it back)."""
    return f"datasketch-{bands}x{ROWS}"


def datasketch_bands(name: str) -> int | None:
    """``datasketch-8x3`` → 8 (bands of ``ROWS`` rows); None for any other engine name."""
    prefix, _, layout = name.partition("-")
    bands, _, rows = layout.partition("x")
    if prefix != "datasketch" or not bands.isdigit() or rows != str(ROWS):
        return None
    return int(bands)


def make_engine(name: str, url: str | None, cap: int) -> Engine:
    bands = datasketch_bands(name)
    if bands is not None:
        return Datasketch(url, cap, bands)  # type: ignore[return-value]
    return ENGINES[name](url, cap)  # type: ignore[no-any-return]
