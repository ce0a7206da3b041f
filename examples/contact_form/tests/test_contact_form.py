"""The contact_form collector against a faked website export (``responses``), and its normaliser."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import responses

from pengaduan.collectors.base import RawItem
from pengaduan.collectors.testing import CollectorContract, add_json_pages, items_of, run_all
from pengaduan.errors import AuthError, RecordError
from pengaduan.settings import Secret

from pengaduan_contact_form.collector import ContactFormCollector, ContactFormConfig
from pengaduan_contact_form.normalizer import MEDIA_TYPE, normalize_contact_form

URL = "https://web.example/api/kontak"


def submission(n: int, **fields: object) -> dict:
    return {
        "id": n,
        "submitted_at": f"2026-11-0{n}T09:15:00+08:00",
        "name": "Ni Luh Sari",
        "email": "sari@example.id",
        "phone": "0812-3456-7890",
        "subject": "Bantuan sosial",
        "message": f"Pesan nomor {n}: bantuan belum diterima.",
        "kecamatan": "Abang",
        **fields,
    }


def collector(page_size: int = 2, token: Secret | None = None) -> ContactFormCollector:
    return ContactFormCollector("website", ContactFormConfig(URL, token, page_size))


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


class TestContract(CollectorContract):
    @pytest.fixture
    def populated(self, rsps: responses.RequestsMock) -> ContactFormCollector:
        add_json_pages(rsps, URL, [
            ({"limit": 2}, {"items": [submission(1), submission(2)], "has_more": True}),
            ({"limit": 2, "after_id": 2}, {"items": [submission(3)], "has_more": False}),
            ({"limit": 2, "after_id": 3}, {"items": [], "has_more": False}),
        ])
        return collector()

    @pytest.fixture
    def empty(self, rsps: responses.RequestsMock) -> ContactFormCollector:
        add_json_pages(rsps, URL, [({"limit": 2}, {"items": [], "has_more": False})])
        return collector()


def test_each_page_is_a_batch_whose_cursor_is_its_last_id(rsps: responses.RequestsMock) -> None:
    add_json_pages(rsps, URL, [
        ({"limit": 2}, {"items": [submission(1), submission(2)], "has_more": True}),
        ({"limit": 2, "after_id": 2}, {"items": [submission(3)], "has_more": False}),
    ])
    batches = run_all(collector())
    assert [b.cursor for b in batches] == [{"after_id": 2}, {"after_id": 3}]
    assert [i.source_id for i in items_of(batches)] == ["1", "2", "3"]


def test_a_refused_token_needs_a_person(rsps: responses.RequestsMock) -> None:
    rsps.get(URL, status=401, json={"error": "unauthorized"})
    with pytest.raises(AuthError, match="PENGADUAN_WEBSITE_TOKEN") as caught:
        run_all(collector(token=Secret("s3cret-token", "environment variable PENGADUAN_WEBSITE_TOKEN")))
    assert "s3cret-token" not in str(caught.value)
    assert rsps.calls[0].request.headers["Authorization"] == "Bearer s3cret-token"


def raw(data: object) -> RawItem:
    return RawItem("7", json.dumps(data).encode(), MEDIA_TYPE)


def test_normaliser_makes_a_web_form_record() -> None:
    record = normalize_contact_form(raw(submission(3, desa="Tista", url="https://web.example/k/3")))
    assert record.channel == "web_form" and record.source_id == "7"
    assert record.received_at.isoformat() == "2026-11-03T01:15:00+00:00"
    assert record.body == "Pesan nomor 3: bantuan belum diterima."
    assert record.subject == "Bantuan sosial"
    assert record.author.phone == "+6281234567890" and record.author.email == "sari@example.id"
    assert record.location == {"kecamatan": "Abang", "desa": "Tista"}
    assert record.source_url == "https://web.example/k/3"


@pytest.mark.parametrize("data, received", [
    ({"message": "x", "submitted_at": "2026-11-03 09:15:00"}, "2026-11-03T01:15:00+00:00"),
    ({"message": "x", "submitted_at": "2026-11-03T01:15:00Z"}, "2026-11-03T01:15:00+00:00"),
])
def test_times_without_an_offset_are_wita(data: dict, received: str) -> None:
    assert normalize_contact_form(raw(data)).received_at.isoformat() == received


@pytest.mark.parametrize("payload, reason", [
    (b"not json", "not JSON"),
    (json.dumps({"submitted_at": "2026-11-03T09:15:00+08:00"}).encode(), "no message"),
    (json.dumps({"message": "x", "submitted_at": "kemarin"}).encode(), "not an ISO 8601 time"),
])
def test_what_cannot_be_a_record_goes_to_quarantine(payload: bytes, reason: str) -> None:
    with pytest.raises(RecordError, match=reason):
        normalize_contact_form(RawItem("7", payload, MEDIA_TYPE))
