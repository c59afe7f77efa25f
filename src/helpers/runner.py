"""Running one report variant: validate → fetch → execute (papermill) → export → publish.

``run_variant("params/valfard.yaml", kommun="2463")``:

1. validates the parameters against the Kolada catalogue and fetches what they need
   (``helpers.datasets.prepare``): a bad kommun, KPI, key or year raises ``ParamsError`` before any
   notebook starts;
2. executes ``notebooks/<report>.ipynb`` with papermill (kernel ``skr-report``) in a fresh staging
   folder ``reports/.staging/<variant>-XXXX/``, passing ``params.model_dump(mode="json")``; the
   setup cell points ``helpers.paths.output_dir`` at the staging folder (``SKR_RUN_OUTPUT_DIR``
   in the kernel) and makes it the working directory, so tables and figures land there;
3. only when every cell succeeded: writes the cleaned ``<report>.ipynb``, exports HTML/PDF
   (``helpers.export``) and ``manifest.json``, then swaps the staging folder into
   ``reports/<variant>/`` atomically (Linux ``renameat2(RENAME_EXCHANGE)``). A failing variant
   publishes nothing, keeps the previous good output and raises :class:`VariantFailed` naming the
   cell (tag, index, first source line) and the exception; ``reports/.status/<variant>.json``
   records the failure for ``reports/index.html``.

Kernels: :class:`KernelSession` keeps one kernel and reuses it across notebooks through a small
papermill engine (``skr-warm``); between variants the setup cell clears the user namespace (like
``%reset -f``), closes figures and restores matplotlib's rcParams. Kernels talk over IPC (Unix
sockets in a private temporary folder), not TCP. ``run_variant`` uses a fresh
session per call; batch workers (``helpers.batch``) keep theirs.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from helpers import __version__, paths
from helpers.export import (
    STATUS_DIR_NAME,
    Exporter,
    ReportInfo,
    atomic_write_text,
    clean_notebook,
    epoch_of,
    eurostat_recording_text,
    git_commit,
    kolada_snapshot_text,
    read_manifest,
    snapshot_values_vintage,
    swedish_date,
    write_index,
    write_manifest,
)
from helpers.files import current_umask

log = logging.getLogger(__name__)

KERNEL_NAME = "skr-report"
FORMATS = ("html", "pdf")
STAGING_DIR_NAME = ".staging"
LOCK_DIR_NAME = ".locks"
CELL_TIMEOUT = 900


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
    """A validated parameter set ready to run."""

    name: str
    params: Any
    params_path: Path
    notebook: Path
    year: int | None
    kpis: list[str]
    source: dict[str, Any]
    eurostat: list[str] = field(default_factory=list)
    """Eurostat datasets the notebook reads from ``data/processed/eurostat/``."""

    @property
    def report(self) -> str:
        return self.params.report

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


# --- preparing ---------------------------------------------------------------------------------


def variant_for(params: Any, params_path: Path, *, year: int | None, kpis: Iterable[str],
                source: Mapping[str, Any], settings: RunSettings) -> Variant:
    """A :class:`Variant` from validated parameters (checks that the notebook exists)."""
    notebook = Path(settings.notebooks_dir) / f"{params.report}.ipynb"
    if not notebook.is_file():
        from helpers.params import ParamsError

        raise ParamsError(f"{params_path}: key 'report': no notebook {notebook} for report "
                          f"{params.report!r}. Fix: add the notebook or correct the report name.")
    eurostat = sorted({req.dataset for req in params.eurostat_requests()})
    return Variant(name=params.variant_name(Path(params_path).stem), params=params,
                   params_path=Path(params_path), notebook=notebook, year=year,
                   kpis=sorted(set(kpis)), source=dict(source), eurostat=eurostat)


def prepare_variant(params_path: str | Path, kommun: str | None = None, year: int | None = None,
                    *, client: Any = None, settings: RunSettings | None = None,
                    eurostat_client: Any = None) -> Variant:
    """Validate against the catalogue, fetch the data and settle the year (``datasets.prepare``).

    Raises ``ParamsError`` or a ``SourceError`` (Kolada, Eurostat) before any notebook starts.
    """
    from helpers.datasets import prepare
    from helpers.kolada import KoladaClient

    settings = settings or RunSettings()
    own_client = client is None
    client = client or KoladaClient()
    try:
        prepared = prepare(params_path, client, settings.processed_dir, kommun=kommun, year=year,
                           eurostat_client=eurostat_client)
    finally:
        if own_client:
            client.close()
    return variant_for(prepared.params, Path(params_path), year=prepared.year,
                       kpis=prepared.fetch.kpis, source=prepared.source, settings=settings)


# --- kernels -----------------------------------------------------------------------------------

SETUP_SOURCE = """\
_skr_ip = get_ipython()  # like %reset -f, without its full gc.collect() (0.1-0.2 s)
for _skr_name in [n for n in _skr_ip.user_ns
                  if not n.startswith("_") and n not in _skr_ip.user_ns_hidden]:
    del _skr_ip.user_ns[_skr_name]
