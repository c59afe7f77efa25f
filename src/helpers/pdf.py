"""The accessible PDF: an nbconvert Typst exporter compiled in-process (no TeX, pip only).

Two halves, like :mod:`helpers.export`:

**In the notebook** (cheap to import: neither nbconvert nor typst at import time), tables
travel as data. :func:`enable_table_data` registers an IPython formatter that gives every
displayed DataFrame, besides pandas' HTML, a ``application/vnd.skr.table+json`` bundle
(:func:`table_data`): header rows and body cells as text, exactly what the HTML shows. The
runner's setup cell calls it; :func:`helpers.export.show_table` adds the bundle itself.

**At export** (:class:`TypstExporter`, template ``helpers/templates/skr_typst``):

- :class:`TypstPreprocessor` turns every output into a short Typst call such as
  ``#skr-table(items.at(3))`` and collects what it shows — captions, alt texts, table cells,
  image files — into ``items`` of a JSON file that the document reads with ``json(...)``.
  Text from Kolada and the parameters therefore never becomes Typst markup: it is shown as
  data, literally, whatever characters it holds (``# $ * _ < @ \\`` and backticks included).
- Markdown (cells and ``text/markdown`` outputs) goes through pandoc's Typst writer
  (``pypandoc_binary`` ships pandoc): all pieces of a notebook in one pandoc call, and pieces
  seen before (the same text in many variants) from a cache.
- :func:`compile_pdf` compiles with the ``typst`` wheel in-process: PDF/UA-1 (tagged, title,
  ``/Lang sv``, alt texts), fonts from the wheel and matplotlib only (system fonts ignored, so
  every machine gives the same bytes), creation time fixed to the data vintage. A Typst error —
  for instance a figure that would break PDF/UA — raises :class:`PdfBuildError` naming the
  element; no untagged PDF is ever written.
"""

from __future__ import annotations

import json
import logging
import re
import struct
import subprocess
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

from helpers.export import NUMERIC_CELL as _NUMERIC

log = logging.getLogger(__name__)

TABLE_MIME = "application/vnd.skr.table+json"
"""Output mime type of a table as data (see :func:`table_data`)."""
TYPST_MIME = "text/x-typst"
"""What :class:`TypstPreprocessor` turns each output into (the exporter's own mime type)."""
TEMPLATE_NAME = "skr_typst"
LIBRARY = "skr.typ"
"""The Typst library of the template folder (page, title block, figures, tables)."""
PDF_STANDARD = "ua-1"



class PdfBuildError(RuntimeError):
    """Typst could not build an accessible PDF; the message names the element and the cause."""


# --- the notebook side: tables as data ---------------------------------------------------------


_SPACES = re.compile(r"[ \t\r\n]+")


def _cell_text(value: Any, missing: str = "") -> str:
    try:
        import pandas as pd

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
    import pandas as pd

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
    from bs4 import BeautifulSoup

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


def enable_table_data(shell: Any = None) -> bool:
    """Give DataFrames displayed in this IPython kernel a :data:`TABLE_MIME` bundle too.

    Returns False outside IPython. Idempotent.
    """
    try:
        from IPython import get_ipython
        from IPython.core.formatters import BaseFormatter
        from traitlets import ObjectName, Unicode
    except ImportError:
        return False
    shell = shell or get_ipython()
    if shell is None:
        return False
    formatters = shell.display_formatter.formatters
    if TABLE_MIME not in formatters:

        class TableDataFormatter(BaseFormatter):
            format_type = Unicode(TABLE_MIME)
            print_method = ObjectName("_repr_skr_table_")
            _return_type = (dict,)

        formatters[TABLE_MIME] = TableDataFormatter(parent=shell.display_formatter)
    import pandas as pd

    formatters[TABLE_MIME].for_type(pd.DataFrame, table_data)
    return True


# --- markdown through pandoc -------------------------------------------------------------------

