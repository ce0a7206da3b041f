'''``pengaduan collectors new NAME``: a ready plug-in package, as string templates.

The generated package installs and passes its tests as it is: its collector reads one JSON
file per message from a folder (a channel that drops files, and a skeleton to replace with
the real API calls), its normaliser makes records of channel NAME, and its tests inherit the
contract suite. docs/collectors.md explains every part.
'''

from __future__ import annotations

import re
from pathlib import Path
from string import Template

from pengaduan import __version__
from pengaduan.errors import ConfigError

NAME = re.compile(r"^[a-z][a-z0-9_]{1,39}$")


def package_dir(name: str) -> str:
    return f"pengaduan-collector-{name}"


def check_name(name: str, installed: dict[str, str]) -> None:
    """A usable type name, not taken by an installed collector (type -> its package)."""
    if not NAME.match(name):
        raise ConfigError(
            f"collector name {name!r} must be 2 to 40 lower-case letters, digits or _, starting "
            "with a letter (it becomes the type name in settings.toml and a Python module name)"
        )
    if name in installed:
        raise ConfigError(
            f"a collector type {name!r} is already installed (from {installed[name]}); "
            "choose another name"
        )


def render(name: str) -> dict[str, str]:
    """Every file of the package, by path relative to its folder."""
    values = {
        "name": name,
        "module": f"pengaduan_collector_{name}",
        "cls": "".join(part.capitalize() for part in name.split("_")) + "Collector",
        "dist": package_dir(name),
        "pengaduan_version": __version__,
    }
    return {
        path.format(**values): Template(text).substitute(values)
        for path, text in _FILES.items()
    }


def create(name: str, where: Path, installed: dict[str, str]) -> Path:
    """Write the package into ``where/pengaduan-collector-NAME``; returns that folder."""
    check_name(name, installed)
    target = where / package_dir(name)
    if target.exists():
        raise ConfigError(f"{target} already exists; remove it or choose another --dir")
    for relative, text in render(name).items():
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return target


_PYPROJECT = '''\
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "$dist"
version = "0.1.0"
description = "pengaduan collector for the $name channel"
requires-python = ">=3.11"
dependencies = ["pengaduan>=$pengaduan_version"]

[project.optional-dependencies]
test = ["pytest>=8"]

# This entry point is what makes pengaduan find the collector: type name = module:class.
[project.entry-points."pengaduan.collectors"]
$name = "$module.collector:$cls"

[tool.setuptools]
packages = ["$module"]

[tool.pytest.ini_options]
testpaths = ["tests"]
addopts = "-p no:cacheprovider"
'''

_COLLECTOR = '''\
"""``$name``: one JSON file per message, dropped into a folder.

Replace ``fetch`` with your channel's own reading (an API: use
pengaduan.collectors.http.HttpClient). Keep the rules of docs/collectors.md: yield items as
received, each batch with the cursor that is true once its items are stored; plain-JSON
cursors; raise TransientError / AuthError / SourceError for what went wrong.

Files are read in name order, so their names must sort in arrival order (a time stamp
first: ``20261103-091500-0001.json``). The cursor is the name of the last file stored.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pengaduan.collectors.base import Batch, Collector, Cursor, RawItem
from pengaduan.errors import SourceError

from $module.normalizer import MEDIA_TYPE, normalize_$name


@dataclass(frozen=True)
class ${cls}Config:
    folder: Path  # required: settings.toml must say folder = "..."
    batch_size: int = 100


class $cls(Collector):
    type = "$name"  # the `type` in settings.toml, and the entry point's name
    channel = "$name"  # the records' channel
    Config = ${cls}Config
    default_interval = "5m"
    normalize = staticmethod(normalize_$name)

    config: ${cls}Config

    def fetch(self, cursor: Cursor | None) -> Iterator[Batch]:
        last = (cursor or {}).get("last", "")
        batch: list[RawItem] = []
        for name in self._names():
            if name <= last:
                continue  # stored by an earlier run
            payload = (self.config.folder / name).read_bytes()
            batch.append(RawItem(name.removesuffix(".json"), payload, MEDIA_TYPE, {"file": name}))
            if len(batch) == self.config.batch_size:
                yield Batch(batch, {"last": name})
                batch = []
        if batch:
            yield Batch(batch, {"last": batch[-1].meta["file"]})

    def _names(self) -> list[str]:
        try:
            with os.scandir(self.config.folder) as entries:
                return sorted(e.name for e in entries if e.is_file() and e.name.endswith(".json"))
        except OSError as exc:
            raise SourceError(
                f"collector {self.name}: folder {self.config.folder} cannot be read "
                f"({exc.strerror}); fix folder in [collectors.{self.name}]"
            ) from None
'''

