"""The reviewer HTML: nbconvert's HTML exporter with the ``skr_html`` template, outputs
sanitised (text from the sources cannot inject markup), numbers right-aligned, a table of
contents and links to the CSV files."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable
from typing import Any

import bleach
from nbconvert import HTMLExporter  # lazy: nbconvert is slow to import
from traitlets.config import Config

from helpers import paths
from helpers.rendering.captions import SKR
from helpers.rendering.table_data import NUMERIC_CELL, TABLE_MIME, html_table_data
from helpers.rendering.table_html import is_wide, table_html

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
    text = _STYLE_BLOCK.sub("", str(text))
    cleaned = bleach.clean(text, tags=_ALLOWED_TAGS, attributes=_ALLOWED_ATTRIBUTES,
                           protocols=["http", "https"], strip=False, strip_comments=True)
    return _PLAIN_CELL.sub(_align_cell, cleaned)


_PLAIN_CELL = re.compile(r"<td>(.*?)</td>", re.DOTALL)


def _align_cell(match: re.Match) -> str:
    """In an HTML table from an output (not built from a table model) a cell that reads as a
    number gets class "num" (right-aligned); words stay left, the page's default."""
    content = match.group(1)
    if NUMERIC_CELL.match(html.unescape(_TAGS.sub("", content)).strip()) and content.strip():
        return f'<td class="num">{content}</td>'
    return match.group(0)


_HEADING = re.compile(r'<h([23]) id="([^"]+)">(.*?)(?:<a class="anchor-link"[^>]*>.*?</a>)?</h\1>',
                      re.DOTALL)


_FIG = re.compile(r'<(?:figure|div) class="skr-(figure|table)" id="([^"]+)">.*?'
                  r'<(?:figcaption|caption)[^>]*>(?:<span class="caption-text">)?'
                  r'<span class="caption-label">(.*?)</span>\s*(.*?)'
                  r'(?:<span|<a|</figcaption>|</caption>)', re.DOTALL)


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


def _model(data: dict[str, Any]) -> dict[str, Any]:
    model = data.get(TABLE_MIME)
    if isinstance(model, str):
        model = json.loads(model)
    return model or html_table_data("".join(data.get("text/html", "")))


def table_block(output: Any) -> str:
    """A displayed table as the page shows it, built from its table model: the ``<table>``
    with its caption inside a keyboard-focusable scroll box named by the caption, then the
    source line and the link to the CSV. A table without caption metadata is only the table."""
    meta = (output.get("metadata") or {}).get(SKR) or {}
    model = _model(output.get("data") or {})
    if meta.get("kind") != "table" or not meta.get("number"):
        return f'<div class="table-wrap">\n{table_html(model)}\n</div>'
    anchor = html.escape(meta.get("anchor") or f"tabell-{meta['number']}")
    caption_id = f"{anchor}-rubrik"
    wide = " wide" if is_wide(model) else ""
    lines = [f'<div class="skr-table" id="{anchor}">',
             f'<div class="table-wrap{wide}" role="region" tabindex="0" '
             f'aria-labelledby="{caption_id}">',
             table_html(model, caption_id=caption_id, label=f"Tabell {meta['number']}",
                        title=meta.get("title") or ""),
             "</div>"]
    if meta.get("source"):
        lines.append(f'<p class="skr-source">{html.escape(meta["source"])}</p>')
    if meta.get("csv"):
        csv = html.escape(meta["csv"])
        lines.append(f'<p class="skr-data-link"><a href="{csv}">Data bakom tabellen (CSV): '
                     f"{csv}</a></p>")
    if meta.get("xlsx"):
        xlsx = html.escape(meta["xlsx"])
        lines.append(f'<p class="skr-data-link"><a href="{xlsx}">Tabellen för Excel: '
                     f"{xlsx}</a></p>")
    lines.append("</div>")
    return "\n".join(lines)


def html_exporter() -> Any:
    """nbconvert's HTML exporter with the ``skr_html`` template: no code, no prompts, images
    embedded, outputs through :func:`clean_html`."""
    config = Config()
    config.CSSHTMLHeaderPreprocessor.enabled = False
    exporter = HTMLExporter(config=config, template_name="skr_html",
                            extra_template_basedirs=[str(paths.TEMPLATES_DIR)],
                            exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True, embed_images=True)
    exporter.register_filter("skr_clean_html", clean_html)
    exporter.register_filter("skr_table", table_block)
    return exporter
