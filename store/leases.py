"""Which process runs each collector instance, when several share one database (DESIGN.md §8).

A lease is one row of ``collector_leases``: its ``holder`` (``host:pid:random``, one per
pipeline) runs the collector until ``expires_at``.

- ``acquire`` is one statement (INSERT … ON CONFLICT DO UPDATE … WHERE the lease is free), so
  of two processes asking at once exactly one gets it, on SQLite and PostgreSQL alike.
- ``hold`` is the fence: the last statement of every batch transaction renews the lease
  ``WHERE holder = me``. A process that lost its lease (paused past the expiry while another
  took over) renews nothing and rolls its batch back, so it can never commit a cursor over
  the new holder's. On PostgreSQL the renewal also row-locks the lease until the batch
  commits: an acquire racing it waits, then sees the extended expiry and fails.
- ``KeepAlive`` renews from a thread every third of the lease while a run fetches, so a slow
  fetch between two batches keeps its lease; a dead process renews nothing and its lease
  runs out. ``release`` frees it at the end of the run.

Clocks: on PostgreSQL every lease time is the database server's clock, the one clock all
servers share, so skew between application servers does not matter. A SQLite file lives on
one machine, whose clock all its processes share. Tests pass ``now`` explicitly.

``lock_linking`` is the other thing processes coordinate on: case linking (see there).
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import socket
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import Connection, and_, func, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite

from pengaduan.errors import StoreError
from pengaduan.store.db import Store
from pengaduan.store.schema import collector_leases
from pengaduan.store.state import CLOCK_SKEW

log = logging.getLogger("pengaduan.leases")

_T = collector_leases.c


class LeaseLost(StoreError):
    """Another process took this collector over; the batch in hand was rolled back."""


@dataclass(frozen=True)
class Lease:
    collector: str
    holder: str
    acquired_at: datetime
    expires_at: datetime


def _machine_tag() -> str:
    """Alike for two processes on one boot of one machine in one pid namespace (where a pid can
    be checked); "" where that cannot be told."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        namespace = os.stat("/proc/self/ns/pid").st_ino
    except OSError:
        return ""
    return hashlib.sha256(f"{boot}:{namespace}".encode()).hexdigest()[:8]


MACHINE = _machine_tag()


def new_holder() -> str:
    """This pipeline's name in the lease table, ``host:pid:machine.random``: the host and pid
    say where to look; the machine tag lets a process on the same machine see it died."""
    return f"{socket.gethostname()}:{os.getpid()}:{MACHINE}.{secrets.token_hex(3)}"


def died_here(holder: str) -> bool:
    """Whether ``holder`` was a process of this machine that is gone (crashed, killed).

    Its lease need not run out: a service restarted after a crash, or an import run again,
    takes over at once. A process elsewhere is only known dead by its lease expiring.
    """
    host, _, rest = holder.partition(":")
    pid, _, tag = rest.partition(":")
    if not MACHINE or host != socket.gethostname() or tag.split(".")[0] != MACHINE:
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except (OSError, ValueError):  # alive under another user, or not a pid at all
        return False
    return False


def db_now(conn: Connection) -> datetime:
    """Now, by the clock every process shares: the server's on PostgreSQL, else this machine's."""
    if conn.dialect.name == "postgresql":
        return conn.execute(select(func.statement_timestamp())).scalar_one()
    return datetime.now(timezone.utc)


def acquire(
    conn: Connection,
    collector: str,
    holder: str,
    seconds: float,
    min_gap: float = 0.0,
    now: datetime | None = None,
) -> bool:
    """Take the lease if it is free, expired or already ours; True when taken.

    ``min_gap``: also refuse while the last acquisition (by anyone) is more recent than that,
    so N processes polling one collector on their own schedules do not run it N times as often.
    """
    now = now or db_now(conn)
    values = {"holder": holder, "acquired_at": now, "renewed_at": now,
              "expires_at": now + timedelta(seconds=seconds)}
    # A lease renewed or taken "in the future" was dated by a clock since set back (NTP
    # correcting it, a VM restored): left alone it would hold the collector, or keep it
    # waiting min_gap, for as long as the jump.
    ahead = now + CLOCK_SKEW
    free = or_(_T.holder.is_(None), _T.expires_at <= now, _T.holder == holder,
               _T.renewed_at > ahead)
    if min_gap > 0:
        free = and_(free, or_(_T.acquired_at <= now - timedelta(seconds=min_gap),
                              _T.acquired_at > ahead))
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = (
        dialect.insert(collector_leases)
        .values(collector=collector, **values)
        .on_conflict_do_update(index_elements=["collector"], set_=values, where=free)
        .returning(_T.holder)
    )
    return conn.execute(stmt).first() is not None


