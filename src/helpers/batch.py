"""Many variants of one parameter file in parallel, skipping the ones that are up to date.

``run_batch("params/valfard.yaml", kommuner="all", jobs=2, formats=("html",))``:

1. validates the parameter file and fetches its data once (``datasets.prepare``), then validates
   every kommun variant against the catalogue (a bad code fails that variant, not the batch);
2. hashes the inputs of each variant (notebook, parameters, the processed data it reads, the
   package's code and version) and skips variants whose ``manifest.json`` has the same hash and
   whose outputs exist;
3. runs the rest on ``jobs`` worker processes. Each worker keeps one warm kernel
   (:class:`helpers.runner.KernelSession`: imports, data caches and fonts stay loaded; the
   namespace is reset between variants) and one nbconvert exporter, so a variant costs about
   what drawing its figures costs;
4. keeps going when a variant fails, shows a tqdm progress bar, writes ``reports/index.html``
   once at the end and returns a :class:`BatchResult` (the CLI exits non-zero listing failures).
"""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.util
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from helpers.export import write_index
from helpers.runner import (
    RunSettings,
    Variant,
    VariantFailed,
    VariantResult,
    build_variant,
    code_digest,
    data_digest,
    inputs_digest,
    is_up_to_date,
    kernel_env,
    normalize_formats,
    record_failure,
    variant_for,
)

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


KOMMUNER_SYNTAX = ("all, lan:NN (a län code, e.g. lan:12) or a list CODE,CODE (codes or "
                   "names, e.g. 0114,2463)")
"""The values ``--kommuner`` accepts, for messages."""


def check_kommuner_spec(spec: str | Sequence[str]) -> str | list[str]:
    """The shape of a ``--kommuner`` value, checked before anything is fetched: ``all``,
    ``lan:NN`` or a non-empty list. Raises ``OptionError`` naming the allowed values."""
    from helpers.params import OptionError

    if not isinstance(spec, str):
        items = [str(s).strip() for s in spec if str(s).strip()]
        if not items:
            raise OptionError(f"--kommuner: the list is empty. Fix: give {KOMMUNER_SYNTAX}.")
        return items
    text = spec.strip()
    if text.lower() == "all":
        return "all"
    if text.lower().startswith("lan:"):
        lan = text.split(":", 1)[1].strip()
        if not (lan.isdigit() and 1 <= len(lan) <= 2):
            raise OptionError(f"--kommuner {spec}: {lan!r} is no län code (1–2 digits). "
                              f"Fix: give {KOMMUNER_SYNTAX}.")
        return f"lan:{lan.zfill(2)}"
    if not [item for item in text.split(",") if item.strip()]:
        raise OptionError(f"--kommuner {spec!r}: no kommun given. Fix: give {KOMMUNER_SYNTAX}.")
    return text


def resolve_kommuner(spec: str | Sequence[str], catalogue: Any) -> list[str]:
    """``"all"`` → all 290 kommuner; ``"lan:12"`` → the kommuner of län 12; ``"0114,2463"`` or a
    list → those codes (names and ``114`` accepted). A value that names no kommun raises
    ``OptionError`` (a ``ParamsError``) naming the allowed values or the closest matches."""
    from helpers.params import OptionError, normalize_kommun

    spec = check_kommuner_spec(spec)
    kommuner = sorted(catalogue.kommuner)
    if spec == "all":
        return kommuner
    if isinstance(spec, str) and spec.startswith("lan:"):
        lan = spec.split(":", 1)[1]
        chosen = [code for code in kommuner if code[:2] == lan]
        if not chosen:
            lans = sorted({code[:2] for code in kommuner})
            raise OptionError(f"--kommuner {spec}: no kommun in län {lan!r}. Fix: use one of "
                              f"the län codes {', '.join(lans)}.")
        return chosen
    items = [s.strip() for s in spec.split(",")] if isinstance(spec, str) else list(spec)
    codes = []
    for item in items:
        if item == "":
            continue
        try:
            codes.append(normalize_kommun(item, catalogue))
        except ValueError as exc:
            raise OptionError(f"--kommuner: {exc}") from None
    return list(dict.fromkeys(codes))


