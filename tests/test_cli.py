"""The command line as staff and admins use it: one sentence on error, masked output."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from helpers import SAMPLES
from pengaduan.cli.main import main
from pengaduan.store.db import Store

OCT = SAMPLES / "lapor/export-2026-10.xlsx"
NOV = SAMPLES / "lapor/export-2026-11.csv"


@pytest.fixture
def config(tmp_path: Path, store_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "settings.toml"
    path.write_text(f'[store]\nurl = "{store_url}"\n[privacy]\nreveal_users = ["kadis"]\n')
    monkeypatch.setenv("PENGADUAN_USER", "petugas")
    return path


def cli(config: Path, *args: str) -> int:
    return main(["--config", str(config), "--log-format", "json", *args])


def exported(config: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> list[dict]:
    capsys.readouterr()
    assert cli(config, "export", "--format", "jsonl", *extra) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_import_list_show_export(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(config, "import", "lapor", str(OCT)) == 0
    assert cli(config, "import", "lapor", str(NOV)) == 0
    out = capsys.readouterr().out
    assert "lapor: 25 fetched, 25 new" in out and "12 new" in out

    assert cli(config, "queue", "list") == 0
    listing = capsys.readouterr().out
    assert listing.splitlines()[0].split()[:3] == ["No.", "Kasus", "Status"]
    assert "PGD-2026-000001" in listing and "37 kasus." in listing

    rows = exported(config, capsys)
    assert len(rows) == 37
    first = rows[0]
    assert set(first) >= {"record_id", "case_id", "channel", "collector", "source_id", "kind",
                          "received_at", "subject", "body", "author", "status", "due_at",
                          "confidential", "link"}
    assert first["received_at"].endswith("+08:00") and first["due_at"].endswith("+08:00")
    assert first["link"] == {"method": "new_case", "score": None, "evidence": {}}
    assert len({r["case_id"] for r in rows}) == 37
    text = json.dumps(rows, ensure_ascii=False)
    # The samples hide NIKs (month 00) and 0812-0000 numbers in free text: none may leak.
    assert "0812-0000" not in text and "081200" not in text
    for row in rows:
        if row["confidential"]:
            assert row["author"]["name"] in (None, "[dirahasiakan]")

    case = rows[0]["case_id"]
    assert cli(config, "queue", "show", case) == 0
    shown = capsys.readouterr().out
    assert shown.startswith(f"Kasus {case}") and "Tenggat" in shown


def test_overlapping_export_shows_the_newer_status_and_the_history(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cli(config, "import", "lapor", str(OCT), str(NOV))
    rows = {r["source_id"]: r for r in exported(config, capsys)}
    changed = [r for r in rows.values() if r["source_status"] == "Ditindaklanjuti oleh Instansi"]
    assert changed
    capsys.readouterr()
    assert cli(config, "queue", "show", changed[0]["case_id"]) == 0
    assert "Versi 1" in capsys.readouterr().out


def test_reveal_needs_a_permitted_user_and_a_reason_and_is_audited(
    config: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    cli(config, "import", "lapor", str(OCT))
    case = exported(config, capsys)[0]["case_id"]
    assert cli(config, "queue", "show", case, "--reveal", "--reason", "x") == 2
    assert "user 'petugas' may not see personal data unmasked" in capsys.readouterr().err
    monkeypatch.setenv("PENGADUAN_USER", "kadis")
    assert cli(config, "queue", "show", case, "--reveal") == 2
    assert "--reveal needs --reason" in capsys.readouterr().err
    assert cli(config, "queue", "show", case, "--reveal", "--reason", "menghubungi pelapor") == 0
    out = capsys.readouterr().out
    assert "kadis  reveal" in out and "menghubungi pelapor" in out
    revealed = exported(config, capsys, "--reveal", "--reason", "laporan ke inspektorat")
    masked = exported(config, capsys)
    assert revealed != masked


def test_status_moves_are_audited(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cli(config, "import", "lapor", str(OCT))
    case = exported(config, capsys)[0]["case_id"]
    assert cli(config, "queue", "status", case, "dicatat", "--note", "level 1") == 0
    assert "Diterima → Dicatat" in capsys.readouterr().out
    cli(config, "queue", "show", case)
    assert "petugas  status" in capsys.readouterr().out
    assert exported(config, capsys)[0]["status"] == "dicatat"


def test_quarantine_list_and_replay(config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a zip at all")
    assert cli(config, "import", "lapor", str(broken)) == 0
    captured = capsys.readouterr()
    assert "1 quarantined" in captured.out
    assert "  quarantined file:" in captured.err and "broken.xlsx" in captured.err
    assert cli(config, "quarantine", "list") == 0
    out = capsys.readouterr().out
    assert "lapor" in out and "file:" in out and "broken.xlsx" in out
    assert cli(config, "quarantine", "replay") == 1
    assert "still failing" in capsys.readouterr().out


def test_status_and_db_upgrade(config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    head = Store(f"sqlite:///{tmp_path}/scratch.db").head_revision()
    assert cli(config, "db", "upgrade") == 0
    assert f"schema upgraded from empty to {head}" in capsys.readouterr().out
    assert cli(config, "db", "upgrade") == 0
    assert f"schema already at {head}" in capsys.readouterr().out
    cli(config, "import", "lapor", str(OCT))
    assert cli(config, "status") == 0
    out = capsys.readouterr().out
    assert "lapor" in out and "ok" in out and "25 fetched, 25 new" in out


@pytest.mark.parametrize(
    "args, code, message",
    [
        (["queue", "show", "nonsense"], 2, "'nonsense' is not a case number; they look like PGD-2026-000123"),
        (["queue", "show", "PGD-2026-999999"], 2, "no case PGD-2026-999999 in the store"),
        (["import", "lapor", "/nonexistent.xlsx"], 2, "not a file: /nonexistent.xlsx"),
        (["collect", "mail"], 2, "no collector named 'mail' in the settings (known: none configured)"),
    ],
)
def test_user_errors_are_one_sentence_and_non_zero(
    config: Path, capsys: pytest.CaptureFixture[str], args: list[str], code: int, message: str
) -> None:
    assert cli(config, *args) == code
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_a_missing_settings_file_and_an_unreachable_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--config", str(tmp_path / "none.toml"), "queue", "list"]) == 2
    assert "settings file" in capsys.readouterr().err
    bad = tmp_path / "bad.toml"
    bad.write_text('[store]\nurl = "postgresql+psycopg://nobody@127.0.0.1:1/x"\n')
    assert main(["--config", str(bad), "queue", "list"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("pengaduan: cannot reach the database") and "Traceback" not in err


def test_run_once_on_the_bundled_settings_layout(
    tmp_path: Path, store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    watch = tmp_path / "incoming"
    watch.mkdir()
    shutil.copy(OCT, watch)
    path = tmp_path / "s.toml"
    path.write_text(
        f'[store]\nurl = "{store_url}"\n[collectors.lapor]\ntype = "lapor_export"\n'
        'watch_dir = "incoming"\nsettle_seconds = 0\n'
        '[collectors.broken]\ntype = "lapor_export"\nwatch_dir = "missing"\n'
    )
    assert main(["--config", str(path), "run", "--once"]) == 1  # one collector failed...
    captured = capsys.readouterr()
    assert "lapor: 25 fetched, 25 new" in captured.out  # ...and the other still ran
    assert "broken: 0 fetched" in captured.err and "does not exist" in captured.err
    assert main(["--config", str(path), "status"]) == 1
    status = capsys.readouterr().out
    assert "What to fix:" in status
    assert f"broken: collector broken: watch folder {tmp_path / 'missing'} does not exist; create it" in status


def test_staff_reclassify_a_record_and_the_decision_survives_a_new_version(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from generate_lapor import fake_rows, write_export

    rows = fake_rows(1)
    write_export(tmp_path / "a.csv", rows, "csv")
    cli(config, "import", "lapor", str(tmp_path / "a.csv"))
    [row] = exported(config, capsys)
    assert cli(config, "reclassify", str(row["record_id"]), "not_complaint", "--reason", "uji coba") == 0
    assert "complaint → not_complaint" in capsys.readouterr().out
    rows[0] = {**rows[0], "Status Laporan": "Ditutup oleh Admin"}  # LAPOR sends a newer version
    write_export(tmp_path / "b.csv", rows, "csv")
    cli(config, "import", "lapor", str(tmp_path / "b.csv"))
    [row] = exported(config, capsys)
    assert (row["kind"], row["source_status"]) == ("not_complaint", "Ditutup oleh Admin")
    capsys.readouterr()
    cli(config, "queue", "show", row["case_id"])
    assert "petugas  reclassify" in capsys.readouterr().out
    assert cli(config, "reclassify", "999999", "complaint") == 2


def test_a_record_reclassified_as_a_complaint_gets_a_case_whose_title_hides_an_anonymous_name(
    config: Path, tmp_path: Path, store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from helpers import ListCollector, ListConfig, make_settings
    from pengaduan.pipeline import Pipeline

    store = Store(store_url)
    store.ensure_schema()
    body = "Saya Ni Luh Sukerti, terima kasih atas infonya kemarin, PKH saya tetap belum cair"
    item = {"id": "x", "body": body, "name": "Ni Luh Sukerti", "anonymous": True,
            "kind": "not_complaint", "kind_reason": "ucapan terima kasih"}
    Pipeline(store, make_settings(store_url, tmp_path)).run(
        ListCollector("src", ListConfig(items=[item])))
    store.dispose()
    [row] = exported(config, capsys)
    assert row["case_id"] is None
    assert cli(config, "reclassify", str(row["record_id"]), "complaint") == 0
    capsys.readouterr()
    assert cli(config, "queue", "list") == 0
    listing = capsys.readouterr().out
    assert "terima kasih atas infonya" in listing and "Sukerti" not in listing
