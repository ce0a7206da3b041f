"""Staff commands on the handling queue (in Bahasa Indonesia: the team works in it)."""

from __future__ import annotations

import argparse
from datetime import datetime, timezone

from pengaduan.cases.status import LABELS, OPEN, CaseStatus, case_number
from pengaduan.cli import queue_links
from pengaduan.cli.context import Context
from pengaduan.cli.output import local, shorten, table
from pengaduan.errors import ConfigError
from pengaduan.normalizer.pii import mask_record_content, mask_text
from pengaduan.store import cases as store_cases
from pengaduan.store import links as store_links
from pengaduan.store.audit import audit_of_case, record_audit


def add_parser(commands: argparse._SubParsersAction) -> None:
    queue = commands.add_parser("queue", help="list, read and move cases in the handling queue")
    sub = queue.add_subparsers(dest="queue_command", required=True, metavar="ACTION")

    listing = sub.add_parser("list", help="open cases, earliest deadline first")
    listing.add_argument("--status", choices=[str(s) for s in CaseStatus], action="append",
                         help="only cases in this status (repeatable); default: every open one")
    listing.add_argument("--all", action="store_true", help="archived cases too")
    listing.add_argument("--overdue", action="store_true", help="only cases past their deadline")
    listing.add_argument("--limit", type=int, default=None, help="show at most N cases")
    listing.set_defaults(handler=list_queue)

    show = sub.add_parser("show", help="one case with every record, history and audit trail")
    show.add_argument("case", help="case number, e.g. PGD-2026-000123")
    show.add_argument("--reveal", action="store_true",
                      help="show personal data unmasked (needs --reason; logged in the audit)")
    show.add_argument("--reason", help="why the personal data is needed")
    show.set_defaults(handler=show_case)

    move = sub.add_parser("status", help="move a case to the next step of the standard")
    move.add_argument("case", help="case number")
    move.add_argument("new_status", choices=[str(s) for s in CaseStatus])
    move.add_argument("--note", default="", help="what was done (kept in the audit log)")
    move.set_defaults(handler=move_case)

    queue_links.add_parsers(sub)


def list_queue(ctx: Context, args: argparse.Namespace) -> int:
    statuses = args.status or [str(s) for s in (CaseStatus if args.all else OPEN)]
    now = datetime.now(timezone.utc)
    with ctx.store().transaction() as conn:
        rows = store_cases.list_cases(conn, statuses, now if args.overdue else None, args.limit)
    if not rows:
        print("Tidak ada kasus." if not args.overdue else "Tidak ada kasus yang lewat tenggat.")
        return 0
    table(
        ["No. Kasus", "Status", "Diterima", "Tenggat", "Kanal", "Rekaman", "Judul"],
        [
            [
                case_number(r["id"], r["opened_at"].year),
                LABELS[CaseStatus(r["status"])] + (" (TERLAMBAT)" if r["due_at"] < now and r["status"] in OPEN else ""),
                local(r["received_at"]),
                local(r["due_at"]),
                r["channel"],
                str(r["records"]),
                ("[RAHASIA] " if r["confidential"] else "") + shorten(r["title"], 60),
            ]
            for r in rows
        ],
    )
    print(f"\n{len(rows)} kasus.")
    return 0


def show_case(ctx: Context, args: argparse.Namespace) -> int:
    case_id = queue_links.case_id_of(args.case)
    reveal = ctx.check_reveal(args.reveal, args.reason)
    now = datetime.now(timezone.utc)
    with ctx.store().transaction() as conn:
        case = store_cases.get_case(conn, case_id)
        if case is None:
            raise ConfigError(f"no case {args.case} in the store; see 'pengaduan queue list'")
        records = store_cases.records_of_case(conn, case_id)
        if reveal:
            record_audit(conn, ctx.actor, "reveal", now, case_id=case_id,
                         detail={"reason": args.reason, "records": [r["id"] for r in records]})
        audit = audit_of_case(conn, case_id)
        suggestions = store_links.suggestions(conn, case_id)
        relations = queue_links.relation_lines(conn, case_id)
    number = case_number(case_id, case["opened_at"].year)
    print(f"Kasus {number}{'  [RAHASIA]' if case['confidential'] else ''}")
    print(f"  Status    : {LABELS[CaseStatus(case['status'])]}")
    print(f"  Judul     : {case['title'] or '-'}")
    print(f"  Diterima  : {local(case['received_at'])} (kanal {case['channel']})")
    overdue = " — TERLAMBAT" if case["due_at"] < now and case["status"] in OPEN else ""
    print(f"  Tenggat   : {local(case['due_at'])}{overdue}")
    for line in relations:
        print(f"  Relasi    : {line}")
    for record in records:
        content = mask_record_content(record["content"], reveal=reveal)
        author = content.get("author") or {}
        print(f"\n  Rekaman #{record['id']} — {record['channel']} {record['source_id']} "
              f"({record['kind']}, tautan: {record['link_method']})")
        print(f"    Diterima : {local(record['received_at'])}")
        print(f"    Pelapor  : {author.get('name') or '-'}")
        if content.get("source_status"):
            print(f"    Status sumber: {content['source_status']}")
        if content.get("subject"):
            print(f"    Judul    : {content['subject']}")
        print("    Isi      :")
        for line in (content.get("body") or "").splitlines() or ["-"]:
            print(f"      {line}")
        for revision in record["revisions"]:
            old = mask_record_content(revision["content"], reveal=reveal)
            print(f"    Versi {revision['revision']} (s/d {local(revision['valid_to'])}): "
                  f"status sumber {old.get('source_status') or '-'}")
    if suggestions:
        print("\n  Usulan duplikat terbuka (putuskan: queue confirm NO / queue reject NO):")
        queue_links.print_suggestions(suggestions)
    if audit:
        print("\n  Jejak audit:")
        for entry in audit:
            detail = mask_text(str(entry["detail"])) if entry["detail"] else ""
            print(f"    {local(entry['at'])}  {entry['actor']}  {entry['action']}  {detail}")
    return 0


def move_case(ctx: Context, args: argparse.Namespace) -> int:
    case_id = queue_links.case_id_of(args.case)
    new = CaseStatus(args.new_status)
    now = datetime.now(timezone.utc)
    with ctx.store().transaction() as conn:
        case = store_cases.get_case(conn, case_id)
        if case is None:
            raise ConfigError(f"tidak ada kasus nomor {args.case} di penyimpanan; "
                              "lihat 'pengaduan queue list'")
        into = store_links.merged_into(conn, case_id)
        if into is not None:
            # Its records are handled in the case it went into; reopening it would make two.
            target = store_cases.get_case(conn, into)
            assert target is not None, "cases are never deleted"
            raise ConfigError(f"kasus {args.case} sudah digabung ke kasus "
                              f"{case_number(into, target['opened_at'].year)}; ubah status kasus itu")
        store_cases.set_status(conn, case_id, new, now)
        record_audit(conn, ctx.actor, "status", now, case_id=case_id,
                     detail={"from": case["status"], "to": str(new), "note": args.note})
    print(f"{case_number(case_id, case['opened_at'].year)}: {LABELS[CaseStatus(case['status'])]} → {LABELS[new]}")
    return 0
