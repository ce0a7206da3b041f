"""``pengaduan export``: every record with its case, as JSON lines or CSV, masked by default."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any, TextIO

from pengaduan.cases.status import case_number
from pengaduan.cli.context import Context
from pengaduan.cli.output import WITA
from pengaduan.normalizer.pii import mask_record_content
from pengaduan.store import cases as store_cases
from pengaduan.store.audit import record_audit

CSV_COLUMNS = [
    "record_id", "case_id", "channel", "collector", "source_id", "kind", "received_at",
    "subject", "body", "author_name", "author_email", "author_phone", "author_handle",
    "status", "due_at", "confidential", "anonymous", "source_status", "link_method", "link_score",
]


def add_parser(commands: argparse._SubParsersAction) -> None:
    export = commands.add_parser("export", help="print every record with its case (masked)")
    export.add_argument("--format", choices=["jsonl", "csv"], default="jsonl")
    export.add_argument("--output", help="write to this file instead of standard output")
    export.add_argument("--reveal", action="store_true",
                        help="personal data unmasked (needs --reason; logged in the audit)")
    export.add_argument("--reason", help="why the personal data is needed")
    export.set_defaults(handler=run_export)


def _iso(dt: datetime | None) -> str | None:
    return dt.astimezone(WITA).isoformat() if dt else None


def export_objects(rows: Iterator[dict[str, Any]], reveal: bool) -> Iterator[dict[str, Any]]:
    for row in rows:
        content = mask_record_content(row["content"], reveal=reveal)
        content["confidential"] = row["confidential"]
        case_id = row["case_id"]
        yield {
            "record_id": row["record_id"],
            "case_id": case_number(case_id, row["case_opened_at"].year) if case_id else None,
            "channel": content["channel"],
            "collector": row["collector"],
            "source_id": content["source_id"],
            "kind": row["kind"],
            "received_at": _iso(datetime.fromisoformat(content["received_at"])),
            "subject": content.get("subject"),
            "body": content.get("body"),
            "author": content.get("author"),
            "status": row["status"],
            "due_at": _iso(row["due_at"]),
            "confidential": row["confidential"],
            "anonymous": content.get("anonymous", False),
            "source_status": content.get("source_status"),
            "link": {
                "method": row["link_method"],
                "score": row["link_score"],
                "evidence": _evidence(row["link_evidence"], reveal),
            } if case_id else None,
        }


def _evidence(evidence: dict[str, Any], reveal: bool) -> dict[str, Any]:
    """Evidence holds kinds and figures (and message ids of a thread), never personal data by
    design; its strings are masked anyway, the way a record's free-form extras are."""
    return mask_record_content({"extra": evidence}, reveal=reveal)["extra"]


def _write_csv(objects: Iterator[dict[str, Any]], out: TextIO) -> None:
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for obj in objects:
        author = obj.pop("author") or {}
        link = obj.pop("link") or {}
        writer.writerow(
            {
                **obj,
                **{f"author_{k}": author.get(k) for k in ("name", "email", "phone", "handle")},
                "link_method": link.get("method"),
                "link_score": link.get("score"),
            }
        )


def run_export(ctx: Context, args: argparse.Namespace) -> int:
    reveal = ctx.check_reveal(args.reveal, args.reason)
    store = ctx.store()
    out: TextIO = open(args.output, "w", encoding="utf-8", newline="") if args.output else sys.stdout
    try:
        with store.transaction() as conn:
            if reveal:
                record_audit(conn, ctx.actor, "reveal_export", datetime.now(timezone.utc),
                             detail={"reason": args.reason})
        with store.engine.connect() as conn:
            objects = export_objects(store_cases.iter_export_rows(conn), reveal)
            if args.format == "csv":
                _write_csv(objects, out)
            else:
                for obj in objects:
                    out.write(json.dumps(obj, ensure_ascii=False) + "\n")
    finally:
        if args.output:
            out.close()
    if args.output:
        print(f"exported to {args.output}", file=sys.stderr)
    return 0
