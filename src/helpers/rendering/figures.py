"""Drawing the reports' figures with matplotlib, readable by everyone.

Colours are the Okabe–Ito palette (safe for colour-blind readers), numbers on the axes are written
the Swedish way (decimal comma, thin-space thousands, minus sign), and every figure comes with an
alt text. Figures are built on ``matplotlib.figure.Figure`` directly (not pyplot), so nothing is
kept open between figures and the notebooks stay cheap to run.
"""

from __future__ import annotations

import io
import textwrap
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator
from PIL import Image

from helpers.domain import MISSING_IN_DATA, NO_VALUES
from helpers.formatting import format_number

# Okabe & Ito (2008), "Color Universal Design".
OKABE_ITO = {
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
    "black": "#000000",
}
POINT_COLOUR = "#7F7F7F"
MEAN_COLOUR = OKABE_ITO["blue"]
BAR_COLOUR = OKABE_ITO["sky_blue"]
KOMMUN_COLOUR = OKABE_ITO["vermillion"]
REFERENCE_COLOUR = OKABE_ITO["black"]
DPI = 110


@dataclass
class FigureResult:
    """A drawn figure and the text alternative that goes with it (HTML ``alt``).

    ``overlay`` holds the artists that mark one kommun. They are drawn over a cached rendering
    of the rest (``base``), so many kommun variants of one figure cost one full drawing; the
    figure object is shared between results of the same base and is meant to be saved at once.
    """

    figure: Figure
    alt_text: str
    overlay: list = field(default_factory=list)
    base: _Base | None = None


@dataclass
class _Base:
    """A figure without kommun marks, its axes and (once drawn) its rendered pixels."""

    figure: Figure
    axes: list
    positions: dict[str, int]
    background: object = None


_BASES: OrderedDict[tuple, _Base] = OrderedDict()
_BASES_KEPT = 8


@dataclass(frozen=True)
class SpreadStyle:
    """How a spread figure looks: axis label with unit, fixed limits, bars or mean markers."""

    value_label: str
    limits: tuple[float, float] | None = None
    bars: bool = False
    zero_line: bool = False


def swedish_formatter() -> FuncFormatter:
    """Tick labels with a decimal comma, thin-space thousands and a real minus sign."""

    def label(x: float, _pos: int) -> str:
        return format_number(x, 0 if float(x).is_integer() else 1)

    return FuncFormatter(label)


def _wrap(label: str, width: int = 24) -> str:
    return "\n".join(textwrap.wrap(label, width)) or label


def _jitter(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-0.2, 0.2, n)


def spread_figure(
    points: pd.DataFrame,
    summary: pd.DataFrame,
    overall: pd.DataFrame,
    *,
    indicators: dict[str, str],
    groups: list[str],
    style: SpreadStyle,
    title: str,
    subtitle: str,
    source: str,
    group_label: str,
    marked: tuple[str, str, str] | None = None,
    description: str = "",
) -> FigureResult:
    """Spread of values over kommuner per group, one panel per indicator.

    ``points`` has ``kommun, grupp, kpi, varde``; ``summary`` has ``kpi, grupp, n, medelvarde``;
    ``overall`` has ``kpi, medelvarde``. Each panel shows every kommun as a dot, the group mean
    (marker or bar), the mean over all kommuner as a dashed line and n per group; a group
    without values says "inga värden". ``marked`` = (kommun code, label, group) marks one kommun
    with a star in its group's row (or notes that it has no value).
    """
    args = (points, summary, overall, indicators, groups, style, title, subtitle, source,
            group_label)
    key = _cache_key(*args)
    base = _BASES.get(key)
    if base is None:
        base = _BASES[key] = _base_figure(*args)
        while len(_BASES) > _BASES_KEPT:
            _BASES.popitem(last=False)
    _BASES.move_to_end(key)
    overlay = _mark_kommun(base, points, indicators, marked) if marked else []
    alt = f"{title}. {subtitle}. {description} {source}"
    if marked:
        alt += f" {marked[1]} är markerad med en stjärna."
    return FigureResult(base.figure, " ".join(alt.split()), overlay, base)


def _cache_key(points, summary, overall, indicators, groups, style, *texts) -> tuple:
    digest = [int(pd.util.hash_pandas_object(frame.astype({c: str for c in ("kpi", "grupp")
                                                            if c in frame}), index=False).sum())
              for frame in (points, summary, overall)]
    return (*digest, tuple(indicators.items()), tuple(groups), style, *texts)