PANDOC_FROM = {
    # Jupyter's markdown without what Jupyter's HTML does not do here either: no TeX math
    # (a "$" from Kolada stays a dollar sign), no YAML block, no emoji codes, no raw HTML.
    "markdown": "gfm-raw_html-tex_math_dollars-tex_math_gfm-yaml_metadata_block-emoji"
                "-gfm_auto_identifiers",
    "html": "html-native_divs-native_spans",
}
_SEPARATOR = "SKRPIECE{}SKRPIECE"
_CACHE: OrderedDict[tuple[str, str], str] = OrderedDict()
_CACHE_SIZE = 4096
_CACHE_LOCK = threading.Lock()


@cache
def pandoc_path() -> str:
    """The pandoc binary of the ``pypandoc_binary`` wheel (or pandoc on PATH)."""
    import pypandoc

    return pypandoc.get_pandoc_path()


def _pandoc(text: str, fmt: str) -> str:
    """One pandoc run, ``fmt`` → Typst (pandoc directly: ``pypandoc.convert_text`` would start
    two more pandoc processes per call to list the formats)."""
    done = subprocess.run([pandoc_path(), "--from", PANDOC_FROM[fmt], "--to", "typst",
                           "--wrap=none", "--shift-heading-level-by=-1"],
                          input=text.encode("utf-8"), capture_output=True, timeout=300)
    if done.returncode != 0:
        raise PdfBuildError(f"pandoc could not convert {fmt} to Typst: "
                            f"{done.stderr.decode('utf-8', 'replace').strip()}")
    return done.stdout.decode("utf-8")


def to_typst(pieces: Sequence[str], fmt: str = "markdown") -> list[str]:
    """Typst markup of markdown (or HTML) pieces, in order: one pandoc run for all pieces that
    are not cached yet. Headings move up one level (``##`` → ``=``: the title is the report's)."""
    results: list[str | None] = []
    todo: dict[str, int] = {}
    with _CACHE_LOCK:
        for piece in pieces:
            cached = _CACHE.get((fmt, piece))
            results.append(cached)
            if cached is None and piece not in todo:
                todo[piece] = len(todo)
    if todo:
        separator = "\n\n" if fmt == "markdown" else "\n<p>"
        joined = separator.join(
            f"{text}\n\n{_SEPARATOR.format(i)}" if fmt == "markdown"
            else f"<div>{text}</div><p>{_SEPARATOR.format(i)}</p>"
            for text, i in todo.items())
        out = _pandoc(joined, fmt)
        parts = re.split(r"^SKRPIECE(\d+)SKRPIECE\s*$", out, flags=re.MULTILINE)
        converted = {int(parts[i + 1]): parts[i].strip("\n") for i in range(0, len(parts) - 1, 2)}
        if len(converted) != len(todo):
            raise PdfBuildError(f"pandoc returned {len(converted)} of {len(todo)} pieces "
                                f"converting {fmt} to Typst")
        with _CACHE_LOCK:
            for text, i in todo.items():
                _CACHE[(fmt, text)] = converted[i]
                _CACHE.move_to_end((fmt, text))
            while len(_CACHE) > _CACHE_SIZE:
                _CACHE.popitem(last=False)
        results = [r if r is not None else converted[todo[p]] for r, p in zip(results, pieces,
                                                                               strict=True)]
    return [str(r) for r in results]


# --- the exporter ------------------------------------------------------------------------------


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
    from io import BytesIO

    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(BytesIO(data)) as image:
            return image.size
    except (OSError, UnidentifiedImageError):
        return (0, 0)  # Typst will name the figure it cannot decode


def table_layout(header: list[list[str]], body: list[list[str]]) -> dict[str, Any]:
    """Cells, alignment and font size of a table; Typst measures the column widths and picks
    portrait or landscape (``skr-table`` in ``skr.typ``).

    A cell that reads as a number (or "saknas") is right-aligned, except in the first column; a
    header is right-aligned over a column of numbers. Wide tables get smaller type.
    """
    columns = max([len(r) for r in header + body] or [0])
    header = [r + [""] * (columns - len(r)) for r in header]
    body = [r + [""] * (columns - len(r)) for r in body]
    right = [[bool(_NUMERIC.match(cell)) and col > 0 for col, cell in enumerate(row)]
             for row in body]
    head_right = [col > 0 and bool(body) and all(_NUMERIC.match(r[col]) for r in body)
                  for col in range(columns)]
    size = 9.0 if columns <= 5 else 8.0 if columns <= 10 else 7.5
    return {"header": header, "body": body, "right": right, "head_right": head_right,
            "size": size}


