"""Kolada's v3 API answered from a recorded snapshot folder (the replay's Kolada half).

The snapshot folder holds ``kpi.json``, ``kpi_groups.json``, ``municipality.json``,
``municipality_groups.json`` (each one v3 response envelope) and ``values.csv.gz`` (columns
``kpi, municipality, period, gender, value``); ``ou.json`` is optional. :class:`ReplayApi`
answers the v3 paths with the live API's behaviour (see ``../shared/kolada/README.md``):
metadata by id list or ``?title=``, data paths with two or three parts of at most 25 ids, paging
with absolute ``next_url``/``previous_url``, municipality groups as the unweighted mean of their
members, and the deprecation body on ``/v2``. :mod:`.server` serves it over HTTP.
"""

from __future__ import annotations

import functools
import json
import logging
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

import pandas as pd

from helpers.sources.identity import SourceIdentity, recording_identity

log = logging.getLogger(__name__)

ENTITIES = ("kpi", "kpi_groups", "municipality", "municipality_groups", "ou")
GENDERS = ("T", "K", "M")
MAX_IDS = 25
MAX_PER_PAGE = 5000
DEFAULT_PER_PAGE = 5000
DATA_FORMS = (("kpi", "municipality", "year"), ("kpi", "year"), ("kpi", "municipality"),
              ("municipality", "year"))
DEPRECATION_BODY = {"error": "This endpoint is deprecated. Please use /v3 instead."}
# The shut-down v2 API answers with a JSON body; clients must detect it from the body alone.
DEPRECATION_STATUS = 200
SNAPSHOT_FILES = ("kpi.json", "kpi_groups.json", "municipality.json", "municipality_groups.json",
                  "values.csv.gz")
QUERY_CACHE_SIZE = 16