_skr_ip.history_manager.output_hist.clear()
del _skr_ip
import os as _skr_os
_skr_os.chdir({staging!r})
_skr_os.environ["SKR_RUN_OUTPUT_DIR"] = {staging!r}
import matplotlib as _skr_mpl
import matplotlib.pyplot as _skr_plt
_skr_plt.close("all")
if not hasattr(_skr_mpl, "_skr_rc"):
    _skr_mpl._skr_rc = _skr_mpl.rcParams.copy()
_skr_mpl.rcParams.update(_skr_mpl._skr_rc)
_skr_mpl.rcParams["svg.hashsalt"] = "skr-report"
from helpers.pdf import enable_table_data as _skr_table_data
_skr_table_data()  # DataFrames also go out as data (cells) for the PDF's tables
del _skr_os, _skr_mpl, _skr_plt, _skr_table_data
"""


def _register_engine() -> str:
    """Register the papermill engine that runs notebooks on an already started kernel."""
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, papermill_engines
    from papermill.log import logger

    class WarmKernelEngine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, log_output=False,
                                     stdout_file=None, stderr_file=None, start_timeout=60,
                                     execution_timeout=None, **kwargs):
            session: KernelSession = kwargs["session"]
            client = PapermillNotebookClient(
                nb_man, km=session.km, kernel_name=kernel_name, timeout=execution_timeout,
                startup_timeout=start_timeout, log=logger, log_output=log_output,
                stdout_file=stdout_file, stderr_file=stderr_file)
            client.kc = session.kc
            return client.execute()

    papermill_engines.register("skr-warm", WarmKernelEngine)
    return "skr-warm"


class KernelSession:
    """One Jupyter kernel kept alive and reused across notebooks (papermill executes on it)."""

    def __init__(self, kernel_name: str = KERNEL_NAME, env: Mapping[str, str] | None = None,
                 startup_timeout: int = 120):
        self.kernel_name = kernel_name
        self.env = dict(env or {})
        self.startup_timeout = startup_timeout
        self._boot: Any = None
        self.km: Any = None
        self.kc: Any = None

    def start(self) -> KernelSession:
        import nbformat
        from nbclient import NotebookClient

        env = {**os.environ, "PYTHONHASHSEED": "0", "TZ": "UTC", **self.env}
        self._boot = NotebookClient(nbformat.v4.new_notebook(), kernel_name=self.kernel_name,
                                    startup_timeout=self.startup_timeout)
        self.km = self._boot.create_kernel_manager()
        use_ipc_transport(self.km)
        self._boot.start_new_kernel(env=env, cwd=str(paths.PROJ_ROOT))
        self.kc = self._boot.start_new_kernel_client()
        return self

    @property
    def alive(self) -> bool:
        if self.km is None:
            return False
        from jupyter_core.utils import ensure_async, run_sync

        async def check() -> bool:
            return bool(await ensure_async(self.km.is_alive()))

        return run_sync(check)()

    def close(self) -> None:
        if self._boot is not None:
            with contextlib.suppress(Exception):
                self._boot._cleanup_kernel()
        if self.km is not None:
            shutil.rmtree(Path(self.km.connection_file).parent, ignore_errors=True)
        self._boot = self.km = self.kc = None

    def __enter__(self) -> KernelSession:
        return self.start() if self.km is None else self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def execute(self, nb: Any, parameters: Mapping[str, Any], staging: Path,
                timeout: int = CELL_TIMEOUT) -> Any:
        """Execute ``nb`` with ``parameters`` in ``staging``; papermill's error on failure."""
        import nbformat
        import papermill

        if not self.alive:
            self.close()
            self.start()
        nb = nbformat.from_dict(nb)
        setup = nbformat.v4.new_code_cell(SETUP_SOURCE.format(staging=str(staging)),
                                          metadata={"tags": ["skr-setup"]})
        nb.cells.insert(0, setup)
        return papermill.execute_notebook(
            nb, None, parameters=dict(parameters), kernel_name=self.kernel_name,
            engine_name=_engine_name(), progress_bar=False, request_save_on_cell_execute=False,
            execution_timeout=timeout, session=self)


