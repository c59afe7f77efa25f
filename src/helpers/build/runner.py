"""Running one report variant: validate → fetch → execute (papermill) → export → publish.

``run_variant(read_params("params/valfard.yaml", kommun="2463"))``:

1. the parameter file has been read once and prechecked (:mod:`.parameters`);
   :func:`prepare_variant` validates it against the Kolada catalogue and fetches what it needs
   (``helpers.datasets.prepare``): a bad kommun, KPI, key or year raises ``ParamsError`` before
   any notebook starts;
2. executes ``notebooks/<report>.ipynb`` with papermill on a kernel (:mod:`.kernel`) in a fresh
   staging folder ``reports/.staging/<variant>-XXXX/``, passing the validated parameters in
   their JSON form (``params.model_dump(mode="json")``); the setup cell points
   ``helpers.paths.output_dir`` at the staging folder, so tables and figures land there;
3. only when every cell succeeded: writes the cleaned ``<report>.ipynb``, exports HTML/PDF
   (``helpers.rendering.export``) and ``manifest.json``, then publishes the staging folder as
   ``reports/<variant>/`` atomically (:mod:`.publish`). A failing variant publishes nothing,
   keeps the previous good output and raises :class:`VariantFailed` naming the cell (tag, index,
   first source line) and the exception.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import nbformat

from helpers.build.digests import inputs_digest, variant_data_digests, versions
from helpers.build.index import write_contents_page, write_index
from helpers.build.kernel import KernelSession, kernel_env
from helpers.build.manifest import tables_of, write_manifest
from helpers.build.parameters import ParamsFile
from helpers.build.previous import changes_cells, keep_previous
from helpers.build.publish import (
    STAGING_DIR_NAME,
    check_replaces,
    clear_failure,
    publish,
    record_failure,
)
from helpers.build.variant import (
    FORMATS,
    RunSettings,
    Variant,
    VariantFailed,
    VariantResult,
    normalize_formats,
)
from helpers.datasets import catalogue_for, place_of, prepare, unit_of
from helpers.files import current_umask
from helpers.params import ParamsError, ReportParams
from helpers.rendering.cleaning import clean_notebook
from helpers.rendering.export import Exporter
from helpers.rendering.provenance import report_info
from helpers.sources.identity import source_id_of

log = logging.getLogger(__name__)












def variant_for(params: ReportParams, params_path: Path, *, year: int | None,
                kpis: Iterable[str], source: Mapping[str, Any], settings: RunSettings,
                overrides: Mapping[str, Any] | None = None,
                years_by_kpi: Mapping[str, Sequence[int]] | None = None,
                missing_kpis: Iterable[str] = (), name_year: int | None = None) -> Variant:
    """A :class:`Variant` from validated parameters (checks that the notebook exists);
    ``overrides`` are the command line's changes to the parameter file, ``years_by_kpi`` the
    years with data of each KPI (``FetchResult.years_by_kpi``), ``missing_kpis`` those without
    any; ``name_year`` the year the name carries (``ParamsFile.name_year``)."""
    notebook = Path(settings.notebooks_dir) / f"{params.report}.ipynb"
    if not notebook.is_file():
        raise ParamsError(f"{params_path}: key 'report': no notebook {notebook} for report "
                          f"{params.report!r}. Fix: add the notebook or correct the report name.")
    eurostat = sorted({req.dataset for req in params.eurostat_requests()})
    return Variant(name=params.variant_name(Path(params_path).stem, name_year), params=params,
                   params_path=Path(params_path), notebook=notebook, year=year,
                   kpis=sorted(set(kpis)), source=dict(source), eurostat=eurostat,
                   place=place_of(params, settings.processed_dir, year),
                   unit=unit_of(params, settings.processed_dir, year),
                   overrides=dict(overrides or {}),
                   kpi_years={} if years_by_kpi is None else
                   {kpi: max(years_by_kpi.get(kpi, ()), default=None) for kpi in sorted(set(kpis))},
                   missing_kpis=sorted(set(missing_kpis)))


def prepare_variant(params_file: ParamsFile, *, client: Any, settings: RunSettings,
                    eurostat_client: Any = None) -> Variant:
    """Validate against the catalogue, fetch the data and settle the year (``datasets.prepare``).

    Raises ``ParamsError`` or a ``SourceError`` (Kolada, Eurostat) before any notebook starts.
    """
    params = params_file.validate(catalogue_for(client))
    prepared = prepare(params, client, settings.processed_dir, eurostat_client=eurostat_client)
    return variant_for(prepared.params, params_file.path, year=prepared.year,
                       kpis=prepared.fetch.kpis, source=prepared.source, settings=settings,
                       overrides=params_file.overrides,
                       years_by_kpi=prepared.fetch.years_by_kpi,
                       missing_kpis=prepared.fetch.missing_kpis,
                       name_year=params_file.name_year(prepared.latest_year))


def variant_info(variant: Variant, parameters: Mapping[str, Any], settings: RunSettings,
                 csv_files: Sequence[str] = ()) -> Any:
    """The title block and provenance of a variant (``rendering.provenance.report_info``)."""
    return report_info(variant.params, variant=variant.name, year=variant.year,
                       kpis=variant.kpis, source=variant.source, place=variant.place,
                       parameters=parameters, fallback=settings.notice, csv_files=csv_files,
                       command=variant.command)


def manifest_fields(variant: Variant) -> tuple[dict[str, Any], dict[str, Any]]:
    """What the manifest says besides the provenance: how to build the variant again (top
    level) and what ``skr-report status`` compares (under ``data``)."""
    build = {"params_file": variant.params_file, "overrides": variant.overrides,
             "family": variant.family, "year_fixed": variant.year_fixed,
             "place": variant.unit}
    data: dict[str, Any] = {"years_rule": type(variant.params).years_rule,
                            "source_id": source_id_of(variant.source)}
    if variant.kpi_years:
        data["kpi_years"] = dict(variant.kpi_years)
    if variant.data_digests:
        data["data_digests"] = dict(variant.data_digests)
    return build, data


def _failure(variant: Variant, exc: BaseException, nb: Any) -> VariantFailed:
    """A VariantFailed naming the cell (tag, index in the notebook, first line) and exception."""
    index = getattr(exc, "cell_index", None)
    source = getattr(exc, "source", "") or ""
    ename = getattr(exc, "ename", type(exc).__name__)
    evalue = getattr(exc, "evalue", str(exc))
    tags: list[str] = []
    position = None
    for i, cell in enumerate(nb.cells):
        if cell.get("source", "") == source and source:
            tags = [t for t in cell.get("metadata", {}).get("tags", [])]
            position = i
            break
    first_line = next((line for line in source.splitlines() if line.strip()), "")
    if index is None:
        where = "while running the notebook"
    else:
        label = f"cell {position if position is not None else index}"
        if tags:
            label += f" (tag {', '.join(tags)})"
        where = f"in {label}: {first_line!r}"
    message = (f"{variant.name}: {variant.notebook.name} failed {where} — {ename}: {evalue}. "
               f"Nothing was published; the previous output in reports/{variant.name}/ "
               "is kept.")
    return VariantFailed(variant.name, message, cell_index=position, cell_tags=tags,
                         first_line=first_line, ename=ename, evalue=evalue)


def _export_failure(variant: Variant, exc: BaseException) -> VariantFailed:
    """A VariantFailed for an export (HTML/PDF) that could not be built."""
    message = (f"{variant.name}: exporting {variant.notebook.name} failed — "
               f"{type(exc).__name__}: {exc}. Nothing was published; the previous output in "
               f"reports/{variant.name}/ is kept.")
    return VariantFailed(variant.name, message, ename=type(exc).__name__, evalue=str(exc))


def _staging_folder(reports_dir: Path, variant: str) -> Path:
    """A fresh folder ``reports/.staging/<variant>-<pid>-XXXX/`` with the umask's mode."""
    staging_root = reports_dir / STAGING_DIR_NAME
    staging_root.mkdir(parents=True, exist_ok=True)
    # the pid in the name: a batch removes the staging folders of workers it had to kill
    staging = Path(tempfile.mkdtemp(prefix=f"{variant}-{os.getpid()}-", dir=staging_root))
    staging.chmod(0o777 & ~current_umask())  # mkdtemp makes it private; mkdir would not
    return staging


