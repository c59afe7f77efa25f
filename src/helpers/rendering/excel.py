"""A report's table as an Excel workbook (``tables/<name>.xlsx``) for readers with a Swedish Excel.

The CSV files stay the machine-readable form (decimal point, every digit). The workbook is the
table as the report shows it, ready to paste into a document or compute with:

- **Which frame.** The sheet is written from the frame the report shows (``Table.shown``): the
  same header, rows, order and labels as the HTML and PDF. A cell the report wrote as a Swedish
  number - exactly as :func:`helpers.formatting.format_number` writes it (``"1 158"``,
  ``"−0,09"``, ``"4,4"``) - becomes that number, with a number format showing the same number of
  decimals, so Excel shows what the PDF shows and can sum it. These are the published (rounded)
  values; the unrounded ones stay in the CSV, which the sheet names under the source line.
  Everything else (``"saknas i data"``, ``"–"``, ``"199 av 286"``, names) stays text.
  A frame of raw numbers (a figure's data) can be written too: its numbers keep every digit and
  are shown with decimals by magnitude (or ``decimals`` per column).
- **Codes are text.** Kommun, län and KPI codes keep their leading zeros (``0180``): a column is
  text when its header names a code (``Kod``, ``Id``, ``kommun``, ``lan``, ``kpi``, ``…_kod``),
  when ``text_columns`` names it, or when any of its cells is a string of digits with a leading
  zero. A string of digits without the report's thousands gap (``"2022"``, ``"1260"``) was never a
  formatted number: it is a year when its column header says so (``År``, ``Senaste år``, ``ar``),
  else a code (text).
- **Number formats are locale-independent.** The format code is stored in the file the same way
  everywhere (``#,##0.0``: ``,`` = "group thousands", ``.`` = "decimal separator"); Excel and
  LibreOffice show it with the reader's separators, so a Swedish Excel shows ``1 234,5``. Only the
  minus sign is written into the format (``"−"#,##0.0`` for negatives), as the reports write it.
- **Layout.** The caption (``Tabell N: titel``) in the first row, one header row, the table, then
  the source line and the name of the CSV with the unrounded values. Columns fitted to their
  longest text, the caption and header rows frozen and repeated on every printed page. Sheet
  name, document title and author are Swedish; ``True``/``False`` are written ``ja``/``nej``.
- **Reproducible.** The same table gives the same bytes: no "modified now" date (the caller may
  pass the data vintage as ``created``) and fixed times inside the zip container.

openpyxl writes the file (pandas' own xlsx engine; nothing here hand-writes OOXML).
"""

from __future__ import annotations

import io
import math
import numbers
import os
import re
import zipfile
from collections import OrderedDict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter
from openpyxl.writer.excel import ExcelWriter

from helpers.files import atomic_write_bytes
from helpers.formatting import DECIMAL_SEP, MINUS, THOUSANDS_SEP, format_number

__all__ = [
    "Cell",
    "number_format",
    "parse_swedish_number",
    "table_workbook",
    "workbook_bytes",
    "write_table_xlsx",
]

AUTHOR = "SKR-rapporter"
LANGUAGE = "sv-SE"
TEXT_FORMAT = "@"
YEAR_FORMAT = "0"
CAPTION_ROW = 1
HEADER_ROW = 3
MIN_WIDTH, MAX_WIDTH, HEADER_FIT = 6, 60, 24
"""Column widths in Excel's unit (about one digit of the default font); a header longer than
``HEADER_FIT`` characters wraps rather than widening a column of short numbers."""
LINE_HEIGHT = 15
"""Points per line of a row whose cells wrap (Excel's default row height at 11 pt)."""
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
"""The zip format's earliest time: every member gets it, so the bytes do not depend on the day."""

_SWEDISH_NUMBER = re.compile(
    f"^({MINUS})?(\\d{{1,3}}(?:{THOUSANDS_SEP}\\d{{3}})*)(?:{DECIMAL_SEP}(\\d+))?$")
_UNGROUPED_INTEGER = re.compile(r"^\d+$")
_LEADING_ZERO = re.compile(r"^0\d+$")
_CODE_HEADER = re.compile(
    r"^(kod|id|kommun|kommunkod|lan|län|länskod|lanskod|kpi|geo|enhet)$"
    r"|[_\s](kod|kpi|id)$|\(kod\)$", re.IGNORECASE)
_YEAR_HEADER = re.compile(r"^(år|ar|period|dataår|befolkningsår|befolkningsar)$|[_\s](år|ar)$",
                          re.IGNORECASE)
_TRUE_FALSE = {True: "ja", False: "nej"}
SOFT_HYPHEN = "\u00ad"

