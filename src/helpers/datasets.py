"""``data/processed/``: the values table and the kommun table, and loading them for notebooks.

- ``values/<KPI>.parquet``: one file per KPI, the columns of ``KoladaClient.values``
  (``kpi, municipality, period, gender, value, count, status``). A KPI that Kolada has no values
  for gets an empty file, so "saknas i data" can be told apart from "not fetched".
- ``kommuner_<year>.parquet``: one row per kommun (290) with code, name, län, kommungrupp 2023
  (Kolada groups G92786–G92794), kommungrupp 2017 (``reference/kommungrupp_2017.csv``, left out
  with a logged reason when that file is missing), population (N01951, gender T) for ``year`` and
  size class. A kommun without a population for the year keeps NaN (counted in the log).
- ``source.json``: where the data came from (base URL, snapshot or live API, fetch time).

Every file is written to a temporary name in its folder and renamed into place.
"""

from __future__ import annotations

import itertools
import json
import logging
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import pandas as pd
from filelock import FileLock

from helpers import paths
from helpers.files import atomic_write_bytes, atomic_write_parquet
from helpers.formatting import THOUSANDS_SEP, format_number
from helpers.params import FIRST_YEAR

log = logging.getLogger(__name__)

POPULATION_KPI = "N01951"
"""Invånare totalt, antal (31 december)."""
DEFAULT_STORLEKSKLASSER: tuple[int, ...] = (0, 6000, 10000, 20000, 50000, 100000)
"""Lower limits of the size classes (REPORT_SPEC §1): <6 000 … ≥100 000 invånare."""
LIVE_API_HOST = "api.kolada.se"

# SKR:s kommungruppsindelning 2023, by Kolada municipality group id, in A1…C9 order. The names
# are SKR's (as in SKR's Kommungruppsindelning 2023 and reference/kommungrupp_2023.csv); Kolada's
# group titles add " (ovägt medel)" and call C8 "Landsbygdskommun, ej nära större stad".
KOMMUNGRUPPER_2023: dict[str, tuple[str, str]] = {
    "G92787": ("A1", "Storstäder"),
    "G92793": ("A2", "Pendlingskommun nära storstad"),
    "G92790": ("B3", "Större stad"),
    "G92792": ("B4", "Pendlingskommun nära större stad"),
    "G92786": ("B5", "Lågpendlingskommun nära större stad"),
    "G92788": ("C6", "Mindre stad/tätort"),
    "G92789": ("C7", "Pendlingskommun nära mindre tätort"),
    "G92791": ("C8", "Landsbygdskommun"),
    "G92794": ("C9", "Landsbygdskommun med besöksnäring"),
}
KOMMUNGRUPP_KODER = tuple(code for code, _ in KOMMUNGRUPPER_2023.values())
KOMMUNGRUPP_2017_FILE = "kommungrupp_2017.csv"
KOMMUNER_LAN_FILE = "kommuner_lan.csv"

KOMMUN_COLUMNS = [
    "kommun",
    "kommunnamn",
    "lan",
    "lansnamn",
    "kommungrupp_2023_kod",
    "kommungrupp_2023",
    "kommungrupp_2017_kod",
    "kommungrupp_2017",
    "befolkning",
    "storleksklass",
]
VALUE_COLUMNS = ["kpi", "municipality", "period", "gender", "value", "count", "status"]
_VALUE_DTYPES = {
    "kpi": "str",
    "municipality": "str",
    "period": "int64",
    "gender": "str",
    "value": "float64",
    "count": "int64",
    "status": "str",
}

__all__ = [
    "DEFAULT_STORLEKSKLASSER",
    "KOMMUNGRUPPER_2023",
    "KOMMUN_COLUMNS",
    "POPULATION_KPI",
    "THOUSANDS_SEP",
    "Catalogue",
    "FetchResult",
    "build_kommuner",
    "catalogue_for",
    "fetch_for",
    "load_kommuner",
    "load_source",
    "load_values",
    "storleksklass",
    "storleksklass_labels",
    "validate_storleksklasser",
]


# --- size classes ------------------------------------------------------------------------------


