"""Attachment contents, stored once by sha256 inside the batch's transaction."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import Connection, select

from pengaduan.store.ingest import insert_ignore
from pengaduan.store.schema import blobs


def save_blobs(conn: Connection, contents: Mapping[str, bytes], now: datetime) -> None:
    rows = [
        {"sha256": digest, "size": len(data), "content": data, "stored_at": now}
        for digest, data in contents.items()
    ]
    insert_ignore(conn, blobs, rows, ["sha256"])


def load_blob(conn: Connection, digest: str) -> bytes | None:
    return conn.execute(select(blobs.c.content).where(blobs.c.sha256 == digest)).scalar()
