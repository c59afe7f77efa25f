"""Prototype of the issue-16 figure design (print size, one type family, composed kommun mark).

Not part of the package: phase 1 of issue 16 measures this design before it replaces
``helpers.figures`` (``helpers.rendering.figures`` after the restructure). Everything is laid
out in millimetres at the printed size, so a font size in the figure is the printed size.

- ``spread_base(spread, spec, marked)``: Figur 1–4 without the kommun mark (drawn once per
  worker); ``spread_overlay(base, spread)``: the kommun's marks on a transparent figure of the
  same size; ``compose_svg(base_svg, overlay_svg)``: the two merged as SVG groups.
- ``line_print``, ``heatmap_print``, ``nulage_print``: Figur 5, 6–7 and Agenda 2030 Figur 1.
"""

from __future__ import annotations

import io
import re
import textwrap
from dataclasses import dataclass, field

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator

from helpers.formatting import format_number

MM = 1 / 25.4  # inch
PT = 25.4 / 72  # mm per point
TEXT_WIDTH_MM = 160.0  # A4 text block of skr.typ: 210 mm − 2 × 25 mm
FONT = "DejaVu Sans"
SIZE = 7.0  # every text of a figure: at least 7 pt on paper
TITLE_SIZE = 8.0
RC = {
    "font.family": "sans-serif", "font.sans-serif": [FONT], "font.size": SIZE,
    "svg.fonttype": "none", "svg.hashsalt": "skr-report",
    "pdf.fonttype": 42, "axes.linewidth": 0.5, "xtick.major.width": 0.5,
    "ytick.major.width": 0.5, "xtick.major.size": 2, "ytick.major.size": 0,
    "xtick.labelsize": SIZE, "ytick.labelsize": SIZE, "axes.unicode_minus": True,
}
matplotlib.rcParams.update(RC)

# Okabe & Ito; each graphical object has >= 3:1 contrast with white (WCAG 2.1, 1.4.11)
BLUE, VERMILLION, BLACK = "#0072B2", "#D55E00", "#000000"
POINT = "#333333"  # alpha 0.6: 3.7:1 on white, 3.4:1 on the bar fill
POINT_ALPHA = 0.6
BAR_FILL, BAR_EDGE = "#D6E9F5", BLUE  # light fill; the 0.6 pt edge: 5.2:1 (4.2:1 on the fill)
TEXT_GREY = "#333333"
GRID = "#D9D9D9"


def contrast(colour: str, background: str = "#FFFFFF", alpha: float = 1.0) -> float:
    """WCAG 2.1 contrast ratio of ``colour`` (over white at ``alpha``) against ``background``."""
    def rgb(c):
        c = c.lstrip("#")
        return np.array([int(c[i:i + 2], 16) / 255 for i in (0, 2, 4)])

    def lum(v):
        v = np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)
        return float(0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2])

    fg = alpha * rgb(colour) + (1 - alpha) * rgb(background)
    a, b = sorted((lum(fg), lum(rgb(background))), reverse=True)
    return (a + 0.05) / (b + 0.05)


_MEASURE = FigureCanvasAgg(Figure(dpi=72)).get_renderer()


def text_mm(text: str, size: float = SIZE, weight: str = "normal") -> float:
    """Width of one line of text in mm (the font's own metrics, via Agg)."""
    w, _h, _d = _MEASURE.get_text_width_height_descent(
        text, FontProperties(family=FONT, size=size, weight=weight), ismath=False)
    return w * PT


def wrap_to(text: str, width_mm: float, size: float = SIZE, weight: str = "normal",
            max_lines: int = 2) -> str:
    """Wrap ``text`` into lines no wider than ``width_mm``; beyond ``max_lines`` the last line
    ends with an ellipsis (the caption carries the full text)."""
    words, lines = str(text).split(), []
    while words:
        line = words.pop(0)
        while words and text_mm(f"{line} {words[0]}", size, weight) <= width_mm:
            line += f" {words.pop(0)}"
        lines.append(line)
    if len(lines) > max_lines:
        last = " ".join(lines[max_lines - 1:])
        while last and text_mm(last + "…", size, weight) > width_mm:
            last = last[:-1].rstrip()
        lines = [*lines[:max_lines - 1], last + "…"]
    return "\n".join(lines)


