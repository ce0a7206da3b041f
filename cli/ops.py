"""Operator commands: run, collect, import, quarantine, status, db."""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import datetime, timezone
from pathlib import Path

from pengaduan.cli.context import Context
from pengaduan.cli.output import Progress, local, shorten, table
from pengaduan.collectors.lapor_export import LaporExportCollector, LaporExportConfig
from pengaduan.collectors.mail_archive import MailArchiveCollector, MailArchiveConfig
from pengaduan.errors import ConfigError
from pengaduan.health.snapshot import case_counts
from pengaduan.pipeline import Pipeline, RunReport, serve
from pengaduan.store import leases as store_leases
from pengaduan.store import quarantine as store_quarantine
from pengaduan.store import state as store_state
from pengaduan.store.db import Store, display_url


def add_parsers(commands: argparse._SubParsersAction) -> None:
    run = commands.add_parser("run", help="poll every enabled collector on its schedule")
    run.add_argument("--once", action="store_true", help="run each enabled collector once, then exit")
    run.set_defaults(handler=run_command)

    collect = commands.add_parser("collect", help="run one collector instance once")
    collect.add_argument("name", help="the instance name, [collectors.NAME] in the settings")
    collect.set_defaults(handler=collect_command)

    imp = commands.add_parser("import", help="ingest files by hand (backfill)")
    kinds = imp.add_subparsers(dest="import_kind", required=True, metavar="KIND")
    lapor = kinds.add_parser("lapor", help="SP4N-LAPOR! export files (.xlsx, .csv)")
    lapor.add_argument("files", nargs="+", type=Path, metavar="FILE")
    lapor.add_argument("--collector", metavar="NAME",
                       help="the lapor_export instance to import as (default: the configured "
                            "one, or 'lapor')")
    lapor.set_defaults(handler=import_lapor)
    email = kinds.add_parser("email", help=".eml files, mbox files or Maildir folders (backfill)")
    email.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    email.add_argument("--collector", metavar="NAME", default="mail-import",
                       help="instance name the import is recorded under (default: mail-import)")
    email.set_defaults(handler=import_email)

    quarantine = commands.add_parser("quarantine", help="items that could not be normalised")
    qsub = quarantine.add_subparsers(dest="quarantine_command", required=True, metavar="ACTION")
    qlist = qsub.add_parser("list", help="open entries with their reason")
    qlist.add_argument("--all", action="store_true", help="resolved entries too")
    qlist.set_defaults(handler=quarantine_list)
    replay = qsub.add_parser("replay", help="retry entries with today's code and settings")
    replay.add_argument("ids", nargs="*", type=int, metavar="ID", help="default: every open entry")
    replay.set_defaults(handler=quarantine_replay)

    status = commands.add_parser("status", help="each collector's health")
    status.set_defaults(handler=status_command)

    db = commands.add_parser("db", help="database schema")
    dbsub = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    upgrade = dbsub.add_parser("upgrade", help="apply pending schema migrations")
    upgrade.set_defaults(handler=db_upgrade)


log = logging.getLogger("pengaduan")
SHOWN_PARKED = 20
# Outcomes of a run asked for by hand that did not do what was asked (skipped: another
# process holds the collector's lease).
NOT_DONE = ("failed", "skipped")


def _print_report(report: RunReport) -> None:
    for note in report.notes:
        print(f"  note: {note}", file=sys.stderr)
    for line in report.parked[:SHOWN_PARKED]:
        print(f"  quarantined {line}", file=sys.stderr)
    if len(report.parked) > SHOWN_PARKED:
        print(f"  … and {len(report.parked) - SHOWN_PARKED} more: see 'pengaduan quarantine list'",
              file=sys.stderr)
    print(report.summary(), file=sys.stderr if report.outcome in NOT_DONE else sys.stdout)


def run_command(ctx: Context, args: argparse.Namespace) -> int:
    for message in ctx.settings.disabled.values():
        log.error("%s", message)
        print(f"pengaduan: {message}", file=sys.stderr)
    pipeline = Pipeline(ctx.store(), ctx.settings)
    enabled = [cs for cs in ctx.settings.collectors.values() if cs.enabled]
    if not args.once:
        if not enabled:
            print("no enabled collectors in the settings; nothing to poll", file=sys.stderr)
            return 0
        serve(pipeline)
        return 0
    failed = 0
    for cs in enabled:
        report = pipeline.run(cs.build())
        _print_report(report)
        failed += report.outcome == "failed"
    return 1 if failed else 0


def collect_command(ctx: Context, args: argparse.Namespace) -> int:
    cs = ctx.settings.collectors.get(args.name)
    if cs is None:
        known = ", ".join(sorted(ctx.settings.collectors)) or "none configured"
        raise ConfigError(f"no collector named {args.name!r} in the settings (known: {known})")
    report = Pipeline(ctx.store(), ctx.settings).run(cs.build())
    _print_report(report)
    return 1 if report.outcome in NOT_DONE else 0


def import_lapor(ctx: Context, args: argparse.Namespace) -> int:
    missing = [str(p) for p in args.files if not p.is_file()]
    if missing:
        raise ConfigError(f"not a file: {', '.join(missing)}")
    collector = _lapor_collector(ctx, args.collector)
    pipeline = Pipeline(ctx.store(), ctx.settings)
    progress = Progress("importing")
    report = pipeline.run(
        collector, fetch=lambda cursor: collector.fetch_files(args.files, cursor), progress=progress
    )
    progress.done()
    _print_report(report)
    if report.outcome == "ok" and report.fetched == 0 and not report.notes:
        print("nothing new: these files were imported before", file=sys.stderr)
    return 1 if report.outcome in NOT_DONE else 0


