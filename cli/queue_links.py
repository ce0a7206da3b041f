"""``queue suggestions|confirm|reject|link|unlink|merge|split``: staff say which records are one
complaint (in Bahasa Indonesia, like the rest of ``queue``). The rules are in
``cases/regroup.py``; this module reads arguments and prints what happened."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Connection

from pengaduan.cases import regroup
from pengaduan.cases.identity import CONFLICT, SAME, UNKNOWN
from pengaduan.cases.status import case_number, parse_case_number
from pengaduan.cli.context import Context
from pengaduan.cli.output import local, table
from pengaduan.errors import ConfigError
from pengaduan.normalizer.pii import mask_text
from pengaduan.store import cases as store_cases
from pengaduan.store import links as store_links


def add_parsers(sub: argparse._SubParsersAction) -> None:
    listing = sub.add_parser("suggestions", help="open possible-duplicate suggestions, newest first")
    listing.add_argument("case", nargs="?", help="only those about this case")
    listing.set_defaults(handler=list_suggestions)

    def action(name: str, help: str, handler: Callable[..., int]) -> argparse.ArgumentParser:
        parser = sub.add_parser(name, help=help)
        parser.add_argument("--note", default="", help="why (kept in the audit log)")
        parser.set_defaults(handler=handler)
        return parser

    confirm = action("confirm", "a suggestion is right: its record joins the suggested case",
                     confirm_suggestion)
    confirm.add_argument("suggestion", type=int, help="suggestion number (queue suggestions)")
    reject = action("reject", "a suggestion is wrong: never suggested again", reject_suggestion)
    reject.add_argument("suggestion", type=int, help="suggestion number (queue suggestions)")
    link = action("link", "put one record in a case", link_record)
    link.add_argument("record", type=int, help="record number (queue show)")
    link.add_argument("case", help="case number, e.g. PGD-2026-000123")
    unlink = action("unlink", "take one record out of its case into a new case", unlink_record)
    unlink.add_argument("record", type=int, help="record number (queue show)")
    merge = action("merge", "every record of CASE_B into CASE_A; CASE_B is closed as merged",
                   merge_cases)
    merge.add_argument("case_a", help="the case that stays")
    merge.add_argument("case_b", help="the case merged into it")
    split = action("split", "the given records leave the case into one new case", split_case)
    split.add_argument("case", help="case number")
    split.add_argument("records", type=int, nargs="+", metavar="RECORD", help="record numbers")


def case_id_of(text: str) -> int:
    case_id = parse_case_number(text)
    if case_id is None:
        raise ConfigError(f"{text!r} is not a case number; they look like PGD-2026-000123")
    return case_id


# --- reading --------------------------------------------------------------------------------


def list_suggestions(ctx: Context, args: argparse.Namespace) -> int:
    case_id = case_id_of(args.case) if args.case else None
    with ctx.store().transaction() as conn:
        if case_id is not None and store_cases.get_case(conn, case_id) is None:
            raise ConfigError(f"tidak ada kasus {args.case} di penyimpanan; "
                              "lihat 'pengaduan queue list'")
        rows = store_links.suggestions(conn, case_id)
    if not rows:
        print("Tidak ada usulan duplikat yang terbuka.")
        return 0
    print_suggestions(rows)
    print(f"\n{len(rows)} usulan. Putuskan dengan 'pengaduan queue confirm NO' atau "
          "'pengaduan queue reject NO'.")
    return 0


def print_suggestions(rows: list[dict[str, Any]]) -> None:
    table(
        ["No.", "Kasus", "Rekaman (kasusnya)", "Cocok dengan", "Skor", "Dibuat", "Bukti"],
        [
            [
                str(s["id"]),
                case_number(s["case_id"], s["case_opened_at"].year),
                f"#{s['record_id']}" + (
                    f" ({case_number(s['record_case_id'], s['record_case_opened_at'].year)})"
                    if s["record_case_id"] else ""),
                f"#{s['matched_record_id']}" if s["matched_record_id"] else "-",
                f"{s['score']:.2f}",
                local(s["created_at"]),
                evidence_text(s["evidence"]),
            ]
            for s in rows
        ],
    )


IDENTITY = {SAME: "sama", CONFLICT: "bertentangan", UNKNOWN: "tidak diketahui"}
FLAGS = {"names_differ": "nama berbeda", "same_channel": "kanal sama", "template": "templat",
         "outside_window": "di luar jendela waktu"}


def evidence_text(evidence: dict[str, Any]) -> str:
    """A short line from a link's evidence; only kinds and figures, masked all the same."""
    signals = evidence.get("signals") or {}
    parts = []
    identity = evidence.get("identity") or signals.get("identity")
    if identity:
        shared = signals.get("identity_shared")
        parts.append(f"identitas {IDENTITY.get(identity, identity)}"
                     + (f" ({', '.join(shared)})" if shared else ""))
    if "char_jaccard" in signals:
        parts.append(f"teks {signals['char_jaccard']:.2f}/{signals.get('word_jaccard', 0):.2f}")
    if signals.get("channels"):
        parts.append("kanal " + "→".join(signals["channels"]))
    if "days_apart" in signals:
        parts.append(f"selang {signals['days_apart']} hari")
    parts += [label for key, label in FLAGS.items() if signals.get(key)]
    return mask_text("; ".join(parts)) or "-"


