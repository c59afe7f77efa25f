"""Benchmark: all 290 "Välfärd i hela landet" kommun variants, HTML (and PDF).

Not a test. Measures, on the recorded snapshot (an in-process replay server unless
KOLADA_BASE_URL answers):

(a) the naive loop — ``papermill`` then ``jupyter nbconvert --to html --no-input`` per kommun,
    serial — over a sample of kommuner, extrapolated to 290;
(b) ``skr-report batch params/valfard.yaml --kommuner all --format html`` from a cold reports
    folder (warm data cache);
(c) the same batch again with nothing changed (the CLI, as a user runs it);
(d) optionally ``make report`` (every params/*.yaml, HTML and PDF) into a fresh reports folder
    with a warm data cache;
(e) with ``--pdf``: the export cost per variant, in-process on the executed notebooks of (b)
    (a warm exporter, as in a batch worker): HTML alone and the PDF (Typst) alone;
(f) with ``--pdf``: the batch of all 290 with ``--format html,pdf`` into a fresh folder.

Prints per-variant medians, totals and peak memory (the process tree's summed RSS), and writes
``bench/results/bench_batch.json``. Usage::

    .venv/bin/python bench/bench_batch.py [--sample 5] [--jobs 2] [--make-report] [--pdf]

``--sample 0`` skips the naive loop. Other processes on the machine disturb the timings: the
load average before and after is printed with the results.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path

import psutil

from helpers import paths

ROOT = paths.PROJ_ROOT
BIN = Path(sys.executable).parent
PARAMS = ROOT / "params" / "valfard.yaml"
NOTEBOOK = ROOT / "notebooks" / "valfard_i_hela_landet.ipynb"
SAMPLE = ["0114", "0180", "1280", "2463", "0884", "2584", "1489", "0360"]
BEFORE = {
    # issue 9, measured with xelatex (three passes per PDF) on this 2-core machine
    "run_html_s": 8.4, "run_pdf_s": 14.0, "batch_lan25_html_pdf_s": 51.0,
    "batch_290_html_pdf_min": 17.0, "batch_290_html_min": 2.0,
}


class PeakMemory:
    """Samples the summed RSS of a process and all its children every 0.2 s, and their CPU time
    (user + system of every process in the tree while it was seen, from the start)."""

    def __init__(self, pid: int | None = None):
        self.process = psutil.Process(pid or os.getpid())
        self.peak = 0
        self._cpu: dict[int, float] = {}
        self._start: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @property
    def cpu(self) -> float:
        """CPU seconds of the process tree since ``__enter__`` (to within a 0.2 s sample of
        each process's end)."""
        return sum(seconds - self._start.get(pid, 0.0) for pid, seconds in self._cpu.items())

    def _tree(self) -> list[psutil.Process]:
        try:
            return [self.process, *self.process.children(recursive=True)]
        except psutil.Error:
            return [self.process]

    def _sample(self) -> None:
        total = 0
        for proc in self._tree():
            try:
                total += proc.memory_info().rss
                times = proc.cpu_times()
                self._cpu[proc.pid] = max(self._cpu.get(proc.pid, 0.0), times.user + times.system)
            except psutil.Error:
                continue
        self.peak = max(self.peak, total)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(0.2)

    def __enter__(self) -> PeakMemory:
        self._sample()
        self._start = dict(self._cpu)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()


def run(cmd: list[str], env: dict[str, str], check: bool = True, **kwargs) -> tuple[float, int]:
    """Run a command; (seconds, peak RSS of its process tree)."""
    started = time.perf_counter()
    process = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, **kwargs)
    with PeakMemory(process.pid) as memory:
        output, _ = process.communicate()
    seconds = time.perf_counter() - started
    if process.returncode != 0 and not check:
        print(f"{' '.join(cmd)}: exit code {process.returncode}; last lines:\n{output[-1500:]}")
    elif process.returncode != 0:
        print(output[-3000:])
        raise SystemExit(f"{' '.join(cmd)} failed with exit code {process.returncode}")
    return seconds, memory.peak


def naive(sample: list[str], workdir: Path, env: dict[str, str], year: int) -> list[float]:
    """papermill + nbconvert per kommun, serial; seconds per variant."""
    times = []
    for code in sample:
        out = workdir / f"naive-{code}"
        out.mkdir(parents=True, exist_ok=True)
        executed = out / "valfard_i_hela_landet.ipynb"
        started = time.perf_counter()
        run([str(BIN / "papermill"), str(NOTEBOOK), str(executed), "-k", "skr-report",
             "--no-progress-bar", "-p", "kommun", code, "-p", "year", str(year)],
            {**env, "SKR_REPORTS_DIR": str(out)})  # outputs in out/_interactive/
        run([str(BIN / "jupyter"), "nbconvert", "--to", "html", "--no-input", str(executed)], env)
        times.append(time.perf_counter() - started)
        print(f"  naive {code}: {times[-1]:.1f} s")
    return times


