"""Exporting executed report notebooks: Swedish HTML and PDF, provenance, manifest, index.

Two halves:

**In the notebook** (cheap to import: no nbconvert at import time), the caption convention.
Figures and tables are displayed with an output-metadata block under the key ``"skr"``::

    {"skr": {"kind": "figure", "number": 1, "title": "Spridningen av …",
             "alt": "Punktdiagram …", "csv": "tables/figur1.csv",
             "source": "Källa: Kolada (RKA), egna beräkningar. År 2022."}}

:func:`show_figure` and :func:`show_table` publish exactly that; notebooks reach them through
``helpers.notebook``, which also writes the figure and CSV files. ``csv`` is relative to the
variant folder (``reports/<variant>/``). This is the only caption format the exporters read;
images without the block are still exported, numbered in order, with a generic caption.

**At export** (:class:`Exporter`), nbconvert with the templates in ``helpers/templates``:

- HTML (``skr_html``): no code, images embedded as data URIs, ``<html lang="sv">``, title and
  subtitle from the parameters, a table of contents, "Figur N: …" captions with alt text, real
  HTML tables (sanitised with bleach: text from the API cannot inject markup), links to the CSVs,
  a provenance section. No ``<script>`` and no external URL is loaded when the page is opened.
- PDF (``skr_typst``, :mod:`helpers.pdf`): Typst compiled in-process, tagged PDF/UA-1, A4,
  Swedish, title/subtitle/dateline from the parameters, a table of contents with page numbers,
  captions, alt texts, tables from data, no code, provenance as the last section.

Both are byte-reproducible: :func:`clean_notebook` removes what varies between runs (papermill
timings and paths, random cell ids, PNG text chunks, stderr), and the PDF's creation time is the
data vintage.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import html
import io
import json
import re
import subprocess
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from helpers import __version__, paths
from helpers.files import atomic_write_bytes
from helpers.formatting import unescape_markdown

SKR = "skr"
"""The output-metadata key of the caption convention."""
TEMPLATES_DIR = Path(__file__).parent / "templates"
SOURCE_LINE = "Källa: Kolada (RKA), egna beräkningar."
EUROSTAT_SOURCE_LINE = "Källa: Eurostat (gov_10dd_edpt1)."
REMOVE_TAGS = frozenset({"skr-setup", "remove-cell", "remove_cell", "papermill-error-cell-tag"})
DROPPED_MIMETYPES = ("application/javascript", "application/vnd.jupyter.widget-view+json",
                     "application/vnd.jupyter.widget-state+json")
IMAGE_MIMETYPES = ("image/png", "image/jpeg", "image/svg+xml")
MONTHS_SV = ("januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti",
             "september", "oktober", "november", "december")


# --- the notebook side: the caption convention -------------------------------------------------


def figure_metadata(number: int, title: str, alt: str, *, csv: str | None = None,
                    source: str | None = None) -> dict[str, Any]:
    """The ``{"skr": …}`` output metadata of a figure (see the module docstring)."""
    meta = {"kind": "figure", "number": int(number), "title": str(title), "alt": str(alt)}
    if csv:
        meta["csv"] = str(csv)
    if source:
        meta["source"] = str(source)
    return {SKR: meta}


def table_metadata(number: int, title: str, *, csv: str | None = None,
                   source: str | None = None) -> dict[str, Any]:
    """The ``{"skr": …}`` output metadata of a table."""
    meta: dict[str, Any] = {"kind": "table", "number": int(number), "title": str(title)}
    if csv:
        meta["csv"] = str(csv)
    if source:
        meta["source"] = str(source)
    return {SKR: meta}


def figure_png(fig: Any, dpi: int = 150) -> bytes:
    """A matplotlib figure as PNG bytes without text chunks (no version string, no date)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight", metadata={"Software": None})
    return strip_png_metadata(buffer.getvalue())


