"""The values of the command line's options that choose variants and workers (``--kommuner``,
``--jobs``), checked before anything is fetched or written. Cheap to import (the command line
checks them while it parses)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from helpers.params import OptionError, normalize_kommun

KOMMUNER_SYNTAX = ("all, lan:NN (a län code, e.g. lan:12) or a list CODE,CODE (codes or "
                   "names, e.g. 0114,2463)")
"""The values ``--kommuner`` accepts, for messages."""


def check_kommuner_spec(spec: str | Sequence[str]) -> str | list[str]:
    """The shape of a ``--kommuner`` value, checked before anything is fetched: ``all``,
    ``lan:NN`` or a non-empty list. Raises ``OptionError`` naming the allowed values."""
    if not isinstance(spec, str):
        items = [str(s).strip() for s in spec if str(s).strip()]
        if not items:
            raise OptionError(f"--kommuner: the list is empty. Fix: give {KOMMUNER_SYNTAX}.")
        return items
    text = spec.strip()
    if text.lower() == "all":
        return "all"
    if text.lower().startswith("lan:"):
        lan = text.split(":", 1)[1].strip()
        if not (lan.isdigit() and 1 <= len(lan) <= 2):
            raise OptionError(f"--kommuner {spec}: {lan!r} is no län code (1–2 digits). "
                              f"Fix: give {KOMMUNER_SYNTAX}.")
        return f"lan:{lan.zfill(2)}"
    if not [item for item in text.split(",") if item.strip()]:
        raise OptionError(f"--kommuner {spec!r}: no kommun given. Fix: give {KOMMUNER_SYNTAX}.")
    return text


def resolve_kommuner(spec: str | Sequence[str], catalogue: Any) -> list[str]:
    """``"all"`` → all 290 kommuner; ``"lan:12"`` → the kommuner of län 12; ``"0114,2463"`` or a
    list → those codes (names and ``114`` accepted). A value that names no kommun raises
    ``OptionError`` (a ``ParamsError``) naming the allowed values or the closest matches."""
    spec = check_kommuner_spec(spec)
    kommuner = sorted(catalogue.kommuner)
    if spec == "all":
        return kommuner
    if isinstance(spec, str) and spec.startswith("lan:"):
        lan = spec.split(":", 1)[1]
        chosen = [code for code in kommuner if code[:2] == lan]
        if not chosen:
            lans = sorted({code[:2] for code in kommuner})
            raise OptionError(f"--kommuner {spec}: no kommun in län {lan!r}. Fix: use one of "
                              f"the län codes {', '.join(lans)}.")
        return chosen
    items = [s.strip() for s in spec.split(",")] if isinstance(spec, str) else list(spec)
    codes = []
    for item in items:
        if item == "":
            continue
        try:
            codes.append(normalize_kommun(item, catalogue))
        except ValueError as exc:
            raise OptionError(f"--kommuner: {exc}") from None
    return list(dict.fromkeys(codes))


def check_jobs(jobs: int | None) -> int:
    """``None`` → one worker per core; otherwise a whole number ≥ 1 (``OptionError``)."""
    if jobs is None:
        return max(1, os.cpu_count() or 1)
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise OptionError(f"--jobs {jobs}: the number of worker processes must be 1 or more. "
                          "Fix: give e.g. --jobs 2, or leave it out for one per core.")
    return jobs
