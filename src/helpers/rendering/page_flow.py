"""The PDF's document structure: a notebook's pieces (text, tables, figures) in reading order,
grouped so that its pages flow like a publication's (:mod:`.pdf` builds the pieces, ``skr.typ``
lays the groups out).

Every table or figure becomes a *group* with

- its **lead**: the heading and intro just above it (from the last heading since the previous
  table or figure). The lead sticks to the element, so a heading and its intro never stay
  behind at the foot of a page or on a page of their own, and a table turned to landscape takes
  its heading and intro onto the landscape page with it. A lead longer than about ten lines of
  text is not kept: it would leave half a page empty; its heading still keeps its first lines;
- its **note**: the text that follows it in the same notebook cell (a table's note stays with
  it on a landscape page).

Groups with no other text between them form a *run*, one ``#skr-run(...)`` call: ``skr.typ``
decides there which tables need landscape pages and sets consecutive landscape groups on the
same turned pages. Text that neither leads nor notes an element stays plain markup.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

LEAD_MAX_CHARS = 1000
"""The longest intro (in characters of its Markdown) kept together with its table or figure:
about ten lines of the PDF's body text."""

ELEMENT_CALLS = ("skr-table", "skr-figure")


@dataclass
class Piece:
    """One piece of the document in reading order.

    ``kind`` is ``"element"`` (a table or figure: ``markup`` is its item reference such as
    ``items.at(3)``) or ``"text"`` (``markup`` is Typst markup); ``cell`` the notebook cell it
    comes from; ``heading`` whether the text starts with a heading; ``size`` the length of its
    source text."""

    kind: str
    markup: str
    cell: int
    heading: bool = False
    size: int = 0


@dataclass
class Group:
    """A table or figure with its lead and its note (Typst markup, empty when none)."""

    element: str
    lead: str = ""
    lead_heading: bool = False
    note: str = ""


_HEADING = re.compile(r"^#{1,6}\s")
_FENCE = re.compile(r"^(```|~~~)")


def split_at_headings(markdown: str) -> list[str]:
    """A Markdown text cut before each heading (outside code blocks): every part but perhaps
    the first starts with its heading."""
    parts: list[list[str]] = [[]]
    fenced = False
    for line in markdown.splitlines():
        if _FENCE.match(line):
            fenced = not fenced
        if not fenced and _HEADING.match(line) and any(s.strip() for s in parts[-1]):
            parts.append([])
        parts[-1].append(line)
    return [text for text in ("\n".join(p).strip("\n") for p in parts) if text.strip()]


def starts_with_heading(markdown: str) -> bool:
    return bool(_HEADING.match(markdown.lstrip("\n")))


def _take_lead(pending: list[Piece]) -> list[Piece]:
    """The lead of the element after ``pending`` (free text since the previous element): the
    pieces from the last heading on, or the last piece when none has a heading; nothing when
    that is longer than ``LEAD_MAX_CHARS``. The lead is removed from ``pending``."""
    start = next((i for i in range(len(pending) - 1, -1, -1) if pending[i].heading),
                 len(pending) - 1)
    if start < 0 or sum(p.size for p in pending[start:]) > LEAD_MAX_CHARS:
        return []
    lead = pending[start:]
    del pending[start:]
    return lead


def flow(pieces: list[Piece]) -> list[str | list[Group]]:
    """The document as plain text markup and runs of groups, in reading order."""
    out: list[str | list[Group]] = []
    pending: list[Piece] = []
    run: list[Group] = []
    index = 0
    while index < len(pieces):
        piece = pieces[index]
        index += 1
        if piece.kind != "element":
            pending.append(piece)
            continue
        lead = _take_lead(pending)
        if pending:  # text between the previous group and this one ends the run
            if run:
                out.append(run)
                run = []
            out.extend(p.markup for p in pending)
            pending = []
        note = []
        while index < len(pieces) and pieces[index].kind != "element" \
                and pieces[index].cell == piece.cell:
            note.append(pieces[index].markup)
            index += 1
        run.append(Group(piece.markup, "\n\n".join(p.markup for p in lead),
                         bool(lead) and lead[0].heading, "\n\n".join(note)))
    if run:
        out.append(run)
    out.extend(p.markup for p in pending)
    return out


def _content(markup: str) -> str:
    return f"[\n{markup}\n]" if markup.strip() else "none"


def run_markup(run: list[Group]) -> str:
    """One ``#skr-run(...)`` call: a Typst array of dictionaries (item, lead, note)."""
    groups = [f"  (item: {g.element}, lead: {_content(g.lead)}, "
              f"lead-heading: {'true' if g.lead_heading else 'false'}, "
              f"note: {_content(g.note)})," for g in run]
    return "#skr-run((\n" + "\n".join(groups) + "\n))"


def body_markup(pieces: list[Piece]) -> str:
    """The document body: plain markup and ``#skr-run`` calls, blank lines between."""
    parts = [part if isinstance(part, str) else run_markup(part) for part in flow(pieces)]
    return "\n\n".join(part for part in parts if part.strip()) + "\n"
