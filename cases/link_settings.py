"""``[linking]`` settings and the ``[privacy] nik_hash_key`` secret, parsed for settings.py.

```toml
[linking]
auto_threshold = 0.8      # at or above: the record joins the open case (method "duplicate")
suggest_threshold = 0.5   # at or above (below auto): own case + a possible-duplicate suggestion
window_days = 7           # further apart than this, a match counts half
template_people = 4       # a text near-identical for this many distinct people is a template

[privacy]
nik_hash_key = { env = "PENGADUAN_NIK_HASH_KEY" }   # NIKs are compared only as keyed hashes
```
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

LINKING_KEYS = {"auto_threshold", "suggest_threshold", "window_days", "template_people"}


@dataclass(frozen=True)
class LinkingSettings:
    auto_threshold: float = 0.8
    suggest_threshold: float = 0.5
    window_days: int = 7
    template_people: int = 4
    nik_hash_key: bytes | None = None  # None: NIKs are not used for matching


def parse_linking(
    data: Mapping[str, Any],
    privacy: Mapping[str, Any],
    problems: list[str],
    secret: Callable[[Any, str, list[str]], Any],
) -> LinkingSettings:
    section = data.get("linking", {})
    if not isinstance(section, dict):
        problems.append("[linking] must be a table")
        section = {}
    for key in section:
        if key not in LINKING_KEYS:
            problems.append(f"[linking] unknown key '{key}' (known: {', '.join(sorted(LINKING_KEYS))})")
    defaults = LinkingSettings()
    values: dict[str, Any] = {}
    for key in ("auto_threshold", "suggest_threshold"):
        value = section.get(key, getattr(defaults, key))
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1:
            problems.append(f"[linking] {key} must be a number above 0 and at most 1")
            value = getattr(defaults, key)
        values[key] = float(value)
    if values["suggest_threshold"] > values["auto_threshold"]:
        problems.append("[linking] suggest_threshold must not be above auto_threshold")
    for key, least in (("window_days", 1), ("template_people", 2)):
        value = section.get(key, getattr(defaults, key))
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            problems.append(f"[linking] {key} must be a whole number, at least {least}")
            value = getattr(defaults, key)
        values[key] = value
    key_value = None
    if "nik_hash_key" in privacy:
        found = secret(privacy["nik_hash_key"], "[privacy] nik_hash_key", problems)
        reveal = getattr(found, "reveal", None)
        if reveal is not None:
            key_value = reveal().encode()
    return LinkingSettings(**values, nik_hash_key=key_value)
