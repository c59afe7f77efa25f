"""What every report notebook does, in one place.

A report notebook is a ``parameters`` cell and then one call per piece of the report::

    from helpers.rendering import notebook
    from helpers.reports import valfard

    nb = notebook.start(globals())           # parameters → model, output folder (says where)
    data = valfard.load_data(nb.params)
    nb.show(valfard.title(data))             # Swedish text (Markdown)
    nb.show(valfard.figure(data, 1))         # a Figure: image, number, caption, alt text, CSV
    nb.show(valfard.table(data, 2))          # a Table: shown frame, number, caption, CSV

Report modules build :class:`Figure` and :class:`Table` values (their domain: computation,
drawing, shaping) and never display or write files; :class:`ReportNotebook` writes
``figures/<name>.svg|.pdf|.png`` (with its alt text in ``figures/<name>.txt``) and
``tables/<name>.csv``
into the output folder and displays each piece with the caption metadata of
``helpers.rendering.export`` (the one caption format the exporters read).

The output folder comes from :func:`helpers.paths.output_dir`: the staging folder of the variant
``skr-report`` is building, or, when the notebook runs anywhere else (JupyterLab, plain
papermill, nbclient), the scratch folder ``reports/_interactive/<report>/`` - never a published
variant's folder, whatever the working directory.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
from IPython.display import Markdown, display

from helpers import paths
from helpers.domain import KOLADA_SOURCE_LINE
from helpers.files import pid_exists, swap_into
from helpers.formatting import typeset
from helpers.params import ParamsError, registered_model
from helpers.rendering.captions import show_description, show_figure, show_table
from helpers.rendering.excel import write_table_xlsx
from helpers.rendering.figure_files import FigureFiles, figure_pdf, files_of
from helpers.rendering.interactive import ensure_data
from helpers.rendering.tables import hide_default_index, write_csv

__all__ = ["Figure", "ReportNotebook", "Table", "start"]


@dataclass
class Figure:
    """A figure of a report: the image, its number, title and alt text (what it shows, for
    readers who cannot see it), the data behind it (written to ``tables/<name>.csv``) and a
    Swedish note shown under it.

    ``image`` is a :class:`~helpers.rendering.figure_files.FigureFiles` (SVG and PNG drawn at
    the printed size), a matplotlib figure (saved as both at its own size) or PNG bytes."""

    image: Any
    number: int
    title: str
    alt: str
    data: Any = None
    name: str | None = None
    source: str | None = KOLADA_SOURCE_LINE
    note: str = ""
    """Swedish text (Markdown) shown under the figure: its long description (the statements,
    group means and n), which the alt text does not repeat; the HTML links the image to it."""
    keys: tuple[str, ...] | None = None
    """Columns of the data CSV that tell its rows apart (what ``skr-report diff`` and the
    section "Ändringar sedan förra versionen" match rows on); None: inferred."""

    @property
    def file_name(self) -> str:
        return self.name or f"figur{self.number}"


@dataclass
class Table:
    """A table of a report: the frame as shown (numbers already written the Swedish way), its
    number and title, the data behind it (raw numbers, written to ``tables/<name>.csv``; the
    shown frame when None) and a Swedish note shown under it."""

    shown: Any
    number: int
    title: str
    data: Any = None
    name: str | None = None
    source: str | None = KOLADA_SOURCE_LINE
    note: str = ""
    """Swedish text (Markdown) shown under the table."""
    index: bool = False
    """Show the frame's index (its first column(s), the row headers)."""
    keys: tuple[str, ...] | None = None
    """Columns of the data CSV that tell its rows apart (see :attr:`Figure.keys`)."""
    group: str | None = None
    """A column of ``shown`` whose values become row groups (a heading row over each run)."""

    @property
    def file_name(self) -> str:
        return self.name or f"tabell{self.number}"


