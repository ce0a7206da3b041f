"""``contact_form``: messages sent through the website's contact form, read from its JSON export.

The website lists submissions oldest first, after a given id::

    GET {url}?limit=100                 first page
    GET {url}?after_id=17&limit=100     the page after submission 17
    -> {"items": [{"id": 18, "submitted_at": "...", "message": "...", ...}], "has_more": true}

Ids only grow, so the cursor is the last id stored, ``{"after_id": 17}``: each page is one
batch whose cursor is its own last id, a run interrupted after a page resumes after exactly
that page, and a finished run asked again gets an empty page.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import requests

from pengaduan.collectors.base import Batch, Collector, Cursor, RawItem
from pengaduan.collectors.http import HttpClient
from pengaduan.errors import AuthError, SourceError
from pengaduan.settings import Secret

from pengaduan_contact_form.normalizer import MEDIA_TYPE, normalize_contact_form


@dataclass(frozen=True)
class ContactFormConfig:
    url: str  # the export's address, e.g. "https://karangasemkab.go.id/api/kontak"
    token: Secret | None = None  # sent as "Authorization: Bearer …" when the export needs one
    page_size: int = 100


class ContactFormCollector(Collector):
    type = "contact_form"
    channel = "web_form"
    Config = ContactFormConfig
    default_interval = "5m"
    normalize = staticmethod(normalize_contact_form)

    config: ContactFormConfig

    def __init__(self, name: str, config: ContactFormConfig):
        super().__init__(name, config)
        self.http: HttpClient | None = None

    def fetch(self, cursor: Cursor | None) -> Iterator[Batch]:
        self.http = self.http or self._client()
        after = (cursor or {}).get("after_id")
        while True:
            params: dict[str, Any] = {"limit": self.config.page_size}
            if after is not None:
                params["after_id"] = after
            page = self.http.get_json(self.config.url, params)
            if not isinstance(page, dict) or not isinstance(page.get("items"), list):
                raise SourceError(
                    f"collector {self.name}: {self.config.url} did not answer with "
                    '{"items": [...]}; check url in [collectors.' + self.name + "]"
                )
            items = [self._item(entry) for entry in page["items"]]
            if not items:
                return  # nothing after `after`: the cursor stays where it is
            last = page["items"][-1]["id"]
            if last == after:
                raise SourceError(
                    f"collector {self.name}: {self.config.url} answered the page after id "
                    f"{after} with id {after} again; the export ignores after_id"
                )
            after = last
            yield Batch(items, {"after_id": after})
            if not page.get("has_more"):
                return

    def _item(self, entry: Any) -> RawItem:
        if not isinstance(entry, dict) or entry.get("id") in (None, ""):
            raise SourceError(f"collector {self.name}: the export listed an item without an id")
        # One item's JSON, keys sorted: an unchanged submission is byte for byte the same.
        payload = json.dumps(entry, sort_keys=True, ensure_ascii=False).encode("utf-8")
        return RawItem(str(entry["id"]), payload, MEDIA_TYPE)

    def close(self) -> None:
        if self.http is not None:
            self.http.close()
            self.http = None

    def _client(self) -> HttpClient:
        secrets = [self.config.token.reveal()] if self.config.token else []
        client = HttpClient(self.name, self.config.url, self._classify, secrets)
        if self.config.token:
            client.session.headers["Authorization"] = f"Bearer {self.config.token.reveal()}"
        return client

    def _classify(self, response: requests.Response, data: Any) -> BaseException | None:
        """HTTP 401/403: the token; 404: the address. Everything else: the default policy."""
        if response.status_code in (401, 403):
            where = self.config.token.source if self.config.token else "token"
            return AuthError(
                f"collector {self.name}: the website refused the export token (HTTP "
                f"{response.status_code}); ask the web team for a new one and update {where}"
            )
        if response.status_code == 404:
            return SourceError(
                f"collector {self.name}: {self.config.url} does not exist (HTTP 404); check url "
                f"in [collectors.{self.name}]"
            )
        return None
