"""The tables. The store knows no channel: every table is keyed by collector instance name.

Natural keys are unique constraints, so every write can be an upsert and concurrent
ingestion (several processes on one PostgreSQL) is safe by constraint, not by locking.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)



class UtcDateTime(TypeDecorator):
    """Aware datetimes in, aware UTC datetimes out, on SQLite (which keeps no zone) too."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:  # type: ignore[no-untyped-def]
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; every timestamp must be aware")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:  # type: ignore[no-untyped-def]
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


Timestamp = UtcDateTime()

# Every version of every item exactly as fetched; a payload seen before is not stored again.
raw_items = Table(
    "raw_items",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("collector", String(100), nullable=False),
    Column("source_id", String(255), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("media_type", String(100), nullable=False),
    Column("payload", LargeBinary, nullable=False),
    Column("meta", JSON, nullable=False),
    Column("error", Text),
    Column("fetched_at", Timestamp, nullable=False),
    UniqueConstraint("collector", "source_id", "sha256", name="uq_raw_items_version"),
)

# Attachment contents, stored once by hash however many messages carry them.
blobs = Table(
    "blobs",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("size", Integer, nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("stored_at", Timestamp, nullable=False),
)

# The current version of each item as a complaint record (DESIGN.md §3). ``collector`` is the
# collector's key space: its instance name, unless its type shares keys across instances
# (e-mail: one Message-ID is one record whichever mailbox it came through).
records = Table(
    "records",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("collector", String(100), nullable=False),
    Column("source_id", String(255), nullable=False),
    Column("channel", String(50), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("received_at", Timestamp, nullable=False),
    Column("collected_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    Column("revision", Integer, nullable=False),
    Column("confidential", Boolean, nullable=False),
    Column("source_status", String(200)),
    Column("content", JSON, nullable=False),
    Column("content_sha256", String(64), nullable=False),
    Column("raw_item_id", ForeignKey("raw_items.id"), nullable=False),
    # A staff member's decision on the kind; later versions of the item keep it.
    Column("kind_override", String(20)),
    UniqueConstraint("collector", "source_id", name="uq_records_natural_key"),
    # Threads are followed by the platform's id of the answered item, whatever its key space.
    Index("ix_records_channel_source_id", "channel", "source_id"),
)

# Earlier versions of a record (a LAPOR status change, an edited comment), never erased.
record_revisions = Table(
    "record_revisions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("record_id", ForeignKey("records.id"), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("content", JSON, nullable=False),
    Column("raw_item_id", ForeignKey("raw_items.id"), nullable=False),
    Column("valid_from", Timestamp, nullable=False),
    Column("valid_to", Timestamp, nullable=False),
    UniqueConstraint("record_id", "revision", name="uq_record_revisions_version"),
)

# The handling queue: what staff work on (DESIGN.md §4).
cases = Table(
    "cases",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("status", String(30), nullable=False),
    Column("title", Text),
    Column("channel", String(50), nullable=False),
    Column("received_at", Timestamp, nullable=False),
    Column("opened_at", Timestamp, nullable=False),
    Column("due_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    Column("confidential", Boolean, nullable=False),
    Column("division", String(100)),
    Column("assignee", String(100)),
    Index("ix_cases_status_due", "status", "due_at"),
)

# Which case each record belongs to, and why (method, score, evidence).
case_links = Table(
    "case_links",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("record_id", ForeignKey("records.id"), nullable=False, unique=True),
    Column("case_id", ForeignKey("cases.id"), nullable=False, index=True),
    Column("method", String(30), nullable=False),
    Column("score", Float),
    Column("evidence", JSON, nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("created_by", String(100), nullable=False),
)

# Items that could not be normalised, kept with the reason until a replay succeeds.
quarantine = Table(
    "quarantine",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("raw_item_id", ForeignKey("raw_items.id"), nullable=False, unique=True),
    Column("collector", String(100), nullable=False),
    Column("channel", String(50), nullable=False),
    Column("source_id", String(255), nullable=False),
    Column("reason", Text, nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("resolved_at", Timestamp),
)

# One row per collector instance: its cursor and its health.
collector_state = Table(
    "collector_state",
    metadata,
    Column("collector", String(100), primary_key=True),
    Column("type", String(100), nullable=False),
    Column("cursor", JSON),
    Column("health", String(20), nullable=False),
    Column("last_run_at", Timestamp),
    Column("last_success_at", Timestamp),
    Column("last_error", Text),
    Column("failures", Integer, nullable=False),
    Column("retry_at", Timestamp),
    Column("updated_at", Timestamp, nullable=False),
)

# What each collector run did, for status and the performance evaluation.
runs = Table(
    "runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("collector", String(100), nullable=False, index=True),
    Column("started_at", Timestamp, nullable=False),
    Column("finished_at", Timestamp),
    Column("outcome", String(20), nullable=False),
    Column("fetched", Integer, nullable=False),
    Column("new", Integer, nullable=False),
    Column("updated", Integer, nullable=False),
    Column("unchanged", Integer, nullable=False),
    Column("quarantined", Integer, nullable=False),
    Column("message", Text),
)

# Who did what and when: transitions, links, reveals of personal data.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", Timestamp, nullable=False),
    Column("actor", String(100), nullable=False),
    Column("action", String(50), nullable=False),
    Column("case_id", Integer, index=True),
    Column("record_id", Integer),
    Column("detail", JSON, nullable=False),
)


# --- linking (issue 5): the near-duplicate index and staff's say on it ------------------

# MinHash-LSH band keys, appended by each linking batch: one row a batch, its record ids and
# their BANDS keys each as little-endian int64 arrays, and a random number its transaction
# drew. Each process looks up in an index in its memory kept in step with this log by
# ``seq`` (cases/band_log.py, which says why).
dedup_band_log = Table(
    "dedup_band_log",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("writer", BigInteger, nullable=False),
    Column("record_ids", LargeBinary, nullable=False),
    Column("band_keys", LargeBinary, nullable=False),
    sqlite_autoincrement=True,  # a seq is never given twice, even after the log is emptied
)

# Complainant blocking keys (hashed phone / e-mail / NIK hash / platform handle) → record.
dedup_identities = Table(
    "dedup_identities",
    metadata,
    Column("key", String(32), nullable=False),
    Column("record_id", Integer, nullable=False),
    PrimaryKeyConstraint("key", "record_id", name="pk_dedup_identities"),
    sqlite_with_rowid=False,
)

# Document frequency of each content word, for rarity weights; term "" counts documents.
dedup_terms = Table(
    "dedup_terms",
    metadata,
    Column("term", String(64), primary_key=True),
    Column("df", Integer, nullable=False),
)

# "Possible duplicate": a record (in its own case) may belong to another case; staff decide.
# One row per (record, case) ever: a rejected pair stays, so it is never suggested again.
link_suggestions = Table(
    "link_suggestions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("record_id", ForeignKey("records.id"), nullable=False),
    Column("case_id", ForeignKey("cases.id"), nullable=False, index=True),
    Column("matched_record_id", Integer),
    Column("score", Float, nullable=False),
    Column("evidence", JSON, nullable=False),
    Column("status", String(20), nullable=False),  # open | confirmed | rejected
    Column("created_at", Timestamp, nullable=False),
    Column("decided_at", Timestamp),
    Column("decided_by", String(100)),
    UniqueConstraint("record_id", "case_id", name="uq_link_suggestions_pair"),
)

# Relations between cases: a new case opened for a complainant whose case was archived
# ("reopened_from"), a case merged into another ("merged_into").
case_relations = Table(
    "case_relations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("case_id", ForeignKey("cases.id"), nullable=False, index=True),
    Column("related_case_id", ForeignKey("cases.id"), nullable=False),
    Column("kind", String(30), nullable=False),
    Column("evidence", JSON, nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("created_by", String(100), nullable=False),
)


# --- scale-out (issue 7): which process runs each collector instance -----------------------

# One row per collector instance ever leased. ``holder`` (host:pid:random, one per pipeline)
# runs it until ``expires_at``; NULL once released. Times are the database's clock on
# PostgreSQL (store/leases.py).
collector_leases = Table(
    "collector_leases",
    metadata,
    Column("collector", String(100), primary_key=True),
    Column("holder", String(200)),
    Column("acquired_at", Timestamp, nullable=False),
    Column("renewed_at", Timestamp, nullable=False),
    Column("expires_at", Timestamp, nullable=False),
)