def show_figure(image: Any, *, number: int, title: str, alt: str, csv: str | None = None,
                source: str | None = SOURCE_LINE, dpi: int = 150) -> None:
    """Display a figure (PNG bytes or a matplotlib figure) with its caption metadata.

    ``alt`` describes what the figure shows for readers who cannot see it. Writing the figure's
    files is ``helpers.notebook``'s job.
    """
    from IPython.display import display

    png = image if isinstance(image, bytes | bytearray) else figure_png(image, dpi=dpi)
    bundle = {"image/png": base64.b64encode(png).decode("ascii"),
              "text/plain": f"Figur {number}: {title}"}
    display(bundle, raw=True, metadata=figure_metadata(number, title, alt, csv=csv, source=source))


def show_table(table: Any, *, number: int, title: str, csv: str | None = None,
               source: str | None = SOURCE_LINE, index: bool = False) -> None:
    """Display a DataFrame (or ready HTML) as "Tabell N: title" with an escaped HTML table."""
    from IPython.display import display

    bundle: dict[str, Any] = {}
    if hasattr(table, "to_html"):
        from helpers.pdf import TABLE_MIME, table_data

        html_text = table.to_html(index=index, escape=True, border=0, na_rep="saknas",
                                  classes="skr-table-data")
        text = table.to_string(index=index)
        shown = table if index else table.reset_index(drop=True)
        bundle[TABLE_MIME] = table_data(shown, missing="saknas")
    else:
        html_text, text = str(table), f"Tabell {number}: {title}"
    display({"text/html": html_text, "text/plain": text, **bundle}, raw=True,
            metadata=table_metadata(number, title, csv=csv, source=source))


# --- cleaning executed notebooks ---------------------------------------------------------------

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


def _clean_png_b64(text: str | list[str]) -> str:
    raw = base64.b64decode("".join(text) if isinstance(text, list) else text)
    return base64.b64encode(strip_png_metadata(raw)).decode("ascii")


def clean_notebook(nb: Any) -> Any:
    """A copy of an executed notebook with what varies between runs removed.

    Removes setup and papermill error-banner cells, papermill timing/path metadata, stderr
    streams, scripts and widgets; numbers cell ids and execution counts in order; strips PNG text
    chunks. The result is what gets published as ``<report>.ipynb`` and exported.
    """
    nb = copy.deepcopy(nb)
    cells = [c for c in nb.cells if not REMOVE_TAGS & set(c.get("metadata", {}).get("tags", []))]
    count = 0
    for index, cell in enumerate(cells):
        cell["id"] = f"cell-{index}"
        metadata = cell.setdefault("metadata", {})
        for key in ("papermill", "execution", "collapsed", "scrolled", "ExecuteTime"):
            metadata.pop(key, None)
        if cell.get("cell_type") != "code":
            continue
        if cell.get("execution_count") is not None:
            count += 1
            cell["execution_count"] = count
        outputs = []
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream" and output.get("name") == "stderr":
                continue
            if "execution_count" in output:
                output["execution_count"] = cell.get("execution_count")
            data = output.get("data")
            if data is not None:
                for mime in DROPPED_MIMETYPES:
                    data.pop(mime, None)
                if not data:
                    continue
                if "image/png" in data:
                    data["image/png"] = _clean_png_b64(data["image/png"])
            output.get("metadata", {}).pop("transient", None)
            output.pop("transient", None)
            outputs.append(output)
        cell["outputs"] = outputs
    nb.cells = cells
    papermill = nb.metadata.get("papermill")
    if isinstance(papermill, dict):
        nb.metadata["papermill"] = {"parameters": papermill.get("parameters", {})}
    nb.metadata.pop("widgets", None)
    return nb


def _text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value or "")