# --- worker processes --------------------------------------------------------------------------

_worker: dict[str, Any] = {}


def _init_worker(settings: RunSettings, env: dict[str, str]) -> None:
    from helpers.export import Exporter
    from helpers.runner import KernelSession

    session = KernelSession(settings.kernel_name, env=env).start()
    _worker.update(session=session, exporter=Exporter(), settings=settings, notebooks={})
    # worker processes end through os._exit: atexit would not run, multiprocessing's finalizers do
    multiprocessing.util.Finalize(None, session.close, exitpriority=10)


def _notebook(path: Path) -> Any:
    """The notebook read once per worker."""
    import nbformat

    notebooks = _worker["notebooks"]
    if path not in notebooks:
        notebooks[path] = nbformat.read(path, as_version=4)
    return notebooks[path]


def _work(variant: Variant, formats: tuple[str, ...], inputs: str) -> VariantResult:
    started = time.perf_counter()
    settings: RunSettings = _worker["settings"]
    try:
        return build_variant(variant, formats, session=_worker["session"],
                             exporter=_worker["exporter"], settings=settings, inputs=inputs,
                             nb_source=_notebook(variant.notebook))
    except VariantFailed as exc:
        return VariantResult(variant.name, "failed", settings.reports_dir / variant.name,
                             error=str(exc), seconds=time.perf_counter() - started)
    except Exception as exc:  # an export or publish error: this variant fails, the batch goes on
        message = f"{variant.name}: {type(exc).__name__}: {exc}"
        record_failure(settings.reports_dir, variant.name, message)
        return VariantResult(variant.name, "failed", settings.reports_dir / variant.name,
                             error=message, seconds=time.perf_counter() - started)


# --- the batch ---------------------------------------------------------------------------------


def plan_variants(params_path: str | Path, kommuner: str | Sequence[str] | None, *,
                  year: int | None = None, client: Any = None,
                  settings: RunSettings,
                  eurostat_client: Any = None) -> tuple[list[Variant], dict[str, str]]:
    """Validate the file, fetch its data once, and build one Variant per kommun.

    Returns the variants and the variants that failed validation (name → message). Raises
    ``ParamsError``/``KoladaError`` when the file itself is invalid or the data cannot be had.
    """
    from helpers.datasets import catalogue_for, prepare
    from helpers.kolada import KoladaClient
    from helpers.params import OptionError, ParamsError, precheck_params

    # everything that can be checked is checked before anything is fetched or written
    if kommuner is not None:
        check_kommuner_spec(kommuner)
    precheck_params(params_path, year=year)
    own_client = client is None
    client = client or KoladaClient()
    try:
        catalogue = catalogue_for(client)
        codes = [None] if kommuner is None else resolve_kommuner(kommuner, catalogue)
        by_code, invalid = ({}, {}) if kommuner is None else _kommun_params(
            params_path, codes, catalogue, year)  # each kommun, before the data are fetched
        if kommuner is not None and not by_code:
            first = next(iter(invalid.values()))
            raise OptionError(f"--kommuner {kommuner}: none of the {len(codes)} kommun "
                              f"variant(s) is valid for {params_path}; the first: {first}")
        prepared = prepare(params_path, client, settings.processed_dir, year=year,
                           eurostat_client=eurostat_client)
    finally:
        if own_client:
            client.close()
    variants = []
    for code in codes:
        if code is not None and code not in by_code:
            continue
        try:
            # the kommun changes neither the KPIs nor the data year settled by prepare()
            params = prepared.params if code is None else by_code[code]
            variants.append(variant_for(params, Path(params_path), year=prepared.year,
                                        kpis=prepared.fetch.kpis, source=prepared.source,
                                        settings=settings))
        except ParamsError as exc:
            invalid[f"{Path(params_path).stem}-{code}" if code else Path(params_path).stem] = (
                str(exc))
    return variants, invalid


