"""``reports/index.html``, the list of published reports for the people who use them (template
``templates/skr_index/index.html.j2``), and each variant's page of figures and tables
(``<variant>/figurer-och-tabeller.html``, ``templates/skr_index/contents.html.j2``).

The index lists what is published: variants whose manifest says ``ok``, built from a parameter
file in ``params/`` (a run of a file from elsewhere stays on disk, unlisted), with a report to
open. It groups them by report (its title), and inside a report: the whole country, kommuner by
län, regions. Each row names the kommun or region, the data year and links in Swedish words:
"Rapport (PDF)", "Webbsida (HTML)", "Figurer och tabeller". A search box (a few lines of inline
JavaScript; without it every group can still be opened) filters by kommun, code, län or report.
Variants whose last build failed are named in a short note at the end.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from helpers import paths
from helpers.build.manifest import MANIFEST, read_manifest
from helpers.build.publish import STATUS_DIR_NAME
from helpers.files import atomic_write_text
from helpers.rendering.captions import SKR

INDEX_TEMPLATE = "skr_index/index.html.j2"
CONTENTS_TEMPLATE = "skr_index/contents.html.j2"
CONTENTS_PAGE = "figurer-och-tabeller.html"
PUBLISHED_FROM = "params/"
"""Only variants of parameter files in ``params/`` (as the manifest names them) are listed."""
OPEN_UP_TO = 12
"""Län groups start open when their report has at most this many kommun variants."""


@dataclass
class Row:
    """One published variant as the index shows it."""

    variant: str
    label: str
    """What the variant is about: "Åsele (2463)", "Region Skåne (0012)", "Hela landet"."""
    year: str
    links: list[tuple[str, str]]
    """(href, Swedish link text), the report first."""
    search: str
    """What the search box matches: names, code, län, report (lower case, without accents)."""
    context: str
    """Said after each link for a screen reader: "Åsele (2463), Välfärd i hela landet"."""


@dataclass
class Group:
    """Rows of one report under one heading: the whole country, a län, the regions."""

    title: str
    rows: list[Row] = field(default_factory=list)
    column: str = "Kommun"
    open: bool = True
    key: str = ""


@dataclass
class ReportGroup:
    """A report (by title) and its groups of variants."""

    title: str
    key: str
    whole: list[Group] = field(default_factory=list)
    lans: list[Group] = field(default_factory=list)
    regions: list[Group] = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(len(g.rows) for g in [*self.whole, *self.lans, *self.regions])


@dataclass
class IndexEntries:
    reports: list[ReportGroup]
    failures: list[dict[str, Any]]
    unlisted: list[str]
    """Variants on disk built from a parameter file outside ``params/`` (ad-hoc runs)."""
    unnamed: list[str] = field(default_factory=list)
    """Variants on disk built by an older version, whose manifest names no parameter file or
    no place (a kommun variant would be listed as the whole country)."""


def _fold(text: str) -> str:
    """Lower case without accents: "Åsele" and "asele" match."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


_SWEDISH_LAST = {"å": "{", "ä": "|", "ö": "}", "æ": "|", "ø": "}"}


def _swedish(text: str) -> str:
    """A sort key in Swedish order: å, ä, ö after z; other accents as their letter."""
    return "".join(_SWEDISH_LAST.get(c) or _fold(c) for c in text.casefold())


def _published(folder: Path, manifest: dict[str, Any] | None) -> bool:
    if not manifest or manifest.get("status", "ok") != "ok":
        return False
    report = manifest.get("report") or ""
    outputs = manifest.get("outputs") or {}
    readable = [name for name in (f"{report}.pdf", f"{report}.html")
                if name in outputs and (folder / name).is_file()]
    return bool(readable) and str(manifest.get("params_file") or "").startswith(PUBLISHED_FROM)


