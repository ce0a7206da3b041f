"""A throwaway PostgreSQL server for the test suite.

``start_postgres(base_dir)`` runs ``initdb`` and ``postgres`` from the installed PostgreSQL
binaries, on a free port on 127.0.0.1, with its data, socket and log under ``base_dir``. The
server only lives as long as the test session: stop it with ``.stop()``; it is also stopped at
interpreter exit and (on Linux) when the process that started it dies.

PostgreSQL refuses to run as root. When the current user is root the server runs as an
unprivileged system user (``pengaduan-test`` by default, created with ``useradd`` when missing);
otherwise it runs as the current user.

Nothing here depends on pytest, so other tools (benchmarks, manual experiments) can use it::

    server = start_postgres(Path("/tmp/pg"))
    url = server.create_database("scratch")   # postgresql+psycopg://postgres@127.0.0.1:PORT/scratch
    ...
    server.stop()

Environment overrides: ``PENGADUAN_TEST_PG_BINDIR`` (directory holding initdb and postgres),
``PENGADUAN_TEST_PG_USER`` (the unprivileged user used when running as root).
"""

from __future__ import annotations

import atexit
import glob
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

try:
    from services.host import ensure_user, free_port
except ImportError:  # run as a script: python tests/services/<name>.py
    from host import ensure_user, free_port  # type: ignore[no-redef]
from urllib.parse import urlsplit, urlunsplit

DEFAULT_USER = "pengaduan-test"
START_TIMEOUT = 60.0  # seconds to wait for "accepting connections"
STOP_TIMEOUT = 30.0
PORT_ATTEMPTS = 5  # a port picked as free can be taken before the server binds it

# Settings for a server whose data is thrown away: durability buys nothing here.
FAST_SETTINGS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
}

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_SOCKET_PATH_MAX = 90  # sun_path is 108 bytes; ".s.PGSQL.NNNNN.lock" is appended


class PostgresUnavailable(RuntimeError):
    """PostgreSQL could not be found, initialised or started. The message says why."""


# --------------------------------------------------------------------------- helpers


def find_bindir() -> Path:
    """The directory holding ``initdb``/``postgres``/``pg_ctl``; newest version wins."""
    candidates: list[Path] = []
    override = os.environ.get("PENGADUAN_TEST_PG_BINDIR")
    if override:
        candidates.append(Path(override))
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=True
            ).stdout.strip()
            if out:
                candidates.append(Path(out))
        except (subprocess.SubprocessError, OSError):
            pass

    def version_key(path: str) -> tuple[int, ...]:
        match = re.search(r"/postgresql/(\d+)(?:\.(\d+))?/", path)
        return tuple(int(g) for g in match.groups() if g) if match else (0,)

    candidates += [
        Path(p)
        for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version_key, reverse=True)
    ]
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(initdb).parent)
    for candidate in candidates:
        if (candidate / "initdb").is_file() and (candidate / "postgres").is_file():
            return candidate
    raise PostgresUnavailable(
        "PostgreSQL server binaries (initdb, postgres) not found; looked in "
        + (", ".join(str(c) for c in candidates) or "pg_config --bindir, /usr/lib/postgresql/*/bin")
        + ". Install them with: apt-get install -y postgresql-15  (bin/test does this),"
        " or set PENGADUAN_TEST_PG_BINDIR, or point PENGADUAN_TEST_PG_URL at a running server."
    )


def _ensure_user(name: str) -> pwd.struct_passwd:
    try:
        return ensure_user(name, "pengaduan test servers")
    except OSError as exc:
        raise PostgresUnavailable(
            f"cannot create the unprivileged user {name!r} to run PostgreSQL as "
            f"(PostgreSQL refuses to run as root): {exc}"
        ) from None


def _tail(path: Path, lines: int = 30) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        return f"(no log: {exc})"
    return "\n".join(text.splitlines()[-lines:]) or "(log is empty)"


def _parent_death_signal_setter():
    """A preexec_fn asking the kernel to send SIGQUIT (immediate shutdown) to the server when
    the process that started it dies, so a killed test run leaves no server behind. Linux only.
    The kernel means the *thread* that started it: start (and restart) a server from a thread
    that outlives it, such as the test's own, never from a short-lived helper thread.

    ctypes is loaded here, in the parent: after the switch to the unprivileged user the child
    may not be allowed to read the Python installation (e.g. pyenv under /root).
    """
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    PR_SET_PDEATHSIG = 1
    quit_signal = int(signal.SIGQUIT)

    def set_parent_death_signal() -> None:
        prctl(PR_SET_PDEATHSIG, quit_signal, 0, 0, 0)

    return set_parent_death_signal


def with_database(url: str, name: str) -> str:
    """``url`` with its database name replaced by ``name``."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


def sqlalchemy_url(url: str) -> str:
    """A PostgreSQL URL that SQLAlchemy opens with psycopg 3 (the driver the project uses)."""
    scheme, sep, rest = url.partition("://")
    if scheme in ("postgres", "postgresql"):
        return f"postgresql+psycopg{sep}{rest}"
    return url


def libpq_url(url: str) -> str:
    """The same URL without SQLAlchemy's ``+driver`` suffix, for psycopg.connect()."""
    scheme, sep, rest = url.partition("://")
    return f"{scheme.split('+', 1)[0]}{sep}{rest}"


