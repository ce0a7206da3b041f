"""docs/collectors.md's worked example, run: the page cannot drift from the code.

The code blocks marked ```LANG file=PATH are written into a package folder, which is
installed into a throwaway environment (tests/plugin_env.py); its own tests run there, and
``pengaduan run --once`` ingests through it from a local SMS gateway.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from helpers import ROOT
from pengaduan.collectors.testing import serve_http
from plugin_env import PluginEnv

DOC = ROOT / "docs" / "collectors.md"
BLOCK = re.compile(r"^```\w+ file=(\S+)\n(.*?)^```$", re.M | re.S)

INBOX = [
    {"seq": n, "from": "+6281234567890", "received": f"2026-11-0{n}T09:15:00+08:00",
     "text": f"Bantuan PKH keluarga {n} belum cair"}
    for n in (1, 2, 3)
] + [{"seq": 4, "from": "TELKOMSEL", "received": "2026-11-04T10:00:00+08:00",
      "text": "Sisa pulsa Anda Rp1.000"}]


def doc_files() -> dict[str, str]:
    return {path: body for path, body in BLOCK.findall(DOC.read_text(encoding="utf-8"))}


def gateway(path: str, query: dict[str, str]) -> tuple[int, object]:
    if path != "/api/messages":
        return 404, {}
    after, limit = int(query["after"]), int(query["limit"])
    return 200, {"messages": [m for m in INBOX if m["seq"] > after][:limit]}


def test_the_doc_names_every_part_of_the_example() -> None:
    files = doc_files()
    assert set(files) == {
        "pyproject.toml", "pengaduan_sms_gateway/normalizer.py",
        "pengaduan_sms_gateway/collector.py", "tests/test_sms_gateway.py",
        "settings.example.toml",
    }
    assert "`pengaduan_sms_gateway/__init__.py` is empty" in DOC.read_text(encoding="utf-8")


def test_the_worked_example_installs_passes_its_tests_and_ingests(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "pengaduan-sms-gateway"
    for relative, text in doc_files().items():
        (package / relative).parent.mkdir(parents=True, exist_ok=True)
        (package / relative).write_text(text, encoding="utf-8")
    (package / "pengaduan_sms_gateway" / "__init__.py").write_text("")

    env = PluginEnv(tmp_path / "venv")
    env.install(package)
    tested = env.pytest(package)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "8 passed" in tested.stdout, tested.stdout

    monkeypatch.setenv("PENGADUAN_SMS_TOKEN", "t0ken-for-the-test")
    with serve_http(gateway) as base:
        section = (package / "settings.example.toml").read_text()
        section = section.replace("http://192.168.1.20:8080/api", f"{base}/api")
        config = tmp_path / "settings.toml"
        config.write_text(f'[store]\nurl = "sqlite:///{tmp_path}/p.db"\n\n{section}')
        listed = env.pengaduan(config, "collectors", "list", cwd=tmp_path)
        assert listed.returncode == 0, listed.stderr
        assert re.search(r"sms_gateway\s+sms\s+pengaduan-sms-gateway\s+0\.1\.0", listed.stdout)
        ran = env.pengaduan(config, "run", "--once", cwd=tmp_path)
        assert ran.returncode == 0, ran.stderr
        assert "sms: 4 fetched, 4 new" in ran.stdout
        again = env.pengaduan(config, "run", "--once", cwd=tmp_path)
        assert "sms: 0 fetched" in again.stdout

    exported = env.pengaduan(config, "export", "--format", "jsonl", cwd=tmp_path)
    rows = {r["source_id"]: r for r in map(json.loads, exported.stdout.splitlines())}
    assert sorted(rows) == ["1", "2", "3", "4"]
    assert {r["channel"] for r in rows.values()} == {"sms"}
    assert [rows[s]["kind"] for s in "1234"] == ["complaint"] * 3 + ["not_complaint"]
