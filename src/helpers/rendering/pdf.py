"""The accessible PDF: an nbconvert Typst exporter compiled in-process (no TeX, pip only).

- :class:`TypstPreprocessor` turns every output into a short Typst call such as
  ``#skr-table(items.at(3))`` and collects what it shows — captions, alt texts, table cells
  (:mod:`.table_data`), image files — into ``items`` of a JSON file that the document reads with
  ``json(...)``. Text from Kolada and the parameters therefore never becomes Typst markup: it is
  shown as data, literally, whatever characters it holds (``# $ * _ < @ \\`` and backticks
  included). Markdown goes through pandoc (:mod:`.markdown`).
- Figures: the SVG of a figure is embedded as vector (text stays text), placed at its printed
  width (``width_mm`` of the caption metadata); a PNG where there is no SVG.
- :func:`compile_pdf` compiles with the ``typst`` wheel in-process: PDF/UA-1 (tagged, title,
  ``/Lang sv``, alt texts), fonts from the wheel and matplotlib only (system fonts ignored, so
  every machine gives the same bytes), creation time fixed to the data vintage. A Typst error —
  for instance a figure that would break PDF/UA — raises :class:`PdfBuildError` naming the
  element; no untagged PDF is ever written. Typst cannot tag row headers (the wheel lacks
  its ``a11y-extras`` feature): :mod:`.pdf_tags` tags them in the structure tree afterwards.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import struct
import tempfile
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import Any

import typst
from nbconvert.exporters import TemplateExporter
from nbconvert.preprocessors import Preprocessor
from PIL import Image, UnidentifiedImageError
from traitlets import default
from traitlets.config import Config

from helpers import paths
from helpers.rendering.captions import SKR
from helpers.rendering.fonts import font_paths, fonts, mark_typst_used, typst_used_here  # noqa: F401
from helpers.rendering.markdown import PandocError, markdown_to_typst
from helpers.rendering.page_flow import (
    ELEMENT_CALLS,
    Piece,
    body_markup,
    split_at_headings,
    starts_with_heading,
)
from helpers.rendering.pdf_tags import RowHeaderError, expected_tables, tag_row_headers
from helpers.rendering.table_data import TABLE_MIME, column_align, html_table_data

log = logging.getLogger(__name__)


TYPST_MIME = "text/x-typst"
"""What :class:`TypstPreprocessor` turns each output into (the exporter's own mime type)."""


TEMPLATE_NAME = "skr_typst"


LIBRARY = "skr.typ"
"""The Typst library of the template folder (page, title block, figures, tables)."""


PDF_STANDARD = "ua-1"


class PdfBuildError(RuntimeError):
    """Typst could not build an accessible PDF; the message names the element and the cause."""


def _png_size(data: bytes) -> tuple[int, int] | None:
    if data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR":
        return struct.unpack(">II", data[16:24])
    return None


_SVG_BOX = re.compile(rb"viewBox=[\"']\s*[-\d.]+[\s,]+[-\d.]+[\s,]+([\d.]+)[\s,]+([\d.]+)")


def _image_size(data: bytes) -> tuple[float, float]:
    size = _png_size(data)
    if size:
        return size
    box = _SVG_BOX.search(data[:4096])
    if box:
        return float(box.group(1)), float(box.group(2))
    try:
        with Image.open(BytesIO(data)) as image:
            return image.size
    except (OSError, UnidentifiedImageError):
        return (0, 0)  # Typst will name the figure it cannot decode


def table_layout(model: dict[str, Any]) -> dict[str, Any]:
    """What ``skr-table`` in ``skr.typ`` needs of a table model (:mod:`.table_data`): the one
    header row, the body, each column's alignment, the row-header columns, the row groups and
    the font size (wide tables get smaller type). Typst measures the column widths and picks
    portrait or landscape."""
    header = (model.get("header") or [[]])[0]
    body = model.get("body") or []
    columns = max([len(header), *(len(r) for r in body)], default=0)
    align = list(model.get("align") or column_align(body, 1, columns))
    size = 9.0 if columns <= 5 else 8.0 if columns <= 10 else 7.5
    return {"header": header + [""] * (columns - len(header)),
            "body": [r + [""] * (columns - len(r)) for r in body],
            "align": align + ["left"] * (columns - len(align)),
            "index_columns": int(model.get("index_columns", 1)),
            "groups": [[int(start), str(label)] for start, label in model.get("groups") or []],
            "size": size}


@dataclass
class TypstItems:
    """What the PDF shows besides its markup: ``items`` (the JSON data of ``skr.json``),
    ``files`` (image name → bytes) and ``labels`` (item index → a human name such as
    ``"Figur 2"`` for error messages)."""

    items: list[dict[str, Any]] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)
    labels: dict[int, str] = field(default_factory=dict)

    def add(self, item: dict[str, Any], label: str) -> str:
        """Keep ``item`` and return the one-line Typst call that shows it."""
        self.items.append(item)
        index = len(self.items) - 1
        self.labels[index] = label
        return f"#{item['call']}(items.at({index}))"

    def as_resources(self) -> dict[str, Any]:
        return {"items": self.items, "files": self.files, "labels": self.labels}


