"""The base model of every report's parameters, the year checks and the registry of models.

Report modules subclass :class:`ReportParams` and register it for their report with
:func:`register_report`; :func:`registered_model` looks a model up among those registered (the
build layer, ``helpers.build.registry``, finds and imports report modules).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from pydantic import (
    BaseModel,
    ConfigDict,
    PrivateAttr,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from helpers.params.errors import ParamsError
from helpers.params.errors import field_error as _error
from helpers.params.units import (
    KOMMUN,
    NEEDS_CATALOGUE,
    catalogue_from,
    is_precheck,
    normalize_unit,
)

FIRST_YEAR = 1990
"""No Kolada series starts earlier; the first year fetched when a report asks for every year."""


_REGISTRY: dict[str, type[ReportParams]] = {}


# --- the year ----------------------------------------------------------------------------------


def latest_possible_year() -> int:
    """The latest year that can have data: the current one (Kolada publishes a year's values
    during the following year)."""
    return datetime.now(UTC).year


def check_year_value(value: Any) -> Any:
    """A data year as written: a whole number from FIRST_YEAR to this year, or None.

    Checked with the parameters, before anything is fetched or written, so ``--year 1800``
    leaves no trace.
    """
    if value is None:
        return None
    if isinstance(value, bool | list | tuple | dict | set):
        raise _error("year_type", f"expected a year such as 2022, got {value!r}. "
                     "Fix: write the year as a 4-digit number, or leave year out for the "
                     "latest year with data.")
    try:
        year = int(str(value).strip()) if not isinstance(value, float) else value
    except ValueError:
        raise _error("year_type", f"expected a year such as 2022, got {value!r}. "
                     "Fix: write the year as a 4-digit number, or leave year out for the "
                     "latest year with data.") from None
    if isinstance(year, float):
        if not year.is_integer():
            raise _error("year_type", f"expected a whole year such as 2022, got {value!r}. "
                         "Fix: write the year as a 4-digit number.")
        year = int(year)
    latest = latest_possible_year()
    if not FIRST_YEAR <= year <= latest:
        when = "is before Kolada's first data year" if year < FIRST_YEAR else "is in the future"
        raise _error("year_range", f"{year} {when}: Kolada's data cover {FIRST_YEAR}–{latest} "
                     "at most. Fix: choose a year in that range, or leave year out for the "
                     "latest year with data.")
    return year


# --- the base model and the registry -----------------------------------------------------------


class ReportParams(BaseModel):
    """Fields every report has. Report modules subclass it and register it for their report."""

    model_config = ConfigDict(extra="forbid")
    report_name: ClassVar[str | None] = None
    title: ClassVar[str | None] = None
    """The report's title in the title block (None: the notebook's first heading)."""
    years_rule: ClassVar[str] = "all"
    """How the data year is settled: "all" = a year in which every required KPI that has data
    has a value; "any" = a year in which at least one has (reports whose indicators each have
    their own latest year)."""

    parameter_labels: ClassVar[dict[str, str]] = {"kommun": "Kommun", "year": "Dataår"}
    """The parameters' names for the reader, in Swedish ("Om rapporten" shows them as a table);
    report models add theirs (``{**ReportParams.parameter_labels, ...}``)."""
    parameter_unset: ClassVar[dict[str, str]] = {"kommun": "ingen (hela landet)",
                                                 "year": "senaste år med data"}
    """What an unset (None) parameter means, in Swedish; default "inte angiven"."""

    report: str
    kommun: str | None = None
    year: int | None = None
    """The data year; None means the latest year with data."""

    _source: Path | None = PrivateAttr(default=None)

    @classmethod
    def allowed_keys(cls) -> list[str]:
        return list(cls.model_fields)

    @classmethod
    def unit_types(cls, data: Mapping[str, Any]) -> tuple[str, ...]:
        """Kolada unit types the ``kommun`` field accepts, given the raw data (override per model,
        e.g. ``("L",)`` when ``data.get("level") == "region"``)."""
        return (KOMMUN,)

    @field_validator("year", mode="before")
    @classmethod
    def _check_year(cls, value: Any) -> Any:
        return check_year_value(value)

    @model_validator(mode="before")
    @classmethod
    def _check_keys_and_kommun(cls, data: Any, info: ValidationInfo) -> Any:
        if not isinstance(data, Mapping):
            return data
        unknown = [str(key) for key in data if key not in cls.model_fields]
        if unknown:
            raise _error(
                "unknown_keys",
                f"unknown key(s) {', '.join(unknown)}. Allowed keys for this report: "
                f"{', '.join(cls.allowed_keys())}. Fix: correct the spelling or remove the key.",
                key=", ".join(unknown))
        if cls.report_name is not None and data.get("report") != cls.report_name:
            raise _error("wrong_report", f"report must be {cls.report_name!r} for this model.",
                         key="report")
        if data.get("kommun") is not None:
            data = dict(data)
            try:
                data["kommun"] = normalize_unit(data["kommun"], catalogue_from(info),
                                                cls.unit_types(data))
            except PydanticCustomError as exc:
                if exc.type == NEEDS_CATALOGUE and is_precheck(info):
                    return data  # a name: resolved once the catalogue is at hand
                raise _error(exc.type, exc.message(), key="kommun") from None
        return data

    @classmethod
    def from_notebook(cls, namespace: Mapping[str, Any]) -> ReportParams:
        """The model rebuilt from the variables of a notebook's ``parameters`` cell."""
        data = {key: namespace[key] for key in cls.model_fields if key in namespace}
        data.setdefault("report", cls.report_name)
        return cls.model_validate(data)

    @classmethod
    def parameter_text(cls, key: str, value: Any) -> str | None:
        """A parameter's value as the reader sees it, in Swedish; None: the general form (lists
        joined by commas, ja/nej, decimal comma). Report models override it for values that
        need words (codes, classes)."""
        return None

    def required_kpis(self) -> list[str]:
        """The KPI ids this parameter set needs fetched (report models override)."""
        return []

    def prepare_data(self, client: Any, processed_dir: Path) -> None:
        """Hook run after the values are fetched: write any further Kolada data the notebook
        needs (metadata, group members) into ``processed_dir``, so notebooks never fetch."""

    def eurostat_requests(self) -> list[Any]:
        """Eurostat data the notebook reads (``helpers.datasets.EurostatRequest``s); fetched by
        ``datasets.prepare`` into ``data/processed/eurostat/`` (reports override)."""
        return []

    def check_eurostat(self, tables: Mapping[str, Any]) -> None:
        """Check the parameters against the Eurostat tables fetched (dataset → tidy table),
        before they are written; raise ``ParamsError`` naming the allowed values."""

    def data_files(self) -> list[str]:
        """Files (relative to ``data/processed``) that :meth:`prepare_data` writes and the
        notebook reads: with the values and the kommun table, what must be in place for a
        notebook run by hand to need no fetch (reports with ``prepare_data`` override)."""
        return []

    def required_years(self) -> list[int] | None:
        """The years to fetch; None (the default) means every year Kolada has."""
        return None

    def place_name(self, processed_dir: Path) -> str | None:
        """The name of ``kommun`` when it is not a kommun of the kommun table (e.g. a region),
        read from what ``prepare_data`` wrote; None when the report has no such table."""
        return None

    def title_block(self, place: str, year: int | None, kolada: str) -> tuple[str, str]:
        """Subtitle and dateline of the title block: what the report covers and what it is built
        from. ``place`` is "Hela landet" or e.g. "Åsele kommun (2463)"; ``kolada`` names the
        Kolada data, e.g. "inspelad ögonblicksbild av Kolada (värden från augusti 2024), läst
        23 augusti 2024". Reports built from more than Kolada override this."""
        return place + (f" · data för {year}" if year is not None else ""), f"Data: {kolada}"

    def variant_name(self, stem: str, year: int | None = None) -> str:
        """``stem``, ``stem-<kommun>`` (not doubled when the stem already ends in the kommun),
        then ``-<year>`` when ``year`` is given: the year of a run that is not the default
        one (``valfard-2463-2021``), so it never takes the default variant's folder."""
        name = stem
        if self.kommun is not None and not stem.endswith(f"-{self.kommun}"):
            name = f"{stem}-{self.kommun}"
        if year is not None and not name.endswith(f"-{year}"):
            name = f"{name}-{year}"
        return name

    @property
    def source(self) -> Path | None:
        """The parameter file this was loaded from, if any."""
        return self._source


