"""The strict parameter model of the reports and its loading from ``params/*.yaml``.

Every parameter file names its report (``report: valfard_i_hela_landet``); the report's module
registers a model for it with :func:`register_report`. :func:`load_params` reads the YAML, picks
that model and validates it strictly: unknown keys are rejected with the list of allowed keys,
kommun codes and names are normalised to 4-character codes (closest matches when unknown), KPI ids
are checked against the Kolada catalogue. Every problem becomes a :class:`ParamsError` whose
message names the file, the key, the problem and the fix.

The octal trap: YAML 1.1 (PyYAML) reads an unquoted ``kommun: 0114`` as the octal number 76.
:func:`read_yaml` uses :class:`ParamsLoader`, a ``SafeLoader`` that keeps every integer scalar
written with a leading zero as the string it was written as, so ``0114`` stays ``"0114"``. Integers
from elsewhere (e.g. a dict loaded with plain ``yaml.safe_load``) are read as decimal first
(``114`` → ``"0114"``); only when that is no known unit is the octal reading tried (``76`` →
``"0114"``). That fallback cannot tell ``0162`` (Danderyd, octal 114) from ``114``: read files with
:func:`read_yaml`.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import cache
from importlib.metadata import entry_points
from pathlib import Path
from typing import Annotated, Any, ClassVar, Protocol

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    model_validator,
)
from pydantic_core import PydanticCustomError
from rapidfuzz import fuzz, process

KOMMUN = "K"
"""Kolada unit type of a kommun."""
REGION = "L"
"""Kolada unit type of a region or Riket (``0000``)."""
UNIT_TYPE_NAMES = {KOMMUN: "kommun", REGION: "region/Riket"}

ENTRY_POINT_GROUP = "skr_report.reports"
"""Entry-point group of report plug-ins in other packages: ``<report> = "<module>"``."""

_REGISTRY: dict[str, type[ReportParams]] = {}


class ParamsError(ValueError):
    """A parameter set is invalid; the message names the file, the key, the problem and the fix."""


class CatalogueLike(Protocol):
    """What validation needs from the Kolada catalogue (``helpers.datasets.Catalogue``)."""

    kommuner: Mapping[str, str]
    regions: Mapping[str, str]
    kpis: Mapping[str, str]


# --- reading YAML ------------------------------------------------------------------------------

_LEADING_ZERO_INT = re.compile(r"^[-+]?0[0-9_]+$")


class ParamsLoader(yaml.SafeLoader):
    """A SafeLoader that keeps integer scalars written with a leading zero (``0114``) as strings."""


def _construct_int_keeping_leading_zero(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    text = loader.construct_scalar(node)
    if _LEADING_ZERO_INT.match(text):
        return text
    return yaml.SafeLoader.construct_yaml_int(loader, node)


ParamsLoader.add_constructor("tag:yaml.org,2002:int", _construct_int_keeping_leading_zero)


def read_yaml(path: str | Path) -> dict[str, Any]:
    """Read a parameter file into a dict, keeping ``0114`` as the string ``"0114"``."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ParamsError(f"{path}: no such parameter file. Fix: check the path.") from None
    try:
        data = yaml.load(text, Loader=ParamsLoader)  # a SafeLoader subclass: safe
    except yaml.YAMLError as exc:
        raise ParamsError(f"{path}: not valid YAML ({exc}). Fix: correct the syntax.") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ParamsError(
            f"{path}: expected a mapping of keys to values, got {type(data).__name__}. "
            "Fix: write one `key: value` per line, starting with `report: <name>`."
        )
    return data


# --- units (kommuner, regions) -----------------------------------------------------------------


def _error(kind: str, message: str, key: str | None = None) -> PydanticCustomError:
    """A validation error whose text is shown as is (no "Value error, " prefix, no templating);
    ``key`` names the parameter when the error is raised by a model-level validator."""
    return PydanticCustomError(kind, "{message}", {"message": message, "key": key})