@dataclass
class ReportNotebook:
    """The running notebook: its validated parameters and the folder it writes to.

    Run by hand (``interactive``), it writes into a scratch folder beside
    ``reports/_interactive/<report>/`` (``output_dir``) that :meth:`finish`, the notebook's last
    cell, puts in the place of ``results_dir``: a run that fails on the way leaves the previous
    run's results where they were."""

    params: Any
    output_dir: Path
    interactive: bool = False
    written: list[Path] = field(default_factory=list)
    results_dir: Path | None = None
    """Where :meth:`finish` puts the output (None: it is written in place)."""

    def finish(self) -> None:
        """The notebook's last cell: run by hand, the new results replace the previous run's
        (atomically) and the notebook says where they are; under ``skr-report``, nothing."""
        if not self.interactive or self.results_dir is None:
            return
        if not self.output_dir.is_dir():
            raise RuntimeError(f"{self.output_dir} is gone: run the notebook again from the "
                               "top (it starts with the parameters cell).")
        count = sum(1 for p in self.output_dir.rglob("*") if p.is_file())
        swap_into(self.output_dir, self.results_dir)
        self.output_dir = self.results_dir
        print(f"Klart: {count} filer (tabeller och figurer) i {self.results_dir}.")

    def show(self, *items: Figure | Table | str | Iterable[Any] | None) -> None:
        """Display each item: a Figure, a Table, Swedish text (Markdown) or a list of these;
        None shows nothing."""
        for item in items:
            if item is None:
                continue
            if isinstance(item, Figure):
                self.figure(item)
            elif isinstance(item, Table):
                self.table(item)
            elif isinstance(item, str):
                self.text(item)
            else:
                self.show(*item)

    def text(self, markdown: str) -> None:
        """Swedish text, written in Markdown (Swedish typography: :func:`~helpers.formatting.
        typeset`)."""
        display(Markdown(typeset(markdown)))

    def figure(self, figure: Figure) -> Path:
        """Write ``figures/<name>.svg``, ``.pdf`` and ``.png`` (+ ``.txt`` alt text) and the data
        CSV, then display the figure (its SVG) with its caption metadata and its notes; returns
        the SVG (the PNG when ``image`` is PNG bytes)."""
        folder = self.output_dir / "figures"
        folder.mkdir(parents=True, exist_ok=True)
        name = figure.file_name
        blobs, shown, width_mm = _figure_files(figure)
        for suffix, blob in blobs.items():
            (folder / f"{name}.{suffix}").write_bytes(blob)
            self.written.append(folder / f"{name}.{suffix}")
        (folder / f"{name}.txt").write_text(figure.alt + "\n", encoding="utf-8")
        csv = self._write_csv(figure.data, name)
        show_figure(shown, number=figure.number, title=typeset(figure.title),
                    alt=typeset(figure.alt), csv=csv, source=_typeset(figure.source),
                    width_mm=width_mm,
                    files=[f"figures/{name}.{suffix}" for suffix in blobs], keys=figure.keys)
        if figure.note:  # the long description, linked to the figure by the exporters
            show_description(typeset(figure.note), number=figure.number)
        return folder / f"{name}.{next(iter(blobs))}"

    def table(self, table: Table) -> Path:
        """Write ``tables/<name>.csv`` (the data) and ``tables/<name>.xlsx`` (the table as
        shown, for Excel: :mod:`.excel`) and display the table with its caption metadata and
        its notes; returns the CSV."""
        data = table.shown if table.data is None else table.data
        csv = self._write_csv(data, table.file_name)
        xlsx = self.output_dir / "tables" / f"{table.file_name}.xlsx"
        write_table_xlsx(xlsx, table.shown, number=table.number, title=table.title,
                         source=table.source, csv=csv, index=table.index)
        self.written.append(xlsx)
        show_table(typeset_frame(table.shown), number=table.number, title=typeset(table.title),
                   csv=csv, source=_typeset(table.source), index=table.index, keys=table.keys,
                   group=table.group, xlsx=xlsx.relative_to(self.output_dir).as_posix())
        self._note(table.note)
        return self.output_dir / csv

    def _write_csv(self, frame: Any, name: str) -> str | None:
        if frame is None:
            return None
        path = write_csv(frame, self.output_dir, name)
        self.written.append(path)
        return path.relative_to(self.output_dir).as_posix()

    def _note(self, note: str) -> None:
        if note:
            self.text(note)


