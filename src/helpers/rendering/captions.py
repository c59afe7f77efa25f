"""The caption convention: how a notebook shows a figure or a table so that the exporters can
number, caption and describe it.

Figures and tables are displayed with an output-metadata block under the key ``"skr"``::

    {"skr": {"kind": "figure", "number": 1, "title": "Spridningen av …",
             "alt": "Punktdiagram …", "csv": "tables/figur1.csv",
             "source": "Källa: Kolada (RKA), egna beräkningar. År 2022.",
             "width_mm": 160.0,
             "files": ["figures/figur1.svg", "figures/figur1.pdf", "figures/figur1.png"]}}

:func:`show_figure` and :func:`show_table` publish exactly that; notebooks reach them through
:mod:`helpers.rendering.notebook`, which also writes the figure and CSV files. ``csv`` and
``files`` are relative to the variant folder (``reports/<variant>/``); ``width_mm`` is the
figure's printed width (the PDF places it at that width, the HTML at least that wide). This is
the only caption format the exporters read; images without the block are still exported,
numbered in order, with a generic caption. Cheap to import: no nbconvert.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from typing import Any

from IPython.display import display

from helpers.domain import CAPTION_KEY, KOLADA_SOURCE_LINE
from helpers.formatting import MISSING
from helpers.rendering.table_data import TABLE_MIME, table_data
from helpers.rendering.table_html import table_html

SKR = CAPTION_KEY
"""The output-metadata key of the caption convention."""


def _optional(meta: dict[str, Any], csv: str | None, source: str | None,
              keys: Sequence[str] | None) -> dict[str, Any]:
    if csv:
        meta["csv"] = str(csv)
    if source:
        meta["source"] = str(source)
    if keys:
        meta["keys"] = [str(k) for k in keys]
    return {SKR: meta}


def figure_metadata(number: int, title: str, alt: str, *, csv: str | None = None,
                    source: str | None = None, keys: Sequence[str] | None = None,
                    width_mm: float | None = None,
                    files: Sequence[str] | None = None) -> dict[str, Any]:
    """The ``{"skr": …}`` output metadata of a figure (see the module docstring); ``keys``:
    the CSV's columns that tell its rows apart (what a comparison of versions matches on);
    ``width_mm``: its printed width; ``files``: its SVG, PDF and PNG (relative to the variant)."""
    meta: dict[str, Any] = {"kind": "figure", "number": int(number), "title": str(title),
                            "alt": str(alt)}
    if width_mm:
        meta["width_mm"] = round(float(width_mm), 2)
    if files:
        meta["files"] = [str(f) for f in files]
    return _optional(meta, csv, source, keys)


def table_metadata(number: int, title: str, *, csv: str | None = None,
                   source: str | None = None, keys: Sequence[str] | None = None,
                   xlsx: str | None = None) -> dict[str, Any]:
    """The ``{"skr": …}`` output metadata of a table; ``xlsx``: the table for Excel."""
    meta: dict[str, Any] = {"kind": "table", "number": int(number), "title": str(title)}
    if xlsx:
        meta["xlsx"] = str(xlsx)
    return _optional(meta, csv, source, keys)


def figure_png(fig: Any, dpi: int = 150) -> bytes:
    """A matplotlib figure as PNG bytes without text chunks (no version string, no date)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight", metadata={"Software": None})
    return strip_png_metadata(buffer.getvalue())


def show_figure(image: Any, *, number: int, title: str, alt: str, csv: str | None = None,
                source: str | None = KOLADA_SOURCE_LINE, dpi: int = 150,
                keys: Sequence[str] | None = None, width_mm: float | None = None,
                files: Sequence[str] | None = None) -> None:
    """Display a figure (SVG text, PNG bytes or a matplotlib figure) with its caption metadata.

    ``alt`` describes what the figure shows for readers who cannot see it. Writing the figure's
    files is ``helpers.rendering.notebook``'s job.
    """
    if isinstance(image, str):
        bundle = {"image/svg+xml": image}
    else:
        png = image if isinstance(image, bytes | bytearray) else figure_png(image, dpi=dpi)
        bundle = {"image/png": base64.b64encode(png).decode("ascii")}
    bundle["text/plain"] = f"Figur {number}: {title}"
    display(bundle, raw=True, metadata=figure_metadata(
        number, title, alt, csv=csv, source=source, keys=keys, width_mm=width_mm, files=files))


def description_metadata(number: int) -> dict[str, Any]:
    """The ``{"skr": …}`` output metadata of the text that describes figure ``number`` in full
    (the statements, group means and n under it): the exporters link the figure to it."""
    return {SKR: {"kind": "description", "number": int(number)}}


def show_description(markdown: str, *, number: int) -> None:
    """Display the long description of figure ``number`` (Swedish Markdown, shown under it)."""
    display({"text/markdown": markdown, "text/plain": markdown}, raw=True,
            metadata=description_metadata(number))


def table_bundle(table: Any, *, number: int, title: str, csv: str | None = None,
                 source: str | None = KOLADA_SOURCE_LINE, index: bool = False,
                 keys: Sequence[str] | None = None,
                 group: str | None = None,
                 xlsx: str | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """The display data and caption metadata of a table: what :func:`show_table` displays, and
    what a build adds to an executed notebook as an output (``build.previous``). A DataFrame
    becomes the table model (:mod:`.table_data`; ``group`` names a column whose values become
    row groups) and the HTML built from it, the caption as its ``<caption>``."""
    bundle: dict[str, Any] = {}
    if hasattr(table, "to_html"):
        shown = table if index else table.reset_index(drop=True)
        model = table_data(shown, missing=MISSING, group=group)
        bundle[TABLE_MIME] = model
        html_text = table_html(model, label=f"Tabell {number}", title=title)
        text = table.to_string(index=index)
    else:
        html_text, text = str(table), f"Tabell {number}: {title}"
    return ({"text/html": html_text, "text/plain": text, **bundle},
            table_metadata(number, title, csv=csv, source=source, keys=keys, xlsx=xlsx))


def show_table(table: Any, *, number: int, title: str, csv: str | None = None,
               source: str | None = KOLADA_SOURCE_LINE, index: bool = False,
               keys: Sequence[str] | None = None, group: str | None = None,
               xlsx: str | None = None) -> None:
    """Display a DataFrame (or ready HTML) as "Tabell N: title" (see :func:`table_bundle`);
    ``xlsx``: the table for Excel, linked from the caption."""
    data, metadata = table_bundle(table, number=number, title=title, csv=csv, source=source,
                                  index=index, keys=keys, group=group, xlsx=xlsx)
    display(data, raw=True, metadata=metadata)


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


_PNG_DROP = {b"tEXt", b"iTXt", b"zTXt", b"tIME"}


def strip_png_metadata(data: bytes) -> bytes:
    """Drop the text and time chunks of a PNG (matplotlib writes its version there)."""
    if not data.startswith(_PNG_SIGNATURE):
        return data
    out, pos = [_PNG_SIGNATURE], len(_PNG_SIGNATURE)
    while pos + 8 <= len(data):
        length = int.from_bytes(data[pos:pos + 4], "big")
        end = pos + 12 + length
        if data[pos + 4:pos + 8] not in _PNG_DROP:
            out.append(data[pos:end])
        pos = end
    return b"".join(out)