def _links(folder: str, manifest: dict[str, Any], base: Path) -> list[tuple[str, str]]:
    report, outputs = manifest.get("report") or "", manifest.get("outputs") or {}
    links = [(f"{folder}/{report}.{suffix}", text)
             for suffix, text in (("pdf", "Rapport (PDF)"), ("html", "Webbsida (HTML)"))
             if f"{report}.{suffix}" in outputs and (base / f"{report}.{suffix}").is_file()]
    contents = manifest.get("contents") or {}
    if contents.get("page") in outputs:
        count = [f"{n} {one if n == 1 else many}" for n, one, many in (
            (contents.get("figures") or 0, "figur", "figurer"),
            (contents.get("tables") or 0, "tabell", "tabeller")) if n]
        text = "Figurer och tabeller" + (f" ({', '.join(count)})" if count else "")
        links.append((f"{folder}/{contents['page']}", text))
    return links


def _row(folder: Path, manifest: dict[str, Any]) -> tuple[Row, dict[str, Any] | None]:
    place = manifest.get("place") or None
    title = manifest.get("title") or manifest.get("report") or folder.name
    years = (manifest.get("data") or {}).get("years") or []
    label = place["label"] if place else "Hela landet"
    words = [label, title, folder.name]
    if place:
        words += [place.get("name") or "", place.get("code") or "", place.get("lansnamn") or ""]
    row = Row(variant=folder.name, label=label, year=str(years[-1]) if years else "–",
              links=_links(folder.name, manifest, folder), search=_fold(" ".join(words)),
              context=f"{label}, {title}")
    return row, place


def _failures(reports_dir: Path) -> list[dict[str, Any]]:
    found = []
    for path in sorted((reports_dir / STATUS_DIR_NAME).glob("*.json")):
        try:
            failure = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        kept = (read_manifest(reports_dir / path.stem) or {}).get("status", "ok") == "ok" \
            and (reports_dir / path.stem / MANIFEST).is_file()
        found.append({"variant": path.stem, "kept": kept,
                      "error": str(failure.get("error") or "")})
    return found


def _group(report: ReportGroup, place: dict[str, Any] | None) -> Group:
    if place is None:
        if not report.whole:
            report.whole.append(Group("Hela landet", column="Avser", key=f"{report.key}-riket"))
        return report.whole[0]
    if place.get("kind") == "region":
        if not report.regions:
            report.regions.append(Group("Regioner", column="Region",
                                        key=f"{report.key}-regioner"))
        return report.regions[0]
    lan = place.get("lan") or "??"
    for group in report.lans:
        if group.key == f"{report.key}-lan-{lan}":
            return group
    group = Group(place.get("lansnamn") or f"Län {lan}", key=f"{report.key}-lan-{lan}")
    report.lans.append(group)
    return group


def index_entries(reports_dir: Path) -> IndexEntries:
    """The published variants grouped for the index, the failed ones, the unlisted ones."""
    reports: dict[str, ReportGroup] = {}
    unlisted, unnamed = [], []
    for path in sorted(Path(reports_dir).glob(f"*/{MANIFEST}")):
        folder = path.parent
        if folder.name.startswith((".", "_")):
            continue
        manifest = read_manifest(folder)
        if not _published(folder, manifest):
            if manifest and manifest.get("status", "ok") == "ok":
                (unlisted if manifest.get("params_file") else unnamed).append(folder.name)
            continue
        if "place" not in manifest and (manifest.get("parameters") or {}).get("kommun"):
            unnamed.append(folder.name)  # an older version's: it does not say what it is about
            continue
        row, place = _row(folder, manifest)
        title = manifest.get("title") or manifest.get("report") or folder.name
        report = reports.setdefault(title, ReportGroup(title, key=_key(title)))
        _group(report, place).rows.append(row)
    for report in reports.values():
        report.lans.sort(key=lambda g: g.key)  # by län code, as SCB lists them
        kommuner = sum(len(g.rows) for g in report.lans)
        for group in [*report.whole, *report.lans, *report.regions]:
            group.rows.sort(key=lambda r: (_swedish(r.label), r.year))
            group.open = group not in report.lans or kommuner <= OPEN_UP_TO
    ordered = sorted(reports.values(), key=lambda r: _swedish(r.title))
    return IndexEntries(ordered, _failures(Path(reports_dir)), unlisted, unnamed)


