"""``pengaduan``: the command line (DESIGN.md §7).

Errors a person can act on are printed as one sentence and a non-zero exit code; a traceback
only appears with --verbose, for an error that is ours.
"""

from __future__ import annotations

import argparse
import gc
import logging
import sys
from collections.abc import Sequence

from pengaduan import __version__
from pengaduan.cli import collectors, export, ops, queue, reclassify
from pengaduan.cli.context import Context
from pengaduan.cli.logs import setup_logging
from pengaduan.errors import ConfigError, PengaduanError
from pengaduan.normalizer.pii import mask_for_log
from pengaduan.settings import settings_path

log = logging.getLogger("pengaduan")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pengaduan",
        description="Gathers every public complaint to the office into one handling queue.",
    )
    parser.add_argument("--config", metavar="PATH",
                        help="settings file (default: $PENGADUAN_CONFIG or ./settings.toml)")
    parser.add_argument("--verbose", "-v", action="store_true", help="debug logging, tracebacks")
    parser.add_argument("--log-format", choices=["auto", "json", "text"], default="auto",
                        help="log lines as JSON or text (auto: text on a terminal)")
    parser.add_argument("--version", action="version", version=f"pengaduan {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    ops.add_parsers(commands)
    queue.add_parser(commands)
    export.add_parser(commands)
    reclassify.add_parser(commands)
    collectors.add_parser(commands)
    return parser


def tune_gc() -> None:
    """Collect young objects every 10 000 allocations rather than 700. A batch's linking keeps
    ~100 000 containers alive for the batch's seconds (bucket lists, candidates, records):
    with the default, many live through two young collections, count as long-lived and set off
    a full collection of the whole heap, the candidate cache included, after nearly every
    batch (bench/RESULTS.md: ~12 % of a 20 000-row import). They are freed by reference
    counting; cyclic garbage, which we hardly make, only waits a little longer."""
    gc.set_threshold(10_000, 10, 10)


def main(argv: Sequence[str] | None = None) -> int:
    tune_gc()
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(args.verbose, args.log_format)
    ctx = Context(settings_path(args.config))
    try:
        return int(args.handler(ctx, args) or 0)
    except ConfigError as exc:
        print(f"pengaduan: {exc}", file=sys.stderr)
        return 2
    except PengaduanError as exc:
        print(f"pengaduan: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("pengaduan: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:
        if args.verbose:
            raise
        log.debug("unexpected error", exc_info=True)
        print(
            f"pengaduan: unexpected error ({type(exc).__name__}: {mask_for_log(str(exc))}); "
            "run again with --verbose and report it",
            file=sys.stderr,
        )
        return 3
    finally:
        ctx.close()


if __name__ == "__main__":
    sys.exit(main())
