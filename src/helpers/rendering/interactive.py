"""A notebook run by hand (JupyterLab, papermill, nbclient) gets its data the way the commands
do: when the data of its parameters are not in ``data/processed``, they are fetched through
``sources.live.data_clients`` (the configured APIs, else their recordings in ``../shared``)
and the same raw cache, by ``datasets.prepare``. Under ``skr-report`` the data are always in
place before the kernel starts, and nothing here runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from helpers.datasets import is_prepared, prepare
from helpers.sources.live import data_clients


def ensure_data(params: Any, processed_dir: Path | None = None) -> list[str]:
    """Fetch what ``params`` need unless it is in place; returns Swedish lines for the notebook
    saying where the data came from (none when nothing had to be fetched). A source that cannot
    deliver raises its ``SourceError`` (the message names the fix)."""
    if is_prepared(params, processed_dir):
        return []
    with data_clients() as clients:
        prepared = prepare(params, clients.kolada, processed_dir,
                           eurostat_client=clients.eurostat)
        lines = [_source_line(choice) for choice in clients.choices
                 if choice.kind.name == "Kolada" or prepared.eurostat]
    return [f"Data för rapporten hämtades ({prepared.year}):", *lines]


def _source_line(choice: Any) -> str:
    name = choice.kind.name
    if choice.recording is None:
        return f"- {name}: {choice.configured}"
    why = "utan nätverk (--offline)" if choice.reason == "--offline" else \
        f"{choice.configured} kunde inte nås ({choice.reason})"
    return f"- {name}: inspelningen i {choice.recording}, eftersom {why}"
