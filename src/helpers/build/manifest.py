"""``manifest.json`` of a published variant: parameters, data source and vintage, KPI ids,
versions, the inputs hash and the sha256 of every output; how to build it again (the parameter
file and the command line's overrides) and what ``skr-report status`` and ``diff`` read (whether
the year is fixed, each KPI's last year, the digests of the data it read, its tables' labels
and key columns)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from helpers.domain import CAPTION_KEY as SKR
from helpers.rendering.provenance import ReportInfo


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


MANIFEST = "manifest.json"


def write_manifest(out_dir: Path, info: ReportInfo, *, inputs_sha256: str,
                   status: str = "ok", versions: Mapping[str, str] | None = None,
                   built_from: Mapping[str, str] | None = None,
                   build: Mapping[str, Any] | None = None,
                   data: Mapping[str, Any] | None = None,
                   tables: Mapping[str, Any] | None = None) -> Path:
    """Write ``manifest.json``: parameters, data vintage, KPI ids, versions, sha256 of outputs.

    ``built_from`` maps each exported file (``<report>.html``/``.pdf``) to the inputs hash of
    the run that built it: a ``--format pdf`` run keeps the HTML of an earlier run, and the
    manifest says which inputs that HTML came from. Deterministic (sorted keys, no build time),
    so it is byte-identical across rebuilds too.
    """
    out_dir = Path(out_dir)
    outputs = {
        path.relative_to(out_dir).as_posix(): sha256_file(path)
        for path in sorted(out_dir.rglob("*"))
        if path.is_file() and path.name != MANIFEST
    }
    manifest = {
        **dict(build or {}),
        "variant": info.variant,
        "report": info.report,
        "title": info.title,
        "subtitle": info.subtitle,
        "status": status,
        "parameters": info.parameters,
        "data": {key: info.provenance.get(key) for key in
                 ("source", "base_url", "snapshot", "fetched_at", "kpis", "years", "eurostat")}
        | dict(data or {}),
        "versions": dict(versions or {}),
        "git_commit": info.provenance.get("git_commit"),
        "inputs_sha256": inputs_sha256,
        "built_from": {name: sha for name, sha in sorted((built_from or {}).items())
                       if name in outputs},
        "outputs": outputs,
    }
    if tables is not None:
        manifest["tables"] = dict(tables)
    path = out_dir / MANIFEST
    path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n",
                    encoding="utf-8")
    return path


def tables_of(nb: Any) -> dict[str, dict[str, Any]]:
    """The data files of a report's figures and tables, from the caption metadata of its
    executed notebook: ``{"tables/figur1.csv": {"label": "Figur 1", "title": …, "keys": […]}}``
    (``keys`` only where the report declares them)."""
    found: dict[str, dict[str, Any]] = {}
    for cell in nb.get("cells", []):
        for output in cell.get("outputs", []) or []:
            meta = (output.get("metadata") or {}).get(SKR)
            if not isinstance(meta, Mapping) or not meta.get("csv"):
                continue
            kind = "Figur" if meta.get("kind") == "figure" else "Tabell"
            entry = {"label": f"{kind} {meta.get('number')}", "title": meta.get("title", "")}
            if meta.get("keys"):
                entry["keys"] = list(meta["keys"])
            found[str(meta["csv"])] = entry
    return found


def read_manifest(out_dir: Path) -> dict[str, Any] | None:
    try:
        return json.loads((Path(out_dir) / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
