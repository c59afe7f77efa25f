"""``reports/index.html``: every published variant with its links, data year and status
(template ``templates/skr_index/index.html.j2``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from helpers import paths
from helpers.build.manifest import MANIFEST, read_manifest
from helpers.build.publish import STATUS_DIR_NAME
from helpers.files import atomic_write_text

INDEX_TEMPLATE = "skr_index/index.html.j2"


def write_index(reports_dir: Path = paths.REPORTS_DIR) -> Path:
    """Write ``reports/index.html``: every variant with links, data year and status."""
    reports_dir = Path(reports_dir)
    rows = [_row(variant, found["manifest"], found["failure"])
            for variant, found in sorted(_variants(reports_dir).items())]
    environment = Environment(loader=FileSystemLoader(paths.TEMPLATES_DIR),
                              autoescape=select_autoescape(["html", "j2"]),
                              keep_trailing_newline=True)
    page = environment.get_template(INDEX_TEMPLATE).render(
        rows=rows, failed=sum(1 for row in rows if row["css"] == "failed"))
    target = reports_dir / "index.html"
    atomic_write_text(target, page)
    return target


def _variants(reports_dir: Path) -> dict[str, dict[str, Any]]:
    """Variant → its manifest (None when it never built) and its last failure (None)."""
    found: dict[str, dict[str, Any]] = {}
    for manifest_path in sorted(reports_dir.glob(f"*/{MANIFEST}")):
        found[manifest_path.parent.name] = {"manifest": read_manifest(manifest_path.parent) or {},
                                            "failure": None}
    for status_path in sorted((reports_dir / STATUS_DIR_NAME).glob("*.json")):
        try:
            failure = json.loads(status_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        found.setdefault(status_path.stem, {"manifest": None})["failure"] = failure
    return found


def _row(variant: str, manifest: dict[str, Any] | None,
         failure: dict[str, Any] | None) -> dict[str, Any]:
    links = []
    if manifest:
        for name in sorted(manifest.get("outputs", {})):
            if "/" not in name and name.rsplit(".", 1)[-1] in ("html", "pdf", "ipynb"):
                links.append((f"{variant}/{name}", name.rsplit(".", 1)[-1].upper()))
        links.append((f"{variant}/{MANIFEST}", "manifest"))
    years = (manifest or {}).get("data", {}).get("years") or []
    if failure and manifest:
        status = "misslyckades senast – föregående version visas"
    else:
        status = "misslyckades" if failure else "klar"
    return {"variant": variant, "css": "failed" if failure else "ok",
            "title": (manifest or {}).get("subtitle") or (manifest or {}).get("title") or "",
            "year": str(years[-1]) if years else "–", "links": links, "status": status,
            "error": failure.get("error", "") if failure else None}
