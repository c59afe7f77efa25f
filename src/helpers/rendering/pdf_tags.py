"""Row headers in the PDF's structure tree, tagged after Typst has written the PDF.

Typst tags a table's header row (TH, ``/Scope /Column``) and, when every row of a table is in
a row group, the group labels (TH with ``/Scope /Column`` and an ``/ID`` that the rows'
``/Headers`` name). It cannot tag a row header: ``pdf.header-cell(scope: "row")`` needs Typst's
``a11y-extras`` feature, which the ``typst`` wheel does not switch on, so every body cell is a
TD. :func:`tag_row_headers` edits the structure tree with pikepdf instead:

- in each Table that comes from a table model (:mod:`.table_data`) with row headers, and in the
  parameter table of "Om rapporten", the first ``index_columns`` cells of every body row become
  ``/TH`` with ``/Scope /Row`` in their Table attributes and an ``/ID`` (in the IDTree); the
  other cells of the row name them in their ``/Headers``;
- a row-group label that Typst left a data cell (a table where some rows are outside any
  group) becomes a TH with ``/Scope /Column`` like the labels Typst tags itself, and the cells of
  its rows name it in their ``/Headers``.

Which Table is which: the models in document order (:func:`expected_tables`), each matched to
the next Table of the structure tree with exactly its shape (the header row's cells, then one
cell per group label and ``columns`` per body row); a Table of another shape (a table in the
Markdown text) is left as it is. A model without its Table raises :class:`RowHeaderError`.

Nothing else changes: no marked content, no ``/ParentTree`` entry, no page content. The edited
structure elements (and the IDTree's holder) are appended to Typst's bytes as an incremental
update (ISO 32000-1, 7.5.6), so Typst's file, its ``/ID`` and XMP stay as they are and the same
Typst PDF gives the same bytes; ~10 ms for a Välfärd PDF (``bench/bench_pdf_tags.py``). Where
that cannot be done (a file not ending in a classic cross-reference table, an IDTree of kids,
an edited element that is not an indirect object) qpdf writes the whole file again with a
deterministic ``/ID``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from io import BytesIO
from typing import Any

import pikepdf


class RowHeaderError(RuntimeError):
    """A table model has no Table of its shape in the PDF's structure tree."""


@dataclass(frozen=True)
class TableShape:
    """What the PDF's Table of one model looks like and which cells are row headers.

    ``rows`` are the rows under the header row as the PDF has them, in order, each as
    ``(label, group)``: ``label`` is True for a row-group label (one cell across the table),
    ``group`` the index of the row group it labels or belongs to (-1: outside any group).
    """

    name: str
    columns: int
    index_columns: int
    rows: tuple[tuple[bool, int], ...]

    def cells(self) -> list[int]:
        """Cells per row (the header row first), as the PDF's TRs hold them."""
        return [self.columns] + [1 if label else self.columns for label, _ in self.rows]

    def has_headers(self) -> bool:
        """Whether anything in the Table is to be tagged."""
        return any(label or self.index_columns for label, _ in self.rows)


def model_shape(name: str, layout: dict[str, Any]) -> TableShape:
    """The shape of a table item of ``skr.json`` (:func:`.pdf.table_layout`)."""
    body = layout.get("body") or []
    groups = [[int(start), str(label)] for start, label in layout.get("groups") or []]
    starts = [start for start, _ in groups] + [len(body)]
    rows: list[tuple[bool, int]] = [] if groups else [(False, -1)] * len(body)
    for i, (start, label) in enumerate(groups):
        if label:
            rows.append((True, i))
        rows += [(False, i if label else -1)] * (starts[i + 1] - start)
    return TableShape(name, len(layout.get("header") or []),
                      int(layout.get("index_columns", 1)), tuple(rows))


def expected_tables(items: Sequence[dict[str, Any]], parameters: Sequence[Any]) -> list[
        TableShape]:
    """The Tables the PDF holds from models, in document order: every ``skr-table`` item, then
    the parameter table of "Om rapporten" (Parameter, Värde; the names are row headers)."""
    shapes = [model_shape(f"Tabell {it['number']}" if it.get("number") else f"table {n + 1}", it)
              for n, it in enumerate(i for i in items if i.get("call") == "skr-table")]
    if parameters:
        shapes.append(TableShape("Parametrar", 2, 1, ((False, -1),) * len(parameters)))
    return shapes


def _kids(node: Any) -> list[Any]:
    kids = node.get("/K")
    if kids is None:
        return []
    kids = list(kids) if isinstance(kids, pikepdf.Array) else [kids]
    return [k for k in kids if isinstance(k, pikepdf.Dictionary) and "/S" in k]