def _preprocessor_class() -> type:
    from nbconvert.preprocessors import Preprocessor

    class TypstPreprocessor(Preprocessor):
        """Outputs → short Typst calls over JSON data; markdown → Typst through pandoc.

        After it, every kept output has exactly one ``text/x-typst`` item; markdown cells
        carry their markup in ``cell.metadata["skr_typst"]``. ``resources["skr_typst"]``
        holds ``items`` (the JSON data), ``files`` (name → bytes) and ``labels`` (item
        index → a human name such as ``"Figur 2"`` for error messages).
        """

        def preprocess(self, nb: Any, resources: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
            from nbformat.v4 import new_output

            from helpers.export import SKR

            state: dict[str, Any] = {"items": [], "files": {}, "labels": {}}
            resources["skr_typst"] = state
            pending: dict[str, list[tuple[Any, str, str]]] = {"markdown": [], "html": []}

            def add(item: dict[str, Any], label: str) -> str:
                state["items"].append(item)
                index = len(state["items"]) - 1
                state["labels"][index] = label
                return f"#{item['call']}(items.at({index}))"

            for cell_index, cell in enumerate(nb.cells):
                where = f"cell {cell_index}"
                if cell.get("cell_type") == "markdown":
                    pending["markdown"].append((cell.metadata, "skr_typst", str(cell.source)))
                    continue
                if cell.get("cell_type") != "code":
                    continue
                kept = []
                for output in cell.get("outputs", []):
                    data = output.get("data") or {}
                    meta = (output.get("metadata") or {}).get(SKR) or {}
                    image = next((m for m in ("image/png", "image/jpeg", "image/svg+xml")
                                  if m in data), None)
                    if output.get("output_type") == "stream":
                        if output.get("name") != "stdout" or not str(output.get("text", "")):
                            continue
                        markup = add({"call": "skr-text", "text": str(output["text"])},
                                     f"text output in {where}")
                    elif image:
                        import base64

                        text = "".join(data[image]) if isinstance(data[image], list) else str(
                            data[image])
                        raw = (text.encode("utf-8") if image == "image/svg+xml"
                               else base64.b64decode(text))
                        suffix = {"image/png": "png", "image/jpeg": "jpg"}.get(image, "svg")
                        name = f"bild-{len(state['files']) + 1}.{suffix}"
                        state["files"][name] = raw
                        width, height = _image_size(raw)  # (0, 0) when unreadable
                        number = meta.get("number")
                        aspect = height / width if width and height else 0.6
                        markup = add({
                            "call": "skr-figure", "file": name, "aspect": aspect,
                            "number": number, "title": meta.get("title") or "",
                            "alt": meta.get("alt") or "", "source": meta.get("source") or "",
                            "csv": meta.get("csv") or ""},
                            f"Figur {number}" if number else f"image in {where}")
                    elif TABLE_MIME in data or "<table" in "".join(data.get("text/html", "")):
                        table = data.get(TABLE_MIME) or html_table_data(
                            "".join(data["text/html"]))
                        if isinstance(table, str):
                            table = json.loads(table)
                        layout = table_layout(table.get("header", []), table.get("body", []))
                        number = meta.get("number") if meta.get("kind") == "table" else None
                        markup = add({"call": "skr-table", **layout, "number": number,
                                      "title": meta.get("title") or "" if number else "",
                                      "source": meta.get("source") or "" if number else "",
                                      "csv": meta.get("csv") or "" if number else ""},
                                     f"Tabell {number}" if number else f"table in {where}")
                    elif "text/markdown" in data:
                        text = "".join(data["text/markdown"])
                        if not text.strip():
                            continue
                        markup = ("markdown", text)
                    elif "text/html" in data:
                        markup = ("html", "".join(data["text/html"]))
                    elif "text/plain" in data and output.get("output_type") == "execute_result":
                        markup = add({"call": "skr-text", "text": "".join(data["text/plain"])},
                                     f"text output in {where}")
                    else:
                        continue
                    shown = new_output("display_data", data={})
                    if isinstance(markup, tuple):  # converted below, in one pandoc run
                        pending[markup[0]].append((shown["data"], TYPST_MIME, markup[1]))
                    else:
                        shown["data"][TYPST_MIME] = markup
                    kept.append(shown)
                cell["outputs"] = kept
            for fmt, holders in pending.items():
                if not holders:
                    continue
                converted = to_typst([text for _, _, text in holders], fmt)
                for (holder, key, _), markup in zip(holders, converted, strict=True):
                    holder[key] = markup
            return nb, resources

    return TypstPreprocessor


_EXPORTER_CLASS: type | None = None


def exporter_class() -> type:
    """The nbconvert ``TemplateExporter`` for Typst (built on first use: nbconvert is slow to
    import and the notebook side must not pay for it)."""
    global _EXPORTER_CLASS
    if _EXPORTER_CLASS is not None:
        return _EXPORTER_CLASS
    from nbconvert.exporters import TemplateExporter
    from traitlets import default

    class TypstExporter(TemplateExporter):
        """Notebook → Typst source (``.typ``) with the ``skr_typst`` template; the data it
        refers to is in ``resources["skr_typst"]`` (see :func:`compile_pdf`)."""

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
            from traitlets.config import Config

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
            from helpers.export import TEMPLATES_DIR

            kwargs.setdefault("extra_template_basedirs", [str(TEMPLATES_DIR)])
            super().__init__(**kwargs)
            self.optimistic_validation = True  # validate the notebook once, not per step
            self.register_preprocessor(_preprocessor_class()(), enabled=True)

    _EXPORTER_CLASS = TypstExporter
    return TypstExporter


def template_dir() -> Path:
    from helpers.export import TEMPLATES_DIR

    return TEMPLATES_DIR / TEMPLATE_NAME


_FONTS: Any = None
_FONTS_LOCK = threading.Lock()


def font_paths() -> list[str]:
    """Font folders besides the fonts inside the typst wheel: matplotlib's DejaVu fonts."""
    import matplotlib

    return [str(Path(matplotlib.get_data_path()) / "fonts" / "ttf")]


def fonts() -> Any:
    """The fonts Typst may use, loaded once: the wheel's own and :func:`font_paths`, never the
    system's (the same bytes on every machine)."""
    import os

    global _FONTS, _COMPILED_IN
    with _FONTS_LOCK:
        _COMPILED_IN = os.getpid()
        if _FONTS is None:
            import typst

            _FONTS = typst.Fonts(include_system_fonts=False, include_embedded_fonts=True,
                                 font_paths=font_paths())
        return _FONTS


_COMPILED_IN: int | None = None
"""The process id that last ran the Typst compiler (see :func:`typst_used_here`)."""


def typst_used_here() -> bool:
    """True when this process has run the Typst compiler. Its worker threads do not survive a
    ``fork``: a forked child that compiles then waits forever, so process pools started after a
    compile must use ``forkserver`` or ``spawn`` (``helpers.batch`` does)."""
    import os

    return os.getpid() == _COMPILED_IN


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
    data vintage) fixes the creation date, so a rebuild gives the same bytes.
    """
    import os

    import typst

    global _COMPILED_IN
    _COMPILED_IN = os.getpid()
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
    return pdf


__all__ = [
    "PDF_STANDARD",
    "TABLE_MIME",
    "TYPST_MIME",
    "PdfBuildError",
    "compile_pdf",
    "enable_table_data",
    "exporter_class",
    "fonts",
    "table_data",
    "table_layout",
    "to_typst",
    "typst_used_here",
]
