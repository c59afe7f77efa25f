"""The ``skr-report`` command line: thin wrappers over the modules in ``helpers``."""

from __future__ import annotations

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="skr-report")
def main() -> None:
    """Reproducible SKR report notebooks on Kolada data."""


@main.command("serve-kolada")
@click.option("--snapshot", type=click.Path(exists=True, file_okay=False), default=None,
              help="Snapshot folder (default: the shared recorded snapshot).")
@click.option("--port", type=int, default=8765, show_default=True, help="0 picks a free port.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--latency", type=float, default=0.0, help="Added seconds per request.")
@click.option("--error-rate", type=float, default=0.0, help="Share of requests answered 500.")
@click.option("--rate-limit-rate", type=float, default=0.0, help="Share answered 429.")
@click.option("--retry-after", type=int, default=1, help="Retry-After seconds on 429.")
@click.option("--drop-rate", type=float, default=0.0, help="Share of dropped connections.")
@click.option("--truncate-rate", type=float, default=0.0, help="Share of truncated bodies.")
@click.option("--seed", type=int, default=0, help="Seed of the fault draws.")
def serve_kolada(snapshot: str | None, port: int, host: str, **faults: float) -> None:
    """Serve a recorded Kolada snapshot as a local Kolada v3 API until Ctrl-C."""
    import time

    from helpers import paths
    from helpers.kolada_replay import Faults, ReplayServer

    server = ReplayServer(snapshot or paths.SNAPSHOT_DIR, host=host, port=port,
                          faults=Faults(**faults))
    try:
        server.start()
    except (OSError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Kolada replay server on {server.base_url} (snapshot {server.snapshot_dir})")
    click.echo(f"  export KOLADA_BASE_URL={server.base_url}")
    click.echo("Press Ctrl-C to stop.")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        click.echo("Stopping.")
    finally:
        server.stop()
