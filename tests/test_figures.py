"""helpers.rendering.figures and its files: spread figures at print size, composed per kommun,
Swedish axes, empty groups, the marked kommun told apart by shape and text, contrast, files."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from fixtures.svg_checks import outside, svg_size_pt, svg_texts

from helpers.rendering import figure_files, figure_style, figures
from helpers.rendering.figure_files import FigureFiles, files_once, frame_digest
from helpers.rendering.figure_style import contrast, swedish_formatter
from helpers.rendering.figures import Marked, SpreadStyle, spread_figure
from helpers.rendering.table_figures import correlation_heatmap, line_figure

GROUPS = ["A1 Storstäder", "B3 Större stad", "C8 Landsbygdskommun"]
INDICATORS = {"K1": "Förskola", "K2": "Äldreomsorg"}
ASELE = Marked("0004", "Åsele", "C8 Landsbygdskommun")


@pytest.fixture
def spread():
    """Two indicators over three groups; K2 has no value in C8 (an empty group)."""
    points = pd.DataFrame({
        "kommun": ["0001", "0002", "0003", "0004", "0001", "0003"],
        "grupp": ["A1 Storstäder", "A1 Storstäder", "B3 Större stad", "C8 Landsbygdskommun",
                  "A1 Storstäder", "B3 Större stad"],
        "kpi": ["K1", "K1", "K1", "K1", "K2", "K2"],
        "varde": [20.0, 40.0, 55.5, 80.0, 35.0, 60.0],
    })
    summary = (points.groupby(["kpi", "grupp"])["varde"].agg(n="count", medelvarde="mean")
               .reindex(pd.MultiIndex.from_product([list(INDICATORS), GROUPS],
                                                   names=["kpi", "grupp"]))
               .reset_index())
    summary["n"] = summary["n"].fillna(0).astype(int)
    overall = points.groupby("kpi")["varde"].mean().rename("medelvarde").reset_index()
    return points, summary, overall


def draw(spread, **kwargs):
    points, summary, overall = spread
    options = {"indicators": INDICATORS, "groups": GROUPS,
               "group_label": "Kommuntyp", "style": SpreadStyle("Index (0–100)", (0, 100))}
    return spread_figure(points, summary, overall, **(options | kwargs))


def shown(result) -> list[str]:
    return [t.text for t in svg_texts(result.files.svg.decode())]


def kommun_group(svg: bytes) -> str:
    text = svg.decode()
    return text[text.index('<g id="kommun">'):]


def test_every_group_shown_with_n_and_empty_group_says_inga_varden(spread):
    texts = shown(draw(spread))
    assert texts.count("n = 0") == 1  # K2 in C8
    assert texts.count("inga värden") == 1
    assert "n = 2" in texts and "n = 1" in texts
    assert [g for g in GROUPS if g in texts] == GROUPS  # group labels in the first column


def test_labels_and_legend_but_no_title_or_source_in_the_image(spread):
    texts = shown(draw(spread))
    assert "Index (0–100)" in texts and "Kommuntyp" in texts
    assert "Medelvärde alla kommuner (ovägt)" in texts and "Gruppens medelvärde" in texts
    assert "Förskola" in texts and "Äldreomsorg" in texts  # panel titles
    assert not any("Figur 9" in t or "Källa" in t or "År 2022" in t for t in texts)


def test_drawn_at_the_printed_width_with_7_pt_text(spread):
    result = draw(spread)
    width, height = svg_size_pt(result.files.svg.decode())
    assert result.files.width_mm == 160.0 and abs(width - 160 * 72 / 25.4) < 0.01
    assert abs(result.files.height_mm - height * 25.4 / 72) < 0.01
    assert min(t.size for t in svg_texts(result.files.svg.decode())) >= 7


def test_marked_kommun_star_in_its_group_row_or_named_missing(spread):
    result = draw(spread, marked=ASELE)
    marks = kommun_group(result.files.svg)
    texts = [t.text for t in svg_texts(marks)]
    assert "Åsele (C8 Landsbygdskommun)" in texts  # its own legend line
    assert "Åsele: värde saknas" in texts  # under the Äldreomsorg panel title, black italic
    assert re.search(r"font-style: italic[^>]*>Åsele: värde saknas", marks)
    # one star (K1, value 80 in row C8), drawn in vermillion with a black edge, plus the
    # legend's: the star is at the C8 label's height and at 80 % between the 0 and 100 ticks
    stars = re.findall(r'<use xlink:href="#(k-[^"]+)" x="([\d.]+)" y="([\d.]+)" style="fill: '
                       r'#d55e00; stroke: #000000', marks)
    positions = sorted((float(y), float(x)) for _id, x, y in stars)
    assert len(positions) == 2  # the legend's star is the lowest
    in_panel = [(x, y) for y, x in positions[:-1]]
    base = svg_texts(result.files.svg.decode()[:result.files.svg.decode().index(
        '<g id="kommun">')])
    row = next(t for t in base if t.text == "C8 Landsbygdskommun")
    zero = next(t for t in base if t.text == "0")
    hundred = next(t for t in base if t.text == "100")
    x, y = in_panel[0]
    assert row.box[1] - 1 <= y <= row.box[3] + 1
    mid = [(t.box[0] + t.box[2]) / 2 for t in (zero, hundred)]
    assert abs(x - (mid[0] + 0.8 * (mid[1] - mid[0]))) < 0.5


def test_a_long_kommun_name_is_shortened_but_the_message_and_group_stay(spread):
    name = "Upplands Väsby och en mycket lång kommun med <b>$x$</b> & mer text " * 3
    result = draw(spread, marked=Marked("0004", name, "C8 Landsbygdskommun"))
    marks = kommun_group(result.files.svg)
    texts = [t.text for t in svg_texts(marks)]
    assert any(t.endswith("…: värde saknas") for t in texts)
    assert any(t.endswith("… (C8 Landsbygdskommun)") for t in texts)
    assert "<b>" not in marks and "&lt;b&gt;" in marks  # markup shown as text
    assert outside(result.files.svg.decode()) == []
    assert " ".join(name.split()) in result.alt_text  # the full name stays in the alt text


def test_alt_text_says_what_the_figure_is_and_its_main_message(spread):
    """Not the caption (title, year, source): what kind of figure, over which groups, and the
    one message the caller computed; the marked kommun named."""
    result = draw(spread, description="lägst medelvärde har A1.")
    assert result.alt_text == ("Punktdiagram per kommuntyp och mått med gruppmedelvärden; "
                               "lägst medelvärde har A1.")
    marked = draw(spread, marked=ASELE)
    assert marked.alt_text.endswith("Åsele är markerad med stjärna.")
    bars = draw(spread, style=SpreadStyle("Avvikelse (%)", bars=True, zero_line=True))
    assert bars.alt_text.startswith("Staplar och punkter per kommuntyp och mått")


def test_bars_and_zero_line_for_cost_deviations(spread):
    svg = draw(spread, style=SpreadStyle("Nettokostnadsavvikelse (%)", bars=True,
                                         zero_line=True)).files.svg.decode()
    # one bar per group with values (3 + 2) and the legend's patch, light fill, blue edge
    assert svg.count("fill: #d6e9f5; stroke: #0072b2") == 6
    assert svg.count("stroke: #333333; stroke-width: 0.5") == 2  # the zero lines


@pytest.mark.parametrize(("value", "text"), [
    (-5.0, "\u22125"), (2.5, "2,5"), (12000.0, "12\u202f000"), (0.0, "0"),
])
def test_axis_numbers_are_swedish(value, text):
    assert swedish_formatter()(value, 0) == text


def test_graphical_objects_have_at_least_3_to_1_contrast():
    """WCAG 2.1, 1.4.11: every colour that carries information, against white (and the dots
    against the bar fill they are drawn over)."""
    s = figure_style
    for colour in (s.MEAN_COLOUR, s.KOMMUN_COLOUR, s.KOMMUN_EDGE, s.REFERENCE_COLOUR,
                   s.RING_COLOUR, s.TEXT_COLOUR, *(c for c, _m in s.LINE_STYLES)):
        assert contrast(colour) >= 3, colour
    assert contrast(s.POINT_COLOUR, alpha=s.POINT_ALPHA) >= 3
    assert contrast(s.POINT_COLOUR, s.BAR_FILL, alpha=s.POINT_ALPHA) >= 3
    assert contrast(s.MEAN_COLOUR, s.BAR_FILL) >= 3  # the bar's edge against its fill
    assert len({m for _c, m in s.LINE_STYLES}) == len(s.LINE_STYLES)  # shapes differ too
    assert s.OKABE_ITO["blue"] == s.MEAN_COLOUR and s.OKABE_ITO["vermillion"] == s.KOMMUN_COLOUR


def test_same_input_gives_identical_files(spread):
    figures._BASES.clear()
    first = draw(spread, marked=ASELE).files
    figures._BASES.clear()
    again = draw(spread, marked=ASELE).files
    assert (again.svg, again.png) == (first.svg, first.png)
    pdf = figure_files.figure_pdf(first.svg, "Figur 9: Test", "Alt.")
    figure_files._PDFS.clear()
    assert figure_files.figure_pdf(again.svg, "Figur 9: Test", "Alt.") == pdf
    assert b"/CreationDate" not in pdf and b"/ModDate" not in pdf


def test_kommun_marks_composed_over_one_base_without_leaking(spread):
    figures._BASES.clear()
    plain = draw(spread).files
    first = draw(spread, marked=ASELE).files
    second = draw(spread, marked=Marked("0001", "Stockholm", "A1 Storstäder")).files
    assert len(figures._BASES) == 2  # one base without and one with room for the marks
    third = draw(spread, marked=ASELE).files
    assert (third.svg, third.png) == (first.svg, first.png)  # marks removed again
    assert "Stockholm" not in first.svg.decode() and "Åsele" not in second.svg.decode()
    assert draw(spread).files == plain
    assert len(figures._BASES) == 2
    ids = re.findall(r'\bid="([^"]+)"', first.svg.decode())
    assert len(ids) == len(set(ids))  # the overlay's ids are prefixed, none clash
    assert first.png[:8] == b"\x89PNG\r\n\x1a\n" and first.png != second.png


def test_png_has_its_resolution_at_the_printed_size(spread):
    from io import BytesIO

    from PIL import Image

    files = draw(spread, marked=ASELE).files
    with Image.open(BytesIO(files.png)) as image:
        assert abs(image.size[0] - 160 / 25.4 * figure_files.PNG_PPI) <= 1
        assert round(image.info["dpi"][0]) == figure_files.PNG_PPI >= 200
        assert not {"Software", "Creation Time"} & set(image.info)


def test_figure_pdf_is_tagged_vector_with_the_alt_text(spread, tmp_path):
    import pikepdf

    files = draw(spread, marked=ASELE).files
    pdf = figure_files.figure_pdf(files.svg, "Figur 9: Test", "Punktdiagram över test.")
    (tmp_path / "f.pdf").write_bytes(pdf)
    with pikepdf.open(tmp_path / "f.pdf") as document:
        page = document.pages[0]
        width = float(page.mediabox[2]) - float(page.mediabox[0])
        assert abs(width - 160 * 72 / 25.4) < 0.1
        assert document.Root.MarkInfo.Marked and str(document.Root.Lang) == "sv"
        assert str(document.open_metadata().get("dc:title")) == "Figur 9: Test"
        assert b"Punktdiagram" in pdf or "Punktdiagram" in str(document.Root.StructTreeRoot)
    import subprocess

    images = subprocess.run(["pdfimages", "-list", str(tmp_path / "f.pdf")],
                            capture_output=True, text=True).stdout
    assert len(images.splitlines()) == 2  # drawn, not a bitmap: the header lines only
    text = subprocess.run(["pdftotext", str(tmp_path / "f.pdf"), "-"], capture_output=True,
                          text=True).stdout
    assert "Åsele: värde saknas" in text and "Gruppens medelvärde" in text


def test_notebook_writes_svg_pdf_png_and_alt_text(spread, tmp_path):
    from helpers.rendering.notebook import Figure, ReportNotebook

    result = draw(spread, marked=ASELE)
    written = ReportNotebook(None, tmp_path).figure(Figure(result.files, 9, "Titel",
                                                           result.alt_text))
    folder = tmp_path / "figures"
    assert written == folder / "figur9.svg" and written.read_bytes() == result.files.svg
    assert (folder / "figur9.png").read_bytes() == result.files.png
    assert (folder / "figur9.pdf").read_bytes()[:5] == b"%PDF-"
    assert (folder / "figur9.txt").read_text(encoding="utf-8").strip() == result.alt_text


def test_figures_every_variant_shares_are_drawn_once_per_content():
    """files_once: the same data give the same files without drawing again; other data draws
    anew."""
    drawn = []

    def draw_line(values):
        def _draw():
            drawn.append(values)
            return line_figure({"S13": pd.Series(values, index=[2021, 2022])}, value_label="%")
        return _draw

    first = pd.DataFrame({"year": [2021, 2022], "value": [37.2, 34.1]})
    a = files_once(("test", *frame_digest(first)), draw_line([37.2, 34.1]))
    b = files_once(("test", *frame_digest(first.copy())), draw_line([37.2, 34.1]))
    assert isinstance(a, FigureFiles) and a == b and len(drawn) == 1
    other = first.assign(value=[37.2, 30.0])
    c = files_once(("test", *frame_digest(other)), draw_line([37.2, 30.0]))
    assert c != a and len(drawn) == 2


def test_line_figure_and_heatmap_at_print_size():
    line = figure_files.files_of(line_figure(
        {"Offentliga sektorn (S13)": pd.Series([37.2, None, 34.1], index=[2020, 2021, 2022]),
         "Staten (S1311)": pd.Series([20.0], index=[2022])}, value_label="Procent av BNP"))
    texts = [t.text for t in svg_texts(line.svg.decode())]
    assert "Offentliga sektorn (S13)" in texts and "Staten (S1311)" in texts
    assert line.width_mm == 160.0 and outside(line.svg.decode()) == []
    values = pd.DataFrame({"Kvalitet": [0.5, None]}, index=["Invånare", "Tätortsgrad"])
    counts = pd.DataFrame({"Kvalitet": [280, 0]}, index=values.index)
    heat = figure_files.files_of(correlation_heatmap(values, counts))
    texts = [t.text for t in svg_texts(heat.svg.decode())]
    assert "0,50" in texts and "n = 280" in texts and "saknas i data" in texts
    assert "Pearsons r" in texts and min(t.size for t in svg_texts(heat.svg.decode())) >= 7


def test_the_print_check_finds_small_and_cut_text():
    """The checks of tests/test_figure_print.py can fail: a 5 pt text and one past the edge."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(2, 1), dpi=72)
    fig.text(0.1, 0.5, "liten", fontsize=5)
    fig.text(0.9, 0.5, "utanför kanten", fontsize=7)
    svg = figure_files.svg_of(fig)
    assert sorted(t.size for t in svg_texts(svg)) == [5.0, 7.0]
    assert outside(svg) == ["utanför kanten"]