def use_ipc_transport(km: Any) -> None:
    """Let a kernel manager talk to its kernel over Unix sockets in a private folder.

    Over TCP every local user could connect to the kernel's ports, and ipykernel warns
    ("Kernel is running over TCP without encryption") on every start; IPC sockets live in a
    0700 folder of this process only (removed by :meth:`KernelSession.close`).
    """
    folder = Path(tempfile.mkdtemp(prefix="skr-kernel-"))
    km.transport = "ipc"
    km.connection_file = str(folder / "kernel.json")
    km.ip = str(folder / "kernel-ipc")


@cache
def _engine_name() -> str:
    return _register_engine()


def kernel_env(source: Mapping[str, Any]) -> dict[str, str]:
    """Environment of report kernels: fixed hash seed and SOURCE_DATE_EPOCH from the vintage."""
    return {"PYTHONHASHSEED": "0", "TZ": "UTC",
            "SOURCE_DATE_EPOCH": str(epoch_of(source.get("fetched_at")))}


# --- input hashing (skip unchanged variants) ---------------------------------------------------


def _sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@cache
def _file_digest(path: str, mtime_ns: int, size: int) -> str:
    return _sha256_bytes(Path(path).read_bytes())


def file_digest(path: Path) -> str:
    stat = path.stat()
    return _file_digest(str(path), stat.st_mtime_ns, stat.st_size)


def code_digest() -> str:
    """sha256 over the package's Python sources and export templates (and its version)."""
    root = Path(__file__).parent
    digest = hashlib.sha256(__version__.encode())
    for path in sorted([*root.glob("*.py"), *(root / "templates").rglob("*")]):
        if path.is_file():
            digest.update(path.relative_to(root).as_posix().encode())
            digest.update(file_digest(path).encode())
    return digest.hexdigest()


def data_digest(kpis: Iterable[str], processed_dir: Path, eurostat: Iterable[str] = ()) -> str:
    """sha256 over the processed files a variant reads: its KPIs' values, kommun tables, source,
    and its Eurostat tables with their source."""
    processed_dir = Path(processed_dir)
    files = [processed_dir / "values" / f"{kpi}.parquet" for kpi in sorted(set(kpis))]
    files += sorted(processed_dir.glob("kommuner_*.parquet"))
    datasets = sorted(set(eurostat))
    files += [processed_dir / "eurostat" / f"{name}.parquet" for name in datasets]
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode())
        digest.update(file_digest(path).encode() if path.is_file() else b"absent")
    digest.update(json.dumps(_stable_source(processed_dir), sort_keys=True).encode())
    if datasets:
        digest.update(json.dumps(_stable_source(processed_dir / "eurostat"),
                                 sort_keys=True).encode())
    return digest.hexdigest()