_NO_TABLES = frozenset(["/P", "/H1", "/H2", "/H3", "/H4", "/H5", "/H6", "/Span", "/Strong", "/Em",
                        "/Link", "/Lbl", "/Caption", "/Figure", "/Formula", "/Code", "/Title",
                        "/Datetime", "/L", "/LI", "/LBody", "/TOC", "/TOCI", "/Note"])
"""Elements (as Typst names them) that hold no table of a model: the walk does not look inside
them (a table in a Markdown list is not one; a model table missed would raise)."""


def _tables(node: Any) -> Iterator[Any]:
    """The Tables under ``node`` in document order."""
    for kid in _kids(node):
        kind = kid.S
        if kind == "/Table":
            yield kid
        elif kind not in _NO_TABLES:
            yield from _tables(kid)


def _rows(table: Any) -> list[list[Any]]:
    """The cells of each TR of a Table, in order (THead, TBody and TFoot alike)."""
    rows = []
    for part in _kids(table):
        trs = [part] if part.S == "/TR" else [k for k in _kids(part) if k.S == "/TR"]
        rows += [[c for c in _kids(tr) if c.S in ("/TH", "/TD")] for tr in trs]
    return rows


_TABLE = pikepdf.Name.Table


def _table_attributes(cell: Any) -> Any:
    """The cell's attribute dictionary owned by /Table (made when it has none)."""
    found = cell.get("/A")
    entries = [] if found is None else list(found) if isinstance(found, pikepdf.Array) else [
        found]
    for entry in entries:
        if isinstance(entry, pikepdf.Dictionary) and entry.get("/O") == _TABLE:
            return entry
    attributes = pikepdf.Dictionary(O=pikepdf.Name.Table)
    cell.A = pikepdf.Array([attributes, *entries])
    return attributes


_ID = re.compile(r"^(.*)x\d+y\d+$")


class _Tagger:
    """Edits the Tables' cells; ``taken`` are the IDs in use, ``added`` the new ones (ID, cell)
    for the IDTree, ``changed`` the indirect objects edited (object number → object)."""

    def __init__(self, taken: set[str]) -> None:
        self.taken = taken
        self.added: list[tuple[str, Any]] = []
        self.changed: dict[tuple[int, int], Any] = {}
        self.direct = False
        """Whether a direct element was edited (its holder is not known: no incremental
        update)."""
        self.prefix = ""

    def edited(self, element: Any) -> None:
        if element.is_indirect:
            self.changed[element.objgen] = element
        else:
            self.direct = True

    def header(self, cell: Any, scope: str, x: int, y: int) -> str:
        """Make ``cell`` a TH of ``scope`` with an ID; returns the ID."""
        cell.S = pikepdf.Name.TH
        _table_attributes(cell).Scope = pikepdf.Name(scope)
        ident = f"{self.prefix}x{x}y{y}"
        while ident in self.taken:
            ident += "r"
        self.taken.add(ident)
        cell.ID = pikepdf.String(ident)
        self.added.append((ident, cell))
        self.edited(cell)
        return ident

    def tag(self, shape: TableShape, rows: list[list[Any]], number: int) -> None:
        """Tag the row headers and group labels of the Table ``number`` (from 1) of the
        document, whose TRs hold the cells ``rows``; new IDs follow Typst's (``U2x0y3``)."""
        first = next((str(c.ID) for c in rows[0] if "/ID" in c), "")
        match = _ID.match(first)
        self.prefix = match.group(1) if match else f"R{number}"
        group_ids: dict[int, str] = {}  # the group labels tagged here (not by Typst)
        for y, ((label, group), cells) in enumerate(zip(shape.rows, rows[1:], strict=True), 1):
            if label:
                if cells[0].S == "/TD":
                    group_ids[group] = self.header(cells[0], "/Column", 0, y)
                continue
            heads = [self.header(cells[x], "/Row", x, y) for x in range(shape.index_columns)]
            extra = [group_ids[group]] if group in group_ids else []
            for x, cell in enumerate(cells):
                names = heads[:x] + extra
                if names:
                    attributes = _table_attributes(cell)
                    if "/Headers" in attributes:
                        attributes.Headers.extend(map(pikepdf.String, names))
                    else:
                        attributes.Headers = pikepdf.Array(map(pikepdf.String, names))
                    self.edited(cell)


def _id_entries(tree: Any) -> list[Any] | None:
    """The flat ``/Names`` array of a name tree as Typst writes it; None for a tree of kids."""
    names = tree.get("/Names")
    return list(names) if isinstance(names, pikepdf.Array) and "/Kids" not in tree else None


