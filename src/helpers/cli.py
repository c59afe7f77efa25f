"""The ``skr-report`` command line: thin wrappers over the modules in ``helpers``."""

from __future__ import annotations

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="skr-report")
def main() -> None:
    """Reproducible SKR report notebooks on Kolada data."""
