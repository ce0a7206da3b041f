"""examples/contact_form, installed from its own folder as an admin would, end to end.

It goes into a throwaway environment (tests/plugin_env.py), never into .venv: its own tests
run there, and ``pengaduan run --once`` ingests from a real HTTP server on 127.0.0.1.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers import ROOT
from pengaduan.collectors.testing import serve_http
from plugin_env import PluginEnv

EXAMPLE = ROOT / "examples" / "contact_form"

SUBMISSIONS = [
    {"id": n, "submitted_at": f"2026-11-0{n}T09:15:00+08:00", "name": f"Warga {n}",
     "phone": "0812-3456-7890", "subject": "Bantuan sosial",
     "message": f"Bantuan untuk keluarga {n} belum diterima.", "kecamatan": "Abang"}
    for n in range(1, 6)
]


def website(path: str, query: dict[str, str]) -> tuple[int, object]:
    """The regency website's export: oldest first after ``after_id``, ``limit`` at a time."""
    if path != "/api/kontak":
        return 404, {"error": "not found"}
    after = int(query.get("after_id", 0))
    limit = int(query["limit"])
    rest = [s for s in SUBMISSIONS if s["id"] > after]
    return 200, {"items": rest[:limit], "has_more": len(rest) > limit}


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> PluginEnv:
    env = PluginEnv(tmp_path_factory.mktemp("plugin-env") / "venv")
    env.install(EXAMPLE)
    return env


def test_its_own_tests_pass_installed(env: PluginEnv) -> None:
    done = env.pytest(EXAMPLE)
    assert done.returncode == 0, done.stdout + done.stderr
    assert " passed" in done.stdout


def test_run_once_ingests_from_the_website(env: PluginEnv, tmp_path: Path) -> None:
    with serve_http(website) as base:
        config = tmp_path / "settings.toml"
        config.write_text(
            f'[store]\nurl = "sqlite:///{tmp_path}/p.db"\n\n'
            f'[collectors.website]\ntype = "contact_form"\nurl = "{base}/api/kontak"\n'
            "page_size = 2\n"
        )
        first = env.pengaduan(config, "run", "--once", cwd=tmp_path)
        assert first.returncode == 0, first.stderr
        assert "website: 5 fetched, 5 new" in first.stdout
        again = env.pengaduan(config, "run", "--once", cwd=tmp_path)
        assert again.returncode == 0 and "website: 0 fetched, 0 new" in again.stdout

    exported = env.pengaduan(config, "export", "--format", "jsonl", cwd=tmp_path)
    rows = [json.loads(line) for line in exported.stdout.splitlines()]
    assert sorted(r["source_id"] for r in rows) == ["1", "2", "3", "4", "5"]
    assert {r["channel"] for r in rows} == {"web_form"}
    assert {r["collector"] for r in rows} == {"website"}
    assert len({r["case_id"] for r in rows}) == 5
    assert "0812-3456-7890" not in exported.stdout  # masked by default, like every channel