def fit_line(text: str, width_mm: float, size: float = SIZE, weight: str = "normal") -> str:
    return wrap_to(text, width_mm, size, weight, max_lines=1)


def swedish(decimals_auto: bool = True) -> FuncFormatter:
    return FuncFormatter(lambda x, _p: format_number(x, 0 if float(x).is_integer() else 1))


def literal(text: str) -> str:
    return str(text).replace("$", r"\$")


# --- Figur 1–4: spread per group, one panel per indicator --------------------------------------


@dataclass
class SpreadBase:
    figure: Figure
    axes: list
    positions: dict[str, int]
    marked: bool
    legend_y: float = 0.0  # figure fraction of the kommun legend line
    note_y: float = 0.0  # axes fraction of the "värde saknas" line under each panel title
    panel_width_mm: float = 0.0
    background: object = None


@dataclass(frozen=True)
class SpreadSpec:
    indicators: dict[str, str]
    value_label: str
    limits: tuple[float, float] | None = None
    bars: bool = False
    zero_line: bool = False


def spread_base(spread, spec: SpreadSpec, marked: bool, width_mm: float = TEXT_WIDTH_MM
                ) -> SpreadBase:
    groups = spread.groups
    n_panels = len(spec.indicators)
    ncols = 3 if n_panels > 4 else 2
    nrows = -(-n_panels // ncols)
    side_mm, gap_mm, right_mm = 3.5, 5.0, 0.5
    label_width = 30.0 if ncols == 3 else 40.0
    labels = [wrap_to(g, label_width) for g in groups]
    label_mm = max(text_mm(line) for lab in labels for line in lab.split("\n")) + 1.5
    lines = max(lab.count("\n") + 1 for lab in labels)
    pitch_mm = max(lines * SIZE * 1.05 + 3.0, 12.0) * PT  # rows of (wrapped) group labels
    n_mm = text_mm("n = 000") + 1.0  # the n column right of each panel's axes
    panel_w = (width_mm - side_mm - label_mm - right_mm - gap_mm * (ncols - 1)) / ncols
    titles = [wrap_to(name, panel_w, TITLE_SIZE, "bold") for name in spec.indicators.values()]
    title_lines = max(t.count("\n") + 1 for t in titles)
    title_mm = title_lines * TITLE_SIZE * 1.2 * PT + 1.5
    note_mm = (SIZE * 1.5) * PT if marked else 0.0
    axes_h = len(groups) * pitch_mm
    ticks_mm = (SIZE * 1.2 + 3) * PT
    block = title_mm + note_mm + axes_h + ticks_mm + 3.0
    legend_mm = (SIZE * 1.5 + 2) * PT * (2 if marked else 1) + (SIZE * 1.2 + 2) * PT  # + xlabel
    height_mm = nrows * block + legend_mm
    fig = Figure(figsize=(width_mm * MM, height_mm * MM), dpi=72)
    axes = []
    for i, (kpi, _name) in enumerate(spec.indicators.items()):
        row, col = divmod(i, ncols)
        x0 = side_mm + label_mm + col * (panel_w + gap_mm)
        top = height_mm - row * block - title_mm - note_mm
        ax = fig.add_axes((x0 / width_mm, (top - axes_h) / height_mm,
                           (panel_w - n_mm) / width_mm, axes_h / height_mm))
        _spread_panel(ax, kpi, spread, spec, groups, seed=i)
        ax.text(0, 1 + (note_mm + 0.4) / axes_h, titles[i], transform=ax.transAxes,
                ha="left", va="bottom", fontsize=TITLE_SIZE, fontweight="bold",
                linespacing=1.1)
        if col == 0:
            ax.set_yticks(range(len(groups)), [literal(lab) for lab in labels], fontsize=SIZE,
                          linespacing=1.05)
        else:
            ax.set_yticks([])
        axes.append(ax)
    line_h = (SIZE * 1.5 + 2) * PT
    legend_bottom = line_h if marked else 0.0  # the kommun's legend line goes below
    xlabel_y = legend_bottom + line_h
    panels_mid = (height_mm + xlabel_y + (SIZE * 1.2 + 2) * PT) / 2
    fig.text(0.3 / width_mm, panels_mid / height_mm, literal(spread.grouping), rotation=90,
             ha="left", va="center", fontsize=SIZE)
    fig.text((side_mm + label_mm + (width_mm - side_mm - label_mm) / 2) / width_mm,
             (xlabel_y + 0.5) / height_mm, spec.value_label, ha="center", va="bottom",
             fontsize=SIZE)
    handles = [Line2D([], [], marker="o", linestyle="", color=POINT, alpha=POINT_ALPHA,
                      markersize=3, label="Kommun")]
    if spec.bars:
        handles.append(Patch(facecolor=BAR_FILL, edgecolor=BAR_EDGE, linewidth=0.6,
                             label="Gruppens medelvärde"))
    else:
        handles.append(Line2D([], [], marker="D", linestyle="", color=BLUE,
                              markeredgecolor="white", markeredgewidth=0.5, markersize=4.5,
                              label="Gruppens medelvärde"))
    handles.append(Line2D([], [], color=BLACK, linestyle="--", linewidth=0.8,
                          label="Medelvärde alla kommuner (ovägt)"))
    fig.legend(handles=handles, loc="lower left", ncols=len(handles), fontsize=SIZE,
               frameon=False, bbox_to_anchor=(0, legend_bottom / height_mm), borderaxespad=0,
               borderpad=0.2, handletextpad=0.4, columnspacing=1.5)
    return SpreadBase(fig, axes, {g: i for i, g in enumerate(groups)}, marked,
                      legend_y=0.0, note_y=1 + 0.5 / axes_h, panel_width_mm=panel_w)


def _spread_panel(ax, kpi, spread, spec, groups, seed) -> None:
    position = {g: i for i, g in enumerate(groups)}
    data = spread.points[spread.points["kpi"] == kpi]
    y = data["grupp"].astype(str).map(position).to_numpy(dtype=float)
    stats = spread.summary[spread.summary["kpi"] == kpi].assign(
        y=lambda d: d["grupp"].astype(str).map(position))
    if spec.bars:
        has = stats[stats["n"] > 0]
        ax.barh(has["y"], has["medelvarde"], height=0.62, color=BAR_FILL, edgecolor=BAR_EDGE,
                linewidth=0.6, zorder=1)
    jitter = np.random.default_rng(seed).uniform(-0.22, 0.22, len(data))
    ax.scatter(data["varde"], y + jitter, s=2.5, color=POINT, alpha=POINT_ALPHA,
               linewidths=0, zorder=2)
    if not spec.bars:
        ax.scatter(stats["medelvarde"], stats["y"], marker="D", s=20, color=BLUE,
                   edgecolors="white", linewidths=0.5, zorder=4)
    mean = spread.overall.loc[spread.overall["kpi"] == kpi, "medelvarde"]
    if len(mean) and pd.notna(mean.iloc[0]):
        ax.axvline(mean.iloc[0], color=BLACK, linestyle="--", linewidth=0.8, zorder=3)
    if spec.zero_line:
        ax.axvline(0, color=POINT, linewidth=0.5, zorder=0)
    values = data["varde"]
    if spec.limits is not None:
        low, high = spec.limits
    else:
        low = min(float(values.min()), 0.0) if len(values) else -1.0
        high = max(float(values.max()), 0.0) if len(values) else 1.0
    span = high - low or 1.0
    ticks = MaxNLocator(nbins=4, steps=[1, 2, 2.5, 5, 10]).tick_values(low, high)
    ax.set_xticks([t for t in ticks if low - 1e-9 <= t <= high + 1e-9])
    ax.set_xlim(low - 0.03 * span, high + 0.03 * span)
    ax.set_ylim(len(groups) - 0.5, -0.5)
    for row in stats.itertuples():
        ax.text(1.03, row.y, f"n = {row.n}", transform=ax.get_yaxis_transform(), ha="left",
                va="center", fontsize=SIZE, color=TEXT_GREY)
        if row.n == 0:
            ax.text(0.02, row.y, "inga värden", transform=ax.get_yaxis_transform(), ha="left",
                    va="center", fontsize=SIZE, style="italic", color=TEXT_GREY)
    ax.xaxis.set_major_formatter(swedish())
    ax.tick_params(axis="x", labelsize=SIZE, length=2, pad=1.5)
    ax.tick_params(axis="y", length=0, pad=1.5)
    ax.grid(axis="x", color=GRID, linewidth=0.4, zorder=0)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def spread_overlay(base: SpreadBase, spread, spec: SpreadSpec, onto_base: bool = False
                   ) -> Figure:
    """The kommun's marks: a star at its value in its group's row, or "<kommun>: värde
    saknas" under the panel title, and the legend line "★ <kommun> (<grupp>)". Drawn on a
    transparent figure of the base's size and axes positions (to compose), or onto the base
    itself (``onto_base``, the redraw-everything baseline)."""
    if onto_base:
        fig, axes = base.figure, base.axes
    else:
        fig = Figure(figsize=base.figure.get_size_inches(), dpi=72)
        fig.patch.set_visible(False)
        axes = []
        for src in base.axes:
            ax = fig.add_axes(src.get_position())
            ax.set_xlim(src.get_xlim())
            ax.set_ylim(src.get_ylim())
            ax.axis("off")
            axes.append(ax)
    label = literal(f"{spread.kommun_label} ({spread.kommun_group})")
    own = spread.points[spread.points["kommun"] == spread.kommun]
    row = base.positions[spread.kommun_group]
    for ax, kpi in zip(axes, spec.indicators, strict=True):
        value = own.loc[own["kpi"] == kpi, "varde"]
        if value.empty:
            text = fit_line(f"{spread.kommun_label}: värde saknas", base.panel_width_mm)
            ax.text(0, base.note_y, literal(text), transform=ax.transAxes, ha="left",
                    va="bottom", fontsize=SIZE, style="italic", color=BLACK)
            continue
        ax.scatter(value, [row] * len(value), marker="*", s=55, color=VERMILLION,
                   edgecolors=BLACK, linewidths=0.5, zorder=5, clip_on=False)
    star = Line2D([], [], marker="*", linestyle="", color=VERMILLION, markeredgecolor=BLACK,
                  markeredgewidth=0.5, markersize=7.5)
    width_mm = base.figure.get_figwidth() / MM
    fig.legend([star], [fit_line(label, width_mm - 10)], loc="lower left", fontsize=SIZE,
               frameon=False, bbox_to_anchor=(0, 0), borderaxespad=0, borderpad=0.2,
               handletextpad=0.4)
    return fig


def spread_figure_full(spread, spec: SpreadSpec) -> Figure:
    """The whole figure drawn in one go (base + marks): the redraw-per-variant baseline."""
    base = spread_base(spread, spec, marked=spread.kommun is not None)
    if spread.kommun is not None:
        spread_overlay(base, spread, spec, onto_base=True)
    return base.figure


# --- composing SVG ---------------------------------------------------------------------------

_SVG_BODY = re.compile(r"<svg[^>]*>(.*)</svg>", re.S)
_METADATA = re.compile(r"\s*<metadata>.*?</metadata>", re.S)
_BACKGROUND = re.compile(r'\s*<g id="patch_1">.*?</g>', re.S)


def svg_bytes(fig: Figure, **kw) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None}, **kw)
    return _METADATA.sub("", buffer.getvalue())


