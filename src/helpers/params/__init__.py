"""The parameters of a report: the model pieces report modules build on.

- :mod:`~helpers.params.model`: :class:`ReportParams` (fields every report has, validated
  strictly: unknown keys are rejected with the allowed keys listed), :func:`register_report`,
  the year checks;
- :mod:`~helpers.params.units`: kommun and region codes or names → 4-character codes (closest
  matches when unknown), KPI ids checked against the Kolada catalogue;
- :mod:`~helpers.params.yaml`: a parameter file read as written (YAML 1.2 scalars: ``0114``
  stays ``"0114"``);
- :mod:`~helpers.params.errors`: :class:`ParamsError` and :class:`OptionError`, whose messages
  name the file, the key, the problem and the fix.

Reading a parameter file into the right model, once, is the build layer's job
(``helpers.build.parameters``); finding the report modules is ``helpers.build.registry``'s.
"""

from helpers.params.errors import OptionError, ParamsError
from helpers.params.model import (
    FIRST_YEAR,
    ReportParams,
    check_year,
    check_year_value,
    format_years,
    register_report,
    registered_model,
    registered_reports,
)
from helpers.params.units import (
    KOMMUN,
    REGION,
    CatalogueLike,
    KommunCode,
    KpiId,
    check_kpi,
    closest_matches,
    normalize_kommun,
    normalize_unit,
    unit_code,
)
from helpers.params.yaml import ParamsLoader, read_yaml

__all__ = [
    "FIRST_YEAR",
    "KOMMUN",
    "REGION",
    "CatalogueLike",
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
    "normalize_kommun",
    "normalize_unit",
    "read_yaml",
    "register_report",
    "registered_model",
    "registered_reports",
    "unit_code",
]