def annotate_captions(nb: Any) -> Any:
    """Number figures and tables in order of appearance and give each an anchor and alt text.

    Captions come from one place: the ``skr`` output metadata (see the module docstring). An
    image without it still gets the next free figure number, a generic caption and alt text.
    Modifies and returns ``nb``.
    """
    used: dict[str, set[int]] = {"figure": set(), "table": set()}
    pending = []
    for _cell, output in _outputs(nb):
        data = output.get("data") or {}
        meta = dict((output.get("metadata") or {}).get(SKR) or {})
        is_image = any(m in data for m in IMAGE_MIMETYPES)
        if is_image:
            meta.setdefault("kind", "figure")
        kind = meta.get("kind")
        if kind not in used or (kind == "figure" and not is_image):
            continue
        if meta.get("number"):
            used[kind].add(int(meta["number"]))
        pending.append((output, meta))
    following = {"figure": 0, "table": 0}
    for output, meta in pending:
        kind = meta["kind"]
        if not meta.get("number"):
            number = following[kind] + 1
            while number in used[kind]:
                number += 1
            used[kind].add(number)
            meta["number"] = number
        meta.setdefault("title", "")
        following[kind] = max(following[kind], int(meta["number"]))
        word = "Figur" if kind == "figure" else "Tabell"
        meta["anchor"] = f"{word.lower()}-{meta['number']}"
        if kind == "figure" and not meta.get("alt"):
            suffix = f": {meta['title']}" if meta["title"] else ""
            meta["alt"] = f"{word} {meta['number']}{suffix}"
        output.setdefault("metadata", {})[SKR] = meta
    return nb


_H1_LINE = re.compile(r"^# +(.+?)\s*#*\s*$", re.MULTILINE)


def extract_title(nb: Any) -> str | None:
    """Remove the notebook's first level-1 heading (the page header shows the title) and
    return its text; looks at markdown cells and markdown outputs in order."""
    for cell in nb.cells:
        holders: list[tuple[Any, str]] = []
        if cell.get("cell_type") == "markdown":
            holders.append((cell, "source"))
        elif cell.get("cell_type") == "code":
            holders += [(output["data"], "text/markdown") for output in cell.get("outputs", [])
                        if "text/markdown" in (output.get("data") or {})]
        for holder, key in holders:
            text = _text(holder[key])
            match = _H1_LINE.search(text)
            if match and not text[:match.start()].strip():
                holder[key] = (text[:match.start()] + text[match.end():]).lstrip("\n")
                if cell.get("cell_type") == "code":
                    cell["outputs"] = [o for o in cell["outputs"]
                                       if _text((o.get("data") or {}).get("text/markdown", "x"))]
                return unescape_markdown(match.group(1).strip())
    return None


def _outputs(nb: Any) -> Iterator[tuple[Any, Any]]:
    for cell in nb.cells:
        for output in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            yield cell, output


# --- report information (title, provenance) ----------------------------------------------------


def swedish_date(moment: datetime | str | None) -> str:
    """``2024-08-23T…`` → ``"23 augusti 2024"`` (empty for None)."""
    if moment is None or moment == "":
        return ""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    return f"{moment.day} {MONTHS_SV[moment.month - 1]} {moment.year}"


_MONTHS_EN = ("january", "february", "march", "april", "may", "june", "july", "august",
              "september", "october", "november", "december")


def _stated_vintage(vintage: str | None) -> dict | None:
    """The replay's machine-readable vintage (JSON, first of several joined by " | ")."""
    for part in (vintage or "").split(" | "):
        try:
            data = json.loads(part)
        except ValueError:
            continue
        if isinstance(data, dict):
            return data
    return None


def _swedish_month_or_date(text: str | None) -> str:
    """``"2024-08"`` → ``"augusti 2024"``; ``"2026-03-23"`` → ``"23 mars 2026"``."""
    if not text:
        return ""
    found = re.fullmatch(r"(\d{4})-(\d{2})", str(text))
    if found:
        return f"{MONTHS_SV[int(found.group(2)) - 1]} {found.group(1)}"
    try:
        return swedish_date(str(text))
    except ValueError:
        return str(text)


def snapshot_values_vintage(vintage: str | None) -> str:
    """When the recorded snapshot's values were recorded, in Swedish: from the replay's
    ``snapshot.json`` vintage (``values.recorded`` ``"2024-08"`` → ``"augusti 2024"``) or an
    older text (``"… values.csv.gz scraped from the Kolada API, August 2024"``)."""
    stated = _stated_vintage(vintage)
    if stated is not None:
        values = stated.get("values") or {}
        return values.get("recorded_sv") or _swedish_month_or_date(values.get("recorded"))
    entry = next((part for part in (vintage or "").split(";") if "values" in part), "")
    found = re.search(r"([A-Za-z]+) (\d{4})", entry)
    if found and found.group(1).lower() in _MONTHS_EN:
        return f"{MONTHS_SV[_MONTHS_EN.index(found.group(1).lower())]} {found.group(2)}"
    dated = re.search(r"\d{4}-\d{2}-\d{2}", entry)
    return swedish_date(dated.group(0)) if dated else ""