_IDS = re.compile(r'(\bid="|href="#|url\(#)')


def compose_svg(base_svg: str, overlay_svg: str) -> str:
    """The base SVG with the overlay's drawing appended as one group ``id="kommun"`` (same size
    and coordinates; the overlay's transparent background dropped; its ids prefixed ``k-`` so
    that they cannot clash with the base's ``axes_1``, ``text_1`` …)."""
    body = _SVG_BODY.search(overlay_svg).group(1)
    body = _BACKGROUND.sub("", body, count=1)
    body = _IDS.sub(lambda m: m.group(1) + "k-", body)
    body = body.replace('id="k-figure_1"', 'id="kommun"', 1)
    return base_svg.replace("</svg>", body + "</svg>", 1)


class OverlayFigure:
    """One transparent figure per base with the base's axes positions and limits, reused for
    every kommun: its marks are added, saved as SVG and removed again."""

    def __init__(self, base: SpreadBase):
        self.figure = Figure(figsize=base.figure.get_size_inches(), dpi=72)
        self.figure.patch.set_visible(False)
        axes = []
        for src in base.axes:
            ax = self.figure.add_axes(src.get_position())
            ax.set_xlim(src.get_xlim())
            ax.set_ylim(src.get_ylim())
            ax.axis("off")
            axes.append(ax)
        self.view = SpreadBase(self.figure, axes, base.positions, base.marked,
                               note_y=base.note_y, panel_width_mm=base.panel_width_mm)

    def svg(self, spread, spec: SpreadSpec) -> str:
        spread_overlay(self.view, spread, spec, onto_base=True)
        try:
            return svg_bytes(self.figure, transparent=True)
        finally:
            for ax in self.view.axes:
                for artist in [*ax.collections, *ax.texts]:
                    artist.remove()
            self.figure.legends.clear()