def _figure_files(figure: Figure) -> tuple[dict[str, bytes], str | bytes, float | None]:
    """The files of a figure by suffix, what the notebook displays (SVG text, or the PNG) and
    the printed width; a matplotlib figure passed in is saved and closed."""
    image = figure.image
    if isinstance(image, bytes | bytearray):
        return {"png": bytes(image)}, bytes(image), None
    files = image if isinstance(image, FigureFiles) else files_of(image)
    if not isinstance(image, FigureFiles):
        _close(image)
    pdf = figure_pdf(files.svg, f"Figur {figure.number}: {figure.title}", figure.alt)
    blobs = {"svg": files.svg, "pdf": pdf, "png": files.png}
    return blobs, files.svg.decode("utf-8"), files.width_mm


def _typeset(text: str | None) -> str | None:
    return typeset(text) if text else text


def typeset_frame(frame: Any) -> Any:
    """A shown table with Swedish typography in its text cells and headers (the CSV keeps the
    data as written)."""
    if not hasattr(frame, "map"):
        return frame

    def cell(value: Any) -> Any:
        return typeset(value) if isinstance(value, str) else value

    out = frame.map(cell).rename(columns=cell, index=cell)
    out.attrs = dict(frame.attrs)
    return out


def _close(fig: Any) -> None:
    """Close a pyplot figure (a plain ``matplotlib.figure.Figure`` needs nothing)."""
    if plt.fignum_exists(getattr(fig, "number", -1)):
        plt.close(fig)


def start(namespace: Mapping[str, Any], model: type | None = None) -> ReportNotebook:
    """Read the notebook's parameters (the variables of its ``parameters`` cell, validated by
    ``model``, default the model registered for its ``report``) and resolve its output folder.
    Outside ``skr-report`` it also fetches the data the parameters need when they are not in
    ``data/processed`` (:mod:`.interactive`: the commands' sources, cache and fallback), and
    says where the results will be. Tables shown from here on leave out pandas' 0, 1, 2, … row
    numbers."""
    report = namespace.get("report")
    model = model or registered_model(str(report))
    if model is None:
        raise ParamsError(f"the notebook's parameters cell: report {report!r} is not registered. "
                          "Fix: import the report's module (e.g. `from helpers.reports import "
                          "valfard`) before `notebook.start(globals())`, and check `report`.")
    params = model.from_notebook(namespace)
    folder, interactive = paths.output_dir(params.report)
    hide_default_index()
    if not interactive:
        folder.mkdir(parents=True, exist_ok=True)
        return ReportNotebook(params, folder)
    for line in ensure_data(params):
        print(line)
    scratch = _scratch_folder(folder)
    print(f"Interaktiv körning (inte via skr-report): tabeller och figurer skrivs till "
          f"{folder} när sista cellen har körts (förra körningens finns kvar till dess). "
          f"Publicerade rapporter i {paths.REPORTS_DIR} ändras inte; bygg en variant med "
          "`skr-report run params/<fil>.yaml`.")
    return ReportNotebook(params, scratch, interactive=True, results_dir=folder)


def _scratch_folder(results: Path) -> Path:
    """A new folder beside ``results`` for this run (``.<report>.<pid>``); scratch folders of
    runs whose process has ended are removed."""
    results.parent.mkdir(parents=True, exist_ok=True)
    for old in results.parent.glob(f".{results.name}.*"):
        pid = old.name.rsplit(".", 1)[-1]
        if pid.isdigit() and not pid_exists(int(pid)):
            shutil.rmtree(old, ignore_errors=True)
    scratch = results.parent / f".{results.name}.{os.getpid()}"
    shutil.rmtree(scratch, ignore_errors=True)  # this process's earlier run, never finished
    scratch.mkdir()
    return scratch