def _stable_source(processed_dir: Path) -> dict[str, Any]:
    """source.json without what changes between runs of the same data (the replay port)."""
    try:
        source = json.loads((Path(processed_dir) / "source.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if source.get("snapshot"):
        source.pop("base_url", None)
    source.pop("kpis", None)  # every KPI fetched so far, also for other reports
    return source


def inputs_digest(variant: Variant, *, data: str | None = None, code: str | None = None,
                  settings: RunSettings | None = None, notice: str | None = None) -> str:
    """The content hash deciding whether a variant is up to date."""
    settings = settings or RunSettings()
    payload = {
        "notebook": file_digest(variant.notebook),
        "parameters": variant.parameters,
        "data": data or data_digest(variant.kpis, settings.processed_dir, variant.eurostat),
        "code": code or code_digest(),
        "notice": notice,
    }
    return _sha256_bytes(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode())


def is_up_to_date(out_dir: Path, inputs: str, formats: Iterable[str], report: str) -> bool:
    """True when ``out_dir`` holds a manifest with these inputs and every requested output."""
    manifest = read_manifest(out_dir)
    if not manifest or manifest.get("inputs_sha256") != inputs:
        return False
    outputs = manifest.get("outputs", {})
    built_from = manifest.get("built_from") or {}
    for name in [f"{report}.{fmt}" for fmt in formats] + [f"{report}.ipynb"]:
        if name not in outputs or not (out_dir / name).is_file():
            return False
        if built_from.get(name, inputs) != inputs:  # kept from a run on other inputs
            return False
    return True


# --- building ----------------------------------------------------------------------------------


@cache
def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {"skr-report": __version__}
    for name in ("papermill", "nbconvert", "nbclient", "matplotlib", "pandas", "numpy"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            continue
    return found


def kommun_label(code: str | None, year: int | None, processed_dir: Path,
                 params: Any = None) -> str | None:
    """``"Åsele kommun (2463)"`` from the kommun table, ``"Region Skåne (0012)"`` from the
    report's own metadata (``params.place_name``), or the code when neither has it."""
    if code is None:
        return None
    name = params.place_name(Path(processed_dir)) if params is not None else None
    if name:
        return f"{name} ({code})"
    try:
        import pandas as pd

        tables = sorted(Path(processed_dir).glob("kommuner_*.parquet"))
        preferred = Path(processed_dir) / f"kommuner_{year}.parquet"
        table = preferred if preferred in tables else (tables[-1] if tables else None)
        if table is not None:
            frame = pd.read_parquet(table, columns=["kommun", "kommunnamn"])
            names = dict(zip(frame["kommun"], frame["kommunnamn"], strict=True))
            if code in names:
                return f"{names[code]} ({code})"
    except (ImportError, OSError, ValueError, KeyError):
        pass
    return code


def report_info(variant: Variant, parameters: Mapping[str, Any], *, settings: RunSettings,
                csv_files: Sequence[str] = (), kommun_text: str | None = None) -> ReportInfo:
    """Title block and provenance of a variant."""
    source = variant.source
    snapshot = bool(source.get("snapshot"))
    kommun_text = kommun_text or kommun_label(variant.params.kommun, variant.year,
                                              settings.processed_dir, variant.params)
    vintage = swedish_date(source.get("fetched_at"))
    if snapshot:
        recorded = snapshot_values_vintage(source.get("snapshot_vintage"))
        kolada = ("inspelad ögonblicksbild av Kolada"
                  + (f" (värden från {recorded})" if recorded else "")
                  + (f", läst {vintage}" if vintage else ""))
    elif source.get("live_api", True):
        kolada = "Kolada" + (f", hämtade {vintage}" if vintage else "")
    else:  # neither the live API nor a replay server that names its snapshot
        kolada = (f"Kolada via {source.get('base_url')}"
                  + (f", hämtade {vintage}" if vintage else ""))
    subtitle, dateline = variant.params.title_block(kommun_text or "Hela landet", variant.year,
                                                    kolada)
    eurostat = eurostat_provenance(source.get("eurostat"))
    if eurostat:
        dateline += f"; tabell 1: {eurostat['short']}"
    notices = [settings.notice] if settings.notice else []
    if snapshot and not settings.notice:
        notices.append("Data kommer från en inspelad ögonblicksbild av Kolada (via en lokal "
                       "replay-server), inte direkt från api.kolada.se. Ögonblicksbildens "
                       "dataårgång anges nedan.")
    if eurostat and eurostat["snapshot"]:
        notices.append("Tabell 1 bygger på inspelade Eurostat-data (../shared/eurostat) via en "
                       "lokal replay-server, inte på Eurostats API; inspelningens årgång anges "
                       "nedan.")
    notice = " ".join(notices) or None
    provenance = {
        "source": "Kolada (RKA), inspelad ögonblicksbild" if snapshot else "Kolada (RKA)",
        # the replay server's port changes from run to run: not part of the report
        "base_url": "lokal replay-server (Kolada v3)" if snapshot else source.get("base_url"),
        "snapshot": (f"../shared/kolada – {kolada_snapshot_text(source.get('snapshot_vintage'))}"
                     if source.get("snapshot_vintage") else "../shared/kolada")
                    if snapshot else None,
        "eurostat": eurostat,
        "fetched_at": source.get("fetched_at"),
        "kpis": list(variant.kpis),
        "years": [variant.year] if variant.year is not None else [],
        "package_version": __version__,
        "git_commit": git_commit(),
        "notice": notice,
    }
    return ReportInfo(report=variant.report, variant=variant.name,
                      title=type(variant.params).title or "",
                      subtitle=subtitle, dateline=dateline,
                      parameters=dict(parameters), provenance=provenance,
                      csv_files=list(csv_files))


def eurostat_provenance(source: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The Eurostat part of the provenance, in Swedish, from ``eurostat/source.json``."""
    if not source:
        return None
    datasets = ", ".join(source.get("datasets") or []) or "Eurostat"
    fetched = swedish_date(source.get("fetched_at"))
    recorded = bool(source.get("snapshot"))
    if recorded:
        vintage = eurostat_recording_text(source.get("snapshot_vintage"))
        where = "inspelning via lokal replay-server"
        short = f"Eurostat ({datasets}), inspelning"
    else:
        updated = _swedish_when(source.get("updated"))
        vintage = f"uppdaterad av Eurostat {updated}" if updated else \
            "Eurostat anger inget uppdateringsdatum"
        where = str(source.get("base_url") or "")
        short = f"Eurostat ({datasets})" + (f", uppdaterad {updated}" if updated else "")
    if fetched:
        vintage += f"; {'läst' if recorded else 'hämtad'} {fetched}"
    return {"source": f"Eurostat ({datasets}), {where}", "vintage": vintage, "short": short,
            "snapshot": recorded, "datasets": list(source.get("datasets") or []),
            "updated": source.get("updated"), "fetched_at": source.get("fetched_at")}


def _swedish_when(moment: str | None) -> str:
    """Eurostat's ``2026-04-22T11:00:00+0200`` as ``22 april 2026`` (empty when unreadable)."""
    if not moment:
        return ""
    try:
        return swedish_date(moment)
    except ValueError:
        return str(moment)[:10]


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


def build_variant(variant: Variant, formats: Sequence[str] = FORMATS, *,
                  session: KernelSession, exporter: Exporter, settings: RunSettings,
                  inputs: str | None = None, nb_source: Any = None) -> VariantResult:
    """Execute, export and publish one prepared variant on a running kernel session.

    Raises :class:`VariantFailed` when a cell fails (after recording the failure).
    """
    import nbformat

    started = time.perf_counter()
    reports_dir = Path(settings.reports_dir)
    target = reports_dir / variant.name
    staging_root = reports_dir / STAGING_DIR_NAME
    staging_root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f"{variant.name}-", dir=staging_root))
    staging.chmod(0o777 & ~current_umask())  # mkdtemp makes it private; mkdir would not
    nb = nb_source if nb_source is not None else nbformat.read(variant.notebook, as_version=4)
    parameters = dict(variant.parameters)
    try:
        try:
            executed = session.execute(nb, parameters, staging, timeout=settings.cell_timeout)
        except Exception as exc:
            failure = _failure(variant, exc, nb)
            record_failure(reports_dir, variant.name, str(failure))
            raise failure from exc
        cleaned = clean_notebook(executed)
        # nbformat.writes' layout (indent 1, sorted keys) without re-validating the schema
        (staging / f"{variant.report}.ipynb").write_text(
            json.dumps(cleaned, indent=1, sort_keys=True, ensure_ascii=False) + "\n",
            encoding="utf-8")
        csv_files = sorted(p.relative_to(staging).as_posix()
                           for p in (staging / "tables").glob("*.csv"))
        info = report_info(variant, parameters, settings=settings, csv_files=csv_files)
        try:
            files = exporter.export(cleaned, info, staging, formats)
        except Exception as exc:
            failure = _export_failure(variant, exc)
            record_failure(reports_dir, variant.name, str(failure))
            raise failure from exc
        inputs = inputs or inputs_digest(variant, settings=settings, notice=settings.notice)
        built = {f.name: inputs for f in files}

        def finish(kept: Mapping[str, str]) -> None:
            write_manifest(staging, info, inputs_sha256=inputs, versions=_versions(),
                           built_from={**kept, **built})

        others = [f"{variant.report}.{fmt}" for fmt in FORMATS if fmt not in formats]
        publish(staging, target, reports_dir, keep=others, finish=finish)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    clear_failure(reports_dir, variant.name)
    return VariantResult(variant.name, "ok", target,
                         [target / f.name for f in files] + [target / "manifest.json"],
                         seconds=time.perf_counter() - started)


# --- publishing --------------------------------------------------------------------------------

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux renameat2); False when not supported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                          ctypes.c_uint]
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    return result == 0


