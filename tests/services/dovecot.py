"""A throwaway Dovecot IMAP server for the test suite.

``start_dovecot(base_dir)`` runs Debian's ``/usr/sbin/dovecot`` (package ``dovecot-imapd``,
Dovecot 2.3) in the foreground (``dovecot -F -c CONFIG``) as a child process, with a config file
written here: nothing from /etc/dovecot is read, and no system service is involved. It listens
on 127.0.0.1 on a free port (plain IMAP; optionally a second port with implicit TLS and a
self-signed certificate). Everything lives under ``base_dir``::

    base_dir/dovecot.conf    the whole configuration
    base_dir/passwd.d/USER   passdb + userdb: one passwd-file per user (args = passwd.d/%u),
                             so a user added while the server runs is seen at its first login
    base_dir/run/            Dovecot's base_dir (sockets, master pid); a short /tmp directory
                             instead when base_dir's path is too long for unix sockets
    base_dir/state/          Dovecot's state_dir (instead of /var/lib/dovecot)
    base_dir/mail/USER/      each user's Maildir (mail_location = maildir:base_dir/mail/%u)
    base_dir/home/USER/      each user's home (Dovecot keeps small state files there)
    base_dir/dovecot.log     everything Dovecot logs (auth failures included)
    base_dir/tls/            cert.pem, key.pem when started with tls=True

Dovecot never serves mail as uid 0. When the current user is root, the master runs as root (as
Dovecot expects), login processes as ``dovenull``, internal services as ``dovecot`` (both created
by the Debian package), and every mailbox belongs to an unprivileged system user
(``pengaduan-mail`` by default, created with ``useradd`` when missing) through the passwd-file's
uid/gid fields. When the current user is not root, everything runs as that user.

Nothing here depends on pytest::

    server = start_dovecot(Path("/tmp/imap"))
    server.add_user("ani", "rahasia")
    server.append("ani", "INBOX", b"From: a@example.org\\r\\nSubject: hi\\r\\n\\r\\nbody\\r\\n")
    with server.connect("ani") as client:      # a logged-in imapclient.IMAPClient
        ...
    server.restart()                           # same port; open connections are broken
    server.reset_uidvalidity("ani", "INBOX")   # new UIDVALIDITY, same messages
    server.stop()

Environment overrides: ``PENGADUAN_TEST_DOVECOT`` (the dovecot binary; doveadm is looked up
next to it, then in ../bin, then on PATH), ``PENGADUAN_TEST_MAIL_USER`` (the unprivileged mail
user when running as root).
"""

from __future__ import annotations

import atexit
import base64
import grp
import os
import pwd
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

try:
    from services.host import ensure_user, free_port
except ImportError:  # run as a script: python tests/services/<name>.py
    from host import ensure_user, free_port  # type: ignore[no-redef]

DEFAULT_MAIL_USER = "pengaduan-mail"
DEFAULT_BINARY = "/usr/sbin/dovecot"
START_TIMEOUT = 30.0  # seconds until the port accepts and a LOGIN works
STOP_TIMEOUT = 15.0
PORT_ATTEMPTS = 5  # a port picked as free can be taken before Dovecot binds it
PROBE_USER = "pengaduan-probe"  # logs in once at every start to prove the server works

# Within Dovecot's default auth_username_chars; no leading dot (a user is a file name).
_USERNAME = re.compile(r"^[A-Za-z0-9_@-][A-Za-z0-9._@-]{0,63}$")
_SOCKET_DIR_MAX = 80  # sun_path is 108 bytes; the longest socket name is "login/imap-urlauth..."


class DovecotUnavailable(RuntimeError):
    """Dovecot could not be found, configured or started. The message says why (and shows the
    end of its log)."""


# --------------------------------------------------------------------------- helpers


def find_dovecot() -> Path:
    """The dovecot binary: $PENGADUAN_TEST_DOVECOT, /usr/sbin/dovecot, or dovecot on PATH."""
    candidates = [os.environ.get("PENGADUAN_TEST_DOVECOT"), DEFAULT_BINARY, shutil.which("dovecot")]
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK) and Path(candidate).is_file():
            return Path(candidate)
    raise DovecotUnavailable(
        "dovecot not found (looked at $PENGADUAN_TEST_DOVECOT, /usr/sbin/dovecot, PATH). "
        "Install it with: apt-get install -y dovecot-imapd  (bin/test does this)."
    )


