"""How the reports' figures look in print: drawn at the size they have on the A4 page, one type
family, colours safe for colour-blind readers with enough contrast, Swedish numbers.

Every figure is laid out in millimetres at its printed width (``TEXT_WIDTH_MM``, the text
block of the PDF), so a font size in the figure *is* the printed size: every text is at least
``SIZE`` (7 pt), panel titles ``TITLE_SIZE``. The type family is DejaVu Sans from the files
matplotlib ships; the PDF (``rendering.pdf.font_paths``) uses the same files, so the report
has one family and no output depends on the fonts of the machine.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.ticker import FuncFormatter

from helpers.formatting import format_number

MM = 1 / 25.4
"""Inches per millimetre (matplotlib sizes figures in inches)."""
PT = 25.4 / 72
"""Millimetres per point."""
TEXT_WIDTH_MM = 160.0
"""The printed width of a figure: the A4 text block of ``skr.typ`` (210 mm − 2 × 25 mm)."""
FONT = "DejaVu Sans"
SIZE = 7.0
"""Every text of a figure, in pt on paper: ticks, labels, n, legends, notes, cells."""
TITLE_SIZE = 8.0
"""Panel titles (bold)."""
LINESPACING = 1.2
"""Between the lines of a wrapped label or title (as a multiple of the font size)."""

RC = {
    "font.family": "sans-serif", "font.sans-serif": [FONT], "font.size": SIZE,
    "mathtext.fontset": "dejavusans",
    "svg.fonttype": "none", "svg.hashsalt": "skr-report", "svg.id": None,
    "pdf.fonttype": 42, "axes.linewidth": 0.5, "axes.unicode_minus": True,
    "xtick.major.width": 0.5, "ytick.major.width": 0.5, "xtick.major.size": 2,
    "ytick.major.size": 0, "xtick.labelsize": SIZE, "ytick.labelsize": SIZE,
    "legend.fontsize": SIZE, "axes.labelsize": SIZE, "axes.titlesize": TITLE_SIZE,
    "figure.dpi": 72, "savefig.dpi": 72,
}
"""matplotlib settings of every figure (applied with :func:`print_style` around drawing and
saving: the global rcParams stay untouched). Text stays text in SVG (``svg.fonttype``)."""

# Okabe & Ito (2008), "Color Universal Design"; the contrast of each graphical object against
# white (WCAG 2.1, 1.4.11: at least 3:1) is checked by tests/test_figures.py with :func:`contrast`.
OKABE_ITO = {
    "orange": "#E69F00", "sky_blue": "#56B4E9", "bluish_green": "#009E73", "yellow": "#F0E442",
    "blue": "#0072B2", "vermillion": "#D55E00", "reddish_purple": "#CC79A7", "black": "#000000",
}
BLUE = OKABE_ITO["blue"]
VERMILLION = OKABE_ITO["vermillion"]
BLACK = OKABE_ITO["black"]
POINT_COLOUR = "#333333"
POINT_ALPHA = 0.6
"""Kommun dots: 3.7:1 on white, 3.4:1 on the bar fill."""
MEAN_COLOUR = BLUE
"""Group means (diamonds), bar edges: 5.2:1."""
BAR_FILL = "#D6E9F5"
"""Bars: a light fill (decorative) inside a 0.6 pt ``MEAN_COLOUR`` edge (4.2:1 on the fill)."""
KOMMUN_COLOUR = VERMILLION
"""The marked kommun: a star (shape, not colour alone) with a black edge; named in the legend."""
KOMMUN_EDGE = BLACK
REFERENCE_COLOUR = BLACK
"""The mean over all kommuner: a dashed line."""
TEXT_COLOUR = "#333333"
GRID_COLOUR = "#D9D9D9"
"""Grid lines (decorative, not information)."""
RING_COLOUR = "#595959"
"""Open rings (Riket in Agenda 2030 Figur 1): 7:1."""
LINE_STYLES = ((BLACK, "o"), (BLUE, "s"), (VERMILLION, "^"), (OKABE_ITO["bluish_green"], "D"),
               (OKABE_ITO["reddish_purple"], "v"))
"""Lines of a line figure: told apart by marker shape as well as colour."""


@contextmanager
def print_style() -> Iterator[None]:
    """matplotlib's settings for drawing and saving a figure at print size."""
    with matplotlib.rc_context(RC):
        yield


