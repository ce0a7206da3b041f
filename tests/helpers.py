"""Small builders shared by the tests."""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
if str(SAMPLES) not in sys.path:
    sys.path.insert(0, str(SAMPLES))

from pengaduan.settings import Settings, parse_settings


def make_settings(store_url: str, base: Path, collectors: dict | None = None, **sections) -> Settings:
    data = {"store": {"url": store_url}, **sections}
    if collectors:
        data["collectors"] = collectors
    return parse_settings(data, base)


def fixed_clock(dt: datetime):
    return lambda: dt


UTC = timezone.utc


# --- an in-memory collector: the pipeline and store tests need a channel they control ------

import json
from collections.abc import Iterator
from dataclasses import dataclass, field

from pengaduan.collectors.base import Batch, Collector, Cursor, RawItem
from pengaduan.errors import RecordError
from pengaduan.normalizer.record import Author, ComplaintRecord, Kind


@dataclass(frozen=True)
class ListConfig:
    items: list = field(default_factory=list)  # dicts: id, body, [kind, in_reply_to, name, ...]
    batch_size: int = 2
    fail_with: Exception | None = None  # raised by fetch, to test failing channels


class ListCollector(Collector):
    type = "test_list"
    channel = "test"
    Config = ListConfig

    def fetch(self, cursor: Cursor | None) -> Iterator[Batch]:
        if self.config.fail_with is not None:
            raise self.config.fail_with
        offset = (cursor or {}).get("offset", 0)
        items = self.config.items
        for start in range(offset, len(items), self.config.batch_size):
            chunk = items[start : start + self.config.batch_size]
            yield Batch(
                [RawItem(str(i["id"]), json.dumps(i, sort_keys=True).encode()) for i in chunk],
                {"offset": start + len(chunk)},
            )

    @staticmethod
    def normalize(item: RawItem) -> ComplaintRecord:
        data = json.loads(item.payload)
        if not data.get("body"):
            raise RecordError(f"item {item.source_id} has no text")
        return ComplaintRecord(
            channel="test",
            source_id=item.source_id,
            received_at=datetime.fromisoformat(data.get("at", "2026-11-02T02:00:00+00:00")),
            body=data["body"],
            kind=Kind(data.get("kind", "complaint")),
            kind_reason=data.get("kind_reason"),
            in_reply_to=data.get("in_reply_to"),
            author=Author(name=data.get("name")),
            anonymous=data.get("anonymous", False),
            confidential=data.get("confidential", False),
            source_status=data.get("status"),
        )
