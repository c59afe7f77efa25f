"""Writing files so that no reader ever sees half of one: temporary file + rename.

The temporary file is created the way ``open(path, "w")`` creates a file (mode ``0o666`` filtered
by the process umask and any default ACL), not with ``tempfile.mkstemp``'s private ``0o600``, so
the renamed file is as readable as an ordinary write would have made it: a web server or a
colleague can read ``reports/index.html`` and ``data/``.
"""

from __future__ import annotations

import ctypes
import os
import secrets
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # only the annotation: a light command (status, make report's check) need
    import pandas as pd  # not load pandas to write a text file

FILE_MODE = 0o666
"""The mode ``open()`` asks for; the kernel applies the umask."""
_ATTEMPTS = 100


def current_umask() -> int:
    """The process umask, read without changing it (``os.umask`` would, for every thread)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022


def _create_temporary(path: Path) -> Path:
    """Create an empty, new temporary file beside ``path`` (mode as ``open()`` gives it)."""
    for _ in range(_ATTEMPTS):
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        except FileExistsError:
            continue
        os.close(fd)
        return tmp
    raise FileExistsError(f"no free temporary name beside {path}")


def atomic_write(path: Path, write: Callable[[str], None]) -> Path:
    """Call ``write(tmp)`` on a temporary name beside ``path``, then rename it into place.

    The rename is atomic on one file system, so concurrent readers see the old file or the new
    one, and an interrupted writer leaves the old file and no temporary file behind. The file
    gets the mode an ordinary write would give it (``0o666`` minus the umask).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _create_temporary(path)
    try:
        write(str(tmp))
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def atomic_write_bytes(path: Path, data: bytes) -> Path:
    return atomic_write(path, lambda tmp: Path(tmp).write_bytes(data))


def atomic_write_parquet(frame: pd.DataFrame, path: Path) -> Path:
    return atomic_write(path, lambda tmp: frame.to_parquet(tmp, index=False))


def atomic_write_text(path: Path, text: str) -> Path:
    """Write a UTF-8 text file atomically: readers never see half of it."""
    return atomic_write_bytes(Path(path), text.encode("utf-8"))


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def exchange(a: Path, b: Path) -> bool:
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


def swap_into(staging: Path, target: Path) -> None:
    """Put the finished folder ``staging`` in the place of ``target`` so that readers see the
    old folder or the new one, never a mix (an atomic exchange where the system has one), and
    remove the old one."""
    staging, target = Path(staging), Path(target)
    if not target.exists():
        os.rename(staging, target)
        return
    if exchange(staging, target):
        shutil.rmtree(staging, ignore_errors=True)  # now holds the old folder
        return
    old = target.with_name(f".{target.name}.old-{os.getpid()}")
    os.rename(target, old)
    os.rename(staging, target)
    shutil.rmtree(old, ignore_errors=True)


def pid_exists(pid: int) -> bool:
    """Whether process ``pid`` exists (a folder named after an ended process is stale)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True