# --- Figur 5: the debt line figure ------------------------------------------------------------


def line_print(series: dict[str, pd.Series], value_label: str,
               width_mm: float = TEXT_WIDTH_MM, height_mm: float = 62.0) -> Figure:
    fig = Figure(figsize=(width_mm * MM, height_mm * MM), dpi=72)
    legend_mm = 8.0
    ax = fig.add_axes((11 / width_mm, 5 / height_mm, 1 - 12 / width_mm,
                       1 - (5 + legend_mm) / height_mm))
    styles = [(BLACK, "o"), (BLUE, "s"), (VERMILLION, "^"), ("#009E73", "D"), ("#CC79A7", "v")]
    for (label, values), (colour, marker) in zip(series.items(), styles, strict=False):
        present = values.dropna().sort_index()
        if present.empty:
            continue
        ax.plot(present.index.astype(int), present.to_numpy(), color=colour, linewidth=1.2,
                marker=marker, markersize=3, label=literal(label))
    ax.set_ylabel(value_label, fontsize=SIZE, labelpad=2)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: format_number(v, 0)))
    years = sorted({int(y) for v in series.values() for y in v.dropna().index})
    if years:
        ax.set_xlim(years[0] - 0.5, years[-1] + 0.5)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=10))
    ax.set_ylim(bottom=0)
    ax.tick_params(labelsize=SIZE, length=2, pad=1.5)
    ax.grid(axis="y", color=GRID, linewidth=0.4)
    ax.spines[["top", "right"]].set_visible(False)
    fig.legend(*ax.get_legend_handles_labels(), loc="upper left", ncols=5, fontsize=SIZE,
               frameon=False, bbox_to_anchor=(0, 1), borderaxespad=0.2, columnspacing=1.5)
    return fig


