"""The complaint record: what every channel's normaliser produces (DESIGN.md §3).

Records are plain frozen dataclasses so normalisers stay pure and testable from tables, and
``to_json`` gives the one shape the store keeps and the export prints.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Kind(StrEnum):
    COMPLAINT = "complaint"
    FOLLOW_UP = "follow_up"
    NOT_COMPLAINT = "not_complaint"


# The kind_reason of the office's own reply on a public thread: its answer to the complainant
# (step 5 of the standard), recorded on the case, never a complaint.
OFFICE_ANSWER = "office_answer"
# The kind_reason of a kind that staff set by hand (`pengaduan reclassify`).
STAFF_DECISION = "staff"
# The store keeps ``source_status`` in a VARCHAR(200) column; a longer value (only garbage in
# a status column is that long) is cut to fit, the whole text kept in ``extra``.
SOURCE_STATUS_MAX = 200


@dataclass(frozen=True)
class IdentityDocument:
    type: str  # "KTP", "SIM", "NIK"
    number: str


@dataclass(frozen=True)
class Author:
    name: str | None = None
    email: str | None = None
    phone: str | None = None  # E.164 where it could be normalised
    handle: str | None = None  # platform handle or id
    identity: IdentityDocument | None = None


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    size: int
    sha256: str | None  # None when the content was not stored (over the size limit)
    note: str | None = None


@dataclass(frozen=True)
class ComplaintRecord:
    channel: str
    source_id: str
    received_at: datetime
    body: str
    kind: Kind = Kind.COMPLAINT
    kind_reason: str | None = None
    subject: str | None = None
    author: Author = field(default_factory=Author)
    anonymous: bool = False
    confidential: bool = False
    source_url: str | None = None
    attachments: tuple[Attachment, ...] = ()
    in_reply_to: str | None = None
    location: dict[str, str] = field(default_factory=dict)
    # The platform's own state of the item, raw and mapped (LAPOR "Status Laporan").
    source_status: str | None = None
    source_state: str | None = None
    # Channel-specific facts kept for staff (LAPOR category, classification, original text…).
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.received_at.tzinfo is None:
            raise ValueError("received_at must be timezone-aware")
        if not self.source_id:
            raise ValueError("source_id must not be empty")

    def content(self) -> dict[str, Any]:
        """Every field as JSON-ready values; the store keeps this and compares versions by it.

        Written out by hand: ``dataclasses.asdict`` deep-copies recursively and cost more than
        the rest of ingestion together on a large export.
        """
        author = self.author
        identity = author.identity
        return {
            "channel": self.channel,
            "source_id": self.source_id,
            "received_at": self.received_at.isoformat(),
            "body": self.body,
            "kind": str(self.kind),
            "kind_reason": self.kind_reason,
            "subject": self.subject,
            "author": {
                "name": author.name,
                "email": author.email,
                "phone": author.phone,
                "handle": author.handle,
                "identity": (
                    {"type": identity.type, "number": identity.number} if identity else None
                ),
            },
            "anonymous": self.anonymous,
            "confidential": self.confidential,
            "source_url": self.source_url,
            "attachments": [
                {
                    "filename": a.filename,
                    "content_type": a.content_type,
                    "size": a.size,
                    "sha256": a.sha256,
                    "note": a.note,
                }
                for a in self.attachments
            ],
            "in_reply_to": self.in_reply_to,
            "location": dict(self.location),
            "source_status": self.source_status,
            "source_state": self.source_state,
            "extra": dict(self.extra),
        }
