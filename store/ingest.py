"""Saving a batch: raw items, records (with revisions) and quarantine entries, as upserts.

Called inside the pipeline's transaction; nothing here commits. Every write is keyed by a
natural key, so saving the same batch twice changes nothing.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from pengaduan.collectors.base import RawItem
from pengaduan.normalizer.record import STAFF_DECISION, ComplaintRecord, Kind
from pengaduan.store.schema import quarantine, raw_items, record_revisions, records


@dataclass(frozen=True)
class Outcome:
    """What the normaliser made of one raw item: a record, or the reason it could not."""

    item: RawItem
    record: ComplaintRecord | None = None
    reason: str | None = None


@dataclass(frozen=True)
class SavedRecord:
    record_id: int
    record: ComplaintRecord
    previous: dict[str, Any] | None  # the content it replaced; None for a new record
    digest: str = ""  # its stored content_sha256: what linking's probe cache is keyed by


@dataclass
class SaveResult:
    new: list[SavedRecord] = field(default_factory=list)
    updated: list[SavedRecord] = field(default_factory=list)
    unchanged: int = 0
    quarantined: int = 0


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def content_digest(content: dict[str, Any]) -> str:
    """A record content's ``content_sha256``."""
    return sha256(canonical_json(content))


@contextmanager
def planned_per_call(conn: Connection) -> Iterator[None]:
    """Run the statements inside unprepared, so PostgreSQL plans each for its actual values.

    psycopg prepares a statement it has run five times, and PostgreSQL then moves to a generic
    plan. For a look-up of "source_id IN (500 values)" in a table still without statistics
    (the first large import), that plan compares every row with every value: hundreds of ms
    per batch, growing with the table. A plan for the actual values costs about a millisecond.
    Only look-ups go through this; the inserts keep their prepared statements. No-op on SQLite.
    """
    driver = conn.connection.driver_connection
    if not hasattr(driver, "prepare_threshold"):
        yield
        return
    saved = driver.prepare_threshold
    driver.prepare_threshold = None
    try:
        yield
    finally:
        driver.prepare_threshold = saved


def insert_ignore(conn: Connection, table, rows: list[dict], keys: list[str]) -> None:  # type: ignore[no-untyped-def]
    if not rows:
        return
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    conn.execute(dialect.insert(table).on_conflict_do_nothing(index_elements=keys), rows)


def save_raw_items(
    conn: Connection, collector: str, items: Sequence[RawItem], now: datetime
) -> list[int]:
    """Store each item version once; returns the raw item id of each, in order."""
    rows = [
        {
            "collector": collector,
            "source_id": item.source_id,
            "sha256": sha256(item.payload),
            "media_type": item.media_type,
            "payload": item.payload,
            "meta": dict(item.meta),
            "error": item.error,
            "fetched_at": now,
        }
        for item in items
    ]
    if not rows:
        return []
    # The versions inserted now come back from the INSERT itself; only those stored before (or
    # by a concurrent process, whose row ON CONFLICT waited for) are looked up after it.
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    inserted = conn.execute(
        dialect.insert(raw_items)
        .on_conflict_do_nothing(index_elements=["collector", "source_id", "sha256"])
        .returning(raw_items.c.id, raw_items.c.source_id, raw_items.c.sha256),
        rows,
    )
    ids: dict[tuple[str, str], int] = {
        (source_id, digest): rid for rid, source_id, digest in inserted
    }
    wanted = {(r["source_id"], r["sha256"]) for r in rows} - ids.keys()
    with planned_per_call(conn):
        for chunk in _chunks(sorted({source_id for source_id, _ in wanted}), 500):
            for rid, source_id, digest in conn.execute(
                select(raw_items.c.id, raw_items.c.source_id, raw_items.c.sha256).where(
                    raw_items.c.collector == collector, raw_items.c.source_id.in_(chunk)
                )
            ):
                if (source_id, digest) in wanted:
                    ids[(source_id, digest)] = rid
    return [ids[(r["source_id"], r["sha256"])] for r in rows]