def publish(staging: Path, target: Path, reports_dir: Path, *, keep: Iterable[str] = (),
            finish: Callable[[Mapping[str, str]], None] | None = None) -> None:
    """Move a finished staging folder to ``target`` so readers see the old or the new folder.

    A run replaces what it builds: the files named in ``keep`` (e.g. the HTML when only the PDF
    was built) are taken over from the published folder when the run did not make them, so
    ``--format pdf`` after ``--format html`` leaves both. ``finish(kept)`` then runs on the
    staging folder (it writes the manifest) with ``kept`` mapping each taken-over file to the
    inputs hash it was built from. All under a per-variant file lock (two runs of the same
    variant at once do not interleave), and the swap is atomic.
    """
    from filelock import FileLock

    locks = Path(reports_dir) / LOCK_DIR_NAME
    locks.mkdir(parents=True, exist_ok=True)
    with FileLock(locks / f"{target.name}.lock"):
        kept = _take_over(target, staging, keep)
        if finish is not None:
            finish(kept)
        if not target.exists():
            os.rename(staging, target)
            return
        if _exchange(staging, target):
            shutil.rmtree(staging, ignore_errors=True)  # now holds the old output
            return
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        os.rename(target, old)
        os.rename(staging, target)
        shutil.rmtree(old, ignore_errors=True)


