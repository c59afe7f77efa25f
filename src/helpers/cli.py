"""The ``skr-report`` command line: thin wrappers over the modules in ``helpers``.

The commands import what they use inside their functions, on purpose: ``skr-report --help``
and a bad option answer without loading pandas, matplotlib and nbconvert.

Errors: every command runs inside :class:`ReportGroup`, the one place that turns the project's
user errors into a message and an exit code (no traceback). Anything else is a bug and keeps
its traceback.

==== =================================================================================
code meaning
==== =================================================================================
0    done
1    an unexpected error (a bug: the traceback is shown)
2    a command-line option or argument cannot be used (click's usage errors, ``--jobs 0``,
     ``--kommuner ""``, ``--format xyz``)
3    the parameter file or a parameter value is invalid (``ParamsError``)
4    the data source cannot deliver (``SourceError``: unreachable, no answer in time, HTTP
     error, garbage, bad base URL, offline and not cached)
5    a report could not be built (a notebook cell failed; nothing was published)
6    a file or folder cannot be written (permission denied, read-only, disk full)
10   ``status``: something is out of date or may have changed (``update`` has work to do)
130  stopped by SIGINT (Ctrl-C): workers, kernels and any replay server ended, nothing
     half-built published (``run``, ``batch``, ``update``, ``report-all``)
143  stopped by SIGTERM, the same
==== =================================================================================
"""

from __future__ import annotations

import contextlib
import errno
import time
from typing import Any

import click

STARTED = time.perf_counter()
"""When the command started (set again by :func:`main`): the times the commands print are the
wall time of the whole command (validation, data, kernel, export, index), not of one step."""

EXIT_OPTION = 2
EXIT_PARAMS = 3
EXIT_SOURCE = 4
EXIT_BUILD = 5
EXIT_FILES = 6
_WRITE_ERRNOS = {errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, errno.EDQUOT}


class UserError(click.ClickException):
    """A message for the user (``Error: …`` on stderr) with the exit code of its kind."""

    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code


def exit_code_for(exc: BaseException) -> int | None:
    """The exit code of a user error, or None for anything else (a bug)."""
    from helpers.build.variant import VariantFailed
    from helpers.params import OptionError, ParamsError
    from helpers.sources.errors import SourceError

    if isinstance(exc, OptionError):
        return EXIT_OPTION
    if isinstance(exc, ParamsError):
        return EXIT_PARAMS
    if isinstance(exc, SourceError):
        return EXIT_SOURCE
    if isinstance(exc, VariantFailed):
        return EXIT_BUILD
    if isinstance(exc, OSError) and exc.errno in _WRITE_ERRNOS:
        return EXIT_FILES
    return None


