"""What every throwaway test server needs from the machine: a free port, an unprivileged user."""

from __future__ import annotations

import pwd
import shutil
import socket
import subprocess


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ensure_user(name: str, comment: str) -> pwd.struct_passwd:
    """The system user ``name``, created (no home, no login shell) when missing; OSError
    with useradd's own words when it cannot be had."""
    try:
        return pwd.getpwnam(name)
    except KeyError:
        pass
    useradd = shutil.which("useradd") or "/usr/sbin/useradd"
    result = subprocess.run(
        [useradd, "--system", "--user-group", "--no-create-home",
         "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", "--comment", comment, name],
        capture_output=True, text=True,
    )
    try:  # another test session may have created it at the same moment
        return pwd.getpwnam(name)
    except KeyError:
        raise OSError(result.stderr.strip() or f"useradd exited {result.returncode}") from None
