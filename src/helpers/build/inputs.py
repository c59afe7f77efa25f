"""The light half of :mod:`.digests`: sha256 of files (cached by stat) and of the package's
code, the inputs hash of a variant from its parts, and whether a published variant has it.
Imports neither pandas nor nbformat: ``make report``'s check that nothing changed
(:mod:`.record`) needs no more."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import helpers
from helpers import __version__, paths
from helpers.build.manifest import read_manifest


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


def combined(digests: dict[str, str]) -> str:
    """One sha256 over a variant's :func:`data_digests`."""
    return _sha256_bytes(json.dumps(digests, sort_keys=True).encode())


def inputs_of(notebook: str, parameters: Mapping[str, Any], data: str, code: str,
              notice: str | None) -> str:
    """The inputs hash: the notebook's sha256, the parameters it gets, the data digest, the
    code digest and the notice every report shows."""
    payload = {"notebook": notebook, "parameters": dict(parameters), "data": data,
               "code": code, "notice": notice}
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


__all__ = ["code_digest", "combined", "file_digest", "inputs_of", "is_up_to_date"]