def _kommun_params(params_path: str | Path, codes: Sequence[str], catalogue: Any,
                   year: int | None) -> tuple[dict[str, Any], dict[str, str]]:
    """The parameters with each kommun (code → model), and the variants they cannot be built
    for (variant name → message, e.g. a kommun for a region-level report)."""
    from helpers.params import ParamsError, load_params

    by_code, invalid = {}, {}
    for code in codes:
        try:
            by_code[code] = load_params(params_path, catalogue, kommun=code, year=year,
                                        options={"kommun": "--kommuner"})
        except ParamsError as exc:
            invalid[f"{Path(params_path).stem}-{code}"] = str(exc)
    return by_code, invalid


def run_batch(params_path: str | Path, kommuner: str | Sequence[str] | None = "all",
              jobs: int | None = None, formats: str | Iterable[str] = ("html",), *,
              year: int | None = None, client: Any = None, settings: RunSettings | None = None,
              force: bool = False, progress: bool = True,
              variants: Sequence[Variant] | None = None) -> BatchResult:
    """Build the variants of ``params_path`` for ``kommuner`` on ``jobs`` workers.

    ``kommuner``: ``"all"``, ``"lan:NN"``, ``"CODE,CODE"`` or a list; ``None`` builds just the
    parameter file as it stands. Up-to-date variants are skipped unless ``force``.
    """
    started = time.perf_counter()
    settings = settings or RunSettings()
    formats = normalize_formats(formats)
    jobs = check_jobs(jobs)
    invalid: dict[str, str] = {}
    if variants is None:
        variants, invalid = plan_variants(params_path, kommuner, year=year, client=client,
                                          settings=settings)
    result = build_many(variants, formats, jobs=jobs, settings=settings, force=force,
                        progress=progress, invalid=invalid)
    result.seconds = time.perf_counter() - started
    return result


def check_jobs(jobs: int | None) -> int:
    """``None`` → one worker per core; otherwise a whole number ≥ 1 (``OptionError``)."""
    from helpers.params import OptionError

    if jobs is None:
        return max(1, os.cpu_count() or 1)
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise OptionError(f"--jobs {jobs}: the number of worker processes must be 1 or more. "
                          "Fix: give e.g. --jobs 2, or leave it out for one per core.")
    return jobs


def build_many(variants: Sequence[Variant], formats: Sequence[str], *, jobs: int,
               settings: RunSettings, force: bool = False, progress: bool = True,
               invalid: dict[str, str] | None = None) -> BatchResult:
    """Skip the up-to-date variants, build the rest on ``jobs`` warm workers, write the index."""
    from tqdm.auto import tqdm

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
    data_by_kpis: dict[tuple[tuple[str, ...], tuple[str, ...]], str] = {}
    todo: list[tuple[Variant, str]] = []
    for variant in variants:
        key = (tuple(variant.kpis), tuple(variant.eurostat))
        if key not in data_by_kpis:
            data_by_kpis[key] = data_digest(variant.kpis, settings.processed_dir,
                                            variant.eurostat)
        inputs = inputs_digest(variant, data=data_by_kpis[key], code=code, settings=settings,
                               notice=settings.notice)
        out_dir = Path(settings.reports_dir) / variant.name
        if not force and is_up_to_date(out_dir, inputs, formats, variant.report):
            result.results.append(VariantResult(variant.name, "skipped", out_dir))
        else:
            todo.append((variant, inputs))

    if todo:
        result.results.extend(_run_parallel(todo, tuple(formats), jobs, settings, progress, tqdm))
    result.seconds = time.perf_counter() - started
    write_index(settings.reports_dir)
    return result