def kolada_snapshot_text(vintage: str | None) -> str:
    """The recorded Kolada snapshot's vintage in Swedish, for the provenance block: "värden
    (values.csv.gz) inspelade augusti 2024, år 1994–2022; metadata inspelad 23 mars 2026
    (kpi.json, …) och 15 januari 2024 (kpi_groups.json)"."""
    stated = _stated_vintage(vintage)
    if stated is None:
        recorded = snapshot_values_vintage(vintage)
        return f"värden inspelade {recorded}" if recorded else "årgång anges inte"
    values = stated.get("values") or {}
    parts = []
    if values:
        text = f"värden ({values.get('file', 'values.csv.gz')}) inspelade " \
               f"{snapshot_values_vintage(vintage) or 'okänt datum'}"
        years = values.get("years") or []
        if len(years) == 2:
            text += f", år {years[0]}–{years[1]}"
        parts.append(text)
    by_date: dict[str, list[str]] = {}
    for item in stated.get("metadata") or []:
        by_date.setdefault(str(item.get("recorded")), []).append(str(item.get("file")))
    if by_date:
        dated = [f"{_swedish_month_or_date(date)} ({', '.join(files)})"
                 for date, files in sorted(by_date.items(), reverse=True)]
        parts.append("metadata inspelad " + " och ".join(dated))
    return "; ".join(parts)


def eurostat_recording_text(vintage: str | None) -> str:
    """The Eurostat replay's recording in Swedish: "inspelad kopia av Eurostats fil
    gov_10dd_edpt1.tsv.gz, värden 1995–2024; filen anger inget utgivningsdatum"."""
    stated = _stated_vintage(vintage) or {}
    text = "inspelad kopia av Eurostats fil " + str(stated.get("file") or "(okänd fil)")
    years = stated.get("years") or []
    if len(years) == 2 and all(years):
        text += f", värden {years[0]}–{years[1]}"
    released = stated.get("release_date")
    text += (f", utgiven {swedish_date(released)}" if released
             else "; filen anger inget utgivningsdatum")
    return text