# --------------------------------------------------------------------------- servers


class PostgresAdmin:
    """Database management on a server reachable at ``url`` (its maintenance database)."""

    url: str

    def _connect(self):  # psycopg.Connection in autocommit mode
        import psycopg

        return psycopg.connect(libpq_url(self.url), autocommit=True, connect_timeout=10)

    def execute(self, sql: str) -> None:
        """Run one statement on the maintenance database, outside a transaction."""
        with self._connect() as conn:
            conn.execute(sql)

    def create_database(self, name: str) -> str:
        """Create database ``name`` (lower-case identifier) and return its SQLAlchemy URL."""
        if not _IDENTIFIER.match(name):
            raise ValueError(f"database name {name!r} must match {_IDENTIFIER.pattern}")
        self.execute(f'CREATE DATABASE "{name}"')
        return with_database(self.url, name)

    def drop_database(self, name: str) -> None:
        """Drop database ``name`` if it exists, disconnecting whoever is still connected."""
        if not _IDENTIFIER.match(name):
            raise ValueError(f"database name {name!r} must match {_IDENTIFIER.pattern}")
        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class ExternalPostgres(PostgresAdmin):
    """A server someone else runs (PENGADUAN_TEST_PG_URL): usable, but not ours to stop."""

    can_restart = False

    def __init__(self, url: str):
        self.url = sqlalchemy_url(url)

    def check(self) -> None:
        try:
            self.execute("SELECT 1")
        except Exception as exc:
            raise PostgresUnavailable(f"cannot connect to {self.url}: {exc}") from exc

    def stop(self) -> None:
        pass

    def restart(self) -> None:
        raise PostgresUnavailable("an external server (PENGADUAN_TEST_PG_URL) cannot be restarted")


class PostgresServer(PostgresAdmin):
    """A PostgreSQL server process this module started; see ``start_postgres``."""

    can_restart = True

    def __init__(self, bindir: Path, base_dir: Path, socket_dir: Path, port: int,
                 run_as: pwd.struct_passwd | None):
        self.bindir = bindir
        self.base_dir = base_dir
        self.data_dir = base_dir / "data"
        self.socket_dir = socket_dir
        self.log_path = base_dir / "postgres.log"
        self.port = port
        self.run_as = run_as  # None: run as the current user
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
        self._process: subprocess.Popen | None = None

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<PostgresServer {self.url} {state} data={self.data_dir}>"

    # -- running commands as the server's user

    def _user_kwargs(self) -> dict:
        kwargs: dict = {
            "cwd": self.base_dir,
            # A predictable environment: English messages, no inherited PG* variables.
            "env": {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "LANG": "C"},
        }
        if self.run_as is not None:
            kwargs.update(user=self.run_as.pw_uid, group=self.run_as.pw_gid, extra_groups=[])
        return kwargs

    def _run(self, argv: list[str], what: str) -> subprocess.CompletedProcess:
        result = subprocess.run(argv, capture_output=True, text=True, timeout=300,
                                **self._user_kwargs())
        if result.returncode != 0:
            raise PostgresUnavailable(
                f"{what} failed (exit {result.returncode}): {' '.join(argv)}\n"
                f"{(result.stdout + result.stderr).strip()[-3000:]}"
            )
        return result

    # -- lifecycle

    def initdb(self) -> None:
        base = [str(self.bindir / "initdb"), "-D", str(self.data_dir), "-U", "postgres",
                "--auth=trust", "--encoding=UTF8", "--no-sync"]
        try:
            self._run(base + ["--locale=C.UTF-8"], "initdb")
        except PostgresUnavailable as exc:
            if "locale" not in str(exc).lower():
                raise
            # No C.UTF-8 locale on this system: fall back to plain C (byte-wise sorting).
            shutil.rmtree(self.data_dir, ignore_errors=True)
            self._run(base + ["--no-locale"], "initdb")

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def _argv(self) -> list[str]:
        settings = {
            "listen_addresses": "127.0.0.1",
            "port": str(self.port),
            "unix_socket_directories": str(self.socket_dir),
            **FAST_SETTINGS,
        }
        argv = [str(self.bindir / "postgres"), "-D", str(self.data_dir)]
        for key, value in settings.items():
            argv += ["-c", f"{key}={value}"]
        return argv

    def _ready(self) -> bool:
        pg_isready = self.bindir / "pg_isready"
        if pg_isready.is_file():
            result = subprocess.run(
                [str(pg_isready), "-q", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                 "-d", "postgres", "-t", "2"],
                capture_output=True, env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
            )
            return result.returncode == 0
        try:
            self.execute("SELECT 1")
            return True
        except Exception:
            return False

    def start(self, timeout: float = START_TIMEOUT) -> None:
        """Start the server on the existing data directory and wait until it accepts connections."""
        if self.running:
            return
        log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with open(self.log_path, "ab") as log:
            self._process = subprocess.Popen(
                self._argv(), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C in the terminal goes to pytest, not the server
                preexec_fn=_parent_death_signal_setter(), **self._user_kwargs(),
            )
        deadline = time.monotonic() + timeout
        while True:
            if self._process.poll() is not None:
                code = self._process.returncode
                self._process = None
                raise PostgresUnavailable(
                    f"PostgreSQL exited during start-up (exit {code}); log {self.log_path}:\n"
                    + self._new_log(log_offset)
                )
            if self._ready():
                return
            if time.monotonic() > deadline:
                self._kill()
                raise PostgresUnavailable(
                    f"PostgreSQL did not accept connections on 127.0.0.1:{self.port} within "
                    f"{timeout:.0f}s; log {self.log_path}:\n" + self._new_log(log_offset)
                )
            time.sleep(0.1)

    def _new_log(self, offset: int) -> str:
        try:
            with open(self.log_path, "rb") as fh:
                fh.seek(offset)
                text = fh.read().decode(errors="replace")
        except OSError:
            return _tail(self.log_path)
        return "\n".join(text.splitlines()[-30:]) or "(log is empty)"

    def _kill(self) -> None:
        if self._process is not None:
            try:
                self._process.kill()
                self._process.wait(STOP_TIMEOUT)
            except (OSError, subprocess.TimeoutExpired):
                pass
            self._process = None

    def shutdown(self, mode: str = "fast") -> None:
        """Stop the server process, keeping the data directory. ``mode``: fast or immediate.

        ``immediate`` is a crash as far as the data is concerned: the next start runs recovery.
        """
        if not self.running:
            self._process = None
            return
        sig = {"fast": signal.SIGINT, "immediate": signal.SIGQUIT, "smart": signal.SIGTERM}[mode]
        assert self._process is not None
        self._process.send_signal(sig)
        try:
            self._process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self._kill()
        self._process = None

    def restart(self, mode: str = "fast") -> None:
        """Stop and start again on the same port and data: every open connection is broken."""
        self.shutdown(mode)
        self.start()

    def stop(self) -> None:
        """Stop the server for good (data directory and log stay in ``base_dir``)."""
        self.shutdown("fast")
        atexit.unregister(self.stop)
        if not self.socket_dir.is_relative_to(self.base_dir):
            shutil.rmtree(self.socket_dir, ignore_errors=True)


