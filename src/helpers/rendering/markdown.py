"""Markdown (and HTML) to Typst through pandoc's Typst writer (``pypandoc_binary`` ships
pandoc): all pieces of a notebook in one pandoc call, pieces seen before from a cache."""

from __future__ import annotations

import re
import subprocess
import threading
from collections import OrderedDict
from collections.abc import Sequence
from functools import cache

import pypandoc


class PandocError(RuntimeError):
    """pandoc could not convert a piece (the message says why)."""


PANDOC_FROM = {
    # Jupyter's markdown without what Jupyter's HTML does not do here either: no TeX math
    # (a "$" from Kolada stays a dollar sign), no YAML block, no emoji codes, no raw HTML.
    "markdown": "gfm-raw_html-tex_math_dollars-tex_math_gfm-yaml_metadata_block-emoji"
                "-gfm_auto_identifiers",
    "html": "html-native_divs-native_spans",
}


_SEPARATOR = "SKRPIECE{}SKRPIECE"


_CACHE: OrderedDict[tuple[str, str], str] = OrderedDict()


_CACHE_SIZE = 4096


_CACHE_LOCK = threading.Lock()


@cache
def pandoc_path() -> str:
    """The pandoc binary of the ``pypandoc_binary`` wheel (or pandoc on PATH)."""
    return pypandoc.get_pandoc_path()


def _pandoc(text: str, fmt: str) -> str:
    """One pandoc run, ``fmt`` → Typst (pandoc directly: ``pypandoc.convert_text`` would start
    two more pandoc processes per call to list the formats)."""
    done = subprocess.run([pandoc_path(), "--from", PANDOC_FROM[fmt], "--to", "typst",
                           "--wrap=none", "--shift-heading-level-by=-1"],
                          input=text.encode("utf-8"), capture_output=True, timeout=300)
    if done.returncode != 0:
        raise PandocError(f"pandoc could not convert {fmt} to Typst: "
                            f"{done.stderr.decode('utf-8', 'replace').strip()}")
    return done.stdout.decode("utf-8")


def markdown_to_typst(pieces: Sequence[str], fmt: str = "markdown") -> list[str]:
    """Typst markup of markdown (or HTML) pieces, in order: one pandoc run for all pieces that
    are not cached yet. Headings move up one level (``##`` → ``=``: the title is the report's)."""
    results: list[str | None] = []
    todo: dict[str, int] = {}
    with _CACHE_LOCK:
        for piece in pieces:
            cached = _CACHE.get((fmt, piece))
            results.append(cached)
            if cached is None and piece not in todo:
                todo[piece] = len(todo)
    if todo:
        separator = "\n\n" if fmt == "markdown" else "\n<p>"
        joined = separator.join(
            f"{text}\n\n{_SEPARATOR.format(i)}" if fmt == "markdown"
            else f"<div>{text}</div><p>{_SEPARATOR.format(i)}</p>"
            for text, i in todo.items())
        out = _pandoc(joined, fmt)
        parts = re.split(r"^SKRPIECE(\d+)SKRPIECE\s*$", out, flags=re.MULTILINE)
        converted = {int(parts[i + 1]): parts[i].strip("\n") for i in range(0, len(parts) - 1, 2)}
        if len(converted) != len(todo):
            raise PandocError(f"pandoc returned {len(converted)} of {len(todo)} pieces "
                                f"converting {fmt} to Typst")
        with _CACHE_LOCK:
            for text, i in todo.items():
                _CACHE[(fmt, text)] = converted[i]
                _CACHE.move_to_end((fmt, text))
            while len(_CACHE) > _CACHE_SIZE:
                _CACHE.popitem(last=False)
        results = [r if r is not None else converted[todo[p]] for r, p in zip(results, pieces,
                                                                               strict=True)]
    return [str(r) for r in results]