def epoch_of(moment: datetime | str | None, default: int = 0) -> int:
    """Seconds since 1970 of an ISO time (UTC when naive); ``default`` when missing/unreadable."""
    if not moment:
        return default
    try:
        if isinstance(moment, str):
            moment = datetime.fromisoformat(moment.replace("Z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return int(moment.timestamp())
    except (TypeError, ValueError):
        return default


@cache
def git_commit(root: Path = paths.PROJ_ROOT) -> str:
    """The checkout's commit (12 hex digits), or "okänd" outside a git checkout."""
    try:
        result = subprocess.run(["git", "-C", str(root), "rev-parse", "--short=12", "HEAD"],
                                capture_output=True, text=True, timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return "okänd"
    return result.stdout.strip() or "okänd"


def _format_value(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(_format_value(v) for v in value) or "–"
    if isinstance(value, Mapping):
        return ", ".join(f"{k}: {_format_value(v)}" for k, v in value.items())
    if value is None:
        return "–"
    return str(value)


@dataclass
class ReportInfo:
    """What the export templates show besides the notebook: title block and provenance.

    ``provenance`` keys: ``source`` (text), ``base_url``, ``snapshot`` (snapshot name, when the
    data came from the recorded snapshot), ``fetched_at`` (ISO time: the data vintage), ``kpis``,
    ``years``, ``package_version``, ``git_commit``, ``notice`` (shown highlighted).
    """

    report: str
    variant: str
    title: str
    subtitle: str = ""
    dateline: str = ""
    parameters: dict[str, Any] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)
    csv_files: list[str] = field(default_factory=list)

    @property
    def source_date_epoch(self) -> int:
        """The data vintage as SOURCE_DATE_EPOCH (the report's only date)."""
        return epoch_of(self.provenance.get("fetched_at"))

    def provenance_rows(self) -> list[tuple[str, str]]:
        p = self.provenance
        source = p.get("source") or "Kolada (RKA)"
        if p.get("base_url"):
            source += f", {p['base_url']}"
        rows = [("Datakälla", source)]
        if p.get("snapshot"):
            rows.append(("Ögonblicksbild", str(p["snapshot"])))
        if p.get("fetched_at"):
            rows.append(("Dataårgång (hämtad)", f"{swedish_date(p['fetched_at'])} "
                                                 f"({p['fetched_at']})"))
        eurostat = p.get("eurostat")
        if eurostat:
            rows.append(("Datakälla, tabell 1", eurostat["source"]))
            rows.append(("Eurostats dataårgång", eurostat["vintage"]))
        rows.append(("Nyckeltal (KPI)", _format_value(p.get("kpis") or [])))
        if p.get("years"):
            rows.append(("År", _format_value(p["years"])))
        rows.append(("Parametrar", json.dumps(self.parameters, ensure_ascii=False,
                                              sort_keys=True)))
        rows.append(("Variant", self.variant))
        rows.append(("Programversion", f"skr-report {p.get('package_version', __version__)}, "
                                       f"git {p.get('git_commit') or git_commit()}"))
        rows.append(("Källhänvisning", SOURCE_LINE + (
            f" Tabell 1: {EUROSTAT_SOURCE_LINE}" if eurostat else "")))
        return rows

    def pdf_meta(self) -> dict[str, Any]:
        """Title block and provenance as data for the PDF (``skr.json``, see helpers.pdf)."""
        rows = [[label, value] for label, value in self.provenance_rows()]
        if self.csv_files:
            rows.append(["Data bakom figurer och tabeller", ", ".join(self.csv_files)])
        document_title = self.title + (f" – {self.subtitle}" if self.subtitle else "")
        return {"title": self.title, "subtitle": self.subtitle or "",
                "dateline": self.dateline or "", "document_title": document_title,
                "notice": str(self.provenance.get("notice") or ""), "provenance": rows}

    def resources(self) -> dict[str, Any]:
        return {"title": self.title, "subtitle": self.subtitle, "dateline": self.dateline,
                "report": self.report, "variant": self.variant, "provenance": self.provenance,
                "provenance_rows": self.provenance_rows(), "csv_files": list(self.csv_files)}


# --- sanitising HTML outputs -------------------------------------------------------------------

_ALLOWED_TAGS = frozenset({
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "col", "colgroup", "dd", "div", "dl",
    "dt", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "li", "ol", "p", "pre", "small",
    "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
})
_ALLOWED_ATTRIBUTES = {"*": ["class", "id", "title", "lang"], "a": ["href", "title"],
                       "td": ["colspan", "rowspan", "class"], "th": ["colspan", "rowspan", "scope",
                                                                  "class"]}
_STYLE_BLOCK = re.compile(r"<style\b[^>]*>.*?</style>", re.IGNORECASE | re.DOTALL)


def clean_html(text: str) -> str:
    """Sanitise HTML from outputs: tables and text markup stay, scripts/styles/handlers go.

    Disallowed tags are escaped (shown as text), so ``<script>`` in a KPI title is displayed,
    never run. Links may only point to relative paths, http(s) or anchors.
    """
    import bleach

    text = _STYLE_BLOCK.sub("", str(text))
    cleaned = bleach.clean(text, tags=_ALLOWED_TAGS, attributes=_ALLOWED_ATTRIBUTES,
                           protocols=["http", "https"], strip=False, strip_comments=True)
    return _PLAIN_CELL.sub(_align_cell, cleaned)


_PLAIN_CELL = re.compile(r"<td>(.*?)</td>", re.DOTALL)


NUMERIC_CELL = re.compile(r"^(?:[−\-+]?[\d\u202f\u00a0 ]+(?:[,.]\d+)?\s?%?|saknas( i data)?|–|-|)$")
"""A table cell that reads as a number (Swedish format) or a missing-value mark: right-aligned
in HTML and PDF alike."""


def _align_cell(match: re.Match) -> str:
    """Numbers align right (the table default); a cell of words gets class "text" (left)."""
    content = match.group(1)
    if NUMERIC_CELL.match(html.unescape(_TAGS.sub("", content)).strip()):
        return match.group(0)
    return f'<td class="text">{content}</td>'


# --- HTML post-processing: table of contents ---------------------------------------------------

_HEADING = re.compile(r'<h([23]) id="([^"]+)">(.*?)(?:<a class="anchor-link"[^>]*>.*?</a>)?</h\1>',
                      re.DOTALL)
_FIG = re.compile(r'<figure class="skr-(figure|table)" id="([^"]+)">.*?<figcaption>'
                  r'<span class="caption-label">(.*?)</span>\s*(.*?)(?:<span|<a|</figcaption>)',
                  re.DOTALL)
_TAGS = re.compile(r"<[^>]+>")
TOC_MARKER = "<!--skr-toc-->"


def _toc(body: str) -> str:
    entries: list[tuple[int, str, str]] = []
    for match in sorted([*_HEADING.finditer(body), *_FIG.finditer(body)], key=lambda m: m.start()):
        if match.re is _HEADING:
            entries.append((int(match.group(1)), match.group(2),
                            _TAGS.sub("", match.group(3)).strip()))
        else:
            label = f"{match.group(3)} {_TAGS.sub('', match.group(4)).strip()}".strip()
            entries.append((4, match.group(2), label))
    entries.append((2, "om-rapporten", "Om rapporten: data och versioner"))
    lines = ["<ul>"]
    for level, anchor, text in entries:
        css = {2: "level-2", 3: "level-3", 4: "level-3 item"}[level]
        lines.append(f'<li class="{css}"><a href="#{anchor}">{text}</a></li>')
    lines.append("</ul>")
    return "\n".join(lines)


_CSV_CODE = re.compile(r"<code>(tables/[\w.\-]+\.csv)</code>")


def link_csv_mentions(page: str, csv_files: Iterable[str]) -> str:
    """Turn ``<code>tables/x.csv</code>`` mentions of written CSVs into links."""
    known = set(csv_files)

    def link(match: re.Match[str]) -> str:
        name = match.group(1)
        return f'<a href="{name}">{match.group(0)}</a>' if name in known else match.group(0)

    return _CSV_CODE.sub(link, page)


def insert_toc(page: str) -> str:
    """Fill the table-of-contents marker of the page from its headings, figures and tables."""
    head, marker, tail = page.partition(TOC_MARKER)
    if not marker:
        return page
    main = re.split(r'<section[^>]*class="provenance"', tail, maxsplit=1)[0]
    return head + _toc(main) + tail


# --- the exporter ------------------------------------------------------------------------------

class Exporter:
    """nbconvert exporters built once and reused (a batch worker keeps one)."""

    def __init__(self) -> None:
        self._html = None
        self._pdf = None

    @property
    def html_exporter(self) -> Any:
        if self._html is None:
            from nbconvert import HTMLExporter
            from traitlets.config import Config

            config = Config()
            config.CSSHTMLHeaderPreprocessor.enabled = False
            exporter = HTMLExporter(config=config, template_name="skr_html",
                                    extra_template_basedirs=[str(TEMPLATES_DIR)],
                                    exclude_input=True, exclude_input_prompt=True,
                                    exclude_output_prompt=True, embed_images=True)
            exporter.register_filter("skr_clean_html", clean_html)
            self._html = exporter
        return self._html

    @property
    def pdf_exporter(self) -> Any:
        """The Typst exporter (``helpers.pdf``): notebook → Typst source and its data."""
        if self._pdf is None:
            from helpers.pdf import exporter_class

            self._pdf = exporter_class()()
        return self._pdf

    @staticmethod
    def _resources(info: ReportInfo) -> dict[str, Any]:
        return {"skr": info.resources(), "metadata": {"name": info.report}}

    @staticmethod
    def _prepare(nb: Any, info: ReportInfo) -> Any:
        nb = clean_notebook(nb)
        title = extract_title(nb)
        if not info.title:
            info.title = title or info.report.replace("_", " ")
        return annotate_captions(nb)

    def to_html(self, nb: Any, info: ReportInfo) -> str:
        """The reviewer HTML of an executed notebook (cleaned and annotated here)."""
        nb = self._prepare(nb, info)
        body, _ = self.html_exporter.from_notebook_node(nb, resources=self._resources(info))
        return link_csv_mentions(insert_toc(body), info.csv_files)

    def to_typst(self, nb: Any, info: ReportInfo) -> tuple[str, dict[str, Any]]:
        """The Typst source of the PDF and its resources (data items, image files)."""
        nb = self._prepare(nb, info)
        return self.pdf_exporter.from_notebook_node(nb, resources=self._resources(info))

    def to_pdf(self, nb: Any, info: ReportInfo) -> bytes:
        """The secretary PDF of an executed notebook: Typst in-process, tagged PDF/UA-1,
        creation date = the data vintage (reproducible bytes)."""
        from helpers.pdf import compile_pdf

        source, resources = self.to_typst(nb, info)
        return compile_pdf(source, resources, timestamp=info.source_date_epoch,
                           meta=info.pdf_meta())

    def export(self, nb: Any, info: ReportInfo, out_dir: Path,
               formats: Iterable[str] = ("html", "pdf")) -> list[Path]:
        """Write ``<report>.html`` / ``.pdf`` into ``out_dir``; returns the files written."""
        written = []
        for fmt in formats:
            target = Path(out_dir) / f"{info.report}.{fmt}"
            if fmt == "html":
                target.write_text(self.to_html(nb, info), encoding="utf-8")
            elif fmt == "pdf":
                target.write_bytes(self.to_pdf(nb, info))
            else:
                raise ValueError(f"unknown export format {fmt!r}: use html or pdf")
            written.append(target)
        return written


# --- manifest and index ------------------------------------------------------------------------


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


MANIFEST = "manifest.json"


def write_manifest(out_dir: Path, info: ReportInfo, *, inputs_sha256: str,
                   status: str = "ok", versions: Mapping[str, str] | None = None,
                   built_from: Mapping[str, str] | None = None) -> Path:
    """Write ``manifest.json``: parameters, data vintage, KPI ids, versions, sha256 of outputs.

    ``built_from`` maps each exported file (``<report>.html``/``.pdf``) to the inputs hash of
    the run that built it: a ``--format pdf`` run keeps the HTML of an earlier run, and the
    manifest says which inputs that HTML came from. Deterministic (sorted keys, no build time),
    so it is byte-identical across rebuilds too.
    """
    out_dir = Path(out_dir)
    outputs = {
        path.relative_to(out_dir).as_posix(): sha256_file(path)
        for path in sorted(out_dir.rglob("*"))
        if path.is_file() and path.name != MANIFEST
    }
    manifest = {
        "variant": info.variant,
        "report": info.report,
        "title": info.title,
        "subtitle": info.subtitle,
        "status": status,
        "parameters": info.parameters,
        "data": {key: info.provenance.get(key) for key in
                 ("source", "base_url", "snapshot", "fetched_at", "kpis", "years", "eurostat")},
        "versions": dict(versions or {}),
        "git_commit": info.provenance.get("git_commit"),
        "inputs_sha256": inputs_sha256,
        "built_from": {name: sha for name, sha in sorted((built_from or {}).items())
                       if name in outputs},
        "outputs": outputs,
    }
    path = out_dir / MANIFEST
    path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n",
                    encoding="utf-8")
    return path


def read_manifest(out_dir: Path) -> dict[str, Any] | None:
    try:
        return json.loads((Path(out_dir) / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


STATUS_DIR_NAME = ".status"


def write_index(reports_dir: Path = paths.REPORTS_DIR) -> Path:
    """Write ``reports/index.html``: every variant with links, data year and status."""
    reports_dir = Path(reports_dir)
    rows: dict[str, dict[str, Any]] = {}
    for manifest_path in sorted(reports_dir.glob(f"*/{MANIFEST}")):
        manifest = read_manifest(manifest_path.parent) or {}
        rows[manifest_path.parent.name] = {"manifest": manifest, "failure": None}
    for status_path in sorted((reports_dir / STATUS_DIR_NAME).glob("*.json")):
        try:
            failure = json.loads(status_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        rows.setdefault(status_path.stem, {"manifest": None})["failure"] = failure
    lines = []
    for variant in sorted(rows):
        manifest, failure = rows[variant]["manifest"], rows[variant]["failure"]
        links = []
        if manifest:
            for name in sorted(manifest.get("outputs", {})):
                if "/" not in name and name.rsplit(".", 1)[-1] in ("html", "pdf", "ipynb"):
                    label = name.rsplit(".", 1)[-1].upper()
                    href = f"{html.escape(variant)}/{html.escape(name)}"
                    links.append(f'<a href="{href}">{label}</a>')
            links.append(f'<a href="{html.escape(variant)}/{MANIFEST}">manifest</a>')
        years = (manifest or {}).get("data", {}).get("years") or []
        year = _format_value(years[-1:] if years else "–")
        title = (manifest or {}).get("subtitle") or (manifest or {}).get("title") or ""
        if failure and manifest:
            status = "misslyckades senast – föregående version visas"
        elif failure:
            status = "misslyckades"
        else:
            status = "klar"
        detail = f'<div class="error">{html.escape(failure.get("error", ""))}</div>' if failure \
            else ""
        css = "failed" if failure else "ok"
        lines.append(f'<tr class="{css}"><th scope="row">{html.escape(variant)}</th>'
                     f"<td>{html.escape(str(title))}</td><td>{html.escape(year)}</td>"
                     f"<td>{' · '.join(links)}</td><td>{html.escape(status)}{detail}</td></tr>")
    page = INDEX_TEMPLATE.format(rows="\n".join(lines) or
                                 '<tr><td colspan="5">Inga rapporter byggda ännu.</td></tr>',
                                 count=len(rows),
                                 failed=sum(1 for r in rows.values() if r["failure"]))
    target = reports_dir / "index.html"
    atomic_write_text(target, page)
    return target


INDEX_TEMPLATE = """<!DOCTYPE html>
<html lang="sv">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>SKR-rapporter – alla varianter</title>
<style>
body {{ font-family: "DejaVu Sans", Roboto, Helvetica, Arial, sans-serif; margin: 2rem auto;
        max-width: 70rem; padding: 0 1rem; color: #1b1b1b; }}
table {{ border-collapse: collapse; width: 100%; font-size: .95rem; }}
th, td {{ border-bottom: 1px solid #d0d7de; padding: .3rem .6rem; text-align: left;
          vertical-align: top; }}
thead th {{ border-bottom: 2px solid #1b1b1b; }}
tr.failed td:last-child {{ color: #a40000; }}
.error {{ font-size: .8rem; white-space: pre-wrap; }}
a {{ color: #00508c; }}
</style>
</head>
<body>
<h1>SKR-rapporter</h1>
<p>{count} varianter, varav {failed} misslyckade vid senaste körningen.</p>
<table>
<thead><tr><th scope="col">Variant</th><th scope="col">Avser</th><th scope="col">Dataår</th>
<th scope="col">Filer</th><th scope="col">Status</th></tr></thead>
<tbody>
{rows}
</tbody>
</table>
</body>
</html>
"""


def atomic_write_text(path: Path, text: str) -> None:
    """Write a UTF-8 text file atomically (``helpers.files``): readers never see half."""
    atomic_write_bytes(Path(path), text.encode("utf-8"))


__all__ = [
    "SKR",
    "SOURCE_LINE",
    "Exporter",
    "ReportInfo",
    "annotate_captions",
    "atomic_write_text",
    "clean_html",
    "clean_notebook",
    "epoch_of",
    "extract_title",
    "figure_metadata",
    "figure_png",
    "git_commit",
    "insert_toc",
    "link_csv_mentions",
    "read_manifest",
    "sha256_file",
    "show_figure",
    "show_table",
    "strip_png_metadata",
    "swedish_date",
    "table_metadata",
    "write_index",
    "write_manifest",
]
