"""Every figure of every report with figures, as a layout program gets it (issue 16): its SVG
file, written as the notebook writes it, for a national and a kommun variant of Välfärd and for
the kommun and region variants of Agenda 2030 (the national Agenda 2030 report has no figure).

Each SVG is drawn at its printed width (the A4 text block of the PDF), every text is at least
7 pt on paper, in a font the package ships (the files Typst is given), and no text leaves the
canvas or overlaps another."""

from __future__ import annotations

import re

import pytest
from fixtures.svg_checks import (
    PT_PER_MM,
    font_families,
    outside,
    overlapping,
    svg_size_pt,
    svg_texts,
)

from helpers import paths
from helpers.build.parameters import read_params
from helpers.rendering.fonts import font_paths
from helpers.rendering.notebook import ReportNotebook
from helpers.reports import agenda2030, valfard

MIN_PT = 7.0


def printed_width_mm() -> float:
    """The text block of the PDF: A4 (210 mm) less the template's side margins."""
    typ = (paths.TEMPLATES_DIR / "skr_typst" / "skr.typ").read_text(encoding="utf-8")
    margin = re.search(r'paper: "a4", margin: \(x: ([\d.]+)mm', typ)
    assert margin, "skr.typ: the page's side margin"
    return 210.0 - 2 * float(margin.group(1))


def show_all(pieces, out):
    notebook = ReportNotebook(None, out)
    for piece in pieces:
        if piece is not None:
            notebook.show(piece)
    return sorted((out / "figures").glob("*.svg"))


def valfard_figures(data):
    return [*(valfard.figure(data, n) for n in (1, 2, 3, 4)), valfard.debt_figure(data),
            valfard.heatmap(data, 2), valfard.heatmap(data, 3)]


@pytest.fixture(scope="module")
def agenda_data(kolada_server, tmp_path_factory):
    """Agenda 2030 for the parameter files' kommun (Höör) and region (Skåne), prepared from the
    recorded snapshot through the replay server."""
    from helpers.datasets import fetch_for
    from helpers.sources.kolada import KoladaClient

    client = KoladaClient(base_url=kolada_server.base_url,
                          cache_dir=tmp_path_factory.mktemp("print_raw"))
    folder = tmp_path_factory.mktemp("print_data") / "processed"
    reports = {}
    for name in ("agenda2030.yaml", "agenda2030_region.yaml"):
        params = read_params(paths.PARAMS_DIR / name).validate(None)
        fetch_for(params, client, folder)
        params.prepare_data(client, folder)
        reports[name] = agenda2030.build_report(params, folder)
    return reports


@pytest.fixture(scope="module")
def svg_files(processed_data, agenda_data, tmp_path_factory):
    files = {}
    for kommun in (None, "2463"):
        params = read_params(paths.PARAMS_DIR / "valfard.yaml", kommun=kommun).validate(None)
        data = valfard.load_data(params, processed_data)
        out = tmp_path_factory.mktemp(f"valfard-{kommun or 'riket'}")
        for path in show_all(valfard_figures(data), out):
            files[f"valfard-{kommun or 'riket'}/{path.name}"] = path
    for name, report in agenda_data.items():
        out = tmp_path_factory.mktemp(name.removesuffix(".yaml"))
        for path in show_all([agenda2030.nulage_figure(report)], out):
            files[f"{name}/{path.name}"] = path
    return files


def test_every_report_figure_is_there(svg_files):
    assert sum(name.startswith("valfard-riket/") for name in svg_files) == 7
    assert sum(name.startswith("valfard-2463/") for name in svg_files) == 7
    assert sum(name.startswith("agenda2030") for name in svg_files) == 2


def test_figures_are_drawn_at_their_printed_width(svg_files):
    width_pt = printed_width_mm() * PT_PER_MM
    for name, path in svg_files.items():
        width, height = svg_size_pt(path.read_text(encoding="utf-8"))
        assert abs(width - width_pt) < 0.01, f"{name}: {width / PT_PER_MM:.1f} mm wide"
        # with its caption it fits the 247 mm high text block
        assert height / PT_PER_MM <= 200, f"{name}: {height / PT_PER_MM:.1f} mm high"


def test_every_text_is_at_least_7_pt_in_a_font_of_the_package(svg_files):
    shipped = font_families(font_paths())
    for name, path in svg_files.items():
        texts = svg_texts(path.read_text(encoding="utf-8"))
        assert len(texts) > 20, name
        small = sorted({(t.size, t.text) for t in texts if t.size < MIN_PT})
        assert small == [], f"{name}: text below {MIN_PT} pt: {small[:5]}"
        families = {t.families[0] for t in texts}
        assert families <= shipped, f"{name}: {families - shipped} not shipped"
        assert families == {"DejaVu Sans"}, name  # one type family


def test_no_text_outside_the_canvas_or_on_another(svg_files):
    for name, path in svg_files.items():
        svg = path.read_text(encoding="utf-8")
        assert outside(svg) == [], name
        assert overlapping(svg) == [], name


def test_no_label_is_cut(svg_files):
    """Group labels, goal names, heatmap rows and columns: wrapped, never shortened with "…"
    (only an overlong kommun name would be, and the report's are not)."""
    for name, path in svg_files.items():
        cut = [t.text for t in svg_texts(path.read_text(encoding="utf-8")) if "…" in t.text]
        assert cut == [], name


def test_the_image_carries_no_title_or_source(svg_files):
    for name, path in svg_files.items():
        shown = " ".join(t.text for t in svg_texts(path.read_text(encoding="utf-8")))
        assert "Figur " not in shown and "Källa" not in shown, name


def test_kommun_variant_names_its_kommun_in_the_figure(svg_files):
    for number in (1, 2, 3, 4):
        svg = svg_files[f"valfard-2463/figur{number}.svg"].read_text(encoding="utf-8")
        shown = [t.text for t in svg_texts(svg)]
        assert any(t.startswith("Åsele (") for t in shown), number  # the legend line
        assert '<g id="kommun">' in svg  # its marks, one group over the shared drawing