def _take_over(target: Path, staging: Path, names: Iterable[str]) -> dict[str, str]:
    """Link (or copy) ``names`` from the published folder into staging where staging has none;
    returns name → inputs hash that built it (from the published manifest)."""
    manifest = read_manifest(target) or {}
    built_from = manifest.get("built_from") or {}
    kept = {}
    for name in names:
        source, destination = target / name, staging / name
        if destination.exists() or not source.is_file() or name not in manifest.get(
                "outputs", {}):
            continue
        try:
            os.link(source, destination)
        except OSError:
            shutil.copy2(source, destination)
        kept[name] = built_from.get(name, manifest.get("inputs_sha256", ""))
    return kept


def record_failure(reports_dir: Path, variant: str, message: str) -> None:
    status = Path(reports_dir) / STATUS_DIR_NAME / f"{variant}.json"
    atomic_write_text(status, json.dumps({"variant": variant, "status": "failed",
                                          "error": message}, ensure_ascii=False, indent=1))


def clear_failure(reports_dir: Path, variant: str) -> None:
    (Path(reports_dir) / STATUS_DIR_NAME / f"{variant}.json").unlink(missing_ok=True)


# --- the entry point ---------------------------------------------------------------------------


def run_variant(params_path: str | Path, kommun: str | None = None, year: int | None = None,
                formats: Sequence[str] = FORMATS, *, client: Any = None,
                settings: RunSettings | None = None, variant: Variant | None = None,
                exporter: Exporter | None = None, update_index: bool = True) -> VariantResult:
    """Build one variant: ``reports/<variant>/<report>.ipynb|.html|.pdf``, tables, manifest.

    Raises ``ParamsError``/``KoladaError`` before any notebook starts, and
    :class:`VariantFailed` when a cell fails (nothing published, previous output kept).
    """
    settings = settings or RunSettings()
    formats = normalize_formats(formats)
    if variant is None:
        variant = prepare_variant(params_path, kommun, year, client=client, settings=settings)
    exporter = exporter or Exporter()
    try:
        with KernelSession(settings.kernel_name, env=kernel_env(variant.source)) as session:
            return build_variant(variant, formats, session=session, exporter=exporter,
                                 settings=settings)
    finally:
        if update_index:
            write_index(settings.reports_dir)


def normalize_formats(formats: str | Iterable[str]) -> tuple[str, ...]:
    """``"html,pdf"`` or ``["pdf", "html"]`` → ``("html", "pdf")``; unknown ones raise."""
    items = formats.split(",") if isinstance(formats, str) else list(formats)
    chosen = {item.strip().lower() for item in items if item.strip()}
    unknown = chosen - set(FORMATS)
    if unknown or not chosen:
        raise ValueError(f"unknown format(s) {', '.join(sorted(unknown)) or '(none)'}: "
                         "use html, pdf or html,pdf")
    return tuple(fmt for fmt in FORMATS if fmt in chosen)


__all__ = [
    "FORMATS",
    "KERNEL_NAME",
    "KernelSession",
    "RunSettings",
    "Variant",
    "VariantFailed",
    "VariantResult",
    "build_variant",
    "code_digest",
    "data_digest",
    "inputs_digest",
    "is_up_to_date",
    "kernel_env",
    "normalize_formats",
    "prepare_variant",
    "publish",
    "report_info",
    "run_variant",
    "variant_for",
]
