"""A variant: one parameter set, validated, with its data fetched, ready to build; where the
build writes; what a build gives back."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from helpers import paths
from helpers.build.status import family_of
from helpers.params import ReportParams

FORMATS = ("html", "pdf")
KERNEL_NAME = "skr-report"
"""The Jupyter kernel the reports run on (``make install`` installs it)."""
KERNEL_DISPLAY_NAME = "SKR-rapporter (Python 3.11)"
"""Its name in JupyterLab: the Makefile's ``KERNEL_DISPLAY``, and every notebook's."""
CELL_TIMEOUT = 900
"""Seconds a notebook cell may run."""


class VariantFailed(RuntimeError):
    """A notebook cell raised: nothing was published. The message names cell and exception."""

    def __init__(self, variant: str, message: str, *, cell_index: int | None = None,
                 cell_tags: Sequence[str] = (), first_line: str = "", ename: str = "",
                 evalue: str = ""):
        super().__init__(message)
        self.variant = variant
        self.cell_index = cell_index
        self.cell_tags = list(cell_tags)
        self.first_line = first_line
        self.ename = ename
        self.evalue = evalue


@dataclass
class RunSettings:
    """Where things are; tests point these at temporary folders and fixture notebooks."""

    reports_dir: Path = field(default_factory=lambda: paths.REPORTS_DIR)
    notebooks_dir: Path = field(default_factory=lambda: paths.NOTEBOOKS_DIR)
    processed_dir: Path = field(default_factory=lambda: paths.PROCESSED_DIR)
    kernel_name: str = KERNEL_NAME
    cell_timeout: int = CELL_TIMEOUT
    notice: str | None = None
    """Shown highlighted in every report's provenance (e.g. the snapshot fallback)."""


@dataclass
class Variant:
    """A validated parameter set with its data fetched, ready to run."""

    name: str
    params: ReportParams
    params_path: Path
    notebook: Path
    year: int | None
    kpis: list[str]
    source: dict[str, Any]
    eurostat: list[str] = field(default_factory=list)
    """Eurostat datasets the notebook reads from ``data/processed/eurostat/``."""
    place: str | None = None
    """The kommun or region the variant is about, as the report names it ("Åsele (2463)")."""
    overrides: dict[str, Any] = field(default_factory=dict)
    """What the command line changed in the parameter file (``{"kommun": "0114"}``): with
    ``params_path`` it is how ``skr-report update`` builds the variant again."""
    kpi_years: dict[str, int | None] = field(default_factory=dict)
    """KPI → the last year with data when the data were fetched (None: no data)."""
    data_digests: dict[str, str] = field(default_factory=dict)
    """What it reads of ``data/processed``, digest by digest (``build.digests``)."""
    missing_kpis: list[str] = field(default_factory=list)
    """KPIs Kolada has no values for: the report shows them as "saknas i data"."""
    unit: dict[str, Any] | None = None
    """The kommun or region as lists of reports group it (``datasets.unit_of``)."""

    @property
    def report(self) -> str:
        return self.params.report

    @property
    def family(self) -> str:
        """The parameter file's name without the kommun: every kommun variant of one file is
        one row of ``skr-report status``."""
        return family_of(self.name, self.params_path, self.params.kommun)

    @property
    def params_file(self) -> str:
        """The parameter file, relative to the project when it lies there (as the manifest
        records it)."""
        path = Path(self.params_path).resolve()
        try:
            return path.relative_to(paths.PROJ_ROOT.resolve()).as_posix()
        except ValueError:
            return path.as_posix()

    @property
    def command(self) -> str:
        """The command that builds this variant again: ``skr-report run <file>`` with the
        command line's kommun and year (the colophon of "Om rapporten" shows it). A parameter
        file outside the project is named by its file name only (no local folders in a report)."""
        file = self.params_file
        parts = ["skr-report", "run", Path(file).name if Path(file).is_absolute() else file]
        for key in ("kommun", "year"):
            if self.overrides.get(key) is not None:
                parts += [f"--{key}", str(self.overrides[key])]
        return " ".join(parts)

    @property
    def year_fixed(self) -> bool:
        """True when the parameters fix the year; False when it follows the latest data."""
        return self.params.year is not None

    @property
    def parameters(self) -> dict[str, Any]:
        """What papermill passes to the notebook's ``parameters`` cell."""
        values = self.params.model_dump(mode="json")
        if values.get("year") is None and self.year is not None:
            values["year"] = self.year
        return values


@dataclass
class VariantResult:
    variant: str
    status: str  # "ok" | "skipped" | "failed"
    out_dir: Path
    files: list[Path] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0
    note: str | None = None
    """Said about the build (e.g. that it replaced a build with other parameters)."""


def missing_data_lines(variants: Iterable[Variant]) -> list[str]:
    """One line per report whose variants lack data in Kolada, naming the report, its
    parameter files and the KPIs: said once, however many variants are built."""
    by_report: dict[str, tuple[set[str], set[str]]] = {}
    for variant in variants:
        if variant.missing_kpis:
            title = type(variant.params).title or variant.report
            kpis, files = by_report.setdefault(title, (set(), set()))
            kpis.update(variant.missing_kpis)
            files.add(variant.params_path.name)
    return [f"{title} ({', '.join(sorted(files))}): no values in Kolada for "
            f"{', '.join(sorted(kpis))}; the report shows them as 'saknas i data'."
            for title, (kpis, files) in sorted(by_report.items())]


def normalize_formats(formats: str | Iterable[str]) -> tuple[str, ...]:
    """``"html,pdf"`` or ``["pdf", "html"]`` → ``("html", "pdf")``; unknown ones raise."""
    items = formats.split(",") if isinstance(formats, str) else list(formats)
    chosen = {item.strip().lower() for item in items if item.strip()}
    unknown = chosen - set(FORMATS)
    if unknown or not chosen:
        raise ValueError(f"unknown format(s) {', '.join(sorted(unknown)) or '(none)'}: "
                         "use html, pdf or html,pdf")
    return tuple(fmt for fmt in FORMATS if fmt in chosen)
