"""Duplicate linking of a batch's new complaints, inside the batch transaction.

Entry point: ``link_complaints(conn, items, settings, open_for, now) -> cases opened``.
For each complaint, in batch order (so an e-mail and a comment in one batch find each other):

1. candidates: records sharing a MinHash-LSH band (``band_log``) or a complainant key
   (``dedup_identities``: identifiers, and the name in the week), stored or earlier in the
   batch;
2. each scored by ``scoring.score_pair`` (identity, rarity-weighted text, template, window,
   channel pair), unless it cannot change the outcome whatever its text (``_best_matches``);
3. best open-case match ≥ ``auto_threshold`` → linked to that case, method ``duplicate``, with
   score and evidence (matched record, signals); else a case of its own, plus a
   ``link_suggestions`` row when the best match is ≥ ``suggest_threshold``; a match in an
   archived case (same complainant, or a suggestion-level score) → the new case is related to
   it (``case_relations`` kind ``reopened_from``);
4. the record's bands, keys and words are added to the index (same transaction); a bucket
   keeps its newest records, so a full (template) bucket still finds a record's recent
   copies.

Every statement is batched: per batch one look-up per table and one executemany per write.
"""

from __future__ import annotations

from collections import Counter, OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from itertools import chain
from typing import Any

from sqlalchemy import Connection, insert

from pengaduan.cases import names
from pengaduan.cases.band_log import BandTable
from pengaduan.cases.dedup_index import BUCKET_CAP, Signature, SqlKeyTable, TermCounts, collect
from pengaduan.cases.identity import SAME, Identity
from pengaduan.cases.link_settings import LinkingSettings
from pengaduan.cases.places import Places, places_of
from pengaduan.cases.scoring import (
    NEAR_IDENTICAL,
    Match,
    Pair,
    Probe,
    Source,
    could_matter,
    pair_of,
    person_proxy,
    probes_of,
    score_bound,
    score_pair,
    text_score,
)
from pengaduan.cases.similarity import BANDS, Rarity
from pengaduan.cases.status import CaseStatus
from pengaduan.normalizer.record import ComplaintRecord, Kind
from pengaduan.store import links as store_links
from pengaduan.store.cases import SYSTEM
from pengaduan.store.ingest import SavedRecord, content_digest
from pengaduan.store.schema import audit_log, case_links, dedup_identities

MAX_CANDIDATES = 12
NAME_CANDIDATES = 6  # a name is weaker than shared words: its latest few records are enough
SCREEN = 0.2
ARCHIVED = str(CaseStatus.DIARSIPKAN)


class _Pending:
    """A case this batch is about to open (its id is known after the batch's one INSERT)."""

    def __init__(self, index: int):
        self.index = index


# What linking reads of a record's content: its channel, identity, text signature and places.
Fingerprint = tuple[str, Identity, Signature, Places]


def _fingerprint(probe: Probe) -> Fingerprint:
    return probe.channel, probe.identity, probe.signature, probe.places


def _probe(record_id: int, found: Fingerprint, received_at: datetime,
           case_id: int | None = None, case_status: str | None = None) -> Probe:
    channel, identity, signature, places = found
    return Probe(record_id, channel, received_at, identity, signature, case_id, case_status, places)


def fingerprints(records: Iterable[ComplaintRecord], nik_key: bytes | None) -> dict[str, Fingerprint]:
    """The fingerprints of complaints, by the content digest the store will give each: made
    ahead of the batch's transaction (``prepare.py``, in a second process for a long run).
    Only complaints: nothing else is linked by its text."""
    complaints = [r for r in records if r.kind is Kind.COMPLAINT]
    contents = [r.content() for r in complaints]
    probes = probes_of([Source(None, c, r.received_at) for r, c in zip(complaints, contents)], nik_key)
    return {content_digest(c): _fingerprint(p) for c, p in zip(contents, probes)}


def _batch_probes(items: list[SavedRecord], key: bytes | None,
                  ready: Mapping[str, Fingerprint]) -> list[Probe]:
    """The batch's probes: from the fingerprints made ahead, the others made here."""
    built = iter(probes_of([Source(i.record_id, i.record.content(), i.record.received_at)
                            for i in items if i.digest not in ready], key))
    probes = []
    for i in items:
        found = ready.get(i.digest)
        probes.append(next(built) if found is None else _probe(i.record_id, found, i.record.received_at))
    return probes