def export_costs(reports: Path, variants: list, settings, sample: list[str]) -> dict:
    """Seconds per variant to export HTML and PDF from executed notebooks (warm exporter)."""
    import resource

    import nbformat

    from helpers.build.runner import variant_info
    from helpers.rendering.export import Exporter

    def cpu() -> float:  # this process's threads (Typst's too) and finished children (pandoc)
        own, children = (resource.getrusage(resource.RUSAGE_SELF),
                         resource.getrusage(resource.RUSAGE_CHILDREN))
        return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime

    exporter = Exporter()
    by_kommun = {v.params.kommun: v for v in variants}
    chosen = [by_kommun[c] for c in sample if c in by_kommun]
    html_times, pdf_times, pdf_cpu = [], [], []
    # the first run only warms up; a kommun is measured once (Typst memoizes a repeat)
    for index, variant in enumerate([variants[-1], *chosen]):
        out = reports / variant.name
        nb = nbformat.read(out / f"{variant.report}.ipynb", as_version=4)
        csv_files = sorted(p.relative_to(out).as_posix() for p in (out / "tables").glob("*.csv"))
        info = variant_info(variant, variant.parameters, settings, csv_files)
        started = time.perf_counter()
        exporter.to_html(nb, info)
        html_seconds = time.perf_counter() - started
        started, cpu_started = time.perf_counter(), cpu()
        exporter.to_pdf(nb, info)
        pdf_seconds, cpu_seconds = time.perf_counter() - started, cpu() - cpu_started
        if index:
            html_times.append(html_seconds)
            pdf_times.append(pdf_seconds)
            pdf_cpu.append(cpu_seconds)
            print(f"  export {variant.name}: HTML {html_seconds:.2f} s, PDF {pdf_seconds:.2f} s "
                  f"({cpu_seconds:.2f} s CPU)")
    return {"sample": [v.name for v in chosen], "html_seconds": html_times,
            "pdf_seconds": pdf_times, "html_median": statistics.median(html_times),
            "pdf_median": statistics.median(pdf_times), "pdf_max": max(pdf_times),
            "pdf_cpu_seconds": pdf_cpu, "pdf_cpu_median": statistics.median(pdf_cpu)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=5, help="kommuner in the naive loop")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--make-report", action="store_true", help="also time `make report`")
    parser.add_argument("--pdf", action="store_true",
                        help="also time the PDF export and a batch with --format html,pdf")
    args = parser.parse_args()

    from helpers.build.batch import build_many, plan_variants
    from helpers.build.parameters import read_params
    from helpers.build.variant import RunSettings
    from helpers.sources.eurostat import EurostatClient
    from helpers.sources.kolada import KoladaClient
    from helpers.sources.live import data_clients

    results: dict[str, object] = {"cores": os.cpu_count(), "jobs": args.jobs,
                                  "load_before": os.getloadavg(), "before": BEFORE}
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-batch-")))
        # one base URL per source for every step, so that all of them share the raw cache: the
        # live APIs or, when they cannot be reached, the recordings through one replay server
        replayed = stack.enter_context(data_clients())
        # the clients that `skr-report batch` makes from KOLADA_BASE_URL / EUROSTAT_BASE_URL
        # (the same sources, so the same cache), so that (b) and the CLI run of (c) agree on
        # the data and (c) finds everything up to date
        client = stack.enter_context(KoladaClient(base_url=replayed.kolada.base_url,
                                                  identity=replayed.kolada.identity))
        eurostat = stack.enter_context(EurostatClient(base_url=replayed.eurostat.base_url,
                                                      identity=replayed.eurostat.identity))
        base_url = client.base_url
        env = {**os.environ, "KOLADA_BASE_URL": base_url,
               "EUROSTAT_BASE_URL": eurostat.base_url,
               "SKR_REPORTS_DIR": str(workdir / "reports")}
        print(f"Kolada: {base_url}, Eurostat: {eurostat.base_url}")

        # warm the data cache and settle the year (not timed as part of the batch)
        started = time.perf_counter()
        settings = RunSettings(reports_dir=workdir / "reports")
        variants, _ = plan_variants(read_params(PARAMS), "all", client=client,
                                    settings=settings, eurostat_client=eurostat)
        year = variants[0].year
        print(f"fetch/validate 290 variants: {time.perf_counter() - started:.1f} s, year {year}")

        if args.sample:
            print(f"(a) naive loop over {args.sample} kommuner …")
            naive_times = naive(SAMPLE[:args.sample], workdir / "naive", env, year)
            naive_median = statistics.median(naive_times)
            results["naive"] = {"sample": SAMPLE[:args.sample], "seconds": naive_times,
                                "median": naive_median, "extrapolated_290": naive_median * 290}

        print(f"(b) batch, all 290, {args.jobs} workers …")
        with PeakMemory() as memory:
            batch = build_many(variants, ("html",), jobs=args.jobs, settings=settings,
                               progress=True)
        built = [r.seconds for r in batch.ok]
        results["batch"] = batch_result = {"summary": batch.summary(), "seconds": batch.seconds,
                            "built": len(batch.ok), "failed": batch.failed,
                            "per_variant_median": statistics.median(built) if built else None,
                            "throughput_per_variant": batch.seconds / max(1, len(built)),
                            "peak_rss_mb": memory.peak / 1e6, "cpu_seconds": memory.cpu}
        print(f"    {json.dumps(batch_result, default=str)}")

        print("(c) batch again (CLI), nothing changed …")
        seconds, peak = run([str(BIN / "skr-report"), "batch", str(PARAMS), "--kommuner", "all",
                             "--jobs", str(args.jobs), "--format", "html"], env)
        results["batch_again"] = {"seconds": seconds, "peak_rss_mb": peak / 1e6}
        print(f"    {results['batch_again']}")

        if args.pdf:
            print("(e) export cost per variant (warm exporter, executed notebooks of (b)) …")
            results["export"] = export_costs(workdir / "reports", variants, settings,
                                             SAMPLE[:max(args.sample, 5)])
            print(f"(f) batch, all 290, {args.jobs} workers, --format html,pdf …")
            settings_pdf = RunSettings(reports_dir=workdir / "reports-pdf")
            variants_pdf, _ = plan_variants(read_params(PARAMS), "all", client=client,
                                            settings=settings_pdf, eurostat_client=eurostat)
            with PeakMemory() as memory:
                both = build_many(variants_pdf, ("html", "pdf"), jobs=args.jobs,
                                  settings=settings_pdf, progress=True)
            results["batch_pdf"] = {"summary": both.summary(), "seconds": both.seconds,
                                    "built": len(both.ok), "failed": both.failed,
                                    "per_variant_median": statistics.median(
                                        [r.seconds for r in both.ok]) if both.ok else None,
                                    "peak_rss_mb": memory.peak / 1e6, "cpu_seconds": memory.cpu}
            print(f"    {json.dumps(results['batch_pdf'], default=str)}")

        if args.make_report:
            print("(d) make report (fresh reports folder, warm data cache) …")
            env_make = {**env, "SKR_REPORTS_DIR": str(workdir / "make-reports")}
            seconds, peak = run(["make", "report"], env_make, check=False)
            results["make_report"] = {"seconds": seconds, "peak_rss_mb": peak / 1e6}

    results["load_after"] = os.getloadavg()
    batch_seconds = results["batch"]["seconds"]
    print()
    if "naive" in results:
        naive_total = results["naive"]["extrapolated_290"]
        print(f"(a) naive: median {naive_median:.2f} s/variant → {naive_total:.0f} s for 290 "
              f"(sample {args.sample})")
    b = results["batch"]
    print(f"(b) batch: {b['summary']}; median {b['per_variant_median']:.2f} s per variant in a "
          f"worker, {b['throughput_per_variant']:.2f} s wall per variant; peak memory "
          f"{b['peak_rss_mb']:.0f} MB")
    if "naive" in results:
        print(f"    speed-up over naive: {naive_total / batch_seconds:.1f}×  (target ≥ 5×, "
              f"< 240 s: {'yes' if batch_seconds < 240 else 'NO'})")
    if "export" in results:
        e = results["export"]
        print(f"(e) export per variant: HTML median {e['html_median']:.2f} s; PDF median "
              f"{e['pdf_median']:.2f} s, max {e['pdf_max']:.2f} s, CPU median "
              f"{e['pdf_cpu_median']:.2f} s (target ≤ 0.5 s; before: "
              f"xelatex {BEFORE['run_pdf_s'] - BEFORE['run_html_s']:.1f} s)")
        f = results["batch_pdf"]
        print(f"(f) batch html,pdf: {f['summary']}; {f['seconds']:.0f} s for 290 (target ≤ 240 s;"
              f" before ≈ {BEFORE['batch_290_html_pdf_min']:.0f} min), {f['cpu_seconds']:.0f} s "
              f"CPU; PDF adds "
              f"{(f['seconds'] - batch_seconds) / 290:.2f} s wall per variant over (b); peak "
              f"memory {f['peak_rss_mb']:.0f} MB")
    print(f"(c) batch again: {results['batch_again']['seconds']:.2f} s (target < 5 s)")
    if "make_report" in results:
        print(f"(d) make report: {results['make_report']['seconds']:.1f} s, peak memory "
              f"{results['make_report']['peak_rss_mb']:.0f} MB (target ≤ 30 s)")
    print(f"load average before {results['load_before']}, after {results['load_after']} "
          f"({os.cpu_count()} cores): other processes disturb the timings when it exceeds that")
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench_batch.json").write_text(json.dumps(results, indent=2, default=str) + "\n")


if __name__ == "__main__":
    main()
