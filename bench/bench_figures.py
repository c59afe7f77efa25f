"""Benchmark: the cost of print-size vector figures (issue 16), today's way against the designs
in ``bench/figure_prototype.py``.

Not a test. On the processed data of ``make report`` (run it first), for a sample of kommun
variants of "Välfärd i hela landet" Figur 1–4 (the only figures that differ between kommuner):

(a) today: ``helpers.figures.spread_figure`` + ``render_png`` (cached base pixels, the kommun's
    marks drawn over them), per variant;
(b) the print-size design redrawn whole per variant: SVG (text as text), PDF (matplotlib,
    TrueType embedded) and PNG at 300 ppi;
(c) the print-size design composed: the figure without the kommun drawn once per worker (its
    SVG kept), per variant only the kommun's marks on a transparent figure of the same size,
    merged into the base SVG as one group; the figure PDF made from that SVG by Typst (text
    stays text, the package's font); the PNG from Agg (base pixels cached, marks composited)
    or from Typst;
(d) the figures that every kommun shares (Figur 5–7) and Agenda 2030 Figur 1: one drawing each;
(e) the report PDF (Typst, PDF/UA-1) of valfard-2463 with today's PNGs, with the prototype's
    SVGs and with 300 ppi PNGs: compile time, size, fonts, text kept;
(f) byte-identical re-runs: the files of (c) written by two separate processes.

Usage::

    .venv/bin/python bench/bench_figures.py [--sample 20] [--out bench/results]

Prints medians per variant and writes ``bench/results/bench_figures.json``. Other processes
disturb the timings: the load average before and after is printed with the results.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import io
import json
import os
import pickle
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).parent))
import figure_prototype as fp

from helpers import agenda2030, figures, valfard
from helpers.paths import PROJ_ROOT

SAMPLE = ["2463", "0114", "0180", "1280", "0884", "2584", "1489", "0360", "1267", "2580",
          "0136", "1480", "0428", "1060", "2021", "1814", "0562", "1384", "2506", "0764",
          "2260", "1762", "0880", "1415", "2161", "1981", "0643", "2326", "1438", "0331"]
PPI = 300


def spec_of(number: int) -> fp.SpreadSpec:
    s = valfard.FIGURES[number]
    return fp.SpreadSpec(s.indicators, s.style.value_label, s.style.limits, s.style.bars,
                         s.style.zero_line)


CLOCK = time.perf_counter  # --cpu: time.process_time (this process, all its threads)


def timed(fn, *args, **kwargs):
    started = CLOCK()
    value = fn(*args, **kwargs)
    return value, CLOCK() - started


# --- file writers -------------------------------------------------------------------------------

_FONTS = None


def typst_fonts():
    global _FONTS
    if _FONTS is None:
        from helpers import pdf
        _FONTS = pdf.fonts()
    return _FONTS


def svg_to_pdf(svg: str, title: str, alt: str, ua: bool = True) -> bytes:
    """A one-page PDF of the SVG at its own size, text kept as text (Typst, the package's
    fonts); PDF/UA-1 with the figure's alt text when ``ua``."""
    import typst

    source = ('#set document(title: sys.inputs.title)\n#set text(lang: "sv")\n'
              '#set page(width: auto, height: auto, margin: 0pt)\n'
              '#image(bytes(sys.inputs.svg), format: "svg", alt: sys.inputs.alt)\n')
    return typst.compile(source.encode(), font_paths=typst_fonts(), ignore_system_fonts=True,
                         sys_inputs={"svg": svg, "title": title, "alt": alt},
                         pdf_standards=["ua-1"] if ua else [], timestamp=0)


def svg_to_png_typst(svg: str, ppi: int = PPI) -> bytes:
    import typst

    source = ('#set page(width: auto, height: auto, margin: 0pt, fill: white)\n'
              '#image(bytes(sys.inputs.svg), format: "svg")\n')
    return typst.compile(source.encode(), font_paths=typst_fonts(), ignore_system_fonts=True,
                         sys_inputs={"svg": svg}, format="png", ppi=ppi)


