"""The changes between two versions of a variant as Swedish text: the section "Ändringar sedan
förra versionen" (Markdown, every text from data escaped) and the plain text of
``skr-report diff A B`` (the same content). What changed is :mod:`.changes`."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from helpers.build.changes import Changes, TableChange, number_text
from helpers.formatting import escape_markdown, format_number, unescape_markdown


def _signed(delta: float | None, decimals: int) -> str:
    if delta is None:
        return "–"
    text = format_number(delta, decimals)
    return f"+{text}" if delta > 0 and text.strip("0,") else text


def _plural(n: int, one: str, many: str) -> str:
    return f"{format_number(n)} {one if n == 1 else many}"


def _series(items: Sequence[str]) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " och " + items[-1]


def _rows(rows: Sequence[tuple[str, ...]], limit: int = 3) -> str:
    shown = "; ".join(escape_markdown(" · ".join(r)) for r in rows[:limit])
    more = len(rows) - limit
    return shown + (f" med flera ({format_number(more)} till)" if more > 0 else "")


def table_summary(table: TableChange) -> str:
    """"Figur 1 (tables/figur1.csv): 1 210 värden ändrade, 1 rad försvann; ar 2022 → 2023."."""
    where = f"{table.label} (tables/{table.name})" if table.label != table.name \
        else f"tables/{table.name}"
    if table.state == "ny":
        return f"{where}: ny i den här versionen."
    if table.state == "borttagen":
        return f"{where}: finns inte längre."
    parts = []
    if table.cells:
        parts.append(_plural(len(table.cells), "värde ändrat", "värden ändrade"))
    if table.added:
        parts.append(_plural(len(table.added), "rad tillkom", "rader tillkom"))
    if table.removed:
        parts.append(_plural(len(table.removed), "rad försvann", "rader försvann"))
    if table.hidden:
        parts.append(_plural(table.hidden, "värde ändrat mindre än decimalerna visar",
                             "värden ändrade mindre än decimalerna visar"))
    if table.columns_added:
        parts.append("nya kolumner " + ", ".join(escape_markdown(c)
                                                 for c in table.columns_added))
    if table.columns_removed:
        parts.append("borttagna kolumner " + ", ".join(escape_markdown(c)
                                                       for c in table.columns_removed))
    moved = "; ".join(f"{escape_markdown(c)} {escape_markdown(a)} → {escape_markdown(b)}"
                      for c, (a, b) in table.moved.items())
    text = f"{where}: " + (", ".join(parts) or "inga värden ändrade")
    return text + (f"; {moved}" if moved else "") + "."


def _figure_files(figures: dict[str, str]) -> str:
    """``{"figur1.png": "ändrad", "figur1.svg": "ändrad"}`` → "figur1 (png/svg): ändrad"
    (Markdown, names escaped)."""
    by_state: dict[str, dict[str, list[str]]] = {}
    for name, state in figures.items():
        stem, _, suffix = name.rpartition(".")
        by_state.setdefault(state, {}).setdefault(stem or name, []).append(suffix)
    parts = []
    for state, stems in by_state.items():
        files = ", ".join(f"{escape_markdown(stem)} ({'/'.join(map(escape_markdown, kinds))})"
                          for stem, kinds in stems.items())
        parts.append(f"{files}: {state}")
    return "; ".join(parts)


LARGEST_COLUMNS = ["Underlag", "Rad", "Kolumn", "Förra versionen", "Den här versionen",
                   "Ändring"]
LARGEST_TITLE = "Största ändringarna sedan förra versionen, värde för värde"


def intro(changes: Changes, heading: str = "## Ändringar sedan förra versionen") -> str:
    """The section's start (Markdown): the two versions, what changed, changed verdicts."""
    lines = [heading, "",
             f"Förra versionen: {changes.before.describe()}. Den här versionen: "
             f"{changes.after.describe()}.", ""]
    if changes.unchanged:
        lines.append("Inga tabeller eller figurer har ändrats.")
        return "\n".join(lines) + "\n"
    changed, same = changes.pieces()
    lines.append(f"Ändrade: {_series([escape_markdown(x) for x in changed])}."
                 + (f" Oförändrade: {_series([escape_markdown(x) for x in same])}."
                    if same else ""))
    if changes.verdicts:
        before_when, after_when = changes.when()
        lines += ["", "**Påståenden med ändrad bedömning**", ""]
        lines += [f"- {escape_markdown(v.claim)} {v.text(before_when, after_when)}."
                  .replace(". höll", ": höll").replace(". kunde", ": kunde")
                  for v in changes.verdicts]
    return "\n".join(lines) + "\n"


def largest_frame(changes: Changes, per_table: int = 3, limit: int = 12) -> pd.DataFrame:
    """The largest changes as a table of text (:data:`LARGEST_COLUMNS`), numbers in the report's
    format; no rows when no number changed."""
    labels = {t.name: t.label for t in changes.tables}
    rows = [(labels.get(cell.table, cell.table), " · ".join(cell.row), cell.column,
             number_text(cell.before, cell.decimals), number_text(cell.after, cell.decimals),
             _signed(cell.delta, cell.decimals))
            for cell in ([] if changes.unchanged else changes.largest(per_table, limit))]
    return pd.DataFrame(rows, columns=LARGEST_COLUMNS)


def details(changes: Changes) -> str:
    """The section's end (Markdown): rows that appeared or went, one line per changed table
    and the figure files."""
    if changes.unchanged:
        return ""
    lines: list[str] = []
    moved_rows = [t for t in changes.changed_tables if t.added or t.removed]
    if moved_rows:
        lines += ["**Rader som tillkom eller försvann**", ""]
        for table in moved_rows:
            parts = []
            if table.added:
                parts.append(f"tillkom: {_rows(table.added)}")
            if table.removed:
                parts.append(f"försvann: {_rows(table.removed)}")
            lines.append(f"- {escape_markdown(table.label)}: " + "; ".join(parts) + ".")
        lines.append("")
    lines += ["**Per underlag**", ""]
    lines += [f"- {table_summary(t)}" for t in changes.changed_tables]
    if changes.figures:
        lines.append(f"- Figurfiler: {_figure_files(changes.figures)}.")
    return "\n".join(lines) + "\n"


def _pipe_table(frame: pd.DataFrame) -> list[str]:
    lines = ["| " + " | ".join(frame.columns) + " |", "|:---|:---|:---|---:|---:|---:|"]
    lines += ["| " + " | ".join([*(escape_markdown(str(v)) for v in row[:-1]), str(row[-1])])
              + " |" for row in frame.itertuples(index=False)]  # the change: computed here
    return lines


def markdown(changes: Changes, *, heading: str = "## Ändringar sedan förra versionen",
             per_table: int = 3, limit: int = 12) -> str:
    """The whole section as one Markdown text (every text from data escaped); the report shows
    the same with the table as one of its tables (:mod:`.previous`)."""
    lines = [intro(changes, heading).rstrip("\n")]
    largest = largest_frame(changes, per_table, limit)
    if len(largest):
        lines += ["", f"**{LARGEST_TITLE}**", "", *_pipe_table(largest)]
    rest = details(changes)
    if rest:
        lines += ["", rest.rstrip("\n")]
    return "\n".join(lines) + "\n"


def text(changes: Changes) -> str:
    """The same content as plain text, for ``skr-report diff``."""
    plain = markdown(changes, heading="Ändringar sedan förra versionen", limit=20)
    return unescape_markdown(plain.replace("**", ""))


__all__ = ["LARGEST_COLUMNS", "LARGEST_TITLE", "details", "intro", "largest_frame", "markdown",
           "table_summary", "text"]
