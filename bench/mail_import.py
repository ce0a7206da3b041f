#!/usr/bin/env python3
"""Benchmark: `pengaduan import email` on a generated mbox, against merely parsing it.

    python bench/mail_import.py [--messages 20000] [--store URL] [--keep DIR] [--repeat N]

Phases, in this order, in one process:
  floor          mailbox.mbox + email.message_from_bytes(policy=default) + get_content() of
                 every text part: "merely parsing with the standard email package", the least
                 any import of this mbox can cost; the import is judged by its ratio to it
  floor compat32 the same with the compat32 policy the normaliser parses with, for reference
  import         the real path of `pengaduan import email` into an empty store
  re-import      the same mbox again: the cursor knows it is done, i.e. ~free

The mbox is generated once per (messages, generator version) and cached in the temp dir.
Every person and address in it is invented (@example.id).
"""

from __future__ import annotations

import argparse
import email
import hashlib
import html
import inspect
import mailbox
import os
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email import policy
from email.message import EmailMessage, Message
from email.policy import Policy
from email.utils import format_datetime
from pathlib import Path


ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
sys.path.insert(0, str(SAMPLES))

# The LAPOR generator's complaint texts (PKH, BPNT, KIS, lansia, ... in Karangasem) are the
# bodies here too, so both benchmarks read the same kind of Indonesian prose.
import generate_lapor  # noqa: E402
from generate_lapor import fake_phone, make_row  # noqa: E402
import lapor_vocabulary  # noqa: E402
from lapor_vocabulary import MONTHS_LONG, TOPIC_WEIGHTS  # noqa: E402

from pengaduan.collectors.mail_archive import (  # noqa: E402
    MailArchiveCollector,
    MailArchiveConfig,
)
from pengaduan.cli.main import tune_gc  # noqa: E402
from pengaduan.pipeline import Pipeline, RunReport  # noqa: E402
from pengaduan.settings import parse_settings  # noqa: E402
from common import Phase, check, machine, open_store, print_table, timed  # noqa: E402
from pengaduan.store.db import Store, display_url  # noqa: E402

CACHE = Path(tempfile.gettempdir()) / "pengaduan-bench"
WITA = timezone(timedelta(hours=8))
WIB = timezone(timedelta(hours=7))
DINSOS = "Dinas Sosial PPPA dan PPKB Kab. Karangasem <dinsos@example.id>"
HARI = ("Sen", "Sel", "Rab", "Kam", "Jum", "Sab", "Min")
# The mix the issue asks for, in percent of all messages.
MIX = (("plain", 60), ("html", 20), ("reply", 8), ("attachment", 5), ("bulk", 4),
       ("legacy", 3))


# --- the mbox --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Sent:
    """A complaint already in the mbox, for replies to quote and thread on."""

    message_id: str
    subject: str
    sender: str
    body: str
    when: datetime


