"""Spread figures (Välfärd Figur 1–4) drawn at their printed size, composed per kommun.

One panel per indicator, one row per group: every kommun as a dot, the group mean (a diamond or
a bar), the mean over all kommuner as a dashed line, n per group beside each panel ("inga
värden" where a group has none). The figure carries no title and no source: the caption does.

Most of the figure is the same for every kommun variant, so it is drawn once per process (the
*base*, kept by content); a kommun variant only draws its marks — a star at its value in its
group's row, "<kommun>: värde saknas" under a panel's title where it has none, and its own
legend line — on a transparent *overlay* of the same size, which is merged into the base's SVG
and laid over the base's pixels (:mod:`.figure_files`).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from helpers.domain import NO_VALUES
from helpers.rendering.figure_files import FigureFiles, Pixels, compose_svg, size_mm, svg_of
from helpers.rendering.figure_style import (
    BAR_FILL,
    KOMMUN_COLOUR,
    KOMMUN_EDGE,
    LINESPACING,
    MEAN_COLOUR,
    POINT_ALPHA,
    POINT_COLOUR,
    PT,
    REFERENCE_COLOUR,
    SIZE,
    TEXT_COLOUR,
    TEXT_WIDTH_MM,
    TITLE_SIZE,
    axes_mm,
    fit_line,
    line_height_mm,
    literal_text,
    new_figure,
    print_style,
    swedish_formatter,
    text_mm,
    tidy_axes,
    wrap_to,
)


@dataclass
class FigureResult:
    """A figure's files and the text alternative that goes with it (HTML ``alt``)."""

    files: FigureFiles
    alt_text: str


@dataclass(frozen=True)
class SpreadStyle:
    """How a spread figure looks: axis label with unit, fixed limits, bars or mean markers."""

    value_label: str
    limits: tuple[float, float] | None = None
    bars: bool = False
    zero_line: bool = False


@dataclass(frozen=True)
class Marked:
    """The kommun a variant marks: its code, its name and its group (a row of the figure)."""

    code: str
    name: str
    group: str

    @property
    def label(self) -> str:
        return f"{self.name} ({self.group})"


@dataclass
class _Layout:
    """Where things go, in mm (y from the bottom), for one set of groups and indicators."""

    width: float
    height: float
    ncols: int
    labels: list[str]
    titles: list[str]
    panels: list[tuple[float, float, float, float]]  # axes x, y, w, h
    panel_width: float
    note_gap: float  # mm between a panel's axes and its title (the "värde saknas" line)
    legend_y: float
    kommun_legend_y: float
    xlabel_y: float
    plot_x: float