def _formats_text(reports: list[ReportGroup]) -> str:
    """What the lead says of the formats: PDF only where every published report has one."""
    rows = [row for report in reports
            for group in [*report.whole, *report.lans, *report.regions] for row in group.rows]
    with_pdf = sum(any(text == "Rapport (PDF)" for _, text in row.links) for row in rows)
    if with_pdf == len(rows):
        return "varje rapport finns som PDF och som webbsida"
    if with_pdf == 0:
        return "varje rapport finns som webbsida"
    return "varje rapport finns som webbsida, och som PDF där en PDF har byggts"


def _key(title: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in _fold(title)).strip("-") or "rapport"


def _environment() -> Environment:
    return Environment(loader=FileSystemLoader(paths.TEMPLATES_DIR),
                       autoescape=select_autoescape(["html", "j2"]),
                       keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True)


def write_index(reports_dir: Path = paths.REPORTS_DIR) -> Path:
    """Write ``reports/index.html`` (see the module docstring)."""
    reports_dir = Path(reports_dir)
    entries = index_entries(reports_dir)
    page = _environment().get_template(INDEX_TEMPLATE).render(
        reports=entries.reports, failures=entries.failures, unlisted=entries.unlisted,
        unnamed=entries.unnamed, total=sum(r.count for r in entries.reports),
        formats_text=_formats_text(entries.reports))
    return atomic_write_text(reports_dir / "index.html", page)


# --- a variant's figures and tables ------------------------------------------------------------


def contents_of(nb: Any) -> dict[str, list[dict[str, Any]]]:
    """The figures and tables of an executed report notebook, from their caption metadata:
    label ("Figur 1"), title and files (figures: SVG, PDF, PNG, data CSV; tables: Excel, CSV)."""
    found: dict[str, list[dict[str, Any]]] = {"figures": [], "tables": []}
    for cell in nb.get("cells", []):
        for output in cell.get("outputs", []) or []:
            meta = (output.get("metadata") or {}).get(SKR)
            if not isinstance(meta, dict) or not meta.get("number") or \
                    meta.get("kind") not in ("figure", "table"):  # not a figure's description
                continue
            figure = meta.get("kind") == "figure"
            files = list(meta.get("files") or []) if figure else \
                [name for name in (meta.get("xlsx"),) if name]
            if meta.get("csv"):
                files.append(meta["csv"])
            entry = {"label": f"{'Figur' if figure else 'Tabell'} {meta['number']}",
                     "title": str(meta.get("title") or ""),
                     "files": [(name, _file_text(name)) for name in files]}
            found["figures" if figure else "tables"].append(entry)
    return found


def _file_text(name: str) -> str:
    suffix = name.rsplit(".", 1)[-1].lower()
    return {"png": "Bild (PNG)", "svg": "Vektorbild (SVG)", "pdf": "PDF",
            "xlsx": "Tabell för Excel (XLSX)", "csv": "Data (CSV)"}.get(suffix, name)


def write_contents_page(folder: Path, nb: Any, *, title: str,
                        subtitle: str) -> dict[str, Any] | None:
    """Write ``<folder>/figurer-och-tabeller.html`` listing the report's figures and tables
    with links to their files; returns what the manifest says of it (None: nothing to list)."""
    contents = contents_of(nb)
    if not contents["figures"] and not contents["tables"]:
        return None
    page = _environment().get_template(CONTENTS_TEMPLATE).render(
        title=title, subtitle=subtitle, **contents)
    atomic_write_text(Path(folder) / CONTENTS_PAGE, page)
    return {"page": CONTENTS_PAGE, "figures": len(contents["figures"]),
            "tables": len(contents["tables"])}
