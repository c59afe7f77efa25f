"""Eurostat tables in ``data/processed/eurostat/``: ``<dataset>.parquet`` (tidy, as
``EurostatClient.data`` gives them) and ``source.json``."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from filelock import FileLock

from helpers import paths
from helpers.files import atomic_write_bytes, atomic_write_parquet


@dataclass(frozen=True)
class EurostatRequest:
    """One Eurostat data request: dataset code and dimension → codes."""

    dataset: str
    filters: dict[str, tuple[str, ...]] = field(default_factory=dict)


EUROSTAT_DIR_NAME = "eurostat"


def fetch_eurostat(params: Any, client: Any, processed_dir: Path | None = None) -> dict | None:
    """Fetch the Eurostat tables ``params.eurostat_requests()`` names, let the parameters check
    themselves against them (``check_eurostat``: nothing is written when they fail), then write
    ``eurostat/<dataset>.parquet`` and ``eurostat/source.json``. None when nothing is needed."""
    wanted = params.eurostat_requests()
    if not wanted:
        return None
    processed_dir = paths.PROCESSED_DIR if processed_dir is None else Path(processed_dir)
    with client.collect() as used:
        tables = {req.dataset: client.data(req.dataset, req.filters) for req in wanted}
    params.check_eurostat(tables)
    folder = processed_dir / EUROSTAT_DIR_NAME
    folder.mkdir(parents=True, exist_ok=True)
    source = used()  # the responses of these tables only, whatever else the client read
    updated = [t.attrs["updated"] for t in tables.values() if t.attrs.get("updated")]
    source["updated"] = max(updated) if updated else None
    source["snapshot"] = bool(source.get("snapshot_vintage"))
    source["datasets"] = sorted(tables)
    with FileLock(processed_dir / ".fetch.lock"):
        for dataset, table in tables.items():
            atomic_write_parquet(table.reset_index(drop=True), folder / f"{dataset}.parquet")
        text = json.dumps(source, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
        atomic_write_bytes(folder / "source.json", text.encode("utf-8"))
    return source


def load_eurostat(dataset: str, processed_dir: Path | None = None) -> pd.DataFrame:
    """The tidy Eurostat table ``dataset`` written by ``fetch_eurostat``."""
    folder = (paths.PROCESSED_DIR if processed_dir is None else Path(processed_dir)) \
        / EUROSTAT_DIR_NAME
    path = folder / f"{dataset}.parquet"
    if not path.is_file():
        raise FileNotFoundError(f"no Eurostat table {dataset} in {folder}. "
                                "Fix: run `skr-report fetch <params.yaml>` for this report.")
    table = pd.read_parquet(path)
    table["year"] = table["year"].astype("int64")
    return table