def validate_storleksklasser(limits: Iterable[int | float]) -> list[int]:
    """Check size-class limits: whole numbers, strictly increasing, the first one 0."""
    values = list(limits)
    if not values:
        raise ValueError("storleksklasser is empty; it lists the lower limits of the size "
                         "classes, starting at 0, e.g. [0, 6000, 10000]")
    if any(float(v) != int(v) for v in values):
        raise ValueError(f"storleksklasser must be whole numbers of inhabitants, got {values}")
    values = [int(v) for v in values]
    if values[0] != 0:
        raise ValueError(f"storleksklasser must start at 0, got {values}; e.g. [0, 6000, 10000]")
    if any(b <= a for a, b in itertools.pairwise(values)):
        raise ValueError(f"storleksklasser must be strictly increasing, got {values}")
    return values


def storleksklass_labels(limits: Iterable[int | float]) -> list[str]:
    """Labels of the classes ``[l0, l1)``, …, ``[ln, ∞)``: ``"<6 000"``, ``"6 000–9 999"``, …,
    ``"≥100 000"``, thousands separated by a narrow no-break space (``THOUSANDS_SEP``)."""
    values = validate_storleksklasser(limits)
    if len(values) == 1:
        return ["alla storlekar"]
    labels = [f"<{format_number(values[1])}"]
    for low, high in itertools.pairwise(values[1:]):
        labels.append(f"{format_number(low)}–{format_number(high - 1)}")
    labels.append(f"≥{format_number(values[-1])}")
    return labels


def storleksklass(befolkning: pd.Series, limits: Iterable[int | float] = DEFAULT_STORLEKSKLASSER
                  ) -> pd.Series:
    """The ordered categorical size class of each population; NaN stays NaN."""
    values = validate_storleksklasser(limits)
    labels = storleksklass_labels(values)
    classes = pd.cut(pd.to_numeric(befolkning), bins=[*values, np.inf], right=False,
                     labels=labels, ordered=True)
    return pd.Series(classes, index=befolkning.index, name="storleksklass")


# --- the catalogue -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Catalogue:
    """What the parameters are checked against: kommuner, regions (and Riket), KPIs."""

    kommuner: dict[str, str]
    """kommun code → name (290)."""
    regions: dict[str, str]
    """region code → name, including ``0000`` Riket."""
    kpis: dict[str, str]
    """KPI id → title."""
    divided_by_gender: frozenset[str] = field(default_factory=frozenset)
    """KPI ids Kolada divides by gender (K/M besides T)."""
    latest_period: dict[str, int] = field(default_factory=dict)
    """KPI id → the latest period Kolada has published (``publ_period``), where given."""

    @classmethod
    def from_client(cls, client: Any) -> Catalogue:
        units = client.municipalities()
        kpis = client.kpis()
        gender = kpis["is_divided_by_gender"].fillna(False).astype(bool)
        return cls(
            kommuner=_units_of_type(units, "K"),
            regions=_units_of_type(units, "L"),
            kpis=dict(zip(kpis["id"].astype(str), kpis["title"].astype(str), strict=True)),
            divided_by_gender=frozenset(kpis.loc[gender, "id"].astype(str)),
            latest_period=_latest_periods(kpis),
        )

    def is_divided_by_gender(self, kpi: str) -> bool:
        return kpi in self.divided_by_gender

    def unit_name(self, code: str) -> str | None:
        """The name of a kommun or region code, None when unknown."""
        return self.kommuner.get(code) or self.regions.get(code)

    @property
    def units(self) -> list[str]:
        """Every unit code: kommuner, regions and Riket."""
        return [*self.kommuner, *self.regions]


def _latest_periods(kpis: pd.DataFrame) -> dict[str, int]:
    if "publ_period" not in kpis:
        return {}
    periods = pd.to_numeric(kpis["publ_period"], errors="coerce")
    known = periods.notna()
    return dict(zip(kpis.loc[known, "id"].astype(str), periods[known].astype(int), strict=True))


def _units_of_type(units: pd.DataFrame, unit_type: str) -> dict[str, str]:
    chosen = units[units["type"] == unit_type].sort_values("id")
    return dict(zip(chosen["id"].astype(str), chosen["title"].astype(str), strict=True))


_CATALOGUES: weakref.WeakKeyDictionary[Any, Catalogue] = weakref.WeakKeyDictionary()


def catalogue_for(client: Any) -> Catalogue:
    """The catalogue of a client, built once per client object and kept in memory."""
    catalogue = _CATALOGUES.get(client)
    if catalogue is None:
        catalogue = Catalogue.from_client(client)
        _CATALOGUES[client] = catalogue
    return catalogue


# --- the kommun table --------------------------------------------------------------------------


