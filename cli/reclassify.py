"""``pengaduan reclassify RECORD KIND``: staff overrule the automatic kind of a record."""

from __future__ import annotations

import argparse
from datetime import datetime, timezone

from pengaduan.cases.linking import stored_case_title
from pengaduan.cases.status import case_number
from pengaduan.cli.context import Context
from pengaduan.errors import ConfigError
from pengaduan.normalizer.record import Kind
from pengaduan.store import cases as store_cases
from pengaduan.store.audit import record_audit
from pengaduan.store.records import set_kind


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "reclassify",
        help="overrule the automatic kind of a record (a comment taken for praise that is a complaint)",
    )
    parser.add_argument("record", type=int, help="record number (see 'queue show' or 'export')")
    parser.add_argument("kind", choices=[str(k) for k in Kind])
    parser.add_argument("--reason", default="", help="why (kept in the audit log)")
    parser.set_defaults(handler=reclassify)


def reclassify(ctx: Context, args: argparse.Namespace) -> int:
    kind = Kind(args.kind)
    now = datetime.now(timezone.utc)
    settings = ctx.settings
    with ctx.store().transaction() as conn:
        try:
            before = set_kind(conn, args.record, kind, now)
        except KeyError:
            raise ConfigError(f"no record {args.record} in the store") from None
        case_id = store_cases.case_of_record(conn, args.record)
        opened = None
        if case_id is None and kind is not Kind.NOT_COMPLAINT:
            # Now a complaint: it needs a case and a deadline like any other.
            [opened] = store_cases.open_cases(conn, [store_cases.NewCase(
                record_id=args.record, channel=before["channel"], title=stored_case_title(before),
                received_at=before["received_at"],
                due_at=settings.calendar.due_at(now, settings.due_working_days),
                confidential=before["confidential"],
            )], now)
        record_audit(conn, ctx.actor, "reclassify", now, case_id=case_id or opened,
                     record_id=args.record,
                     detail={"from": before["kind"], "to": str(kind), "reason": args.reason})
    opened_text = f"; opened case {case_number(opened, now.year)}" if opened else ""
    print(f"record {args.record}: {before['kind']} → {kind}{opened_text}")
    return 0