def save_outcomes(
    conn: Connection,
    collector: str,
    channel: str,
    outcomes: Sequence[Outcome],
    now: datetime,
    key_space: str | None = None,
) -> SaveResult:
    """Store the raw items, then upsert their records or quarantine them.

    Raw items and quarantine entries belong to the ``collector`` instance that fetched them;
    records are keyed by ``key_space`` (default: the instance), so collectors that share one
    (every mailbox of the e-mail channel) make one record of one item.
    """
    result = SaveResult()
    # A source id repeated inside one batch is applied in order, one round per occurrence,
    # so the later version becomes a revision of the earlier one.
    rounds: list[list[Outcome]] = []
    seen: dict[str, int] = {}
    for outcome in outcomes:
        n = seen.get(outcome.item.source_id, 0)
        seen[outcome.item.source_id] = n + 1
        if n == len(rounds):
            rounds.append([])
        rounds[n].append(outcome)
    for batch in rounds:
        _save_round(conn, collector, key_space or collector, channel, batch, now, result)
    return result


def _save_round(
    conn: Connection,
    collector: str,
    key_space: str,
    channel: str,
    outcomes: list[Outcome],
    now: datetime,
    result: SaveResult,
) -> None:
    raw_ids = save_raw_items(conn, collector, [o.item for o in outcomes], now)
    to_quarantine: list[dict] = []
    pending: list[tuple[ComplaintRecord, int]] = []
    for outcome, raw_id in zip(outcomes, raw_ids):
        if outcome.record is not None:
            pending.append((outcome.record, raw_id))
            continue
        to_quarantine.append(
            {
                "raw_item_id": raw_id,
                "collector": collector,
                "channel": channel,
                "source_id": outcome.item.source_id,
                "reason": outcome.reason or "unknown reason",
                "created_at": now,
                "attempts": 1,
            }
        )
    existing = _current_records(conn, key_space, [record.source_id for record, _ in pending])
    new, changed = _split(pending, existing, result)
    taken = _insert_new(conn, key_space, new, now, result)
    if taken or (changed and conn.dialect.name == "postgresql"):
        # Another process may have stored or changed these since they were read: its insert
        # committed while ours waited on the key (``taken``), or its update is in flight. Read
        # them again, locked, and compare with what is there now. SQLite needs no second look:
        # its write lock is taken at BEGIN, so what was read is still current.
        again = changed + taken
        locked = _current_records(conn, key_space, [r.source_id for r, _ in again], lock=True)
        existing.update(locked)
        _, changed = _split(again, locked, result)  # none is new: records are never deleted
    revisions: list[dict] = []
    changes: list[dict] = []
    for record, raw_id in changed:
        current = existing[record.source_id]
        record = _keep_staff_decisions(record, current)
        content = record.content()
        revisions.append(_revision_row(current, now))
        digest = content_digest(content)
        changes.append(_change_row(current, record, content, digest, raw_id, now))
        result.updated.append(SavedRecord(current["id"], record, current["content"], digest))
    if changes:
        # Each record at most once in a round: the same statements as one per record, run as
        # two executemany calls rather than two statements built and compiled per record.
        conn.execute(insert(record_revisions), revisions)
        conn.execute(_UPDATE_RECORD, changes)
    before = len(to_quarantine)
    insert_ignore(conn, quarantine, to_quarantine, ["raw_item_id"])
    result.quarantined += before


Pending = list[tuple[ComplaintRecord, int]]  # records with the raw item id of each


def _split(pending: Pending, existing: dict[str, dict], result: SaveResult) -> tuple[Pending, Pending]:
    """The records not stored yet, and those whose content changed; counts the unchanged."""
    new: Pending = []
    changed: Pending = []
    for record, raw_id in pending:
        current = existing.get(record.source_id)
        if current is None:
            new.append((record, raw_id))
        elif current["content_sha256"] == _digest(_keep_staff_decisions(record, current)):
            result.unchanged += 1
        else:
            changed.append((record, raw_id))
    return new, changed


def _digest(record: ComplaintRecord) -> str:
    return content_digest(record.content())


def _insert_new(
    conn: Connection, key_space: str, new: Pending, now: datetime, result: SaveResult
) -> Pending:
    """Insert the new records; returns those another process inserted first (PostgreSQL:
    ON CONFLICT waited for its commit), which are versions of its records, not new ones."""
    if not new:
        return []
    rows = []
    digests = {}
    for record, raw_id in new:
        content = record.content()
        digests[record.source_id] = content_digest(content)
        rows.append(_record_row(key_space, record, content, digests[record.source_id],
                                raw_id, now, 1))
    # Matched by source id (unique in a round), so the rows may come back in any order and
    # SQLite can insert them in batches rather than one statement per row. In key order, so
    # two processes inserting overlapping keys wait on each other in one order, never in a cycle.
    rows.sort(key=lambda row: row["source_id"])
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    record_ids = {
        source_id: rid
        for rid, source_id in conn.execute(
            dialect.insert(records)
            .on_conflict_do_nothing(index_elements=["collector", "source_id"])
            .returning(records.c.id, records.c.source_id),
            rows,
        )
    }
    result.new.extend(
        SavedRecord(record_ids[record.source_id], record, None, digests[record.source_id])
        for record, _ in new if record.source_id in record_ids
    )
    return [(record, raw_id) for record, raw_id in new if record.source_id not in record_ids]