def link_complaints(
    conn: Connection,
    items: list[SavedRecord],
    settings: LinkingSettings,
    open_for: Callable[[list[SavedRecord]], list[int]],
    now: datetime,
    ready: Mapping[str, Fingerprint] | None = None,
) -> int:
    """``ready``: fingerprints made ahead (``fingerprints``), by content digest."""
    if not items:
        return 0
    key = settings.nik_hash_key
    probes = _batch_probes(items, key, ready or {})
    bands = BandTable(conn)
    idents = SqlKeyTable(conn, dedup_identities, "key")
    # Complainant keys: identifiers, and the name in the week (looked up in the weeks around).
    name_keys = [names.block_keys(p.identity.person, p.received_at, around=True) for p in probes]
    id_keys = [p.identity.keys() + names.block_keys(p.identity.person, p.received_at) for p in probes]
    look_keys = [p.identity.keys() + keys for p, keys in zip(probes, name_keys)]
    band_members = bands.members({k for p in probes for k in p.signature.keys})
    ident_members = idents.members({k for keys in look_keys for k in keys})

    # Stored candidates of every record, looked up at once: the best band matches, everyone
    # sharing an identifier, and the latest few of the same name.
    stored: list[tuple[list[int], int]] = []
    for probe, keys in zip(probes, name_keys):
        found = collect(probe.signature.keys, band_members, BUCKET_CAP, exclude=probe.record_id,
                        limit=MAX_CANDIDATES)
        ids = [c.record_id for c in found.candidates]
        for k in probe.identity.keys():
            members = ident_members.get(k, ())
            if len(members) < BUCKET_CAP:
                ids.extend(r for r in members if r != probe.record_id and r not in ids)
        same_name = Counter(r for k in keys for r in ident_members.get(k, ()) if r != probe.record_id)
        latest = sorted(same_name, key=lambda r: (same_name[r], r), reverse=True)
        ids.extend(r for r in latest[:NAME_CANDIDATES] if r not in ids)
        stored.append((ids, found.saturated))
    others = _candidate_probes(conn, {r for ids, _ in stored for r in ids}, key)

    terms = TermCounts(conn)
    batch_docs = [p.signature.terms for p in probes]
    docs, df = terms.load({t for p in [*probes, *others.values()] for t in p.signature.terms})
    counts = Counter(df)
    for doc in batch_docs:
        counts.update(doc)
    rarity = Rarity(docs + len(batch_docs), counts)

    local_bands: dict[int, list[int]] = defaultdict(list)  # band key → batch indices
    local_idents: dict[str, list[int]] = defaultdict(list)
    new_cases: list[SavedRecord] = []
    links: list[dict[str, Any]] = []
    suggestions: list[tuple[int, Any, Match, int]] = []
    relations: list[tuple[_Pending, int, dict[str, Any]]] = []
    for n, (item, probe) in enumerate(zip(items, probes)):
        ids, saturated = stored[n]
        pool: list[Probe] = [others[r] for r in ids if r in others]
        seen = {p.record_id for p in pool}
        # A bucket's newest members only, as for stored ones: a template band the whole batch
        # shares must not make each record count every earlier one.
        # Counted in one pass each (Counter's C loop over a chain), as in ``collect``.
        local = Counter(chain.from_iterable([local_bands[k][-BUCKET_CAP:]
                                             for k in probe.signature.keys if k in local_bands]))
        local.update(chain.from_iterable([local_idents[k] for k in look_keys[n] if k in local_idents]))
        pool += [probes[j] for j, _ in local.most_common(MAX_CANDIDATES)
                 if probes[j].record_id not in seen]
        best_open, best_archived = _best_matches(probe, pool, saturated, rarity, settings)
        if best_open and best_open[0].score >= settings.auto_threshold:
            match, other = best_open
            probe.case_id, probe.case_status = other.case_id, other.case_status
            links.append({"n": n, "case": other.case_id, "match": match, "matched": other.record_id})
        else:
            pending = _Pending(len(new_cases))
            new_cases.append(item)
            probe.case_id, probe.case_status = pending, str(CaseStatus.DITERIMA)  # type: ignore[assignment]
            if best_open and best_open[0].score >= settings.suggest_threshold:
                suggestions.append((n, best_open[1].case_id, best_open[0], best_open[1].record_id or 0))
            if best_archived:
                match, other = best_archived
                relations.append((pending, other.case_id, {  # type: ignore[arg-type]
                    "method": "reopened_from", "matched_record_id": other.record_id,
                    "score": match.score, "signals": match.signals}))
        for k in probe.signature.keys:
            # Every bucket takes every record: look-ups read a bucket's newest members, so a
            # full one keeps answering for recent records.
            local_bands[k].append(n)
        for k in id_keys[n]:
            local_idents[k].append(n)

    opened = open_for(new_cases)

    def resolve(ref: Any) -> int:
        return opened[ref.index] if isinstance(ref, _Pending) else ref

    if links:
        conn.execute(insert(case_links), [{
            "record_id": items[l["n"]].record_id, "case_id": resolve(l["case"]),
            "method": "duplicate", "score": l["match"].score,
            "evidence": _evidence(l["match"], l["matched"]), "created_at": now,
            "created_by": SYSTEM} for l in links])
    store_links.add_suggestions(conn, [{
        "record_id": items[n].record_id, "case_id": resolve(case), "matched_record_id": matched,
        "score": match.score, "evidence": _evidence(match, matched)}
        for n, case, match, matched in suggestions], now)
    store_links.add_relations(conn, [{
        "case_id": resolve(pending), "related_case_id": old, "kind": "reopened_from",
        "evidence": evidence} for pending, old, evidence in relations], now)
    audit = [{"at": now, "actor": SYSTEM, "action": "linked", "case_id": resolve(l["case"]),
              "record_id": items[l["n"]].record_id, "detail": _evidence(l["match"], l["matched"])}
             for l in links]
    audit += [{"at": now, "actor": SYSTEM, "action": "suggested", "case_id": resolve(case),
               "record_id": items[n].record_id, "detail": {"score": match.score}}
              for n, case, match, _ in suggestions]
    if audit:
        conn.execute(insert(audit_log), audit)
    bands.add([(item.record_id, probe.signature.keys) for item, probe in zip(items, probes)])
    idents.add([(item.record_id, keys) for item, keys in zip(items, id_keys)])
    terms.add(batch_docs)
    for item, probe in zip(items, probes):
        if item.digest:
            _remember(item.record_id, item.digest, key, probe)
    return len(opened)


