"""Publishing a built variant: the staging folder swapped into ``reports/<variant>/``
atomically under a per-variant lock, files the run did not build taken over, failures recorded
for the index page."""

from __future__ import annotations

import ctypes
import json
import os
import shutil
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from filelock import FileLock

from helpers.build.manifest import read_manifest
from helpers.build.stopping import not_interrupted
from helpers.files import atomic_write_text

STAGING_DIR_NAME = ".staging"


LOCK_DIR_NAME = ".locks"
STATUS_DIR_NAME = ".status"
"""Where a failed variant's message waits for the index page (``.status/<variant>.json``)."""


_RENAME_EXCHANGE = 2


_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux renameat2); False when not supported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                          ctypes.c_uint]
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    return result == 0


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
        if not target.exists():
            os.rename(staging, target)
            return
        if _exchange(staging, target):
            shutil.rmtree(staging, ignore_errors=True)  # now holds the old output
            return
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        os.rename(target, old)
        os.rename(staging, target)
        shutil.rmtree(old, ignore_errors=True)


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