Markup = str | tuple[str, str]
"""A Typst call, or ("markdown" | "html", text) still to go through pandoc."""


def _image_markup(data: dict[str, Any], image: str, meta: dict[str, Any], where: str,
                  items: TypstItems) -> str:
    text = "".join(data[image]) if isinstance(data[image], list) else str(data[image])
    raw = text.encode("utf-8") if image == "image/svg+xml" else base64.b64decode(text)
    suffix = {"image/png": "png", "image/jpeg": "jpg"}.get(image, "svg")
    name = f"bild-{len(items.files) + 1}.{suffix}"
    items.files[name] = raw
    width, height = _image_size(raw)  # (0, 0) when unreadable
    number = meta.get("number")
    aspect = height / width if width and height else 0.6
    return items.add({"call": "skr-figure", "file": name, "aspect": aspect, "number": number,
                      "width_mm": meta.get("width_mm"), "files": files_note(meta.get("files")),
                      "title": meta.get("title") or "", "alt": meta.get("alt") or "",
                      "source": meta.get("source") or "", "csv": meta.get("csv") or ""},
                     f"Figur {number}" if number else f"image in {where}")


def files_note(files: list[str] | None) -> str:
    """The figure's files as the caption names them: ``figures/figur1.svg · .pdf · .png``."""
    if not files:
        return ""
    first, *rest = files
    return " · ".join([first, *("." + f.rsplit(".", 1)[-1] for f in rest)])


def _table_markup(data: dict[str, Any], meta: dict[str, Any], where: str,
                  items: TypstItems) -> str:
    table = data.get(TABLE_MIME) or html_table_data("".join(data["text/html"]))
    if isinstance(table, str):
        table = json.loads(table)
    layout = table_layout(table)
    number = meta.get("number") if meta.get("kind") == "table" else None
    caption = {key: (meta.get(key) or "" if number else "") for key in ("title", "source", "csv")}
    return items.add({"call": "skr-table", **layout, "number": number, **caption,
                      "key": len(items.items)},
                     f"Tabell {number}" if number else f"table in {where}")


def _output_markup(output: dict[str, Any], where: str, items: TypstItems) -> Markup | None:
    """The Typst markup of one output; None for what the PDF leaves out (stderr, empty)."""
    data = output.get("data") or {}
    meta = (output.get("metadata") or {}).get(SKR) or {}
    image = next((m for m in ("image/svg+xml", "image/png", "image/jpeg") if m in data), None)
    if output.get("output_type") == "stream":
        if output.get("name") != "stdout" or not str(output.get("text", "")):
            return None
        return items.add({"call": "skr-text", "text": str(output["text"])},
                         f"text output in {where}")
    if image:
        return _image_markup(data, image, meta, where, items)
    if TABLE_MIME in data or "<table" in "".join(data.get("text/html", "")):
        return _table_markup(data, meta, where, items)
    if "text/markdown" in data:
        text = "".join(data["text/markdown"])
        return ("markdown", text) if text.strip() else None
    if "text/html" in data:
        return ("html", "".join(data["text/html"]))
    if "text/plain" in data and output.get("output_type") == "execute_result":
        return items.add({"call": "skr-text", "text": "".join(data["text/plain"])},
                         f"text output in {where}")
    return None


