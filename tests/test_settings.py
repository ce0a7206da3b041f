"""settings.toml: loading, validation, secrets."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pytest

from pengaduan.collectors.lapor_export import LaporExportCollector
from pengaduan.errors import ConfigError
from pengaduan.settings import Secret, build_config, load_settings, parse_settings, settings_path


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "settings.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_store_only_is_valid_and_sqlite_path_is_relative_to_the_file(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, '[store]\nurl = "sqlite:///data/p.db"\n'))
    assert settings.store_url == f"sqlite:///{tmp_path}/data/p.db"
    assert settings.collectors == {}
    assert settings.due_working_days == 1


def test_every_problem_is_reported_at_once_with_its_section(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[store]
ur1 = "x"
[office]
due_working_days = 0
[collectors.lapor]
type = "lapor_export"
watch_dir = 5
colour = "blue"
[collectors.other]
type = "carrier_pigeon"
[collectors.typeless]
interval = "soon"
[mystery]
""",
    )
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    problems = "\n".join(caught.value.problems)
    for expected in [
        "unknown section [mystery]",
        "[store] unknown key 'ur1'",
        "[store] missing key 'url'",
        "[office] due_working_days must be a whole number",
        "[collectors.lapor] watch_dir must be a path",
        "[collectors.lapor] unknown key 'colour'",
        "[collectors.other] unknown collector type 'carrier_pigeon'",
        "[collectors.typeless] missing key 'type'",
    ]:
        assert expected in problems
    assert len(caught.value.problems) == 8
    assert str(caught.value).startswith("8 problems in the settings")


def test_collector_section_becomes_its_typed_config(tmp_path: Path) -> None:
    settings = parse_settings(
        {
            "store": {"url": "sqlite:///x.db"},
            "collectors": {
                "lapor": {"type": "lapor_export", "watch_dir": "in/lapor", "interval": "2m",
                          "batch_size": 50, "column_map": {"No Laporan": "tracking_id"}},
            },
        },
        tmp_path,
    )
    cs = settings.collectors["lapor"]
    assert cs.cls is LaporExportCollector
    assert cs.interval == 120
    assert cs.config.watch_dir == tmp_path / "in/lapor"
    assert cs.config.batch_size == 50
    assert cs.config.column_map == {"No Laporan": "tracking_id"}
    assert cs.build().name == "lapor"


def test_secrets_come_from_the_environment_or_a_file_never_the_file_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dataclasses import dataclass

    @dataclass(frozen=True)
    class Config:
        password: Secret
        token: Secret | None = None

    monkeypatch.setenv("PENGADUAN_TEST_SECRET", "s3cr3t-value")
    secret_file = tmp_path / "token"
    secret_file.write_text("tok-from-file\n")
    problems: list[str] = []
    config = build_config(
        Config, {"password": {"env": "PENGADUAN_TEST_SECRET"}, "token": {"file": str(secret_file)}},
        "[collectors.x]", tmp_path, problems,
    )
    assert problems == []
    assert config.password.reveal() == "s3cr3t-value"
    assert config.token.reveal() == "tok-from-file"
    assert "s3cr3t" not in repr(config) and "s3cr3t" not in str(config.password)

    problems = []
    build_config(Config, {"password": "plain-text"}, "[collectors.x]", tmp_path, problems)
    assert problems == [
        '[collectors.x] password is a secret: write { env = "NAME" } or { file = "/path" }, '
        "never the value itself"
    ]
    problems = []
    monkeypatch.delenv("PENGADUAN_TEST_SECRET")
    build_config(Config, {"password": {"env": "PENGADUAN_TEST_SECRET"}}, "[collectors.x]", tmp_path, problems)
    assert problems == ["[collectors.x] password: environment variable PENGADUAN_TEST_SECRET is not set"]


def test_store_url_with_a_password_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="must not contain a password"):
        parse_settings({"store": {"url": "postgresql+psycopg://u:hunter2@db/x"}}, tmp_path)


def test_invalid_toml_and_missing_file_are_one_sentence(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found; pass --config PATH or set PENGADUAN_CONFIG"):
        load_settings(tmp_path / "nope.toml")
    with pytest.raises(ConfigError, match="is not valid TOML"):
        load_settings(write(tmp_path, "[store\n"))


def test_config_path_from_flag_then_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PENGADUAN_CONFIG", "/etc/pengaduan/settings.toml")
    assert settings_path(None) == Path("/etc/pengaduan/settings.toml")
    assert settings_path("mine.toml") == Path("mine.toml")
    monkeypatch.delenv("PENGADUAN_CONFIG")
    assert settings_path(None) == Path("settings.toml")


def test_office_calendar_settings(tmp_path: Path) -> None:
    settings = parse_settings(
        {
            "store": {"url": "sqlite:///x.db"},
            "office": {
                "office_hours": {"mon": "07:30-15:30", "fri": "07:30-12:00"},
                "local_holidays": [{"date": "2026-06-18", "name": "Umanis Galungan"}],
            },
        },
        tmp_path,
    )
    from datetime import date

    assert settings.calendar.holiday_name(date(2026, 6, 18)) == "Umanis Galungan"
    assert not settings.calendar.is_working_day(date(2026, 6, 18))
    with pytest.raises(ConfigError, match=r"\[office\] office_hours"):
        parse_settings({"store": {"url": "sqlite:///x.db"}, "office": {"office_hours": {"mon": "late"}}}, tmp_path)


@dataclass(frozen=True)
class _DatedConfig:
    expires: dt.date | None = None


def test_dates_in_a_collector_config(tmp_path: Path) -> None:
    Config = _DatedConfig
    for value in (dt.date(2027, 1, 31), "2027-01-31"):
        problems: list[str] = []
        assert build_config(Config, {"expires": value}, "[c]", tmp_path, problems).expires == dt.date(2027, 1, 31)
        assert problems == []
    problems = []
    build_config(Config, {"expires": "31/01/2027"}, "[c]", tmp_path, problems)
    assert problems == ["[c] expires must be a date such as 2027-01-31"]