def _base_figure(points, summary, overall, indicators, groups, style, title, subtitle, source,
                 group_label) -> _Base:
    ncols = 3 if len(indicators) > 4 else 2
    nrows = -(-len(indicators) // ncols)
    height = nrows * (0.3 * len(groups) + 1.1) + 1.4
    fig = Figure(figsize=(11, height), dpi=DPI)
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax in axes[len(indicators):]:
        ax.set_visible(False)
    labels = [_wrap(g) for g in groups]
    for i, (ax, (kpi, name)) in enumerate(zip(axes, indicators.items(), strict=False)):
        _draw_panel(ax, kpi, name, points, summary, overall, groups, style, seed=i)
        ax.set_xlabel(style.value_label, fontsize=8)
        ax.set_ylim(len(groups) - 0.5, -0.5)
        # Tick labels only in the first column; the others show no y ticks at all (cheap).
        if i % ncols == 0:
            ax.set_yticks(range(len(groups)), labels, fontsize=8)
        else:
            ax.set_yticks([])
    _decorate(fig, title, subtitle, source, group_label, style)
    longest = max((len(line) for label in labels for line in label.split("\n")), default=4)
    left = 0.045 + longest * 8 * 0.56 / 72 / fig.get_figwidth()
    fig.subplots_adjust(left=left, right=0.98, top=1 - 1.0 / height, bottom=1.0 / height,
                        hspace=0.4, wspace=0.08)
    positions = {g: i for i, g in enumerate(groups)}
    return _Base(fig, list(axes[: len(indicators)]), positions)


def _draw_panel(ax, kpi, name, points, summary, overall, groups, style, seed) -> None:
    position = {g: i for i, g in enumerate(groups)}
    data = points[points["kpi"] == kpi]
    y = data["grupp"].astype(str).map(position).to_numpy(dtype=float)
    stats = summary[summary["kpi"] == kpi].assign(
        y=lambda d: d["grupp"].astype(str).map(position)
    )
    if style.bars:
        has = stats[stats["n"] > 0]
        ax.barh(has["y"], has["medelvarde"], height=0.6, color=BAR_COLOUR, zorder=1)
    ax.scatter(data["varde"], y + _jitter(len(data), seed), s=7, color=POINT_COLOUR,
               alpha=0.55, linewidths=0, zorder=2)
    if not style.bars:
        ax.scatter(stats["medelvarde"], stats["y"], marker="D", s=34, color=MEAN_COLOUR,
                   edgecolors="white", linewidths=0.8, zorder=4)
    mean = overall.loc[overall["kpi"] == kpi, "medelvarde"]
    if len(mean) and pd.notna(mean.iloc[0]):
        ax.axvline(mean.iloc[0], color=REFERENCE_COLOUR, linestyle="--", linewidth=1, zorder=3)
    if style.zero_line:
        ax.axvline(0, color=REFERENCE_COLOUR, linewidth=0.6, zorder=0)
    _set_limits(ax, data["varde"], style)
    _label_n(ax, stats)
    # A plain text, not set_title: placing a title measures the axis, which is slow. The line
    # below it is left free for "<kommun>: värde saknas".
    ax.text(0, 1.09, name, transform=ax.transAxes, ha="left", va="bottom", fontsize=9)
    ax.xaxis.set_major_formatter(swedish_formatter())
    ax.tick_params(axis="both", labelsize=8, length=2)
    ax.grid(axis="x", color="#DDDDDD", linewidth=0.6, zorder=0)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _set_limits(ax, values: pd.Series, style: SpreadStyle) -> None:
    """Fixed limits (e.g. 0–100) or the data range, with room on the right for the n labels."""
    if style.limits is not None:
        low, high = style.limits
    else:
        low = min(float(values.min()), 0.0) if len(values) else -1.0
        high = max(float(values.max()), 0.0) if len(values) else 1.0
    span = high - low or 1.0
    ticks = MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]).tick_values(low, high)
    ax.set_xticks([t for t in ticks if low - 1e-9 <= t <= high + 1e-9])
    ax.set_xlim(low - 0.03 * span, high + 0.22 * span)


def _label_n(ax, stats: pd.DataFrame) -> None:
    """n per group at the right edge; "inga värden" in the middle of an empty group's row."""
    for row in stats.itertuples():
        ax.text(0.995, row.y, f"n = {row.n}", transform=ax.get_yaxis_transform(), ha="right",
                va="center", fontsize=7, color="#444444")
        if row.n == 0:
            ax.text(0.4, row.y, NO_VALUES, transform=ax.get_yaxis_transform(), ha="center",
                    va="center", fontsize=8, style="italic", color="#444444", zorder=6,
                    bbox={"facecolor": "white", "edgecolor": "none", "pad": 1})