class ApiError(Exception):
    """An error answered as ``status`` with the JSON body ``{"error": ..., "detail": ...}``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


# --------------------------------------------------------------------------- snapshot


class Records:
    """The sorted data records of one query as plain Python columns, cheap to page through."""

    def __init__(self, frame: pd.DataFrame, kpi_genders: dict[str, tuple[str, ...]]) -> None:
        self.kpi = frame["kpi"].tolist()
        self.municipality = frame["municipality"].tolist()
        self.period = [int(p) for p in frame["period"].tolist()]
        self.values = {g: [None if v != v else v for v in frame[g].tolist()] for g in GENDERS}
        self.counts = {g: [int(n) for n in frame[f"n_{g}"].tolist()] for g in GENDERS}
        self.kpi_genders = kpi_genders

    def __len__(self) -> int:
        return len(self.kpi)

    def page(self, start: int, stop: int) -> list[dict[str, Any]]:
        """The records at positions ``start:stop`` in the v3 data record shape."""
        return [self._record(i) for i in range(start, min(stop, len(self)))]

    def _record(self, i: int) -> dict[str, Any]:
        genders = self.kpi_genders.get(self.kpi[i], ("T",))
        values = [{"gender": g, "count": self.counts[g][i], "status": "",
                   "value": self.values[g][i], "isdeleted": False} for g in genders]
        return {"kpi": self.kpi[i], "municipality": self.municipality[i],
                "period": self.period[i], "values": values}


def check_snapshot_folder(folder: Path) -> None:
    """FileNotFoundError naming the files a snapshot folder lacks, and the fix."""
    missing = [name for name in SNAPSHOT_FILES if not (Path(folder) / name).is_file()]
    if missing:
        raise FileNotFoundError(
            f"Kolada snapshot folder {folder} lacks {', '.join(missing)}; point "
            "--snapshot (or SKR_SHARED_DIR) at a folder in the format of ../shared/kolada.")


def snapshot_identity(folder: Path) -> SourceIdentity:
    """The recorded snapshot in ``folder`` as a data source (the digest of its data files and
    its stated vintage), whether served by a replay or read offline."""
    names = (*SNAPSHOT_FILES, "ou.json", "snapshot.json")
    return recording_identity("kolada", [Path(folder) / name for name in names])


def read_vintage(folder: Path) -> str:
    """The snapshot's vintage, sent with every answer as ``X-Kolada-Snapshot``, so that reports
    built on the recorded snapshot say which state of Kolada they show rather than when the
    replay was read.

    From ``snapshot.json`` (machine-readable: ``values.recorded``, ``values.years``,
    ``metadata[].recorded``) as compact ASCII JSON; a folder without it falls back to the
    README's table of files (``file vintage; …``).
    """
    stated = Path(folder) / "snapshot.json"
    if stated.is_file():
        try:
            data = json.loads(stated.read_text(encoding="utf-8"))
        except ValueError:
            data = None
        if isinstance(data, dict):
            kept = {key: data[key] for key in ("source", "values", "metadata") if key in data}
            return json.dumps(kept, ensure_ascii=True, separators=(",", ":"))
    readme = Path(folder) / "README.md"
    if not readme.is_file():
        return "recorded snapshot (vintage not stated)"
    vintages = []
    for line in readme.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and cells[0].startswith("`") and cells[0].endswith("`"):
            vintages.append(f"{cells[0].strip('`')} {cells[2]}")
    return "; ".join(vintages) or "recorded snapshot (vintage not stated)"


class Snapshot:
    """A snapshot folder loaded into memory: metadata lists and a values table indexed by KPI."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        check_snapshot_folder(self.folder)
        self.metadata = {entity: self._read_entity(entity) for entity in ENTITIES}
        self.group_members = {
            g["id"]: tuple(m["member_id"] for m in g.get("members", []))
            for g in self.metadata["municipality_groups"]
        }
        long = self._read_values()
        self.kpi_genders = self._genders_by_kpi(long)
        self.wide = self._widen(long)
        self.kpi_slices = self._slices(self.wide)
        self.records = functools.lru_cache(maxsize=QUERY_CACHE_SIZE)(self._records)
        self.vintage = read_vintage(self.folder)

    def _read_entity(self, entity: str) -> list[dict[str, Any]]:
        path = self.folder / f"{entity}.json"
        if not path.is_file():
            return []
        return json.loads(path.read_text(encoding="utf-8"))["values"]

    def _read_values(self) -> pd.DataFrame:
        frame = pd.read_csv(self.folder / "values.csv.gz",
                            dtype={"kpi": str, "municipality": str, "gender": str})
        frame["period"] = frame["period"].astype("int64")
        return frame

    @staticmethod
    def _genders_by_kpi(long: pd.DataFrame) -> dict[str, tuple[str, ...]]:
        present = long.groupby("kpi")["gender"].unique()
        return {kpi: tuple(g for g in GENDERS if g in set(gs)) for kpi, gs in present.items()}

    @staticmethod
    def _widen(long: pd.DataFrame) -> pd.DataFrame:
        """One row per (kpi, municipality, period), a value column per gender, sorted."""
        wide = long.pivot(index=["kpi", "municipality", "period"], columns="gender",
                          values="value")
        wide = wide.reindex(columns=list(GENDERS)).sort_index().reset_index()
        wide.columns.name = None
        for g in GENDERS:
            wide[f"n_{g}"] = 1
        return wide

    @staticmethod
    def _slices(wide: pd.DataFrame) -> dict[str, slice]:
        bounds = wide.groupby("kpi", sort=False).indices
        return {kpi: slice(int(pos[0]), int(pos[-1]) + 1) for kpi, pos in bounds.items()}

    def metadata_values(self, entity: str, ids: list[str] | None,
                        title: str | None) -> list[dict[str, Any]]:
        """Metadata objects of ``entity``, filtered by id list and case-insensitive title part."""
        items = self.metadata[entity]
        if ids is not None:
            wanted = set(ids)
            items = [item for item in items if item.get("id") in wanted]
        if title:
            needle = title.casefold()
            items = [item for item in items if needle in str(item.get("title", "")).casefold()]
        return items

    def _records(self, kpis: tuple[str, ...] | None, municipalities: tuple[str, ...] | None,
                 years: tuple[int, ...] | None) -> Records:
        """The records for normalised (sorted, unique) id tuples; ``None`` means every id."""
        base = self._select_kpis(kpis)
        if years is not None:
            base = base[base["period"].isin(years)]
        if municipalities is None:
            frame = base
        else:
            groups = [m for m in municipalities if m in self.group_members]
            plain = [m for m in municipalities if m not in self.group_members]
            parts = [base[base["municipality"].isin(plain)]]
            parts += [self._group_mean(base, g) for g in groups]
            frame = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
            frame = frame.sort_values(["kpi", "municipality", "period"], kind="stable")
        return Records(frame, self.kpi_genders)

    def _select_kpis(self, kpis: tuple[str, ...] | None) -> pd.DataFrame:
        if kpis is None:
            return self.wide
        slices = [self.kpi_slices[k] for k in kpis if k in self.kpi_slices]
        if not slices:
            return self.wide.iloc[0:0]
        return pd.concat([self.wide.iloc[s] for s in slices], ignore_index=True)

    def _group_mean(self, base: pd.DataFrame, group_id: str) -> pd.DataFrame:
        """Unweighted mean of the members per (kpi, period, gender); ``n_*`` = contributors."""
        members = base[base["municipality"].isin(self.group_members[group_id])]
        grouped = members.groupby(["kpi", "period"], sort=True)[list(GENDERS)]
        counts = grouped.count().add_prefix("n_")
        frame = grouped.mean().join(counts).reset_index()
        frame.insert(1, "municipality", group_id)
        return frame[self.wide.columns]