RELATIONS = {  # (kind, this case is the one that relates) → how staff read it
    (store_links.REOPENED_FROM, True): "dibuka kembali dari",
    (store_links.REOPENED_FROM, False): "dibuka kembali sebagai",
    (store_links.MERGED_INTO, True): "digabung ke",
    (store_links.MERGED_INTO, False): "menerima gabungan dari",
}


def relation_lines(conn: Connection, case_id: int) -> list[str]:
    """The case's relations to other cases, oldest first, one line each (no personal data)."""
    lines = []
    for rel in store_links.relations_of_case(conn, case_id):
        mine = rel["case_id"] == case_id
        other = store_cases.get_case(conn, rel["related_case_id"] if mine else rel["case_id"])
        assert other is not None, "cases are never deleted"
        label = RELATIONS.get((rel["kind"], mine), rel["kind"])
        lines.append(f"{label} {case_number(other['id'], other['opened_at'].year)} "
                     f"({local(rel['created_at'])}, {rel['created_by']})")
    return lines


# --- acting ---------------------------------------------------------------------------------


def _act(ctx: Context, args: argparse.Namespace,
         action: Callable[[Connection, regroup.Staff], Any]) -> Any:
    staff = regroup.Staff(ctx.actor, datetime.now(timezone.utc), args.note)
    with ctx.store().transaction() as conn:
        return action(conn, staff)


def _deadline(ctx: Context) -> regroup.Deadline:
    settings = ctx.settings
    return lambda received_at: settings.calendar.due_at(received_at, settings.due_working_days)


def _report(moved: regroup.Moved) -> None:
    if moved.redirected:
        print(f"Kasus {moved.redirected} telah digabung ke {moved.into}; dipakai {moved.into}.")
    if moved.source_closed:
        print(f"Kasus {moved.source} kini kosong dan ditutup: digabung ke {moved.into}.")
    elif moved.source and moved.source_left:
        print(f"Kasus {moved.source} masih berisi {moved.source_left} rekaman.")


def _records(moved: regroup.Moved) -> str:
    return ", ".join(f"#{r}" for r in moved.records)


def confirm_suggestion(ctx: Context, args: argparse.Namespace) -> int:
    moved = _act(ctx, args, lambda conn, staff: regroup.confirm(conn, args.suggestion, staff))
    print(f"Usulan #{args.suggestion} dikonfirmasi: rekaman {_records(moved)} masuk ke kasus "
          f"{moved.into}" + (f" (dari {moved.source})." if moved.source else "."))
    _report(moved)
    return 0


def reject_suggestion(ctx: Context, args: argparse.Namespace) -> int:
    record_id, case = _act(ctx, args,
                           lambda conn, staff: regroup.reject(conn, args.suggestion, staff))
    print(f"Usulan #{args.suggestion} ditolak: rekaman #{record_id} tidak akan diusulkan lagi "
          f"untuk kasus {case}.")
    return 0


def link_record(ctx: Context, args: argparse.Namespace) -> int:
    case_id = case_id_of(args.case)
    moved = _act(ctx, args, lambda conn, staff: regroup.link(conn, args.record, case_id, staff))
    print(f"Rekaman #{args.record} masuk ke kasus {moved.into}"
          + (f" (dari {moved.source})." if moved.source else "."))
    _report(moved)
    return 0


def unlink_record(ctx: Context, args: argparse.Namespace) -> int:
    deadline = _deadline(ctx)
    moved = _act(ctx, args, lambda conn, staff: regroup.unlink(conn, args.record, staff, deadline))
    print(f"Rekaman #{args.record} dilepas dari kasus {moved.source} ke kasus baru {moved.into}.")
    _report(moved)
    return 0


def merge_cases(ctx: Context, args: argparse.Namespace) -> int:
    into, source = case_id_of(args.case_a), case_id_of(args.case_b)
    moved = _act(ctx, args, lambda conn, staff: regroup.merge(conn, into, source, staff))
    print(f"Kasus {moved.source} digabung ke {moved.into}: {len(moved.records)} rekaman "
          f"({_records(moved)}) pindah; {moved.source} ditutup.")
    if moved.redirected:
        print(f"(Kasus {moved.redirected} sudah pernah digabung; dipakai kasus tujuannya.)")
    return 0


def split_case(ctx: Context, args: argparse.Namespace) -> int:
    case_id, deadline = case_id_of(args.case), _deadline(ctx)
    moved = _act(ctx, args,
                 lambda conn, staff: regroup.split(conn, case_id, args.records, staff, deadline))
    print(f"Rekaman {_records(moved)} dipisah dari kasus {moved.source} ke kasus baru "
          f"{moved.into}.")
    _report(moved)
    return 0