def register_report(name: str) -> Callable[[type[ReportParams]], type[ReportParams]]:
    """Class decorator: the model validating parameter files with ``report: <name>``."""

    def decorator(cls: type[ReportParams]) -> type[ReportParams]:
        if not issubclass(cls, ReportParams):
            raise TypeError(f"{cls.__name__} must subclass ReportParams")
        known = _REGISTRY.get(name)
        if known is not None and _qualname(known) != _qualname(cls):
            raise ValueError(f"report {name!r} is already registered by {_qualname(known)}")
        cls.report_name = name
        _REGISTRY[name] = cls
        return cls

    return decorator


def _qualname(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


# --- the data year (once the values are fetched) -----------------------------------------------


def check_year(params: ReportParams, years_with_data: Iterable[int]) -> int:
    """The data year to use: ``params.year`` if it has data, else the latest year with data.

    Raises ParamsError naming the years that have data when ``params.year`` has none (or when no
    year has data at all). Runs after values are fetched and before the notebook starts.
    """
    years = sorted({int(y) for y in years_with_data})
    where = params.source or "<parameters>"
    if not years:
        raise ParamsError(f"{where}: key 'year': no year has data for this report's KPIs. "
                          "Fix: check the KPI ids and that `skr-report fetch` succeeded.")
    if params.year is None:
        return years[-1]
    if params.year not in years:
        raise ParamsError(f"{where}: key 'year': {params.year} has no data for this report's "
                          f"KPIs. Years with data: {format_years(years)}. "
                          f"Fix: choose one of these, or leave year out for the latest "
                          f"({years[-1]}).")
    return params.year


def format_years(years: Iterable[int]) -> str:
    """``[2010, 2011, 2012, 2015]`` → ``"2010–2012, 2015"``."""
    ranges: list[list[int]] = []
    for year in sorted(set(years)):
        if ranges and year == ranges[-1][1] + 1:
            ranges[-1][1] = year
        else:
            ranges.append([year, year])
    return ", ".join(str(a) if a == b else f"{a}–{b}" for a, b in ranges)



def registered_model(report: str) -> type[ReportParams] | None:
    """The model registered for ``report`` by a report module already imported, else None."""
    return _REGISTRY.get(report)


def registered_reports() -> list[str]:
    """The names of the reports whose modules have been imported."""
    return sorted(_REGISTRY)