_FONT = {"name": "Calibri", "family": 2, "scheme": "minor"}
"""The workbook's default font (named, so every reader draws caption and header in it too)."""
_BOLD = Font(**_FONT, size=11, bold=True)
_CAPTION_FONT = Font(**_FONT, size=12, bold=True)
_SOURCE_FONT = Font(**_FONT, size=9)
_HEADER_BORDER = Border(bottom=Side(style="thin"))


def parse_swedish_number(text: str) -> tuple[int | float, int] | None:
    """The number and its decimals when ``text`` is exactly what ``format_number`` writes for it
    (``"1 158"`` → ``(1158, 0)``, ``"−0,09"`` → ``(-0.09, 2)``); else None (``"0180"``,
    ``"2022"`` without the thousands gap, ``"-5"`` with a hyphen, ``"saknas"``)."""
    match = _SWEDISH_NUMBER.match(text)
    if match is None:
        return None
    sign, whole, fraction = match.groups()
    decimals = len(fraction or "")
    exact = Decimal(f"{'-' if sign else ''}{whole.replace(THOUSANDS_SEP, '')}."
                    f"{fraction or '0'}")
    value: int | float = int(exact) if decimals == 0 else float(exact)
    if format_number(value, decimals) != text:  # "012", "−0": not how the reports write numbers
        return None
    return value, decimals


def number_format(decimals: int, grouped: bool = True) -> str:
    """The locale-independent format code for ``decimals`` decimals: ``#,##0.00`` (``,`` groups
    thousands, ``.`` is the decimal separator - the reader's Excel puts in its own), negatives
    with the minus sign the reports use."""
    digits = ("#,##0" if grouped else "0") + ("." + "0" * decimals if decimals > 0 else "")
    return f'{digits};"{MINUS}"{digits}'


def _decimals_by_magnitude(value: float) -> int:
    """The reports' rule for a raw value (``helpers.tables.format_value``): 12 345 · 12,3 · 1,23."""
    magnitude = abs(value)
    return 0 if magnitude >= 1000 else 1 if magnitude >= 10 else 2


@dataclass(frozen=True)
class Cell:
    """One sheet cell: its value (a number, text or None) and number format."""

    value: Any
    number_format: str = "General"

    @property
    def shown(self) -> str:
        """The text a Swedish reader sees (for fitting the column width)."""
        if self.value is None:
            return ""
        if isinstance(self.value, str) or self.number_format == YEAR_FORMAT:
            return str(self.value)
        decimals = len(self.number_format.split(";")[0].partition(".")[2])
        return format_number(self.value, decimals)


def _header_text(label: Any) -> str:
    """A column label as one header cell (MultiIndex levels joined; no soft hyphens, which are a
    line-break hint for the HTML and PDF)."""
    if isinstance(label, tuple):
        text = " – ".join(str(part) for part in label if part is not None and str(part) != "")
    else:
        text = "" if label is None else str(label)
    return text.replace(SOFT_HYPHEN, "")


def _is_missing(value: Any) -> bool:
    try:
        return value is None or bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _text_cell(value: Any) -> Cell:
    return Cell(_TRUE_FALSE.get(value, str(value)) if isinstance(value, bool) else str(value),
                TEXT_FORMAT)


def _cell(value: Any, *, code: bool, year: bool, decimals: int | None) -> Cell:
    """A frame value as a sheet cell (see the module docstring for the rules)."""
    if hasattr(value, "item") and not isinstance(value, str):  # numpy scalar → Python
        value = value.item()
    if _is_missing(value):
        return Cell(None)
    if code or isinstance(value, bool):
        return _text_cell(value)
    if isinstance(value, numbers.Integral):
        return Cell(int(value), YEAR_FORMAT if year else number_format(decimals or 0))
    if isinstance(value, numbers.Real):
        value = float(value)
        if math.isinf(value):
            return _text_cell(format_number(value))
        places = _decimals_by_magnitude(value) if decimals is None else decimals
        return Cell(value, number_format(places))
    text = str(value)
    if not text:
        return Cell(None)
    if year and _UNGROUPED_INTEGER.match(text) and not _LEADING_ZERO.match(text):
        return Cell(int(text), YEAR_FORMAT)
    parsed = parse_swedish_number(text)
    if parsed is None:
        return Cell(text, TEXT_FORMAT) if _UNGROUPED_INTEGER.match(text) else Cell(text)
    number, places = parsed
    return Cell(number, number_format(places))


def _columns(frame: pd.DataFrame, index: bool) -> tuple[list[str], list[list[Any]]]:
    """Header labels and column values; the index as leading column(s) when shown (a named
    index, or any index but pandas' default 0, 1, 2, …), as the report's tables show it."""
    shown = frame if index else frame.reset_index(drop=True)
    plain = isinstance(shown.index, pd.RangeIndex) and shown.index.name is None
    header: list[str] = []
    values: list[list[Any]] = []
    if not plain:
        for level, name in enumerate(shown.index.names):
            header.append(_header_text(name))
            values.append(list(shown.index.get_level_values(level)))
    for position, label in enumerate(shown.columns):
        header.append(_header_text(label))
        values.append(list(shown.iloc[:, position]))
    return header, values


