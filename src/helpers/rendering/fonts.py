"""The fonts of the reports: DejaVu Sans from the files matplotlib ships, for the figures and
the PDF alike, and the Typst font set built from them (never the system's fonts, so every
machine gives the same bytes)."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import matplotlib
import typst

_FONTS: Any = None


_FONTS_LOCK = threading.Lock()


_COMPILED_IN: int | None = None
"""The process id that last ran the Typst compiler (see :func:`typst_used_here`)."""


def font_paths() -> list[str]:
    """Font folders besides the fonts inside the typst wheel: matplotlib's DejaVu fonts."""
    return [str(Path(matplotlib.get_data_path()) / "fonts" / "ttf")]


def fonts() -> Any:
    """The fonts Typst may use, loaded once: the wheel's own and :func:`font_paths`, never the
    system's (the same bytes on every machine)."""
    global _FONTS
    with _FONTS_LOCK:
        mark_typst_used()
        if _FONTS is None:
            _FONTS = typst.Fonts(include_system_fonts=False, include_embedded_fonts=True,
                                 font_paths=font_paths())
        return _FONTS


def mark_typst_used() -> None:
    """Note that this process runs the Typst compiler (its threads do not survive a fork)."""
    global _COMPILED_IN
    _COMPILED_IN = os.getpid()


def typst_used_here() -> bool:
    """True when this process has run the Typst compiler. Its worker threads do not survive a
    ``fork``: a forked child that compiles then waits forever, so process pools started after a
    compile must use ``forkserver`` or ``spawn`` (``helpers.build.batch`` does)."""
    return os.getpid() == _COMPILED_IN
