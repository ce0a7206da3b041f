"""The collector contract: tests every collector must pass, for our tests and plug-in authors.

Subclass ``CollectorContract`` in a pytest module and provide two fixtures::

    from pengaduan.collectors.testing import CollectorContract

    class TestMyCollector(CollectorContract):
        @pytest.fixture
        def populated(self, tmp_path):   # a collector whose source holds items
            ...                          # spanning at least two batches
        @pytest.fixture
        def empty(self, tmp_path):       # a collector whose source holds nothing
            ...

Every test below then runs against your collector. ``restart`` builds a fresh instance of the
same collector (a new process after a crash); override it if yours needs more than
``type(c)(c.name, c.config)``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable

import pytest

from pengaduan.collectors.base import Batch, Collector, Cursor, RawItem


def run_all(collector: Collector, cursor: Cursor | None = None) -> list[Batch]:
    """Every batch of one complete run, the collector closed afterwards."""
    try:
        return list(collector.fetch(cursor))
    finally:
        collector.close()


def versions(items: Iterable[RawItem]) -> list[tuple[str, str]]:
    """(source_id, payload hash) of each item: what the store treats as one stored version."""
    return [(i.source_id, hashlib.sha256(i.payload).hexdigest()) for i in items]


def items_of(batches: Iterable[Batch]) -> list[RawItem]:
    return [item for batch in batches for item in batch.items]


class CollectorContract:
    """Inherit and provide the ``populated`` and ``empty`` fixtures."""

    def restart(self, collector: Collector) -> Collector:
        return type(collector)(collector.name, collector.config)

    def test_every_item_has_a_source_id_and_bytes(self, populated: Collector) -> None:
        items = items_of(run_all(populated))
        assert items, "the populated source yielded no items"
        for item in items:
            assert isinstance(item.source_id, str) and item.source_id.strip(), item
            assert isinstance(item.payload, bytes), f"{item.source_id}: payload must be bytes"

    def test_source_ids_are_unique_within_a_run(self, populated: Collector) -> None:
        ids = [i.source_id for i in items_of(run_all(populated))]
        assert len(ids) == len(set(ids)), "one run yielded the same source_id twice"

    def test_cursor_survives_a_json_round_trip(self, populated: Collector) -> None:
        batches = run_all(populated)
        for batch in batches:
            assert json.loads(json.dumps(batch.cursor)) == batch.cursor
        # A cursor read back from the database must resume exactly like the one in memory.
        first = batches[0].cursor
        direct = versions(items_of(run_all(self.restart(populated), first)))
        revived = versions(items_of(run_all(self.restart(populated), json.loads(json.dumps(first)))))
        assert direct == revived

    def test_refetch_from_the_returned_cursor_yields_nothing_new(self, populated: Collector) -> None:
        batches = run_all(populated)
        seen = set(versions(items_of(batches)))
        again = versions(items_of(run_all(self.restart(populated), batches[-1].cursor)))
        assert not set(again) - seen, "re-fetching from the final cursor yielded new items"

    def test_empty_source_yields_nothing(self, empty: Collector) -> None:
        assert items_of(run_all(empty)) == []

    def test_interrupted_run_resumes_without_gap_or_repeat(self, populated: Collector) -> None:
        complete = versions(items_of(run_all(populated)))
        fresh = self.restart(populated)
        stream = iter(fresh.fetch(None))
        first = next(stream)
        close = getattr(stream, "close", None)
        if close is not None:
            close()  # the process dies after committing its first batch
        fresh.close()
        assert len(first.items) < len(complete), (
            "make the populated source span at least two batches so an interruption is tested"
        )
        rest = versions(items_of(run_all(self.restart(populated), first.cursor)))
        before = versions(first.items)
        assert not set(before) & set(rest), "items of the committed batch were fetched again"
        assert sorted(before + rest) == sorted(complete), "items were lost across the restart"