def _is_code_column(name: str, values: Sequence[Any], text_columns: Collection[str]) -> bool:
    if name in text_columns or _CODE_HEADER.search(name.strip()):
        return True
    return any(isinstance(v, str) and _LEADING_ZERO.match(v) for v in values)


def _column_cells(name: str, values: Sequence[Any], text_columns: Collection[str],
                  decimals: int | None) -> list[Cell]:
    """A column's cells; whether it holds codes and years is decided once per column."""
    code = _is_code_column(name, values, text_columns)
    year = bool(_YEAR_HEADER.search(name.strip()))
    return [_cell(v, code=code, year=year, decimals=decimals) for v in values]


def table_workbook(frame: pd.DataFrame, *, number: int, title: str, source: str | None = None,
                   kind: str = "Tabell", csv: str | None = None, index: bool = False,
                   text_columns: Collection[str] = (),
                   decimals: Mapping[str, int] | None = None) -> Workbook:
    """One sheet: the caption ``"<kind> <number>: <title>"``, one header row, the table, the
    source line and (``csv``) the CSV that holds the unrounded values.

    ``frame`` is the table as shown (Swedish text) or a frame of raw numbers; ``index`` as in
    ``show_table`` (the index becomes the leading column(s)); ``text_columns`` are headers whose
    cells stay text whatever they hold; ``decimals`` maps headers of raw-number columns to
    their decimals.
    """
    header, columns = _columns(frame, index)
    decimals = dict(decimals or {})
    cells = [_column_cells(name, values, text_columns, decimals.get(name))
             for name, values in zip(header, columns, strict=True)]
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _sheet_title(f"{kind} {number}")
    caption = f"{kind} {number}: {title}"
    sheet.cell(CAPTION_ROW, 1, caption).font = _CAPTION_FONT
    widths = [_width(name, column) for name, column in zip(header, cells, strict=True)]
    for col, (name, column, width) in enumerate(zip(header, cells, widths, strict=True), 1):
        _write_column(sheet, col, name, column)
        sheet.column_dimensions[get_column_letter(col)].width = width
    _fit_row_heights(sheet, header, cells, widths)
    lines = [source] if source else []
    if csv:
        lines.append(f"Oavrundade värden: {csv}")
    for offset, line in enumerate(lines, start=HEADER_ROW + len(frame) + 2):
        sheet.cell(offset, 1, line).font = _SOURCE_FONT
    _set_view_and_print(sheet, columns=len(header))
    properties = workbook.properties
    properties.title, properties.creator, properties.language = caption, AUTHOR, LANGUAGE
    return workbook


def _write_column(sheet: Any, col: int, name: str, column: Sequence[Cell]) -> None:
    """A header cell and the column's cells. A column holding numbers is right-aligned, its
    missing-value marks ("saknas", "–") too, as in the report."""
    numeric = any(c.value is not None and not isinstance(c.value, str) for c in column)
    horizontal = "right" if numeric else "left"
    head = sheet.cell(HEADER_ROW, col, name)
    head.font, head.border = _BOLD, _HEADER_BORDER
    head.alignment = Alignment(horizontal=horizontal, vertical="bottom", wrap_text=True)
    alignment = Alignment(horizontal=horizontal, vertical="top", wrap_text=True)
    for row, item in enumerate(column, start=HEADER_ROW + 1):
        target = sheet.cell(row, col, item.value)
        target.number_format, target.alignment = item.number_format, alignment


def _fit_row_heights(sheet: Any, header: Sequence[str], cells: Sequence[Sequence[Cell]],
                     widths: Sequence[float]) -> None:
    """Rows whose text wraps get the height of their longest cell (set here: not every reader
    fits the height of wrapped rows by itself)."""
    body = zip(*[[c.shown for c in column] for column in cells], strict=True)
    for row, texts in enumerate([header, *body], start=HEADER_ROW):
        lines = max((_lines(t, w) for t, w in zip(texts, widths, strict=True)), default=1)
        if lines > 1:
            sheet.row_dimensions[row].height = LINE_HEIGHT * lines


def _set_view_and_print(sheet: Any, columns: int) -> None:
    """Caption and header stay in view while scrolling and are repeated on every printed page;
    a page as wide as the table (landscape for more than six columns)."""
    sheet.freeze_panes = sheet.cell(HEADER_ROW + 1, 1)
    sheet.print_title_rows = f"{CAPTION_ROW}:{HEADER_ROW}"
    sheet.page_setup.orientation = "landscape" if columns > 6 else "portrait"
    sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True