def import_email(ctx: Context, args: argparse.Namespace) -> int:
    missing = [str(p) for p in args.paths if not p.exists()]
    if missing:
        raise ConfigError(f"not found: {', '.join(missing)}")
    collector = MailArchiveCollector(args.collector, MailArchiveConfig())
    pipeline = Pipeline(ctx.store(), ctx.settings)
    progress = Progress("importing", unit="messages")
    report = pipeline.run(
        collector, fetch=lambda cursor: collector.fetch_paths(args.paths, cursor), progress=progress
    )
    progress.done()
    _print_report(report)
    return 1 if report.outcome in NOT_DONE else 0


def _lapor_collector(ctx: Context, name: str | None) -> LaporExportCollector:
    instances = {
        n: cs for n, cs in ctx.settings.collectors.items() if cs.cls is LaporExportCollector
    }
    if name is None and len(instances) == 1:
        name = next(iter(instances))
    name = name or "lapor"
    if name in instances:
        return instances[name].build()  # type: ignore[return-value]
    if name in ctx.settings.collectors:
        raise ConfigError(f"collector {name!r} is not a lapor_export collector")
    return LaporExportCollector(name, LaporExportConfig())


def quarantine_list(ctx: Context, args: argparse.Namespace) -> int:
    with ctx.store().transaction() as conn:
        entries = store_quarantine.list_entries(conn, include_resolved=args.all)
    if not entries:
        print("quarantine is empty")
        return 0
    table(
        ["ID", "Collector", "Channel", "Source id", "Since", "Tries", "Reason"],
        [
            [str(e["id"]), e["collector"], e["channel"], shorten(e["source_id"], 40),
             local(e["created_at"]), str(e["attempts"]),
             ("[resolved] " if e["resolved_at"] else "") + e["reason"]]
            for e in entries
        ],
    )
    return 0


def quarantine_replay(ctx: Context, args: argparse.Namespace) -> int:
    pipeline = Pipeline(ctx.store(), ctx.settings)
    results = pipeline.replay_quarantine(args.ids or None)
    if not results:
        print("nothing to replay")
    for entry_id, result in results:
        print(f"{entry_id}: {result}")
    return 1 if any(r.startswith("still failing") for _, r in results) else 0


def status_command(ctx: Context, args: argparse.Namespace) -> int:
    now = datetime.now(timezone.utc)
    with ctx.store().transaction() as conn:
        states = {s.collector: s for s in store_state.all_states(conn)}
        runs = store_state.last_runs(conn)
        parked = store_quarantine.count_open(conn)
        leases = store_leases.live_leases(conn)
    names = sorted(set(states) | set(ctx.settings.collectors))
    if not names:
        print("no collectors configured or seen yet")
        return 0
    rows = []
    problems = []
    for name in names:
        state = states.get(name)
        cs = ctx.settings.collectors.get(name)
        run = runs.get(name)
        lag = (
            f"{(now - state.last_success_at).total_seconds() / 60:.0f} min"
            if state and state.last_success_at else "-"
        )
        health = state.health if state else "never run"
        if cs is not None and not cs.enabled:
            health += " (disabled)"
        if state and state.retry_at and state.retry_at > now and state.health != store_state.HEALTHY:
            health += f", retry {local(state.retry_at)}"
        if name in leases:  # host:pid of the process running it now
            health += f", running on {leases[name].holder.rsplit(':', 1)[0]}"
        items = f"{run['fetched']} fetched, {run['new']} new" if run else "-"
        rows.append([
            name, cs.type if cs else (state.type if state else "?"), health,
            local(state.last_run_at) if state else "-",
            local(state.last_success_at) if state else "-", lag, items, str(parked.get(name, 0)),
        ])
        if state and state.last_error and state.health != store_state.HEALTHY:
            problems.append(f"{name}: {state.last_error}")
    problems.extend(f"{name}: {message}" for name, message in ctx.settings.disabled.items())
    table(["Collector", "Type", "Health", "Last run", "Last success", "Lag", "Last run items",
           "Quarantined"], rows)
    with ctx.store().transaction() as conn:
        open_cases, overdue = case_counts(conn, now)
    print(f"\nQuarantine: {sum(parked.values())} open entries")
    print(f"Cases: {sum(open_cases.values())} open, {sum(overdue.values())} overdue"
          + (" (" + ", ".join(f"{c}: {n}" for c, n in sorted(overdue.items()) if n) + ")"
             if any(overdue.values()) else ""))
    if problems:
        # In full: the sentence says what to renew or fix, and a cut one says nothing.
        print("\nWhat to fix:")
        for line in problems:
            print(f"  - {line}")
    unhealthy = any(s.health != store_state.HEALTHY for s in states.values())
    return 1 if unhealthy or ctx.settings.disabled else 0


def db_upgrade(ctx: Context, args: argparse.Namespace) -> int:
    store = Store(ctx.settings.store_url)
    before, after = store.upgrade()
    where = display_url(ctx.settings.store_url)
    if before == after:
        print(f"{where}: schema already at {after}")
    else:
        print(f"{where}: schema upgraded from {before or 'empty'} to {after}")
    store.dispose()
    return 0
