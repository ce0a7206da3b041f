#!/usr/bin/env python3
"""Benchmark: what one idle poll costs each channel, in requests to its source.

    python bench/idle_poll.py [--quick]

Each collector runs twice through ``Pipeline.run`` into its own SQLite store: the first run
ingests what the source holds, the second finds nothing new, as every scheduled poll of a
quiet night does. The second run's requests are counted where the source sees them:

  imap            a private Dovecot (tests/services/dovecot.py) with three folders, reached
                  through a relay that notes every command the client sends on the wire
  facebook_page,  loopback servers answering the documented payload shapes
  instagram,      (bench/fake_platforms.py) and logging every request
  youtube
  lapor_export    a watch folder of exports already read: the files the poll opens

Goals (issue 7): one command per IMAP folder, at most one request per social source. The
sources hold what a regency office's would after half a year: one Facebook post a day, an
Instagram post every two days, a YouTube video every three days (``--quick``: a few each).

The social collectors list their whole window only in a sweep, every ``sweep_minutes`` (60);
the runs between are quick polls (collectors/graph.py, collectors/youtube.py say what each
finds later for it). The second run above is a quick poll; a third run with
``sweep_minutes = 0`` shows what the hourly sweep of the same quiet source asks, for the
table (the goal is judged on the quick poll, which is what most polls are).
"""

from __future__ import annotations

import argparse
import re
import shutil
import socket
import sys
import tempfile
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "samples"), str(ROOT / "tests")]

from fake_platforms import CHANNEL_ID, IG_USER_ID, PAGE_ID, TOKEN, FakeGraph, FakeYoutube  # noqa: E402
from generate_lapor import fake_rows, write_export  # noqa: E402
from mail_import import fake_mails  # noqa: E402
from services.dovecot import new_account, start_dovecot  # noqa: E402

from common import Figure, check, open_store, print_summary  # noqa: E402
from pengaduan.collectors.base import Collector  # noqa: E402
from pengaduan.collectors.facebook_page import FacebookPageCollector, FacebookPageConfig  # noqa: E402
from pengaduan.collectors.imap import ImapCollector, ImapConfig  # noqa: E402
from pengaduan.collectors.instagram import InstagramCollector, InstagramConfig  # noqa: E402
from pengaduan.collectors.lapor_export import LaporExportCollector, LaporExportConfig  # noqa: E402
from pengaduan.collectors.testing import serve_http  # noqa: E402
from pengaduan.collectors.youtube import YoutubeCollector, YoutubeConfig  # noqa: E402
from pengaduan.pipeline import Pipeline  # noqa: E402
from pengaduan.settings import Secret, parse_settings  # noqa: E402

FOLDERS = ("INBOX", "Pengaduan", "Arsip")
SESSION = ("CAPABILITY", "LOGIN", "LOGOUT")  # once per connection, whatever the folders


@dataclass(frozen=True)
class Sizes:
    mails_per_folder: int
    facebook_posts: int
    instagram_media: int
    youtube_videos: int
    lapor_files: int
    lapor_rows: int


FULL = Sizes(40, 180, 90, 60, 5, 200)
QUICK = Sizes(3, 5, 5, 3, 1, 20)


@dataclass(frozen=True)
class Poll:
    channel: str
    held: str  # what the source holds
    ingested: int  # items the first run stored
    requests: list[str]  # what the idle poll asked, in order
    swept: list[str] | None = None  # what an idle sweep asked (social sources only)


# --- counting ----------------------------------------------------------------------------