def _width(header: str, column: Sequence[Cell]) -> float:
    """A column's width: its longest cell, its header's longest word (a long header wraps over
    a narrow column of numbers, up to :data:`HEADER_FIT` characters on one line)."""
    longest_cell = max((len(c.shown) for c in column), default=0)
    longest_word = max((len(word) for word in header.split()), default=0)
    wanted = max(longest_cell, longest_word, min(len(header), HEADER_FIT))
    return float(min(max(wanted + 2, MIN_WIDTH), MAX_WIDTH))


def _lines(text: str, width: float) -> int:
    """Lines a wrapped cell needs: a line holds about ``width`` characters of text (the width
    unit is one digit, and most letters are narrower)."""
    return max(1, math.ceil(len(text) / max(width, 1)))


def _sheet_title(text: str) -> str:
    """Excel's sheet-name rules: at most 31 characters, none of ``[]:*?/\\``."""
    return re.sub(r"[\[\]:*?/\\]", "-", text)[:31]


class _FixedTimeZip(zipfile.ZipFile):
    """A zip file whose members all carry :data:`_ZIP_TIME`: openpyxl adds parts by name and
    sheets from temporary files, which would stamp them with the time of writing."""

    def write(self, filename, arcname=None, compress_type=None, compresslevel=None):
        data = Path(filename).read_bytes()
        self.writestr(str(arcname or filename), data, compress_type, compresslevel)

    def writestr(self, zinfo_or_arcname, data, compress_type=None, compresslevel=None):
        if not isinstance(zinfo_or_arcname, zipfile.ZipInfo):
            zinfo_or_arcname = zipfile.ZipInfo(str(zinfo_or_arcname), date_time=_ZIP_TIME)
            zinfo_or_arcname.compress_type = zipfile.ZIP_DEFLATED
            zinfo_or_arcname.external_attr = 0o644 << 16
        super().writestr(zinfo_or_arcname, data, compress_type, compresslevel)


def workbook_bytes(workbook: Workbook, created: datetime | None = None) -> bytes:
    """The ``.xlsx`` bytes of ``workbook``, the same for the same workbook and ``created``.

    ``created`` is the document's date (the caller passes the data vintage, as the PDF's
    creation date is); without it ``$SOURCE_DATE_EPOCH``, else 1980-01-01 - never "now".
    """
    if created is None:
        epoch = os.environ.get("SOURCE_DATE_EPOCH", "")
        created = (datetime.fromtimestamp(int(epoch), UTC) if epoch.isdigit()
                   else datetime(*_ZIP_TIME, tzinfo=UTC))
    if created.tzinfo is not None:
        created = created.astimezone(UTC).replace(tzinfo=None)
    workbook.properties.created = workbook.properties.modified = created
    buffer = io.BytesIO()
    ExcelWriter(workbook, _FixedTimeZip(buffer, "w", zipfile.ZIP_DEFLATED)).save()
    return buffer.getvalue()


_WORKBOOKS: OrderedDict[tuple, bytes] = OrderedDict()
_WORKBOOKS_KEPT = 32
"""Workbooks laid out in this process, by what they were made from: most tables are the same
in every kommun variant of a batch (the correlations, the statements, Tabell 1)."""


def _workbook_key(frame: pd.DataFrame, options: tuple) -> tuple | None:
    try:
        content = int(pd.util.hash_pandas_object(frame, index=True).sum())
    except TypeError:  # cells pandas cannot hash (lists …): laid out every time
        return None
    return (content, tuple(map(str, frame.columns)), tuple(map(str, frame.dtypes)),
            tuple(map(str, frame.index.names)), os.environ.get("SOURCE_DATE_EPOCH"), *options)


def write_table_xlsx(path: str | Path, frame: pd.DataFrame, *, number: int, title: str,
                     source: str | None = None, kind: str = "Tabell", csv: str | None = None,
                     index: bool = False, text_columns: Collection[str] = (),
                     decimals: Mapping[str, int] | None = None,
                     created: datetime | None = None) -> Path:
    """Write :func:`table_workbook` to ``path`` atomically; returns the path. The same table
    (content, caption, source, options) is laid out once per process."""
    key = _workbook_key(frame, (number, title, source, kind, csv, index, tuple(text_columns),
                                tuple(sorted((decimals or {}).items())), created))
    data = _WORKBOOKS.get(key) if key is not None else None
    if data is None:
        workbook = table_workbook(frame, number=number, title=title, source=source, kind=kind,
                                  csv=csv, index=index, text_columns=text_columns,
                                  decimals=decimals)
        data = workbook_bytes(workbook, created)
        if key is not None:
            _WORKBOOKS[key] = data
            while len(_WORKBOOKS) > _WORKBOOKS_KEPT:
                _WORKBOOKS.popitem(last=False)
    else:
        _WORKBOOKS.move_to_end(key)
    return atomic_write_bytes(Path(path), data)
