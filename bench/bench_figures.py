"""Benchmark: what the figures of one kommun variant cost, before and after issue 16.

Not a test. On the processed data of ``make report`` (run it first), for a sample of kommun
variants of "Välfärd i hela landet" Figur 1–4 (the only figures that differ between kommuner):

(a) before: the figure module of ``--before`` (default d76cd64, read with ``git show``):
    ``spread_figure`` + ``render_png`` — a 1210 px PNG, the kommun's marks drawn over the
    cached pixels of the rest;
(b) after: ``helpers.rendering.figures.spread_figure`` — the print-size SVG composed from the
    shared base and the kommun's overlay, and the PNG (``PNG_PPI``) from the base's cached
    pixels with the overlay laid over them — and the figure PDF (Typst from the SVG,
    ``figure_pdf``), split into marks + SVG, PNG and PDF;
(c) what a worker draws once: the four bases of (b), Figur 5–7 (every variant shares them) and
    Agenda 2030 Figur 1 (one variant each);
(d) byte-identical re-runs: the files of (b) for two kommuner, written by two processes.

Usage::

    .venv/bin/python bench/bench_figures.py [--sample 20] [--cpu] [--before d76cd64]

``--cpu`` times with ``time.process_time`` (this process, Typst's threads included), which
other processes on the machine disturb less than wall time. Prints medians per variant and
writes ``bench/results/bench_figures.json`` with the load average before and after.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from helpers.build.parameters import read_params
from helpers.paths import PARAMS_DIR, PROJ_ROOT
from helpers.rendering import figure_files, figures
from helpers.reports import agenda2030, valfard
from helpers.reports.valfard.pieces import FIGURES, _marked

SAMPLE = ["2463", "0114", "0180", "1280", "0884", "2584", "1489", "0360", "1267", "2580",
          "0136", "1480", "0428", "1060", "2021", "1814", "0562", "1384", "2506", "0764",
          "2260", "1762", "0880", "1415", "2161", "1981", "0643", "2326", "1438", "0331"]
CLOCK = time.perf_counter


def old_figures(ref: str):
    """The figure module as it was at ``ref`` (it imports only helpers.domain/formatting)."""
    source = subprocess.run(["git", "show", f"{ref}:src/helpers/rendering/figures.py"],
                            cwd=PROJ_ROOT, capture_output=True, text=True, check=True).stdout
    path = Path(tempfile.mkdtemp(prefix="bench-figures-")) / "figures_before.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("figures_before", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["figures_before"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def spreads_for(codes: list[str]) -> dict[str, dict]:
    """Per kommun the four GroupSpreads (computed outside the timings: the same either way)."""
    out = {}
    for code in codes:
        data = valfard.load_data(read_params(PARAMS_DIR / "valfard.yaml", kommun=code)
                                 .validate(None))
        out[code] = {n: data.spread(FIGURES[n].by, FIGURES[n].indicators) for n in FIGURES}
    return out


def _args(spread, n):
    spec = FIGURES[n]
    return ((spread.points, spread.summary, spread.overall),
            {"indicators": spec.indicators, "groups": spread.groups, "style": spec.style,
             "title": f"Figur {n}: {spec.title}", "subtitle": "År", "source": "Källa",
             "group_label": spread.grouping})


def before(module, spreads) -> list[float]:
    times = []
    for i, per in enumerate(spreads.values()):
        started = CLOCK()
        for n, spread in per.items():
            frames, options = _args(spread, n)
            marked = _marked(spread)
            drawn = module.spread_figure(*frames, **options, marked=(marked.code, marked.label,
                                                                     marked.group))
            module.render_png(drawn)
        if i:  # the first variant draws the bases
            times.append(CLOCK() - started)
    return times


def after(spreads) -> tuple[dict[str, list[float]], float]:
    """Per variant: marks + SVG, PNG, PDF (the parts of spread_figure timed one by one)."""
    parts = {"svg": [], "png": [], "pdf": [], "total": []}
    first = next(iter(spreads.values()))
    started = CLOCK()
    for n, spread in first.items():  # draws the bases (what a worker does once)
        frames, options = _args(spread, n)
        figures.spread_figure(*frames, **options, marked=_marked(spread))
    bases = CLOCK() - started
    for per in spreads.values():
        sums = dict.fromkeys(("svg", "png", "pdf"), 0.0)
        for n, spread in per.items():
            frames, options = _args(spread, n)
            base = _base_of(frames, options)
            fig, axes = figures._overlay(base)
            t0 = CLOCK()
            with figures.print_style():
                figures._draw_marks(base, fig, axes, spread.points, options["indicators"],
                                    _marked(spread))
            svg = figure_files.compose_svg(base.svg, figure_files.svg_of(fig, transparent=True))
            t1 = CLOCK()
            base.pixels.png(fig)
            t2 = CLOCK()
            for ax in axes:
                for artist in [*ax.collections, *ax.texts]:
                    artist.remove()
            fig.legends.clear()
            t3 = CLOCK()
            figure_files.figure_pdf(svg.encode(), f"Figur {n}", f"alt {spread.kommun}")
            sums["svg"] += t1 - t0
            sums["png"] += t2 - t1
            sums["pdf"] += CLOCK() - t3
        for key, value in sums.items():
            parts[key].append(value)
        parts["total"].append(sum(sums.values()))
    return parts, bases


def _base_of(frames, options):
    key = (*figures._digest(*frames), tuple(options["indicators"].items()),
           tuple(options["groups"]), options["style"], options["group_label"], True)
    return figures._BASES[key]


def once_per_worker() -> dict[str, float]:
    """Figur 5–7 (drawn once, every variant shares them) and Agenda 2030 Figur 1."""
    out = {}
    data = valfard.load_data(read_params(PARAMS_DIR / "valfard.yaml").validate(None))
    for name, make in (("figur5", lambda: valfard.debt_figure(data)),
                       ("figur6", lambda: valfard.heatmap(data, 2)),
                       ("figur7", lambda: valfard.heatmap(data, 3))):
        started = CLOCK()
        piece = make()
        figure_files.figure_pdf(piece.image.svg, piece.title, piece.alt)
        out[name] = CLOCK() - started
    for path in ("agenda2030.yaml", "agenda2030_region.yaml"):
        report = agenda2030.build_report(read_params(PARAMS_DIR / path).validate(None))
        started = CLOCK()
        piece = agenda2030.nulage_figure(report)
        figure_files.figure_pdf(piece.image.svg, piece.title, piece.alt)
        out[f"agenda:{path}"] = CLOCK() - started
    return out


def emit(folder: Path, codes: list[str]) -> None:
    for code, per in spreads_for(codes).items():
        for n, spread in per.items():
            frames, options = _args(spread, n)
            files = figures.spread_figure(*frames, **options, marked=_marked(spread)).files
            pdf = figure_files.figure_pdf(files.svg, f"Figur {n}", "alt")
            for suffix, blob in (("svg", files.svg), ("png", files.png), ("pdf", pdf)):
                (folder / f"{code}-figur{n}.{suffix}").write_bytes(blob)


def identical_reruns(codes: list[str]) -> dict:
    digests = []
    with tempfile.TemporaryDirectory() as tmp:
        for run in (1, 2):
            folder = Path(tmp) / str(run)
            folder.mkdir()
            subprocess.run([sys.executable, __file__, "--emit", str(folder), "--codes",
                            ",".join(codes)], check=True)
            digests.append({p.name: hashlib.sha256(p.read_bytes()).hexdigest()
                            for p in sorted(folder.iterdir())})
    return {"files": len(digests[0]),
            "differ": sorted(k for k in digests[0] if digests[0][k] != digests[1].get(k))}


def med(values) -> float:
    return round(statistics.median(values), 4) if values else float("nan")


def main() -> None:
    global CLOCK
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=20)
    parser.add_argument("--before", default="d76cd64", help="commit of the 'before' figures")
    parser.add_argument("--cpu", action="store_true", help="CPU time instead of wall time")
    parser.add_argument("--ppi", type=int, help="PNG resolution (default: the package's)")
    parser.add_argument("--emit", help=argparse.SUPPRESS)
    parser.add_argument("--codes", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.emit:
        emit(Path(args.emit), args.codes.split(","))
        return
    CLOCK = time.process_time if args.cpu else time.perf_counter
    if args.ppi:
        figure_files.PNG_PPI = args.ppi
    results: dict = {"load_before": os.getloadavg(), "clock": "cpu" if args.cpu else "wall",
                     "sample": args.sample, "before_commit": args.before,
                     "png_ppi": figure_files.PNG_PPI}
    spreads = spreads_for(SAMPLE[:args.sample])
    print(f"(a) before ({args.before}): spread_figure + render_png, Figur 1–4 …")
    a = before(old_figures(args.before), spreads)
    results["a_before"] = {"per_variant": med(a), "all": a}
    print(f"    {med(a):.3f} s per variant")
    print(f"(b) after: composed SVG, {figure_files.PNG_PPI} ppi PNG, figure PDF (Typst), "
          "Figur 1–4 …")
    b, bases = after(spreads)
    results["b_after"] = {**{k: med(v) for k, v in b.items()}, "bases_once": round(bases, 3)}
    print(f"    {results['b_after']}")
    print("(c) once per worker: Figur 5–7, Agenda 2030 Figur 1 …")
    results["c_once"] = {k: round(v, 3) for k, v in once_per_worker().items()}
    print(f"    {results['c_once']}")
    print("(d) byte-identical re-runs (two processes) …")
    results["d_identical"] = identical_reruns(SAMPLE[:2])
    print(f"    {results['d_identical']}")
    results["load_after"] = os.getloadavg()
    print(f"load before {results['load_before']}, after {results['load_after']}")
    out = PROJ_ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench_figures.json").write_text(json.dumps(results, indent=1, ensure_ascii=False),
                                            encoding="utf-8")


if __name__ == "__main__":
    main()