_NORMALIZER = '''\
"""$name message -> complaint record. Pure: no network, no files, no clock.

A message file: {"received_at": "2026-11-03T09:15:00+08:00", "from": "...", "text": "..."}.
"""

from __future__ import annotations

import json
from datetime import datetime

from pengaduan.collectors.base import RawItem
from pengaduan.errors import RecordError
from pengaduan.normalizer.record import Author, ComplaintRecord

MEDIA_TYPE = "application/json"


def normalize_$name(item: RawItem) -> ComplaintRecord:
    try:
        data = json.loads(item.payload)
        received_at = datetime.fromisoformat(data["received_at"])
        text = data["text"].strip()
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise RecordError(f"message {item.source_id} cannot be read ({exc!r})") from None
    if received_at.tzinfo is None:
        raise RecordError(f"message {item.source_id}: received_at has no UTC offset")
    if not text:
        raise RecordError(f"message {item.source_id} has no text")
    return ComplaintRecord(
        channel="$name",
        source_id=item.source_id,
        received_at=received_at,
        body=text,
        author=Author(handle=data.get("from") or None),
    )
'''

_TESTS = '''\
"""The $name collector passes pengaduan's contract suite; its normaliser, from a table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pengaduan.collectors.base import RawItem
from pengaduan.collectors.testing import CollectorContract, run_all, write_files
from pengaduan.errors import RecordError, SourceError

from $module.collector import $cls, ${cls}Config
from $module.normalizer import MEDIA_TYPE, normalize_$name


def message(n: int) -> str:
    return json.dumps(
        {"received_at": f"2026-11-0{n}T09:15:00+08:00", "from": f"user{n}", "text": f"Pesan {n}"}
    )


def collector(folder: Path) -> $cls:
    return $cls("$name", ${cls}Config(folder=folder, batch_size=2))


class TestContract(CollectorContract):
    @pytest.fixture
    def populated(self, tmp_path: Path) -> $cls:
        write_files(tmp_path, {f"2026110{n}-0915.json": message(n) for n in (1, 2, 3)})
        return collector(tmp_path)

    @pytest.fixture
    def empty(self, tmp_path: Path) -> $cls:
        return collector(tmp_path)


def test_a_missing_folder_is_a_source_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="cannot be read"):
        run_all(collector(tmp_path / "missing"))


def test_normaliser() -> None:
    record = normalize_$name(RawItem("m1", message(3).encode(), MEDIA_TYPE))
    assert record.channel == "$name" and record.body == "Pesan 3"
    assert record.received_at.isoformat() == "2026-11-03T09:15:00+08:00"


@pytest.mark.parametrize("payload", [b"not json", b"{}", b'{"received_at": "2026-11-03", "text": "x"}'])
def test_what_cannot_be_a_record_goes_to_quarantine(payload: bytes) -> None:
    with pytest.raises(RecordError):
        normalize_$name(RawItem("m1", payload, MEDIA_TYPE))
'''

_SETTINGS = '''\
# Add this section to pengaduan's settings.toml; the instance name ("$name") is yours.
[collectors.$name]
type = "$name"
folder = "data/incoming/$name"
# batch_size = 100
# interval = "5m"
'''

_README = '''\
# $dist

A pengaduan collector for the `$name` channel, generated by `pengaduan collectors new $name`.
Read pengaduan's `docs/collectors.md` before changing it.

- `$module/collector.py`: reads the channel (`fetch`), yields batches with their cursor
- `$module/normalizer.py`: turns one raw item into a complaint record (pure)
- `tests/test_collector.py`: the contract suite every collector passes, and normaliser tests
- `settings.example.toml`: the section to add to pengaduan's `settings.toml`

Install it into pengaduan's environment, check, test:

```sh
pip install -e .                       # with pengaduan's pip (e.g. /opt/pengaduan/.venv/bin/pip)
pengaduan collectors list              # shows type $name from $dist
python -m pytest                       # from this folder
```
'''

_FILES = {
    "pyproject.toml": _PYPROJECT,
    "README.md": _README,
    "settings.example.toml": _SETTINGS,
    "{module}/__init__.py": '"""pengaduan collector for the $name channel."""\n',
    "{module}/collector.py": _COLLECTOR,
    "{module}/normalizer.py": _NORMALIZER,
    "tests/test_collector.py": _TESTS,
}