def _units(catalogue: CatalogueLike, allowed_types: Sequence[str]) -> dict[str, str]:
    units: dict[str, str] = {}
    if KOMMUN in allowed_types:
        units.update(catalogue.kommuner)
    if REGION in allowed_types:
        units.update(catalogue.regions)
    return units


def _allowed_text(allowed_types: Sequence[str]) -> str:
    return " or ".join(UNIT_TYPE_NAMES[t] for t in allowed_types)


def _code_candidates(value: Any) -> list[str]:
    """The 4-character codes a value may mean: decimal reading first, then the octal reading."""
    if isinstance(value, bool):
        return []
    if isinstance(value, int):
        candidates = [f"{value:04d}"] if 0 <= value <= 9999 else []
        if value > 0:
            candidates.append(f"{int(oct(value)[2:]):04d}")  # 76 -> "0114": YAML 1.1 read 0114
        return candidates
    text = str(value).strip()
    if text.isdigit() and len(text) <= 4:
        return [text.zfill(4)]
    return []


def _name_keys(name: str) -> list[str]:
    """Lookup keys of a name: case-folded, without " kommun" (and a genitive s before it)."""
    key = " ".join(name.strip().casefold().split())
    keys = [key]
    if key.endswith(" kommun"):
        key = key.removesuffix(" kommun")
        keys += [key, key[:-1]] if key.endswith("s") else [key]
    return keys


def closest_matches(query: str, choices: Mapping[str, str], limit: int = 3) -> list[str]:
    """The ``limit`` entries of ``choices`` (id → title) closest to ``query``, as "id title".

    A query with a digit in it is compared with the ids (those starting with it first), anything
    else with the titles.
    """
    query = str(query).strip()
    if any(ch.isdigit() for ch in query):
        haystack, scorer = {key: key for key in choices}, _id_score
    else:
        haystack, scorer = dict(choices), fuzz.token_set_ratio
    found = process.extract(query, haystack, scorer=scorer, limit=limit,
                            processor=lambda s: s.casefold())
    return [f"{key} {choices[key]}" for _match, _score, key in found]


def _id_score(query: str, choice: str, **kwargs: Any) -> float:
    return fuzz.ratio(query, choice, **kwargs) + (20 if choice.startswith(query) else 0)


def normalize_unit(value: Any, catalogue: CatalogueLike | None,
                   allowed_types: Sequence[str] = (KOMMUN,)) -> str:
    """Resolve a kommun/region given as code (int or str) or name to its 4-character code.

    ``allowed_types`` holds Kolada unit types: ``"K"`` kommun, ``"L"`` region or Riket. Without a
    catalogue only the format of codes is normalised (names cannot be resolved). Raises
    ``PydanticCustomError`` (a ``ValueError``) naming the closest matches when unknown.
    """
    allowed = _allowed_text(allowed_types)
    candidates = _code_candidates(value)
    if catalogue is None:
        if candidates:
            return candidates[0]
        raise _error("unit_needs_catalogue",
                          f"{value!r} is not a 4-digit {allowed} code, and names can only be "
                          "resolved against the Kolada catalogue. Fix: give the code, e.g. 0114.")
    units = _units(catalogue, allowed_types)
    for code in candidates:
        if code in units:
            return code
    by_name = {_name_keys(title)[0]: code for code, title in units.items()}
    for key in _name_keys(str(value)):
        if key in by_name:
            return by_name[key]
    return _raise_unknown_unit(value, candidates, catalogue, allowed_types)


def _raise_unknown_unit(value: Any, candidates: list[str], catalogue: CatalogueLike,
                        allowed_types: Sequence[str]) -> str:
    allowed = _allowed_text(allowed_types)
    other = _units(catalogue, [t for t in UNIT_TYPE_NAMES if t not in allowed_types])
    wrong_type = next((c for c in candidates if c in other), None)
    if wrong_type is not None:
        raise _error("unit_not_allowed",
                          f"{wrong_type} ({other[wrong_type]}) is not a {allowed} here. "
                          f"Fix: give a {allowed} code or name.")
    matches = closest_matches(candidates[0] if candidates else str(value),
                              _units(catalogue, allowed_types))
    raise _error("unknown_unit",
                      f"unknown {allowed} {value!r}. Closest matches: {'; '.join(matches)}. "
                      f"Fix: give one of these codes (quoted, e.g. \"0114\") or an exact name.")


