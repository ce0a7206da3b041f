"""Plug-ins as an admin meets them: listed, generated, and contained when they break.

Throwaway distributions (a ``.dist-info`` with ``entry_points.txt`` in a folder put on
sys.path) stand for installed plug-ins, so nothing is installed into .venv. The scaffold test
installs its generated package for real, into a throwaway environment (tests/plugin_env.py).
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers import SAMPLES
from pengaduan.cli.main import main
from pengaduan.collectors.registry import load_registry
from pengaduan.collectors.testing import write_files
from plugin_env import PluginEnv

LAPOR_CSV = SAMPLES / "lapor/export-2026-11.csv"


@pytest.fixture(autouse=True)
def fresh_registry() -> Iterator[None]:
    load_registry.cache_clear()
    yield
    load_registry.cache_clear()


def fake_plugin(site: Path, dist: str, entry: str, module: str, code: str) -> None:
    """An 'installed' distribution ``dist`` whose entry point ``entry`` loads ``module``."""
    info = site / f"{dist.replace('-', '_')}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[pengaduan.collectors]\n{entry} = {module}\n")
    (site / f"{module.split(':')[0]}.py").write_text(textwrap.dedent(code))


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "site"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    return folder


def settings(tmp_path: Path, extra: str = "") -> Path:
    """A lapor_export instance with one export waiting, plus ``extra`` sections."""
    inbox = tmp_path / "lapor"
    write_files(inbox, {"export.csv": LAPOR_CSV.read_bytes()}, age_seconds=60)
    path = tmp_path / "settings.toml"
    path.write_text(
        f'[store]\nurl = "sqlite:///{tmp_path}/p.db"\n\n'
        f'[collectors.lapor]\ntype = "lapor_export"\nwatch_dir = "{inbox}"\n\n{extra}'
    )
    return path


def cli(config: Path, *args: str) -> int:
    return main(["--config", str(config), "--log-format", "text", *args])


def test_list_shows_builtin_types_and_instances(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = settings(tmp_path)
    assert cli(config, "collectors", "list") == 0
    out = capsys.readouterr().out
    assert "lapor_export   lapor      pengaduan" in out
    assert "youtube" in out and "Broken" not in out
    assert "lapor     lapor_export  yes      never run" in out
    assert cli(config, "run", "--once") == 0
    capsys.readouterr()
    assert cli(config, "collectors", "list") == 0
    assert "lapor     lapor_export  yes      ok" in capsys.readouterr().out


def test_a_plugin_that_fails_to_import_is_named_and_disabled_while_builtins_run(
    tmp_path: Path, site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_plugin(site, "pengaduan-whatsapp", "whatsapp", "pgd_fake_whatsapp:WhatsappCollector",
                "import pgd_fake_whatsapp_sdk_not_installed\n")
    config = settings(tmp_path)
    assert cli(config, "run", "--once") == 0
    captured = capsys.readouterr()
    assert "lapor: 20 fetched, 20 new" in captured.out
    assert "collector plug-in 'whatsapp' from pengaduan-whatsapp disabled" in captured.err
    assert "pgd_fake_whatsapp_sdk_not_installed" in captured.err

    assert cli(config, "collectors", "list") == 1  # something needs the admin's attention
    out = capsys.readouterr().out
    broken = out.split("Broken plug-ins (disabled)")[1]
    assert "whatsapp  pengaduan-whatsapp  ModuleNotFoundError" in broken
    assert "whatsapp" not in out.split("Broken")[0]


def test_an_instance_of_a_broken_plugin_is_disabled_and_the_others_run(
    tmp_path: Path, site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_plugin(site, "pengaduan-whatsapp", "whatsapp", "pgd_fake_whatsapp:WhatsappCollector",
                "import pgd_fake_whatsapp_sdk_not_installed\n")
    config = settings(tmp_path)
    config.write_text(config.read_text() + '\n[collectors.wa]\ntype = "whatsapp"\nnumber = "x"\n')
    assert cli(config, "run", "--once") == 0
    captured = capsys.readouterr()
    assert "lapor: 20 fetched, 20 new" in captured.out
    assert "collector wa is disabled: its plug-in 'whatsapp' from pengaduan-whatsapp failed" in captured.err
    assert cli(config, "status") == 1  # something needs the admin
    assert "wa: collector wa is disabled" in capsys.readouterr().out


def test_a_plugin_raising_in_fetch_fails_only_its_own_run(
    tmp_path: Path, site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_plugin(site, "pengaduan-flaky", "flaky", "pgd_fake_flaky:FlakyCollector", '''
        from dataclasses import dataclass
        from pengaduan.collectors.base import Collector

        @dataclass(frozen=True)
        class Config:
            pass

        class FlakyCollector(Collector):
            type = "flaky"
            channel = "flaky"
            Config = Config

            def fetch(self, cursor):
                raise RuntimeError("the SDK fell over")
                yield

            @staticmethod
            def normalize(item):
                raise AssertionError("never reached")
    ''')
    config = settings(tmp_path, '[collectors.flaky]\ntype = "flaky"\n')
    assert cli(config, "run", "--once") == 1  # one failed: non-zero, the other still ran
    captured = capsys.readouterr()
    assert "lapor: 20 fetched, 20 new" in captured.out
    assert "flaky: 0 fetched" in captured.err and "RuntimeError: the SDK fell over" in captured.err
    cli(config, "collectors", "list")
    out = capsys.readouterr().out
    assert "flaky     flaky         yes      failing" in out
    assert "lapor     lapor_export  yes      ok" in out


def test_two_packages_claiming_one_type_name_fail_at_start_up(
    tmp_path: Path, site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_plugin(site, "pengaduan-lapor-plus", "lapor_export", "pgd_fake_lapor:LaporPlus", '''
        from pengaduan.collectors.lapor_export import LaporExportCollector

        class LaporPlus(LaporExportCollector):
            pass
    ''')
    config = settings(tmp_path)
    assert cli(config, "run", "--once") == 2
    err = capsys.readouterr().err
    assert "collector type 'lapor_export' is provided by both" in err
    assert "pengaduan-lapor-plus" in err and "uninstall one of them" in err


def test_new_refuses_a_taken_or_unusable_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "none.toml"
    assert cli(config, "collectors", "new", "imap", "--dir", str(tmp_path)) == 2
    assert "already installed (from pengaduan)" in capsys.readouterr().err
    assert cli(config, "collectors", "new", "Whats-App", "--dir", str(tmp_path)) == 2
    assert "lower-case letters" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_the_generated_package_installs_passes_its_tests_and_ingests(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(tmp_path / "none.toml", "collectors", "new", "sms", "--dir", str(tmp_path)) == 0
    package = tmp_path / "pengaduan-collector-sms"
    assert f"created {package}" in capsys.readouterr().out
    assert {p.name for p in package.iterdir()} >= {
        "pyproject.toml", "README.md", "settings.example.toml", "pengaduan_collector_sms", "tests"
    }

    env = PluginEnv(tmp_path / "venv")
    env.install(package)
    tested = env.pytest(package)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "passed" in tested.stdout and "skipped" not in tested.stdout

    inbox = tmp_path / "inbox"
    write_files(inbox, {
        f"2026110{n}-0915.json": json.dumps({"received_at": f"2026-11-0{n}T09:15:00+08:00",
                                             "from": "+6281234567890", "text": f"Keluhan {n}"})
        for n in (1, 2, 3)
    })
    example = (package / "settings.example.toml").read_text()
    config = tmp_path / "settings.toml"
    config.write_text(f'[store]\nurl = "sqlite:///{tmp_path}/p.db"\n\n'
                      + example.replace('"data/incoming/sms"', f'"{inbox}"'))
    listed = env.pengaduan(config, "collectors", "list", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert "sms            sms        pengaduan-collector-sms  0.1.0" in listed.stdout
    ran = env.pengaduan(config, "run", "--once", cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert "sms: 3 fetched, 3 new" in ran.stdout
    exported = env.pengaduan(config, "export", "--format", "jsonl", cwd=tmp_path)
    rows = [json.loads(line) for line in exported.stdout.splitlines()]
    assert sorted((r["channel"], r["body"]) for r in rows) == [
        ("sms", "Keluhan 1"), ("sms", "Keluhan 2"), ("sms", "Keluhan 3")
    ]