def fake_mails(n: int, seed: int = 1) -> Iterator[tuple[EmailMessage, datetime]]:
    """``n`` invented mails to the Dinas Sosial mailbox, oldest first, each with the time
    the mailbox received it. Same seed, same mails."""
    rng = random.Random(seed)
    topics, weights = zip(*TOPIC_WEIGHTS.items())
    kinds, shares = zip(*MIX)
    start = datetime(2025, 1, 1, tzinfo=WITA)
    sent: list[_Sent] = []
    for i in range(n):
        day = start + timedelta(days=i * 690 // max(n, 1))  # Jan 2025 to Nov 2026
        when = day + timedelta(minutes=rng.randint(6 * 60, 23 * 60))
        row = make_row(rng, i, when.replace(tzinfo=None), rng.choices(topics, weights)[0],
                       rng.choice(("narrative", "narrative", "slang", "formal", "short")),
                       tipe="")  # never "Anonim": a mail always has a sender
        kind = rng.choices(kinds, shares)[0]
        if kind == "reply" and not sent:
            kind = "plain"
        message = _message(rng, i, kind, row, when, sent)
        if kind in ("plain", "html", "attachment", "legacy") and message["Message-ID"]:
            sent.append(_Sent(message["Message-ID"], message["Subject"], message["From"],
                              row["Isi Laporan Awal"], when))
            del sent[:-500]  # people answer recent mail; keeps memory flat at any n
        yield message, when + timedelta(seconds=rng.randint(2, 600))


def _message(
    rng: random.Random, i: int, kind: str, row: dict, when: datetime, sent: list[_Sent]
) -> EmailMessage:
    name = str(row["Nama Pelapor"])
    message = EmailMessage()
    message["From"] = f"{name} <{_address(rng, name)}>"
    message["To"] = DINSOS if rng.random() < 0.7 else "dinsos@example.id"
    if rng.random() < 0.1:
        message["Cc"] = f"pendamping.{row['Kelurahan'].lower().replace(' ', '')}@example.id"
    message["Date"] = format_datetime(when if rng.random() < 0.85 else when.astimezone(WIB))
    message["Subject"] = _subject(rng, str(row["Judul Laporan"]))
    # Old scripts and some web forms send no Message-ID: the importer keys those by hash.
    if not (kind in ("plain", "legacy") and rng.random() < 0.03):
        message["Message-ID"] = f"<{when:%Y%m%d%H%M}.{i}.{rng.getrandbits(40):010x}@example.id>"
    for hop in range(rng.randint(1, 3)):  # real mail carries a few Received headers
        message["Received"] = (
            f"from mail{rng.randint(1, 40)}.example.id (mail.example.id [192.0.2.{hop + 10}]) "
            f"by mx.example.id with ESMTPS id {rng.getrandbits(48):012x}; {format_datetime(when)}"
        )
    if rng.random() < 0.5:
        message["DKIM-Signature"] = (
            "v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.id; s=20230601; "
            "h=to:subject:message-id:date:from:mime-version:from:to:cc:subject:date:message-id; "
            f"bh={rng.randbytes(32).hex()}; b={rng.randbytes(128).hex()}"
        )
    text = _letter(rng, row, name)

    if kind == "plain":
        # Thunderbird sends 8bit, some phone apps base64; otherwise long lines make it QP.
        message.set_content(text, cte=rng.choices((None, "8bit", "base64"), (60, 30, 10))[0])
    elif kind == "html":
        message.set_content(text)
        message.add_alternative(_html(text), subtype="html")
    elif kind == "reply":
        _reply(rng, message, rng.choice(sent))
    elif kind == "attachment":
        message.set_content(text + "\n\nBerkas pendukung saya lampirkan.")
        if rng.random() < 0.5:
            data = b"%PDF-1.4\n" + rng.randbytes(rng.randint(2_000, 8_000))
            message.add_attachment(data, "application", "pdf",
                                   filename=f"KK_{name.split()[-1]}.pdf")
        else:
            data = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + rng.randbytes(rng.randint(3_000, 12_000))
            message.add_attachment(data, "image", "jpeg", filename=f"IMG_{20250000 + i}.jpg")
    elif kind == "bulk":
        _bulk(rng, message, when)
    else:  # legacy: Outlook on an old office PC, curly quotes and all
        message["X-Mailer"] = "Microsoft Outlook 14.0"
        charset = rng.choice(("iso-8859-1", "windows-1252"))
        quote = ("\u201c", "\u201d") if charset == "windows-1252" else ("\xab", "\xbb")
        text = text.replace("PKH", f"{quote[0]}PKH{quote[1]}") + "\n\nSuhu di sini 34\xb0C."
        # An emoji typed on a phone does not survive an 8-bit charset: it becomes "?".
        message.set_content(text.encode(charset, "replace").decode(charset), charset=charset)
    return message


def _address(rng: random.Random, name: str) -> str:
    words = [w for w in name.lower().split() if w not in ("i", "ni")]
    local = rng.choice((".".join(words[-2:]), "".join(words[-2:]) + str(rng.randint(1, 99)),
                        words[-1] + str(rng.randint(1970, 2005))))
    return f"{local}@example.id"


def _subject(rng: random.Random, title: str) -> str:
    return rng.choice((title, title, title.lower(), f"Pengaduan: {title}",
                       f"Mohon bantuan - {title}", f"{title} 🙏", title.upper()))


def _letter(rng: random.Random, row: dict, name: str) -> str:
    greeting = rng.choice(("Om Swastyastu,", "Selamat pagi Bapak/Ibu,", "Yth. Dinas Sosial,",
                           "Dengan hormat,", ""))
    body = str(row["Isi Laporan Awal"])
    if rng.random() < 0.4:
        body += "\n\n" + rng.choice((
            "Sudah saya tanyakan ke kantor desa tapi belum ada jawaban.",
            "Mohon segera ditindaklanjuti karena kami sangat membutuhkan.",
            "Saya lampirkan nomor KK di bawah kalau diperlukan.",
        ))
    place = f"Desa {str(row['Kelurahan']).title()}, Kec. {str(row['Kecamatan']).title()}"
    signature = rng.choice((
        f"Terima kasih.\n\n{name}\n{place}",
        f"Suksma,\n{name}\n{place}\nHP {fake_phone(rng)}",
        f"Hormat saya,\n{name}\n\n-- \n{name}\n{fake_phone(rng)}",
        "Terima kasih\n\nDikirim dari Yahoo Mail di Android",
        f"{name}",
    ))
    return "\n\n".join(p for p in (greeting, body, signature) if p) + "\n"


def _html(text: str) -> str:
    lines = "".join(f"<div>{html.escape(line) or '<br>'}</div>" for line in text.splitlines())
    return f'<html><head></head><body><div dir="ltr">{lines}</div></body></html>\n'


def _reply(rng: random.Random, message: EmailMessage, original: _Sent) -> None:
    """The citizen answers the office's acknowledgement, quoting it and their first mail."""
    answered = original.when + timedelta(days=rng.randint(1, 5), hours=rng.randint(0, 6))
    ack_id = f"<balasan.{original.message_id.strip('<>')}>"
    message.replace_header("From", original.sender)
    message.replace_header("Subject", f"Re: {original.subject}")
    message["In-Reply-To"] = ack_id
    message["References"] = f"{original.message_id} {ack_id}"
    first = "\n".join(f">> {line}" if line else ">>" for line in original.body.splitlines())
    quoted = (
        f"Pada {HARI[answered.weekday()]}, {answered.day} {MONTHS_LONG[answered.month - 1]} "
        f"{answered.year} pukul {answered:%H.%M} {DINSOS} menulis:\n"
        "> Om Swastyastu,\n>\n> Terima kasih, laporan Bapak/Ibu sudah kami terima dan sedang\n"
        "> kami verifikasi bersama pendamping di desa.\n>\n> Salam,\n> Dinas Sosial\n>\n"
        f"> Pada {original.when:%d/%m/%Y %H.%M}, {original.sender} menulis:\n{first}\n"
    )
    new = rng.choice((
        "Terima kasih atas tanggapannya. Tapi sampai hari ini bantuan saya belum juga cair.",
        "Maaf mau tanya lagi, apakah sudah ada perkembangan? Pendamping belum datang ke rumah.",
        "Sudah saya kirim fotokopi KK ke kantor desa sesuai arahan. Mohon dicek kembali.",
    ))
    message.set_content(f"{new}\n\n{quoted}")


def _bulk(rng: random.Random, message: EmailMessage, when: datetime) -> None:
    """Half out-of-office replies, half a ministry-style newsletter: stored, not complaints."""
    if rng.random() < 0.5:
        message.replace_header("Subject", f"Balasan otomatis: {message['Subject']}")
        message["Auto-Submitted"] = "auto-replied"
        message["X-Autoreply"] = "yes"
        back = when + timedelta(days=rng.randint(2, 14))
        message.set_content(f"Terima kasih atas email Anda. Saya sedang tugas lapangan sampai "
                            f"{back:%d/%m/%Y} dan akan membalas setelah kembali.\n")
        return
    message.replace_header("From", "Buletin Kesejahteraan Sosial <buletin@example.id>")
    edition = f"{MONTHS_LONG[when.month - 1]} {when.year}"
    message.replace_header("Subject", f"Buletin Linjamsos edisi {edition}")
    message["List-Id"] = "Buletin Linjamsos <buletin.example.id>"
    message["List-Unsubscribe"] = "<https://example.id/berhenti?u=" + rng.randbytes(8).hex() + ">"
    message["Precedence"] = "bulk"
    items = ["Penyaluran PKH tahap IV", "Pemutakhiran DTSEN", "Jadwal BPNT", "Program ATENSI"]
    text = "\n\n".join(f"{item}\n{'-' * len(item)}\nSelengkapnya di situs kami." for item in items)
    rows = "".join(f"<tr><td><h2>{item}</h2><p>Selengkapnya di situs kami.</p></td></tr>"
                   for item in items)
    message.set_content(text + "\n")
    message.add_alternative(f"<html><body><table>{rows}</table></body></html>\n", subtype="html")


GENERATOR = (fake_mails, _message, _address, _subject, _letter, _html, _reply, _bulk)


def mbox_file(n: int) -> tuple[Path, float | None]:
    """The mbox, from the cache when present; and generation seconds (None when cached). The
    generators' sources are in the key so a changed generator re-generates."""
    source = "".join(inspect.getsource(f) for f in GENERATOR) + repr(MIX)
    source += Path(generate_lapor.__file__).read_text() + Path(lapor_vocabulary.__file__).read_text()
    version = hashlib.sha256(source.encode()).hexdigest()[:10]
    path = CACHE / f"mail-{n}-{version}.mbox"
    if path.exists():
        return path, None
    CACHE.mkdir(parents=True, exist_ok=True)
    # An interrupted generation must not leave a half file that later runs take as cached.
    partial = path.with_name(f".{path.name}.partial")
    partial.unlink(missing_ok=True)
    started = time.perf_counter()
    box = mailbox.mbox(partial)
    for message, received in fake_mails(n):
        entry = mailbox.mboxMessage(message)
        entry.set_from(message["From"].addresses[0].addr_spec,  # what an MTA writes
                       received.astimezone(timezone.utc).timetuple())
        box.add(entry)
    box.flush()
    box.close()
    partial.replace(path)
    return path, time.perf_counter() - started


# --- the floor -------------------------------------------------------------------------------


def parse_floor(path: Path, parse_policy: Policy) -> tuple[int, int]:
    """Parse every message and decode every text part; returns (messages, text parts)."""
    box = mailbox.mbox(path, create=False)
    messages = texts = 0
    try:
        for key in box.iterkeys():
            message: Message = email.message_from_bytes(box.get_bytes(key), policy=parse_policy)
            for part in message.walk():
                if part.get_content_maintype() != "text" or part.get_filename():
                    continue
                if isinstance(part, EmailMessage):
                    part.get_content()
                else:  # compat32 has no content manager: decode by hand, as the normaliser does
                    data = part.get_payload(decode=True) or b""
                    data.decode(part.get_content_charset() or "ascii", "replace")
                texts += 1
            messages += 1
    finally:
        box.close()
    return messages, texts


# --- the import ------------------------------------------------------------------------------


def import_once(store: Store, path: Path) -> tuple[RunReport, float, float]:
    """What `pengaduan import email PATH` does, timed from the run's start to its report
    (settings parsing, which loads the holiday calendars, is start-up and left out)."""
    settings = parse_settings({"store": {"url": store.url}}, ROOT)
    collector = MailArchiveCollector("mail-import", MailArchiveConfig(batch_size=200))
    pipeline = Pipeline(store, settings)
    return timed(lambda: pipeline.run(
        collector, fetch=lambda cursor: collector.fetch_paths([path], cursor)))


def run(n: int, url: str, repeat: int) -> list[Phase]:
    path, generated = mbox_file(n)
    size = path.stat().st_size / 1e6
    made = "cached" if generated is None else f"generated in {generated:.1f}s (not measured)"
    print(f"\n## mbox: {n} messages, {size:.1f} MB, {made}: {path}", flush=True)

    phases: list[Phase] = []
    for name, parse_policy in (("floor", policy.default), ("floor compat32", policy.compat32)):
        runs = [timed(lambda: parse_floor(path, parse_policy)) for _ in range(repeat)]
        (messages, texts), wall, cpu = min(runs, key=lambda r: r[1])
        if messages != n:
            sys.exit(f"{name}: the standard mailbox module read {messages} messages, not {n}")
        label = f"{name} (best of {repeat})" if repeat > 1 else name
        phases.append(Phase(label, n, wall, cpu, f"{texts} text parts"))
        if repeat > 1:
            print(f"{name} runs: " + ", ".join(f"{wall:.2f}s" for _, wall, _ in runs))

    store = open_store(url)
    try:
        report, wall, cpu = import_once(store, path)
        check("import", report, report.fetched == n and report.new == n
              and report.quarantined == 0)
        phases.append(Phase("import", n, wall, cpu,
                            f"{report.new} new, {report.quarantined} quarantined, "
                            f"{report.cases_opened} cases"))

        report, wall, cpu = import_once(store, path)
        check("re-import", report, report.fetched == 0)
        phases.append(Phase("re-import (same mbox)", n, wall, cpu, "skipped: archive done"))
    finally:
        store.dispose()
    return phases


# --- output ----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    tune_gc()  # as `pengaduan` does: the imports measured are its commands
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--store", default="sqlite", metavar="sqlite|URL",
                        help="'sqlite' (a new file) or an empty database's URL")
    parser.add_argument("--keep", type=Path, metavar="DIR",
                        help="put the SQLite database in DIR and keep it (default: temp dir)")
    parser.add_argument("--repeat", type=int, default=1, metavar="N",
                        help="parse the floors N times each and take the best")
    args = parser.parse_args(argv)
    if args.messages < 1 or args.repeat < 1:
        parser.error("--messages and --repeat must be at least 1")

    workdir = args.keep.resolve() if args.keep else Path(tempfile.mkdtemp(prefix="bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    facts = machine()
    facts.append(("store", "SQLite, a new file" if args.store == "sqlite"
                  else display_url(args.store)))
    for key, value in facts:
        print(f"- {key}: {value}")
    try:
        url = f"sqlite:///{workdir / 'bench-mail.db'}" if args.store == "sqlite" else args.store
        print_table(run(args.messages, url, args.repeat), unit="messages", rate="msgs/s")
    finally:
        if args.keep is None:
            shutil.rmtree(workdir, ignore_errors=True)
    print(f"- load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
