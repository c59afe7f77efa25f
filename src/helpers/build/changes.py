"""What changed between two versions of a report variant: the section "Ändringar sedan förra
versionen" of a rebuilt report and the output of ``skr-report diff A B``.

A version is a variant folder (``reports/<variant>/`` or the ``previous/`` copy kept beside it):
``tables/*.csv`` (the data of every table and figure), ``figures/*`` and ``manifest.json``.
:func:`compare` reads two of them and finds

- the tables and figures that changed (a figure when its image or the table behind it did);
- cell by cell, the values that changed (before → after), largest first within each table;
- the rows that appeared or disappeared;
- every statement of "Rapportens påståenden prövade mot data" whose verdict changed.

Rows are matched by key columns: those a report declares for a table (``keys``), else the
text columns, left to right, until they identify every row in both versions (a column that
holds one value per version, such as the data year, is no key: its change is reported once).
Where no text columns do, rows are matched by their order among equal keys. Numbers are
compared as numbers (equal within 1e-9 relative), everything else as text.

The comparison is pandas (outer alignment on the keys, then a column-wise comparison): the
well-kept table-diff libraries do not fit here — datacompy 1.1 requires pandas < 3.1 and polars
(the project runs pandas 3.1), daff and csv-diff compare text (no tolerance, no size of a
change) and csv-diff matches on a single key column.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from helpers.formatting import format_number, swedish_date

MANIFEST = "manifest.json"
TABLES = "tables"
FIGURES = "figures"
CLAIM = "Påstående i rapporten"
VERDICT = "Stöds av data"
NAME_COLUMNS = {"kommun": "kommunnamn"}
"""Code columns and the column beside them that names the code."""
OCCURRENCE = "#"
"""Key column added when rows can only be matched by their order among equal keys."""
REL_TOL = 1e-9
ABS_TOL = 1e-12
FIGURE_SUFFIXES = (".png", ".svg", ".jpg", ".jpeg")
VERDICT_TENSES = {
    "ja": ("höll", "håller"),
    "nej": ("höll inte", "håller inte"),
    "delvis": ("höll delvis", "håller delvis"),
    "kan inte prövas": ("kunde inte prövas", "kan inte prövas"),
}
"""A verdict of the statements table in the past (previous version) and present tense."""
_NUMBER = re.compile(r"^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$")
_INTEGER = re.compile(r"^[-+]?\d+$")
_CODE = re.compile(r"^0\d")
"""A leading zero makes a code (kommun 0180), not a number."""


# --- versions ------------------------------------------------------------------------------


def _swedish_date(moment: str | None) -> str:
    try:
        return swedish_date(moment)
    except ValueError:
        return str(moment)[:10]


@dataclass(frozen=True)
class Version:
    """One version of a variant: its folder and manifest (empty when it has none)."""

    folder: Path
    manifest: Mapping[str, Any]

    @classmethod
    def read(cls, folder: Path) -> Version:
        try:
            manifest = json.loads((Path(folder) / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            manifest = {}
        return cls(Path(folder), manifest if isinstance(manifest, dict) else {})

    @property
    def data(self) -> Mapping[str, Any]:
        return self.manifest.get("data") or {}

    @property
    def year(self) -> int | None:
        years = self.data.get("years") or []
        return int(years[0]) if years else None

    @property
    def fetched(self) -> str:
        return _swedish_date(self.data.get("fetched_at"))

    def describe(self) -> str:
        """"data för 2022, hämtade 2 december 2026"."""
        parts = []
        if self.year is not None:
            parts.append(f"data för {self.year}")
        if self.fetched:
            parts.append(f"hämtade {self.fetched}")
        return ", ".join(parts) or "uppgift om data saknas"

    def tables(self) -> dict[str, Path]:
        """Table name (``figur1.csv``) → file; a kept previous version has them gzipped."""
        folder = self.folder / TABLES
        if not folder.is_dir():
            return {}
        found = {p.name.removesuffix(".gz"): p for p in sorted(folder.glob("*.csv.gz"))}
        found.update({p.name: p for p in sorted(folder.glob("*.csv"))})
        return dict(sorted(found.items()))

    def figures(self) -> dict[str, str]:
        """Figure file → sha256, from the manifest or, without one, from the files."""
        outputs = self.manifest.get("outputs") or {}
        found = {Path(name).name: digest for name, digest in outputs.items()
                 if name.startswith(f"{FIGURES}/") and name.lower().endswith(FIGURE_SUFFIXES)}
        if found or outputs:
            return found
        folder = self.folder / FIGURES
        if not folder.is_dir():
            return {}
        return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted(folder.iterdir()) if p.suffix.lower() in FIGURE_SUFFIXES}


# --- one table -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CellChange:
    table: str
    row: tuple[str, ...]
    """The key values that tell the row apart (those that vary within the table)."""
    column: str
    before: str
    after: str
    delta: float | None
    decimals: int = 1


@dataclass
class TableChange:
    name: str
    label: str
    state: str
    """"ändrad", "ny", "borttagen" or "oförändrad"."""
    keys: list[str] = field(default_factory=list)
    cells: list[CellChange] = field(default_factory=list)
    added: list[tuple[str, ...]] = field(default_factory=list)
    removed: list[tuple[str, ...]] = field(default_factory=list)
    columns_added: list[str] = field(default_factory=list)
    columns_removed: list[str] = field(default_factory=list)
    moved: dict[str, tuple[str, str]] = field(default_factory=dict)
    """Columns with one value per version that changed (the data year: ``ar``)."""
    hidden: int = 0
    """Numbers that changed by less than the report's decimals show (not in ``cells``)."""

    @property
    def changed(self) -> bool:
        return self.state != "oförändrad"