def _run_parallel(todo: list[tuple[Variant, str]], formats: tuple[str, ...], jobs: int,
                  settings: RunSettings, progress: bool, tqdm: Any) -> list[VariantResult]:
    env = kernel_env(todo[0][0].source)
    workers = min(jobs, len(todo))
    results: list[VariantResult] = []
    # fork keeps the parent's imports warm; after a Typst compile in this process (a test, a
    # benchmark) a forked worker's compile would hang on the parent's dead threads
    from helpers.pdf import typst_used_here

    context = multiprocessing.get_context("forkserver" if typst_used_here() else "fork")
    reports = sorted({v.report for v, _ in todo})
    bar = tqdm(total=len(todo), desc=f"{', '.join(reports)} ({workers} workers)", unit="variant",
               disable=not progress, dynamic_ncols=True)
    try:
        with ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker,
                                 initargs=(settings, env)) as pool:
            pending = {pool.submit(_work, v, formats, inputs) for v, inputs in todo}
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    outcome = future.result()
                    results.append(outcome)
                    bar.update(1)
                    if outcome.status == "failed":
                        bar.write(f"FAILED {outcome.error}")
    finally:
        bar.close()
    return results


# --- every parameter file (make report) ---------------------------------------------------------


def _probe(url: str, timeout: float, envelope_problem: Callable[[Any], str | None]) -> str | None:
    """None when ``url`` answers with JSON that ``envelope_problem`` accepts, else the reason."""
    import requests

    from helpers.http import describe_connection_error

    try:
        response = requests.get(url, timeout=timeout)
    except requests.RequestException as exc:
        return describe_connection_error(exc)
    if response.status_code >= 400:
        return f"HTTP {response.status_code}"
    try:
        body = response.json()
    except ValueError:
        return "the answer is not JSON"
    return envelope_problem(body)


def kolada_reachable(base_url: str, timeout: float = 5.0) -> str | None:
    """None when ``base_url`` answers a small v3 request, else the reason it does not."""
    return _probe(f"{base_url.rstrip('/')}/municipality/0180", timeout,
                  lambda body: None if isinstance(body, dict) and "values" in body else
                  "the answer is not a Kolada v3 envelope (v2 deprecation notice?)")


def eurostat_reachable(base_url: str, timeout: float = 5.0) -> str | None:
    """None when ``base_url`` answers a small statistics-API request, else the reason."""
    from helpers.eurostat import API_PATH

    url = (f"{base_url.rstrip('/')}{API_PATH}/gov_10dd_edpt1?geo=SE&sector=S13&na_item=GD&"
           "unit=PC_GDP&sinceTimePeriod=2020&lang=en")
    return _probe(url, timeout,
                  lambda body: None if isinstance(body, dict) and body.get("class") == "dataset"
                  else "the answer is not a JSON-stat dataset")