def build_kommuner(client: Any, population: pd.DataFrame, year: int,
                   storleksklasser: Iterable[int] = DEFAULT_STORLEKSKLASSER,
                   reference_dir: Path | None = None) -> pd.DataFrame:
    """The kommun table for ``year`` from Kolada metadata, the reference files and ``population``
    (values of N01951 as returned by ``client.values``)."""
    reference_dir = paths.REFERENCE_DIR if reference_dir is None else Path(reference_dir)
    catalogue = catalogue_for(client)
    table = pd.DataFrame({"kommun": list(catalogue.kommuner),
                          "kommunnamn": list(catalogue.kommuner.values())})
    table["lan"] = table["kommun"].str[:2]
    table["lansnamn"] = table["lan"].map(_lan_names(catalogue, reference_dir))
    table = table.merge(_kommungrupp_2023(client, table["kommun"]), on="kommun", how="left")
    grupp_2017 = _kommungrupp_2017(reference_dir)
    if grupp_2017 is not None:
        table = table.merge(grupp_2017, on="kommun", how="left")
    table["befolkning"] = _population_for(population, table["kommun"], year).to_numpy()
    table["storleksklass"] = storleksklass(table["befolkning"], storleksklasser)
    return table[[c for c in KOMMUN_COLUMNS if c in table.columns]]


def _lan_names(catalogue: Catalogue, reference_dir: Path) -> dict[str, str]:
    path = reference_dir / KOMMUNER_LAN_FILE
    if path.exists():
        ref = pd.read_csv(path, dtype=str)
        return dict(zip(ref["county_code"], ref["county_name"], strict=True))
    log.warning("%s not found: län names are taken from Kolada's region units (e.g. "
                "'Region Stockholm' for län 01)", path)
    return {code[2:]: name for code, name in catalogue.regions.items() if code != "0000"}


def _kommungrupp_2023(client: Any, kommuner: pd.Series) -> pd.DataFrame:
    groups = client.municipality_groups(ids=list(KOMMUNGRUPPER_2023))
    for group_id, title in groups.drop_duplicates("group_id")[["group_id", "group_title"]].values:
        kolada_name = title.removesuffix(" (ovägt medel)")
        if kolada_name != KOMMUNGRUPPER_2023[group_id][1]:
            log.debug("kommungrupp %s: Kolada calls it %r, SKR %r", group_id, kolada_name,
                      KOMMUNGRUPPER_2023[group_id][1])
    table = pd.DataFrame({
        "kommun": groups["member_id"].astype(str),
        "kommungrupp_2023_kod": groups["group_id"].map(lambda g: KOMMUNGRUPPER_2023[g][0]),
        "kommungrupp_2023": groups["group_id"].map(lambda g: KOMMUNGRUPPER_2023[g][1]),
    })
    _check_one_group_each(table, kommuner)
    return table.drop_duplicates("kommun")


def _check_one_group_each(table: pd.DataFrame, kommuner: pd.Series) -> None:
    twice = sorted(table.loc[table["kommun"].duplicated(), "kommun"])
    missing = sorted(set(kommuner) - set(table["kommun"]))
    if twice:
        log.warning("kommuner in more than one kommungrupp 2023 (first one kept): %s", twice)
    if missing:
        log.warning("%d kommuner are in no Kolada kommungrupp 2023 (left empty): %s",
                    len(missing), missing)


def _kommungrupp_2017(reference_dir: Path) -> pd.DataFrame | None:
    path = reference_dir / KOMMUNGRUPP_2017_FILE
    if not path.exists():
        log.warning("kommungrupp_2017 columns left out of the kommun table: %s not found "
                    "(set SKR_SHARED_DIR to the folder holding reference/)", path)
        return None
    ref = pd.read_csv(path, dtype=str)
    return pd.DataFrame({"kommun": ref["kommunkod"].str.zfill(4),
                         "kommungrupp_2017_kod": ref["gruppkod"],
                         "kommungrupp_2017": ref["kommungrupp_2017"]})


def _population_for(population: pd.DataFrame, kommuner: pd.Series, year: int) -> pd.Series:
    rows = population[(population["kpi"] == POPULATION_KPI) & (population["period"] == year)
                      & (population["gender"] == "T")]
    values = kommuner.map(rows.set_index("municipality")["value"]).astype("float64")
    if values.isna().any():
        log.warning("%d of %d kommuner have no population (N01951) for %d; kept empty, "
                    "not imputed", int(values.isna().sum()), len(values), year)
    return values