def read_table(path: Path) -> pd.DataFrame:
    """A CSV (or ``.csv.gz``) as text (empty cells as ""), so codes such as 0180 stay as
    written."""
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def label_of(name: str) -> str:
    """``figur1.csv`` → "Figur 1", ``tabell2.csv`` → "Tabell 2", else the file name."""
    found = re.fullmatch(r"(figur|tabell)(\d+)\.\w+", name)
    if found:
        return f"{found.group(1).capitalize()} {int(found.group(2))}"
    return name


def column_kind(values: pd.Series) -> str:
    """"int", "float" or "text" for a column of CSV text."""
    present = values[values != ""]
    if present.empty or present.str.match(_CODE.pattern).any():
        return "text"
    if present.str.fullmatch(_INTEGER.pattern).all():
        return "int"
    if present.str.fullmatch(_NUMBER.pattern).all():
        return "float"
    return "text"


def _unique(frame: pd.DataFrame, keys: list[str]) -> bool:
    return not frame.duplicated(subset=keys).any() if keys else len(frame) <= 1


def _constant(frame: pd.DataFrame, column: str) -> bool:
    return frame[column].nunique(dropna=False) <= 1


def infer_keys(old: pd.DataFrame, new: pd.DataFrame) -> list[str]:
    """Text columns, left to right, until they identify every row of both versions (see the
    module docstring); ``[]`` when no text column varies."""
    if CLAIM in old.columns and CLAIM in new.columns:
        return [CLAIM]
    common = [c for c in new.columns if c in old.columns]
    both = pd.concat([old[common], new[common]], ignore_index=True)
    candidates = [c for c in common if column_kind(both[c]) == "text"
                  and not (_constant(old, c) and _constant(new, c))]
    keys: list[str] = []
    for column in candidates:
        keys.append(column)
        if _unique(old, keys) and _unique(new, keys):
            return keys
    return keys


