"""Eurostat's statistics API replayed from a recorded bulk TSV (``../shared/eurostat``).

The recording is Eurostat's own bulk download of a dataset (``<dataset>.tsv.gz``: the first
column joins the dimension codes with commas, ``freq,unit,sector,na_item,geo\\TIME_PERIOD``;
one column per year; a cell is the value and optional flags, ``:`` when not available).
:class:`EurostatApi` answers ``…/statistics/1.0/data/<dataset>?<dimension>=<code>&…`` in the
live API's JSON-stat 2.0 shape (compare ``example_response_gov_10dd_edpt1_ES.json``): ``id``,
``size``, ``dimension.<id>.category.index|label``, a sparse ``value`` object keyed by the flat
row-major position, ``status`` for flags; repeated parameters select several codes;
``sinceTimePeriod``/``untilTimePeriod`` narrow the years. Errors have Eurostat's body
``{"error": [{"status", "id", "label"}]}``: 404 for an unknown dataset, 400 for an unknown
dimension or a query without data. The replay adds no ``updated`` (the file states no release
date); it names the recording in the ``X-Eurostat-Recording`` header instead.

It is served by :class:`helpers.sources.replay.server.ReplayServer` beside the Kolada API
(one server, one port, the same fault injection), below ``/eurostat/api/dissemination``.
"""

from __future__ import annotations

import functools
import gzip
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pandas as pd

from helpers.sources.identity import SourceIdentity, recording_identity

API_PREFIX = "/eurostat/api/dissemination"
DATA_PATH = "/statistics/1.0/data/"
CONTROL_PARAMS = {"lang", "format", "sinceTimePeriod", "untilTimePeriod", "lastTimePeriod"}
_CELL = re.compile(r"^\s*([-+0-9.eE]+|:)\s*([a-z]*)\s*$")


