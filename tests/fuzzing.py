"""What the fuzz tests share: run size, the property every normaliser must keep, a counter.

Run size comes from ``PENGADUAN_FUZZ``: ``ci`` (default) is the short, derandomised run of
the CI suite (the same inputs every run, so a red CI always means the change under test);
``nightly`` draws fresh random inputs, NIGHTLY_EXAMPLES per normaliser test (fewer for the
end-to-end pipeline runs, which each store a batch):

    PENGADUAN_FUZZ=nightly .venv/bin/python -m pytest tests/test_fuzz_*.py -q

Hypothesis' example database is off (``database=None``): nothing is written into the
working tree, and a failure prints its falsifying example to pin with ``@example``.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from datetime import datetime

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from pengaduan.collectors.base import Collector, RawItem
from pengaduan.errors import RecordError
from pengaduan.normalizer.record import SOURCE_STATUS_MAX, Attachment, Author, ComplaintRecord, Kind

NIGHTLY_EXAMPLES = 10_000
PROFILE = os.environ.get("PENGADUAN_FUZZ", "ci").strip().lower() or "ci"
if PROFILE not in ("ci", "nightly"):
    raise RuntimeError(f"PENGADUAN_FUZZ={PROFILE!r}: expected 'ci' or 'nightly'")

_COMMON = dict(
    deadline=None,
    database=None,
    # Generated files and mails are large and slow on purpose; the figures fixture is a
    # plain list append, harmless to share between examples.
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
        HealthCheck.function_scoped_fixture,
    ],
)
settings.register_profile("fuzz-ci", derandomize=True, print_blob=False, **_COMMON)
settings.register_profile("fuzz-nightly", max_examples=NIGHTLY_EXAMPLES, print_blob=True, **_COMMON)

# Inputs each fuzz test ran (shrinking included), reported in the run summary.
RUNS: Counter[str] = Counter()


def fuzz_settings(ci_examples: int, nightly_examples: int = NIGHTLY_EXAMPLES) -> settings:
    """The settings of one fuzz test: ``ci_examples`` in CI, ``nightly_examples`` at night."""
    base = settings.get_profile(f"fuzz-{PROFILE}")
    return settings(base, max_examples=ci_examples if PROFILE == "ci" else nightly_examples)


def report(figures, name: str) -> None:  # type: ignore[no-untyped-def]
    figures(f"fuzz {name}: {RUNS[name]} inputs ({PROFILE} profile), no crash")


# --- hostile JSON -----------------------------------------------------------------------------

TEXT = st.text(st.characters(codec="utf-8"), max_size=60)
SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | TEXT
ANY_JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=8,
)


def maybe(plausible: st.SearchStrategy, hostile: st.SearchStrategy = ANY_JSON) -> st.SearchStrategy:
    """Mostly the plausible value; sometimes any JSON value at all."""
    return st.one_of(plausible, plausible, plausible, hostile)


def json_object(fields: dict[str, st.SearchStrategy]) -> st.SearchStrategy:
    """A JSON object with any subset of ``fields`` (each plausible or hostile)."""
    return st.fixed_dictionaries({}, optional={k: maybe(v) for k, v in fields.items()})


def truncated(data: bytes) -> st.SearchStrategy[bytes]:
    return st.integers(0, max(0, len(data) - 1)).map(lambda n: data[:n])


# --- the property -----------------------------------------------------------------------------

_OPTIONAL_TEXT = ("subject", "source_url", "in_reply_to", "source_status", "source_state", "kind_reason")


def check_record(record: object, channel: str) -> ComplaintRecord:
    """Every invariant of DESIGN.md §3 the store and the views rely on."""
    assert isinstance(record, ComplaintRecord), type(record)
    assert record.channel == channel
    assert isinstance(record.source_id, str) and record.source_id.strip()
    assert isinstance(record.received_at, datetime) and record.received_at.utcoffset() is not None
    assert isinstance(record.body, str)
    assert isinstance(record.kind, Kind)
    for name in _OPTIONAL_TEXT:
        value = getattr(record, name)
        assert value is None or isinstance(value, str), (name, value)
    assert isinstance(record.author, Author)
    for name in ("name", "email", "phone", "handle"):
        value = getattr(record.author, name)
        assert value is None or isinstance(value, str), (f"author.{name}", value)
    assert record.source_status is None or len(record.source_status) <= SOURCE_STATUS_MAX
    assert isinstance(record.anonymous, bool) and isinstance(record.confidential, bool)
    for attachment in record.attachments:
        assert isinstance(attachment, Attachment)
        assert isinstance(attachment.filename, str) and isinstance(attachment.size, int)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in record.location.items())
    json.dumps(record.content())  # the store keeps it as JSON
    return record


def normalize_or_quarantine(
    cls: type[Collector], item: RawItem, channel: str
) -> tuple[ComplaintRecord | None, str | None]:
    """(record, None) or (None, reason): what the pipeline stores. Any other exception
    escapes and fails the test: the pipeline would park it as a normaliser bug."""
    if item.error is not None:
        assert item.error.strip(), "an item's error must say why"
        return None, item.error
    try:
        record = cls.normalize(item)
    except RecordError as error:
        assert isinstance(error.reason, str) and error.reason.strip(), "a RecordError must say why"
        return None, error.reason
    check_record(record, channel)
    assert record.source_id == item.source_id or channel == "email"
    return record, None