def find_doveadm(binary: Path) -> Path:
    """doveadm for ``binary``: next to it, in ../bin (Debian: /usr/bin), or on PATH."""
    for candidate in (binary.with_name("doveadm"), binary.parent.parent / "bin" / "doveadm",
                      shutil.which("doveadm")):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return Path(candidate)
    raise DovecotUnavailable(f"doveadm not found (next to {binary}, in ../bin, or on PATH)")


def dovecot_version(binary: Path) -> str:
    try:
        out = subprocess.run([str(binary), "--version"], capture_output=True, text=True,
                             timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError) as exc:
        raise DovecotUnavailable(f"{binary} --version failed: {exc}") from exc
    return out.split()[0] if out else ""


def _ensure_user(name: str) -> pwd.struct_passwd:
    try:
        return ensure_user(name, "pengaduan test mailboxes")
    except OSError as exc:
        raise DovecotUnavailable(
            f"cannot create the unprivileged user {name!r} to own the test mailboxes "
            f"(Dovecot never serves mail as root): {exc}"
        ) from None


def _existing_user(name: str) -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(name)
    except KeyError:
        raise DovecotUnavailable(
            f"system user {name!r} is missing; the Debian package dovecot-core creates it "
            "(reinstall it: apt-get install --reinstall dovecot-core)"
        ) from None


def _read_from(path: Path, offset: int, lines: int = 30) -> str:
    try:
        with open(path, "rb") as fh:
            fh.seek(offset)
            text = fh.read().decode(errors="replace")
    except OSError as exc:
        return f"(no log: {exc})"
    return "\n".join(text.splitlines()[-lines:]) or "(log is empty)"


def _parent_death_signal_setter():
    """A preexec_fn asking the kernel to send SIGTERM (Dovecot's clean shutdown) to the master
    when the process that started it dies, so a killed test run leaves no server behind.
    Linux only; ctypes is loaded here, in the parent. The kernel means the *thread* that
    started it: start (and restart) the server from a thread that outlives it, such as the
    test's own, never from a short-lived helper thread."""
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    PR_SET_PDEATHSIG = 1
    term = int(signal.SIGTERM)

    def set_parent_death_signal() -> None:
        prctl(PR_SET_PDEATHSIG, term, 0, 0, 0)

    return set_parent_death_signal


