"""The strict parameter model of the reports and its loading from ``params/*.yaml``.

Every parameter file names its report (``report: valfard_i_hela_landet``); the report's module
registers a model for it with :func:`register_report`. :func:`load_params` reads the YAML, picks
that model and validates it strictly: unknown keys are rejected with the list of allowed keys,
kommun codes and names are normalised to 4-character codes (closest matches when unknown), KPI ids
are checked against the Kolada catalogue. Every problem becomes a :class:`ParamsError` whose
message names the file, the key, the problem and the fix.

The octal trap: YAML 1.1 (PyYAML) reads an unquoted ``kommun: 0114`` as the octal number 76.
:func:`read_yaml` uses :class:`ParamsLoader`, which reads every scalar as written: only a plain
decimal is an integer, so ``0114`` stays ``"0114"`` and ``114`` is padded to ``"0114"``. A plain
integer is never re-read as octal: ``kommun: 76`` is the unknown kommun 0076 (closest matches
named), not Upplands Väsby.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from functools import cache
from importlib.metadata import entry_points
from pathlib import Path
from typing import Annotated, Any, ClassVar, Protocol, get_args

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError
from pydantic_core.core_schema import ErrorType
from rapidfuzz import fuzz, process

FIRST_YEAR = 1990
"""No Kolada series starts earlier; the first year fetched when a report asks for every year."""

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


class OptionError(ParamsError):
    """A command-line option (``--kommuner``, ``--jobs``) has a value that cannot be used; the
    message names the option and the values it accepts."""


class CatalogueLike(Protocol):
    """What validation needs from the Kolada catalogue (``helpers.datasets.Catalogue``)."""

    kommuner: Mapping[str, str]
    regions: Mapping[str, str]
    kpis: Mapping[str, str]


# --- reading YAML ------------------------------------------------------------------------------

MAX_PARAMS_BYTES = 1_000_000
"""A parameter file is a few lines; anything bigger is not one (and is not parsed)."""

_DECIMAL_INT = re.compile(r"^[-+]?(0|[1-9][0-9_]*)$")
_BOOLEAN = re.compile(r"^(true|false)$", re.IGNORECASE)


class ParamsLoader(yaml.SafeLoader):
    """A SafeLoader that reads scalars as they are written (the YAML 1.2 core schema).

    PyYAML follows YAML 1.1, where an unquoted ``0114`` is the octal number 76, ``1:54`` the
    base-60 number 114, ``0x72`` hex and ``no``/``yes``/``on``/``off`` booleans. Here only a
    plain decimal (``114``, ``2022``, ``6_000``) is an integer and only ``true``/``false`` are
    booleans; every other such scalar stays the text it was written as (``"0114"``, ``"NO"``),
    so a kommun code keeps its leading zero and nothing is silently re-read. A key given twice in
    one mapping is an error (PyYAML would keep the last one without a word), and so is an alias
    (``*name``: a few lines of aliases can expand to billions of values).
    """


def _compose_node_without_aliases(loader: ParamsLoader, parent: Any, index: Any) -> Any:
    if loader.check_event(yaml.AliasEvent):
        event = loader.peek_event()
        raise yaml.composer.ComposerError(
            None, None, f"the alias *{event.anchor} repeats another value; parameter files "
            "write every value out (no anchors & and aliases *)", event.start_mark)
    return yaml.SafeLoader.compose_node(loader, parent, index)


ParamsLoader.compose_node = _compose_node_without_aliases  # type: ignore[method-assign]


def _construct_int_as_written(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    text = loader.construct_scalar(node)
    if _DECIMAL_INT.match(text):
        return yaml.SafeLoader.construct_yaml_int(loader, node)
    return text


def _construct_bool_as_written(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    text = loader.construct_scalar(node)
    if _BOOLEAN.match(text):
        return yaml.SafeLoader.construct_yaml_bool(loader, node)
    return text


def _construct_mapping_without_duplicates(loader: yaml.SafeLoader,
                                          node: yaml.MappingNode) -> dict[Any, Any]:
    seen: dict[Any, yaml.Node] = {}
    for key_node, _value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            first = seen.get(key)
        except TypeError:  # an unhashable key: let construct_mapping report it
            continue
        if first is not None:
            raise yaml.constructor.ConstructorError(
                None, None, f"key {key!r} is given twice (first on line "
                f"{first.start_mark.line + 1})", key_node.start_mark)
        seen[key] = key_node
    return loader.construct_mapping(node, deep=True)


ParamsLoader.add_constructor("tag:yaml.org,2002:int", _construct_int_as_written)
ParamsLoader.add_constructor("tag:yaml.org,2002:bool", _construct_bool_as_written)
ParamsLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping_without_duplicates)


def read_yaml(path: str | Path) -> dict[str, Any]:
    """Read a parameter file into a dict, scalars as written (``0114`` stays ``"0114"``).

    Every problem with the file itself (missing, a folder, unreadable, not UTF-8 text, empty,
    not valid YAML with line and column, not a mapping) is a :class:`ParamsError`.
    """
    path = Path(path)
    text = _read_text(path)
    if not text.strip():
        raise ParamsError(f"{path}: the parameter file is empty. Fix: write one `key: value` "
                          "per line, starting with `report: <name>` (see params/*.yaml).")
    try:
        data = yaml.load(text, Loader=ParamsLoader)  # a SafeLoader subclass: safe
    except yaml.YAMLError as exc:
        raise ParamsError(_describe_yaml_error(path, exc)) from None
    if data is None:
        raise ParamsError(f"{path}: the parameter file holds only comments. Fix: add "
                          "`report: <name>` and the report's keys (see params/*.yaml).")
    if not isinstance(data, dict):
        kind = {list: "a list", str: "a single text"}.get(type(data), type(data).__name__)
        raise ParamsError(
            f"{path}: expected a mapping of keys to values, got {kind}. "
            "Fix: write one `key: value` per line, starting with `report: <name>`.")
    return data


def _read_text(path: Path) -> str:
    try:
        if path.is_dir():
            raise ParamsError(f"{path}: is a folder, not a parameter file. Fix: give a .yaml "
                              "file, e.g. params/valfard.yaml.")
        size = path.stat().st_size
        if size > MAX_PARAMS_BYTES:
            raise ParamsError(f"{path}: {size} bytes is far too big for a parameter file "
                              f"(at most {MAX_PARAMS_BYTES}). Fix: check the path.")
        data = path.read_bytes()
    except FileNotFoundError:
        raise ParamsError(f"{path}: no such parameter file. Fix: check the path.") from None
    except PermissionError:
        raise ParamsError(f"{path}: the parameter file cannot be read (permission denied). "
                          "Fix: check the file's permissions.") from None
    except OSError as exc:
        raise ParamsError(f"{path}: the parameter file cannot be read ({exc.strerror or exc})."
                          " Fix: check the path.") from None
    if b"\x00" in data:
        raise ParamsError(f"{path}: not a text file (it holds NUL bytes). Fix: give a YAML "
                          "parameter file, e.g. params/valfard.yaml.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise ParamsError(f"{path}: not UTF-8 text (byte 0x{data[exc.start]:02x} on line "
                          f"{line} cannot be read). Fix: save the file as UTF-8 text (most "
                          "editors offer it under 'Save as… / Encoding').") from None


_YAML_FIXES = (
    ("twice", "Fix: give each key once."),
    ("alias", "Fix: write the value out where the alias stands."),
    ("could not determine a constructor", "Fix: remove the '!' tag; parameter files hold plain "
                                          "values only."),
    ("quoted scalar", "Fix: close the quote."),
    ("flow sequence", "Fix: close the list with ']' (items separated by ',')."),
    ("flow mapping", "Fix: close the mapping with '}' (entries separated by ',')."),
    ("'\\t'", "Fix: indent with spaces, not tabs."),
)


def _describe_yaml_error(path: Path, exc: yaml.YAMLError) -> str:
    """``<file>, line L, column C: not valid YAML (problem; where it started). Fix: …``"""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    where = f", line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    what = f"{context}: {problem}" if context and "twice" not in problem else problem
    started = getattr(exc, "context_mark", None)
    if started is not None and mark is not None and started.line != mark.line:
        what += f"; it started on line {started.line + 1}, column {started.column + 1}"
    fix = next((text for key, text in _YAML_FIXES if key in what),
               "Fix: quote values that contain ':', '#', '[' or '{', indent with spaces, and "
               "write one `key: value` per line.")
    return f"{path}{where}: not valid YAML ({what}). {fix}"


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


_NEEDS_CATALOGUE = "unit_needs_catalogue"


def _code_candidates(value: Any) -> list[str]:
    """The 4-character code a value means, read as written (decimal): ``114`` → ``"0114"``."""
    if isinstance(value, bool):
        return []
    if isinstance(value, int):
        return [f"{value:04d}"] if 0 <= value <= 9999 else []
    text = str(value).strip()
    if text.isdigit() and len(text) <= 4:
        return [text.zfill(4)]
    return []


def _check_unit_shape(value: Any, allowed: str) -> None:
    """Values that cannot be one unit: empty, yes/no, a list, several codes in one text."""
    if isinstance(value, bool):
        raise _error("unit_type", f"expected one {allowed} code or name, got the yes/no value "
                     f"{str(value).lower()}. Fix: give a code in quotes, e.g. \"0114\".")
    if isinstance(value, list | tuple | set | dict):
        raise _error("unit_type", f"expected one {allowed} code or name, got "
                     f"{type(value).__name__} {value!r}. Fix: give one code, e.g. \"0114\"; "
                     "for many kommuner run `skr-report batch --kommuner CODE,CODE`.")
    if isinstance(value, float):
        raise _error("unit_type", f"expected a {allowed} code, got the number {value!r}. "
                     "Fix: give the 4-digit code in quotes, e.g. \"0114\".")
    text = str(value).strip()
    if not text:
        raise _error("unit_empty", f"the {allowed} is empty. Fix: give a code (e.g. \"0114\") "
                     "or a name, or leave the key out.")
    if "," in text and all(part.strip().isdigit() for part in text.split(",") if part.strip()):
        raise _error("unit_many", f"{text!r} names several units; one is expected here. Fix: "
                     "give one code; for many kommuner run `skr-report batch --kommuner "
                     f"{text}`.")


def _name_keys(name: str) -> list[str]:
    """Lookup keys of a name: NFC (``ö`` typed as ``o`` + combining diaeresis, as macOS file
    names and some keyboards give it, is ``ö``), case-folded, without " kommun" (and a genitive
    s before it)."""
    key = " ".join(unicodedata.normalize("NFC", name).strip().casefold().split())
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
    query = unicodedata.normalize("NFC", str(query)).strip()
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
    _check_unit_shape(value, allowed)
    candidates = _code_candidates(value)
    if catalogue is None:
        if candidates:
            return candidates[0]
        raise _error(_NEEDS_CATALOGUE,
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
                      f"Fix: give one of these codes (e.g. 0114) or an exact name.")


def normalize_kommun(value: Any, catalogue: CatalogueLike | None) -> str:
    """A kommun given as ``114``, ``"0114"`` or a name → ``"0114"``."""
    return normalize_unit(value, catalogue, (KOMMUN,))


def _is_precheck(info: ValidationInfo) -> bool:
    return isinstance(info.context, dict) and bool(info.context.get("precheck"))


def _catalogue_from(info: ValidationInfo) -> CatalogueLike | None:
    return (info.context or {}).get("catalogue") if isinstance(info.context, dict) else None


def unit_code(*allowed_types: str) -> Any:
    """An annotated ``str`` type for unit fields, e.g. ``members: list[unit_code("K")]``."""
    types = allowed_types or (KOMMUN,)

    def _validate(value: Any, info: ValidationInfo) -> str:
        return normalize_unit(value, _catalogue_from(info), types)

    return Annotated[str, BeforeValidator(_validate)]


KommunCode = unit_code(KOMMUN)
"""A kommun code field: ``114``, ``"0114"`` or a name → ``"0114"``."""


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
                data["kommun"] = normalize_unit(data["kommun"], _catalogue_from(info),
                                                cls.unit_types(data))
            except PydanticCustomError as exc:
                if exc.type == _NEEDS_CATALOGUE and _is_precheck(info):
                    return data  # a name: resolved once the catalogue is at hand
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

    def eurostat_requests(self) -> list[Any]:
        """Eurostat data the notebook reads (``helpers.datasets.EurostatRequest``s); fetched by
        ``datasets.prepare`` into ``data/processed/eurostat/`` (reports override)."""
        return []

    def check_eurostat(self, tables: Mapping[str, Any]) -> None:
        """Check the parameters against the Eurostat tables fetched (dataset → tidy table),
        before they are written; raise ``ParamsError`` naming the allowed values."""

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
    if report is not None and not isinstance(report, str):
        raise ParamsError(f"{path}: key 'report': expected the name of a report, got "
                          f"{type(report).__name__} {report!r}. Fix: write `report: <name>`, "
                          f"one of: {known}.")
    if report is None:
        raise ParamsError(f"{path}: key 'report' is missing. Fix: add `report: <name>`, one of: "
                          f"{known}.")
    raise ParamsError(f"{path}: key 'report': unknown report {report!r}. Fix: use one of: "
                      f"{known}, or add the report as README.md \"Adding a report\" says.")


# --- loading -----------------------------------------------------------------------------------


def load_params(path: str | Path, catalogue: CatalogueLike | None = None, *,
                options: Mapping[str, str] | None = None, **overrides: Any) -> ReportParams:
    """Read a parameter file, apply overrides (None values are ignored) and validate strictly.

    ``options`` names the command-line option an override came from when it is not ``--<key>``
    (e.g. ``{"kommun": "--kommuner"}``); error messages say "(from --kommuner)"."""
    data = read_yaml(path)
    given = {key: value for key, value in overrides.items() if value is not None}
    data.update(given)
    origins = {key: (options or {}).get(key, f"--{key}") for key in given}
    return validate_params(data, catalogue, path, overridden=origins)


def precheck_params(path: str | Path, *, options: Mapping[str, str] | None = None,
                    **overrides: Any) -> None:
    """Check a parameter file and overrides as far as possible without the Kolada catalogue.

    Everything but kommun names and KPI ids (the file, the keys, types, years, formats of
    codes) is checked here, before anything is fetched or written; raises ``ParamsError``.
    """
    data = read_yaml(path)
    given = {key: value for key, value in overrides.items() if value is not None}
    data.update(given)
    origins = {key: (options or {}).get(key, f"--{key}") for key in given}
    model = model_for(data.get("report"), path)
    try:
        model.model_validate(data, context={"catalogue": None, "precheck": True})
    except ValidationError as exc:
        errors = [e for e in exc.errors(include_url=False) if e["type"] != _NEEDS_CATALOGUE]
        if errors:
            raise ParamsError(_describe(errors, path, origins)) from None


def validate_params(data: Mapping[str, Any], catalogue: CatalogueLike | None = None,
                    path: str | Path = "<parameters>",
                    overridden: Mapping[str, str] | Iterable[str] = ()) -> ReportParams:
    """Validate a dict against the model of its ``report``; errors become a ParamsError.

    ``overridden`` names the keys given on the command line (``year``, or ``{"year":
    "--year"}``), so that an error says where the value came from."""
    model = model_for(data.get("report"), path)
    try:
        params = model.model_validate(dict(data), context={"catalogue": catalogue})
    except ValidationError as exc:
        raise ParamsError(_describe(exc.errors(include_url=False), path, overridden)) from None
    params._source = Path(path) if not str(path).startswith("<") else None
    return params


_PYDANTIC_ERROR_TYPES = frozenset(get_args(ErrorType))


def _describe(errors: Iterable[Any], path: str | Path,
              overridden: Mapping[str, str] | Iterable[str] = ()) -> str:
    """One line per error: the key (and the option it came from), the problem, the fix.

    Our own messages (``_error``, or a ``ValueError`` raised by a validator) already name the
    value given and are shown as written; pydantic's wording gets the value and a fix added.
    """
    origins = (dict(overridden) if isinstance(overridden, Mapping)
               else {key: f"--{key}" for key in overridden})
    lines = [f"{path}: invalid parameters:"]
    for error in errors:
        ctx = error.get("ctx") or {}
        key = ".".join(str(p) for p in error["loc"]) or ctx.get("key")
        label = (f"key {key!r}" + (f" (from {origins[key]})" if key in origins else "")
                 if key else "parameters")
        if "message" in ctx:
            message = str(ctx["message"])
        elif error["type"] not in _PYDANTIC_ERROR_TYPES:  # a model's own PydanticCustomError
            message = error["msg"]
        elif error["type"] == "value_error" and "error" in ctx:
            message = str(ctx["error"])
            if "Fix" not in message:
                message += ". Fix: correct this value in the file"
        elif error["type"] == "missing":
            message = f"is required. Fix: add `{key}: <value>` to the file"
        else:
            message = (f"{error['msg']} (got {error['input']!r}). "
                       "Fix: correct this value in the file")
        lines.append(f"  - {label}: {message}")
    return "\n".join(lines)


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


__all__ = [
    "FIRST_YEAR",
    "KOMMUN",
    "REGION",
    "KommunCode",
    "KpiId",
    "OptionError",
    "ParamsError",
    "ParamsLoader",
    "ReportParams",
    "check_kpi",
    "check_year",
    "check_year_value",
    "closest_matches",
    "format_years",
    "load_params",
    "model_for",
    "normalize_kommun",
    "normalize_unit",
    "precheck_params",
    "read_yaml",
    "register_report",
    "registered_reports",
    "report_modules",
    "unit_code",
    "validate_params",
]