# --- Figur 6–7: correlation heatmaps -----------------------------------------------------------


def heatmap_print(values: pd.DataFrame, counts: pd.DataFrame, decimals: int = 2,
                  width_mm: float = TEXT_WIDTH_MM) -> Figure:
    import seaborn as sns

    row_label_mm = 52.0
    rows = [wrap_to(r, row_label_mm - 2) for r in values.index]
    lines_row = max(r.count("\n") + 1 for r in rows)
    cell_h = max(2 * SIZE * 1.15 + 4, lines_row * SIZE * 1.1 + 3) * PT
    cols = [wrap_to(c, 32, max_lines=3) for c in values.columns]
    head_mm = (max(c.count("\n") + 1 for c in cols) * SIZE * 1.15 + 3) * PT
    bar_mm = 13.0
    height_mm = head_mm + cell_h * len(values.index) + bar_mm
    fig = Figure(figsize=(width_mm * MM, height_mm * MM), dpi=72)
    grid_w = width_mm - row_label_mm - 2
    ax = fig.add_axes((row_label_mm / width_mm, bar_mm / height_mm, grid_w / width_mm,
                       cell_h * len(values.index) / height_mm))
    cax = fig.add_axes((row_label_mm / width_mm, 5.5 / height_mm, 60 / width_mm,
                        2.2 / height_mm))
    labels = np.empty(values.shape, dtype=object)
    for i, row in enumerate(values.index):
        for j, column in enumerate(values.columns):
            r, n = values.loc[row, column], counts.loc[row, column]
            labels[i, j] = ("" if pd.isna(r)
                            else f"{format_number(r, decimals)}\nn = {format_number(n)}")
    sns.heatmap(values.astype(float), ax=ax, cbar_ax=cax, cmap="RdBu_r", center=0, vmin=-1,
                vmax=1, annot=labels, fmt="", annot_kws={"fontsize": SIZE, "linespacing": 1.15},
                linewidths=0.8, linecolor="white",
                cbar_kws={"orientation": "horizontal", "ticks": [-1, -0.5, 0, 0.5, 1]})
    for i, row in enumerate(values.index):
        for j, column in enumerate(values.columns):
            if pd.isna(values.loc[row, column]):
                ax.add_patch(matplotlib.patches.Rectangle(
                    (j + 0.04, i + 0.06), 0.92, 0.88, fill=False, hatch="////",
                    edgecolor="#8C8C8C", linewidth=0))
                ax.text(j + 0.5, i + 0.5, "saknas i data", ha="center", va="center",
                        fontsize=SIZE, style="italic", color=BLACK,
                        bbox={"facecolor": "white", "edgecolor": "none", "pad": 1})
    cax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: format_number(v, 1)))
    cax.tick_params(labelsize=SIZE, length=2, pad=1.5)
    cax.set_xlabel("")
    fig.text((row_label_mm + 62) / width_mm, 6.6 / height_mm, "Pearsons r", ha="left",
             va="center", fontsize=SIZE)
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.set_xticklabels([literal(c) for c in cols], rotation=0, fontsize=SIZE, linespacing=1.1)
    ax.set_yticklabels([literal(r) for r in rows], rotation=0, fontsize=SIZE, linespacing=1.05)
    ax.tick_params(length=0, pad=2)
    ax.xaxis.tick_top()
    return fig