class Recording:
    """One dataset's bulk TSV in memory: a long table of every cell, ``:`` cells included."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.dataset = self.path.name.split(".")[0]
        with gzip.open(self.path, "rt", encoding="utf-8") as handle:
            raw = pd.read_csv(handle, sep="\t", dtype=str, keep_default_na=False)
        key_column = raw.columns[0]
        self.dimensions = key_column.split("\\")[0].split(",")  # freq, unit, ..., geo
        self.years = [column.strip() for column in raw.columns[1:]]
        keys = raw[key_column].str.split(",", expand=True)
        keys.columns = self.dimensions
        cells = raw.drop(columns=[key_column])
        cells.columns = self.years
        long = keys.join(cells).melt(id_vars=self.dimensions, var_name="time", value_name="cell")
        parsed = long["cell"].str.extract(_CELL)
        long["value"] = pd.to_numeric(parsed[0].where(parsed[0] != ":"), errors="coerce")
        long["flag"] = parsed[1].fillna("")
        self.cells = long.drop(columns="cell")
        self.codes = {d: list(dict.fromkeys(keys[d])) for d in self.dimensions}
        with_data = self.cells.dropna(subset=["value"])["time"]
        self.first_year = int(with_data.min()) if len(with_data) else None
        self.last_year = int(with_data.max()) if len(with_data) else None

    @property
    def vintage(self) -> dict[str, Any]:
        """What the replay says about its recording (sent as ``X-Eurostat-Recording``)."""
        return {"dataset": self.dataset, "file": self.path.name,
                "years": [self.first_year, self.last_year], "release_date": None}


@functools.lru_cache(maxsize=8)
def load_recording(path: Path) -> Recording:
    return Recording(path)


def recording_folder_identity(folder: Path) -> SourceIdentity:
    """The Eurostat recordings in ``folder`` (every ``<dataset>.tsv.gz``) as one data source."""
    return recording_identity("eurostat", sorted(Path(folder).glob("*.tsv.gz")))


class ApiError(Exception):
    def __init__(self, status: int, fault_id: int, label: str) -> None:
        super().__init__(label)
        self.status, self.fault_id, self.label = status, fault_id, label

    def body(self) -> dict[str, Any]:
        return {"error": [{"status": self.status, "id": self.fault_id, "label": self.label}]}


class EurostatApi:
    """Answers one GET of the statistics API from the recordings in ``folder``."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    @staticmethod
    def handles(path: str) -> bool:
        return DATA_PATH in path or path.startswith(API_PREFIX)

    def recording(self, dataset: str) -> Recording | None:
        path = self.folder / f"{dataset.lower()}.tsv.gz"
        return load_recording(path.resolve()) if path.is_file() else None

    def handle(self, target: str) -> tuple[int, Any, dict[str, str]]:
        """(status, JSON body, extra headers) for a request target."""
        url = urlsplit(target)
        path = unquote(url.path)
        query = parse_qs(url.query, keep_blank_values=True)
        try:
            if DATA_PATH not in path:
                raise ApiError(404, 100, f"Not found: {path}. Data are under "
                                         f"{API_PREFIX}{DATA_PATH}<dataset>.")
            dataset = path.split(DATA_PATH, 1)[1].strip("/")
            recording = self.recording(dataset)
            if recording is None:
                raise ApiError(404, 100, f"ERR_NOT_FOUND_4: {dataset.upper()} (DATA_SET:ESTAT,"
                                         "1.0) is not available for dissemination.")
            body = self._dataset(recording, query)
        except ApiError as exc:
            return exc.status, exc.body(), {}
        header = json.dumps(recording.vintage, ensure_ascii=True, separators=(",", ":"))
        return 200, body, {"X-Eurostat-Recording": header}

    def _dataset(self, rec: Recording, query: dict[str, list[str]]) -> dict[str, Any]:
        cells = rec.cells
        for name, codes in query.items():
            if name in CONTROL_PARAMS:
                continue
            if name not in rec.dimensions and name != "time":
                raise ApiError(400, 150, "INVALID_QUERY_DIMENSION: Query is invalid as per its "
                                         f"structure's definition. Dimension \"{name.upper()}\" "
                                         "is not defined")
            column = "time" if name == "time" else name
            cells = cells[cells[column].isin(codes)]
        years = [int(y) for y in rec.years]
        if "sinceTimePeriod" in query:
            since = _year(query["sinceTimePeriod"][-1])
            cells = cells[cells["time"].astype(int) >= since]
            years = [y for y in years if y >= since]
        if "untilTimePeriod" in query:
            until = _year(query["untilTimePeriod"][-1])
            cells = cells[cells["time"].astype(int) <= until]
            years = [y for y in years if y <= until]
        if "time" in query:
            years = [y for y in years if str(y) in set(query["time"])]
        present = cells.dropna(subset=["value"])
        if present.empty:
            raise ApiError(400, 100, "No results found")
        ids = [*rec.dimensions, "time"]
        categories = {d: [c for c in rec.codes[d] if c in set(cells[d])] for d in rec.dimensions}
        categories["time"] = [str(y) for y in years]
        sizes = [len(categories[d]) for d in ids]
        positions = {d: {c: i for i, c in enumerate(categories[d])} for d in ids}
        flat = 0
        for dim, size in zip(ids, sizes, strict=True):
            flat = flat * size + present[dim].map(positions[dim]).to_numpy()
        order = flat.argsort(kind="stable")
        value = {str(int(flat[i])): float(present["value"].iloc[i]) for i in order}
        status = {str(int(flat[i])): present["flag"].iloc[i] for i in order
                  if present["flag"].iloc[i]}
        body: dict[str, Any] = {
            "version": "2.0", "class": "dataset",
            "label": "Government deficit/surplus, debt and associated data"
            if rec.dataset == "gov_10dd_edpt1" else rec.dataset,
            "source": "ESTAT", "value": value,
        }
        if status:
            body["status"] = status
        body.update({
            "id": ids, "size": sizes,
            "dimension": {d: {"label": d, "category": {
                "index": positions[d], "label": {c: c for c in categories[d]}}} for d in ids},
            "extension": {"id": rec.dataset.upper(), "agencyId": "ESTAT",
                          "recording": rec.vintage},
        })
        return body


def _year(text: str) -> int:
    if not text.strip().isdigit():
        raise ApiError(400, 140, f"Syntax error: time period {text!r} is not a year.")
    return int(text)