class TypstPreprocessor(Preprocessor):
    """Outputs → short Typst calls over JSON data; markdown → Typst through pandoc; the whole
    body grouped for the page flow (:mod:`.page_flow`).

    After it, ``resources["skr_typst"]`` holds the :class:`TypstItems` and ``body``: the
    document's Typst markup between the template's header and its provenance section.
    """

    def preprocess(self, nb: Any, resources: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        items = TypstItems()
        pieces: list[Piece] = []
        pending: dict[str, list[tuple[Any, str, str]]] = {"markdown": [], "html": []}
        for cell_index, cell in enumerate(nb.cells):
            if cell.get("cell_type") == "markdown":
                for part in split_at_headings(str(cell.source)):
                    pieces.append(Piece("text", "", cell_index, starts_with_heading(part),
                                        len(part)))
                    pending["markdown"].append((pieces[-1], "markup", part))
            elif cell.get("cell_type") == "code":
                for output in cell.get("outputs", []):
                    piece = _output_piece(output, cell_index, items, pending)
                    if piece is not None:
                        pieces.append(piece)
        for fmt, holders in pending.items():
            _convert(fmt, holders)
        resources["skr_typst"] = {**items.as_resources(), "body": body_markup(pieces)}
        return nb, resources


_CALL = re.compile(r"#([\w-]+)\((items\.at\(\d+\))\)")


def _output_piece(output: Any, cell_index: int, items: TypstItems,
                  pending: dict[str, list[tuple[Any, str, str]]]) -> Piece | None:
    """The piece of one output (its markup filled in later when it goes through pandoc)."""
    markup = _output_markup(output, f"cell {cell_index}", items)
    if markup is None:
        return None
    if isinstance(markup, tuple):  # converted later, in one pandoc run
        piece = Piece("text", "", cell_index, starts_with_heading(markup[1]), len(markup[1]))
        pending[markup[0]].append((piece, "markup", markup[1]))
        return piece
    call = _CALL.fullmatch(markup)
    if call and call.group(1) in ELEMENT_CALLS:
        return Piece("element", call.group(2), cell_index)
    return Piece("text", markup, cell_index, size=len(markup))


def _convert(fmt: str, holders: list[tuple[Any, str, str]]) -> None:
    """Markdown or HTML pieces → Typst in one pandoc run, written back into their holders."""
    if not holders:
        return
    try:
        converted = markdown_to_typst([text for _, _, text in holders], fmt)
    except PandocError as exc:
        raise PdfBuildError(str(exc)) from exc
    for (holder, key, _), markup in zip(holders, converted, strict=True):
        setattr(holder, key, markup)


class TypstExporter(TemplateExporter):
    """Notebook → Typst source (``.typ``) with the ``skr_typst`` template; the data it refers
    to is in ``resources["skr_typst"]`` (see :func:`compile_pdf`)."""

    export_from_notebook = None
    output_mimetype = TYPST_MIME

    @default("file_extension")
    def _file_extension_default(self) -> str:
        return ".typ"

    @default("template_name")
    def _template_name_default(self) -> str:
        return TEMPLATE_NAME

    @default("raw_mimetypes")
    def _raw_mimetypes_default(self) -> list[str]:
        return [TYPST_MIME]

    @property
    def default_config(self) -> Any:
        config = Config({"TemplateExporter": {"exclude_input": True,
                                              "exclude_input_prompt": True,
                                              "exclude_output_prompt": True},
                         "NbConvertBase": {"display_data_priority": [TYPST_MIME]}})
        if super().default_config:
            merged = super().default_config.copy()
            merged.merge(config)
            config = merged
        return config

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("extra_template_basedirs", [str(paths.TEMPLATES_DIR)])
        super().__init__(**kwargs)
        self.optimistic_validation = True  # validate the notebook once, not per step
        self.register_preprocessor(TypstPreprocessor(), enabled=True)


def template_dir() -> Path:
    return paths.TEMPLATES_DIR / TEMPLATE_NAME


_ITEM_CALL = re.compile(r"items\.at\((\d+)\)")


BODY_MARK = "// skr-body"
"""Where the template's header (imports, data, page set-up) ends."""


def _describe(error: Any, labels: dict[int, str], culprit: str | None) -> str:
    """The Typst error with the report element it concerns."""
    diagnostic = str(getattr(error, "diagnostic", "") or error)
    message = str(getattr(error, "message", "") or error).strip()
    found = [labels.get(int(i), f"item {i}") for i in _ITEM_CALL.findall(diagnostic)]
    if culprit and culprit not in found:
        found.insert(0, culprit)
    where = f" in {', '.join(dict.fromkeys(found))}" if found else ""
    hints = "; ".join(getattr(error, "hints", None) or [])
    return f"{message}{where}" + (f" (hint: {hints})" if hints else "") + f"\n{diagnostic}"


def _find_culprit(source: str, items: list[dict[str, Any]], labels: dict[int, str],
                  compile_one: Any) -> str | None:
    """After a failed compile: the first item that fails on its own (only on the error path:
    errors inside the template's functions point at the template, not at the element)."""
    header, mark, _ = source.partition(BODY_MARK)
    if not mark:
        return None
    for index, item in enumerate(items):
        try:
            compile_one(f"{header}\n#{item['call']}(items.at({index}))\n")
        except Exception:
            return labels.get(index, f"item {index}")
    return None


def compile_pdf(source: str, resources: dict[str, Any], *, timestamp: int,
                meta: dict[str, Any]) -> bytes:
    """Compile the exporter's Typst ``source`` to a PDF/UA-1 PDF, in-process.

    ``meta`` (title block, provenance) and the preprocessor's items go to ``skr.json`` in a
    temporary compile root with the image files and the template's library; ``timestamp`` (the
    data vintage) fixes the creation date, so a rebuild gives the same bytes. The row headers
    of the tables are tagged afterwards (:func:`.pdf_tags.tag_row_headers`).
    """
    mark_typst_used()
    state = resources.get("skr_typst") or {"items": [], "files": {}, "labels": {}}
    with tempfile.TemporaryDirectory(prefix="skr-typst-") as tmp:
        root = Path(tmp)
        (root / LIBRARY).write_bytes((template_dir() / LIBRARY).read_bytes())
        payload = {"meta": meta, "items": state["items"]}
        (root / "skr.json").write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
        for name, data in state["files"].items():
            (root / name).write_bytes(data)

        def compile_one(text: str) -> Any:
            result, warnings = typst.compile_with_warnings(
                text.encode("utf-8"), root=str(root), font_paths=fonts(),
                ignore_system_fonts=True, pdf_standards=[PDF_STANDARD], timestamp=int(timestamp))
            for warning in warnings:
                log.warning("Typst: %s", getattr(warning, "message", warning))
            return result

        try:
            pdf = compile_one(source)
        except typst.TypstError as error:
            culprit = _find_culprit(source, state["items"], state["labels"], compile_one)
            raise PdfBuildError(_describe(error, state["labels"], culprit)) from error
    if not isinstance(pdf, bytes) or not pdf.startswith(b"%PDF"):
        raise PdfBuildError("Typst returned no PDF")
    try:
        return tag_row_headers(pdf, expected_tables(state["items"], meta.get("parameters") or []))
    except RowHeaderError as error:
        raise PdfBuildError(str(error)) from error
