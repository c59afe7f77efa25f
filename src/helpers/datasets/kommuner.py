"""The kommun table ``kommuner_<year>.parquet``: one row per kommun (290) with code, name, län,
kommungrupp 2023 (Kolada groups G92786–G92794), kommungrupp 2017
(``reference/kommungrupp_2017.csv``, left out with a logged reason when that file is missing),
population (N01951, gender T) for the year and size class (storleksklass). A kommun without a
population for the year keeps NaN (counted in the log).
"""

from __future__ import annotations

import functools
import itertools
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from helpers import paths
from helpers.datasets.catalogue import Catalogue, catalogue_for
from helpers.datasets.values import load_values
from helpers.domain import POPULATION_KPI
from helpers.formatting import format_number

log = logging.getLogger(__name__)

"""Invånare totalt, antal (31 december)."""
DEFAULT_SIZE_LIMITS: tuple[int, ...] = (0, 6000, 10000, 20000, 50000, 100000)
"""Lower limits of the size classes (REPORT_SPEC §1): <6 000 … ≥100 000 invånare."""

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

# --- size classes ------------------------------------------------------------------------------


def validate_size_limits(limits: Iterable[int | float]) -> list[int]:
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


def size_class_labels(limits: Iterable[int | float]) -> list[str]:
    """Labels of the classes ``[l0, l1)``, …, ``[ln, ∞)``: ``"<6 000"``, ``"6 000–9 999"``, …,
    ``"≥100 000"``, thousands separated by a narrow no-break space (``THOUSANDS_SEP``)."""
    values = validate_size_limits(limits)
    if len(values) == 1:
        return ["alla storlekar"]
    labels = [f"<{format_number(values[1])}"]
    for low, high in itertools.pairwise(values[1:]):
        labels.append(f"{format_number(low)}–{format_number(high - 1)}")
    labels.append(f"≥{format_number(values[-1])}")
    return labels


def size_class(population: pd.Series, limits: Iterable[int | float] = DEFAULT_SIZE_LIMITS
                  ) -> pd.Series:
    """The ordered categorical size class of each population; NaN stays NaN."""
    values = validate_size_limits(limits)
    labels = size_class_labels(values)
    classes = pd.cut(pd.to_numeric(population), bins=[*values, np.inf], right=False,
                     labels=labels, ordered=True)
    return pd.Series(classes, index=population.index, name="storleksklass")


# --- the kommun table --------------------------------------------------------------------------


def build_kommuner(client: Any, population: pd.DataFrame, year: int,
                   size_limits: Iterable[int] = DEFAULT_SIZE_LIMITS,
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
    table["storleksklass"] = size_class(table["befolkning"], size_limits)
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


def load_kommuner(year: int, size_limits: Iterable[int] = DEFAULT_SIZE_LIMITS,
                  processed_dir: Path | None = None) -> pd.DataFrame:
    """The kommun table for population year ``year``, size classes from ``size_limits`` (the
    parameter ``storleksklasser``).

    When only another year's table was written, it is reused with ``year``'s population from
    ``values/N01951.parquet``.
    """
    folder = paths.PROCESSED_DIR if processed_dir is None else Path(processed_dir)
    path = folder / f"kommuner_{year}.parquet"
    table = pd.read_parquet(path) if path.exists() else _kommuner_from_other_year(folder, year)
    table["storleksklass"] = size_class(table["befolkning"], size_limits)
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


def kommun_name(kommuner: pd.DataFrame, code: str) -> str | None:
    """The name of kommun ``code`` in a kommun table, None when it is not there."""
    names = kommuner.loc[kommuner["kommun"] == code, "kommunnamn"]
    return str(names.iloc[0]) if len(names) else None


def place_label(name: str | None, code: str) -> str:
    """How a report names the kommun or region it is about: ``"Åsele (2463)"``, or the code
    alone when the name is unknown."""
    return f"{name} ({code})" if name else code


def _names_table(folder: Path, year: int | None) -> pd.DataFrame | None:
    """Code, name and län of every kommun from the kommun table of ``year`` (or the latest
    one written); read once per file version (a batch names 290 variants from it)."""
    tables = sorted(folder.glob("kommuner_*.parquet"))
    preferred = folder / f"kommuner_{year}.parquet"
    table = preferred if preferred in tables else (tables[-1] if tables else None)
    if table is None:
        return None
    stat = table.stat()
    return _read_names(str(table), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=8)
def _read_names(table: str, mtime_ns: int, size: int) -> pd.DataFrame:
    return pd.read_parquet(table, columns=["kommun", "kommunnamn", "lan", "lansnamn"])


def kommun_label(code: str, processed_dir: Path | None = None,
                 year: int | None = None) -> str:
    """``"Åsele (2463)"`` from the kommun table of ``year`` (or the latest one written)."""
    folder = paths.PROCESSED_DIR if processed_dir is None else Path(processed_dir)
    names = _names_table(folder, year)
    return code if names is None else place_label(kommun_name(names, code), code)


def place_of(params: Any, processed_dir: Path | None = None, year: int | None = None) -> str | None:
    """The kommun or region a variant is about, as its reports name it: ``"Åsele (2463)"`` from
    the kommun table, ``"Region Skåne (0012)"`` from the report's own metadata
    (``params.place_name``), the code when neither has it; None without one."""
    code = getattr(params, "kommun", None)
    if code is None:
        return None
    folder = paths.PROCESSED_DIR if processed_dir is None else Path(processed_dir)
    name = params.place_name(folder)
    return place_label(name, code) if name else kommun_label(code, folder, year)


def unit_of(params: Any, processed_dir: Path | None = None,
            year: int | None = None) -> dict[str, Any] | None:
    """The kommun or region a variant is about, for lists of reports: ``{"code": "2463",
    "name": "Åsele", "label": "Åsele (2463)", "kind": "kommun", "lan": "24", "lansnamn":
    "Västerbottens län"}`` (a region: ``kind`` "region", its name from the report's metadata);
    None for a report about the whole country."""
    code = getattr(params, "kommun", None)
    if code is None:
        return None
    folder = paths.PROCESSED_DIR if processed_dir is None else Path(processed_dir)
    region = params.place_name(folder)
    if region:
        return {"code": code, "name": region, "label": place_label(region, code),
                "kind": "region", "lan": None, "lansnamn": None}
    found = _names_table(folder, year)
    row = None
    if found is not None:
        matches = found[found["kommun"] == code]
        row = matches.iloc[0] if len(matches) else None
    name = str(row["kommunnamn"]) if row is not None else None
    return {"code": code, "name": name or code, "label": place_label(name, code),
            "kind": "kommun", "lan": str(row["lan"]) if row is not None else code[:2],
            "lansnamn": str(row["lansnamn"]) if row is not None else None}