def _execute(variant: Variant, nb: Any, parameters: Mapping[str, Any], staging: Path, *,
             session: KernelSession, settings: RunSettings) -> Any:
    """Run the notebook in ``staging``; the cleaned notebook. A failing cell is recorded and
    raised as :class:`VariantFailed`."""
    try:
        executed = session.execute(nb, parameters, staging, timeout=settings.cell_timeout)
    except Exception as exc:
        failure = _failure(variant, exc, nb)
        record_failure(settings.reports_dir, variant.name, str(failure))
        raise failure from exc
    return clean_notebook(executed)


def _add_changes(variant: Variant, cleaned: Any, staging: Path, target: Path,
                 settings: RunSettings) -> None:
    """Keep the published version in ``staging/previous/`` when the data changed (or take the
    kept one over) and end the report with what changed since (:mod:`.previous`); then write
    the notebook as exported."""
    digests = variant_data_digests(variant, settings.processed_dir)
    previous = keep_previous(target, staging, digests, variant.year)
    if previous is not None:
        now = {"data": {"years": [variant.year] if variant.year is not None else [],
                        "fetched_at": variant.source.get("fetched_at")},
               "tables": tables_of(cleaned)}
        cleaned.cells.extend(changes_cells(previous, staging, now, cleaned))
    # nbformat.writes' layout (indent 1, sorted keys) without re-validating the schema
    (staging / f"{variant.report}.ipynb").write_text(
        json.dumps(cleaned, indent=1, sort_keys=True, ensure_ascii=False) + "\n",
        encoding="utf-8")


