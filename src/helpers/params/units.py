"""Kommuner, regions and KPI ids in the parameters: codes and names normalised, unknown ones
answered with the closest matches."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Protocol

from pydantic import AfterValidator, BeforeValidator, ValidationInfo
from rapidfuzz import fuzz, process

from helpers.params.errors import field_error as _error

KOMMUN = "K"
"""Kolada unit type of a kommun."""
REGION = "L"
"""Kolada unit type of a region or Riket (``0000``)."""
UNIT_TYPE_NAMES = {KOMMUN: "kommun", REGION: "region/Riket"}


class CatalogueLike(Protocol):
    """What validation needs from the Kolada catalogue (``helpers.datasets.Catalogue``)."""

    kommuner: Mapping[str, str]
    regions: Mapping[str, str]
    kpis: Mapping[str, str]


def _units(catalogue: CatalogueLike, allowed_types: Sequence[str]) -> dict[str, str]:
    units: dict[str, str] = {}
    if KOMMUN in allowed_types:
        units.update(catalogue.kommuner)
    if REGION in allowed_types:
        units.update(catalogue.regions)
    return units


def _allowed_text(allowed_types: Sequence[str]) -> str:
    return " or ".join(UNIT_TYPE_NAMES[t] for t in allowed_types)


NEEDS_CATALOGUE = "unit_needs_catalogue"


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
        raise _error(NEEDS_CATALOGUE,
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


def is_precheck(info: ValidationInfo) -> bool:
    return isinstance(info.context, dict) and bool(info.context.get("precheck"))


def catalogue_from(info: ValidationInfo) -> CatalogueLike | None:
    return (info.context or {}).get("catalogue") if isinstance(info.context, dict) else None


def unit_code(*allowed_types: str) -> Any:
    """An annotated ``str`` type for unit fields, e.g. ``members: list[unit_code("K")]``."""
    types = allowed_types or (KOMMUN,)

    def _validate(value: Any, info: ValidationInfo) -> str:
        return normalize_unit(value, catalogue_from(info), types)

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
    return check_kpi(value, catalogue_from(info))


KpiId = Annotated[str, AfterValidator(_check_kpi_field)]
"""A KPI id field, checked against the catalogue given in the validation context."""
