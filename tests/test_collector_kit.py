"""The fixture helpers plug-in authors get with the contract suite."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests
import responses

from pengaduan.collectors.testing import add_json_pages, serve_http, write_files


def test_json_pages_answer_only_their_own_query() -> None:
    with responses.RequestsMock() as rsps:
        add_json_pages(rsps, "https://api.test/items", [
            ({"page": 1}, {"items": [1], "next": 2}),
            ({"page": 2}, {"items": [2], "next": None}),
        ])
        assert requests.get("https://api.test/items", params={"page": 2}).json()["items"] == [2]
        assert requests.get("https://api.test/items", params={"page": 1}).json()["items"] == [1]
        with pytest.raises(requests.ConnectionError):
            requests.get("https://api.test/items", params={"page": 3})
        with pytest.raises(requests.ConnectionError):  # strict: no extra parameters either
            requests.get("https://api.test/items", params={"page": 1, "key": "k"})


def test_json_pages_not_strict_allow_extra_parameters() -> None:
    with responses.RequestsMock() as rsps:
        add_json_pages(rsps, "https://api.test/items", [({"page": 1}, {"ok": True})], strict=False)
        assert requests.get("https://api.test/items", params={"page": 1, "key": "k"}).json() == {"ok": True}


def test_write_files_creates_folders_and_ages_files(tmp_path: Path) -> None:
    paths = write_files(tmp_path / "in", {"a.json": "{}", "sub/b.bin": b"\x00"}, age_seconds=600)
    assert [p.read_bytes() for p in paths] == [b"{}", b"\x00"]
    assert all(time.time() - p.stat().st_mtime > 590 for p in paths)


def test_serve_http_answers_with_the_handler() -> None:
    def handler(path: str, query: dict[str, str]) -> tuple[int, object]:
        return (200, {"path": path, **query}) if path == "/x" else (404, b"gone")

    with serve_http(handler) as base:
        assert requests.get(f"{base}/x?a=1", timeout=5).json() == {"path": "/x", "a": "1"}
        missing = requests.get(f"{base}/y", timeout=5)
        assert missing.status_code == 404 and missing.content == b"gone"