class ImapRelay:
    """A TCP relay to an IMAP server that notes the name of every command a client sends:
    counted on the wire, whatever the client library does underneath."""

    def __init__(self, host: str, port: int):
        self.target = (host, port)
        self.commands: list[str] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self._listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # closed
            server = socket.create_connection(self.target)
            threading.Thread(target=self._pipe, args=(server, client, None), daemon=True).start()
            threading.Thread(target=self._pipe, args=(client, server, _Commands(self.commands)),
                             daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket, note: _Commands | None) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
                if note is not None:
                    note.feed(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


class _Commands:
    """Command names out of a client's byte stream: the word after each tag (two for UID
    commands), skipping literals ({n} or {n+} ends a line and n bytes of data follow)."""

    LITERAL = re.compile(rb"\{(\d+)\+?\}$")

    def __init__(self, names: list[str]):
        self.names, self.buffer, self.literal, self.continued = names, b"", 0, False

    def feed(self, data: bytes) -> None:
        self.buffer += data
        while True:
            if self.literal:
                taken = min(self.literal, len(self.buffer))
                self.buffer, self.literal = self.buffer[taken:], self.literal - taken
                if self.literal:
                    return
            end = self.buffer.find(b"\r\n")
            if end < 0:
                return
            line, self.buffer = self.buffer[:end], self.buffer[end + 2:]
            words = line.split()
            if not self.continued and len(words) > 1:  # "DONE" (ends IDLE) has no tag
                self.names.append(b" ".join(words[1:3] if words[1].upper() == b"UID"
                                            else words[1:2]).decode().upper())
            literal = self.LITERAL.search(line)
            self.literal, self.continued = (int(literal.group(1)), True) if literal else (0, False)


class FileOpens:
    """Names of the files opened under ``folder`` until ``stop()``: an audit hook sees every
    open()."""

    def __init__(self, folder: Path):
        self.prefix, self.names, self.active = str(folder) + "/", [], True
        sys.addaudithook(self._hook)

    def stop(self) -> None:
        self.active = False  # an audit hook cannot be removed: this one goes quiet instead

    def _hook(self, event: str, args: tuple) -> None:
        if self.active and event == "open" and str(args[0]).startswith(self.prefix):
            self.names.append(Path(args[0]).name)


# --- one channel -------------------------------------------------------------------------


def two_runs(workdir: Path, make: Callable[[], Collector], requests: list[str], channel: str,
             held: str, sweep: Callable[[], Collector] | None = None) -> Poll:
    """Ingest with one run, then take what the idle run asked of the source from
    ``requests``, the source's own log of them; then, with ``sweep``, what an idle sweep asks."""
    url = f"sqlite:///{workdir / f'{channel}.db'}"
    store = open_store(url)
    try:
        pipeline = Pipeline(store, parse_settings({"store": {"url": url}}, ROOT))
        first = pipeline.run(make())
        check(f"{channel} first run", first, first.new > 0)
        before = len(requests)
        idle = pipeline.run(make())
        check(f"{channel} idle poll", idle, idle.fetched == 0)
        polled = len(requests)
        swept = None
        if sweep is not None:
            report = pipeline.run(sweep())
            check(f"{channel} idle sweep", report, report.fetched == 0)
            swept = requests[polled:]
        return Poll(channel, held, first.new, requests[before:polled], swept)
    finally:
        store.dispose()


def poll_imap(workdir: Path, sizes: Sizes) -> Poll:
    # Right under /tmp, not in workdir (0700): the mail user Dovecot serves as must reach it.
    base = Path(tempfile.mkdtemp(prefix="bench-imap-"))
    server = start_dovecot(base)
    relay = ImapRelay(server.host, server.port)
    try:
        account = new_account(server)
        mails = iter(fake_mails(sizes.mails_per_folder * len(FOLDERS)))
        for folder in FOLDERS:
            for _ in range(sizes.mails_per_folder):
                message, received = next(mails)
                account.append(folder, message.as_bytes(), internal_date=received)
        config = ImapConfig(host="127.0.0.1", port=relay.port, ssl=False,
                            username=account.username,
                            password=Secret(account.password, "bench"), folders=list(FOLDERS))
        return two_runs(workdir, lambda: ImapCollector("mail", config), relay.commands,
                        "imap", f"{len(FOLDERS)} folders x {sizes.mails_per_folder} mails")
    finally:
        relay.close()
        server.stop()
        shutil.rmtree(base, ignore_errors=True)


def poll_graph(workdir: Path, kind: str, posts: int, texts: list[str]) -> Poll:
    fake = FakeGraph(kind, posts, datetime.now(timezone.utc), texts)
    with serve_http(fake) as base:
        fake.base = base
        token = Secret(TOKEN, "bench")

        def make(sweep_minutes: int = 60) -> Collector:
            if kind == "facebook":
                return FacebookPageCollector("fb", FacebookPageConfig(
                    page_id=PAGE_ID, access_token=token, api_base=f"{base}/v23.0",
                    sweep_minutes=sweep_minutes))
            return InstagramCollector("ig", InstagramConfig(
                ig_user_id=IG_USER_ID, access_token=token, api_base=f"{base}/v23.0",
                sweep_minutes=sweep_minutes))

        what = "posts, one a day" if kind == "facebook" else "media, one every 2 days"
        return two_runs(workdir, make, fake.log.paths,
                        "facebook_page" if kind == "facebook" else "instagram", f"{posts} {what}",
                        sweep=lambda: make(0))


def poll_youtube(workdir: Path, videos: int, texts: list[str]) -> Poll:
    fake = FakeYoutube(videos, datetime.now(timezone.utc), texts)
    with serve_http(fake) as base:
        fake.base = base
        def make(sweep_minutes: int = 60) -> Collector:
            return YoutubeCollector("yt", YoutubeConfig(
                channel_id=CHANNEL_ID, api_key=Secret(TOKEN, "bench"),
                api_base=f"{base}/youtube/v3", sweep_minutes=sweep_minutes))

        return two_runs(workdir, make, fake.log.paths,
                        "youtube", f"{videos} videos, one every 3 days, 2 threads each",
                        sweep=lambda: make(0))


def poll_lapor(workdir: Path, sizes: Sizes) -> Poll:
    folder = workdir / "lapor-incoming"
    folder.mkdir()
    for n in range(sizes.lapor_files):  # weekly exports, each a new stretch of reports
        rows = fake_rows(sizes.lapor_rows, start_id=9_900_000 + n * sizes.lapor_rows, seed=n + 1)
        write_export(folder / f"lapor-minggu-{n + 1}.xlsx", rows, "xlsx")
    size = sum(p.stat().st_size for p in folder.iterdir()) / 1e6
    config = LaporExportConfig(watch_dir=folder, settle_seconds=0)
    opens = FileOpens(folder)
    try:
        return two_runs(workdir, lambda: LaporExportCollector("lapor", config), opens.names,
                        "lapor_export", f"{sizes.lapor_files} xlsx exports x "
                        f"{sizes.lapor_rows} rows, {size:.1f} MB")
    finally:
        opens.stop()


# --- all channels ------------------------------------------------------------------------


def figure(poll: Poll) -> Figure:
    asked = Counter(poll.requests)
    what = ", ".join(f"{n}x {name}" for name, n in asked.items())
    if poll.channel == "imap":
        per_folder = sum(n for name, n in asked.items() if name not in SESSION) / len(FOLDERS)
        return Figure("idle poll: imap", per_folder, "commands/folder", goal="1 per folder",
                      met=per_folder <= 1, note=f"{what} ({len(FOLDERS)} folders)")
    if poll.channel == "lapor_export":
        return Figure("idle poll: lapor_export", len(poll.requests), "files read",
                      note=f"{what or 'none'}, each read in full and hashed to find it done "
                           "(of " + poll.held + "); the issue sets no goal")
    requests = len(poll.requests)
    swept = f"; an idle sweep (hourly) asks {len(poll.swept)}" if poll.swept is not None else ""
    return Figure(f"idle poll: {poll.channel}", requests, "requests", goal="at most 1",
                  met=requests <= 1, note=what + swept)


def run(quick: bool = False) -> list[Figure]:
    sizes = QUICK if quick else FULL
    texts = [str(row["Isi Laporan Awal"]) for row in fake_rows(50, seed=7)]
    workdir = Path(tempfile.mkdtemp(prefix="bench-idle-"))
    try:
        polls = [
            poll_imap(workdir, sizes),
            poll_graph(workdir, "facebook", sizes.facebook_posts, texts),
            poll_graph(workdir, "instagram", sizes.instagram_media, texts),
            poll_youtube(workdir, sizes.youtube_videos, texts),
            poll_lapor(workdir, sizes),
        ]
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print("\n## idle poll: requests of the second run, counted at the source\n")
    print("| channel | source holds | first run stored | idle poll asked | "
          "idle sweep asked (every 60 min) |")
    print("|---|---|---:|---|---|")
    for poll in polls:
        swept = "—" if poll.swept is None else ", ".join(poll.swept) or "nothing"
        print(f"| {poll.channel} | {poll.held} | {poll.ingested} | "
              f"{', '.join(poll.requests) or 'nothing'} | {swept} |")
    return [figure(poll) for poll in polls]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a few items per source")
    args = parser.parse_args(argv)
    print_summary(run(args.quick))
    return 0


if __name__ == "__main__":
    sys.exit(main())