def mpl_pdf(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="pdf", metadata={"CreationDate": None, "Creator": None,
                                                "Producer": None})
    return buffer.getvalue()


def mpl_png(fig, dpi: int = PPI) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None},
                pil_kwargs={"compress_level": 1})
    return buffer.getvalue()


class AggCompose:
    """PNG of base + marks: the base's pixels at ``dpi`` rendered once, the transparent marks
    figure rendered per variant and composited over them."""

    def __init__(self, base_fig, dpi: int = PPI):
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        base_fig.set_dpi(dpi)
        canvas = FigureCanvasAgg(base_fig)
        canvas.draw()
        self.base = Image.frombuffer("RGBA", canvas.get_width_height(),
                                     canvas.buffer_rgba()).copy()
        base_fig.set_dpi(72)
        self.dpi = dpi

    def png(self, overlay_fig) -> bytes:
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        overlay_fig.set_dpi(self.dpi)
        canvas = FigureCanvasAgg(overlay_fig)
        canvas.draw()
        marks = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba())
        image = Image.alpha_composite(self.base, marks).convert("RGB")
        buffer = io.BytesIO()
        image.save(buffer, format="PNG", compress_level=1)
        return buffer.getvalue()


class AggOnto:
    """PNG of base + marks the way ``helpers.figures.render_png`` does it today: the base's
    pixels at ``dpi`` cached once; per variant the marks are added to the base figure, drawn
    over the restored pixels, encoded, and removed again."""

    def __init__(self, base, dpi: int = PPI):
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        self.base = base
        base.figure.set_dpi(dpi)
        self.canvas = FigureCanvasAgg(base.figure)
        self.canvas.draw()
        self.background = self.canvas.copy_from_bbox(base.figure.bbox)
        base.figure.set_dpi(72)
        self.dpi = dpi
        self.encode = []

    def png(self, spread, spec) -> bytes:
        fig = self.base.figure
        before = {id(a) for ax in self.base.axes for a in (*ax.collections, *ax.texts)}
        legends = len(fig.legends)
        fp.spread_overlay(self.base, spread, spec, onto_base=True)
        added = [a for ax in self.base.axes for a in (*ax.collections, *ax.texts)
                 if id(a) not in before] + fig.legends[legends:]
        fig.set_dpi(self.dpi)
        try:
            self.canvas.restore_region(self.background)
            renderer = self.canvas.get_renderer()
            for artist in added:
                artist.draw(renderer)
            started = CLOCK()
            image = Image.frombuffer("RGBA", self.canvas.get_width_height(),
                                     self.canvas.buffer_rgba()).convert("RGB")
            buffer = io.BytesIO()
            image.save(buffer, format="PNG", compress_level=1)
            self.encode.append(CLOCK() - started)
        finally:
            for artist in added[:len(added) - (len(fig.legends) - legends)]:
                artist.remove()
            del fig.legends[legends:]
            fig.set_dpi(72)
        return buffer.getvalue()


# --- (a)–(c) per-variant cost of Figur 1–4 ------------------------------------------------------


def spreads_for(data, codes):
    """Per kommun the four GroupSpreads (computed outside the timings: the same in every way)."""
    out = {}
    for code in codes:
        d = dataclasses.replace(data, kommun=code)
        out[code] = {n: d.spread(valfard.FIGURES[n].by, valfard.FIGURES[n].indicators)
                     for n in valfard.FIGURES}
    return out


def today(spreads) -> list[float]:
    times = []
    for i, (_code, per) in enumerate(spreads.items()):
        started = CLOCK()
        for n, spread in per.items():
            spec = valfard.FIGURES[n]
            drawn = figures.spread_figure(
                spread.points, spread.summary, spread.overall, indicators=spec.indicators,
                groups=spread.groups, style=spec.style, title=f"Figur {n}: {spec.title}",
                subtitle="År", source="Källa", group_label=spread.grouping,
                marked=valfard._marked(spread))
            figures.render_png(drawn)
        if i:  # the first variant draws the bases
            times.append(CLOCK() - started)
    return times


