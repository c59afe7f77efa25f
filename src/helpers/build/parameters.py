"""A parameter file read once and validated once.

:func:`read_params` reads ``params/<file>.yaml`` (:func:`helpers.params.read_yaml`), applies
the command line's overrides and checks everything that can be checked without the Kolada
catalogue (the keys, types, years, the form of codes) before anything is fetched or written.
:meth:`ParamsFile.validate` then checks it against the catalogue (kommun names, KPI ids) and
gives the report's model instance, which travels on: to ``datasets.prepare``, to the runner, and
to the notebook's kernel as its JSON form (``model_dump(mode="json")``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from helpers.build.registry import model_for
from helpers.params import CatalogueLike, ParamsError, ReportParams, read_yaml
from helpers.params.errors import describe_validation_errors
from helpers.params.units import NEEDS_CATALOGUE


@dataclass(frozen=True)
class ParamsFile:
    """A parameter file as read, with overrides from the command line applied."""

    path: Path
    data: dict[str, Any]
    origins: dict[str, str] = field(default_factory=dict)
    """Key → the option it came from (``{"kommun": "--kommuner"}``), for messages."""
    as_read: dict[str, Any] = field(default_factory=dict)
    """The file's own values, before the overrides."""

    @property
    def overrides(self) -> dict[str, Any]:
        """The values the command line gave (``{"kommun": "0114"}``), as given."""
        return {key: self.data[key] for key in self.origins if key in self.data}

    def name_year(self, latest: int | None) -> int | None:
        """The year a variant's name carries (``valfard-2463-2021``): a year given on the
        command line that differs from the one the file alone settles on (its own ``year``,
        else ``latest``, the latest year with data). None when the file's year is used: a run
        with another year never takes the name, and so the folder, of the default variant."""
        given = self.overrides.get("year")
        if given is None:
            return None
        own = self.as_read.get("year")
        default = own if own is not None else latest
        try:
            return None if default is not None and int(given) == int(default) else int(given)
        except (TypeError, ValueError):
            return None

    @property
    def model(self) -> type[ReportParams]:
        return model_for(self.data.get("report"), self.path)

    def with_overrides(self, *, options: Mapping[str, str] | None = None,
                       **overrides: Any) -> ParamsFile:
        """The same file with more overrides (None values are ignored); not read again."""
        given = {key: value for key, value in overrides.items() if value is not None}
        origins = {key: (options or {}).get(key, f"--{key}") for key in given}
        return replace(self, data={**self.data, **given}, origins={**self.origins, **origins})

    def precheck(self) -> None:
        """Check everything but kommun names and KPI ids (they need the catalogue)."""
        try:
            self.model.model_validate(self.data, context={"catalogue": None, "precheck": True})
        except ValidationError as exc:
            errors = [e for e in exc.errors(include_url=False) if e["type"] != NEEDS_CATALOGUE]
            if errors:
                raise ParamsError(describe_validation_errors(errors, self.path,
                                                             self.origins)) from None

    def validate(self, catalogue: CatalogueLike | None) -> ReportParams:
        """The report's parameters, validated strictly against the catalogue."""
        return validate_params(self.data, catalogue, self.path, self.origins)


def read_params(path: str | Path, *, options: Mapping[str, str] | None = None,
                **overrides: Any) -> ParamsFile:
    """Read a parameter file once, apply overrides (None values are ignored) and precheck it.

    ``options`` names the command-line option an override came from when it is not ``--<key>``
    (e.g. ``{"kommun": "--kommuner"}``); error messages say "(from --kommuner)"."""
    data = read_yaml(path)
    params_file = ParamsFile(Path(path), data, as_read=dict(data)).with_overrides(
        options=options, **overrides)
    params_file.precheck()
    return params_file


def load_params(path: str | Path, catalogue: CatalogueLike | None = None, *,
                options: Mapping[str, str] | None = None, **overrides: Any) -> ReportParams:
    """Read and validate a parameter file in one step (tests, notebooks' helpers)."""
    return read_params(path, options=options, **overrides).validate(catalogue)


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
        raise ParamsError(describe_validation_errors(exc.errors(include_url=False), path,
                                                     overridden)) from None
    params._source = Path(path) if not str(path).startswith("<") else None
    return params
