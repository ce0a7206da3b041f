"""Check deploy/pengaduan.service: the keys docs/operations.md relies on, and
``systemd-analyze verify`` when it is installed (with the guide's executable path swapped for
one that exists here, since the check runs before /opt/pengaduan is installed).

    python3 deploy/unit_check.py [UNIT_FILE]      exit 0 when the unit holds
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

EXE = "/opt/pengaduan/venv/bin/pengaduan"
REQUIRED = {
    "Unit": {"Description": None, "After": "network-online.target"},
    "Service": {
        "User": "pengaduan",
        "EnvironmentFile": "/etc/pengaduan/env",
        "WorkingDirectory": "/var/lib/pengaduan",
        "ExecStartPre": f"{EXE} --config /etc/pengaduan/settings.toml db upgrade",
        "ExecStart": f"{EXE} --config /etc/pengaduan/settings.toml --log-format json run",
        "Restart": "on-failure",
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "ReadWritePaths": "/var/lib/pengaduan",
        "PrivateTmp": "yes",
        "KillSignal": "SIGTERM",
    },
    "Install": {"WantedBy": "multi-user.target"},
}


def parse_unit(text: str) -> dict[str, dict[str, list[str]]]:
    """Sections → key → values (systemd allows a key more than once)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current = None
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        if current is None or "=" not in line:
            raise ValueError(f"line {number}: not 'Key=value' inside a [Section]: {raw!r}")
        key, value = line.split("=", 1)
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def problems_of(text: str) -> list[str]:
    try:
        unit = parse_unit(text)
    except ValueError as exc:
        return [str(exc)]
    found = []
    for section, keys in REQUIRED.items():
        for key, want in keys.items():
            values = unit.get(section, {}).get(key)
            if not values:
                found.append(f"[{section}] {key} is missing")
            elif want is not None and want not in values:
                found.append(f"[{section}] {key} is {values[-1]!r}, expected {want!r}")
    return found


def systemd_verify(text: str) -> list[str]:
    tool = shutil.which("systemd-analyze")
    if tool is None:
        return []
    exe = shutil.which("pengaduan") or "/bin/true"
    with tempfile.TemporaryDirectory() as tmp:
        unit = Path(tmp) / "pengaduan.service"
        unit.write_text(text.replace(EXE, exe))
        done = subprocess.run([tool, "verify", str(unit)], capture_output=True, text=True)
    if done.returncode != 0:
        return [f"systemd-analyze verify: {line}" for line in done.stderr.splitlines() if line]
    return []


def main(argv: list[str]) -> int:
    path = Path(argv[1]) if len(argv) > 1 else Path(__file__).with_name("pengaduan.service")
    text = path.read_text()
    found = problems_of(text) + systemd_verify(text)
    for line in found:
        print(f"{path}: {line}", file=sys.stderr)
    if not found:
        how = "systemd-analyze verify and key checks" if shutil.which("systemd-analyze") else "key checks (no systemd-analyze here)"
        print(f"{path}: ok ({how})")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
