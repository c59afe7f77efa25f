"""Benchmark: fetch every KPI named in REPORT_SPEC for all units, 2010–2022, from the replay server.

Not a test: prints requests, bytes and seconds for a cold fetch, a warm one (must be 0
requests), one through 100 ms of injected latency, and one where 20 % of requests fail (the
data must be identical). Run with `make bench` or `.venv/bin/python bench/bench_fetch.py`.
"""

from __future__ import annotations

import gzip
import math
import re
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from helpers import paths
from helpers.sources.kolada import PER_PAGE, KoladaClient
from helpers.sources.replay.server import Faults, ReplayServer

YEARS = list(range(2010, 2023))


def spec_kpis() -> list[str]:
    text = (paths.SHARED_DIR / "docs" / "REPORT_SPEC.md").read_text(encoding="utf-8")
    return sorted(set(re.findall(r"\b[NU]\d{5}\b", text)))


def minimal_requests(kpis: list[str], chunks: list[list[str]]) -> tuple[int, int, int]:
    """(records, fewest requests at all, fewest for these KPI chunks), from the snapshot."""
    with gzip.open(paths.SNAPSHOT_DIR / "values.csv.gz") as handle:
        values = pd.read_csv(handle, usecols=["kpi", "municipality", "period"], dtype=str)
    values = values[values.kpi.isin(kpis) & values.period.astype(int).isin(YEARS)]
    per_kpi = values.drop_duplicates().groupby("kpi").size()
    total = int(per_kpi.sum())
    at_least_one_chunk = max(1, math.ceil(total / PER_PAGE))
    per_chunk = sum(
        max(1, math.ceil(per_kpi.reindex(c).fillna(0).sum() / PER_PAGE)) for c in chunks
    )
    return total, at_least_one_chunk, per_chunk


def timed_fetch(label: str, server: ReplayServer, cache: Path, kpis: list[str]) -> pd.DataFrame:
    client = KoladaClient(server.base_url, cache_dir=cache, retries=10, backoff_factor=0.05)
    served = server.request_count
    started = time.perf_counter()
    frame = client.values(kpis, years=YEARS)
    seconds = time.perf_counter() - started
    print(
        f"{label:<34} {client.stats.requests:>5} requests {server.request_count - served:>5} "
        f"served {client.stats.bytes / 1e6:>7.1f} MB {seconds:>6.2f} s {len(frame):>8} rows"
    )
    return frame


def main() -> int:
    kpis = spec_kpis()
    print(f"{len(kpis)} KPIs named in REPORT_SPEC, all units, years {YEARS[0]}–{YEARS[-1]}")
    probe = KoladaClient("http://127.0.0.1:1/v3", cache_dir=tempfile.mkdtemp())
    chunks = [
        p.split("/")[3].split(",") for p in probe._value_urls(kpis, None, list(map(str, YEARS)))
    ]
    records, fewest, fewest_chunked = minimal_requests(kpis, chunks)
    print(
        f"{records} records; fewest possible requests {fewest} (records / {PER_PAGE}); "
        f"{len(chunks)} KPI chunks need {fewest_chunked} ({fewest_chunked / fewest:.2f}×)"
    )

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        with ReplayServer() as server:
            cold = timed_fetch("cold (no latency)", server, tmp / "a", kpis)
            warm = timed_fetch("warm (cache)", server, tmp / "a", kpis)
        with ReplayServer(faults=Faults(latency=0.1)) as server:
            slow = timed_fetch("cold, 100 ms latency", server, tmp / "b", kpis)
        with ReplayServer(faults=Faults(error_rate=0.2, seed=7)) as server:
            flaky = timed_fetch("cold, 20 % of requests fail (500)", server, tmp / "c", kpis)
        with ReplayServer(
            faults=Faults(
                error_rate=0.05,
                rate_limit_rate=0.05,
                retry_after=0,
                drop_rate=0.05,
                truncate_rate=0.05,
                seed=11,
            )
        ) as server:
            mixed = timed_fetch("cold, 20 % mixed faults", server, tmp / "d", kpis)
    same = all(f.equals(cold) for f in (warm, slow, flaky, mixed))
    print(f"identical data in all five fetches: {same}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
