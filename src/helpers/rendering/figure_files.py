"""A drawn figure as the files a report needs: SVG (text kept as text, drawn at its printed size,
so a font size in it is the printed size), PDF (the SVG through Typst: tagged PDF/UA-1, the
package's fonts embedded, text kept as text) and PNG (200 ppi at the printed size).

Composing: a figure that differs between kommun variants only by the kommun's marks is drawn
once without them (the *base*); per variant only the marks are drawn, on a transparent figure
of the same size (the *overlay*). :func:`compose_svg` merges the two SVGs as groups, and
:class:`Pixels` lays the overlay's pixels over the base's cached ones. Every writer gives the
same bytes for the same figure: no dates, no version strings, fixed SVG ids.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
import typst
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from helpers.rendering.figure_style import MM, print_style
from helpers.rendering.fonts import fonts

PNG_PPI = 200
"""The PNG files' resolution at the printed size. The PDF and the HTML use the SVG, so the PNG
is the bitmap for Word/PowerPoint users and HTML readers without SVG; 200 ppi rather than 300
keeps the 290-variant batch within its time (PNG encoding was most of a variant's figure cost:
docs/NOTES.md)."""


@dataclass(frozen=True)
class FigureFiles:
    """A figure's SVG and PNG and its printed size; the PDF is made from the SVG with the
    figure's title and alt text (:func:`figure_pdf`)."""

    svg: bytes
    png: bytes
    width_mm: float
    height_mm: float


def size_mm(fig: Figure) -> tuple[float, float]:
    return round(fig.get_figwidth() / MM, 2), round(fig.get_figheight() / MM, 2)


_METADATA = re.compile(r"\s*<metadata>.*?</metadata>", re.S)


def svg_of(fig: Figure, transparent: bool = False) -> str:
    """The figure as SVG text at its own size (1 unit = 1 pt), text as text, no metadata."""
    buffer = io.StringIO()
    with print_style():
        fig.savefig(buffer, format="svg", transparent=transparent,
                    metadata={"Date": None, "Creator": None})
    return _METADATA.sub("", buffer.getvalue(), count=1)


def rgba_of(fig: Figure, ppi: int | None = None) -> Image.Image:
    """The figure's pixels at ``ppi`` (default :data:`PNG_PPI`; Agg)."""
    ppi = ppi or PNG_PPI
    dpi = fig.get_dpi()
    fig.set_dpi(ppi)
    try:
        with print_style():
            canvas = FigureCanvasAgg(fig)
            canvas.draw()
        return Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba()).copy()
    finally:
        fig.set_dpi(dpi)


def png_bytes(image: Image.Image, ppi: int | None = None) -> bytes:
    """PNG bytes without text chunks (no version, no date); the resolution recorded."""
    ppi = ppi or PNG_PPI
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="PNG", compress_level=1, dpi=(ppi, ppi))
    return buffer.getvalue()


def files_of(fig: Figure) -> FigureFiles:
    """SVG and PNG of a whole figure (one drawn for every variant alike, or a notebook's own)."""
    width, height = size_mm(fig)
    return FigureFiles(svg_of(fig).encode("utf-8"), png_bytes(rgba_of(fig)), width, height)


_SVG_BODY = re.compile(r"<svg[^>]*>(.*)</svg>", re.S)
_BACKGROUND = re.compile(r'\s*<g id="patch_1">.*?</g>', re.S)
_IDS = re.compile(r'(\bid="|href="#|url\(#)')


def compose_svg(base_svg: str, overlay_svg: str) -> str:
    """The base SVG with the overlay's drawing appended as one group ``id="kommun"`` (same size
    and coordinates). The overlay's transparent background is dropped and its ids prefixed
    ``k-``, so they cannot clash with the base's (``axes_1``, ``text_1`` …)."""
    body = _SVG_BODY.search(overlay_svg)
    if body is None:
        raise ValueError("the overlay is not an SVG")
    marks = _BACKGROUND.sub("", body.group(1), count=1)
    marks = _IDS.sub(lambda m: m.group(1) + "k-", marks)
    marks = marks.replace('id="k-figure_1"', 'id="kommun"', 1)
    head, end, tail = base_svg.rpartition("</svg>")
    return head + marks + end + tail


class Pixels:
    """A base figure's pixels at ``ppi``, rendered once; :meth:`png` lays an overlay figure of
    the same size over them."""

    def __init__(self, base: Figure, ppi: int | None = None):
        self.ppi = ppi or PNG_PPI
        self.figure = base
        self.base = rgba_of(base, ppi)
        self._plain: bytes | None = None

    def plain(self) -> bytes:
        """The base alone as PNG (kept: national variants share it)."""
        if self._plain is None:
            self._plain = png_bytes(self.base, self.ppi)
        return self._plain

    def png(self, overlay: Figure) -> bytes:
        marks = rgba_of(overlay, self.ppi)
        return png_bytes(Image.alpha_composite(self.base, marks), self.ppi)


_PDF_SOURCE = b"""#set document(title: sys.inputs.title, date: none)
#set text(lang: "sv")
#set page(width: auto, height: auto, margin: 0pt)
#image(bytes(sys.inputs.svg), format: "svg", alt: sys.inputs.alt)
"""


_PDFS: OrderedDict[str, bytes] = OrderedDict()
_PDFS_KEPT = 16


def figure_pdf(svg: bytes, title: str, alt: str) -> bytes:
    """The SVG as a one-page PDF of its own size: text kept as text in the package's fonts,
    tagged PDF/UA-1 with ``title`` and the alt text, no creation date (the same bytes on every
    run). Kept per content: a figure every variant shares is compiled once per process."""
    key = hashlib.sha256(svg + b"\0" + title.encode() + b"\0" + alt.encode()).hexdigest()
    pdf = _PDFS.get(key)
    if pdf is None:
        pdf = _PDFS[key] = typst.compile(
            _PDF_SOURCE, font_paths=fonts(), ignore_system_fonts=True, pdf_standards=["ua-1"],
            sys_inputs={"svg": svg.decode("utf-8"), "title": title, "alt": alt})
        while len(_PDFS) > _PDFS_KEPT:
            _PDFS.popitem(last=False)
    _PDFS.move_to_end(key)
    return pdf


_SHARED: OrderedDict[tuple, FigureFiles] = OrderedDict()
_SHARED_KEPT = 8


def frame_digest(*frames: pd.DataFrame) -> tuple[int, ...]:
    """A content key of data frames (values and labels), for :func:`files_once`."""
    return tuple(int(pd.util.hash_pandas_object(frame, index=True).sum()) for frame in frames)


def files_once(key: tuple, draw: Callable[[], Figure]) -> FigureFiles:
    """The files of a figure that every kommun variant shares (Tabell 1 as a line, the
    heatmaps), drawn once per process for ``key`` (what it is drawn from: data digests and
    texts)."""
    files = _SHARED.get(key)
    if files is None:
        files = _SHARED[key] = files_of(draw())
        while len(_SHARED) > _SHARED_KEPT:
            _SHARED.popitem(last=False)
    _SHARED.move_to_end(key)
    return files