Best = tuple[Match, Probe]


def _best_matches(probe: Probe, pool: list[Probe], saturated: int, rarity: Rarity,
                  settings: LinkingSettings) -> tuple[Best | None, Best | None]:
    """The best match in an open case, and the best in an archived case that relates (same
    complainant, or a suggestion-level score), among a record's candidates.

    Only what can change the outcome is scored in full: a pair that cannot reach the
    suggestion band whatever its text (``score_bound`` at any text, a template if the record's
    buckets already say so: a different village, another name on a template, far apart in
    time) and shares no identifier is not; its text is read only to tell whether the record
    is a template (near-identical for ``template_people`` people), and not at all when the
    record's buckets say so already. A pair sharing no identifier, no name and few shingles
    is not scored either: it cannot reach the suggestion band."""
    known = saturated >= BANDS // 2
    full: list[tuple[Probe, Pair]] = []
    rest: list[tuple[Probe, Pair]] = []
    person, mine_keys = probe.identity.person, set(probe.identity.keys())
    for other in pool:
        if (known and names.relation(person, other.identity.person)[0] != names.SAME
                and mine_keys.isdisjoint(other.identity.keys())):
            continue  # on a template another name, sharing no identifier, stays below it
        pair = pair_of(probe, other)
        if (pair.identity == SAME
                or score_bound(pair, 1.0, settings, known) >= settings.suggest_threshold):
            full.append((other, pair))
        elif not known:
            rest.append((other, pair))
    people = {person_proxy(probe)}
    scored: list[tuple[Probe, Pair, tuple[float, dict[str, Any]]]] = []
    # Every Jaccard at once (a pair costs less in a batch, and the rest loop rarely stops
    # early): the pairs scored in full, then the rest.
    shared = probe.signature.jaccards([o.signature for o, _ in full] + [o.signature for o, _ in rest])
    for (other, pair), chars in zip(full, shared):
        if ((chars >= SCREEN or pair.identity == SAME or pair.id_signals["names"] == names.SAME)
                and could_matter(pair, chars, settings)):
            text = text_score(probe.signature, other.signature, rarity, chars)
            scored.append((other, pair, text))
            if text[0] >= NEAR_IDENTICAL:
                people.add(person_proxy(other))
    for (other, _), chars in zip(rest, shared[len(full):]):
        if len(people) >= settings.template_people:
            break
        if ((chars + 1) / 2 >= NEAR_IDENTICAL
                and text_score(probe.signature, other.signature, rarity, chars)[0] >= NEAR_IDENTICAL):
            people.add(person_proxy(other))
    template = known or len(people) >= settings.template_people
    best_open: Best | None = None
    best_archived: Best | None = None
    for other, pair, text in scored:
        match = score_pair(probe, other, rarity, settings, template, text, pair)
        if other.case_status != ARCHIVED:
            if best_open is None or match.score > best_open[0].score:
                best_open = (match, other)
        elif ((match.identity == SAME or match.score >= settings.suggest_threshold)
              and (best_archived is None or match.score > best_archived[0].score)):
            best_archived = (match, other)
    return best_open, best_archived