def redraw(spreads, limit: int) -> dict[str, list[float]]:
    out = {"svg": [], "pdf_mpl": [], "png300": [], "total": []}
    for _code, per in list(spreads.items())[:limit]:
        parts = dict.fromkeys(("svg", "pdf_mpl", "png300"), 0.0)
        for n, spread in per.items():
            fig, t_draw = timed(fp.spread_figure_full, spread, spec_of(n))
            _, t = timed(fp.svg_bytes, fig)
            parts["svg"] += t + t_draw
            _, t = timed(mpl_pdf, fig)
            parts["pdf_mpl"] += t
            _, t = timed(mpl_png, fig)
            parts["png300"] += t
        for key, value in parts.items():
            out[key].append(value)
        out["total"].append(sum(parts.values()))
    return out


class Composer:
    """Per worker: the bases of Figur 1–4 (figure, SVG, Agg pixels), drawn once."""

    def __init__(self):
        self.bases = {}
        self.overlays = {}

    def base(self, n, spread, with_png=True):
        key = (n, spread.kommun is not None)
        if key not in self.bases:
            base = fp.spread_base(spread, spec_of(n), marked=spread.kommun is not None)
            svg = fp.svg_bytes(base.figure)
            agg = (AggCompose(base.figure), AggOnto(base)) if with_png else None
            self.bases[key] = (base, svg, agg)
            self.overlays[key] = fp.OverlayFigure(base)
        return self.bases[key]

    def variant(self, n, spread, *, pdf=True, png="agg"):
        base, base_svg, agg = self.base(n, spread)
        t = {}
        started = CLOCK()
        if png == "agg":  # the composited PNG needs the marks as a figure of their own
            overlay = fp.spread_overlay(base, spread, spec_of(n))
            svg = fp.compose_svg(base_svg, fp.svg_bytes(overlay, transparent=True))
        else:
            key = (n, spread.kommun is not None)
            svg = fp.compose_svg(base_svg, self.overlays[key].svg(spread, spec_of(n)))
        t["svg"] = CLOCK() - started
        files = {"svg": svg.encode()}
        if pdf:
            started = CLOCK()
            files["pdf"] = svg_to_pdf(svg, f"Figur {n}", "alt")
            t["pdf"] = CLOCK() - started
        started = CLOCK()
        if png == "agg":
            files["png"] = agg[0].png(overlay)
        elif png == "agg_onto":
            files["png"] = agg[1].png(spread, spec_of(n))
        elif png == "typst":
            files["png"] = svg_to_png_typst(svg)
        t["png"] = CLOCK() - started
        return files, t


def compose(spreads, png: str) -> tuple[dict[str, list[float]], float]:
    composer = Composer()
    first = next(iter(spreads.values()))
    started = CLOCK()
    for n, spread in first.items():
        composer.base(n, spread)
    base_seconds = CLOCK() - started
    out = {"svg": [], "pdf": [], "png": [], "total": []}
    for _code, per in spreads.items():
        sums = dict.fromkeys(("svg", "pdf", "png"), 0.0)
        for n, spread in per.items():
            _files, t = composer.variant(n, spread, png=png)
            for key, value in t.items():
                sums[key] += value
        for key, value in sums.items():
            out[key].append(value)
        out["total"].append(sum(sums.values()))
    return out, base_seconds


# --- (d) shared figures and Agenda 2030 ---------------------------------------------------------