def _record_row(
    collector: str,
    record: ComplaintRecord,
    content: dict,
    digest: str,
    raw_id: int,
    now: datetime,
    revision: int,
) -> dict:
    return {
        "collector": collector,
        "source_id": record.source_id,
        "channel": record.channel,
        "kind": str(record.kind),
        "received_at": record.received_at,
        "collected_at": now,
        "updated_at": now,
        "revision": revision,
        "confidential": record.confidential,
        "source_status": record.source_status,
        "content": content,
        "content_sha256": digest,
        "raw_item_id": raw_id,
    }


def _revision_row(current: dict, now: datetime) -> dict:
    """The version a change replaces, kept as a revision."""
    return {
        "record_id": current["id"],
        "revision": current["revision"],
        "content": current["content"],
        "raw_item_id": current["raw_item_id"],
        "valid_from": current["updated_at"],
        "valid_to": now,
    }


# Parameters named apart from the columns: those names are SQLAlchemy's for the SET clause.
_UPDATE_RECORD = (
    update(records)
    .where(records.c.id == bindparam("record_id"))
    .values(
        kind=bindparam("new_kind"),
        received_at=bindparam("new_received_at"),
        updated_at=bindparam("new_updated_at"),
        revision=bindparam("new_revision"),
        confidential=bindparam("new_confidential"),
        source_status=bindparam("new_source_status"),
        content=bindparam("new_content"),
        content_sha256=bindparam("new_content_sha256"),
        raw_item_id=bindparam("new_raw_item_id"),
    )
)


def _change_row(
    current: dict,
    record: ComplaintRecord,
    content: dict,
    digest: str,
    raw_id: int,
    now: datetime,
) -> dict:
    """Parameters of _UPDATE_RECORD that make ``current`` the new version."""
    return {
        "record_id": current["id"],
        "new_kind": str(record.kind),
        "new_received_at": record.received_at,
        "new_updated_at": now,
        "new_revision": current["revision"] + 1,
        "new_confidential": record.confidential,
        "new_source_status": record.source_status,
        "new_content": content,
        "new_content_sha256": digest,
        "new_raw_item_id": raw_id,
    }


def _keep_staff_decisions(record: ComplaintRecord, current: dict) -> ComplaintRecord:
    """What a later version of an item must not undo: once anonymous or confidential, always
    so (a version that drops the flag must not expose what was restricted before), and a
    kind that staff decided stays decided."""
    previous = current["content"]
    changes: dict = {}
    if previous.get("anonymous") and not record.anonymous:
        changes["anonymous"] = True
    if previous.get("confidential") and not record.confidential:
        changes["confidential"] = True
    override = current.get("kind_override")
    if override and (str(record.kind), record.kind_reason) != (override, STAFF_DECISION):
        changes.update(kind=Kind(override), kind_reason=STAFF_DECISION)
    return dataclasses.replace(record, **changes) if changes else record


def _current_records(
    conn: Connection, collector: str, source_ids: list[str], lock: bool = False
) -> dict[str, dict]:
    """The stored version of each record; ``lock``: row-locked until the transaction ends,
    taken in key order (no lock cycle between two processes)."""
    found: dict[str, dict] = {}
    columns = [
        records.c.id,
        records.c.source_id,
        records.c.revision,
        records.c.content,
        records.c.content_sha256,
        records.c.raw_item_id,
        records.c.updated_at,
        records.c.confidential,
        records.c.kind_override,
    ]
    with planned_per_call(conn):
        for chunk in _chunks(sorted(set(source_ids)), 500):
            query = select(*columns).where(
                records.c.collector == collector, records.c.source_id.in_(chunk)
            )
            if lock:
                query = query.order_by(records.c.source_id).with_for_update()
            for row in conn.execute(query).mappings():
                found[row["source_id"]] = dict(row)
    return found


def _chunks(values: list[str], size: int) -> list[list[str]]:
    return [values[i : i + size] for i in range(0, len(values), size)]