# Identity and text of records recently saved or compared with, by (record id, content hash):
# the same records come back as candidates batch after batch (a bucket's members, the latest
# of a name), and a batch's own records are the next batches' likeliest candidates. Only an
# accelerator: a miss reads the record again and builds its probe (~0.9 ms with the read);
# nothing else depends on it. ~4.6 KB a record in the process's memory: ~460 MB when full.
# 100 000: an import of 100 000 reports rebuilt 1.5 probes a record with 20 000 (its
# candidates reach back further than that), a third of its time (bench/RESULTS.md).
_CACHE: OrderedDict[tuple[int, str, bytes | None], Fingerprint] = OrderedDict()
CACHE_SIZE = 100_000


def _candidate_probes(conn: Connection, ids: set[int], key: bytes | None) -> dict[int, Probe]:
    meta = store_links.candidate_rows(conn, ids, with_content=False)
    probes: dict[int, Probe] = {}
    missing = []
    for rid, row in meta.items():
        if row["case_id"] is None:
            continue
        cached = _CACHE.get((rid, row["content_sha256"], key))
        if cached is None:
            missing.append(rid)
            continue
        _CACHE.move_to_end((rid, row["content_sha256"], key))
        probes[rid] = _probe(rid, cached, row["received_at"], row["case_id"], row["status"])
    rows = {rid: row for rid, row in store_links.candidate_rows(conn, missing).items()
            if row["case_id"] is not None}
    built = probes_of([Source(rid, row["content"], row["received_at"], row["case_id"], row["status"])
                       for rid, row in rows.items()], key, keys=False)
    for (rid, row), probe in zip(rows.items(), built):
        probes[rid] = probe
        _remember(rid, row["content_sha256"], key, probe)
    return probes


def forget() -> None:
    """Linking's memory in this process (the candidate cache above, the name and place
    caches) emptied, as a new process starts: for a benchmark importing several times in one
    process (the cache is keyed by record id, which every new store numbers alike)."""
    _CACHE.clear()
    for cache in (names.person_of, names._one, names.relation, places_of):
        cache.cache_clear()


def _remember(record_id: int, digest: str, key: bytes | None, probe: Probe) -> None:
    _CACHE[(record_id, digest, key)] = _fingerprint(probe)
    if len(_CACHE) > CACHE_SIZE:
        _CACHE.popitem(last=False)


def _evidence(match: Match, matched: int | None) -> dict[str, Any]:
    return {"method": "minhash_identity", "score": match.score, "matched_record_id": matched,
            "identity": match.identity, "signals": match.signals}