# --- fetching ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FetchResult:
    """What ``fetch_for`` wrote and what it found."""

    processed_dir: Path
    kpis: list[str]
    """The KPIs fetched (the parameter set's plus N01951)."""
    required_kpis: list[str]
    """The KPIs the parameter set asked for."""
    missing_kpis: list[str]
    """KPIs with no value at all: reports show them as "saknas i data"."""
    years_by_kpi: dict[str, list[int]]
    """For each KPI with data, the years with at least one value."""
    year: int | None
    """The population year of the kommun table written (None when no year has data)."""
    rows: int
    deleted_dropped: int
    requests: int
    source: dict

    def years_with_data(self, kpis: Iterable[str] | None = None, how: str = "all") -> list[int]:
        """Years with data for ``kpis`` (default: the required KPIs that have data, else N01951):
        ``how="all"`` years in which every one has a value, ``"any"`` in which at least one does."""
        chosen = [k for k in (kpis or self.required_kpis) if k in self.years_by_kpi]
        if not chosen and kpis is None:
            chosen = [k for k in self.kpis if k in self.years_by_kpi]
        sets = [set(self.years_by_kpi[k]) for k in chosen]
        if not sets:
            return []
        years = set.intersection(*sets) if how == "all" else set.union(*sets)
        return sorted(years)


def fetch_for(params: Any, client: Any, processed_dir: Path | None = None,
              storleksklasser: Iterable[int] = DEFAULT_STORLEKSKLASSER) -> FetchResult:
    """Fetch what a parameter set needs and write it to ``processed_dir``.

    Values of ``params.required_kpis()`` and N01951 for every kommun, region and Riket, for
    ``params.required_years()`` (None: every year), one parquet file per KPI; the kommun table for
    ``params.year`` (or the latest year with data); ``source.json``.
    """
    processed_dir = paths.PROCESSED_DIR if processed_dir is None else Path(processed_dir)
    required = list(dict.fromkeys(str(k) for k in params.required_kpis()))
    kpis = list(dict.fromkeys([*required, POPULATION_KPI]))
    requests_before = client.stats.requests
    values = _fetch_values(client, kpis, params.required_years())
    years_by_kpi = _years_by_kpi(values)
    missing = [k for k in kpis if k not in years_by_kpi]
    result_year = _kommun_table_year(params, required, years_by_kpi)
    _check_year_before_writing(params, kpis, required, years_by_kpi)
    if missing:
        log.warning("no values in Kolada for %s: shown as 'saknas i data'", ", ".join(missing))
    (processed_dir / "values").mkdir(parents=True, exist_ok=True)
    with FileLock(processed_dir / ".fetch.lock"):
        for kpi in kpis:
            atomic_write_parquet(values[values["kpi"] == kpi].reset_index(drop=True),
                           processed_dir / "values" / f"{kpi}.parquet")
        if result_year is not None:
            table = build_kommuner(client, values, result_year, storleksklasser)
            atomic_write_parquet(table, processed_dir / f"kommuner_{result_year}.parquet")
        source = _write_source(client, processed_dir)
    return FetchResult(
        processed_dir=processed_dir, kpis=kpis, required_kpis=required, missing_kpis=missing,
        years_by_kpi=years_by_kpi, year=result_year, rows=len(values),
        deleted_dropped=int(values.attrs.get("deleted_dropped", 0)),
        requests=client.stats.requests - requests_before, source=source,
    )


def _check_year_before_writing(params: Any, kpis: list[str], required: list[str],
                               years_by_kpi: dict[str, list[int]]) -> None:
    """A year given in the parameters that has no data raises ``ParamsError`` (naming the years
    that have data) before anything is written: no ``kommuner_<year>.parquet`` for a year that
    is then rejected (it would make every variant look out of date)."""
    if getattr(params, "year", None) is None or not hasattr(params, "years_rule"):
        return
    from helpers.params import check_year

    probe = FetchResult(processed_dir=Path(), kpis=kpis, required_kpis=required,
                        missing_kpis=[], years_by_kpi=years_by_kpi, year=None, rows=0,
                        deleted_dropped=0, requests=0, source={})
    check_year(params, probe.years_with_data(how=params.years_rule))


