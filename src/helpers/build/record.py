"""``make report`` when nothing changed: decided from digests, without parsing any data, asking
any server or starting a replay server.

``skr-report report-all`` plans every ``params/*.yaml`` (validate, fetch, settle the year) and
then skips the variants that are up to date. Planning re-reads the cached raw responses (tens of
MB of JSON) although nothing changed. So after planning it writes a record
(``data/processed/.cycle/report-all.json``): the parameter files, the package's code digest, the
data sources configured, every raw cache file the clients used and every file of
``data/processed`` (size, modification time, sha256), and per variant what its inputs hash is
made of (notebook, parameters, data digests). The next run first checks the record: when every
one of those files is as recorded (same size and time, or else the same sha256) and every
variant's published manifest has the inputs hash the record gives, nothing needs building, and
the run only writes the index. Anything else - a parameter file edited, a refreshed catalogue
(``status`` fetches it at most daily), a new cache file, code changed, another data source
configured, a variant missing or built from other inputs - runs the full plan as before.

So a ``make report`` that finds everything in the record does not probe the live API: reports
built on the recording stay on it until something must be fetched; ``skr-report status`` calls
them out of date once the API answers, and ``update`` moves them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from helpers import paths
from helpers.build.index import write_index
from helpers.build.inputs import code_digest, combined, file_digest, inputs_of, is_up_to_date
from helpers.files import atomic_write_text

RECORD = Path(".cycle") / "report-all.json"
ENVIRONMENT = ("KOLADA_BASE_URL", "EUROSTAT_BASE_URL", "SKR_SHARED_DIR", "SKR_HTTP_TIMEOUT")
"""What chooses the data sources: another value, another plan."""
VERSION = 1


def _entry(path: Path) -> dict[str, Any]:
    stat = path.stat()
    return {"path": str(path), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns,
            "sha256": file_digest(path)}


def _unchanged(entry: Mapping[str, Any]) -> bool:
    path = Path(entry["path"])
    try:
        stat = path.stat()
    except OSError:
        return False
    if stat.st_size == entry["size"] and stat.st_mtime_ns == entry["mtime_ns"]:
        return True
    return stat.st_size == entry["size"] and file_digest(path) == entry["sha256"]


def _processed_files(processed_dir: Path) -> list[Path]:
    cycle = processed_dir / RECORD.parent
    return sorted(p for p in processed_dir.rglob("*")
                  if p.is_file() and cycle not in p.parents and not p.name.endswith(".lock"))


def _environment() -> dict[str, str | None]:
    return {name: os.environ.get(name) for name in ENVIRONMENT}


def write_record(params_files: Sequence[Path], variants: Iterable[Any], raw_files: Iterable[Path],
                 processed_dir: Path, notice: str | None) -> Path:
    """Record a plan of every parameter file (``variants`` with their data digests computed)
    for the next run's check."""
    processed_dir = Path(processed_dir)
    record = {
        "version": VERSION, "code": code_digest(), "environment": _environment(),
        "notice": notice,
        "params": [_entry(Path(p)) for p in params_files],
        "raw": [_entry(p) for p in sorted(set(raw_files)) if p.is_file()],
        "processed": [_entry(p) for p in _processed_files(processed_dir)],
        "variants": [{"name": v.name, "report": v.report, "notebook": str(v.notebook),
                      "parameters": v.parameters, "data": combined(v.data_digests)}
                     for v in variants],
    }
    target = processed_dir / RECORD
    atomic_write_text(target, json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
    return target


@dataclass
class UnchangedResult:
    """What ``report-all`` says when the record showed that nothing needed building."""

    variants: int
    failed: Mapping[str, str]

    def summary(self) -> str:
        return (f"{self.variants} variants: 0 built, {self.variants} up to date, 0 failed "
                "(nothing changed since the last run: no data read, no server asked)")


def _still_valid(record: Mapping[str, Any], params_files: Sequence[Path]) -> bool:
    if record.get("version") != VERSION or record.get("environment") != _environment():
        return False
    if sorted(e["path"] for e in record.get("params", [])) != sorted(map(str, params_files)):
        return False
    if record.get("code") != code_digest():
        return False
    return all(_unchanged(e) for key in ("params", "raw", "processed") for e in record[key])


def build_unchanged(formats: Sequence[str], *, params_dir: Path | None = None,
                    reports_dir: Path | None = None,
                    processed_dir: Path | None = None) -> UnchangedResult | None:
    """The result of ``report-all`` when the record shows that every variant is up to date
    (the index is written); None when anything must be planned or built."""
    processed_dir = Path(processed_dir or paths.PROCESSED_DIR)
    reports_dir = Path(reports_dir or paths.REPORTS_DIR)
    try:
        record = json.loads((processed_dir / RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    params_files = sorted(Path(params_dir or paths.PARAMS_DIR).glob("*.yaml"))
    if not isinstance(record, dict) or not _still_valid(record, params_files):
        return None
    code = record["code"]
    for variant in record["variants"]:
        notebook = Path(variant["notebook"])
        if not notebook.is_file():
            return None
        inputs = inputs_of(file_digest(notebook), variant["parameters"], variant["data"], code,
                           record["notice"])
        if not is_up_to_date(reports_dir / variant["name"], inputs, formats, variant["report"]):
            return None
    write_index(reports_dir)
    return UnchangedResult(len(record["variants"]), {})


__all__ = ["RECORD", "UnchangedResult", "build_unchanged", "write_record"]