def shared_figures(data) -> dict[str, dict[str, float]]:
    out = {}
    skuld = data.skuld
    series = {valfard.sector_label(c): skuld[skuld["sector"] == c].set_index("year")["value"]
              for c in data.skuld_sektorer}
    makers = {"figur5": lambda: fp.line_print(series, "Procent av BNP")}
    for number in (2, 3):
        _h, rows, cols = valfard.TABLES[number]
        long = valfard.correlation_table(data.wide, rows, cols, year=data.year)
        corr = long[long["typ"] == "korrelation"]
        v = corr.pivot(index="rad", columns="kolumn", values="varde").reindex(
            index=list(dict.fromkeys(corr["rad"])), columns=list(dict.fromkeys(corr["kolumn"])))
        c = corr.pivot(index="rad", columns="kolumn", values="n").reindex(
            index=v.index, columns=v.columns)
        makers[f"figur{valfard.HEATMAP_FIGURES[number]}"] = (
            lambda v=v, c=c: fp.heatmap_print(v.where(c >= 3), c))
    from helpers.params import load_params

    for path in ("agenda2030.yaml", "agenda2030_region.yaml"):
        rep = agenda2030.build_report(load_params(PROJ_ROOT / "params" / path))
        makers[f"agenda:{path}"] = (lambda rep=rep: fp.nulage_print(
            rep.nulage, agenda2030.GOAL_NAMES, rep.unit_label, rep.comparison_label))
    for name, make in makers.items():
        fig, t_draw = timed(make)
        svg, t_svg = timed(fp.svg_bytes, fig)
        pdf, t_pdf = timed(svg_to_pdf, svg, name, "alt")
        png, t_png = timed(mpl_png, fig)
        check = fp.check_svg(svg)
        n_texts, outside = len(check.sizes), fp.svg_outside(svg)
        out[name] = {"draw": t_draw, "svg": t_svg, "pdf_typst": t_pdf, "png300": t_png,
                     "size_mm": [round(check.width_pt * 25.4 / 72, 1),
                                 round(check.height_pt * 25.4 / 72, 1)],
                     "min_pt": min(check.sizes), "fonts": sorted(check.families),
                     "texts": n_texts, "outside": outside, "overlaps": fp.svg_overlaps(svg)[:5],
                     "bytes": {"svg": len(svg), "pdf": len(pdf), "png300": len(png)}}
        SHARED_SVGS[name] = svg
    return out


SHARED_SVGS: dict[str, str] = {}


# --- (e) the report PDF with SVG figures --------------------------------------------------------


def report_pdf(spreads_2463, out: Path) -> dict:
    import nbformat

    from helpers.export import Exporter, ReportInfo
    from helpers.pdf import compile_pdf

    nb_path = PROJ_ROOT / "reports" / "valfard-2463" / "valfard_i_hela_landet.ipynb"
    nb = nbformat.read(nb_path, as_version=4)
    exporter = Exporter()
    info = ReportInfo(report="valfard_i_hela_landet", variant="valfard-2463",
                      title="Välfärd i hela landet", provenance={"fetched_at": "2025-01-01"})
    source, resources = exporter.to_typst(nb, info)
    state = resources["skr_typst"]
    figures_items = [it for it in state["items"] if it["call"] == "skr-figure"]
    composer = Composer()
    svgs = {}
    for n, spread in spreads_2463.items():
        files, _ = composer.variant(n, spread, pdf=False, png="none")
        svgs[n] = files["svg"].decode()
    svgs[5], svgs[6], svgs[7] = (SHARED_SVGS["figur5"], SHARED_SVGS["figur6"],
                                 SHARED_SVGS["figur7"])
    results = {}
    original = {k: v for k, v in state["files"].items()}
    for mode in ("png_today", "svg", "png300"):
        state["files"] = dict(original)
        for item in figures_items:
            n = item["number"]
            if mode == "png_today":
                continue
            old = item["file"]
            state["files"].pop(old, None)
            if mode == "svg":
                name = old.rsplit(".", 1)[0] + ".svg"
                state["files"][name] = svgs[n].encode()
            else:
                name = old.rsplit(".", 1)[0] + ".png"
                state["files"][name] = svg_to_png_typst(svgs[n])
            item["file"] = name
            item["aspect"] = 0.5  # placed 100 % wide: the design width is the text width
        # Typst memoizes across compiles in one process: each compile runs in a fresh process
        # (after a warm-up compile of another document, so font loading is not counted)
        job = out / f"compile-{mode}.pickle"
        job.write_bytes(pickle.dumps((source, resources, info.source_date_epoch,
                                      info.pdf_meta())))
        times, cpu = [], []
        for _ in range(3):
            done = subprocess.run([sys.executable, __file__, "--compile-one", str(job)],
                                  check=True, capture_output=True, text=True)
            measured = json.loads(done.stdout.strip().splitlines()[-1])
            times.append(measured["wall"])
            cpu.append(measured["cpu"])
        pdf = compile_pdf(source, resources, timestamp=info.source_date_epoch,
                          meta=info.pdf_meta())
        job.unlink()
        target = out / f"valfard-2463-{mode}.pdf"
        target.write_bytes(pdf)
        fonts = subprocess.run(["pdffonts", str(target)], capture_output=True, text=True).stdout
        text = subprocess.run(["pdftotext", str(target), "-"], capture_output=True,
                              text=True).stdout
        results[mode] = {"compile_wall_s": times, "compile_cpu_s": cpu,
                         "median_wall_s": statistics.median(times),
                         "median_cpu_s": statistics.median(cpu),
                         "bytes": len(pdf),
                         "fonts": sorted({line.split()[0].split("+")[-1]
                                          for line in fonts.splitlines()[2:] if line.strip()}),
                         "figure_text_found": "Gruppens medelvärde" in text,
                         "pages": subprocess.run(["pdfinfo", str(target)], capture_output=True,
                                                 text=True).stdout.split("Pages:")[1].split()[0]}
    return results


