"""Collector types, found through the ``pengaduan.collectors`` entry-point group.

The built-in collectors register through the same group as an admin's own package, so a new
channel never needs a change here. A plug-in that fails to import is reported by name and
left out; the others keep working. Two packages claiming one type name is an error at start.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cache
from importlib.metadata import EntryPoint, entry_points

from pengaduan.collectors.base import Collector
from pengaduan.errors import ConfigError

GROUP = "pengaduan.collectors"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BrokenPlugin:
    name: str
    package: str
    error: str


@dataclass(frozen=True)
class Registry:
    types: dict[str, type[Collector]]
    packages: dict[str, tuple[str, str]]  # type name -> (distribution, version)
    broken: tuple[BrokenPlugin, ...]


def _package(ep: EntryPoint) -> tuple[str, str]:
    dist = ep.dist
    return (dist.name, dist.version) if dist else ("?", "?")


@cache
def load_registry() -> Registry:
    found: dict[str, type[Collector]] = {}
    packages: dict[str, tuple[str, str]] = {}
    broken: list[BrokenPlugin] = []
    clashes: list[str] = []
    seen_values: dict[str, str] = {}
    for ep in entry_points(group=GROUP):
        package = _package(ep)
        # An editable install can list one distribution twice; the same target is no clash.
        if seen_values.get(ep.name) == ep.value:
            continue
        try:
            cls = ep.load()
            if not (isinstance(cls, type) and issubclass(cls, Collector)):
                raise TypeError(f"{ep.value} is not a Collector subclass")
            if cls.type != ep.name:
                raise TypeError(f"entry point '{ep.name}' loads a collector whose type is {cls.type!r}")
        except Exception as exc:  # a broken plug-in must not stop the built-ins
            broken.append(BrokenPlugin(ep.name, package[0], f"{type(exc).__name__}: {exc}"))
            log.error("collector plug-in %r from %s disabled: %s", ep.name, package[0], exc)
            continue
        if ep.name in found:
            clashes.append(
                f"collector type '{ep.name}' is provided by both {packages[ep.name][0]} and "
                f"{package[0]}; uninstall one of them"
            )
            continue
        found[ep.name] = cls
        packages[ep.name] = package
        seen_values[ep.name] = ep.value
    if clashes:
        raise ConfigError(clashes)
    return Registry(found, packages, tuple(broken))


def collector_types() -> dict[str, type[Collector]]:
    return load_registry().types
