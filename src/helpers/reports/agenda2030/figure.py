"""Agenda 2030 Figur 1 at its printed size: one panel per goal, stacked in three columns in goal
order, each indicator a row (its KPI code at 7 pt), the unit as a filled dot and Riket as an open
ring (told apart by shape), the full goal name wrapped above each panel."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from helpers.rendering.figure_style import (
    BLUE,
    LINESPACING,
    POINT_COLOUR,
    PT,
    RING_COLOUR,
    SIZE,
    TEXT_WIDTH_MM,
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
from helpers.reports.agenda2030.spec import GOAL_NAMES

COLUMNS = 3
GAP_MM = 5.0
ROW_MM = SIZE * 1.25 * PT
PANEL_GAP_MM = 2.5
LEGEND_MM = 7.0


def draw_nulage(nulage: pd.DataFrame, unit_label: str, comparison_label: str,
                width_mm: float = TEXT_WIDTH_MM) -> Figure:
    """Per goal, each indicator's deviation from the comparison group in standard deviations
    (the unit as a dot, Riket as a ring); the data is ``nulage``."""
    data = nulage.dropna(subset=["avvikelse_sd"])
    goals = [g for g in GOAL_NAMES if (data["mal"] == g).any()]
    counts = [int((data["mal"] == g).sum()) for g in goals]
    columns = balanced_columns(counts, COLUMNS)
    code_mm = text_mm("N00000") + 1.5
    col_w = (width_mm - GAP_MM * (COLUMNS - 1)) / COLUMNS
    titles = {g: wrap_to(f"Mål {g}: {GOAL_NAMES[g]}", col_w, SIZE, "bold") for g in goals}
    title_h = {g: line_height_mm(titles[g].count("\n") + 1, SIZE, LINESPACING) + 1.2
               for g in goals}
    heights = [sum(title_h[goals[i]] + counts[i] * ROW_MM + 1.5 + PANEL_GAP_MM for i in col)
               for col in columns]
    axis_mm = line_height_mm(1) + 3 * PT
    xlabel = wrap_to(f"Avvikelse från {comparison_label}, i standardavvikelser mellan enheterna",
                     width_mm)
    xlabel_mm = line_height_mm(xlabel.count("\n") + 1) + 3 * PT
    height_mm = LEGEND_MM + max(heights, default=0) + axis_mm + xlabel_mm
    limit = max(3.0, float(np.nanmax(np.abs(data["avvikelse_sd"]))) if len(data) else 3.0)
    with print_style():
        fig = new_figure(width_mm, height_mm)
        for c, column in enumerate(columns):
            top = height_mm - LEGEND_MM
            x0 = c * (col_w + GAP_MM)
            last = None
            for i in column:
                goal = goals[i]
                fig.text(x0 / width_mm, (top - title_h[goal] + 0.6) / height_mm,
                         literal_text(titles[goal]), ha="left", va="bottom", fontsize=SIZE,
                         fontweight="bold", linespacing=LINESPACING)
                top -= title_h[goal]
                h = counts[i] * ROW_MM + 1.5
                last = axes_mm(fig, x0 + code_mm, top - h, col_w - code_mm, h)
                _goal_panel(last, data[data["mal"] == goal].reset_index(drop=True), limit)
                top -= h + PANEL_GAP_MM
            if last is not None:
                last.tick_params(axis="x", length=2, labelbottom=True)
        fig.text(0.5, 0.5 * PT / height_mm, literal_text(xlabel), ha="center", va="bottom",
                 fontsize=SIZE)
        _legend(fig, unit_label)
    return fig


def _goal_panel(ax, rows: pd.DataFrame, limit: float) -> None:
    y = np.arange(len(rows))
    riket = (rows["riket"] - rows["jamforelse"]) / rows["sd"]
    ax.axvline(0, color=POINT_COLOUR, lw=0.6)
    ax.scatter(riket, y, facecolors="white", edgecolors=RING_COLOUR, s=12, linewidths=0.8,
               zorder=3)
    ax.scatter(rows["avvikelse_sd"], y, color=BLUE, s=14, zorder=4, linewidths=0)
    ax.set_yticks(y, [literal_text(k) for k in rows["kpi"]], fontsize=SIZE)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set_xlim(-limit * 1.05, limit * 1.05)
    ax.xaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))
    ax.xaxis.set_major_formatter(swedish_formatter())
    tidy_axes(ax)
    ax.tick_params(axis="x", length=0, labelbottom=False)


def _legend(fig: Figure, unit_label: str) -> None:
    handles = [Line2D([], [], marker="o", linestyle="", color=BLUE, markersize=4,
                      label=literal_text(fit_line(unit_label, 90))),
               Line2D([], [], marker="o", linestyle="", markerfacecolor="white",
                      markeredgecolor=RING_COLOUR, markersize=4, label="Riket")]
    fig.legend(handles=handles, loc="upper left", ncols=2, fontsize=SIZE, frameon=False,
               bbox_to_anchor=(0, 1), borderaxespad=0.3)


def balanced_columns(counts: list[int], ncols: int) -> list[list[int]]:
    """Split goals (in order) into at most ``ncols`` contiguous columns so that the tallest
    column (rows plus a title each) is as short as possible."""
    weights = [c + 2.5 for c in counts]
    if not weights:
        return []
    best: tuple[float, list[list[int]]] | None = None
    for parts in _splits(0, len(weights), min(ncols, len(weights))):
        tallest = max(sum(weights[i] for i in part) for part in parts)
        if best is None or tallest < best[0]:
            best = (tallest, parts)
    return best[1] if best else []


def _splits(start: int, end: int, k: int):
    if k == 1:
        yield [list(range(start, end))]
        return
    for cut in range(start + 1, end - k + 2):
        for rest in _splits(cut, end, k - 1):
            yield [list(range(start, cut)), *rest]