def normalize_kommun(value: Any, catalogue: CatalogueLike | None) -> str:
    """A kommun given as ``114``, ``"0114"``, octal-read ``76`` or a name → ``"0114"``."""
    return normalize_unit(value, catalogue, (KOMMUN,))


def _catalogue_from(info: ValidationInfo) -> CatalogueLike | None:
    return (info.context or {}).get("catalogue") if isinstance(info.context, dict) else None


def unit_code(*allowed_types: str) -> Any:
    """An annotated ``str`` type for unit fields, e.g. ``members: list[unit_code("K")]``."""
    types = allowed_types or (KOMMUN,)

    def _validate(value: Any, info: ValidationInfo) -> str:
        return normalize_unit(value, _catalogue_from(info), types)

    return Annotated[str, BeforeValidator(_validate)]


KommunCode = unit_code(KOMMUN)
"""A kommun code field: ``114``, ``"0114"``, ``76`` (octal-read) or a name → ``"0114"``."""


# --- KPI ids -----------------------------------------------------------------------------------


def check_kpi(kpi_id: str, catalogue: CatalogueLike | None) -> str:
    """Return the KPI id if the catalogue knows it, else raise naming the closest ids/titles."""
    kpi_id = str(kpi_id).strip().upper()
    if catalogue is None or kpi_id in catalogue.kpis:
        return kpi_id
    matches = closest_matches(kpi_id, catalogue.kpis)
    raise _error(
        "unknown_kpi",
        f"unknown KPI id {kpi_id!r}: not in the Kolada catalogue. Closest: {'; '.join(matches)}. "
        "Fix: use an id from https://www.kolada.se (e.g. N01951).")


def _check_kpi_field(value: str, info: ValidationInfo) -> str:
    return check_kpi(value, _catalogue_from(info))


KpiId = Annotated[str, AfterValidator(_check_kpi_field)]
"""A KPI id field, checked against the catalogue given in the validation context."""


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
                data["kommun"] = normalize_unit(data["kommun"], _catalogue_from(info),
                                                cls.unit_types(data))
            except PydanticCustomError as exc:
                raise _error(exc.type, exc.message(), key="kommun") from None
        return data

    @classmethod
    def from_notebook(cls, namespace: Mapping[str, Any]) -> ReportParams:
        """The model rebuilt from the variables of a notebook's ``parameters`` cell."""
        data = {key: namespace[key] for key in cls.model_fields if key in namespace}
        data.setdefault("report", cls.report_name)
        return cls.model_validate(data)

    def required_kpis(self) -> list[str]:
        """The KPI ids this parameter set needs fetched (report models override)."""
        return []

    def prepare_data(self, client: Any, processed_dir: Path) -> None:
        """Hook run after the values are fetched: write any further Kolada data the notebook
        needs (metadata, group members) into ``processed_dir``, so notebooks never fetch."""

    def required_years(self) -> list[int] | None:
        """The years to fetch; None (the default) means every year Kolada has."""
        return None

    def title_block(self, place: str, year: int | None, kolada: str) -> tuple[str, str]:
        """Subtitle and dateline of the title block: what the report covers and what it is built
        from. ``place`` is "Hela landet" or e.g. "Åsele kommun (2463)"; ``kolada`` names the
        Kolada data, e.g. "inspelad ögonblicksbild av Kolada (värden från augusti 2024), läst
        23 augusti 2024". Reports built from more than Kolada override this."""
        return place + (f" · data för {year}" if year is not None else ""), f"Data: {kolada}"

    def variant_name(self, stem: str) -> str:
        """``stem`` or ``stem-<kommun>`` (not doubled when the stem already ends in the kommun)."""
        if self.kommun is None or stem.endswith(f"-{self.kommun}"):
            return stem
        return f"{stem}-{self.kommun}"

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


