"""Benchmark: what tagging the PDF's row headers (``rendering.pdf_tags``) adds to a PDF export.

Not a test. For every built report under ``reports/`` (``make report`` first), exports the
executed notebook to PDF in-process (a warm exporter, as in a batch worker) ``--repeat`` times
and times the whole ``compile_pdf`` and, inside it, ``tag_row_headers`` (pikepdf: open, edit
the structure tree, write). Prints the medians per report, checks that two exports give the
same bytes and, with ``--out DIR``, writes each PDF there (for a validator). Usage::

    .venv/bin/python bench/bench_pdf_tags.py [--repeat 5] [--out /tmp/pdfs]

The parameter table and dateline are approximations from ``manifest.json`` (the tables, which
are what the tagging reads, are the notebook's own).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import nbformat

from helpers import paths
from helpers.rendering import pdf
from helpers.rendering.export import Exporter
from helpers.rendering.provenance import ReportInfo

TIMES: list[tuple[float, float]] = []
"""(wall, CPU) seconds of each ``tag_row_headers`` call (CPU: this thread's, which is less
disturbed by the other processes on a busy machine)."""
SHAPES: dict[str, tuple[bytes, list]] = {}


def _timed(original):
    def wrapper(*args, **kwargs):
        started, cpu = time.perf_counter(), time.thread_time()
        try:
            return original(*args, **kwargs)
        finally:
            TIMES.append((time.perf_counter() - started, time.thread_time() - cpu))
            SHAPES["last"] = args
    return wrapper


def _info(folder: Path, manifest: dict) -> ReportInfo:
    parameters = manifest.get("parameters") or {}
    return ReportInfo(report=manifest["report"], variant=manifest["variant"],
                      title=manifest.get("title") or "", subtitle=manifest.get("subtitle") or "",
                      parameters=parameters,
                      provenance={"fetched_at": (manifest.get("data") or {}).get("fetched_at")},
                      parameter_rows=[(k, str(v)) for k, v in parameters.items()
                                      if k != "report"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    pdf.tag_row_headers = _timed(pdf.tag_row_headers)
    exporter = Exporter()
    print(f"load average {os.getloadavg()[0]:.1f}")
    results = {}
    for manifest_path in sorted(Path(paths.REPORTS_DIR).glob("*/manifest.json")):
        folder = manifest_path.parent
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        nb = nbformat.read(folder / f"{manifest['report']}.ipynb", as_version=4)
        info = _info(folder, manifest)
        whole, tagging, outputs = [], [], set()
        for _ in range(args.repeat + 1):  # the first run warms up
            started = time.perf_counter()
            data = exporter.to_pdf(nb, info)
            whole.append(time.perf_counter() - started)
            tagging.append(TIMES[-1])
            outputs.add(data)
        cpu = [c for _, c in tagging[1:]]
        tagging = [w for w, _ in tagging]
        results[folder.name] = {"export_s": statistics.median(whole[1:]),
                                "tag_ms": 1000 * statistics.median(tagging[1:]),
                                "tag_cpu_ms": 1000 * statistics.median(cpu),
                                "same_bytes": len(outputs) == 1, "bytes": len(data)}
        if args.out:
            args.out.mkdir(parents=True, exist_ok=True)
            (args.out / f"{folder.name}.pdf").write_bytes(data)
            (args.out / f"{folder.name}.typst.pdf").write_bytes(SHAPES["last"][0])
        r = results[folder.name]
        print(f"{folder.name:24} export {r['export_s']:.2f} s, row headers {r['tag_ms']:.1f} ms "
              f"(CPU {r['tag_cpu_ms']:.1f} ms) "
              f"({100 * r['tag_ms'] / 1000 / r['export_s']:.1f} %), {r['bytes']} bytes, "
              f"same bytes each run: {r['same_bytes']}")
    print(f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