def contrast(colour: str, background: str = "#FFFFFF", alpha: float = 1.0) -> float:
    """WCAG 2.1 contrast ratio of ``colour`` (laid over ``background`` at ``alpha``)."""

    def rgb(c: str) -> np.ndarray:
        c = c.lstrip("#")
        return np.array([int(c[i:i + 2], 16) / 255 for i in (0, 2, 4)])

    def luminance(v: np.ndarray) -> float:
        v = np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)
        return float(0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2])

    fg = alpha * rgb(colour) + (1 - alpha) * rgb(background)
    high, low = sorted((luminance(fg), luminance(rgb(background))), reverse=True)
    return (high + 0.05) / (low + 0.05)


_MEASURE_DPI = 720
_MEASURE = FigureCanvasAgg(Figure(dpi=_MEASURE_DPI)).get_renderer()
"""Text is measured at 720 dpi: at 72 dpi Agg hints glyph advances to whole pixels (whole
points), which makes 7 pt digits about 10 % narrower than they print."""


@lru_cache(maxsize=4096)
def text_mm(text: str, size: float = SIZE, weight: str = "normal",
            style: str = "normal") -> float:
    """The width of one line of text in mm at ``size`` pt (the font's own metrics, via Agg)."""
    prop = FontProperties(family=FONT, size=size, weight=weight, style=style)
    width, _height, _descent = _MEASURE.get_text_width_height_descent(text, prop, ismath=False)
    return width * 72 / _MEASURE_DPI * PT


def wrap_to(text: str, width_mm: float, size: float = SIZE, weight: str = "normal",
            max_lines: int = 2, style: str = "normal") -> str:
    """``text`` wrapped into lines no wider than ``width_mm``; past ``max_lines`` the last line
    ends with "…" (the caption and the alt text carry the full text)."""
    words, lines = str(text).split(), []
    while words:
        line = words.pop(0)
        while words and text_mm(f"{line} {words[0]}", size, weight, style) <= width_mm:
            line += f" {words.pop(0)}"
        lines.append(line)
    if any(text_mm(line, size, weight, style) > width_mm for line in lines):
        lines = [_cut(line, width_mm, size, weight, style) for line in lines]
    if len(lines) > max_lines:
        last = " ".join(lines[max_lines - 1:])
        lines = [*lines[:max_lines - 1], _cut(last, width_mm, size, weight, style, force=True)]
    return "\n".join(lines)


def _cut(line: str, width_mm: float, size: float, weight: str, style: str,
         force: bool = False) -> str:
    if not force and text_mm(line, size, weight, style) <= width_mm:
        return line
    while line and text_mm(line + "…", size, weight, style) > width_mm:
        line = line[:-1].rstrip()
    return line + "…"


def fit_line(text: str, width_mm: float, size: float = SIZE, weight: str = "normal",
             style: str = "normal") -> str:
    """``text`` on one line no wider than ``width_mm`` (cut with "…" when longer)."""
    return wrap_to(text, width_mm, size, weight, max_lines=1, style=style)


def line_height_mm(lines: int = 1, size: float = SIZE, spacing: float = 1.2) -> float:
    """The height of ``lines`` lines of text in mm."""
    return lines * size * spacing * PT


def swedish_formatter(decimals: int | None = None) -> FuncFormatter:
    """Tick labels with a decimal comma, thin-space thousands and a real minus sign; whole
    numbers without decimals unless ``decimals`` is given."""

    def label(x: float, _pos: int) -> str:
        places = decimals if decimals is not None else 0 if float(x).is_integer() else 1
        return format_number(x, places)

    return FuncFormatter(label)


def literal_text(text: str) -> str:
    """Text drawn as written: a ``$`` would start matplotlib's mathtext (``$x$`` as a formula)."""
    return str(text).replace("$", r"\$")


def new_figure(width_mm: float, height_mm: float) -> Figure:
    """An empty figure of the printed size (72 dpi: one drawing unit is one point)."""
    return Figure(figsize=(width_mm * MM, height_mm * MM), dpi=72)


def axes_mm(fig: Figure, x_mm: float, y_mm: float, w_mm: float, h_mm: float):
    """Axes placed in mm from the figure's bottom left corner."""
    width, height = fig.get_figwidth() / MM, fig.get_figheight() / MM
    return fig.add_axes((x_mm / width, y_mm / height, w_mm / width, h_mm / height))


def tidy_axes(ax, grid: str = "x") -> None:
    """The look every panel shares: light grid behind, no top and right spines, 7 pt ticks."""
    if grid:
        ax.grid(axis=grid, color=GRID_COLOUR, linewidth=0.4, zorder=0)
    ax.set_axisbelow(True)
    ax.tick_params(axis="both", labelsize=SIZE, pad=1.5)
    ax.tick_params(axis="y", length=0)
    ax.tick_params(axis="x", length=2)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