def _fetch_values(client: Any, kpis: list[str], years: Sequence[int] | None) -> pd.DataFrame:
    return client.values(kpis, years=list(years) if years is not None else every_year(client, kpis))


def every_year(client: Any, kpis: Iterable[str]) -> list[int]:
    """FIRST_YEAR up to the latest period Kolada has published for any of ``kpis``.

    Taken from the (cached) KPI catalogue rather than today's date, so the requests, and with
    them the raw cache, stay the same until Kolada publishes new data. Asking by year lets the
    API leave out the municipality part, which needs the fewest requests for all units.
    """
    latest = catalogue_for(client).latest_period
    last = max((latest[k] for k in kpis if k in latest), default=None)
    if last is None:
        last = max(latest.values(), default=FIRST_YEAR)
    return list(range(FIRST_YEAR, last + 1))


def _years_by_kpi(values: pd.DataFrame) -> dict[str, list[int]]:
    present = values.dropna(subset=["value"])
    return {str(kpi): sorted(int(y) for y in years.unique())
            for kpi, years in present.groupby("kpi")["period"]}


def _kommun_table_year(params: Any, required: list[str],
                       years_by_kpi: dict[str, list[int]]) -> int | None:
    if getattr(params, "year", None) is not None:
        return int(params.year)
    chosen = [set(years_by_kpi[k]) for k in required if k in years_by_kpi]
    common = set.intersection(*chosen) if chosen else set(years_by_kpi.get(POPULATION_KPI, []))
    return max(common) if common else None


def _write_source(client: Any, processed_dir: Path) -> dict:
    source = dict(client.source)
    # The replay server names its recorded snapshot in every answer; the live API does not.
    source["snapshot"] = bool(source.get("snapshot_vintage"))
    source["live_api"] = urlsplit(source.get("base_url") or "").hostname == LIVE_API_HOST
    source["kpis"] = sorted(p.stem for p in (processed_dir / "values").glob("*.parquet"))
    text = json.dumps(source, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
    atomic_write_bytes(processed_dir / "source.json", text.encode("utf-8"))
    return source


# --- loading -----------------------------------------------------------------------------------


def load_values(kpis: Iterable[str] | None = None,
                processed_dir: Path | None = None) -> pd.DataFrame:
    """The values table for ``kpis`` (default: every KPI fetched). A KPI never fetched raises
    FileNotFoundError naming the fix; one fetched without values gives no rows."""
    folder = (paths.PROCESSED_DIR if processed_dir is None else Path(processed_dir)) / "values"
    if kpis is None:
        files = sorted(folder.glob("*.parquet"))
    else:
        files = [folder / f"{kpi}.parquet" for kpi in dict.fromkeys(kpis)]
    absent = [f.stem for f in files if not f.exists()]
    if absent:
        raise FileNotFoundError(f"no values fetched for {', '.join(absent)} in {folder}. "
                                "Fix: run `skr-report fetch <params.yaml>` for this report.")
    frames = [pd.read_parquet(f) for f in files]
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in _VALUE_DTYPES.items()})
    return pd.concat(frames, ignore_index=True).astype(_VALUE_DTYPES)


def load_kommuner(year: int, storleksklasser: Iterable[int] = DEFAULT_STORLEKSKLASSER,
                  processed_dir: Path | None = None) -> pd.DataFrame:
    """The kommun table for population year ``year``, size classes from ``storleksklasser``.

    When only another year's table was written, it is reused with ``year``'s population from
    ``values/N01951.parquet``.
    """
    folder = paths.PROCESSED_DIR if processed_dir is None else Path(processed_dir)
    path = folder / f"kommuner_{year}.parquet"
    table = pd.read_parquet(path) if path.exists() else _kommuner_from_other_year(folder, year)
    table["storleksklass"] = storleksklass(table["befolkning"], storleksklasser)
    return table


def _kommuner_from_other_year(folder: Path, year: int) -> pd.DataFrame:
    others = sorted(folder.glob("kommuner_*.parquet"))
    if not others:
        raise FileNotFoundError(f"no kommun table in {folder}. "
                                "Fix: run `skr-report fetch <params.yaml>` first.")
    table = pd.read_parquet(others[-1])
    population = load_values([POPULATION_KPI], processed_dir=folder)
    table["befolkning"] = _population_for(population, table["kommun"], year).to_numpy()
    return table


