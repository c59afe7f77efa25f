"""Preparing an executed notebook for export: what varies between runs removed, figures and
tables numbered and captioned, the title taken out of the body."""

from __future__ import annotations

import base64
import copy
import re
from collections.abc import Iterator
from typing import Any

from helpers.formatting import unescape_markdown
from helpers.rendering.captions import SKR, strip_png_metadata

REMOVE_TAGS = frozenset({"skr-setup", "remove-cell", "remove_cell", "papermill-error-cell-tag"})


DROPPED_MIMETYPES = ("application/javascript", "application/vnd.jupyter.widget-view+json",
                     "application/vnd.jupyter.widget-state+json")


IMAGE_MIMETYPES = ("image/png", "image/jpeg", "image/svg+xml")


def _clean_png_b64(text: str | list[str]) -> str:
    raw = base64.b64decode("".join(text) if isinstance(text, list) else text)
    return base64.b64encode(strip_png_metadata(raw)).decode("ascii")


def clean_notebook(nb: Any) -> Any:
    """A copy of an executed notebook with what varies between runs removed.

    Removes setup and papermill error-banner cells, papermill timing/path metadata, stderr
    streams, scripts and widgets; numbers cell ids and execution counts in order; strips PNG text
    chunks. The result is what gets published as ``<report>.ipynb`` and exported.
    """
    nb = copy.deepcopy(nb)
    cells = [c for c in nb.cells if not REMOVE_TAGS & set(c.get("metadata", {}).get("tags", []))]
    count = 0
    for index, cell in enumerate(cells):
        cell["id"] = f"cell-{index}"
        metadata = cell.setdefault("metadata", {})
        for key in ("papermill", "execution", "collapsed", "scrolled", "ExecuteTime"):
            metadata.pop(key, None)
        if cell.get("cell_type") != "code":
            continue
        if cell.get("execution_count") is not None:
            count += 1
            cell["execution_count"] = count
        outputs = []
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream" and output.get("name") == "stderr":
                continue
            if "execution_count" in output:
                output["execution_count"] = cell.get("execution_count")
            data = output.get("data")
            if data is not None:
                for mime in DROPPED_MIMETYPES:
                    data.pop(mime, None)
                if not data:
                    continue
                if "image/png" in data:
                    data["image/png"] = _clean_png_b64(data["image/png"])
            output.get("metadata", {}).pop("transient", None)
            output.pop("transient", None)
            outputs.append(output)
        cell["outputs"] = outputs
    nb.cells = cells
    papermill = nb.metadata.get("papermill")
    if isinstance(papermill, dict):
        nb.metadata["papermill"] = {"parameters": papermill.get("parameters", {})}
    nb.metadata.pop("widgets", None)
    return nb


def _text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value or "")


def caption_sources(nb: Any) -> list[tuple[str, int, str]]:
    """(kind, number, source line) of every numbered figure and table, in order."""
    found = []
    for _cell, output in _outputs(nb):
        meta = (output.get("metadata") or {}).get(SKR) or {}
        if meta.get("kind") in ("figure", "table") and meta.get("number"):
            found.append((meta["kind"], int(meta["number"]), str(meta.get("source") or "")))
    return found


def annotate_captions(nb: Any) -> Any:
    """Number figures and tables in order of appearance and give each an anchor and alt text.

    Captions come from one place: the ``skr`` output metadata (see the module docstring). An
    image without it still gets the next free figure number, a generic caption and alt text.
    Modifies and returns ``nb``.
    """
    used: dict[str, set[int]] = {"figure": set(), "table": set()}
    pending = []
    for _cell, output in _outputs(nb):
        data = output.get("data") or {}
        meta = dict((output.get("metadata") or {}).get(SKR) or {})
        is_image = any(m in data for m in IMAGE_MIMETYPES)
        if is_image:
            meta.setdefault("kind", "figure")
        kind = meta.get("kind")
        if kind not in used or (kind == "figure" and not is_image):
            continue
        if meta.get("number"):
            used[kind].add(int(meta["number"]))
        pending.append((output, meta))
    following = {"figure": 0, "table": 0}
    for output, meta in pending:
        kind = meta["kind"]
        if not meta.get("number"):
            number = following[kind] + 1
            while number in used[kind]:
                number += 1
            used[kind].add(number)
            meta["number"] = number
        meta.setdefault("title", "")
        following[kind] = max(following[kind], int(meta["number"]))
        word = "Figur" if kind == "figure" else "Tabell"
        meta["anchor"] = f"{word.lower()}-{meta['number']}"
        if kind == "figure" and not meta.get("alt"):
            suffix = f": {meta['title']}" if meta["title"] else ""
            meta["alt"] = f"{word} {meta['number']}{suffix}"
        output.setdefault("metadata", {})[SKR] = meta
    _link_descriptions(nb)
    return nb


def _link_descriptions(nb: Any) -> None:
    """Give each figure's long description (an output whose ``skr`` kind is "description") an
    anchor, and the figure ``described_by`` naming it (the HTML's ``aria-describedby``)."""
    figures = {}
    for _cell, output in _outputs(nb):
        meta = (output.get("metadata") or {}).get(SKR) or {}
        if meta.get("kind") == "figure" and meta.get("number"):
            figures[int(meta["number"])] = meta
        elif meta.get("kind") == "description" and int(meta.get("number", 0)) in figures:
            meta["anchor"] = f"figur-{int(meta['number'])}-beskrivning"
            figures[int(meta["number"])]["described_by"] = meta["anchor"]


_H1_LINE = re.compile(r"^# +(.+?)\s*#*\s*$", re.MULTILINE)


def extract_title(nb: Any) -> str | None:
    """Remove the notebook's first level-1 heading (the page header shows the title) and
    return its text; looks at markdown cells and markdown outputs in order."""
    for cell in nb.cells:
        holders: list[tuple[Any, str]] = []
        if cell.get("cell_type") == "markdown":
            holders.append((cell, "source"))
        elif cell.get("cell_type") == "code":
            holders += [(output["data"], "text/markdown") for output in cell.get("outputs", [])
                        if "text/markdown" in (output.get("data") or {})]
        for holder, key in holders:
            text = _text(holder[key])
            match = _H1_LINE.search(text)
            if match and not text[:match.start()].strip():
                holder[key] = (text[:match.start()] + text[match.end():]).lstrip("\n")
                if cell.get("cell_type") == "code":
                    cell["outputs"] = [o for o in cell["outputs"]
                                       if _text((o.get("data") or {}).get("text/markdown", "x"))]
                return unescape_markdown(match.group(1).strip())
    return None


def _outputs(nb: Any) -> Iterator[tuple[Any, Any]]:
    for cell in nb.cells:
        for output in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            yield cell, output