def _message(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.errno in _WRITE_ERRNOS:
        where = f" ({exc.filename})" if exc.filename else ""
        return (f"a file or folder cannot be used{where}: {exc.strerror}. No report was "
                "published. Fix: make the folder readable and writable for you, or free space; "
                "SKR_DATA_DIR and SKR_REPORTS_DIR choose other folders.")
    return str(exc)


STOPPABLE = {"run", "batch", "update", "report-all"}
"""Commands that one SIGINT or SIGTERM stops cleanly (``helpers.build.stopping``)."""


class ReportGroup(click.Group):
    """A click group whose commands' user errors become messages with distinct exit codes, and
    whose building commands stop cleanly on SIGINT/SIGTERM (exit 130/143)."""

    def invoke(self, ctx: click.Context) -> Any:
        from helpers.build.stopping import Stopped

        with contextlib.ExitStack() as stack:
            ctx.meta["skr.signals"] = stack
            try:
                return super().invoke(ctx)
            except (click.ClickException, click.exceptions.Exit):
                raise
            except Stopped as stopped:
                click.echo(stopped.summary(), err=True)
                raise click.exceptions.Exit(stopped.exit_code) from None
            except Exception as exc:
                code = exit_code_for(exc)
                if code is None:
                    raise
                raise UserError(_message(exc), code) from None

    def resolve_command(self, ctx: click.Context, args: list[str]) -> Any:
        name, command, rest = super().resolve_command(ctx, args)
        stack = ctx.meta.get("skr.signals")
        if command is not None and command.name in STOPPABLE and stack is not None:
            from helpers.build.stopping import stop_on_signals

            # before the command's options are parsed (their checks import a lot)
            stack.enter_context(stop_on_signals())
        return name, command, rest


@click.group(cls=ReportGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="skr-report")
def main() -> None:
    """Reproducible SKR report notebooks on Kolada data.

    Exit codes: 0 done, 2 bad option, 3 bad parameter file or value, 4 data source problem,
    5 a report failed to build (nothing published), 6 cannot write files, 10 status: something
    is out of date, 130/143 stopped by SIGINT/SIGTERM (nothing half-built published).
    """
    global STARTED
    STARTED = time.perf_counter()


# --- option values, checked while the command line is parsed -----------------------------------


def _formats(ctx: click.Context, param: click.Parameter, value: str) -> tuple[str, ...]:
    from helpers.build.variant import normalize_formats

    try:
        return normalize_formats(value)
    except ValueError as exc:
        raise click.BadParameter(f"{exc}.") from None


def _kommuner(ctx: click.Context, param: click.Parameter, value: str) -> str:
    from helpers.build.options import check_kommuner_spec
    from helpers.params import OptionError

    try:
        spec = check_kommuner_spec(value)
    except OptionError as exc:
        raise click.BadParameter(str(exc).removeprefix("--kommuner").lstrip(": ")) from None
    return spec if isinstance(spec, str) else ",".join(spec)


def _not_empty(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None and not value.strip():
        raise click.BadParameter("is empty. Fix: give a kommun code (e.g. 0114) or name, or "
                                 "leave the option out.")
    return value


def _source_options(command):
    """``--offline`` / ``--live-only``, shared by fetch, run, batch and report-all; the command
    gets ``mode`` (``sources.live``): auto, offline or live."""
    def check(ctx: click.Context, param: click.Parameter, value: bool) -> bool:
        ctx.meta.setdefault("skr_source_flags", set())
        if value:
            ctx.meta["skr_source_flags"].add(param.name)
        if ctx.meta["skr_source_flags"] == {"offline", "live_only"}:
            raise click.UsageError("--offline and --live-only exclude each other: --offline "
                                   "reads only the recordings, --live-only only the live APIs. "
                                   "Fix: give one of them, or neither (the APIs, else their "
                                   "recordings).")
        return value

    command = click.option(
        "--live-only", is_flag=True, callback=check,
        help="Only the live APIs (KOLADA_BASE_URL, EUROSTAT_BASE_URL): stop when one cannot be "
             "reached instead of using its recording.")(command)
    return click.option(
        "--offline", is_flag=True, callback=check,
        help="No network: read the recordings in ../shared (SKR_SHARED_DIR) and data/raw.")(
            command)


def _mode(offline: bool, live_only: bool) -> str:
    return "offline" if offline else "live" if live_only else "auto"


JOBS = click.IntRange(min=1)
FORCE_RUN_HELP = ("Replace the published variant of this name even when it was built from "
                  "another parameter file with other parameters.")
FORMAT_HELP = "Export formats: html, pdf or html,pdf."


def _replay_options(command):
    options = [
        click.option("--snapshot", type=click.Path(exists=True, file_okay=False), default=None,
                     help="Kolada snapshot folder (default: the shared recorded snapshot)."),
        click.option("--eurostat", "eurostat_dir", type=click.Path(exists=True, file_okay=False),
                     default=None, help="Eurostat recording folder (default: shared/eurostat)."),
        click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True,
                     help="0 picks a free port."),
        click.option("--host", default="127.0.0.1", show_default=True),
        click.option("--latency", type=click.FloatRange(min=0), default=0.0,
                     help="Added seconds per request."),
        click.option("--error-rate", type=click.FloatRange(0, 1), default=0.0,
                     help="Share of requests answered 500 (0–1)."),
        click.option("--rate-limit-rate", type=click.FloatRange(0, 1), default=0.0,
                     help="Share answered 429 (0–1)."),
        click.option("--retry-after", type=click.IntRange(min=0), default=1,
                     help="Retry-After seconds on 429."),
        click.option("--drop-rate", type=click.FloatRange(0, 1), default=0.0,
                     help="Share of dropped connections (0–1)."),
        click.option("--truncate-rate", type=click.FloatRange(0, 1), default=0.0,
                     help="Share of truncated bodies (0–1)."),
        click.option("--seed", type=int, default=0, help="Seed of the fault draws."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _serve(snapshot: str | None, eurostat_dir: str | None, port: int, host: str,
           **faults: float) -> None:
    from helpers import paths
    from helpers.sources.replay.server import Faults, ReplayServer

    try:
        server = ReplayServer(snapshot or paths.SNAPSHOT_DIR, host=host, port=port,
                              faults=Faults(**faults),
                              eurostat_dir=eurostat_dir or paths.EUROSTAT_RECORDING_DIR)
        server.start()
    except (OSError, ValueError) as exc:
        raise UserError(f"the replay server cannot start on {host}:{port}: {exc}. Fix: choose "
                        "another --port (0 picks a free one) or --snapshot/--eurostat folder.",
                        EXIT_OPTION) from None
    click.echo(f"Replay server on {server.root_url}: Kolada snapshot {server.snapshot_dir}, "
               f"Eurostat recording {server.eurostat.folder}")
    click.echo(f"  export KOLADA_BASE_URL={server.base_url}")
    click.echo(f"  export EUROSTAT_BASE_URL={server.eurostat_base_url}")
    click.echo("Press Ctrl-C to stop.")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        click.echo("Stopping.")
    finally:
        server.stop()


@main.command("serve-replay")
@_replay_options
def serve_replay(**options) -> None:
    """Serve the recorded Kolada snapshot (/v3) and Eurostat recording
    (/eurostat/api/dissemination) as local APIs on one port until Ctrl-C: everything a fully
    offline run needs."""
    _serve(**options)


@main.command("serve-kolada")
@_replay_options
def serve_kolada(**options) -> None:
    """The same server as serve-replay (Kolada v3 and the Eurostat recording)."""
    _serve(**options)


@main.command()
@click.argument("params_files", nargs=-1, type=click.Path(exists=True, dir_okay=False))
@click.option("--kommun", default=None, callback=_not_empty,
              help="Override the parameter set's kommun.")
@click.option("--year", type=int, default=None, help="Override the parameter set's year.")
@_source_options
@click.option("--refresh", is_flag=True, help="Refetch every response and replace the cache.")
def fetch(params_files: tuple[str, ...], kommun: str | None, year: int | None, offline: bool,
          live_only: bool, refresh: bool) -> None:
    """Fill data/raw and data/processed for parameter sets (default: every file in params/)."""
    # lazy imports in the commands: `skr-report --help` and option errors stay fast
    from helpers import paths
    from helpers.build.parameters import read_params
    from helpers.datasets import catalogue_for, prepare
    from helpers.sources.live import data_clients

    files = params_files or tuple(sorted(str(p) for p in paths.PARAMS_DIR.glob("*.yaml")))
    if not files:
        raise UserError(f"no parameter files given and none in {paths.PARAMS_DIR}. Fix: name "
                        "a parameter file, e.g. params/valfard.yaml.", EXIT_OPTION)
    # every file is read and checked before anything is fetched
    params_files_read = [read_params(path, kommun=kommun, year=year) for path in files]
    with data_clients(mode=_mode(offline, live_only), refresh=refresh) as clients:
        client, eurostat = clients.kolada, clients.eurostat
        catalogue = catalogue_for(client)
        # and validated against the catalogue, before any values are fetched
        validated = [params_file.validate(catalogue) for params_file in params_files_read]
        for path, params in zip(files, validated, strict=True):
            prepared = prepare(params, client, eurostat_client=eurostat)
            title = type(prepared.params).title or prepared.params.report
            click.echo(f"{path} ({title}): {prepared.summary()}")
        requests = client.stats.requests + eurostat.stats.requests
        received = (client.stats.bytes + eurostat.stats.bytes) / 1e6
        hits = client.stats.cache_hits + eurostat.stats.cache_hits
        click.echo(f"{requests} HTTP requests ({received:.1f} MB), {hits} answered from the "
                   f"cache {client.cache.root} (Eurostat: {eurostat.cache.root}); tables in "
                   f"{paths.PROCESSED_DIR}")


# --- run, batch, report-all (helpers.build) -----------------------------------------------------


@main.command()
@click.argument("params_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--kommun", default=None, callback=_not_empty,
              help="Kommun code or name (a variant for that kommun).")
@click.option("--year", type=int, default=None, help="Data year (default: latest with data).")
@click.option("--format", "formats", default="html,pdf", show_default=True, callback=_formats,
              help=FORMAT_HELP)
@click.option("--force", is_flag=True, help=FORCE_RUN_HELP)
@_source_options
def run(params_file: str, kommun: str | None, year: int | None,
        formats: tuple[str, ...], force: bool, offline: bool, live_only: bool) -> None:
    """Run one variant: validate, fetch, execute the notebook, export to reports/<variant>/.

    The variant is named after the parameter file, the kommun and, when it is not the
    default one, the year (valfard-2463-2021): a run with another year leaves the default
    variant as it is."""
    from helpers.build.parameters import read_params
    from helpers.build.runner import prepare_variant, run_variant
    from helpers.build.stopping import Stopped
    from helpers.build.variant import RunSettings, missing_data_lines
    from helpers.sources.live import data_clients

    request = read_params(params_file, kommun=kommun, year=year)
    settings = RunSettings()
    with data_clients(mode=_mode(offline, live_only)) as clients:
        variant = prepare_variant(request, client=clients.kolada,
                                  eurostat_client=clients.eurostat, settings=settings)
    prepared = time.perf_counter() - STARTED
    for line in missing_data_lines([variant]):
        click.echo(line, err=True)
    try:
        result = run_variant(variant, formats, settings=settings, force=force)
    except Stopped as stopped:
        stopped.built, stopped.total = int(stopped.published is not None), 1
        raise
    seconds = time.perf_counter() - STARTED
    if result.note:
        click.echo(f"{result.variant}: {result.note}", err=True)
    click.echo(f"{result.variant}: built in {seconds:.1f} s (data {prepared:.1f} s) → "
               f"{result.out_dir}")
    for path in result.files:
        click.echo(f"  {path}")


@main.command()
@click.argument("params_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--kommuner", default="all", show_default=True, callback=_kommuner,
              help="all, a list CODE,CODE (names accepted) or lan:NN.")
@click.option("--jobs", "-j", type=JOBS, default=None,
              help="Worker processes, 1 or more (default: one per core).")
@click.option("--format", "formats", default="html", show_default=True, callback=_formats,
              help=FORMAT_HELP)
@click.option("--year", type=int, default=None, help="Data year (default: latest with data).")
@click.option("--force", is_flag=True, help="Rebuild variants that are up to date, and replace "
              "variants built from another parameter file with other parameters.")
@_source_options
def batch(params_file: str, kommuner: str, jobs: int | None, formats: tuple[str, ...],
          year: int | None, force: bool, offline: bool, live_only: bool) -> None:
    """Run many kommun variants in parallel; up-to-date ones are skipped."""
    from helpers.build.batch import run_batch
    from helpers.build.parameters import read_params
    from helpers.sources.live import data_clients

    request = read_params(params_file, year=year)
    with data_clients(mode=_mode(offline, live_only)) as clients:
        result = run_batch(request, kommuner=kommuner, jobs=jobs, formats=formats,
                           client=clients.kolada, eurostat_client=clients.eurostat, force=force)
    result.seconds = time.perf_counter() - STARTED
    _finish(result)


@main.command("report-all")
@click.option("--format", "formats", default="html,pdf", show_default=True, callback=_formats,
              help=FORMAT_HELP)
@click.option("--jobs", "-j", type=JOBS, default=None,
              help="Worker processes, 1 or more (default: one per core).")
@click.option("--force", is_flag=True, help="Rebuild reports that are up to date, and replace "
              "variants built from another parameter file with other parameters.")
@_source_options
def report_all(formats: tuple[str, ...], jobs: int | None, force: bool, offline: bool,
               live_only: bool) -> None:
    """Build every params/*.yaml (HTML and PDF): what `make report` runs. A source that cannot
    be reached is replaced by its recording in ../shared (unless --live-only)."""
    from helpers.build.record import build_unchanged

    mode = _mode(offline, live_only)
    # nothing changed since the last run: decided from digests, no data read, no server asked
    # (only in the default mode: --offline or --live-only ask for a source of their own)
    result = None if force or mode != "auto" else build_unchanged(formats)
    if result is None:
        from helpers.build.batch import build_all_params

        result = build_all_params(formats=formats, jobs=jobs, force=force, mode=mode)
    result.seconds = time.perf_counter() - STARTED
    _finish(result)


def _finish(result: Any, failed: str = "failed") -> None:
    """The result's summary and the index; the variants that ``failed`` (exit 5)."""
    from helpers import paths

    click.echo(result.summary())
    click.echo(f"Index: {paths.REPORTS_DIR / 'index.html'}")
    if result.failed:
        lines = [f"{len(result.failed)} variant(s) {failed}:"]
        lines += [f"  {name}: {message}" for name, message in sorted(result.failed.items())]
        raise UserError("\n".join(lines), EXIT_BUILD)


# --- the regeneration cycle: status, update, diff (helpers.build.cycle) -------------------------


@main.command()
@click.argument("params_files", nargs=-1, type=click.Path(exists=True, dir_okay=False))
@click.option("-v", "--verbose", is_flag=True, help="Per family: variants by state, every KPI "
              "behind, gone or lagging, the next publications.")
@click.option("--json", "as_json", is_flag=True, help="The same as JSON, for scripts.")
@click.option("--offline", is_flag=True, help="Use the cached catalogue (any age) or the "
              "recorded one; ask no server.")
@click.option("--refresh", is_flag=True, help="Fetch Kolada's catalogue now even if the cached "
              "one is less than a day old.")
def status(params_files: tuple[str, ...], verbose: bool, as_json: bool, offline: bool,
           refresh: bool) -> None:
    """Which published reports are out of date: per report family the year shown, what Kolada
    has published for its KPIs (catalogue refreshed at most once a day), the KPIs behind or gone,
    the next publications, Eurostat's update time. Exit code 10 when anything is out of date
    or may have changed (`skr-report update` has work), 0 when everything is up to date."""
    import json

    from helpers.build.cycle import current_status

    found = current_status(params_files, offline=offline, refresh=refresh)
    if as_json:
        click.echo(json.dumps(found.as_json(), ensure_ascii=False, indent=1))
    else:
        click.echo(found.text(verbose))
    ctx = click.get_current_context()
    ctx.exit(found.exit_code)


@main.command()
@click.argument("params_files", nargs=-1, type=click.Path(exists=True, dir_okay=False))
@click.option("--jobs", "-j", type=JOBS, default=None,
              help="Worker processes, 1 or more (default: one per core).")
@click.option("--refresh", is_flag=True, help="Fetch Kolada's catalogue now even if the cached "
              "one is less than a day old.")
def update(params_files: tuple[str, ...], jobs: int | None, refresh: bool) -> None:
    """Rebuild exactly the published variants `status` calls out of date (of PARAMS_FILES, or
    all): their data are fetched again, and each is rebuilt from the parameter file its manifest
    names, in parallel with the batch's progress bar and atomic publish; a variant whose own
    data did not change is not rebuilt."""
    from helpers.build.options import check_jobs
    from helpers.build.update import update as run_update

    _finish(run_update(params_files, jobs=check_jobs(jobs), refresh=refresh), "not rebuilt")


@main.command()
@click.argument("before", type=click.Path(exists=True, file_okay=False))
@click.argument("after", type=click.Path(exists=True, file_okay=False))
def diff(before: str, after: str) -> None:
    """What changed from one version of a report to another (two variant folders, e.g.
    reports/valfard/previous reports/valfard): the same as the section "Ändringar sedan förra
    versionen", in Swedish: changed figures and tables, the largest changes cell by cell, rows
    that appeared or went, statements whose verdict changed."""
    from pathlib import Path

    from helpers.build.changes import compare_folders
    from helpers.build.changes_text import text

    for folder in map(Path, (before, after)):
        if not (folder / "tables").is_dir() and not (folder / "manifest.json").is_file():
            raise UserError(f"{folder} is no report folder: it has neither tables/ nor "
                            "manifest.json. Fix: give two variant folders, e.g. "
                            "reports/valfard/previous reports/valfard.", EXIT_OPTION)
    click.echo(text(compare_folders(Path(before), Path(after))), nl=False)