def _taken_ids(root: Any) -> set[str]:
    if "/IDTree" not in root:
        return set()
    entries = _id_entries(root.IDTree)
    if entries is not None:
        return {str(key) for key in entries[::2]}
    return {str(key) for key, _ in pikepdf.NameTree(root.IDTree).items()}


def _add_ids(root: Any, tagger: _Tagger) -> bool:
    """Put the new IDs in the IDTree, keeping its keys sorted: one flat array written at once
    (inserting one by one with ``pikepdf.NameTree`` costs ~0.2 ms an ID). False when the tree
    has kids (pikepdf keeps it balanced, which may add objects: no incremental update)."""
    if "/IDTree" not in root:
        root.IDTree = pikepdf.Dictionary(Names=pikepdf.Array())
    entries = _id_entries(root.IDTree)
    if entries is None:  # a tree of kids: pikepdf keeps it balanced
        tree = pikepdf.NameTree(root.IDTree)
        for ident, cell in tagger.added:
            tree[ident] = cell
        return False
    pairs = list(zip(entries[::2], entries[1::2], strict=True))
    pairs += [(pikepdf.String(ident), cell) for ident, cell in tagger.added]
    pairs.sort(key=lambda pair: bytes(pair[0]))
    root.IDTree.Names = pikepdf.Array([item for pair in pairs for item in pair])
    tagger.edited(root.IDTree if root.IDTree.is_indirect else root)
    return True


_STARTXREF = re.compile(rb"startxref\s+(\d+)\s+%%EOF\s*$")


def _incremental(pdf: bytes, doc: pikepdf.Pdf,
                 changed: dict[tuple[int, int], Any]) -> bytes | None:
    """``pdf`` with the ``changed`` objects appended as an incremental update (ISO 32000-1,
    7.5.6): a cross-reference section for them and a trailer pointing back at Typst's. The
    original bytes, its ``/ID`` and XMP stay as they are; Typst writes a classic
    cross-reference table, which the update continues (None for a file that ends otherwise)."""
    found = _STARTXREF.search(pdf[-1024:])
    if found is None or not pdf[int(found.group(1)):].startswith(b"xref"):
        return None
    out = bytearray(pdf if pdf.endswith(b"\n") else pdf + b"\n")
    offsets = []
    for (number, generation), element in sorted(changed.items()):
        offsets.append((number, generation, len(out)))
        out += b"%d %d obj\n%s\nendobj\n" % (number, generation, element.unparse(resolved=True))
    table = len(out)
    out += b"xref\n"
    runs: list[list[tuple[int, int, int]]] = []
    for entry in offsets:
        if runs and runs[-1][-1][0] + 1 == entry[0]:
            runs[-1].append(entry)
        else:
            runs.append([entry])
    for run in runs:
        out += b"%d %d\n" % (run[0][0], len(run))
        out += b"".join(b"%010d %05d n\r\n" % (offset, gen) for _, gen, offset in run)
    trailer = pikepdf.Dictionary({k: v for k, v in doc.trailer.items() if k != "/Prev"})
    trailer.Prev = int(found.group(1))
    out += b"trailer\n%s\nstartxref\n%d\n%%%%EOF\n" % (trailer.unparse(), table)
    return bytes(out)


def _tag_tables(root: Any, shapes: Sequence[TableShape], tagger: _Tagger) -> None:
    """Match each shape to the next Table of its shape and tag it."""
    pending = list(shapes)
    for number, table in enumerate(_tables(root), start=1):
        if not pending:
            break
        rows = _rows(table)
        if [len(r) for r in rows] == pending[0].cells():
            tagger.tag(pending.pop(0), rows, number)
    if pending:
        raise RowHeaderError(f"{pending[0].name}: no Table of its shape "
                             f"({pending[0].columns} columns, {len(pending[0].rows)} rows) "
                             "in the PDF's structure tree")


def tag_row_headers(pdf: bytes, shapes: Sequence[TableShape]) -> bytes:
    """``pdf`` (Typst's tagged PDF) with the row headers of the tables ``shapes`` tagged (see
    the module docstring); ``pdf`` itself when no table has row headers.

    The edited structure elements are appended as an incremental update (a few ms); where
    that cannot be done, qpdf writes the whole file again with a deterministic ``/ID``."""
    if not any(shape.has_headers() for shape in shapes):
        return pdf
    with pikepdf.open(BytesIO(pdf)) as doc:
        root = doc.Root.StructTreeRoot
        tagger = _Tagger(_taken_ids(root))
        _tag_tables(root, shapes, tagger)
        flat = _add_ids(root, tagger)
        updated = None if tagger.direct or not flat else _incremental(pdf, doc, tagger.changed)
        if updated is not None:
            return updated
        out = BytesIO()
        doc.save(out, deterministic_id=True, fix_metadata_version=False)
    return out.getvalue()
