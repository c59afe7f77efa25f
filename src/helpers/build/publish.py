"""Publishing a built variant: the staging folder swapped into ``reports/<variant>/``
atomically under a per-variant lock, files the run did not build taken over, failures recorded
for the index page."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from filelock import FileLock

from helpers.build.manifest import read_manifest
from helpers.build.stopping import not_interrupted
from helpers.files import atomic_write_text, swap_into
from helpers.params import OptionError

STAGING_DIR_NAME = ".staging"


LOCK_DIR_NAME = ".locks"
STATUS_DIR_NAME = ".status"
"""Where a failed variant's message waits for the index page (``.status/<variant>.json``)."""


def publish(staging: Path, target: Path, reports_dir: Path, *, keep: Iterable[str] = (),
            finish: Callable[[Mapping[str, str]], None] | None = None) -> None:
    """Move a finished staging folder to ``target`` so readers see the old or the new folder.

    A run replaces what it builds: the files named in ``keep`` (e.g. the HTML when only the PDF
    was built) are taken over from the published folder when the run did not make them, so
    ``--format pdf`` after ``--format html`` leaves both. ``finish(kept)`` then runs on the
    staging folder (it writes the manifest) with ``kept`` mapping each taken-over file to the
    inputs hash it was built from. All under a per-variant file lock (two runs of the same
    variant at once do not interleave), and the swap is atomic; a SIGINT or SIGTERM that
    arrives meanwhile waits until the swap is done (``build.stopping``).
    """
    locks = Path(reports_dir) / LOCK_DIR_NAME
    locks.mkdir(parents=True, exist_ok=True)
    with not_interrupted(target.name), FileLock(locks / f"{target.name}.lock"):
        kept = _take_over(target, staging, keep)
        if finish is not None:
            finish(kept)
        swap_into(staging, target)


def _take_over(target: Path, staging: Path, names: Iterable[str]) -> dict[str, str]:
    """Link (or copy) ``names`` from the published folder into staging where staging has none;
    returns name → inputs hash that built it (from the published manifest)."""
    manifest = read_manifest(target) or {}
    built_from = manifest.get("built_from") or {}
    kept = {}
    for name in names:
        source, destination = target / name, staging / name
        if destination.exists() or not source.is_file() or name not in manifest.get(
                "outputs", {}):
            continue
        try:
            os.link(source, destination)
        except OSError:
            shutil.copy2(source, destination)
        kept[name] = built_from.get(name, manifest.get("inputs_sha256", ""))
    return kept


def record_failure(reports_dir: Path, variant: str, message: str) -> None:
    status = Path(reports_dir) / STATUS_DIR_NAME / f"{variant}.json"
    atomic_write_text(status, json.dumps({"variant": variant, "status": "failed",
                                          "error": message}, ensure_ascii=False, indent=1))


def clear_failure(reports_dir: Path, variant: str) -> None:
    (Path(reports_dir) / STATUS_DIR_NAME / f"{variant}.json").unlink(missing_ok=True)


class VariantConflict(OptionError):
    """The run would replace a variant built from another parameter file with other
    parameters; the message names the difference and ``--force``."""


def _shown(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def parameter_difference(old: Mapping[str, Any], new: Mapping[str, Any]) -> str:
    """``year 2022 → 2021; storleksklasser [0, 6000] → [0, 5000]`` (empty when equal)."""
    keys = sorted(set(old) | set(new))
    return "; ".join(f"{key} {_shown(old.get(key))} → {_shown(new.get(key))}"
                     for key in keys if old.get(key) != new.get(key))


def check_replaces(target: Path, params_file: str, parameters: Mapping[str, Any], *,
                   force: bool = False) -> str | None:
    """Before building into ``target``: None when nothing is published there or it was built
    with these parameters; a note naming the difference when it was built from the same
    parameter file (edited since: the file defines its variant); :class:`VariantConflict` when
    it was built from another file with other parameters, unless ``force``."""
    manifest = read_manifest(target)
    if not manifest or manifest.get("status", "ok") != "ok":
        return None
    difference = parameter_difference(manifest.get("parameters") or {}, parameters)
    if not difference:
        return None
    before = manifest.get("params_file")
    note = f"replaces reports/{target.name}/ built with other parameters ({difference})"
    if before in (None, params_file) or force:
        return note + (f", from {before}" if before and before != params_file else "")
    raise VariantConflict(
        f"reports/{target.name}/ holds the variant built from {before} with other parameters "
        f"({difference}); this run from {params_file} would replace it. Fix: add --force to "
        "replace it, or copy your parameter file to a new name (a variant is named after its "
        "file, its kommun and a year that is not the default).")
