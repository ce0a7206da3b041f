"""Loading and validating settings.toml (DESIGN.md §6).

Every problem is collected and reported at once, each naming its section, so an admin fixes
the file in one go. Secrets are never values in the file: ``{ env = "NAME" }`` reads an
environment variable and ``{ file = "/etc/pengaduan/secret" }`` a file outside the repository.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
import types
import typing
from datetime import date, datetime
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from pengaduan.cases.link_settings import LinkingSettings, parse_linking
from pengaduan.cases.calendar import OfficeCalendar, parse_local_holidays, parse_office_hours
from pengaduan.collectors.base import Collector
from pengaduan.collectors.registry import load_registry
from pengaduan.errors import ConfigError

DEFAULT_PATH = Path("settings.toml")
COMMON_KEYS = {"type", "enabled", "interval"}
DEFAULT_ATTACHMENT_MAX = 25 * 1024 * 1024


class Secret:
    """A password or token: usable with ``reveal()``, never shown by ``str`` or ``repr``."""

    __slots__ = ("_value", "source")

    def __init__(self, value: str, source: str):
        self._value = value
        self.source = source  # "environment variable X" / "file Y", for messages

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret(from {self.source})"

    __str__ = __repr__


@dataclass(frozen=True)
class CollectorSettings:
    name: str
    type: str
    cls: type[Collector]
    enabled: bool
    interval: float  # seconds
    config: Any

    def build(self) -> Collector:
        return self.cls(self.name, self.config)


@dataclass(frozen=True)
class SchedulerSettings:
    retry_initial: float = 60.0
    retry_max: float = 3600.0
    # How long a process may go silent before another takes its collectors over (store/leases.py).
    lease: float = 60.0


@dataclass(frozen=True)
class HealthSettings:
    """``[health]``: the /healthz and /metrics endpoint of ``run``, and e-mail alerts."""

    listen: tuple[str, int] | None = None  # ("127.0.0.1", 9108); None: no endpoint
    # A collector with no successful run in this many of its intervals is unhealthy.
    silent_after_intervals: int = 3
    alert_email_to: tuple[str, ...] = ()
    smtp_host: str = "localhost"
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: Secret | None = None
    smtp_from: str = "pengaduan@localhost"
    smtp_starttls: bool = False
    check_every: float = 60.0  # seconds between alert checks in ``run``


HEALTH_KEYS = {
    "listen", "silent_after_intervals", "alert_email_to", "smtp_host", "smtp_port",
    "smtp_username", "smtp_password", "smtp_from", "smtp_starttls", "check_every",
}


@dataclass(frozen=True)
class Settings:
    path: Path | None
    store_url: str
    calendar: OfficeCalendar
    due_working_days: int
    scheduler: SchedulerSettings
    # Who may see personal data unmasked (with a reason, audited); nobody by default.
    reveal_users: tuple[str, ...] = ()
    # Attachments larger than this are listed on the record but their content is not kept.
    attachment_max_bytes: int = DEFAULT_ATTACHMENT_MAX
    collectors: dict[str, CollectorSettings] = field(default_factory=dict)
    # Instances left out because their plug-in failed to load: name -> what to do.
    disabled: dict[str, str] = field(default_factory=dict)
    # [linking] thresholds and the NIK hash key (cases/link_settings.py).
    linking: LinkingSettings = field(default_factory=LinkingSettings)
    health: HealthSettings = field(default_factory=HealthSettings)


def settings_path(cli_value: str | None) -> Path:
    return Path(cli_value or os.environ.get("PENGADUAN_CONFIG") or DEFAULT_PATH)


def load_settings(path: Path) -> Settings:
    """Read and validate the settings file; raises ConfigError listing every problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"settings file {path} not found; pass --config PATH or set PENGADUAN_CONFIG"
        ) from None
    except OSError as exc:
        raise ConfigError(f"settings file {path} cannot be read: {exc.strerror}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"settings file {path} is not valid TOML: {exc}") from None
    return parse_settings(data, path.resolve().parent, path)


def parse_settings(data: Mapping[str, Any], base: Path, path: Path | None = None) -> Settings:
    problems: list[str] = []
    known = {"store", "office", "scheduler", "privacy", "linking", "collectors", "health"}
    for key in data:
        if key not in known:
            problems.append(f"unknown section [{key}] (known: {', '.join(sorted(known))})")

    store = _table(data, "store", problems)
    _unknown(store, {"url", "attachment_max_bytes"}, "[store]", problems)
    store_url = _store_url(store.get("url"), base, problems)
    attachment_max = store.get("attachment_max_bytes", DEFAULT_ATTACHMENT_MAX)
    if not isinstance(attachment_max, int) or isinstance(attachment_max, bool) or attachment_max < 0:
        problems.append("[store] attachment_max_bytes must be a whole number of bytes")
        attachment_max = DEFAULT_ATTACHMENT_MAX

    office = _table(data, "office", problems)
    _unknown(
        office, {"timezone", "office_hours", "local_holidays", "due_working_days"}, "[office]",
        problems,
    )
    calendar = _calendar(office, problems)
    due_days = office.get("due_working_days", 1)
    if not isinstance(due_days, int) or isinstance(due_days, bool) or due_days < 1:
        problems.append("[office] due_working_days must be a whole number of days, at least 1")
        due_days = 1

    sched = _table(data, "scheduler", problems)
    _unknown(sched, {"retry_initial", "retry_max", "lease"}, "[scheduler]", problems)
    scheduler = SchedulerSettings(
        retry_initial=_duration(sched.get("retry_initial", "1m"), "[scheduler] retry_initial", problems),
        retry_max=_duration(sched.get("retry_max", "1h"), "[scheduler] retry_max", problems),
        lease=_duration(sched.get("lease", "1m"), "[scheduler] lease", problems),
    )
    if scheduler.lease < 1:
        problems.append("[scheduler] lease must be at least 1s (a minute suits most sites)")

    privacy = _table(data, "privacy", problems)
    _unknown(privacy, {"reveal_users", "nik_hash_key"}, "[privacy]", problems)
    reveal_users = privacy.get("reveal_users", [])
    if not (isinstance(reveal_users, list) and all(isinstance(u, str) for u in reveal_users)):
        problems.append("[privacy] reveal_users must be a list of user names")
        reveal_users = []
    linking = parse_linking(data, privacy, problems, _secret)

    health = _health(_table(data, "health", problems), problems)

    collectors: dict[str, CollectorSettings] = {}
    disabled: dict[str, str] = {}
    registry = load_registry()
    broken = {plugin.name: plugin for plugin in registry.broken}
    for name, section in _table(data, "collectors", problems).items():
        where = f"[collectors.{name}]"
        if not isinstance(section, dict):
            problems.append(f"{where} must be a table")
            continue
        plugin = broken.get(section.get("type", ""))
        if plugin is not None:
            # A broken plug-in costs its own instances, never the other channels.
            disabled[name] = (
                f"collector {name} is disabled: its plug-in {plugin.name!r} from {plugin.package} "
                f"failed to load ({plugin.error}); reinstall or fix that package"
            )
            continue
        built = _collector(name, section, where, registry.types, base, problems)
        if built:
            collectors[name] = built

    if problems:
        raise ConfigError(problems if path is None else [f"{path}: {p}" for p in problems])
    return Settings(
        path=path,
        store_url=store_url,
        calendar=calendar,
        due_working_days=due_days,
        scheduler=scheduler,
        reveal_users=tuple(reveal_users),
        attachment_max_bytes=attachment_max,
        collectors=collectors,
        disabled=disabled,
        linking=linking,
        health=health,
    )


def _health(section: Mapping[str, Any], problems: list[str]) -> HealthSettings:
    _unknown(section, HEALTH_KEYS, "[health]", problems)
    values: dict[str, Any] = {}
    listen = section.get("listen")
    if listen is not None:
        host, _, port = listen.rpartition(":") if isinstance(listen, str) else ("", "", "")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            problems.append('[health] listen must be "HOST:PORT", e.g. "127.0.0.1:9108"')
        else:
            values["listen"] = (host.strip("[]"), int(port))
    silent = section.get("silent_after_intervals", 3)
    if not isinstance(silent, int) or isinstance(silent, bool) or silent < 1:
        problems.append("[health] silent_after_intervals must be a whole number, at least 1")
    else:
        values["silent_after_intervals"] = silent
    if "check_every" in section:
        values["check_every"] = _duration(section["check_every"], "[health] check_every", problems)
    to = section.get("alert_email_to", [])
    if isinstance(to, str):
        to = [to]
    if not (isinstance(to, list) and all(isinstance(a, str) and "@" in a for a in to)):
        problems.append("[health] alert_email_to must be a list of e-mail addresses")
    else:
        values["alert_email_to"] = tuple(to)
    for key in ("smtp_host", "smtp_from", "smtp_username"):
        if key in section:
            if isinstance(section[key], str):
                values[key] = section[key]
            else:
                problems.append(f"[health] {key} must be a string")
    if "smtp_port" in section:
        port = section["smtp_port"]
        if isinstance(port, int) and not isinstance(port, bool) and 0 < port < 65536:
            values["smtp_port"] = port
        else:
            problems.append("[health] smtp_port must be a port number")
    if "smtp_starttls" in section:
        if isinstance(section["smtp_starttls"], bool):
            values["smtp_starttls"] = section["smtp_starttls"]
        else:
            problems.append("[health] smtp_starttls must be true or false")
    if "smtp_password" in section:
        secret = _secret(section["smtp_password"], "[health] smtp_password", problems)
        if secret is not _INVALID:
            values["smtp_password"] = secret
    return HealthSettings(**values)


def _table(data: Mapping[str, Any], key: str, problems: list[str]) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        problems.append(f"[{key}] must be a table")
        return {}
    return value


def _unknown(section: Mapping[str, Any], allowed: set[str], where: str, problems: list[str]) -> None:
    for key in section:
        if key not in allowed:
            problems.append(f"{where} unknown key '{key}' (known: {', '.join(sorted(allowed))})")


def _store_url(value: Any, base: Path, problems: list[str]) -> str:
    if value is None:
        problems.append("[store] missing key 'url' (e.g. url = \"sqlite:///data/pengaduan.db\")")
        return ""
    if not isinstance(value, str):
        problems.append("[store] url must be a string")
        return ""
    try:
        url = make_url(value)
    except ArgumentError:
        problems.append(f"[store] url {value!r} is not a database URL")
        return value
    if url.password:
        problems.append(
            "[store] url must not contain a password; use a ~/.pgpass file or PGPASSWORD"
        )
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        # Relative database paths are relative to the settings file, not to the cwd.
        database = Path(url.database)
        if not database.is_absolute():
            return url.set(database=str(base / database)).render_as_string(hide_password=False)
    return value


def _calendar(office: Mapping[str, Any], problems: list[str]) -> OfficeCalendar:
    kwargs: dict[str, Any] = {}
    if "timezone" in office:
        kwargs["timezone"] = office["timezone"]
    try:
        if "office_hours" in office:
            kwargs["office_hours"] = parse_office_hours(office["office_hours"])
    except (ValueError, TypeError, AttributeError) as exc:
        problems.append(f"[office] office_hours: {exc}")
    try:
        if "local_holidays" in office:
            kwargs["local_holidays"] = parse_local_holidays(office["local_holidays"])
    except (ValueError, TypeError) as exc:
        problems.append(f"[office] local_holidays: {exc}")
    try:
        return OfficeCalendar(**kwargs)
    except (ValueError, TypeError, KeyError) as exc:
        problems.append(f"[office] {exc}")
        return OfficeCalendar()


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)?\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}


