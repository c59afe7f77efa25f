"""Whether a variant is up to date: content hashes of what it is built from (notebook,
parameters, the processed data it reads, the package's code and version, the notice)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import helpers
from helpers import __version__, paths
from helpers.build.manifest import read_manifest
from helpers.build.variant import RunSettings, Variant


def _sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@cache
def _file_digest(path: str, mtime_ns: int, size: int) -> str:
    return _sha256_bytes(Path(path).read_bytes())


def file_digest(path: Path) -> str:
    stat = path.stat()
    return _file_digest(str(path), stat.st_mtime_ns, stat.st_size)


def code_digest() -> str:
    """sha256 over the package's Python sources and templates (and its version)."""
    root = Path(helpers.__file__).parent
    digest = hashlib.sha256(__version__.encode())
    for path in sorted([*root.rglob("*.py"), *paths.TEMPLATES_DIR.rglob("*")]):
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


@cache
def versions() -> dict[str, str]:

    found = {"skr-report": __version__}
    for name in ("papermill", "nbconvert", "nbclient", "matplotlib", "pandas", "numpy"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            continue
    return found
