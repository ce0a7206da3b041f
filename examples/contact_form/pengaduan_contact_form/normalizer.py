"""Contact-form submission -> complaint record. Pure: no network, no files, no clock.

A submission as the website exports it (keys it does not send may be missing)::

    {"id": 18, "submitted_at": "2026-11-03T09:15:00+08:00", "name": "...", "email": "...",
     "phone": "0812...", "subject": "...", "message": "...", "kecamatan": "...",
     "desa": "...", "url": "https://..."}

A time without an offset is the website's local time, WITA (UTC+8).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

from pengaduan.collectors.base import RawItem
from pengaduan.errors import RecordError
from pengaduan.normalizer.pii import normalize_phone
from pengaduan.normalizer.record import Author, ComplaintRecord
from pengaduan.normalizer.text import clean_line, clean_text

CHANNEL = "web_form"
MEDIA_TYPE = "application/vnd.pengaduan.contact-form+json"
WITA = timezone(timedelta(hours=8), "WITA")


def normalize_contact_form(item: RawItem) -> ComplaintRecord:
    """One submission as a record; RecordError (-> quarantine) when it cannot be one."""
    try:
        data = json.loads(item.payload)
    except (ValueError, UnicodeDecodeError):
        raise RecordError(f"submission {item.source_id} is not JSON") from None
    if not isinstance(data, dict):
        raise RecordError(f"submission {item.source_id} is not a JSON object")
    body = clean_text(_text(data.get("message")))
    if not body:
        raise RecordError(f"submission {item.source_id} has no message")
    phone = _text(data.get("phone"))
    location = {
        key: clean_line(_text(data[key])) for key in ("kecamatan", "desa") if _text(data.get(key))
    }
    return ComplaintRecord(
        channel=CHANNEL,
        source_id=item.source_id,
        received_at=_received_at(data.get("submitted_at"), item.source_id),
        subject=clean_line(_text(data.get("subject"))) or None,
        body=body,
        author=Author(
            name=clean_line(_text(data.get("name"))) or None,
            email=_text(data.get("email")).strip().lower() or None,
            phone=(normalize_phone(phone) or phone.strip()) if phone.strip() else None,
        ),
        location=location,
        source_url=_text(data.get("url")) or None,
    )


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ("" if value is None else str(value))


def _received_at(value: Any, source_id: str) -> datetime:
    try:
        when = datetime.fromisoformat(_text(value).strip().replace("Z", "+00:00"))
    except ValueError:
        raise RecordError(
            f"submission {source_id} has submitted_at {value!r}, which is not an ISO 8601 time"
        ) from None
    return (when if when.tzinfo else when.replace(tzinfo=WITA)).astimezone(timezone.utc)