def _duration(value: Any, where: str, problems: list[str]) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return float(value)
    match = _DURATION.match(value) if isinstance(value, str) else None
    if not match or float(match.group(1)) <= 0:
        problems.append(f"{where} must be a duration such as \"30s\", \"5m\", \"1h\"")
        return 60.0
    return float(match.group(1)) * _UNITS[match.group(2)]


def _collector(
    name: str,
    section: dict[str, Any],
    where: str,
    types_: Mapping[str, type[Collector]],
    base: Path,
    problems: list[str],
) -> CollectorSettings | None:
    type_name = section.get("type")
    if type_name is None:
        problems.append(f"{where} missing key 'type' (one of: {', '.join(sorted(types_))})")
        return None
    cls = types_.get(type_name)
    if cls is None:
        problems.append(
            f"{where} unknown collector type {type_name!r} (installed: {', '.join(sorted(types_))})"
        )
        return None
    enabled = section.get("enabled", True)
    if not isinstance(enabled, bool):
        problems.append(f"{where} enabled must be true or false")
    interval = _duration(section.get("interval", cls.default_interval), f"{where} interval", problems)
    options = {k: v for k, v in section.items() if k not in COMMON_KEYS}
    config = build_config(cls.Config, options, where, base, problems)
    if config is None:
        return None
    return CollectorSettings(name, type_name, cls, bool(enabled), interval, config)


