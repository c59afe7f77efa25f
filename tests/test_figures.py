"""helpers.rendering.figures: spread figures, Swedish axes, empty groups, marked kommun, alt."""

from __future__ import annotations

import matplotlib.colors as mcolors
import pandas as pd
import pytest

from helpers.rendering import figures
from helpers.rendering.figures import (
    SpreadStyle,
    render_png,
    spread_figure,
    swedish_formatter,
)

GROUPS = ["A1 Storstäder", "B3 Större stad", "C8 Landsbygdskommun"]
INDICATORS = {"K1": "Förskola", "K2": "Äldreomsorg"}


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
    options = {"indicators": INDICATORS, "groups": GROUPS, "title": "Figur 9: Test",
               "subtitle": "År 2022", "source": "Källa: Kolada (RKA), egna beräkningar.",
               "group_label": "Kommuntyp", "style": SpreadStyle("Index (0–100)", (0, 100))}
    return spread_figure(points, summary, overall, **(options | kwargs))


def texts(fig) -> list[str]:
    return [t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text"))]


def test_every_group_shown_with_n_and_empty_group_says_inga_varden(spread):
    result = draw(spread)
    shown = texts(result.figure)
    assert shown.count("n = 0") == 1  # K2 in C8
    assert shown.count("inga värden") == 1
    assert "n = 2" in shown and "n = 1" in shown
    first = result.figure.axes[0]
    assert [t.get_text() for t in first.get_yticklabels()] == GROUPS


def test_titles_labels_legend_and_source(spread):
    fig = draw(spread).figure
    shown = texts(fig)
    assert "Figur 9: Test" in shown and "Källa: Kolada (RKA), egna beräkningar." in shown
    assert all(ax.get_xlabel() == "Index (0–100)" for ax in fig.axes)
    assert "Medelvärde alla kommuner (ovägt)" in shown and "Gruppens medelvärde" in shown


def test_marked_kommun_star_in_its_group_or_named_missing(spread):
    result = draw(spread, marked=("0004", "Åsele", "C8 Landsbygdskommun"))
    shown = texts(result.figure)
    assert "Åsele" in shown  # legend
    assert "Åsele: värde saknas" in shown  # under the Äldreomsorg panel title
    stars = [c for ax in result.figure.axes for c in ax.collections
             if mcolors.to_hex(c.get_facecolor()[0]) == figures.KOMMUN_COLOUR.lower()]
    assert len(stars) == 1
    assert list(stars[0].get_offsets()[0]) == [80.0, 2.0]  # value 80 in row C8


def test_alt_text_has_title_description_and_source(spread):
    result = draw(spread, description="Lägst medelvärde har A1.")
    assert result.alt_text.startswith("Figur 9: Test. År 2022.")
    assert "Lägst medelvärde har A1." in result.alt_text
    assert result.alt_text.endswith("Källa: Kolada (RKA), egna beräkningar.")


def test_bars_and_zero_line_for_cost_deviations(spread):
    result = draw(spread, style=SpreadStyle("Nettokostnadsavvikelse (%)", bars=True,
                                            zero_line=True))
    ax = result.figure.axes[0]
    assert len(ax.patches) == 3  # one bar per group with values
    assert any(list(line.get_xdata()) == [0, 0] for line in ax.get_lines())


@pytest.mark.parametrize(("value", "text"), [
    (-5.0, "\u22125"), (2.5, "2,5"), (12000.0, "12\u202f000"), (0.0, "0"),
])
def test_axis_numbers_are_swedish(value, text):
    assert swedish_formatter()(value, 0) == text


def test_palette_is_okabe_ito():
    assert figures.MEAN_COLOUR == "#0072B2" and figures.KOMMUN_COLOUR == "#D55E00"
    assert set(figures.OKABE_ITO.values()) >= {figures.MEAN_COLOUR, figures.BAR_COLOUR,
                                               figures.KOMMUN_COLOUR}


def test_notebook_writes_png_and_alt_text(spread, tmp_path):
    from helpers.rendering.notebook import Figure, ReportNotebook

    result = draw(spread)
    png = ReportNotebook(None, tmp_path).figure(Figure(render_png(result), 9, "Titel",
                                                       result.alt_text))
    assert png == tmp_path / "figures" / "figur9.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    alt = (tmp_path / "figures" / "figur9.txt").read_text(encoding="utf-8")
    assert alt.strip() == result.alt_text


def test_same_input_gives_identical_png(spread):
    figures._BASES.clear()
    first = render_png(draw(spread))
    figures._BASES.clear()
    assert render_png(draw(spread)) == first


def test_kommun_marks_drawn_over_a_cached_base_without_leaking(spread):
    figures._BASES.clear()
    plain = render_png(draw(spread))
    first = render_png(draw(spread, marked=("0004", "Åsele", "C8 Landsbygdskommun")))
    second = render_png(draw(spread, marked=("0001", "Stockholm", "A1 Storstäder")))
    assert len(figures._BASES) == 1  # one full drawing for all three
    assert len({plain, first, second}) == 3
    assert render_png(draw(spread)) == plain  # marks removed again
    figures._BASES.clear()
    assert render_png(draw(spread, marked=("0004", "Åsele", "C8 Landsbygdskommun"))) == first


def test_figures_every_variant_shares_are_drawn_once_per_content():
    """png_once: the same data and texts give the same PNG without drawing again; other data
    draws anew."""
    import pandas as pd

    from helpers.rendering import figures

    drawn = []

    def draw(values):
        def _draw():
            drawn.append(values)
            return figures.line_figure({"S13": pd.Series(values, index=[2021, 2022])},
                                       title="t", subtitle="s", value_label="%", source="k",
                                       alt="a")
        return _draw

    first = pd.DataFrame({"year": [2021, 2022], "value": [37.2, 34.1]})
    key = ("test", *figures.frame_digest(first))
    a = figures.png_once(key, draw([37.2, 34.1]))
    b = figures.png_once(("test", *figures.frame_digest(first.copy())), draw([37.2, 34.1]))
    assert a == b and a.startswith(b"\x89PNG") and len(drawn) == 1
    other = first.assign(value=[37.2, 30.0])
    c = figures.png_once(("test", *figures.frame_digest(other)), draw([37.2, 30.0]))
    assert c != a and len(drawn) == 2