@contextmanager
def data_clients(base_url: str | None = None, eurostat_base_url: str | None = None, *,
                 snapshot_dir: Path | None = None, eurostat_dir: Path | None = None,
                 check_eurostat: bool = True) -> Iterator[tuple[Any, Any, str | None]]:
    """A Kolada and a Eurostat client for the live sources ($KOLADA_BASE_URL,
    $EUROSTAT_BASE_URL) or, for each one that cannot be reached, for its recording through one
    in-process replay server.

    Yields ``(kolada_client, eurostat_client, notice)``; ``notice`` (Swedish, for every report's
    provenance) says that Kolada was replaced by its recording, None when Kolada is live; a
    report built on the Eurostat recording says so itself.
    """
    from helpers import paths
    from helpers.eurostat import DEFAULT_BASE_URL as EUROSTAT_DEFAULT
    from helpers.eurostat import EurostatClient
    from helpers.http import check_base_url
    from helpers.kolada import DEFAULT_BASE_URL, KoladaClient
    from helpers.kolada_replay import ReplayServer

    kolada_url = check_base_url(base_url or os.environ.get("KOLADA_BASE_URL", DEFAULT_BASE_URL),
                                "KOLADA_BASE_URL" if not base_url else "the Kolada base URL",
                                DEFAULT_BASE_URL)
    eurostat_url = check_base_url(
        eurostat_base_url or os.environ.get("EUROSTAT_BASE_URL", EUROSTAT_DEFAULT),
        "EUROSTAT_BASE_URL" if not eurostat_base_url else "the Eurostat base URL",
        EUROSTAT_DEFAULT)
    kolada_down = kolada_reachable(kolada_url)
    eurostat_down = eurostat_reachable(eurostat_url) if check_eurostat else None
    if kolada_down is None and eurostat_down is None:
        with KoladaClient(base_url=kolada_url) as kolada, \
                EurostatClient(base_url=eurostat_url) as eurostat:
            yield kolada, eurostat, None
        return
    snapshot_dir = Path(snapshot_dir or paths.SNAPSHOT_DIR)
    eurostat_dir = Path(eurostat_dir or paths.EUROSTAT_RECORDING_DIR)
    notice = None
    if kolada_down is not None:
        log.warning("Kolada at %s cannot be reached (%s); using the recorded snapshot %s through "
                    "a local replay server", kolada_url, kolada_down, snapshot_dir)
        notice = (f"Kolada ({kolada_url}) kunde inte nås när rapporten byggdes. Data kommer "
                  "därför från den inspelade ögonblicksbilden av Kolada (../shared/kolada) via "
                  "en lokal replay-server; dataårgången nedan är ögonblicksbildens.")
    if eurostat_down is not None:
        # said in the reports that use Eurostat (helpers.runner.report_info), not in every one
        log.warning("Eurostat at %s cannot be reached (%s); using the recording %s through a "
                    "local replay server", eurostat_url, eurostat_down, eurostat_dir)
    with ReplayServer(snapshot_dir if kolada_down is not None else None,
                      eurostat_dir=eurostat_dir) as server, \
            KoladaClient(base_url=server.base_url if kolada_down is not None else kolada_url,
                         cache_namespace="replay-snapshot" if kolada_down is not None else None
                         ) as kolada, \
            EurostatClient(base_url=server.eurostat_base_url if eurostat_down is not None
                           else eurostat_url,
                           cache_namespace="replay-recording" if eurostat_down is not None
                           else None) as eurostat:
        yield kolada, eurostat, notice


@contextmanager
def kolada_client(base_url: str | None = None, *,
                  snapshot_dir: Path | None = None) -> Iterator[tuple[Any, str | None]]:
    """The Kolada half of :func:`data_clients`: ``(client, notice)``."""
    with data_clients(base_url, snapshot_dir=snapshot_dir, check_eurostat=False) as (
            kolada, _eurostat, notice):
        yield kolada, notice


def report_all(params_dir: Path | None = None, formats: Sequence[str] = ("html", "pdf"), *,
               jobs: int | None = None, settings: RunSettings | None = None,
               force: bool = False, progress: bool = True,
               base_url: str | None = None) -> BatchResult:
    """Build every ``params/*.yaml`` as it stands (HTML and PDF), falling back to the snapshot
    when Kolada cannot be reached (every report then says so)."""
    from helpers import paths
    from helpers.http import SourceError
    from helpers.params import ParamsError

    started = time.perf_counter()
    settings = settings or RunSettings()
    formats = normalize_formats(formats)
    jobs = check_jobs(jobs)
    files = sorted(Path(params_dir or paths.PARAMS_DIR).glob("*.yaml"))
    variants: list[Variant] = []
    invalid: dict[str, str] = {}
    with data_clients(base_url) as (client, eurostat_client, notice):
        settings.notice = notice
        for path in files:
            try:
                found, bad = plan_variants(path, None, client=client, settings=settings,
                                           eurostat_client=eurostat_client)
            except (ParamsError, SourceError) as exc:
                invalid[path.stem] = str(exc)
                continue
            variants.extend(found)
            invalid.update(bad)
    result = build_many(variants, formats, jobs=jobs, settings=settings, force=force,
                        progress=progress, invalid=invalid)
    result.seconds = time.perf_counter() - started
    return result


__all__ = ["BatchResult", "build_many", "check_jobs", "check_kommuner_spec", "data_clients",
           "eurostat_reachable", "kolada_client", "kolada_reachable", "plan_variants",
           "report_all", "resolve_kommuner", "run_batch"]
