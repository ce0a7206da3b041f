#!/usr/bin/env python3
"""Benchmark: the near-duplicate index against datasketch's MinHashLSH and brute force.

    python bench/dedup_index.py [--records 1000000] [--quick] [--queries 2000]
                                [--sample 20000] [--pg URL|private] [--engines a,b]
                                [--jobs N] [--keep DIR]

Records come from ``dedup_records.generate`` (cached in the temp dir); ``DUPLICATE_SHARE`` of
them retype or re-paste an earlier one. Each engine runs in a process of its own (so its
memory is its own) and, in this order: indexes every record in batches of 1 000 (insert
throughput), answers ``--queries`` planted copies drawn over the whole stream (latency,
candidates per query, recall), then restarts (what it costs).

- ours-memory   ``LshIndex(MemoryKeyTable())``, restart = unpickling the table
- ours-sqlite   ``LshIndex(BandTable(conn))`` (cases/band_log.py: the store's band log and
                this process's index of it) in a new SQLite store, one transaction per batch
                as ingestion does; restart = reopening the store + reading the log + first
                query
- ours-postgresql  the same on ``--pg URL`` (an empty database), if given
- datasketch    ``MinHashLSH`` with our parameters on our shingles; restart = unpickling
- brute force   exact Jaccard of every query against a ``--sample`` of the records (in this
                process): the ground truth. The sample holds every query's original plus
                random records; its pairs at Jaccard ≥ ``THRESHOLD`` are the "neighbour recall"
                each index is scored on, the originals the "planted recall".

Planted recall is measured twice: each copy asked when it arrives (after its batch is
indexed, as ingestion asks about a new record; the figure the goal is judged on), and all
copies asked again once every record is in (a late question: a full bucket has moved on).
Both are split by the original's age: copies of one of the last ``RECENT_AGE`` records
(reposts, the same complaint on another channel: 70 % of the generator's copies) and of
older ones. "datasketch at our budget": its recall when, for each query, it keeps only as
many candidates as ours-memory returned, most shared bands first (``Datasketch.rank``).
Latency is of the questions asked at the end (the largest index).

Requires the ``bench`` extra (``pip install -e '.[bench]'``) for datasketch.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import Phase, machine  # noqa: E402
from dedup_engines import Datasketch, datasketch_bands, datasketch_name, make_engine  # noqa: E402
from dedup_records import Record, generate  # noqa: E402
from pengaduan.cases.dedup_index import BUCKET_CAP  # noqa: E402
from pengaduan.cases.similarity import BANDS, ROWS, jaccard, normalize_for_matching, shingles  # noqa: E402
from pengaduan.store.db import display_url  # noqa: E402

CACHE = Path(tempfile.gettempdir()) / "pengaduan-bench"
BATCH = 1000
THRESHOLD = 0.5  # near-duplicate: Jaccard of the char 5-gram sets at least this
RECENT_AGE = 2500  # ≈ the generator's last RECENT (2 000) originals, in records
QUICK_RECORDS = 20_000


# --- records and queries ---------------------------------------------------------------------


def records_file(n: int) -> Path:
    """The records as JSON lines, generated once per (n, generator version)."""
    version = hashlib.sha256((HERE / "dedup_records.py").read_bytes()).hexdigest()[:10]
    path = CACHE / f"dedup-{n}-{version}.jsonl"
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        partial = path.with_suffix(".partial")
        with partial.open("w") as out:
            for r in generate(n):
                out.write(json.dumps([r.id, r.original, r.text], ensure_ascii=False) + "\n")
        partial.replace(path)
        print(f"generated {n} records in {time.perf_counter() - started:.0f}s (not measured)",
              flush=True)
    return path


def read_records(path: Path) -> Iterator[Record]:
    with path.open() as lines:
        for line in lines:
            rid, original, text = json.loads(line)
            yield Record(rid, text, original)


@dataclass
class Query:
    id: int
    text: str
    original: int
    neighbours: list[int]  # sample records at Jaccard ≥ THRESHOLD, found by brute force

    @property
    def recent(self) -> bool:
        return self.id - self.original <= RECENT_AGE


def choose_queries(path: Path, queries: int, sample: int) -> tuple[list[Query], dict[int, str]]:
    """Planted copies drawn uniformly over the stream, and the brute-force sample: their
    originals plus random records."""
    rng = random.Random(11)
    planted = [(r.id, r.original) for r in read_records(path) if r.original is not None]
    chosen = rng.sample(planted, min(queries, len(planted)))
    total = sum(1 for _ in path.open())
    wanted = {o for _, o in chosen}
    others = sample - len(wanted)
    if others > 0:
        wanted |= set(rng.sample(range(total), min(others, total)))
    copies = {q for q, _ in chosen}
    texts: dict[int, str] = {}
    query_texts: dict[int, str] = {}
    for r in read_records(path):
        if r.id in wanted:
            texts[r.id] = r.text
        if r.id in copies:
            query_texts[r.id] = r.text
    return [Query(q, query_texts[q], o, []) for q, o in chosen], texts


def brute_force(queries: list[Query], texts: dict[int, str]) -> dict[str, object]:
    """Exact Jaccard of each query against every sample record; fills ``neighbours``."""
    wall, cpu = time.perf_counter(), time.process_time()
    grams = {rid: shingles(normalize_for_matching(t)) for rid, t in texts.items()}
    build, build_cpu = time.perf_counter() - wall, time.process_time() - cpu
    latencies, cpu_latencies = [], []
    for q in queries:
        started, started_cpu = time.perf_counter(), time.process_time()
        mine = shingles(normalize_for_matching(q.text))
        q.neighbours = [rid for rid, g in grams.items()
                        if rid != q.id and jaccard(mine, g) >= THRESHOLD]
        latencies.append(time.perf_counter() - started)
        cpu_latencies.append(time.process_time() - started_cpu)
    planted = sum(q.original in q.neighbours for q in queries)
    return {"records": len(texts), "seconds": build, "cpu": build_cpu,
            "latencies": latencies, "cpu_latencies": cpu_latencies, "candidates": sum(len(q.neighbours) for q in queries),
            "planted": planted, "neighbours": sum(len(q.neighbours) for q in queries),
            "neighbours_found": sum(len(q.neighbours) for q in queries)}


def datasketch_recall_by_bands(queries: list[Query], texts: dict[int, str]) -> dict[int, float]:
    """datasketch's planted recall with 1 to ``BANDS`` bands of ``ROWS`` rows (the first
    permutations of the full engine's, as ``Datasketch(bands=...)`` uses): it reads whole
    buckets, so a copy is found, at arrival as at the end, exactly when it shares a band
    with its original; no index needed. The full engine's measured recall checks it."""
    engine = Datasketch()
    agree = np.array([engine.minhash(q.text).hashvalues == engine.minhash(texts[q.original]).hashvalues
                      for q in queries]).reshape(len(queries), BANDS, ROWS).all(axis=2)
    return {b: float(agree[:, :b].any(axis=1).mean()) for b in range(1, BANDS + 1)}


