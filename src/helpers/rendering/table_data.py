"""Tables as data: the cells of a displayed table as text, so that the PDF builds its tables
from data (not by parsing HTML) and HTML and PDF align the same cells.

:func:`enable_table_data` registers an IPython formatter that gives every displayed DataFrame,
besides pandas' HTML, a ``application/vnd.skr.table+json`` bundle (:func:`table_data`): header
rows and body cells as text, exactly what the HTML shows. The runner's setup cell calls it;
:func:`helpers.rendering.captions.show_table` adds the bundle itself."""

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


_SPACES = re.compile(r"[ \t\r\n]+")


def _cell_text(value: Any, missing: str = "") -> str:
    try:
        if pd.isna(value):
            return missing
    except (TypeError, ValueError):
        pass
    return _SPACES.sub(" ", str(value)).strip()  # keeps thin and no-break spaces


def table_data(frame: Any, missing: str = "") -> dict[str, Any]:
    """A DataFrame as ``{"header": [[str]], "body": [[str]]}`` for the PDF.

    A named index (or a MultiIndex) becomes the first column(s), headed by its name(s); pandas'
    default 0, 1, 2, … index is left out. MultiIndex columns give one header row per level.
    Missing values read ``missing`` (empty, as in the reports' HTML); everything else is shown
    as ``str`` (display frames are already Swedish text).
    """
    index = frame.index
    plain = isinstance(index, pd.RangeIndex) and index.name is None
    index_names = [] if plain else [_cell_text(n) if n is not None else "" for n in index.names]
    levels = frame.columns.nlevels
    header: list[list[str]] = []
    for level in range(levels):
        labels = (frame.columns.get_level_values(level) if levels > 1 else frame.columns)
        lead = index_names if level == levels - 1 else [""] * len(index_names)
        header.append(lead + [_cell_text(label) for label in labels])
    body = []
    for key, row in zip(index, frame.itertuples(index=False, name=None), strict=True):
        keys = [] if plain else (list(key) if isinstance(key, tuple) else [key])
        body.append([_cell_text(v) for v in keys] + [_cell_text(v, missing) for v in row])
    return {"header": header, "body": body, "index_columns": len(index_names)}


def html_table_data(html: str) -> dict[str, Any]:
    """The first table of an HTML output as :func:`table_data` gives it (for outputs made
    without the data bundle, e.g. a notebook run outside the runner): rows of ``<thead>`` (or
    of ``<th>`` cells only) are header rows; pandas' empty-corner index header row is merged."""
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
    if len(header) == 2 and not header[0][0] and all(not t for t in header[1][1:]):
        header = [[header[1][0], *header[0][1:]]]
    # pandas' default index (0, 1, 2, … under an empty header) says nothing: leave it out
    if body and all(not row[0] for row in header) and [
            row[0] for row in body] == [str(i) for i in range(len(body))]:
        header, body = [row[1:] for row in header], [row[1:] for row in body]
    return {"header": header, "body": body, "index_columns": 0}


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


NUMERIC_CELL = re.compile(r"^(?:[−\-+]?[\d\u202f\u00a0 ]+(?:[,.]\d+)?\s?%?|saknas( i data)?|–|-|)$")
"""A table cell that reads as a number (Swedish format) or a missing-value mark: right-aligned
in HTML and PDF alike."""
