"""Benchmark of the regeneration cycle (issue 18): ``skr-report status`` on 290 published
variants with a warm cache, and ``make report`` with nothing changed.

Not a test. Everything through the command line, as a user runs it, on the recorded snapshot
(an in-process replay server unless ``KOLADA_BASE_URL`` answers), into a work folder of its own
(``SKR_DATA_DIR``, ``SKR_REPORTS_DIR``; default ``bench/results/cycle-work``, kept between runs
so the 290 variants are built once):

(a) the 290 Välfärd kommun variants (``batch params/valfard.yaml --kommuner all --format
    html``), only when fewer are published there;
(b) ``skr-report status``: one run to warm the catalogue, then ``--runs`` timed runs;
(c) ``make report`` into the same folders: one run to build (and record its plan), then
    ``--runs`` timed runs with nothing changed, and the same number of ``skr-report report-all
    --force``-free runs without make, to tell make's own cost apart;
(d) for comparison, the planning path that (c) replaces: ``skr-report report-all`` with the
    record removed before each run (``--baseline``).

Prints medians (min–max) and the load average, and writes ``bench/results/bench_cycle.json``.
Usage::

    .venv/bin/python bench/bench_cycle.py [--runs 5] [--jobs 2] [--baseline] [--work DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

from helpers import paths

ROOT = paths.PROJ_ROOT
BIN = Path(sys.executable).parent
RESULTS = ROOT / "bench" / "results"


CPU: list[float] = []
"""CPU seconds (user + system) of each timed command and its children, in order: on a machine
shared with other work, wall time grows with the load, CPU time much less."""


def timed(cmd: list[str], env: dict[str, str], ok: tuple[int, ...] = (0,)) -> tuple[float, str]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    if done.returncode not in ok:
        raise SystemExit(f"{' '.join(cmd)} exited {done.returncode}:\n{done.stdout[-2000:]}\n"
                         f"{done.stderr[-2000:]}")
    return seconds, done.stdout


def spread(values: list[float]) -> dict[str, float]:
    """Wall seconds of the last ``len(values)`` timed commands, and their CPU seconds."""
    cpu = CPU[-len(values):]
    return {"median_s": round(statistics.median(values), 3), "min_s": round(min(values), 3),
            "max_s": round(max(values), 3), "cpu_median_s": round(statistics.median(cpu), 3),
            "runs": len(values)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--baseline", action="store_true",
                        help="also time report-all planning everything (record removed)")
    parser.add_argument("--work", type=Path, default=RESULTS / "cycle-work")
    args = parser.parse_args()

    from helpers.sources.live import data_clients

    work = args.work.resolve()
    env = dict(os.environ, SKR_DATA_DIR=str(work / "data"), SKR_REPORTS_DIR=str(work / "reports"))
    results: dict = {"load_before": os.getloadavg()}
    with ExitStack() as stack:
        clients = stack.enter_context(data_clients())
        kolada, eurostat = clients.kolada, clients.eurostat
        env.update(KOLADA_BASE_URL=kolada.base_url, EUROSTAT_BASE_URL=eurostat.base_url)
        results["source"] = ("recording (replay server)" if "Kolada" in clients.recorded
                             else kolada.base_url)
        skr = str(BIN / "skr-report")
        published = list((work / "reports").glob("valfard-*/manifest.json"))
        if len(published) < 290:
            seconds, _ = timed([skr, "batch", "params/valfard.yaml", "--kommuner", "all",
                                "--format", "html", "--jobs", str(args.jobs)], env)
            results["batch_290_html_s"] = round(seconds, 1)
        results["variants"] = len(list((work / "reports").glob("*/manifest.json")))

        timed([skr, "status"], env, ok=(0, 10))  # the catalogue into the cache
        runs = [timed([skr, "status"], env, ok=(0, 10)) for _ in range(args.runs)]
        results["status"] = spread([s for s, _ in runs]) | {
            "first_lines": runs[-1][1].splitlines()[:3]}

        make = ["make", "-s", "report"]
        timed(make, env)  # builds what the 290 batch did not (the five params/*.yaml)
        results["make_report_unchanged"] = spread([timed(make, env)[0]
                                                   for _ in range(args.runs)])
        results["report_all_unchanged"] = spread([timed([skr, "report-all"], env)[0]
                                                  for _ in range(args.runs)])
        if args.baseline:
            record = work / "data" / "processed" / ".cycle" / "report-all.json"
            planned = []
            for _ in range(args.runs):
                record.unlink(missing_ok=True)
                planned.append(timed([skr, "report-all"], env)[0])
            results["report_all_planning_everything"] = spread(planned)
    results["load_after"] = os.getloadavg()
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "bench_cycle.json").write_text(json.dumps(results, indent=1, ensure_ascii=False)
                                              + "\n", encoding="utf-8")
    print(json.dumps(results, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
