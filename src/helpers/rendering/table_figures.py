"""Tables drawn as figures at their printed size: a small line figure (Välfärd Figur 5, Tabell 1)
and correlation heatmaps (Figur 6–7, Tabell 2–3). Both are the same for every kommun variant:
the reports draw them through :func:`helpers.rendering.figure_files.files_once`."""

from __future__ import annotations

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.ticker import MaxNLocator

from helpers.domain import MISSING_IN_DATA
from helpers.formatting import format_number
from helpers.rendering.figure_style import (
    BLACK,
    LINE_STYLES,
    LINESPACING,
    PT,
    SIZE,
    TEXT_WIDTH_MM,
    axes_mm,
    line_height_mm,
    literal_text,
    new_figure,
    print_style,
    swedish_formatter,
    text_mm,
    tidy_axes,
    wrap_to,
)


def line_figure(series: dict[str, pd.Series], *, value_label: str,
                width_mm: float = TEXT_WIDTH_MM, height_mm: float = 62.0) -> Figure:
    """One line per entry of ``series`` (label → values indexed by year), told apart by marker
    shape as well as colour; the legend in one row above.

    Missing years stay gaps: only years with a value are drawn, a series with one year is a
    point. The x axis spans the years with data.
    """
    with print_style():
        fig = new_figure(width_mm, height_mm)
        legend_mm = 8.0
        left = text_mm("100") + line_height_mm(1) + 3.0
        ax = axes_mm(fig, left, 5.0, width_mm - left - 1.0, height_mm - 5.0 - legend_mm)
        for (label, values), (colour, marker) in zip(series.items(), LINE_STYLES, strict=False):
            present = values.dropna().sort_index()
            if present.empty:
                continue
            ax.plot(present.index.astype(int), present.to_numpy(), color=colour, linewidth=1.2,
                    marker=marker, markersize=3, label=literal_text(label))
        ax.set_ylabel(value_label, fontsize=SIZE, labelpad=2)
        ax.yaxis.set_major_formatter(swedish_formatter(0))
        years = sorted({int(y) for v in series.values() for y in v.dropna().index})
        if years:
            ax.set_xlim(years[0] - 0.5, years[-1] + 0.5)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=10))
        ax.xaxis.set_major_formatter(lambda v, _pos: str(int(v)))
        ax.set_ylim(bottom=0)
        tidy_axes(ax, grid="y")
        ax.tick_params(axis="y", length=2)
        handles, labels = ax.get_legend_handles_labels()
        if handles:
            fig.legend(handles, labels, loc="upper left", ncols=len(handles), fontsize=SIZE,
                       frameon=False, bbox_to_anchor=(0, 1), borderaxespad=0.2,
                       columnspacing=1.5)
    return fig


ROW_LABEL_MM = 52.0
BAR_MM = 13.0


def correlation_heatmap(values: pd.DataFrame, counts: pd.DataFrame, *, decimals: int = 2,
                        width_mm: float = TEXT_WIDTH_MM) -> Figure:
    """A correlation table as a heatmap: diverging colours centred on 0 (−1 … 1, RdBu: safe for
    colour-blind readers), every cell labelled with r and n; a cell without data is hatched and
    says "saknas i data"; a horizontal colour bar "Pearsons r" under the cells."""
    rows = [wrap_to(literal_text(r), ROW_LABEL_MM - 2) for r in values.index]
    cols = [wrap_to(literal_text(c), 32, max_lines=3) for c in values.columns]
    lines = max(r.count("\n") + 1 for r in rows)
    cell_h = max(2 * SIZE * LINESPACING + 4, lines * SIZE * LINESPACING + 3) * PT
    head_mm = line_height_mm(max(c.count("\n") + 1 for c in cols), SIZE, LINESPACING) + 3 * PT
    height_mm = head_mm + cell_h * len(values.index) + BAR_MM
    with print_style():
        fig = new_figure(width_mm, height_mm)
        ax = axes_mm(fig, ROW_LABEL_MM, BAR_MM, width_mm - ROW_LABEL_MM - 2,
                     cell_h * len(values.index))
        bar = axes_mm(fig, ROW_LABEL_MM, 5.5, 60.0, 2.2)
        sns.heatmap(values.astype(float), ax=ax, cbar_ax=bar, cmap="RdBu_r", center=0, vmin=-1,
                    vmax=1, annot=_cell_labels(values, counts, decimals), fmt="",
                    annot_kws={"fontsize": SIZE, "linespacing": LINESPACING}, linewidths=0.8,
                    linecolor="white",
                    cbar_kws={"orientation": "horizontal", "ticks": [-1, -0.5, 0, 0.5, 1]})
        _mark_missing(ax, values)
        bar.xaxis.set_major_formatter(swedish_formatter(1))
        bar.tick_params(labelsize=SIZE, length=2, pad=1.5)
        bar.set_xlabel("")
        fig.text((ROW_LABEL_MM + 62) / width_mm, 6.6 / height_mm, "Pearsons r", ha="left",
                 va="center", fontsize=SIZE)
        ax.set_xlabel("")
        ax.set_ylabel("")
        ax.set_xticklabels(cols, rotation=0, fontsize=SIZE, linespacing=LINESPACING)
        ax.set_yticklabels(rows, rotation=0, fontsize=SIZE, linespacing=LINESPACING)
        ax.tick_params(length=0, pad=2)
        ax.xaxis.tick_top()
    return fig


def _cell_labels(values: pd.DataFrame, counts: pd.DataFrame, decimals: int) -> np.ndarray:
    labels = np.empty(values.shape, dtype=object)
    for i, row in enumerate(values.index):
        for j, column in enumerate(values.columns):
            r, n = values.loc[row, column], counts.loc[row, column]
            labels[i, j] = ("" if pd.isna(r)
                            else f"{format_number(r, decimals)}\nn = {format_number(n)}")
    return labels


def _mark_missing(ax, values: pd.DataFrame) -> None:
    """Cells without a value: hatched, with "saknas i data" in black on a white box."""
    for i, row in enumerate(values.index):
        for j, column in enumerate(values.columns):
            if pd.isna(values.loc[row, column]):
                ax.add_patch(Rectangle((j + 0.04, i + 0.06), 0.92, 0.88, fill=False,
                                       hatch="////", edgecolor="#8C8C8C", linewidth=0))
                ax.text(j + 0.5, i + 0.5, MISSING_IN_DATA, ha="center", va="center",
                        fontsize=SIZE, style="italic", color=BLACK,
                        bbox={"facecolor": "white", "edgecolor": "none", "pad": 1})
