"""Which reports exist: the report modules of :mod:`helpers.reports`, found by scanning the
package, and those of installed packages, found by their entry points.

A report module registers its parameter model with ``@register_report("<name>")``
(:mod:`helpers.params`); importing the module is what registers it. Nothing lists reports by
hand: a new module in ``src/helpers/reports/`` is found (README.md, "Adding a report"); another
package declares ``[project.entry-points."skr_report.reports"] <name> = "<module>"``.
"""

from __future__ import annotations

import importlib
import pkgutil
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from helpers import reports
from helpers.params import ParamsError, ReportParams, registered_model, registered_reports

ENTRY_POINT_GROUP = "skr_report.reports"
"""Entry-point group of report plug-ins in other packages: ``<report> = "<module>"``."""


def report_modules() -> list[str]:
    """The modules that may register reports: every module or package of
    :mod:`helpers.reports` and every ``skr_report.reports`` entry point (not imported here)."""
    found = [f"{reports.__name__}.{module.name}"
             for module in pkgutil.iter_modules(reports.__path__)]
    found += [point.value.split(":", 1)[0] for point in entry_points(group=ENTRY_POINT_GROUP)]
    return list(dict.fromkeys(found))


def _import_reports() -> None:
    """Import every report module found (a module already imported costs nothing)."""
    for module in report_modules():
        importlib.import_module(module)


def known_reports() -> list[str]:
    """The names of every report found (importing the report modules)."""
    _import_reports()
    return registered_reports()


def model_for(report: Any, path: str | Path = "<parameters>") -> type[ReportParams]:
    """The model registered for a report name, or a ParamsError listing the known reports."""
    if isinstance(report, str):
        model = registered_model(report)
        if model is None:
            _import_reports()
            model = registered_model(report)
        if model is not None:
            return model
    known = ", ".join(known_reports()) or "(none registered)"
    if report is not None and not isinstance(report, str):
        raise ParamsError(f"{path}: key 'report': expected the name of a report, got "
                          f"{type(report).__name__} {report!r}. Fix: write `report: <name>`, "
                          f"one of: {known}.")
    if report is None:
        raise ParamsError(f"{path}: key 'report' is missing. Fix: add `report: <name>`, one of: "
                          f"{known}.")
    raise ParamsError(f"{path}: key 'report': unknown report {report!r}. Fix: use one of: "
                      f"{known}, or add the report as README.md \"Adding a report\" says.")
