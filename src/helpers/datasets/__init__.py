"""``data/processed/``: the tables the notebooks read, built from the sources' raw answers.

- :mod:`.catalogue`: Kolada's catalogue (kommuner, regions, KPIs) the parameters are checked
  against;
- :mod:`.values`: ``values/<KPI>.parquet`` and ``source.json``;
- :mod:`.kommuner`: ``kommuner_<year>.parquet`` (kommungrupp, population, storleksklass);
- :mod:`.eurostat`: ``eurostat/<dataset>.parquet`` and its ``source.json``;
- :mod:`.prepare`: fetch what validated parameters need and settle the data year (what
  ``skr-report fetch``, ``run`` and ``batch`` call before any notebook starts).
"""

from helpers.datasets.catalogue import Catalogue, catalogue_for
from helpers.datasets.eurostat import EurostatRequest, fetch_eurostat, load_eurostat
from helpers.datasets.kommuner import (
    DEFAULT_SIZE_LIMITS,
    KOMMUN_COLUMNS,
    KOMMUNGRUPPER_2023,
    build_kommuner,
    kommun_label,
    kommun_name,
    load_kommuner,
    place_label,
    place_of,
    size_class,
    size_class_labels,
    unit_of,
    validate_size_limits,
)
from helpers.datasets.prepare import FetchResult, Prepared, fetch_for, is_prepared, prepare
from helpers.datasets.values import every_year, load_source, load_values

__all__ = [
    "DEFAULT_SIZE_LIMITS",
    "KOMMUNGRUPPER_2023",
    "KOMMUN_COLUMNS",
    "Catalogue",
    "EurostatRequest",
    "FetchResult",
    "Prepared",
    "build_kommuner",
    "catalogue_for",
    "every_year",
    "fetch_eurostat",
    "fetch_for",
    "is_prepared",
    "kommun_label",
    "kommun_name",
    "load_eurostat",
    "load_kommuner",
    "load_source",
    "load_values",
    "place_label",
    "place_of",
    "prepare",
    "size_class",
    "size_class_labels",
    "unit_of",
    "validate_size_limits",
]
