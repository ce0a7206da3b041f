"""A throwaway Python environment for installing collector plug-ins in tests.

The tests must install plug-in packages for real (entry points are read from installed
metadata), but never into the project's own .venv. ``PluginEnv`` is a venv without pip whose
site-packages has a ``.pth`` that adds the running environment's site-packages *after* its
own: pengaduan, pytest, responses and pip come from there, and whatever is installed with
``install`` lands only in the throwaway one, which is deleted with its folder.
"""

from __future__ import annotations

import os
import subprocess
import sysconfig
import venv
from pathlib import Path

INSTALL_TIMEOUT = 300


class PluginEnv:
    def __init__(self, root: Path):
        self.root = root
        venv.EnvBuilder(with_pip=False).create(root)
        self.python = root / "bin" / "python"
        own = subprocess.run(
            [str(self.python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True, capture_output=True, text=True,
        ).stdout.strip()
        parent = sysconfig.get_paths()["purelib"]
        # addsitedir, not a bare path line: the parent's own .pth files (pengaduan's editable
        # finder) must run too.
        Path(own, "_parent_env.pth").write_text(f"import site; site.addsitedir({parent!r})\n")

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
        return env

    def run(self, *args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.python), *args], cwd=cwd, env=self.env(), capture_output=True, text=True,
            timeout=timeout,
        )

    def install(self, project: Path) -> None:
        """``pip install --no-deps -e project``: its dependency (pengaduan) is already here."""
        done = self.run("-m", "pip", "install", "-q", "--no-deps", "-e", str(project),
                        cwd=self.root, timeout=INSTALL_TIMEOUT)
        assert done.returncode == 0, f"pip install -e {project} failed:\n{done.stdout}\n{done.stderr}"

    def pengaduan(self, config: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        """The ``pengaduan`` command as this environment sees it (its plug-ins included)."""
        return self.run("-m", "pengaduan.cli.main", "--config", str(config),
                        "--log-format", "text", *args, cwd=cwd)

    def pytest(self, project: Path, *args: str) -> subprocess.CompletedProcess[str]:
        """The project's own tests, run from its folder as its author would."""
        return self.run("-m", "pytest", "-q", "-p", "no:cacheprovider", *args, cwd=project,
                        timeout=600)