@functools.lru_cache(maxsize=4)
def load_snapshot(folder: Path) -> Snapshot:
    """The snapshot in ``folder``, loaded once per process (servers over one folder share it)."""
    return Snapshot(folder)


# --------------------------------------------------------------------------- API


class ReplayApi:
    """Answers one GET request (path with query) as (status, JSON body, extra headers)."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot

    def handle(self, target: str, host: str) -> tuple[int, Any, dict[str, str]]:
        url = urlsplit(target)
        path = unquote(url.path).rstrip("/")
        query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        if path == "/v2" or path.startswith("/v2/"):
            return DEPRECATION_STATUS, DEPRECATION_BODY, {}
        try:
            return 200, self._route(path, query, f"http://{host}{url.path}"), {}
        except ApiError as exc:
            return exc.status, {"error": exc.message, "detail": exc.message}, {}

    def _route(self, path: str, query: dict[str, str], page_base: str) -> dict[str, Any]:
        parts = path.split("/")[1:]
        if len(parts) < 2 or parts[0] != "v3":
            raise ApiError(404, f"Not found: {path}. The API lives under /v3.")
        if parts[1] == "data":
            return self._data(parts[2:], query, page_base)
        if parts[1] in ENTITIES and len(parts) <= 3:
            ids = _split_ids(parts[2]) if len(parts) == 3 else None
            items = self.snapshot.metadata_values(parts[1], ids, query.get("title"))
            return _paged(items, len(items), query, page_base)
        raise ApiError(404, f"Not found: {path}. Metadata entities: {', '.join(ENTITIES)}; "
                            "data: /v3/data/kpi/{K}/municipality/{M}/year/{Y}.")

    def _data(self, segments: list[str], query: dict[str, str],
              page_base: str) -> dict[str, Any]:
        keys = tuple(segments[0::2])
        if len(segments) % 2 or keys not in DATA_FORMS:
            raise ApiError(404, "Data paths are /v3/data/kpi/{K}/municipality/{M}/year/{Y} or "
                                "any two of these three parts, in this order.")
        found = dict(zip(keys, segments[1::2], strict=True))
        ids = {key: _split_ids(found[key], key) if key in found else None
               for key in ("kpi", "municipality", "year")}
        years = None if ids["year"] is None else tuple(sorted({_year(y) for y in ids["year"]}))
        records = self.snapshot.records(_norm(ids["kpi"]), _norm(ids["municipality"]), years)
        return _paged(records, len(records), query, page_base)


def _split_ids(text: str, part: str | None = None) -> list[str]:
    ids = [i.strip() for i in text.split(",") if i.strip()]
    if part is not None and len(ids) > MAX_IDS:
        raise ApiError(422, f"Too many ids in the {part} part: {len(ids)} given, at most "
                            f"{MAX_IDS} allowed per part. Split the request into chunks.")
    return ids


def _norm(ids: list[str] | None) -> tuple[str, ...] | None:
    return None if ids is None else tuple(sorted(set(ids)))


def _year(text: str) -> int:
    if not text.isdigit():
        raise ApiError(422, f"Invalid year {text!r} in the year part: years are integers.")
    return int(text)


def _int_param(query: dict[str, str], name: str, default: int) -> int:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ApiError(422, f"Query parameter {name}={raw!r} is not an integer.") from None


def _page_window(query: dict[str, str]) -> tuple[int, int]:
    page = _int_param(query, "page", 1)
    per_page = _int_param(query, "per_page", DEFAULT_PER_PAGE)
    if page < 1:
        raise ApiError(422, f"page={page} is invalid: pages are numbered from 1.")
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise ApiError(422, f"per_page={per_page} is invalid: it must be between 1 and "
                            f"{MAX_PER_PAGE}.")
    return page, per_page


def _paged(items: Any, total: int, query: dict[str, str], page_base: str) -> dict[str, Any]:
    """The v3 envelope for one page of ``items`` (a list or ``Records``); count = page size."""
    page, per_page = _page_window(query)
    start = (page - 1) * per_page
    values = items.page(start, start + per_page) if isinstance(items, Records) \
        else items[start:start + per_page]

    def link(number: int) -> str:
        params = {**query, "page": str(number), "per_page": str(per_page)}
        return f"{page_base}?{urlencode(params)}"

    has_next = start + per_page < total
    has_previous = page > 1 and total > 0
    return {"values": values, "count": len(values),
            "next_url": link(page + 1) if has_next else None,
            "previous_url": link(min(page - 1, -(-total // per_page))) if has_previous else None}
