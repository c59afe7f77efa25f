"""Exporting executed report notebooks as Swedish HTML (:mod:`.html`) and accessible PDF
(:mod:`.pdf`), byte-reproducible: :func:`~.cleaning.clean_notebook` removes what varies between
runs, and the PDF's creation time is the data vintage."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from helpers.rendering.cleaning import (
    annotate_captions,
    caption_sources,
    clean_notebook,
    extract_title,
)
from helpers.rendering.html import html_exporter, insert_toc, link_csv_mentions
from helpers.rendering.pdf import TypstExporter, compile_pdf
from helpers.rendering.provenance import ReportInfo, citation


class Exporter:
    """nbconvert exporters built once and reused (a batch worker keeps one)."""

    def __init__(self) -> None:
        self._html = None
        self._pdf = None

    @property
    def html_exporter(self) -> Any:
        """The HTML exporter (:mod:`.html`)."""
        if self._html is None:
            self._html = html_exporter()
        return self._html

    @property
    def pdf_exporter(self) -> Any:
        """The Typst exporter (``helpers.rendering.pdf``): notebook → Typst source and its data."""
        if self._pdf is None:
            self._pdf = TypstExporter()
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
        nb = annotate_captions(nb)
        if not info.citation:
            info.citation = citation(caption_sources(nb))
        return nb

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