# --- Agenda 2030 Figur 1: one panel per goal, panels stacked in columns -------------------------


def nulage_print(nulage: pd.DataFrame, goal_names: dict[int, str], unit_label: str,
                 comparison_label: str, width_mm: float = TEXT_WIDTH_MM, ncols: int = 3
                 ) -> Figure:
    data = nulage.dropna(subset=["avvikelse_sd"])
    goals = [g for g in goal_names if (data["mal"] == g).any()]
    counts = [int((data["mal"] == g).sum()) for g in goals]
    columns = _balanced(counts, ncols)
    gap_mm, code_mm = 5.0, text_mm("N00000") + 1.5
    col_w = (width_mm - gap_mm * (ncols - 1)) / ncols
    plot_w = col_w - code_mm
    pitch = (SIZE * 1.25) * PT
    titles = {g: wrap_to(f"Mål {g}: {goal_names[g]}", col_w, SIZE, "bold") for g in goals}
    title_h = {g: (titles[g].count("\n") + 1) * SIZE * 1.15 * PT + 1.2 for g in goals}
    panel_gap, axis_mm, legend_mm = 2.5, (SIZE * 1.2 + 3) * PT, 7.0
    heights = [sum(title_h[goals[i]] + counts[i] * pitch + 1.5 + panel_gap for i in col)
               for col in columns]
    xlabel_mm = (SIZE * 2.4 + 3) * PT
    height_mm = legend_mm + max(heights) + axis_mm + xlabel_mm
    fig = Figure(figsize=(width_mm * MM, height_mm * MM), dpi=72)
    limit = max(3.0, float(np.nanmax(np.abs(data["avvikelse_sd"]))) if len(data) else 3.0)
    for c, col in enumerate(columns):
        top = height_mm - legend_mm
        x0 = c * (col_w + gap_mm) + code_mm
        last = None
        for i in col:
            goal = goals[i]
            rows = data[data["mal"] == goal].reset_index(drop=True)
            h = counts[i] * pitch + 1.5
            top -= title_h[goal]
            ax = fig.add_axes((x0 / width_mm, (top - h) / height_mm, plot_w / width_mm,
                               h / height_mm))
            fig.text((x0 - code_mm) / width_mm, (top + 0.6) / height_mm, titles[goal],
                     ha="left", va="bottom", fontsize=SIZE, fontweight="bold", linespacing=1.1)
            y = np.arange(len(rows))
            riket = (rows["riket"] - rows["jamforelse"]) / rows["sd"]
            ax.axvline(0, color=POINT, lw=0.6)
            ax.scatter(riket, y, facecolors="white", edgecolors="#595959", s=12, linewidths=0.8,
                       zorder=3)
            ax.scatter(rows["avvikelse_sd"], y, color=BLUE, s=14, zorder=4, linewidths=0)
            ax.set_yticks(y, rows["kpi"], fontsize=SIZE)
            ax.set_ylim(len(rows) - 0.5, -0.5)
            ax.set_xlim(-limit * 1.05, limit * 1.05)
            ax.xaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))
            ax.xaxis.set_major_formatter(swedish())
            ax.grid(axis="x", color=GRID, linewidth=0.4)
            ax.set_axisbelow(True)
            ax.tick_params(axis="y", length=0, pad=1.5)
            ax.tick_params(axis="x", length=0, labelbottom=False)
            for side in ("top", "right"):
                ax.spines[side].set_visible(False)
            top -= h + panel_gap
            last = ax
        if last is not None:
            last.tick_params(axis="x", length=2, labelbottom=True, pad=1.5)
    fig.text(0.5, 0.5 * PT / height_mm, wrap_to(
        f"Avvikelse från {literal(comparison_label)}, i standardavvikelser mellan enheterna",
        width_mm, SIZE), ha="center", va="bottom", fontsize=SIZE)
    handles = [Line2D([], [], marker="o", linestyle="", color=BLUE, markersize=4,
                      label=fit_line(literal(unit_label), 60)),
               Line2D([], [], marker="o", linestyle="", markerfacecolor="white",
                      markeredgecolor="#595959", markersize=4, label="Riket")]
    fig.legend(handles=handles, loc="upper left", ncols=2, fontsize=SIZE, frameon=False,
               bbox_to_anchor=(0, 1), borderaxespad=0.3)
    return fig