def _generate_certificate(tls_dir: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1/localhost, made with the openssl command."""
    openssl = shutil.which("openssl")
    if openssl is None:
        raise DovecotUnavailable("openssl not found; it is needed for tls=True")
    tls_dir.mkdir(parents=True, exist_ok=True)
    cert, key = tls_dir / "cert.pem", tls_dir / "key.pem"
    result = subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        capture_output=True, text=True, timeout=60,
    )
    if result.returncode != 0:
        raise DovecotUnavailable(f"openssl could not make a test certificate: {result.stderr}")
    os.chmod(key, 0o600)
    return cert, key


# --------------------------------------------------------------------------- the server


class DovecotServer:
    """A Dovecot process this module started; see ``start_dovecot``.

    ``host``/``port``: plain IMAP (LOGIN and AUTHENTICATE PLAIN/LOGIN without TLS);
    ``tls_port``: implicit TLS (IMAPS) with ``cert_path``, or None when started without TLS.
    """

    host = "127.0.0.1"

    def __init__(self, binary: Path, base_dir: Path, run_dir: Path, port: int,
                 tls_port: int | None, mail_owner: pwd.struct_passwd,
                 internal_user: str, login_user: str):
        self.binary = binary
        self.doveadm_binary = find_doveadm(binary)
        self.base_dir = base_dir
        self.run_dir = run_dir
        self.config_path = base_dir / "dovecot.conf"
        self.passwd_dir = base_dir / "passwd.d"
        self.log_path = base_dir / "dovecot.log"
        self.state_dir = base_dir / "state"
        self.mail_dir = base_dir / "mail"
        self.home_dir = base_dir / "home"
        self.cert_path: Path | None = None
        self.key_path: Path | None = None
        self.port = port
        self.tls_port = tls_port
        self.mail_uid = mail_owner.pw_uid
        self.mail_gid = mail_owner.pw_gid
        self.mail_owner = mail_owner.pw_name
        self.internal_user = internal_user
        self.login_user = login_user
        self._users: dict[str, str] = {}
        self._process: subprocess.Popen | None = None

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<DovecotServer imap://{self.host}:{self.port} {state} base={self.base_dir}>"

    # -- configuration

    def write_config(self) -> None:
        tls = self.tls_port is not None
        ssl_lines = (
            f"ssl = yes\nssl_cert = <{self.cert_path}\nssl_key = <{self.key_path}\n"
            "ssl_min_protocol = TLSv1.2\n"
            if tls else "ssl = no\n"
        )
        imaps_port = self.tls_port if tls else 0
        config = f"""\
# Written by tests/services/dovecot.py for one test session (Dovecot 2.3 syntax).
# Nothing from /etc/dovecot is read; the server only listens on {self.host}.
base_dir = {self.run_dir}
state_dir = {self.state_dir}
instance_name = pengaduan-test-{self.port}
protocols = imap
listen = {self.host}
log_path = {self.log_path}
auth_verbose = yes

default_internal_user = {self.internal_user}
default_internal_group = {grp.getgrgid(pwd.getpwnam(self.internal_user).pw_gid).gr_name}
default_login_user = {self.login_user}
# Mail is only ever served as the unprivileged mail owner ({self.mail_owner}).
first_valid_uid = {self.mail_uid}
last_valid_uid = {self.mail_uid}
first_valid_gid = {self.mail_gid}
last_valid_gid = {self.mail_gid}

mail_location = maildir:{self.mail_dir}/%u
namespace inbox {{
  inbox = yes
  separator = /
}}
mail_fsync = never

auth_mechanisms = plain login
disable_plaintext_auth = no
auth_failure_delay = 0
# With tls, the plain port also offers STARTTLS, without requiring it.
{ssl_lines}
# One file per user: Dovecot re-reads a passwd-file at most once a second, but a new user's
# file is a new path, read at its first login. A missing file means "unknown user".
passdb {{
  driver = passwd-file
  args = {self.passwd_dir}/%u
}}
userdb {{
  driver = passwd-file
  args = {self.passwd_dir}/%u
}}

protocol imap {{
  mail_max_userip_connections = 1000
}}

# No chroots: the same configuration works as root and as an ordinary user.
service imap-login {{
  chroot =
  inet_listener imap {{
    address = {self.host}
    port = {self.port}
  }}
  inet_listener imaps {{
    address = {self.host}
    port = {imaps_port}
  }}
}}
service imap-urlauth-login {{
  chroot =
}}
service anvil {{
  chroot =
  # No growing delay after failed logins from 127.0.0.1 (tests fail logins on purpose).
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service ipc {{
  chroot =
}}
service old-stats {{
  chroot =
}}
service aggregator {{
  chroot =
}}
"""
        self.config_path.write_text(config)

    def _write_passwd(self, name: str) -> bool:
        """Write ``name``'s passwd-file; True when it replaced an existing one."""
        # {PLAIN.B64}: any password (':' included) survives the passwd-file format.
        encoded = base64.b64encode(self._users[name].encode()).decode()
        line = (f"{name}:{{PLAIN.B64}}{encoded}:{self.mail_uid}:{self.mail_gid}::"
                f"{self.home_dir / name}::\n")
        path = self.passwd_dir / name
        tmp = self.passwd_dir / f".{name}.tmp"
        tmp.write_text(line)
        if os.geteuid() == 0:  # read by the auth process, which runs as default_internal_user
            os.chown(tmp, 0, pwd.getpwnam(self.internal_user).pw_gid)
        os.chmod(tmp, 0o640)
        try:
            old_mtime = path.stat().st_mtime
        except FileNotFoundError:
            old_mtime = None
        if old_mtime is not None:
            # Dovecot reloads a file whose mtime or size changed: make sure the mtime does.
            mtime = max(time.time(), old_mtime + 1)
            os.utime(tmp, (mtime, mtime))
        os.replace(tmp, path)
        return old_mtime is not None

    # -- users and mail

    def add_user(self, name: str, password: str) -> None:
        """Add (or change the password of) user ``name``; works while the server runs."""
        if not _USERNAME.match(name):
            raise ValueError(f"user name {name!r} must match {_USERNAME.pattern}")
        self._users[name] = password
        if self._write_passwd(name) and self.running:
            # A changed password: Dovecot stats a passwd-file at most once a second.
            time.sleep(1.1)

    def password(self, user: str) -> str:
        return self._users[user]

    def connect(self, user: str, *, timeout: float = 10.0, tls: bool = False):
        """A logged-in ``imapclient.IMAPClient`` for ``user`` (use it as a context manager)."""
        from imapclient import IMAPClient

        if tls:
            if self.tls_port is None:
                raise ValueError("this server was started without tls=True")
            import ssl

            context = ssl.create_default_context(cafile=str(self.cert_path))
            client = IMAPClient(self.host, port=self.tls_port, ssl=True, ssl_context=context,
                                timeout=timeout)
        else:
            client = IMAPClient(self.host, port=self.port, ssl=False, timeout=timeout)
        try:
            client.login(user, self._users[user])
        except BaseException:
            client.shutdown()
            raise
        return client

    def append(self, user: str, folder: str, raw: bytes, flags: Iterable[bytes | str] = (),
               internal_date: datetime | None = None) -> int | None:
        """Put ``raw`` (an RFC 5322 message) into ``user``'s ``folder`` (created when missing)
        with ``flags`` (e.g. ``[br"\\Seen"]``) and ``internal_date``. Returns its UID."""
        with self.connect(user) as client:
            if not client.folder_exists(folder):
                client.create_folder(folder)
            response = client.append(folder, raw, flags=tuple(flags), msg_time=internal_date)
        text = response.decode(errors="replace") if isinstance(response, bytes) else str(response)
        match = re.search(r"APPENDUID \d+ (\d+)", text)
        return int(match.group(1)) if match else None

    def doveadm(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """Run ``doveadm -c CONFIG ARGS`` against this server."""
        argv = [str(self.doveadm_binary), "-c", str(self.config_path), *args]
        result = subprocess.run(argv, capture_output=True, text=True, timeout=60, cwd="/",
                                env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                                     "LC_ALL": "C"})
        if check and result.returncode != 0:
            raise DovecotUnavailable(
                f"{' '.join(argv)} failed (exit {result.returncode}): "
                f"{(result.stdout + result.stderr).strip()}"
            )
        return result

    def uidvalidity(self, user: str, folder: str) -> int:
        with self.connect(user) as client:
            return int(client.folder_status(folder, [b"UIDVALIDITY"])[b"UIDVALIDITY"])

    def reset_uidvalidity(self, user: str, folder: str, value: int | None = None) -> int:
        """Give ``user``'s ``folder`` a new UIDVALIDITY (``value``, or one larger than the old
        one and than the current time), keeping its messages. Returns the new UIDVALIDITY.

        Done by Dovecot itself (``doveadm mailbox update --uid-validity``) while it runs: the
        next SELECT/STATUS reports the new value, as after a server-side mailbox rebuild.
        """
        old = self.uidvalidity(user, folder)
        if value is None:
            value = max(old + 1, int(time.time()))
        if not 0 < value < 2**32 or value == old:
            raise ValueError(f"UIDVALIDITY {value} must be in 1..2**32-1 and differ from {old}")
        self.doveadm("mailbox", "update", "-u", user, "--uid-validity", str(value), folder)
        return value

    def kill_connections(self, user: str = "*") -> None:
        """Disconnect every IMAP session of ``user`` (a mask; default everyone), as a server
        would on maintenance. The server keeps running."""
        result = self.doveadm("kick", user, check=False)
        if result.returncode not in (0, 68):  # 68 (EX_NOUSER): nobody was connected
            raise DovecotUnavailable(
                f"doveadm kick {user} failed (exit {result.returncode}): "
                f"{(result.stdout + result.stderr).strip()}"
            )

    # -- lifecycle

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def _probe(self) -> str | None:
        """None when an IMAP LOGIN works, else why not."""
        import imaplib

        try:
            conn = imaplib.IMAP4(self.host, self.port, timeout=5)
        except OSError as exc:
            return f"connect: {exc}"
        try:
            conn.login(PROBE_USER, self._users[PROBE_USER])
            conn.logout()
            return None
        except (imaplib.IMAP4.error, OSError) as exc:
            try:
                conn.shutdown()
            except OSError:
                pass
            return f"LOGIN: {exc}"

    def start(self, timeout: float = START_TIMEOUT) -> None:
        """Start Dovecot on the configured port and wait until a LOGIN works."""
        if self.running:
            return
        log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with open(self.base_dir / "dovecot.stdout", "ab") as out:
            self._process = subprocess.Popen(
                [str(self.binary), "-F", "-c", str(self.config_path)],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, cwd="/",
                env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C"},
                start_new_session=True,  # Ctrl-C in the terminal goes to pytest, not Dovecot
                preexec_fn=_parent_death_signal_setter(),
            )
        deadline = time.monotonic() + timeout
        why = "not probed"
        while True:
            if self._process.poll() is not None:
                code = self._process.returncode
                self._process = None
                raise DovecotUnavailable(
                    f"dovecot exited during start-up (exit {code}); {self.base_dir}/dovecot.stdout:"
                    f"\n{_read_from(self.base_dir / 'dovecot.stdout', 0, 10)}\n"
                    f"log {self.log_path}:\n{_read_from(self.log_path, log_offset)}"
                )
            why = self._probe()
            if why is None:
                return
            if time.monotonic() > deadline:
                self._kill()
                raise DovecotUnavailable(
                    f"no working IMAP LOGIN on {self.host}:{self.port} within {timeout:.0f}s "
                    f"({why}); log {self.log_path}:\n{_read_from(self.log_path, log_offset)}"
                )
            time.sleep(0.1)

    @staticmethod
    def _group_alive(pgid: int) -> bool:
        """Whether a live (not zombie) process is left in process group ``pgid``."""
        proc = Path("/proc")
        if not proc.is_dir():  # not Linux: ask the kernel (zombies count as alive here)
            try:
                os.killpg(pgid, 0)
                return True
            except (ProcessLookupError, PermissionError):
                return False
        for entry in proc.iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rfind(")") + 2:].split()  # state ppid pgrp ...
            if len(fields) > 2 and fields[2] == str(pgid) and fields[0] not in ("Z", "X"):
                return True
        return False

    def _reap_group(self, pgid: int) -> None:
        """End the processes the master leaves behind. Dovecot's imap processes outlive their
        master by up to ~10 s to finish their clients' commands (log/stats linger until they
        do); a test restarting "the server" wants every session gone at once. Zombies are
        not waited for: they are init's to reap."""
        deadline = time.monotonic() + STOP_TIMEOUT
        sig = signal.SIGTERM  # imap: "* BYE Server shutting down." and exit
        while self._group_alive(pgid):
            try:
                os.killpg(pgid, sig)
            except (ProcessLookupError, PermissionError):
                return
            if time.monotonic() > deadline:
                if sig == signal.SIGKILL:
                    return  # unkillable (D state): give up rather than hang the tests
                sig, deadline = signal.SIGKILL, time.monotonic() + 5
            time.sleep(0.05)

    def _kill(self) -> None:
        if self._process is not None:
            pgid = self._process.pid  # start_new_session: the master leads its process group
            try:
                self._process.kill()
                self._process.wait(STOP_TIMEOUT)
            except (OSError, subprocess.TimeoutExpired):
                pass
            try:
                os.killpg(pgid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            self._process = None

    def shutdown(self) -> None:
        """Stop Dovecot, keeping all files: SIGTERM to the master, which stops its services;
        then every session still open is ended (SIGTERM; SIGKILL after STOP_TIMEOUT)."""
        if self._process is None:
            return
        pgid = self._process.pid
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(STOP_TIMEOUT)
        self._reap_group(pgid)
        self._process = None

    def restart(self) -> None:
        """Stop and start again on the same port(s) and mailboxes: open connections break."""
        self.shutdown()
        self.start()

    def stop(self) -> None:
        """Stop the server for good (mailboxes and log stay in ``base_dir``)."""
        self.shutdown()
        atexit.unregister(self.stop)
        if not self.run_dir.is_relative_to(self.base_dir):
            shutil.rmtree(self.run_dir, ignore_errors=True)


@dataclass(frozen=True)
class ImapAccount:
    """One mailbox on a DovecotServer: what an IMAP collector is configured with."""

    host: str
    port: int
    username: str
    password: str
    server: DovecotServer

    def connect(self, **kwargs):  # a logged-in imapclient.IMAPClient
        return self.server.connect(self.username, **kwargs)

    def append(self, folder: str, raw: bytes, flags: Iterable[bytes | str] = (),
               internal_date: datetime | None = None) -> int | None:
        return self.server.append(self.username, folder, raw, flags, internal_date)


def new_account(server: DovecotServer) -> ImapAccount:
    """A fresh user with a random name and password (its own, empty mailbox)."""
    username = f"u{secrets.token_hex(6)}"
    password = secrets.token_urlsafe(12)
    server.add_user(username, password)
    return ImapAccount(server.host, server.port, username, password, server)


def start_dovecot(base_dir: Path, *, tls: bool = False, mail_user: str | None = None,
                  timeout: float = START_TIMEOUT) -> DovecotServer:
    """Configure and start a private Dovecot with everything under ``base_dir``.

    ``base_dir`` is created when missing; as root it is made traversable (0711) so that the
    mail owner reaches its Maildirs (every directory above it must be searchable, as /tmp is).
    ``tls=True`` adds an implicit-TLS listener (``.tls_port``) with a fresh self-signed
    certificate (``.cert_path``). Raises DovecotUnavailable with the reason and log tail.
    """
    base_dir = Path(base_dir).absolute()
    binary = find_dovecot()
    version = dovecot_version(binary)
    if not version.startswith("2.3."):
        # The config written here is Dovecot 2.3 syntax (Debian 12); 2.4 renamed many settings.
        raise DovecotUnavailable(f"{binary} is Dovecot {version or '?'}; these tests need 2.3.x")
    find_doveadm(binary)

    if os.geteuid() == 0:
        mail_owner = _ensure_user(
            mail_user or os.environ.get("PENGADUAN_TEST_MAIL_USER") or DEFAULT_MAIL_USER
        )
        if mail_owner.pw_uid == 0:
            raise DovecotUnavailable("the mail user must not be root")
        internal_user = _existing_user("dovecot").pw_name
        login_user = _existing_user("dovenull").pw_name
    else:
        mail_owner = pwd.getpwuid(os.geteuid())
        internal_user = login_user = mail_owner.pw_name

    base_dir.mkdir(parents=True, exist_ok=True)
    run_dir = base_dir / "run"
    if len(str(run_dir)) > _SOCKET_DIR_MAX:
        run_dir = Path(tempfile.mkdtemp(prefix="pengaduan-imap-run-"))
    for path in (base_dir / "state", base_dir / "mail", base_dir / "home"):
        path.mkdir(exist_ok=True)
    passwd_dir = base_dir / "passwd.d"
    passwd_dir.mkdir(exist_ok=True)
    if os.geteuid() == 0:
        os.chown(passwd_dir, 0, pwd.getpwnam(internal_user).pw_gid)
        os.chmod(passwd_dir, 0o750)
        os.chmod(base_dir, 0o711)
        for path in (base_dir / "mail", base_dir / "home"):
            os.chown(path, mail_owner.pw_uid, mail_owner.pw_gid)
            os.chmod(path, 0o700)
        probe = subprocess.run(["test", "-x", str(base_dir)], user=mail_owner.pw_uid,
                               group=mail_owner.pw_gid, extra_groups=[], cwd="/")
        if probe.returncode != 0:
            raise DovecotUnavailable(
                f"user {mail_owner.pw_name!r} cannot reach {base_dir}: a directory above it is "
                "not searchable by others; use a base directory under /tmp"
            )

    tls_port = free_port() if tls else None
    server = DovecotServer(binary, base_dir, run_dir, free_port(), tls_port, mail_owner,
                           internal_user, login_user)
    if tls:
        server.cert_path, server.key_path = _generate_certificate(base_dir / "tls")
    server.add_user(PROBE_USER, secrets.token_urlsafe(16))
    atexit.register(server.stop)
    for attempt in range(PORT_ATTEMPTS):
        server.write_config()
        try:
            server.start(timeout)
            return server
        except DovecotUnavailable as exc:
            port_taken = "Address already in use" in str(exc)
            if not port_taken or attempt == PORT_ATTEMPTS - 1:
                server.stop()
                raise
            server.port = free_port()
            if tls:
                server.tls_port = free_port()
    raise AssertionError("unreachable")


def main(argv: list[str] | None = None) -> int:
    """``python tests/services/dovecot.py [DIR]``: run a server in DIR until Ctrl-C, with a
    user ``test`` / password ``test``."""
    args = sys.argv[1:] if argv is None else argv
    base = Path(args[0]) if args else Path(tempfile.mkdtemp(prefix="pengaduan-imap-"))
    server = start_dovecot(base)
    server.add_user("test", "test")
    print(f"imap://test:test@{server.host}:{server.port}  (base {base})", flush=True)
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