# --- (f) byte-identical re-runs -----------------------------------------------------------------


def emit(folder: Path, codes: list[str]) -> None:
    data = valfard.load_data()
    spreads = spreads_for(data, codes)
    composer = Composer()
    for code, per in spreads.items():
        for n, spread in per.items():
            files, _ = composer.variant(n, spread, png="agg_onto")
            for suffix, blob in files.items():
                (folder / f"{code}-figur{n}.{suffix}").write_bytes(blob)
    for n, spread in spreads[codes[0]].items():
        fig = fp.spread_figure_full(spread, spec_of(n))
        (folder / f"{codes[0]}-figur{n}-mpl.pdf").write_bytes(mpl_pdf(fig))
    shared_figures(data)
    for name, svg in SHARED_SVGS.items():
        safe = name.replace(":", "-")
        (folder / f"{safe}.svg").write_text(svg, encoding="utf-8")
        (folder / f"{safe}.pdf").write_bytes(svg_to_pdf(svg, name, "alt"))


def compile_one(job: Path) -> None:
    import typst

    from helpers.pdf import compile_pdf

    source, resources, epoch, meta = pickle.loads(job.read_bytes())
    typst.compile(b"#set text(font: \"DejaVu Sans\")\nwarm", font_paths=typst_fonts(),
                  ignore_system_fonts=True)
    wall, cpu = time.perf_counter(), time.process_time()
    compile_pdf(source, resources, timestamp=epoch, meta=meta)
    print(json.dumps({"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu}))


def identical_reruns(codes: list[str]) -> dict:
    digests = []
    with tempfile.TemporaryDirectory() as tmp:
        for run in (1, 2):
            folder = Path(tmp) / str(run)
            folder.mkdir()
            subprocess.run([sys.executable, __file__, "--emit", str(folder),
                            "--codes", ",".join(codes)], check=True)
            digests.append({p.name: hashlib.sha256(p.read_bytes()).hexdigest()
                            for p in sorted(folder.iterdir())})
    differ = sorted(k for k in digests[0] if digests[0][k] != digests[1].get(k))
    return {"files": len(digests[0]), "differ": differ}


# --- main ---------------------------------------------------------------------------------------


def med(values) -> float:
    return round(statistics.median(values), 4) if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=20)
    parser.add_argument("--out", default=str(PROJ_ROOT / "bench" / "results"))
    parser.add_argument("--steps", default="abcdef", help="which of (a)–(f) to run")
    parser.add_argument("--cpu", action="store_true",
                        help="CPU time of this process instead of wall time (less disturbed "
                             "by other processes on the machine)")
    parser.add_argument("--emit", help=argparse.SUPPRESS)
    parser.add_argument("--codes", help=argparse.SUPPRESS)
    parser.add_argument("--compile-one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.emit:
        emit(Path(args.emit), args.codes.split(","))
        return
    if args.compile_one:
        compile_one(Path(args.compile_one))
        return
    global CLOCK
    if args.cpu:
        CLOCK = time.process_time
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results: dict = {"load_before": os.getloadavg(), "sample": args.sample,
                     "clock": "cpu" if args.cpu else "wall"}
    data = valfard.load_data()
    codes = SAMPLE[:args.sample]
    spreads = spreads_for(data, codes)

    if "a" in args.steps:
        print("(a) today: spread_figure + render_png (Figur 1–4) …")
        t = today(spreads)
        results["a_today"] = {"per_variant": med(t), "all": t}
        print(f"    {med(t):.3f} s per variant")

    if "b" in args.steps:
        print("(b) print-size design redrawn per variant: SVG, PDF (matplotlib), PNG 300 ppi …")
        r = redraw(spreads, limit=min(5, len(codes)))
        results["b_redraw"] = {k: med(v) for k, v in r.items()}
        print(f"    {results['b_redraw']}")

    for png in ("agg_onto", "agg", "typst") if "c" in args.steps else ():
        print(f"(c) composed: base once, marks per variant; PDF by Typst; PNG by {png} …")
        c, base_seconds = compose(spreads, png)
        results[f"c_compose_{png}"] = {**{k: med(v) for k, v in c.items()},
                                       "bases_once_s": round(base_seconds, 3)}
        print(f"    {results[f'c_compose_{png}']}")

    if "d" in args.steps or "e" in args.steps:
        print("(d) shared figures (Figur 5–7) and Agenda 2030 Figur 1, once each …")
        results["d_shared"] = shared_figures(data)
        for name, value in results["d_shared"].items():
            print(f"    {name}: {json.dumps(value, ensure_ascii=False)}")

    if "e" in args.steps:
        print("(e) the report PDF of valfard-2463: today's PNGs, SVGs, 300 ppi PNGs …")
        results["e_report_pdf"] = report_pdf(spreads_for(data, ["2463"])["2463"], out)
        for mode, value in results["e_report_pdf"].items():
            print(f"    {mode}: {json.dumps(value, ensure_ascii=False)}")

    if "f" in args.steps:
        print("(f) byte-identical re-runs (two processes) …")
        results["f_identical"] = identical_reruns(codes[:2])
        print(f"    {results['f_identical']}")

    composer = Composer()
    sizes = {}
    for n, spread in spreads[codes[0]].items():
        files, _ = composer.variant(n, spread, png="agg_onto")
        import matplotlib
        with matplotlib.rc_context({"svg.fonttype": "path"}):
            paths_svg = fp.svg_bytes(fp.spread_figure_full(spread, spec_of(n)))
        png2x = mpl_png(fp.spread_figure_full(spread, spec_of(n)),
                        dpi=round(2 * 960 / (fp.TEXT_WIDTH_MM / 25.4)))
        sizes[f"figur{n}"] = {k: len(v) for k, v in files.items()} | {
            "svg_text_as_paths": len(paths_svg), "png_1920px": len(png2x)}
    results["file_bytes"] = sizes
    print(f"    file sizes: {json.dumps(sizes)}")
    results["load_after"] = os.getloadavg()
    print(f"load before {results['load_before']}, after {results['load_after']}")
    (out / "bench_figures.json").write_text(json.dumps(results, indent=1, ensure_ascii=False,
                                                       default=str), encoding="utf-8")
    _ = np


if __name__ == "__main__":
    main()