def _balanced(counts: list[int], ncols: int) -> list[list[int]]:
    """Split goals (in order) into ``ncols`` contiguous columns with the smallest tallest
    column (rows + a title each)."""
    weights = [c + 2.5 for c in counts]
    best = None

    def split(start, k):
        if k == 1:
            yield [list(range(start, len(weights)))]
            return
        for end in range(start + 1, len(weights) - k + 2):
            for rest in split(end, k - 1):
                yield [list(range(start, end)), *rest]

    for parts in split(0, min(ncols, len(weights))):
        tallest = max(sum(weights[i] for i in p) for p in parts)
        if best is None or tallest < best[0]:
            best = (tallest, parts)
    return best[1]


# --- checks -------------------------------------------------------------------------------------

_TEXT = re.compile(r'<text[^>]*style="([^"]*)"[^>]*>', re.S)
_SIZE_RE = re.compile(r"font-size:\s*([\d.]+)px")
_FAMILY = re.compile(r"font-family:\s*([^;\"]+)")


@dataclass
class SvgCheck:
    width_pt: float
    height_pt: float
    sizes: list[float] = field(default_factory=list)
    families: set = field(default_factory=set)


def check_svg(svg: str) -> SvgCheck:
    head = re.search(r'<svg[^>]*width="([\d.]+)pt"[^>]*height="([\d.]+)pt"', svg)
    out = SvgCheck(float(head.group(1)), float(head.group(2)))
    for style in _TEXT.findall(svg):
        out.sizes.append(float(_SIZE_RE.search(style).group(1)))
        out.families.add(_FAMILY.search(style).group(1).split(",")[0].strip().strip("'"))
    return out


_TEXT_EL = re.compile(r"<text ([^>]*)>([^<]*)</text>")
_ATTR = re.compile(r'(\w[\w-]*)="([^"]*)"')
_NUM = re.compile(r"[-\d.]+")