def equal_recall_bands(by_bands: dict[int, float], recall: float) -> int:
    """The fewest bands at which datasketch finds at least ``recall`` of the planted copies:
    its cheapest layout at our recall (fewer bands, fewer permutations to compute)."""
    return min((b for b, r in by_bands.items() if r >= recall), default=BANDS)


# --- one engine, in its own process ----------------------------------------------------------


def _rss_mb() -> tuple[float, float]:
    """(resident now, peak) in MB, from /proc (Linux); peak falls back to getrusage."""
    try:
        fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
        return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024
    except (OSError, KeyError, ValueError):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return peak, peak


def run_engine(name: str, path: Path, queries_path: Path, url: str | None,
               cap: int) -> dict[str, object]:
    from pengaduan.cli.main import tune_gc

    tune_gc()  # every engine runs with the GC setting of a ``pengaduan`` process
    queries = [Query(**q) for q in json.loads(queries_path.read_text())]
    engine = make_engine(name, url, cap)
    before, _ = _rss_mb()
    seconds = cpu = 0.0
    count = 0
    batch: list[Record] = []
    arriving = sorted(queries, key=lambda q: q.id)
    at_arrival: dict[int, list[int]] = {}  # query id → candidates, asked after its batch
    for record in read_records(path):
        batch.append(record)
        if len(batch) == BATCH:
            seconds, cpu = _add(engine, batch, seconds, cpu)
            count += len(batch)
            _ask_arrived(engine, arriving, record.id, at_arrival)
            batch = []
    if batch:
        seconds, cpu = _add(engine, batch, seconds, cpu)
        count += len(batch)
    _ask_arrived(engine, arriving, count, at_arrival)
    after, peak = _rss_mb()
    latencies, cpu_latencies, candidates, planted, found = [], [], 0, 0, 0
    counts, ranks = [], []  # per query: candidates, and the original's place among them
    for q in queries:
        started, started_cpu = time.perf_counter(), time.process_time()
        ids = engine.query(q.text, q.id)
        latencies.append(time.perf_counter() - started)
        cpu_latencies.append(time.process_time() - started_cpu)
        hits = set(ids)
        candidates += len(ids)
        planted += q.original in hits
        found += len(hits.intersection(q.neighbours))
        counts.append(len(ids))
        ranks.append(_rank(engine, q, ids))
    arrival = [at_arrival[q.id] for q in queries]
    restart, how = engine.restart()
    engine.close()
    return {"records": count, "seconds": seconds, "cpu": cpu, "latencies": latencies,
            "cpu_latencies": cpu_latencies, "candidates": candidates, "planted": planted,
            "neighbours": sum(len(q.neighbours) for q in queries), "neighbours_found": found,
            "counts": counts, "ranks": ranks, "recent": [q.recent for q in queries],
            "arrival_counts": [len(ids) for ids in arrival],
            "arrival_ranks": [_rank(engine, q, ids) for q, ids in zip(queries, arrival)],
            "rss_index_mb": after - before, "rss_peak_mb": peak,
            "restart_s": restart, "restart_how": how}


