"""The one table model: a displayed table as text cells plus how to set it, so that the HTML
(:mod:`.table_html`) and the PDF (``skr-table`` in ``skr.typ``) are built from the same data,
never by parsing each other.

A model (:func:`table_data`, the ``application/vnd.skr.table+json`` bundle of a displayed table)
is a dict::

    {"header": [["Nyckeltal", "Id", "Höör", …]],   # exactly one header row
     "body": [["Invånare", "N01951", "2 782", …], …],
     "index_columns": 1,          # leading columns that are row headers (th scope=row;
                                  # in the PDF TH /Scope /Row, see .pdf_tags)
     "align": ["left", "left", "right", …],        # per column, header and cells alike
     "groups": [[0, "1 Ingen fattigdom"], [5, "2 Ingen hunger"], …]}

``groups`` are row groups: ``[first body row, label]``, each running to the next; an empty
label is a run of rows outside any group (e.g. the result rows after "Kostnader"). The model
folds pandas' index names into the one header row, names the corner (``columns.name``), drops
columns empty in every row and aligns a column right when every cell in it reads as a number
(or a missing-value mark) and at least one is a number.

:func:`enable_table_data` registers an IPython formatter that gives every displayed DataFrame
the bundle; :func:`helpers.rendering.captions.show_table` adds it itself.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd
from bs4 import BeautifulSoup
from IPython import get_ipython
from IPython.core.formatters import BaseFormatter
from traitlets import ObjectName, Unicode

TABLE_MIME = "application/vnd.skr.table+json"
"""Output mime type of a table as data (see :func:`table_data`)."""


NUMERIC_CELL = re.compile(
    r"^(?:[−\-+]?[\d\u202f\u00a0 ]+(?:[,.]\d+)?\s?%?(?: av [\d\u202f\u00a0 ]+)?"
    r"|saknas( i data)?|–|-|)$")
"""A table cell that reads as a number (Swedish format, also a rank such as "199 av 286") or a
missing-value mark."""


_NUMBER = re.compile(r"\d")


_SPACES = re.compile(r"[ \t\r\n]+")


def _cell_text(value: Any, missing: str = "") -> str:
    try:
        if pd.isna(value):
            return missing
    except (TypeError, ValueError):
        pass
    return _SPACES.sub(" ", str(value)).strip()  # keeps thin and no-break spaces


def column_align(body: list[list[str]], index_columns: int, columns: int) -> list[str]:
    """``"right"`` for a column whose every cell reads as a number or a missing mark (at least
    one a number), else ``"left"``; row-header columns are always left."""
    align = []
    for col in range(columns):
        cells = [row[col] for row in body if col < len(row)]
        numeric = (col >= index_columns and any(_NUMBER.search(c) for c in cells)
                   and all(NUMERIC_CELL.match(c) for c in cells))
        align.append("right" if numeric else "left")
    return align


def _header_labels(frame: Any) -> list[str]:
    """One header row: MultiIndex column levels joined, repeated parts said once."""
    if frame.columns.nlevels == 1:
        return [_cell_text(label) for label in frame.columns]
    labels = []
    for parts in frame.columns:
        words = [_cell_text(p) for p in parts if _cell_text(p)]
        labels.append(" ".join(dict.fromkeys(words)))
    return labels


def _groups(labels: list[str]) -> list[list[Any]]:
    groups: list[list[Any]] = []
    for row, label in enumerate(labels):
        if not groups or groups[-1][1] != label:
            groups.append([row, label])
    return groups if any(label for _, label in groups) else []


_RANGE = re.compile(r"(?<=\w)([–-])(?=\w)")
_OPERATOR = re.compile(r"(?<=\S) ([−–=×/]) (?=\S)")


def keep_together(label: str) -> str:
    """A header that breaks only between words: "2023–2024" and "K − M" stay whole (word
    joiners around a range dash, no-break spaces around an operator)."""
    label = _RANGE.sub("\u2060\\1\u2060", label)
    return _OPERATOR.sub("\u00a0\\1\u00a0", label)


def finish_model(header: list[str], body: list[list[str]], index_columns: int,
                 groups: list[list[Any]] | None = None) -> dict[str, Any]:
    """The model from one header row and the body: empty columns dropped, alignment set,
    headers kept whole where a range or an operator would break them."""
    columns = max([len(header), *(len(r) for r in body)], default=0)
    header = [keep_together(h) for h in header] + [""] * (columns - len(header))
    body = [r + [""] * (columns - len(r)) for r in body]
    keep = [c for c in range(columns)
            if c < index_columns or not body or any(r[c] for r in body)]
    header = [header[c] for c in keep]
    body = [[r[c] for c in keep] for r in body]
    return {"header": [header], "body": body, "index_columns": index_columns,
            "align": column_align(body, index_columns, len(keep)), "groups": groups or []}


def table_data(frame: Any, missing: str = "", *, group: str | None = None,
               row_headers: int = 1) -> dict[str, Any]:
    """A DataFrame (cells already Swedish text) as the table model (see the module docstring).

    A named index (or a MultiIndex) becomes the first column(s), headed by its name(s) or, for
    one unnamed level, by ``columns.name``; those are the row headers. pandas' default 0, 1, 2, …
    index is left out and the first ``row_headers`` columns are the row headers instead. The
    column ``group`` (if given) is taken out and its values become row groups. Missing values
    read ``missing``.
    """
    index = frame.index
    plain = isinstance(index, pd.RangeIndex) and index.name is None
    labels = [] if group is None else [_cell_text(v) for v in frame[group]]
    if group is not None:
        frame = frame.drop(columns=[group])
    corner = _cell_text(frame.columns.name) if frame.columns.name is not None else ""
    names = [] if plain else [_cell_text(n) if n is not None else "" for n in index.names]
    if len(names) == 1 and not names[0]:
        names = [corner]
    header = names + _header_labels(frame)
    body = []
    for key, row in zip(index, frame.itertuples(index=False, name=None), strict=True):
        keys = [] if plain else (list(key) if isinstance(key, tuple) else [key])
        body.append([_cell_text(v) for v in keys] + [_cell_text(v, missing) for v in row])
    heads = len(names) if names else min(row_headers, len(header))
    return finish_model(header, body, heads, _groups(labels))


def html_table_data(html: str) -> dict[str, Any]:
    """The first table of an HTML output as :func:`table_data` gives it (for outputs made
    without the data bundle, e.g. a notebook run outside the runner): rows of ``<thead>`` (or
    of ``<th>`` cells only) are header rows, several of them folded into one; pandas'
    empty-corner index header row is merged."""
    table = BeautifulSoup(html, "html.parser").find("table")
    header: list[list[str]] = []
    body: list[list[str]] = []
    for row in table.find_all("tr") if table is not None else []:
        cells = row.find_all(["th", "td"])
        texts = []
        for cell in cells:
            texts += [_cell_text(cell.get_text(" "))] * max(1, int(cell.get("colspan", 1) or 1))
        in_head = row.find_parent("thead") is not None or all(c.name == "th" for c in cells)
        (header if in_head and not body else body).append(texts)
    # pandas writes a named index as a second header row: "Variabel", "", "" under "", "A", "B"
    index_columns = 1
    if len(header) == 2 and not header[0][0] and all(not t for t in header[1][1:]):
        header = [[header[1][0], *header[0][1:]]]
    # pandas' default index (0, 1, 2, … under an empty header) says nothing: leave it out
    if body and all(not row[0] for row in header) and [
            row[0] for row in body] == [str(i) for i in range(len(body))]:
        header, body = [row[1:] for row in header], [row[1:] for row in body]
    return finish_model(_fold(header), body, index_columns)


def _fold(rows: list[list[str]]) -> list[str]:
    """Several header rows as one: each column's labels joined, repeated parts said once."""
    width = max((len(r) for r in rows), default=0)
    return [" ".join(dict.fromkeys(r[c] for r in rows if c < len(r) and r[c]))
            for c in range(width)]


class TableDataFormatter(BaseFormatter):
    """IPython's formatter of the :data:`TABLE_MIME` bundle."""

    format_type = Unicode(TABLE_MIME)
    print_method = ObjectName("_repr_skr_table_")
    _return_type = (dict,)


def enable_table_data(shell: Any = None) -> bool:
    """Give DataFrames displayed in this IPython kernel a :data:`TABLE_MIME` bundle too.

    Returns False outside IPython. Idempotent.
    """
    shell = shell or get_ipython()
    if shell is None:
        return False
    formatters = shell.display_formatter.formatters
    if TABLE_MIME not in formatters:
        formatters[TABLE_MIME] = TableDataFormatter(parent=shell.display_formatter)
    formatters[TABLE_MIME].for_type(pd.DataFrame, table_data)
    return True