def svg_text_boxes(svg: str) -> list[tuple[str, float, tuple[float, float, float, float]]]:
    """Each text element of a matplotlib SVG (text as text) with its font size (pt) and box
    (x0, y0, x1, y1 in pt, y down), measured with the font's own metrics."""
    import html

    out = []
    for attrs, content in _TEXT_EL.findall(svg):
        a = dict(_ATTR.findall(attrs))
        style = dict(part.split(":", 1) for part in a["style"].split(";") if ":" in part)
        style = {k.strip(): v.strip() for k, v in style.items()}
        size = float(style["font-size"].rstrip("px"))
        weight = "bold" if style.get("font-weight", "400") in ("700", "bold") else "normal"
        text = html.unescape(content)
        prop = FontProperties(family=FONT, size=size, weight=weight,
                              style=style.get("font-style", "normal"))
        w, h, d = _MEASURE.get_text_width_height_descent(text, prop, ismath=False)
        transform = a.get("transform", "")
        angle = 0.0
        if transform.startswith("translate"):
            nums = [float(v) for v in _NUM.findall(transform)]
            x, y = nums[0], nums[1]
            if "rotate" in transform:
                angle = nums[2]
        else:
            x, y = float(a["x"]), float(a["y"])
            if "rotate" in transform:
                angle = next(float(v) for v in _NUM.findall(transform))
        anchor = style.get("text-anchor", "start")
        shift = {"start": 0.0, "middle": w / 2, "end": w}[anchor]
        if abs(angle) in (90.0, 270.0):
            box = (x - (h - d), y - w + shift, x + d, y + shift)
        else:
            box = (x - shift, y - (h - d), x - shift + w, y + d)
        out.append((text, size, box))
    return out


def svg_outside(svg: str, tolerance: float = 0.5) -> list[str]:
    check = check_svg(svg)
    return [t for t, _s, (x0, y0, x1, y1) in svg_text_boxes(svg)
            if x0 < -tolerance or y0 < -tolerance or x1 > check.width_pt + tolerance
            or y1 > check.height_pt + tolerance]


def svg_overlaps(svg: str) -> list[tuple[str, str]]:
    boxes = svg_text_boxes(svg)
    out = []
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            a, b = boxes[i][2], boxes[j][2]
            if a[0] < b[2] - 0.3 and b[0] < a[2] - 0.3 and a[1] < b[3] - 0.3 and \
                    b[1] < a[3] - 0.3:
                out.append((boxes[i][0][:25], boxes[j][0][:25]))
    return out


def texts_inside(fig: Figure) -> tuple[int, list[str]]:
    """Count of visible texts and those whose drawn extent leaves the canvas (matplotlib's own
    extents, after a draw)."""
    from matplotlib.text import Text

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    box = fig.bbox
    bad, n = [], 0
    for t in fig.findobj(Text):
        if not t.get_visible() or not t.get_text().strip():
            continue
        n += 1
        e = t.get_window_extent(renderer)
        if e.x0 < box.x0 - 0.5 or e.y0 < box.y0 - 0.5 or e.x1 > box.x1 + 0.5 or \
                e.y1 > box.y1 + 0.5:
            bad.append(t.get_text()[:30])
    return n, bad


def overlaps(fig: Figure) -> list[tuple[str, str]]:
    """Pairs of visible texts whose extents overlap (after a draw)."""
    from matplotlib.text import Text

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    r = canvas.get_renderer()
    items = [(t.get_text(), t.get_window_extent(r)) for t in fig.findobj(Text)
             if t.get_visible() and t.get_text().strip()]
    out = []
    for i in range(len(items)):
        for j in range(i + 1, len(items)):
            a, b = items[i][1], items[j][1]
            if a.x0 < b.x1 - 0.3 and b.x0 < a.x1 - 0.3 and a.y0 < b.y1 - 0.3 and \
                    b.y0 < a.y1 - 0.3:
                out.append((items[i][0][:25], items[j][0][:25]))
    return out


__all__ = [n for n in dir() if not n.startswith("_")]
_ = textwrap