def literal_text(text: str) -> str:
    """Text drawn as written: a ``$`` would start matplotlib's mathtext (``$x$`` as a formula)."""
    return str(text).replace("$", r"\$")


def _mark_kommun(base: _Base, points: pd.DataFrame, indicators: dict[str, str],
                 marked: tuple[str, str, str]) -> list:
    """Artists marking one kommun: a star at its value in its group's row in each panel (or
    "<kommun>: värde saknas" under the panel title) and a legend entry at the top right."""
    code, label, group = marked
    label = literal_text(label)
    own = points[points["kommun"] == code]
    artists = []
    for ax, kpi in zip(base.axes, indicators, strict=True):
        value = own.loc[own["kpi"] == kpi, "varde"]
        if value.empty:
            artists.append(ax.text(0, 1.015, f"{label}: värde saknas", transform=ax.transAxes,
                                   ha="left", va="bottom", fontsize=8, style="italic",
                                   color=KOMMUN_COLOUR))
            continue
        artists.append(ax.scatter(value, [base.positions[group]] * len(value), marker="*",
                                  s=150, color=KOMMUN_COLOUR, edgecolors="black",
                                  linewidths=0.7, zorder=5))
    star = Line2D([], [], marker="*", linestyle="", color=KOMMUN_COLOUR, markeredgecolor="black",
                  markersize=11, label=label)
    legend = Legend(base.figure, [star], [label], loc="upper right", fontsize=9, frameon=False,
                    bbox_to_anchor=(0.99, 1 - 0.25 / base.figure.get_figheight()))
    base.figure.legends.append(legend)
    return [*artists, legend]


def _decorate(fig, title, subtitle, source, group_label, style) -> None:
    fig.suptitle(title, x=0.02, y=0.995, ha="left", fontsize=12, fontweight="bold")
    fig.text(0.02, 1 - 0.42 / fig.get_figheight(), subtitle, ha="left", va="top", fontsize=9)
    fig.supylabel(group_label, fontsize=9, x=0.005)
    handles = [Line2D([], [], marker="o", linestyle="", color=POINT_COLOUR, alpha=0.55,
                      markersize=4, label="Kommun")]
    if style.bars:
        handles.append(Patch(color=BAR_COLOUR, label="Gruppens medelvärde"))
    else:
        handles.append(Line2D([], [], marker="D", linestyle="", color=MEAN_COLOUR,
                              markersize=6, label="Gruppens medelvärde"))
    handles.append(Line2D([], [], color=REFERENCE_COLOUR, linestyle="--",
                          label="Medelvärde alla kommuner (ovägt)"))
    fig.legend(handles=handles, loc="lower right", ncols=len(handles), fontsize=8,
               frameon=False, bbox_to_anchor=(0.99, 0.0))
    fig.text(0.02, 0.012, source, ha="left", va="bottom", fontsize=8, color="#333333")


def render_png(result: FigureResult) -> bytes:
    """The figure as PNG bytes: the cached base pixels with the kommun marks drawn over them.

    The marks are removed again afterwards, so the base stays clean for the next kommun.
    """
    base = result.base or _Base(result.figure, [], {})
    canvas = FigureCanvasAgg(base.figure)
    if base.background is None or result.base is None:
        for artist in result.overlay:  # the cached pixels must not hold this kommun's marks
            artist.set_visible(False)
        canvas.draw()
        base.background = canvas.copy_from_bbox(base.figure.bbox)
        for artist in result.overlay:
            artist.set_visible(True)
    else:
        canvas.restore_region(base.background)
    renderer = canvas.get_renderer()
    try:
        for artist in result.overlay:
            artist.draw(renderer)
        image = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba())
        buffer = io.BytesIO()
        image.save(buffer, format="PNG", compress_level=1)
    finally:
        for artist in result.overlay:
            if isinstance(artist, Legend):
                base.figure.legends.remove(artist)
            else:
                artist.remove()
    return buffer.getvalue()


_PNGS: OrderedDict[tuple, bytes] = OrderedDict()
_PNGS_KEPT = 8


def frame_digest(*frames: pd.DataFrame) -> tuple[int, ...]:
    """A content key of data frames (values and labels), for :func:`png_once`."""
    return tuple(int(pd.util.hash_pandas_object(frame, index=True).sum()) for frame in frames)


def png_once(key: tuple, draw: Callable[[], FigureResult]) -> bytes:
    """The PNG of a figure that every kommun variant shares (Tabell 1 as a line, the heatmaps),
    drawn once per process for ``key`` (what it is drawn from: data digests and texts)."""
    png = _PNGS.get(key)
    if png is None:
        png = _PNGS[key] = render_png(draw())
        while len(_PNGS) > _PNGS_KEPT:
            _PNGS.popitem(last=False)
    _PNGS.move_to_end(key)
    return png