def _ask_arrived(engine, arriving: list[Query], last: int,  # type: ignore[no-untyped-def]
                 answers: dict[int, list[int]]) -> None:
    """Ask the copies that arrived up to record ``last``, as ingestion asks the index about a
    record when it arrives (here after its batch: up to 999 later records are in already)."""
    while arriving and arriving[0].id <= last:
        q = arriving.pop(0)
        answers[q.id] = engine.query(q.text, q.id)


def _rank(engine, q: Query, ids: list[int]) -> int | None:  # type: ignore[no-untyped-def]
    return engine.rank(q.text, ids).index(q.original) if q.original in ids else None


def _add(engine, batch: list[Record], seconds: float, cpu: float) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    wall, started_cpu = time.perf_counter(), time.process_time()
    engine.add(batch)
    return seconds + time.perf_counter() - wall, cpu + time.process_time() - started_cpu


# --- the run ---------------------------------------------------------------------------------


@dataclass
class Result:
    engine: str
    figures: dict[str, object]

    def pct(self, q: float, kind: str = "latencies") -> float:
        lat = sorted(self.figures[kind])  # type: ignore[call-overload]
        return lat[min(len(lat) - 1, int(q * len(lat)))] * 1000 if lat else float("nan")

    def rate(self, clock: str = "seconds") -> float:
        f = self.figures
        return f["records"] / f[clock] if f[clock] else float("inf")  # type: ignore[operator]


def run(records: int, quick: bool = False, queries: int = 2000, sample: int = 20_000,
        pg: str | None = None, engines: list[str] | None = None,
        workdir: Path | None = None, jobs: int = 1, cap: int = BUCKET_CAP) -> list[Phase]:
    """Everything, printed as it goes; each engine's figures as a ``Phase`` too (insert time
    as seconds and cpu, the rest in ``result``) for ``bench/run.py``. ``pg``: an empty
    database's URL, or "private" for a throwaway server."""
    if quick:
        records = min(records, QUICK_RECORDS)
        queries, sample = min(queries, 500), min(sample, 5000)
    names = engines or ["datasketch", "ours-memory", "ours-sqlite"] + (["ours-postgresql"] if pg else [])
    path = records_file(records)
    chosen, texts = choose_queries(path, queries, sample)
    print(f"{records:,} records ({path}), {len(chosen)} queries, brute-force sample "
          f"{len(texts):,}", flush=True)
    results = [Result("brute force (sample)", brute_force(chosen, texts))]
    by_bands = datasketch_recall_by_bands(chosen, texts) if "datasketch" in names else {}
    if by_bands:
        print("datasketch planted recall by bands of {} rows (shares a band with its original; "
              "the same at arrival and at the end): {}".format(
                  ROWS, ", ".join(f"{b}: {r:.3f}" for b, r in by_bands.items())), flush=True)
    own = workdir or Path(tempfile.mkdtemp(prefix="bench-dedup-"))
    queries_path = own / "queries.json"
    queries_path.write_text(json.dumps([asdict(q) for q in chosen]))
    server = pg_dir = None
    try:
        if pg == "private" and "ours-postgresql" in names:
            sys.path.insert(0, str(HERE.parent / "tests"))
            from services.postgres import start_postgres

            pg_dir = Path(tempfile.mkdtemp(prefix="bench-pg-"))  # its own: the server's user reads it
            server = start_postgres(pg_dir)
            pg = server.create_database("bench_dedup")
            print("PostgreSQL: a private server (tests/services/postgres.py, fsync off)")
        urls = {"ours-sqlite": f"sqlite:///{own / 'dedup.db'}", "ours-postgresql": pg}
        with ThreadPoolExecutor(max(1, jobs)) as pool:  # threads only wait for the children
            running = {pool.submit(_child, name, path, queries_path, urls.get(name), cap): name
                       for name in names}
            for done in as_completed(running):  # the table so far: a long run keeps its figures
                results.append(Result(running[done], done.result()))
                print_table(results, jobs)
        ours = next((r for r in results if r.engine == "ours-memory"), None)
        if by_bands and ours is not None:
            # At equal recall: datasketch with the fewest bands that find as many copies.
            ranks = ours.figures["arrival_ranks"]
            recall = sum(rank is not None for rank in ranks) / len(ranks)  # type: ignore[arg-type]
            bands = equal_recall_bands(by_bands, recall)
            if bands < BANDS:
                name = datasketch_name(bands)
                results.append(Result(name, _child(name, path, queries_path, None, cap)))
                print_table(results, jobs)
    finally:
        if server is not None:
            server.stop()
        if pg_dir is not None:
            shutil.rmtree(pg_dir, ignore_errors=True)
        if workdir is None:
            shutil.rmtree(own, ignore_errors=True)
    return [Phase(r.engine, r.figures["records"], r.figures["seconds"], r.figures["cpu"],  # type: ignore[arg-type]
                  summary(r)) for r in results]