def load_source(processed_dir: Path | None = None) -> dict:
    """``source.json``: base URL, whether it is the recorded snapshot, fetch time, KPIs."""
    folder = paths.PROCESSED_DIR if processed_dir is None else Path(processed_dir)
    return json.loads((folder / "source.json").read_text(encoding="utf-8"))


# --- Eurostat ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class EurostatRequest:
    """One Eurostat data request: dataset code and dimension → codes."""

    dataset: str
    filters: dict[str, tuple[str, ...]] = field(default_factory=dict)


EUROSTAT_DIR_NAME = "eurostat"


def fetch_eurostat(params: Any, client: Any, processed_dir: Path | None = None) -> dict | None:
    """Fetch the Eurostat tables ``params.eurostat_requests()`` names, let the parameters check
    themselves against them (``check_eurostat``: nothing is written when they fail), then write
    ``eurostat/<dataset>.parquet`` and ``eurostat/source.json``. None when nothing is needed."""
    wanted = params.eurostat_requests()
    if not wanted:
        return None
    processed_dir = paths.PROCESSED_DIR if processed_dir is None else Path(processed_dir)
    tables = {req.dataset: client.data(req.dataset, req.filters) for req in wanted}
    params.check_eurostat(tables)
    folder = processed_dir / EUROSTAT_DIR_NAME
    folder.mkdir(parents=True, exist_ok=True)
    source = dict(client.source)
    source["snapshot"] = bool(source.get("snapshot_vintage"))
    source["datasets"] = sorted(tables)
    with FileLock(processed_dir / ".fetch.lock"):
        for dataset, table in tables.items():
            atomic_write_parquet(table.reset_index(drop=True), folder / f"{dataset}.parquet")
        text = json.dumps(source, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
        atomic_write_bytes(folder / "source.json", text.encode("utf-8"))
    return source


def load_eurostat(dataset: str, processed_dir: Path | None = None) -> pd.DataFrame:
    """The tidy Eurostat table ``dataset`` written by ``fetch_eurostat``."""
    folder = (paths.PROCESSED_DIR if processed_dir is None else Path(processed_dir)) \
        / EUROSTAT_DIR_NAME
    path = folder / f"{dataset}.parquet"
    if not path.is_file():
        raise FileNotFoundError(f"no Eurostat table {dataset} in {folder}. "
                                "Fix: run `skr-report fetch <params.yaml>` for this report.")
    table = pd.read_parquet(path)
    table["year"] = table["year"].astype("int64")
    return table


# --- preparing a variant -----------------------------------------------------------------------


@dataclass(frozen=True)
class Prepared:
    """A validated parameter set with its data fetched and its data year settled."""

    params: Any
    fetch: FetchResult
    year: int
    eurostat: dict | None = None
    """Where the Eurostat tables came from (``eurostat/source.json``), None when none needed."""

    @property
    def source(self) -> dict:
        """The Kolada source, with the Eurostat one under ``"eurostat"`` when there is one."""
        source = dict(self.fetch.source)
        if self.eurostat is not None:
            source["eurostat"] = self.eurostat
        return source


def prepare(params_path: str | Path, client: Any, processed_dir: Path | None = None,
            *, eurostat_client: Any = None, **overrides: Any) -> Prepared:
    """Validate a parameter file against Kolada's catalogue, fetch what it needs, check the year.

    Raises ``ParamsError`` (bad key, kommun, KPI, or a year without data, naming the years that
    have data; an unknown Eurostat code) or a ``SourceError`` (Kolada or Eurostat) before any
    notebook starts. The Eurostat client is ``eurostat_client`` or one from the environment
    with the Kolada client's ``offline``/``refresh``.
    """
    from helpers.params import check_year, load_params, precheck_params

    precheck_params(params_path, **overrides)  # before the catalogue is fetched
    params = load_params(params_path, catalogue_for(client), **overrides)
    result = fetch_for(params, client, processed_dir)
    params.prepare_data(client, result.processed_dir)
    year = check_year(params, result.years_with_data(how=params.years_rule))
    eurostat = None
    if params.eurostat_requests():
        own = eurostat_client is None
        if own:
            from helpers.eurostat import EurostatClient

            eurostat_client = EurostatClient(offline=getattr(client, "offline", False),
                                             refresh=getattr(client, "refresh", False))
        try:
            eurostat = fetch_eurostat(params, eurostat_client, result.processed_dir)
        finally:
            if own:
                eurostat_client.close()
    return Prepared(params=params, fetch=result, year=year, eurostat=eurostat)