def start_postgres(base_dir: Path, *, user: str | None = None,
                   timeout: float = START_TIMEOUT) -> PostgresServer:
    """Initialise and start a throwaway server with everything under ``base_dir``.

    ``base_dir`` is created when missing and, when running as root, handed to the unprivileged
    user (every directory above it must be searchable by that user, as /tmp is).
    Raises PostgresUnavailable with the reason (and the server's log) when it cannot start.
    """
    base_dir = Path(base_dir).absolute()
    bindir = find_bindir()
    run_as: pwd.struct_passwd | None = None
    if os.geteuid() == 0:
        run_as = _ensure_user(user or os.environ.get("PENGADUAN_TEST_PG_USER") or DEFAULT_USER)
    base_dir.mkdir(parents=True, exist_ok=True)
    socket_dir = base_dir / "socket"
    if len(str(socket_dir)) > _SOCKET_PATH_MAX:
        socket_dir = Path(tempfile.mkdtemp(prefix="pengaduan-pgsock-"))
    socket_dir.mkdir(exist_ok=True)
    if run_as is not None:
        for path in {base_dir, socket_dir}:
            os.chown(path, run_as.pw_uid, run_as.pw_gid)
        os.chmod(base_dir, 0o700)
        probe = subprocess.run(["test", "-w", str(base_dir)], user=run_as.pw_uid,
                               group=run_as.pw_gid, extra_groups=[], cwd="/")
        if probe.returncode != 0:
            raise PostgresUnavailable(
                f"user {run_as.pw_name!r} cannot write to {base_dir}: a directory above it is "
                "not searchable by others; use a base directory under /tmp"
            )

    server = PostgresServer(bindir, base_dir, socket_dir, free_port(), run_as)
    server.initdb()
    if run_as is not None:
        server.log_path.touch()
        os.chown(server.log_path, run_as.pw_uid, run_as.pw_gid)
    atexit.register(server.stop)
    for attempt in range(PORT_ATTEMPTS):
        try:
            server.start(timeout)
            return server
        except PostgresUnavailable as exc:
            port_taken = "could not bind" in str(exc) or "already in use" in str(exc)
            if not port_taken or attempt == PORT_ATTEMPTS - 1:
                server.stop()
                raise
            server.port = free_port()
            server.url = f"postgresql+psycopg://postgres@127.0.0.1:{server.port}/postgres"
    raise AssertionError("unreachable")


def main(argv: list[str] | None = None) -> int:
    """``python tests/services/postgres.py DIR``: run a server in DIR until Ctrl-C."""
    args = sys.argv[1:] if argv is None else argv
    base = Path(args[0]) if args else Path(tempfile.mkdtemp(prefix="pengaduan-pg-"))
    server = start_postgres(base)
    print(server.url, flush=True)
    try:
        while server.running:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
