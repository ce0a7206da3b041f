"""``pengaduan collectors``: which collector types are installed, and a new plug-in package.

``list`` shows every type the ``pengaduan.collectors`` entry-point group offers (built-in and
plug-in, with package and version), every plug-in that failed to load (disabled, with its
error), and the configured instances with their health from the store.
``new NAME`` writes a ready package to start a new channel from (docs/collectors.md).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pengaduan.cli.context import Context
from pengaduan.cli.output import local, shorten, table
from pengaduan.collectors import scaffold
from pengaduan.collectors.registry import load_registry
from pengaduan.errors import ConfigError
from pengaduan.store import state as store_state


def add_parser(commands: argparse._SubParsersAction) -> None:
    collectors = commands.add_parser("collectors", help="installed collector types and plug-ins")
    sub = collectors.add_subparsers(dest="collectors_command", required=True, metavar="ACTION")
    listing = sub.add_parser("list", help="installed types, broken plug-ins, configured instances")
    listing.set_defaults(handler=list_command)
    new = sub.add_parser("new", help="generate a plug-in package for a new channel")
    new.add_argument("name", help="the new collector type, e.g. whatsapp (lower case, digits, _)")
    new.add_argument("--dir", type=Path, default=Path("."),
                     help="where to create pengaduan-collector-NAME/ (default: here)")
    new.set_defaults(handler=new_command)


def list_command(ctx: Context, args: argparse.Namespace) -> int:
    registry = load_registry()
    print("Installed collector types")
    table(
        ["Type", "Channel", "Package", "Version", "Class"],
        [
            [name, getattr(cls, "channel", "?"), *registry.packages[name],
             f"{cls.__module__}.{cls.__qualname__}"]
            for name, cls in sorted(registry.types.items())
        ],
    )
    status = 0
    if registry.broken:
        status = 1
        print("\nBroken plug-ins (disabled)")
        table(["Type", "Package", "Error"],
              [[b.name, b.package, b.error] for b in registry.broken])
    print("\nConfigured instances")
    if not ctx.config_path.exists():
        print(f"no settings file at {ctx.config_path}")
        return status
    try:
        settings = ctx.settings
    except ConfigError as exc:
        print(f"the settings cannot be read: {exc}", file=sys.stderr)
        return 2
    if not settings.collectors:
        print("none: add a [collectors.NAME] section to the settings")
        return status
    with ctx.store().transaction() as conn:
        states = {s.collector: s for s in store_state.all_states(conn)}
    rows = []
    for name, cs in sorted(settings.collectors.items()):
        state = states.get(name)
        health = state.health if state else "never run"
        rows.append([
            name, cs.type, "yes" if cs.enabled else "no", health,
            local(state.last_success_at) if state else "-",
            shorten(state.last_error, 80) if state and state.last_error else "",
        ])
    table(["Instance", "Type", "Enabled", "Health", "Last success", "Last error"], rows)
    return status


def new_command(ctx: Context, args: argparse.Namespace) -> int:
    registry = load_registry()
    installed = {name: package for name, (package, _) in registry.packages.items()}
    installed.update({b.name: f"{b.package} (broken)" for b in registry.broken})
    target = scaffold.create(args.name, args.dir, installed)
    print(f"created {target}")
    print(f"next: pip install -e {target}  (with pengaduan's own pip), then "
          f"'pengaduan collectors list'; read docs/collectors.md")
    return 0
