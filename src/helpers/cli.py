"""The ``skr-report`` command line: thin wrappers over the modules in ``helpers``."""

from __future__ import annotations

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="skr-report")
def main() -> None:
    """Reproducible SKR report notebooks on Kolada data."""


def _replay_options(command):
    options = [
        click.option("--snapshot", type=click.Path(exists=True, file_okay=False), default=None,
                     help="Kolada snapshot folder (default: the shared recorded snapshot)."),
        click.option("--eurostat", "eurostat_dir", type=click.Path(exists=True, file_okay=False),
                     default=None, help="Eurostat recording folder (default: shared/eurostat)."),
        click.option("--port", type=int, default=8765, show_default=True,
                     help="0 picks a free port."),
        click.option("--host", default="127.0.0.1", show_default=True),
        click.option("--latency", type=float, default=0.0, help="Added seconds per request."),
        click.option("--error-rate", type=float, default=0.0,
                     help="Share of requests answered 500."),
        click.option("--rate-limit-rate", type=float, default=0.0, help="Share answered 429."),
        click.option("--retry-after", type=int, default=1, help="Retry-After seconds on 429."),
        click.option("--drop-rate", type=float, default=0.0,
                     help="Share of dropped connections."),
        click.option("--truncate-rate", type=float, default=0.0,
                     help="Share of truncated bodies."),
        click.option("--seed", type=int, default=0, help="Seed of the fault draws."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _serve(snapshot: str | None, eurostat_dir: str | None, port: int, host: str,
           **faults: float) -> None:
    import time

    from helpers import paths
    from helpers.kolada_replay import Faults, ReplayServer

    try:
        server = ReplayServer(snapshot or paths.SNAPSHOT_DIR, host=host, port=port,
                              faults=Faults(**faults),
                              eurostat_dir=eurostat_dir or paths.EUROSTAT_RECORDING_DIR)
        server.start()
    except (OSError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
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
@click.option("--kommun", default=None, help="Override the parameter set's kommun.")
@click.option("--year", type=int, default=None, help="Override the parameter set's year.")
@click.option("--offline", is_flag=True, help="Use only data/raw; name what is not cached.")
@click.option("--refresh", is_flag=True, help="Refetch every response and replace the cache.")
def fetch(params_files: tuple[str, ...], kommun: str | None, year: int | None, offline: bool,
          refresh: bool) -> None:
    """Fill data/raw and data/processed for parameter sets (default: every file in params/)."""
    from helpers import paths
    from helpers.datasets import prepare
    from helpers.http import SourceError
    from helpers.kolada import KoladaClient
    from helpers.params import ParamsError

    files = params_files or tuple(sorted(str(p) for p in paths.PARAMS_DIR.glob("*.yaml")))
    if not files:
        raise click.ClickException(f"no parameter files given and none in {paths.PARAMS_DIR}")
    try:
        client = KoladaClient(offline=offline, refresh=refresh)
    except SourceError as exc:
        raise click.ClickException(str(exc)) from None
    with client:
        for path in files:
            try:
                prepared = prepare(path, client, kommun=kommun, year=year)
            except (ParamsError, SourceError) as exc:
                raise click.ClickException(str(exc)) from None
            result = prepared.fetch
            missing = (f"; no data in Kolada for {', '.join(result.missing_kpis)} "
                       "(shown as 'saknas i data')" if result.missing_kpis else "")
            click.echo(f"{path}: {len(result.kpis)} KPIs, {result.rows} values, data year "
                       f"{prepared.year}{missing}")
        click.echo(f"{client.stats.requests} HTTP requests ({client.stats.bytes / 1e6:.1f} MB), "
                   f"{client.stats.cache_hits} answered from the cache "
                   f"{client.cache.root}; tables in {paths.PROCESSED_DIR}")


# --- run, batch, report-all (helpers.runner, helpers.batch) ------------------------------------


def _formats(value: str) -> tuple[str, ...]:
    from helpers.runner import normalize_formats

    try:
        return normalize_formats(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@main.command()
@click.argument("params_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--kommun", default=None, help="Kommun code or name (a variant for that kommun).")
@click.option("--year", type=int, default=None, help="Data year (default: latest with data).")
@click.option("--format", "formats", default="html,pdf", show_default=True,
              help="Export formats: html, pdf or html,pdf.")
def run(params_file: str, kommun: str | None, year: int | None, formats: str) -> None:
    """Run one variant: validate, fetch, execute the notebook, export to reports/<variant>/."""
    from helpers.http import SourceError
    from helpers.params import ParamsError
    from helpers.runner import VariantFailed, run_variant

    chosen = _formats(formats)
    try:
        result = run_variant(params_file, kommun=kommun, year=year, formats=chosen)
    except (ParamsError, SourceError, VariantFailed) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{result.variant}: built in {result.seconds:.1f} s → {result.out_dir}")
    for path in result.files:
        click.echo(f"  {path}")


@main.command()
@click.argument("params_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--kommuner", default="all", show_default=True,
              help="all, a list CODE,CODE (names accepted) or lan:NN.")
@click.option("--jobs", "-j", type=int, default=None, help="Worker processes (default: cores).")
@click.option("--format", "formats", default="html", show_default=True,
              help="Export formats: html, pdf or html,pdf.")
@click.option("--year", type=int, default=None, help="Data year (default: latest with data).")
@click.option("--force", is_flag=True, help="Rebuild variants that are up to date.")
def batch(params_file: str, kommuner: str, jobs: int | None, formats: str, year: int | None,
          force: bool) -> None:
    """Run many kommun variants in parallel; up-to-date ones are skipped."""
    from helpers.batch import run_batch
    from helpers.http import SourceError
    from helpers.params import ParamsError

    chosen = _formats(formats)
    try:
        result = run_batch(params_file, kommuner=kommuner, jobs=jobs, formats=chosen, year=year,
                           force=force)
    except (ParamsError, SourceError) as exc:
        raise click.ClickException(str(exc)) from None
    _finish(result)


@main.command("report-all")
@click.option("--format", "formats", default="html,pdf", show_default=True,
              help="Export formats: html, pdf or html,pdf.")
@click.option("--jobs", "-j", type=int, default=None, help="Worker processes (default: cores).")
@click.option("--force", is_flag=True, help="Rebuild reports that are up to date.")
def report_all(formats: str, jobs: int | None, force: bool) -> None:
    """Build every params/*.yaml (HTML and PDF); falls back to the recorded snapshot when Kolada
    cannot be reached."""
    from helpers.batch import report_all as build_all
    from helpers.http import SourceError

    try:
        result = build_all(formats=_formats(formats), jobs=jobs, force=force)
    except SourceError as exc:
        raise click.ClickException(str(exc)) from None
    _finish(result)


def _finish(result) -> None:
    from helpers import paths

    click.echo(result.summary())
    click.echo(f"Index: {paths.REPORTS_DIR / 'index.html'}")
    if result.failed:
        lines = [f"{len(result.failed)} variant(s) failed:"]
        lines += [f"  {name}: {message}" for name, message in sorted(result.failed.items())]
        raise click.ClickException("\n".join(lines))
