"""The changes between two versions of a variant as Swedish text: the section "Ändringar sedan
förra versionen" (Markdown, every text from data escaped) and the plain text of
``skr-report diff A B`` (the same content). What changed is :mod:`.changes`."""

from __future__ import annotations

from collections.abc import Sequence

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


def markdown(changes: Changes, *, heading: str = "## Ändringar sedan förra versionen",
             per_table: int = 3, limit: int = 12) -> str:
    """The Swedish section of a rebuilt report (Markdown; every text from data escaped)."""
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
    largest = changes.largest(per_table, limit)
    if largest:
        lines += ["", "**Största ändringarna, värde för värde**", "",
                  "| Underlag | Rad | Kolumn | Förra versionen | Den här versionen | Ändring |",
                  "|---|---|---|---:|---:|---:|"]
        labels = {t.name: t.label for t in changes.tables}
        for cell in largest:
            lines.append(
                f"| {escape_markdown(labels.get(cell.table, cell.table))} "
                f"| {escape_markdown(' · '.join(cell.row))} | {escape_markdown(cell.column)} "
                f"| {escape_markdown(number_text(cell.before, cell.decimals))} "
                f"| {escape_markdown(number_text(cell.after, cell.decimals))} "
                f"| {_signed(cell.delta, cell.decimals)} |")
    moved_rows = [t for t in changes.changed_tables if t.added or t.removed]
    if moved_rows:
        lines += ["", "**Rader som tillkom eller försvann**", ""]
        for table in moved_rows:
            parts = []
            if table.added:
                parts.append(f"tillkom: {_rows(table.added)}")
            if table.removed:
                parts.append(f"försvann: {_rows(table.removed)}")
            lines.append(f"- {escape_markdown(table.label)}: " + "; ".join(parts) + ".")
    lines += ["", "**Per underlag**", ""]
    lines += [f"- {table_summary(t)}" for t in changes.changed_tables]
    figures = [f"{name} ({state})" for name, state in changes.figures.items()]
    if figures:
        lines.append(f"- Figurfiler: {escape_markdown(', '.join(figures))}.")
    return "\n".join(lines) + "\n"


def text(changes: Changes) -> str:
    """The same content as plain text, for ``skr-report diff``."""
    plain = markdown(changes, heading="Ändringar sedan förra versionen", limit=20)
    return unescape_markdown(plain.replace("**", ""))


__all__ = ["markdown", "table_summary", "text"]