def _layout(groups: list[str], names: list[str], marked: bool,
            width: float = TEXT_WIDTH_MM) -> _Layout:
    """Panels in 2 or 3 columns; group labels wrapped to two lines in the first column; n in
    its own column right of each panel; titles wrapped to two lines; the legend at the bottom
    (a second line naming the marked kommun)."""
    ncols = 3 if len(names) > 4 else 2
    nrows = -(-len(names) // ncols)
    labels = _group_labels(groups, 30.0 if ncols == 3 else 40.0)
    label_w = max(text_mm(line) for lab in labels for line in lab.split("\n")) + 1.5
    lines = max(lab.count("\n") + 1 for lab in labels)
    pitch = max(lines * SIZE * LINESPACING + 3.0, 12.0) * PT
    side, gap, n_w = 3.5, 5.0, text_mm("n = 000") + 1.0
    plot_x = side + label_w
    panel_w = (width - plot_x - 0.5 - gap * (ncols - 1)) / ncols
    titles = [wrap_to(name, panel_w, TITLE_SIZE, "bold") for name in names]
    title_h = line_height_mm(max(t.count("\n") + 1 for t in titles), TITLE_SIZE,
                             LINESPACING) + 1.5
    note_gap = line_height_mm(1, SIZE, 1.5) if marked else 0.4
    axes_h = len(groups) * pitch
    block = title_h + note_gap + axes_h + line_height_mm(1, SIZE, 1.2) + 1.0 + 3.0
    line = line_height_mm(1, SIZE, 1.5) + 2 * PT
    kommun_legend_y = 0.0
    legend_y = line if marked else 0.0
    xlabel_y = legend_y + line
    height = nrows * block + xlabel_y + line_height_mm(1, SIZE, 1.2) + 2 * PT
    panels = []
    for i in range(len(names)):
        row, col = divmod(i, ncols)
        top = height - row * block - title_h - note_gap
        panels.append((plot_x + col * (panel_w + gap), top - axes_h, panel_w - n_w, axes_h))
    return _Layout(width, height, ncols, labels, titles, panels, panel_w, note_gap, legend_y,
                   kommun_legend_y, xlabel_y, plot_x)


def _group_labels(groups: list[str], width: float) -> list[str]:
    """Group labels on at most two lines of ``width`` mm, widened (up to 60 mm) until no label
    has to be cut: the groups are the data's."""
    for extra in range(31):
        labels = [wrap_to(g, width + extra) for g in groups]
        if all(" ".join(label.split()) == " ".join(g.split())
               for label, g in zip(labels, groups, strict=True)):
            return labels
    return labels


@dataclass
class _Base:
    """A spread figure without kommun marks: drawn, saved as SVG, its pixels kept, and the
    transparent overlay figure its kommun marks are drawn on."""

    layout: _Layout
    positions: dict[str, int]
    limits: list[tuple[tuple[float, float], tuple[float, float]]]
    svg: str
    pixels: Pixels
    overlay: Figure | None = None
    overlay_axes: list = field(default_factory=list)


_BASES: OrderedDict[tuple, _Base] = OrderedDict()
_BASES_KEPT = 8


def spread_figure(
    points: pd.DataFrame,
    summary: pd.DataFrame,
    overall: pd.DataFrame,
    *,
    indicators: dict[str, str],
    groups: list[str],
    style: SpreadStyle,
    group_label: str,
    marked: Marked | None = None,
    description: str = "",
) -> FigureResult:
    """Spread of values over kommuner per group, one panel per indicator (see the module).

    ``points`` has ``kommun, grupp, kpi, varde``; ``summary`` has ``kpi, grupp, n, medelvarde``;
    ``overall`` has ``kpi, medelvarde``. ``description`` is the figure's main message, for its
    alt text (:func:`spread_alt`; the caption's title, year and source are not repeated there);
    ``marked`` marks one kommun.
    """
    key = (*_digest(points, summary, overall), tuple(indicators.items()), tuple(groups), style,
           group_label, marked is not None)
    base = _BASES.get(key)
    if base is None:
        base = _BASES[key] = _draw_base(points, summary, overall, indicators, groups, style,
                                        group_label, marked is not None)
        while len(_BASES) > _BASES_KEPT:
            _BASES.popitem(last=False)
    _BASES.move_to_end(key)
    if marked is None:
        files = FigureFiles(base.svg.encode("utf-8"), base.pixels.plain(),
                            *size_mm(base.pixels.figure))
    else:
        files = _with_marks(base, points, indicators, marked)
    return FigureResult(files, spread_alt(style, group_label, description, marked))


MAX_ALT = 250
"""An alt text says what a figure is and its main message in about this many characters."""


def spread_alt(style: SpreadStyle, group_label: str, message: str,
               marked: Marked | None = None) -> str:
    """The alt text of a spread figure: what it is and its one main message (``message``),
    short (about 250 characters at most); the long description (every group's mean and n)
    is the text under the figure, not repeated here. The caption (title, year, source) is not
    repeated either."""
    grouping = group_label.split(" (", 1)[0].lower()  # "Kommuntyp (SKR:s …)" → "kommuntyp"
    kind = "Staplar och punkter" if style.bars else "Punktdiagram"
    alt = f"{kind} per {grouping} och mått med gruppmedelvärden; {message}"
    if marked:
        alt += f" {marked.name} är markerad med stjärna."
    return " ".join(alt.split())


def _digest(*frames: pd.DataFrame) -> list[int]:
    return [int(pd.util.hash_pandas_object(frame.astype({c: str for c in ("kpi", "grupp")
                                                         if c in frame}), index=False).sum())
            for frame in frames]


def _draw_base(points, summary, overall, indicators, groups, style, group_label,
               marked: bool) -> _Base:
    layout = _layout(groups, list(indicators.values()), marked)
    with print_style():
        fig = new_figure(layout.width, layout.height)
        limits = []
        for i, kpi in enumerate(indicators):
            ax = axes_mm(fig, *layout.panels[i])
            _draw_panel(ax, kpi, points, summary, overall, groups, style, seed=i)
            ax.text(0, 1 + (layout.note_gap + 0.4) / layout.panels[i][3], layout.titles[i],
                    transform=ax.transAxes, ha="left", va="bottom", fontsize=TITLE_SIZE,
                    fontweight="bold", linespacing=LINESPACING)
            if i % layout.ncols == 0:
                ax.set_yticks(range(len(groups)), [literal_text(lab) for lab in layout.labels],
                              linespacing=LINESPACING)
            else:
                ax.set_yticks([])
            limits.append((ax.get_xlim(), ax.get_ylim()))
        _decorate(fig, layout, style, group_label)
    base = _Base(layout, {g: i for i, g in enumerate(groups)}, limits, svg_of(fig), Pixels(fig))
    return base


def _draw_panel(ax, kpi, points, summary, overall, groups, style, seed) -> None:
    position = {g: i for i, g in enumerate(groups)}
    data = points[points["kpi"] == kpi]
    y = data["grupp"].astype(str).map(position).to_numpy(dtype=float)
    stats = summary[summary["kpi"] == kpi].assign(
        y=lambda d: d["grupp"].astype(str).map(position))
    if style.bars:
        has = stats[stats["n"] > 0]
        ax.barh(has["y"], has["medelvarde"], height=0.62, color=BAR_FILL, edgecolor=MEAN_COLOUR,
                linewidth=0.6, zorder=1)
    jitter = np.random.default_rng(seed).uniform(-0.22, 0.22, len(data))
    ax.scatter(data["varde"], y + jitter, s=2.5, color=POINT_COLOUR, alpha=POINT_ALPHA,
               linewidths=0, zorder=2)
    if not style.bars:
        ax.scatter(stats["medelvarde"], stats["y"], marker="D", s=20, color=MEAN_COLOUR,
                   edgecolors="white", linewidths=0.5, zorder=4)
    mean = overall.loc[overall["kpi"] == kpi, "medelvarde"]
    if len(mean) and pd.notna(mean.iloc[0]):
        ax.axvline(mean.iloc[0], color=REFERENCE_COLOUR, linestyle="--", linewidth=0.8, zorder=3)
    if style.zero_line:
        ax.axvline(0, color=POINT_COLOUR, linewidth=0.5, zorder=0)
    _set_limits(ax, data["varde"], style)
    ax.set_ylim(len(groups) - 0.5, -0.5)
    for row in stats.itertuples():
        ax.text(1.03, row.y, f"n = {row.n}", transform=ax.get_yaxis_transform(), ha="left",
                va="center", fontsize=SIZE, color=TEXT_COLOUR)
        if row.n == 0:
            ax.text(0.02, row.y, NO_VALUES, transform=ax.get_yaxis_transform(), ha="left",
                    va="center", fontsize=SIZE, style="italic", color=TEXT_COLOUR)
    ax.xaxis.set_major_formatter(swedish_formatter())
    tidy_axes(ax)


def _set_limits(ax, values: pd.Series, style: SpreadStyle) -> None:
    """Fixed limits (e.g. 0–100) or the data range (with 0), at most five ticks."""
    if style.limits is not None:
        low, high = style.limits
    else:
        low = min(float(values.min()), 0.0) if len(values) else -1.0
        high = max(float(values.max()), 0.0) if len(values) else 1.0
    span = high - low or 1.0
    ticks = MaxNLocator(nbins=4, steps=[1, 2, 2.5, 5, 10]).tick_values(low, high)
    ax.set_xticks([t for t in ticks if low - 1e-9 <= t <= high + 1e-9])
    ax.set_xlim(low - 0.03 * span, high + 0.03 * span)


def _decorate(fig: Figure, layout: _Layout, style: SpreadStyle, group_label: str) -> None:
    """The group axis label, the value axis label once under the panels and the legend."""
    panels_mid = (layout.height + layout.xlabel_y + line_height_mm(1, SIZE, 1.2)) / 2
    fig.text(0.3 / layout.width, panels_mid / layout.height, literal_text(group_label),
             rotation=90, ha="left", va="center", fontsize=SIZE)
    fig.text((layout.plot_x + (layout.width - layout.plot_x) / 2) / layout.width,
             (layout.xlabel_y + 0.5) / layout.height, style.value_label, ha="center",
             va="bottom", fontsize=SIZE)
    handles = [Line2D([], [], marker="o", linestyle="", color=POINT_COLOUR, alpha=POINT_ALPHA,
                      markersize=3, label="Kommun")]
    if style.bars:
        handles.append(Patch(facecolor=BAR_FILL, edgecolor=MEAN_COLOUR, linewidth=0.6,
                             label="Gruppens medelvärde"))
    else:
        handles.append(Line2D([], [], marker="D", linestyle="", color=MEAN_COLOUR,
                              markeredgecolor="white", markeredgewidth=0.5, markersize=4.5,
                              label="Gruppens medelvärde"))
    handles.append(Line2D([], [], color=REFERENCE_COLOUR, linestyle="--", linewidth=0.8,
                          label="Medelvärde alla kommuner (ovägt)"))
    fig.legend(handles=handles, loc="lower left", ncols=len(handles), fontsize=SIZE,
               frameon=False, bbox_to_anchor=(0, layout.legend_y / layout.height),
               borderaxespad=0, borderpad=0.2, handletextpad=0.4, columnspacing=1.5)


def _overlay(base: _Base) -> tuple[Figure, list]:
    """The transparent figure the kommun marks go on (one per base, reused)."""
    if base.overlay is None:
        with print_style():
            fig = new_figure(base.layout.width, base.layout.height)
            fig.patch.set_visible(False)
            for rect, (xlim, ylim) in zip(base.layout.panels, base.limits, strict=True):
                ax = axes_mm(fig, *rect)
                ax.set_xlim(xlim)
                ax.set_ylim(ylim)
                ax.axis("off")
                base.overlay_axes.append(ax)
        base.overlay = fig
    return base.overlay, base.overlay_axes


def _with_marks(base: _Base, points: pd.DataFrame, indicators: dict[str, str],
                marked: Marked) -> FigureFiles:
    fig, axes = _overlay(base)
    try:
        with print_style():
            _draw_marks(base, fig, axes, points, indicators, marked)
        svg = compose_svg(base.svg, svg_of(fig, transparent=True))
        png = base.pixels.png(fig)
    finally:
        for ax in axes:
            for artist in [*ax.collections, *ax.texts]:
                artist.remove()
        fig.legends.clear()
    return FigureFiles(svg.encode("utf-8"), png, *size_mm(fig))


def _draw_marks(base: _Base, fig: Figure, axes: list, points: pd.DataFrame,
                indicators: dict[str, str], marked: Marked) -> None:
    """A star at the kommun's value in its group's row of each panel, or "<kommun>: värde
    saknas" under the panel title (the name shortened to fit, never the message), and the
    legend line "★ <kommun> (<grupp>)"."""
    own = points[points["kommun"] == marked.code]
    row = base.positions[marked.group]
    missing = ": värde saknas"
    for ax, kpi, rect in zip(axes, indicators, base.layout.panels, strict=True):
        value = own.loc[own["kpi"] == kpi, "varde"]
        if value.empty:
            room = base.layout.panel_width - text_mm(missing, style="italic")
            name = fit_line(marked.name, room, style="italic")
            ax.text(0, 1 + 0.5 / rect[3], literal_text(name + missing), transform=ax.transAxes,
                    ha="left", va="bottom", fontsize=SIZE, style="italic", color=KOMMUN_EDGE)
            continue
        ax.scatter(value, [row] * len(value), marker="*", s=55, color=KOMMUN_COLOUR,
                   edgecolors=KOMMUN_EDGE, linewidths=0.5, zorder=5, clip_on=False)
    star = Line2D([], [], marker="*", linestyle="", color=KOMMUN_COLOUR,
                  markeredgecolor=KOMMUN_EDGE, markeredgewidth=0.5, markersize=7.5)
    group = f" ({marked.group})"  # a long name is shortened, the group stays
    room = base.layout.width - 10 - text_mm(group)
    label = fit_line(marked.name, room) + group if text_mm(marked.group) < room else \
        fit_line(marked.label, base.layout.width - 10)
    fig.legend([star], [literal_text(label)], loc="lower left", fontsize=SIZE, frameon=False,
               bbox_to_anchor=(0, base.layout.kommun_legend_y / base.layout.height),
               borderaxespad=0, borderpad=0.2, handletextpad=0.4)