_REGISTER_CALL = re.compile(r"""^@register_report\(\s*["']([\w-]+)["']""", re.MULTILINE)


@cache
def report_modules() -> dict[str, str]:
    """Report name → module, found without importing anything.

    Two sources: the modules of the ``helpers`` package whose source registers a report
    (``@register_report("<name>")``: the README's recipe), and the entry points of group
    ``skr_report.reports`` declared by installed packages (``<name> = "<module>"``).
    """
    import helpers

    found: dict[str, str] = {}
    for module in pkgutil.iter_modules(helpers.__path__):
        path = Path(module.module_finder.path) / f"{module.name}.py"  # type: ignore[union-attr]
        try:
            text = path.read_text(encoding="utf-8")
        except OSError:
            continue
        for name in _REGISTER_CALL.findall(text):
            found.setdefault(name, f"helpers.{module.name}")
    for point in entry_points(group=ENTRY_POINT_GROUP):
        found.setdefault(point.name, point.value.split(":", 1)[0])
    return found


def _import_report(name: str) -> None:
    module = report_modules().get(name)
    if module is not None and name not in _REGISTRY:
        importlib.import_module(module)


def registered_reports() -> dict[str, type[ReportParams]]:
    """Report name → model, after importing every report module found (see report_modules)."""
    for name in report_modules():
        _import_report(name)
    return dict(_REGISTRY)


def model_for(report: Any, path: str | Path = "<parameters>") -> type[ReportParams]:
    """The registered model for a report name, or a ParamsError listing the known reports.

    Only the module of the named report is imported."""
    if isinstance(report, str):
        _import_report(report)
    if report in _REGISTRY:
        return _REGISTRY[report]
    known = ", ".join(sorted({*_REGISTRY, *report_modules()})) or "(none registered)"
    if report is None:
        raise ParamsError(f"{path}: key 'report' is missing. Fix: add `report: <name>`, one of: "
                          f"{known}.")
    raise ParamsError(f"{path}: key 'report': unknown report {report!r}. Fix: use one of: "
                      f"{known}, or add the report as README.md \"Adding a report\" says.")


# --- loading -----------------------------------------------------------------------------------


def load_params(path: str | Path, catalogue: CatalogueLike | None = None,
                **overrides: Any) -> ReportParams:
    """Read a parameter file, apply overrides (None values are ignored) and validate strictly."""
    data = read_yaml(path)
    data.update({key: value for key, value in overrides.items() if value is not None})
    return validate_params(data, catalogue, path)


def validate_params(data: Mapping[str, Any], catalogue: CatalogueLike | None = None,
                    path: str | Path = "<parameters>") -> ReportParams:
    """Validate a dict against the model of its ``report``; errors become a ParamsError."""
    model = model_for(data.get("report"), path)
    try:
        params = model.model_validate(dict(data), context={"catalogue": catalogue})
    except ValidationError as exc:
        raise ParamsError(_describe(exc, path)) from None
    params._source = Path(path) if not str(path).startswith("<") else None
    return params


def _describe(exc: ValidationError, path: str | Path) -> str:
    lines = [f"{path}: invalid parameters:"]
    for error in exc.errors(include_url=False):
        ctx = error.get("ctx") or {}
        key = ".".join(str(p) for p in error["loc"]) or ctx.get("key") or "-"
        message = error["msg"]
        if "message" not in ctx:  # pydantic's own wording: add what was given and the fix
            message += f" (got {error['input']!r}). Fix: correct this value in the file"
        lines.append(f"  - key {key!r}: {message}")
    return "\n".join(lines)


# --- the year ----------------------------------------------------------------------------------


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


__all__ = [
    "KOMMUN",
    "REGION",
    "KommunCode",
    "KpiId",
    "ParamsError",
    "ParamsLoader",
    "ReportParams",
    "check_kpi",
    "check_year",
    "closest_matches",
    "format_years",
    "load_params",
    "model_for",
    "normalize_kommun",
    "normalize_unit",
    "read_yaml",
    "register_report",
    "registered_reports",
    "report_modules",
    "unit_code",
    "validate_params",
]