def _child(name: str, path: Path, queries_path: Path, url: str | None,
           cap: int) -> dict[str, object]:
    engine = "ours-sql" if name in ("ours-sqlite", "ours-postgresql") else name
    print(f"running {name}{' on ' + display_url(url) if url else ''} ...", flush=True)
    out = subprocess.run(
        [sys.executable, __file__, "--engine", engine, "--file", str(path),
         "--queries-file", str(queries_path), "--cap", str(cap)] + (["--url", url] if url else []),
        capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(f"{name} failed:\n{out.stderr[-3000:]}")
    print(f"{name} done", flush=True)
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def split_recall(f: dict[str, object], when: str = "",
                 budget: list[int] | None = None) -> tuple[str, str, str]:
    """Planted recall of all copies, of copies of recent originals and of older ones, asked
    ``when`` ("arrival_" or at the end); with ``budget``, of only the first ``budget[i]``
    candidates of query i."""
    if f"{when}ranks" not in f:
        return "-", "-", "-"
    found = {True: 0, False: 0}
    total = {True: 0, False: 0}
    for i, (rank, recent) in enumerate(zip(f[f"{when}ranks"], f["recent"])):  # type: ignore[call-overload]
        total[recent] += 1
        found[recent] += rank is not None and (budget is None or rank < budget[i])
    return (_ratio(found[True] + found[False], total[True] + total[False]),
            _ratio(found[True], total[True]), _ratio(found[False], total[False]))


def summary(r: Result) -> str:
    """One line; its first "planted recall" is at arrival (bench/run.py reads it)."""
    f = r.figures
    text = f"p50 {r.pct(0.5):.2f} ms, p99 {r.pct(0.99):.2f} ms, "
    if "arrival_ranks" in f:
        text += "planted recall {} (recent {}, older {}) asked at arrival, ".format(
            *split_recall(f, "arrival_"))
    text += ("{} (recent {}, older {}) asked at the end, ".format(*split_recall(f))
             if "ranks" in f else f"planted recall {_ratio(f['planted'], len(f['latencies']))}, ")  # type: ignore[arg-type]
    text += f"neighbour recall {_ratio(f['neighbours_found'], f['neighbours'])}"
    if "rss_index_mb" in f:
        text += f", RSS +{f['rss_index_mb']:.0f} MB, restart {f['restart_s']:.2f} s"
    return text


def _mean(values: object) -> str:
    return f"{sum(values) / max(len(values), 1):,.1f}" if values else "-"  # type: ignore[arg-type]


def _ratio(a: object, b: object) -> str:
    return f"{a / b:.3f}" if b else "-"  # type: ignore[operator]


def print_table(results: list[Result], jobs: int = 1) -> None:
    """Wall and CPU figures both: wall is what a user waits, CPU stays put on a shared machine
    (with ``--jobs`` > 1 the engines ran side by side, so read CPU)."""
    base = next((r for r in results if r.engine == "datasketch"), None)
    ours = next((r for r in results if r.engine == "ours-memory"), None)

    def vs(mine: float, theirs: float) -> str:
        return f" ({mine / theirs:.2f}x)" if base else ""

    print(f"\n| engine | records | insert rec/s wall (vs datasketch) | insert rec/s CPU (vs) | "
          f"query ms p50 / p99 wall | p99 CPU (vs) | candidates/query at arrival / end | "
          f"planted recall at arrival: all / recent / older | at the end: all / recent / older | "
          f"neighbour recall J≥{THRESHOLD} | index RSS MB | peak RSS MB | restart s (how) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in results:
        f = r.figures
        n = len(f["latencies"])  # type: ignore[arg-type]
        b = base or r
        rss = (f"{f['rss_index_mb']:,.0f} | {f['rss_peak_mb']:,.0f} | "
               f"{f['restart_s']:.2f} ({f['restart_how']})" if "rss_index_mb" in f
               else "- | - | -")
        print(f"| {r.engine} | {f['records']:,} | {r.rate():,.0f}{vs(r.rate(), b.rate())} | "
              f"{r.rate('cpu'):,.0f}{vs(r.rate('cpu'), b.rate('cpu'))} | "
              f"{r.pct(0.5):.2f} / {r.pct(0.99):.2f} | {r.pct(0.99, 'cpu_latencies'):.2f}"
              f"{vs(r.pct(0.99, 'cpu_latencies'), b.pct(0.99, 'cpu_latencies'))} | "
              f"{_mean(f.get('arrival_counts'))} / {f['candidates'] / max(n, 1):,.1f} | "  # type: ignore[operator]
              f"{' / '.join(split_recall(f, 'arrival_'))} | "
              f"{' / '.join(split_recall(f)) if 'ranks' in f else _ratio(f['planted'], n)} | "
              f"{_ratio(f['neighbours_found'], f['neighbours'])} | {rss} |")
    if base is not None and ours is not None and "ranks" in base.figures:
        for when, name in (("arrival_", "at arrival"), ("", "at the end")):
            budget = ours.figures[f"{when}counts"]
            print(f"\ndatasketch at our budget, asked {name} (per query only as many candidates "
                  f"as ours-memory gave, {_mean(budget)} a query; most shared bands first, then "
                  "newest): planted recall all / recent / older "
                  f"{' / '.join(split_recall(base.figures, when, budget))}")  # type: ignore[arg-type]
    for other in results:
        bands = datasketch_bands(other.engine)
        if bands is not None:
            print(f"\nat equal recall: {other.engine} (MinHashLSH, {bands} bands of {ROWS} rows) "
                  f"finds {split_recall(other.figures, 'arrival_')[0]} of the planted copies at "
                  f"arrival, p99 {other.pct(0.99, 'cpu_latencies'):.2f} ms CPU; insert rate "
                  "against it: " + ", ".join(
                      f"{r.engine} ({split_recall(r.figures, 'arrival_')[0]}) "
                      f"{r.rate('cpu') / other.rate('cpu'):.2f}x by CPU, "
                      f"{r.rate() / other.rate():.2f}x by wall"
                      for r in results if r.engine.startswith("ours-")))
    print(f"\n(jobs: {jobs}; brute force: the sample's records and queries against it, "
          "in the parent process)", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true",
                        help=f"a smoke run: {QUICK_RECORDS} records, 500 queries, sample 5000")
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--sample", type=int, default=20_000)
    parser.add_argument("--pg", metavar="URL|private",
                        help="also run on this empty PostgreSQL database, or a private server")
    parser.add_argument("--jobs", type=int, default=1,
                        help="engines run side by side (a busy machine: compare CPU figures)")
    parser.add_argument("--engines", help="comma-separated subset of: datasketch, ours-memory, "
                        "ours-sqlite, ours-postgresql")
    parser.add_argument("--cap", type=int, default=BUCKET_CAP,
                        help=f"our bucket cap (default BUCKET_CAP, {BUCKET_CAP}): the recall/cost knob")
    parser.add_argument("--keep", type=Path, metavar="DIR", help="keep the SQLite store in DIR")
    parser.add_argument("--engine", help=argparse.SUPPRESS)  # the per-engine child process
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--queries-file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.engine:
        print(json.dumps(run_engine(args.engine, args.file, args.queries_file, args.url, args.cap)))
        return 0
    size = min(args.records, QUICK_RECORDS) if args.quick else args.records
    for key, value in machine(("records", f"{size:,}{' (quick)' if args.quick else ''}"),
                              ("our bucket cap", str(args.cap))):
        print(f"- {key}: {value}")
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
    run(args.records, args.quick, args.queries, args.sample, args.pg,
        args.engines.split(",") if args.engines else None, args.keep, args.jobs, args.cap)
    print(f"- load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