def build_config(
    config_cls: type, options: Mapping[str, Any], where: str, base: Path, problems: list[str]
) -> Any:
    """Map a settings section onto a collector's frozen Config dataclass, checking types."""
    hints = typing.get_type_hints(config_cls)
    fields = {f.name: f for f in dataclasses.fields(config_cls)}
    before = len(problems)
    for key in options:
        if key not in fields:
            known = ", ".join(sorted(set(fields) | COMMON_KEYS))
            problems.append(f"{where} unknown key '{key}' (known: {known})")
    values: dict[str, Any] = {}
    for name, f in fields.items():
        if name not in options:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                problems.append(f"{where} missing key '{name}'")
            continue
        converted = _convert(options[name], hints[name], f"{where} {name}", base, problems)
        if converted is not _INVALID:
            values[name] = converted
    if len(problems) > before:
        return None
    return config_cls(**values)


_INVALID = object()


def _convert(value: Any, hint: Any, where: str, base: Path, problems: list[str]) -> Any:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(options) == 1:
            return _convert(value, options[0], where, base, problems)
    if hint is Secret:
        return _secret(value, where, problems)
    if hint is Path:
        if not isinstance(value, str):
            problems.append(f"{where} must be a path (a string)")
            return _INVALID
        path = Path(value).expanduser()
        return path if path.is_absolute() else base / path
    if hint is date:
        if isinstance(value, date) and not isinstance(value, datetime):
            return value
        try:
            if isinstance(value, str):
                return date.fromisoformat(value)
        except ValueError:
            pass
        problems.append(f"{where} must be a date such as 2027-01-31")
        return _INVALID
    if hint is bool:
        if isinstance(value, bool):
            return value
        problems.append(f"{where} must be true or false")
        return _INVALID
    if hint in (int, float):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return hint(value)
        problems.append(f"{where} must be a number")
        return _INVALID
    if hint is str:
        if isinstance(value, str):
            return value
        if isinstance(value, dict) and set(value) in ({"env"}, {"file"}):
            secret = _secret(value, where, problems)
            return _INVALID if secret is _INVALID else secret.reveal()
        problems.append(f"{where} must be a string")
        return _INVALID
    if origin in (list, tuple):
        (item_hint, *_) = typing.get_args(hint) or (Any,)
        if not isinstance(value, list):
            problems.append(f"{where} must be a list")
            return _INVALID
        items = [_convert(v, item_hint, where, base, problems) for v in value]
        return _INVALID if _INVALID in items else (tuple(items) if origin is tuple else items)
    if origin in (dict, Mapping) or hint is dict:
        if not isinstance(value, dict):
            problems.append(f"{where} must be a table")
            return _INVALID
        return dict(value)
    return value


def _secret(value: Any, where: str, problems: list[str]) -> Any:
    if isinstance(value, dict) and set(value) == {"env"}:
        name = value["env"]
        secret = os.environ.get(name)
        if not secret:
            problems.append(f"{where}: environment variable {name} is not set")
            return _INVALID
        return Secret(secret, f"environment variable {name}")
    if isinstance(value, dict) and set(value) == {"file"}:
        path = Path(value["file"]).expanduser()
        try:
            return Secret(path.read_text(encoding="utf-8").strip(), f"file {path}")
        except OSError as exc:
            problems.append(f"{where}: secret file {path} cannot be read ({exc.strerror})")
            return _INVALID
    problems.append(
        f"{where} is a secret: write {{ env = \"NAME\" }} or {{ file = \"/path\" }}, "
        "never the value itself"
    )
    return _INVALID