def take(store: Store, collector: str, holder: str, seconds: float, min_gap: float = 0.0) -> str | None:
    """``acquire`` in a transaction of its own, or take over from a holder that ``died_here``:
    None when taken, else why not, in words."""
    with store.transaction() as conn:
        if acquire(conn, collector, holder, seconds, min_gap):
            return None
        lease = live_leases(conn).get(collector)
        if lease is not None and died_here(lease.holder):
            now = db_now(conn)
            taken = conn.execute(
                update(collector_leases)
                .where(_T.collector == collector, _T.holder == lease.holder)
                .values(holder=holder, acquired_at=now, renewed_at=now,
                        expires_at=now + timedelta(seconds=seconds))
            ).rowcount == 1
            if taken:
                log.info("collector %s: taking over from %s, which is no longer running",
                         collector, lease.holder)
                return None
    if lease is None:
        return f"another process ran it less than {min_gap:.0f}s ago"
    return f"another process ({lease.holder}) is running it; try again when that run ends"


def renew(
    conn: Connection, collector: str, holder: str, seconds: float, now: datetime | None = None
) -> bool:
    """Extend our lease; False when it is no longer ours (another process holds it now)."""
    now = now or db_now(conn)
    result = conn.execute(
        update(collector_leases)
        .where(_T.collector == collector, _T.holder == holder)
        .values(renewed_at=now, expires_at=now + timedelta(seconds=seconds))
    )
    return result.rowcount == 1


def hold(conn: Connection, collector: str, holder: str, seconds: float) -> None:
    """``renew`` or raise ``LeaseLost``, in a transaction that must commit only while ours:
    last in it, so the lease then runs from the commit."""
    if not renew(conn, collector, holder, seconds):
        raise LeaseLost(
            f"collector {collector}: this process no longer holds its lease (it expired and "
            "another process took the collector over); the batch in hand was rolled back and "
            "the new holder fetches it again"
        )


def release(conn: Connection, collector: str, holder: str, now: datetime | None = None) -> bool:
    """Free our lease at once; False when it was not ours any more."""
    now = now or db_now(conn)
    result = conn.execute(
        update(collector_leases)
        .where(_T.collector == collector, _T.holder == holder)
        .values(holder=None, expires_at=now)
    )
    return result.rowcount == 1


def live_leases(conn: Connection, now: datetime | None = None) -> dict[str, Lease]:
    """The leases held now, by collector."""
    now = now or db_now(conn)
    rows = conn.execute(
        select(_T.collector, _T.holder, _T.acquired_at, _T.expires_at)
        .where(_T.holder.is_not(None), _T.expires_at > now)
    )
    return {row.collector: Lease(*row) for row in rows}


class KeepAlive:
    """Renews a lease every third of its length from a thread, until ``stop()``.

    Its own short transactions: on PostgreSQL a renewal waits while a batch of the same run
    holds the lease row, which is harmless (the batch renews too).
    """

    def __init__(self, store: Store, collector: str, holder: str, seconds: float):
        self.store, self.collector, self.holder, self.seconds = store, collector, holder, seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"lease:{collector}", daemon=True)
        self._thread.start()

    def _beat(self) -> None:
        while not self._stop.wait(self.seconds / 3):
            try:
                with self.store.transaction() as conn:
                    held = renew(conn, self.collector, self.holder, self.seconds)
            except Exception as exc:  # the database may be back before the lease runs out
                log.warning("collector %s: lease not renewed (%s); trying again in %.0fs",
                            self.collector, type(exc).__name__, self.seconds / 3)
                continue
            if not held:
                if not self._stop.is_set():
                    log.warning("collector %s: lease lost to another process; this run stops "
                                "at its next batch", self.collector)
                return

    def stop(self) -> None:
        self._stop.set()
        # Not forever: a renewal stuck on the database must not hold up the run's end. One
        # that lands after the release renews nothing (the release cleared the holder).
        self._thread.join(timeout=self.seconds)


# --- case linking ---------------------------------------------------------------------------

# pg_advisory_xact_lock takes a bigint; this one is pengaduan's linking, by name.
LINKING_LOCK = int.from_bytes(hashlib.sha256(b"pengaduan:linking").digest()[:8], "big", signed=True)


def lock_linking(conn: Connection) -> None:
    """Serialise case linking across processes, until the caller's transaction ends.

    Linking reads the index and the cases, then writes links: two transactions doing that at
    once would each miss the other's uncommitted records and open two cases for one complaint.
    With this lock (PostgreSQL) batches link one after another in commit order, each seeing
    every earlier batch, as a single process would; fetching, normalising and storing the
    records before it stay parallel. SQLite needs nothing: BEGIN IMMEDIATE already serialises
    whole batches.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LINKING_LOCK})