def _with_occurrence(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    frame = frame.copy()
    frame[OCCURRENCE] = (frame.groupby(keys, sort=False).cumcount() if keys
                         else np.arange(len(frame))).astype(str)
    return frame


def _decimals(kind: str, numbers: pd.Series) -> int:
    if kind == "int":
        return 0
    largest = numbers.abs().max()
    return 2 if pd.notna(largest) and largest < 1.5 else 1


def compare_tables(name: str, old: pd.DataFrame | None, new: pd.DataFrame | None,
                   keys: Sequence[str] | None = None, label: str | None = None) -> TableChange:
    """The changes of one table (``old``/``new`` None: the table is new / gone)."""
    label = label or label_of(name)
    if old is None or new is None:
        return TableChange(name, label, "ny" if old is None else "borttagen")
    result = TableChange(name, label, "oförändrad")
    result.columns_added = [c for c in new.columns if c not in old.columns]
    result.columns_removed = [c for c in old.columns if c not in new.columns]
    common = [c for c in new.columns if c in old.columns]
    for column in common:
        if _constant(old, column) and _constant(new, column) and len(old) and len(new):
            before, after = str(old[column].iloc[0]), str(new[column].iloc[0])
            if before != after:
                result.moved[column] = (before, after)
    keys = list(keys) if keys and all(k in common for k in keys) else infer_keys(old, new)
    if not (_unique(old, keys) and _unique(new, keys)):
        old, new = _with_occurrence(old, keys), _with_occurrence(new, keys)
        keys = [*keys, OCCURRENCE]
    result.keys = keys
    old_rows, new_rows = old.set_index(keys), new.set_index(keys)
    shown = [k for k in keys if k == OCCURRENCE
             or not (_constant(old, k) and _constant(new, k))] or keys

    names = _names(old, new, shown)

    def row_label(index: Any) -> tuple[str, ...]:
        values = index if isinstance(index, tuple) else (index,)
        named = dict(zip(keys, values, strict=True))
        if OCCURRENCE in named:  # rows told apart by their order: "nr 2"
            named[OCCURRENCE] = f"nr {int(named[OCCURRENCE]) + 1}"
        for column, by_code in names.items():  # "Motala (0583)" rather than "0583"
            if by_code.get(named[column]):
                named[column] = f"{by_code[named[column]]} ({named[column]})"
        return tuple(str(named[k]) for k in shown if str(named[k]) != "")

    result.removed = [row_label(i) for i in old_rows.index.difference(new_rows.index, sort=False)]
    result.added = [row_label(i) for i in new_rows.index.difference(old_rows.index, sort=False)]
    matched = new_rows.index.intersection(old_rows.index, sort=False)
    values = [c for c in common if c not in keys and c not in result.moved]
    cells: list[CellChange] = []
    for column in values:
        found, hidden = _column_changes(name, column, old_rows.loc[matched, column],
                                        new_rows.loc[matched, column], matched, row_label)
        cells += found
        result.hidden += hidden
    result.cells = sorted(cells, key=_size_order)
    if (result.cells or result.hidden or result.added or result.removed or result.moved
            or result.columns_added or result.columns_removed):
        result.state = "ändrad"
    return result



def _column_changes(name: str, column: str, before: pd.Series, after: pd.Series, matched: Any,
                    row_label: Any) -> tuple[list[CellChange], int]:
    """The changed cells of one column of matched rows, and how many numbers changed by less
    than the report's decimals show."""
    kind = column_kind(pd.concat([before, after]))
    if kind == "text":
        differs = before.to_numpy() != after.to_numpy()
        return [CellChange(name, row_label(i), column, b, a, None)
                for i, b, a in zip(matched[differs], before[differs], after[differs],
                                   strict=True)], 0
    a = pd.to_numeric(before, errors="coerce").to_numpy(dtype=float)
    b = pd.to_numeric(after, errors="coerce").to_numpy(dtype=float)
    both = ~np.isnan(a) & ~np.isnan(b)
    same = np.isnan(a) & np.isnan(b)
    same[both] = np.isclose(a[both], b[both], rtol=REL_TOL, atol=ABS_TOL)
    decimals = _decimals(kind, pd.Series(np.concatenate([a, b])))
    cells, hidden = [], 0
    for i in np.flatnonzero(~same):
        if both[i] and number_text(before.iloc[i], decimals) == number_text(after.iloc[i],
                                                                         decimals):
            hidden += 1
            continue
        delta = float(b[i] - a[i]) if both[i] else None
        cells.append(CellChange(name, row_label(matched[i]), column, before.iloc[i],
                                after.iloc[i], delta, decimals))
    return cells, hidden


def _names(old: pd.DataFrame, new: pd.DataFrame, keys: Sequence[str]) -> dict[str, dict]:
    """Code → name for key columns that have a name column beside them (``kommun``,
    ``kommunnamn``), so rows are labelled the way a reader knows them."""
    found = {}
    for column, name in NAME_COLUMNS.items():
        if column in keys and all(c in f.columns for f in (old, new) for c in (column, name)):
            both = pd.concat([old[[column, name]], new[[column, name]]])
            found[column] = dict(zip(both[column], both[name], strict=True))
    return found


def _size_order(cell: CellChange) -> tuple[int, float]:
    """Numbers by the size of the change first, then values that appeared or went, then text."""
    if cell.delta is not None:
        return 0, -abs(cell.delta)
    return (1 if _NUMBER.match(cell.before or cell.after or "x") else 2), 0.0


# --- statements ----------------------------------------------------------------------------


@dataclass(frozen=True)
class VerdictChange:
    claim: str
    before: str
    after: str

    def text(self, before_when: str, after_when: str) -> str:
        """"höll 2022 – håller inte 2023"."""
        past = VERDICT_TENSES.get(self.before, (self.before, self.before))[0]
        present = VERDICT_TENSES.get(self.after, (self.after, self.after))[1]
        return f"{past} {before_when} – {present} {after_when}".replace("  ", " ").strip()


def verdict_changes(old: pd.DataFrame, new: pd.DataFrame) -> list[VerdictChange]:
    """Statements (``Påstående i rapporten``) whose verdict (``Stöds av data``) changed."""
    if not {CLAIM, VERDICT} <= set(old.columns) or not {CLAIM, VERDICT} <= set(new.columns):
        return []
    before = dict(zip(old[CLAIM], old[VERDICT], strict=True))
    return [VerdictChange(claim, before[claim], verdict)
            for claim, verdict in zip(new[CLAIM], new[VERDICT], strict=True)
            if claim in before and before[claim] != verdict]


# --- two versions --------------------------------------------------------------------------


@dataclass
class Changes:
    before: Version
    after: Version
    tables: list[TableChange]
    figures: dict[str, str]
    """Figure file → "ändrad", "ny" or "borttagen"."""
    verdicts: list[VerdictChange]

    @property
    def changed_tables(self) -> list[TableChange]:
        return [t for t in self.tables if t.changed]

    @property
    def unchanged(self) -> bool:
        return not self.changed_tables and not self.figures

    def pieces(self) -> tuple[list[str], list[str]]:
        """Labels of the figures and tables that changed, and of those that did not."""
        changed_tables = {t.label for t in self.changed_tables}
        figures = {label_of(Path(name).stem + ".csv") for name in self.figures}
        labels = {t.label for t in self.tables} | {label_of(Path(n).stem + ".csv")
                                                   for n in self.after.figures()}
        changed = changed_tables | figures
        return _ordered(changed), _ordered(labels - changed)

    def largest(self, per_table: int = 3, limit: int = 12) -> list[CellChange]:
        """The largest changes of numbers: the first ``per_table`` of every changed table, at
        most ``limit`` in all (tables in report order; text changes are not sizes)."""
        picked = [cell for table in sorted(self.changed_tables, key=lambda t: _order(t.label))
                  for cell in [c for c in table.cells if _is_number_change(c)][:per_table]]
        return picked[:limit]

    def when(self) -> tuple[str, str]:
        """How the two versions are told apart in a sentence: their data years, or else."""
        if self.before.year != self.after.year and None not in (self.before.year,
                                                                  self.after.year):
            return str(self.before.year), str(self.after.year)
        if self.before.fetched and self.after.fetched and \
                self.before.fetched != self.after.fetched:
            return (f"(data hämtade {self.before.fetched})",
                    f"(data hämtade {self.after.fetched})")
        return "i förra versionen", "i den här versionen"

def number_text(text: str, decimals: int) -> str:
    """A CSV value in the report's number format (decimal comma, U+2212); "saknas" for an
    empty cell; text as it is."""
    if text == "":
        return "saknas"
    try:
        value = float(text)
    except ValueError:
        return text
    return format_number(value, decimals) if math.isfinite(value) else text



def _is_number_change(cell: CellChange) -> bool:
    return cell.delta is not None or bool(_NUMBER.match(cell.before or cell.after or "x"))


def _order(label: str) -> tuple[int, int, str]:
    found = re.fullmatch(r"(Figur|Tabell) (\d+)", label)
    if found:
        return (0 if found.group(1) == "Figur" else 1), int(found.group(2)), ""
    return 2, 0, label


def _ordered(labels: set[str]) -> list[str]:
    return sorted(labels, key=_order)


def compare(before: Path, after: Path, *, keys: Mapping[str, Sequence[str]] | None = None,
            labels: Mapping[str, str] | None = None,
            after_manifest: Mapping[str, Any] | None = None) -> Changes:
    """The changes from the variant folder ``before`` to ``after``; ``keys`` and ``labels`` by
    table file name (``figur1.csv``) override what is inferred; ``after_manifest`` stands in
    for the manifest of a folder that has none yet (a build's staging folder)."""
    old = Version.read(before)
    new = Version(Path(after), after_manifest) if after_manifest is not None \
        else Version.read(after)
    keys, labels = keys or {}, labels or {}
    old_tables, new_tables = old.tables(), new.tables()
    tables, verdicts = [], []
    for name in sorted(set(old_tables) | set(new_tables), key=lambda n: _order(label_of(n))):
        a = read_table(old_tables[name]) if name in old_tables else None
        b = read_table(new_tables[name]) if name in new_tables else None
        tables.append(compare_tables(name, a, b, keys.get(name), labels.get(name)))
        if a is not None and b is not None:
            verdicts += verdict_changes(a, b)
    old_figures, new_figures = old.figures(), new.figures()
    figures = {}
    for name in sorted(set(old_figures) | set(new_figures)):
        if name not in old_figures:
            figures[name] = "ny"
        elif name not in new_figures:
            figures[name] = "borttagen"
        elif old_figures[name] != new_figures[name]:
            figures[name] = "ändrad"
    return Changes(old, new, tables, figures, verdicts)


def compare_folders(before: Path, after: Path,
                    after_manifest: Mapping[str, Any] | None = None) -> Changes:
    """:func:`compare` with the key columns and labels the report declared for its tables (the
    manifests' ``tables``; the newer version's where both say)."""
    declared: dict[str, Any] = dict(Version.read(before).manifest.get("tables") or {})
    declared.update((after_manifest if after_manifest is not None
                     else Version.read(after).manifest).get("tables") or {})
    keys = {Path(csv).name: list(entry["keys"]) for csv, entry in declared.items()
            if isinstance(entry, Mapping) and entry.get("keys")}
    labels = {Path(csv).name: str(entry["label"]) for csv, entry in declared.items()
              if isinstance(entry, Mapping) and entry.get("label")}
    return compare(before, after, keys=keys, labels=labels, after_manifest=after_manifest)


__all__ = [
    "CLAIM",
    "VERDICT",
    "CellChange",
    "Changes",
    "TableChange",
    "VerdictChange",
    "Version",
    "compare",
    "compare_folders",
    "compare_tables",
    "infer_keys",
    "label_of",
    "number_text",
    "read_table",
    "verdict_changes",
]
