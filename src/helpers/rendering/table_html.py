"""A table model (:mod:`.table_data`) as accessible HTML: the caption as the table's
``<caption>``, one header row of ``th scope="col"``, row headers ``th scope="row"``, row groups
as ``tbody`` sections headed by ``th scope="rowgroup"``, every cell aligned as its column.

The HTML is built from text, escaped here: nothing in a cell can become markup. The scroll box
around the table (keyboard-focusable, named by the caption) is the page template's.
"""

from __future__ import annotations

from html import escape
from typing import Any

WIDE_CHARACTERS = 110
"""A table whose columns want more characters than this (longest word or, up to
``CELL_CHARACTERS``, longest cell, per column) is "wide": the page gives it a scroll box of its
own with a sticky header and first column."""


CELL_CHARACTERS = 28


def _cell_class(align: str) -> str:
    return ' class="num"' if align == "right" else ""


def is_wide(model: dict[str, Any]) -> bool:
    """Whether the table wants more room than a page's text column (see :data:`WIDE_CHARACTERS`)."""
    rows = model["header"] + model["body"]
    columns = len(model["align"])
    want = 0
    for col in range(columns):
        cells = [row[col] for row in rows if col < len(row)]
        longest = max((len(c) for c in cells), default=0)
        word = max((len(w) for c in cells for w in c.split()), default=0)
        want += max(word, min(longest, CELL_CHARACTERS)) + 2
    return want > WIDE_CHARACTERS


def _header_row(model: dict[str, Any]) -> str:
    cells = [f'<th scope="col"{_cell_class(a)}>{escape(text)}</th>'
             for text, a in zip(model["header"][0], model["align"], strict=True)]
    return "<tr>" + "".join(cells) + "</tr>"


def _body_row(row: list[str], model: dict[str, Any]) -> str:
    heads = model["index_columns"]
    cells = []
    for col, (text, align) in enumerate(zip(row, model["align"], strict=True)):
        if col < heads:
            cells.append(f'<th scope="row">{escape(text)}</th>')
        else:
            cells.append(f"<td{_cell_class(align)}>{escape(text)}</td>")
    return "<tr>" + "".join(cells) + "</tr>"


def _sections(model: dict[str, Any]) -> list[tuple[str, list[list[str]]]]:
    """The body as (group label, rows) runs; one unlabelled run when there are no groups."""
    body = model["body"]
    groups = model.get("groups") or [[0, ""]]
    starts = [int(start) for start, _ in groups] + [len(body)]
    return [(label, body[starts[i]:starts[i + 1]]) for i, (_, label) in enumerate(groups)]


def table_html(model: dict[str, Any], *, caption_id: str = "", label: str = "",
               title: str = "") -> str:
    """The ``<table>`` of ``model``; with ``label`` ("Tabell 2") or ``title`` a ``<caption>``
    (id ``caption_id``) reading "Tabell 2: title"."""
    lines = ['<table class="skr-table-data">']
    if label or title:
        ident = f' id="{escape(caption_id)}"' if caption_id else ""
        text = (f'<span class="caption-label">{escape(label)}:</span> ' if label else "")
        lines.append(f'<caption{ident}><span class="caption-text">{text}{escape(title)}'
                     "</span></caption>")
    lines += ["<thead>", _header_row(model), "</thead>"]
    columns = len(model["align"])
    for group, rows in _sections(model):
        lines.append('<tbody class="group">' if group else "<tbody>")
        if group:
            lines.append(f'<tr><th scope="rowgroup" colspan="{columns}"><span>{escape(group)}'
                         "</span></th></tr>")
        lines += [_body_row(row, model) for row in rows]
        lines.append("</tbody>")
    lines.append("</table>")
    return "\n".join(lines)
