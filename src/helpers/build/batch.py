"""Many variants of one parameter file in parallel, skipping the ones that are up to date.

``run_batch("params/valfard.yaml", kommuner="all", jobs=2, formats=("html",))``:

1. validates the parameter file and fetches its data once (``datasets.prepare``), then validates
   every kommun variant against the catalogue (a bad code fails that variant, not the batch);
2. hashes the inputs of each variant (notebook, parameters, the processed data it reads, the
   package's code and version) and skips variants whose ``manifest.json`` has the same hash and
   whose outputs exist;
3. runs the rest on ``jobs`` worker processes. Each worker keeps one warm kernel
   (:class:`helpers.build.kernel.KernelSession`: imports, data caches and fonts stay loaded; the
   namespace is reset between variants) and one nbconvert exporter, so a variant costs about
   what drawing its figures costs;
4. keeps going when a variant fails, shows a tqdm progress bar, writes ``reports/index.html``
   once at the end and returns a :class:`BatchResult` (the CLI exits non-zero listing failures).
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import multiprocessing.util
import shutil
import tempfile
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from tqdm.auto import tqdm

from helpers import paths
from helpers.build.digests import (
    code_digest,
    combined,
    inputs_digest,
    is_up_to_date,
    stable_source,
    variant_data_digests,
)
from helpers.build.index import write_index
from helpers.build.kernel import KERNEL_DIR_PREFIX, KernelSession, kernel_env
from helpers.build.manifest import read_manifest
from helpers.build.options import check_jobs, resolve_kommuner
from helpers.build.parameters import ParamsFile, read_params
from helpers.build.publish import (
    STAGING_DIR_NAME,
    VariantConflict,
    check_replaces,
    record_failure,
)
from helpers.build.record import write_record
from helpers.build.runner import build_variant, variant_for
from helpers.build.stopping import (
    Stopped,
    end_processes,
    track_children,
    variant_work,
    worker_signals,
)
from helpers.build.variant import (
    RunSettings,
    Variant,
    VariantFailed,
    VariantResult,
    missing_data_lines,
    normalize_formats,
)
from helpers.datasets import catalogue_for, prepare
from helpers.params import OptionError, ParamsError
from helpers.rendering.export import Exporter
from helpers.rendering.pdf import typst_used_here
from helpers.sources.errors import SourceError
from helpers.sources.live import data_clients

log = logging.getLogger(__name__)


@dataclass
class BatchResult:
    """What a batch did; ``failed`` maps variant → error message."""

    results: list[VariantResult] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> list[VariantResult]:
        return [r for r in self.results if r.status == "ok"]

    @property
    def skipped(self) -> list[VariantResult]:
        return [r for r in self.results if r.status == "skipped"]

    @property
    def failed(self) -> dict[str, str]:
        return {r.variant: r.error or "" for r in self.results if r.status == "failed"}

    def summary(self) -> str:
        return (f"{len(self.results)} variants: {len(self.ok)} built, {len(self.skipped)} "
                f"up to date, {len(self.failed)} failed ({self.seconds:.1f} s)")


# --- which kommuner ----------------------------------------------------------------------------








# --- worker processes --------------------------------------------------------------------------

_worker: dict[str, Any] = {}


def _init_worker(settings: RunSettings, env: dict[str, str]) -> None:
    # SIGINT ignored, SIGTERM or the parent's death end the worker with its kernel
    worker_signals(on_exit=_kill_kernel)
    session = KernelSession(settings.kernel_name, env=env)
    _worker.update(session=session, exporter=Exporter(), settings=settings, notebooks={})
    session.start()
    # worker processes end through os._exit: atexit would not run, multiprocessing's finalizers do
    multiprocessing.util.Finalize(None, session.close, exitpriority=10)


def _kill_kernel() -> None:
    session = _worker.get("session")
    if session is not None:
        session.kill_now()


def _notebook(path: Path) -> Any:
    """The notebook read once per worker."""
    notebooks = _worker["notebooks"]
    if path not in notebooks:
        notebooks[path] = nbformat.read(path, as_version=4)
    return notebooks[path]


def _work(variant: Variant, formats: tuple[str, ...], inputs: str) -> VariantResult:
    started = time.perf_counter()
    settings: RunSettings = _worker["settings"]
    try:
        with variant_work():  # SIGTERM: the variant stops (staging removed), the worker ends
            return build_variant(variant, formats, session=_worker["session"],
                                 exporter=_worker["exporter"], settings=settings,
                                 inputs=inputs, nb_source=_notebook(variant.notebook))
    except VariantFailed as exc:
        return VariantResult(variant.name, "failed", settings.reports_dir / variant.name,
                             error=str(exc), seconds=time.perf_counter() - started)
    except Exception as exc:  # an export or publish error: this variant fails, the batch goes on
        message = f"{variant.name}: {type(exc).__name__}: {exc}"
        record_failure(settings.reports_dir, variant.name, message)
        return VariantResult(variant.name, "failed", settings.reports_dir / variant.name,
                             error=message, seconds=time.perf_counter() - started)


# --- the batch ---------------------------------------------------------------------------------


def plan_variants(params_file: ParamsFile, kommuner: str | Sequence[str] | None, *,
                  client: Any, eurostat_client: Any,
                  settings: RunSettings) -> tuple[list[Variant], dict[str, str]]:
    """Validate the file against the catalogue, fetch its data once, and build one Variant per
    kommun (each kommun validated before the data are fetched).

    Returns the variants and the variants that failed validation (name → message). Raises
    ``ParamsError``/``SourceError`` when the file itself is invalid or the data cannot be had.
    """
    catalogue = catalogue_for(client)
    codes = [None] if kommuner is None else resolve_kommuner(kommuner, catalogue)
    by_code, invalid = ({}, {}) if kommuner is None else _kommun_params(params_file, codes,
                                                                         catalogue)
    if kommuner is not None and not by_code:
        first = next(iter(invalid.values()))
        raise OptionError(f"--kommuner {kommuner}: none of the {len(codes)} kommun "
                          f"variant(s) is valid for {params_file.path}; the first: {first}")
    prepared = prepare(params_file.validate(catalogue), client, settings.processed_dir,
                       eurostat_client=eurostat_client)
    variants = []
    name_year = params_file.name_year(prepared.latest_year)
    for code in codes:
        if code is not None and code not in by_code:
            continue
        try:
            # the kommun changes neither the KPIs nor the data year settled by prepare()
            params = prepared.params if code is None else by_code[code]
            overrides = params_file.overrides | ({} if code is None else {"kommun": code})
            variants.append(variant_for(params, params_file.path, year=prepared.year,
                                        kpis=prepared.fetch.kpis, source=prepared.source,
                                        settings=settings, overrides=overrides,
                                        years_by_kpi=prepared.fetch.years_by_kpi,
                                        missing_kpis=prepared.fetch.missing_kpis,
                                        name_year=name_year))
        except ParamsError as exc:
            invalid[_variant_name(params_file, code, name_year)] = str(exc)
    return variants, invalid


def _variant_name(params_file: ParamsFile, code: str | None, year: int | None = None) -> str:
    stem = params_file.path.stem
    name = f"{stem}-{code}" if code else stem
    return f"{name}-{year}" if year is not None else name


def _kommun_params(params_file: ParamsFile, codes: Sequence[str],
                   catalogue: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """The parameters with each kommun (code → model), and the variants they cannot be built
    for (variant name → message, e.g. a kommun for a region-level report)."""
    by_code, invalid = {}, {}
    for code in codes:
        try:
            by_code[code] = params_file.with_overrides(
                kommun=code, options={"kommun": "--kommuner"}).validate(catalogue)
        except ParamsError as exc:
            invalid[_variant_name(params_file, code)] = str(exc)
    return by_code, invalid


def run_batch(params_file: ParamsFile, kommuner: str | Sequence[str] | None = "all",
              jobs: int | None = None, formats: str | Iterable[str] = ("html",), *,
              client: Any, eurostat_client: Any, settings: RunSettings | None = None,
              force: bool = False, progress: bool = True) -> BatchResult:
    """Build the variants of a parameter file for ``kommuner`` on ``jobs`` workers.

    ``kommuner``: ``"all"``, ``"lan:NN"``, ``"CODE,CODE"`` or a list; ``None`` builds just the
    parameter file as it stands. Up-to-date variants are skipped unless ``force``.
    """
    started = time.perf_counter()
    settings = settings or RunSettings()
    formats = normalize_formats(formats)
    jobs = check_jobs(jobs)
    variants, invalid = plan_variants(params_file, kommuner, client=client,
                                      eurostat_client=eurostat_client, settings=settings)
    result = build_many(variants, formats, jobs=jobs, settings=settings, force=force,
                        progress=progress, invalid=invalid)
    result.seconds = time.perf_counter() - started
    return result




def build_many(variants: Sequence[Variant], formats: Sequence[str], *, jobs: int,
               settings: RunSettings, force: bool = False, progress: bool = True,
               invalid: dict[str, str] | None = None) -> BatchResult:
    """Skip the up-to-date variants, build the rest on ``jobs`` warm workers, write the index."""
    started = time.perf_counter()
    result = BatchResult()
    for name, message in (invalid or {}).items():
        record_failure(settings.reports_dir, name, message)
        result.results.append(VariantResult(name, "failed", settings.reports_dir / name,
                                            error=message))
    if not variants:
        result.seconds = time.perf_counter() - started
        write_index(settings.reports_dir)
        return result

    code = code_digest()
    by_kind: dict[tuple[Any, ...], dict[str, str]] = {}
    todo: list[tuple[Variant, str]] = []
    for variant in variants:
        key = (tuple(variant.kpis), tuple(variant.eurostat), variant.year,
               json.dumps(stable_source(variant.source), sort_keys=True, default=str),
               json.dumps(stable_source(variant.source.get("eurostat") or {}),
                          sort_keys=True, default=str))
        if key not in by_kind:
            by_kind[key] = variant_data_digests(variant, settings.processed_dir)
        variant.data_digests = by_kind[key]
        inputs = inputs_digest(variant, data=combined(by_kind[key]), code=code,
                               settings=settings, notice=settings.notice)
        out_dir = Path(settings.reports_dir) / variant.name
        if not force and is_up_to_date(out_dir, inputs, formats, variant.report):
            result.results.append(VariantResult(variant.name, "skipped", out_dir))
            continue
        try:
            check_replaces(out_dir, variant.params_file, variant.parameters, force=force)
        except VariantConflict as exc:
            result.results.append(VariantResult(variant.name, "failed", out_dir,
                                                error=f"{variant.name}: {exc}"))
            continue
        todo.append((variant, inputs))

    try:
        if todo:
            for line in missing_data_lines(variant for variant, _ in todo):
                log.warning("%s", line)
            result.results.extend(_run_parallel(todo, tuple(formats), jobs, settings, progress))
    finally:  # also when stopped: the index shows what is published
        write_index(settings.reports_dir)
    result.seconds = time.perf_counter() - started
    return result


def _run_parallel(todo: list[tuple[Variant, str]], formats: tuple[str, ...], jobs: int,
                  settings: RunSettings, progress: bool) -> list[VariantResult]:
    env = kernel_env(todo[0][0].source)
    workers = min(jobs, len(todo))
    results: list[VariantResult] = []
    # fork keeps the parent's imports warm; after a Typst compile in this process (a test, a
    # benchmark) a forked worker's compile would hang on the parent's dead threads
    context = multiprocessing.get_context("forkserver" if typst_used_here() else "fork")
    reports = sorted({v.report for v, _ in todo})
    bar = tqdm(total=len(todo), desc=f"{', '.join(reports)} ({workers} workers)", unit="variant",
               disable=not progress, dynamic_ncols=True)
    pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker,
                               initargs=(settings, env))
    try:
        pending = {pool.submit(_work, v, formats, inputs) for v, inputs in todo}
        while pending:
            track_children(_worker_pids(pool))
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                outcome = future.result()
                results.append(outcome)
                bar.update(1)
                if outcome.status == "failed":
                    bar.write(f"FAILED {outcome.error}")
    except Stopped as stopped:
        bar.close()
        _stop_workers(pool, settings)
        reported = {r.variant for r in results if r.status == "ok"}
        # a worker asked to stop while publishing finishes the swap before it ends
        late = [v.name for v, inputs in todo if v.name not in reported
                and (read_manifest(Path(settings.reports_dir) / v.name) or {}).get(
                    "inputs_sha256") == inputs]
        stopped.built, stopped.total = len(reported) + len(late), len(todo)
        raise
    finally:
        bar.close()
    pool.shutdown(wait=True)
    return results


def _worker_pids(pool: ProcessPoolExecutor) -> list[int]:
    # Python 3.11 has no public handle on the workers (3.14: terminate_workers())
    return list((getattr(pool, "_processes", None) or {}).keys())


def _stop_workers(pool: ProcessPoolExecutor, settings: RunSettings) -> None:
    """End the workers (SIGTERM: each stops its variant and its kernel; SIGKILL after 5 s)
    and remove what the killed ones left: their staging and kernel folders."""
    pids = _worker_pids(pool)
    pool.shutdown(wait=False, cancel_futures=True)
    end_processes(pids)
    for pid in pids:
        for folder in [*(Path(settings.reports_dir) / STAGING_DIR_NAME).glob(f"*-{pid}-*"),
                       *Path(tempfile.gettempdir()).glob(f"{KERNEL_DIR_PREFIX}{pid}-*")]:
            shutil.rmtree(folder, ignore_errors=True)
    track_children(())


# --- every parameter file (make report) ---------------------------------------------------------


def build_all_params(params_dir: Path | None = None, formats: Sequence[str] = ("html", "pdf"),
                     *, jobs: int | None = None, settings: RunSettings | None = None,
                     force: bool = False, progress: bool = True,
                     base_url: str | None = None, mode: str = "auto") -> BatchResult:
    """Build every ``params/*.yaml`` as it stands (what ``make report`` runs). ``mode``
    (``sources.live.data_clients``): ``"auto"`` falls back to the recording of each source that
    cannot be reached (every report built on a recording says so), ``"live"`` does not,
    ``"offline"`` reads only the recordings. The plan is recorded (:mod:`.record`) so that the
    next run can tell that nothing changed without reading any data."""
    started = time.perf_counter()
    settings = settings or RunSettings()
    formats = normalize_formats(formats)
    jobs = check_jobs(jobs)
    files = sorted(Path(params_dir or paths.PARAMS_DIR).glob("*.yaml"))
    variants: list[Variant] = []
    invalid: dict[str, str] = {}
    with data_clients(base_url, mode=mode) as clients:
        for path in files:
            try:
                found, bad = plan_variants(read_params(path), None, client=clients.kolada,
                                           eurostat_client=clients.eurostat, settings=settings)
            except (ParamsError, SourceError) as exc:
                invalid[path.stem] = str(exc)
                continue
            variants.extend(found)
            invalid.update(bad)
        if not invalid:  # the next run can tell from this that nothing changed
            for variant in variants:
                variant_data_digests(variant, settings.processed_dir)
            write_record(files, variants, clients.kolada.used | clients.eurostat.used,
                         settings.processed_dir, settings.notice)
    result = build_many(variants, formats, jobs=jobs, settings=settings, force=force,
                        progress=progress, invalid=invalid)
    result.seconds = time.perf_counter() - started
    return result
