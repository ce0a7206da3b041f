"""The complaint record's stored shape."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timezone

import pytest

from pengaduan.normalizer.record import Attachment, Author, ComplaintRecord, IdentityDocument


def test_content_holds_every_field_exactly_as_asdict_would() -> None:
    record = ComplaintRecord(
        "email", "abc@x", datetime(2026, 11, 2, 1, 0, tzinfo=timezone.utc), "isi",
        author=Author("Ni Made", "m@x.id", "+6281200001234", "@made", IdentityDocument("KTP", "5107")),
        attachments=(Attachment("ktp.jpg", "image/jpeg", 10, "ab"),),
        extra={"kategori": "PKH"}, location={"kecamatan": "Abang"},
    )
    expected = dataclasses.asdict(record)
    expected.update(received_at="2026-11-02T01:00:00+00:00", kind="complaint",
                    attachments=[dataclasses.asdict(a) for a in record.attachments])
    assert record.content() == expected
    assert set(record.content()) == {f.name for f in dataclasses.fields(ComplaintRecord)}


def test_naive_time_and_empty_source_id_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        ComplaintRecord("x", "1", datetime(2026, 1, 1), "b")
    with pytest.raises(ValueError, match="source_id"):
        ComplaintRecord("x", "", datetime(2026, 1, 1, tzinfo=timezone.utc), "b")