# --- small line figure (Tabell 1) and correlation heatmaps (Bilaga 1) ---------------------------


def line_figure(series: dict[str, pd.Series], *, title: str, subtitle: str, value_label: str,
                source: str, alt: str, colours: Sequence[str] | None = None) -> FigureResult:
    """A small line figure: one line per entry of ``series`` (label → values indexed by year).

    Missing years stay gaps: only years with a value are drawn, a series with one year is a
    point. Every line is marked at each value so that short series stay visible.
    """
    colours = list(colours or (OKABE_ITO["black"], OKABE_ITO["blue"], OKABE_ITO["vermillion"],
                               OKABE_ITO["bluish_green"], OKABE_ITO["reddish_purple"]))
    fig = Figure(figsize=(7.5, 3.6), dpi=DPI)
    ax = fig.add_axes((0.08, 0.16, 0.62, 0.62))
    for (label, values), colour in zip(series.items(), colours, strict=False):
        present = values.dropna().sort_index()
        if present.empty:
            continue
        ax.plot(present.index.astype(int), present.to_numpy(), color=colour, linewidth=1.6,
                marker="o", markersize=3, label=label)
    ax.set_ylabel(value_label, fontsize=8)
    ax.tick_params(labelsize=8)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: format_number(v, 0)))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=8))
    ax.set_ylim(bottom=0)
    ax.grid(axis="y", color="#DDDDDD", linewidth=0.6)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8, frameon=False)
    fig.suptitle(title, x=0.02, y=0.97, ha="left", fontsize=11, fontweight="bold")
    fig.text(0.02, 0.86, subtitle, ha="left", va="top", fontsize=8.5)
    fig.text(0.02, 0.02, source, ha="left", va="bottom", fontsize=7.5, color="#444444")
    return FigureResult(fig, alt)


def correlation_heatmap(values: pd.DataFrame, counts: pd.DataFrame, *, title: str,
                        source: str, alt: str, decimals: int = 2) -> FigureResult:
    """A correlation table as a seaborn heatmap: diverging colours centred on 0 (−1 … 1), each
    cell labelled with r (decimal comma) and n; a cell without data is left white and says
    "saknas"."""
    height = 1.3 + 0.42 * len(values.index)
    fig = Figure(figsize=(8.5, height), dpi=DPI)
    ax = fig.add_axes((0.42, 0.5 / height + 0.02, 0.46, 1 - 1.3 / height))
    labels = np.empty(values.shape, dtype=object)
    for i, row in enumerate(values.index):
        for j, column in enumerate(values.columns):
            r, n = values.loc[row, column], counts.loc[row, column]
            labels[i, j] = ("saknas" if pd.isna(r)
                            else f"{format_number(r, decimals)}\nn = {format_number(n)}")
    sns.heatmap(values.astype(float), ax=ax, cmap="RdBu_r", center=0, vmin=-1, vmax=1,
                annot=labels, fmt="", annot_kws={"fontsize": 7}, linewidths=0.5,
                linecolor="white", cbar_kws={"label": "Pearsons r", "shrink": 0.8})
    for i, row in enumerate(values.index):  # seaborn leaves cells without a value unlabelled
        for j, column in enumerate(values.columns):
            if pd.isna(values.loc[row, column]):
                ax.text(j + 0.5, i + 0.5, MISSING_IN_DATA, ha="center", va="center",
                        fontsize=7, style="italic", color="#444444")
    colorbar = ax.collections[0].colorbar
    colorbar.set_ticks([-1, -0.5, 0, 0.5, 1])
    colorbar.ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: format_number(v, 1)))
    colorbar.ax.tick_params(labelsize=7)
    colorbar.ax.yaxis.label.set_size(8)
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.set_xticklabels([_wrap_label(c, 18) for c in values.columns], rotation=0, fontsize=7.5)
    ax.set_yticklabels(list(values.index), rotation=0, fontsize=7.5)
    ax.xaxis.tick_top()
    fig.suptitle(title, x=0.02, y=1 - 0.12 / height, ha="left", va="top", fontsize=10,
                 fontweight="bold")
    fig.text(0.02, 0.1 / height, source, ha="left", va="bottom", fontsize=7, color="#444444")
    return FigureResult(fig, alt)


def _wrap_label(text: str, width: int) -> str:
    return "\n".join(textwrap.wrap(str(text), width)) or str(text)