def _export(variant: Variant, cleaned: Any, info: Any, staging: Path,
            formats: Sequence[str], exporter: Exporter, settings: RunSettings) -> list[Path]:
    try:
        return exporter.export(cleaned, info, staging, formats)
    except Exception as exc:
        failure = _export_failure(variant, exc)
        record_failure(settings.reports_dir, variant.name, str(failure))
        raise failure from exc


def build_variant(variant: Variant, formats: Sequence[str] = FORMATS, *,
                  session: KernelSession, exporter: Exporter, settings: RunSettings,
                  inputs: str | None = None, nb_source: Any = None) -> VariantResult:
    """Execute, export and publish one prepared variant on a running kernel session.

    Raises :class:`VariantFailed` when a cell fails (after recording the failure).
    """
    started = time.perf_counter()
    reports_dir = Path(settings.reports_dir)
    target = reports_dir / variant.name
    staging = _staging_folder(reports_dir, variant.name)
    try:  # from here on the staging folder goes whatever stops the build (a signal too)
        nb = nb_source if nb_source is not None else nbformat.read(variant.notebook,
                                                                   as_version=4)
        parameters = dict(variant.parameters)
        cleaned = _execute(variant, nb, parameters, staging, session=session,
                           settings=settings)
        _add_changes(variant, cleaned, staging, target, settings)
        csv_files = sorted(p.relative_to(staging).as_posix()  # and the tables for Excel
                           for pattern in ("*.csv", "*.xlsx")
                           for p in (staging / "tables").glob(pattern))
        info = variant_info(variant, parameters, settings, csv_files)
        files = _export(variant, cleaned, info, staging, formats, exporter, settings)
        inputs = inputs or inputs_digest(variant, settings=settings, notice=settings.notice)
        built = {f.name: inputs for f in files}
        build, data = manifest_fields(variant)
        build["contents"] = write_contents_page(staging, cleaned, title=info.title,
                                                subtitle=info.subtitle)
        tables = tables_of(cleaned)

        def finish(kept: Mapping[str, str]) -> None:
            write_manifest(staging, info, inputs_sha256=inputs, versions=versions(),
                           built_from={**kept, **built}, build=build, data=data,
                           tables=tables)

        others = [f"{variant.report}.{fmt}" for fmt in FORMATS if fmt not in formats]
        publish(staging, target, reports_dir, keep=others, finish=finish)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    clear_failure(reports_dir, variant.name)
    return VariantResult(variant.name, "ok", target,
                         [target / f.name for f in files] + [target / "manifest.json"],
                         seconds=time.perf_counter() - started)


def run_variant(variant: Variant, formats: Sequence[str] = FORMATS, *,
                settings: RunSettings | None = None, exporter: Exporter | None = None,
                update_index: bool = True, force: bool = False) -> VariantResult:
    """Build one prepared variant on a kernel of its own: ``reports/<variant>/<report>.ipynb|
    .html|.pdf``, tables, manifest.

    Raises :class:`VariantFailed` when a cell fails (nothing published, previous output kept),
    ``publish.VariantConflict`` before anything runs when it would replace a variant built
    from another parameter file with other parameters (unless ``force``).
    """
    settings = settings or RunSettings()
    formats = normalize_formats(formats)
    exporter = exporter or Exporter()
    note = check_replaces(Path(settings.reports_dir) / variant.name, variant.params_file,
                          variant.parameters, force=force)
    try:
        with KernelSession(settings.kernel_name, env=kernel_env(variant.source)) as session:
            result = build_variant(variant, formats, session=session, exporter=exporter,
                                   settings=settings)
            result.note = note
            return result
    finally:
        if update_index:
            write_index(settings.reports_dir)


