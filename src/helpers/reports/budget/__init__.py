"""SKR's budget tables: the resultaträkning as published with the check of its sums, and
the medlemsavgift tables.

- :mod:`.accounts`: the resultaträkning, its sum check (a published sum that differs from the
  sum of its rounded rows is a rounding difference, never corrected);
- :mod:`.params`: the parameter model (``params/budget*.yaml``);
- :mod:`.fees`: the medlemsavgift tables of Skånes Kommuner and Familjen Helsingborg.
"""

from helpers.reports.budget.accounts import (
    CHANGE_COLUMN,
    RESULTATRAKNING_COLUMNS,
    RESULTATRAKNING_DOCUMENT,
    check_table,
    load_resultatrakning,
    published_table,
    resultatrakning_source,
    resultatrakning_table,
    rounding_differences,
    sum_check,
    sum_check_text,
    swedish_display,
)
from helpers.reports.budget.fees import (
    FAMILJEN_HELSINGBORG,
    FAMILJEN_HELSINGBORG_MEMBERS,
    FEE_ORGANISATIONS,
    NO_SKANES_FEE_TEXT,
    SKANES_KOMMUNER,
    FeeOrganisation,
    familjen_helsingborg_members,
    fee_section,
    fee_table,
    load_population,
    medlemsavgift,
    medlemsavgift_text,
    population_year,
    skanes_kommuner_members,
)
from helpers.reports.budget.params import (
    BudgetParams,
)

__all__ = [
    "CHANGE_COLUMN",
    "FAMILJEN_HELSINGBORG",
    "FAMILJEN_HELSINGBORG_MEMBERS",
    "FEE_ORGANISATIONS",
    "NO_SKANES_FEE_TEXT",
    "RESULTATRAKNING_COLUMNS",
    "RESULTATRAKNING_DOCUMENT",
    "SKANES_KOMMUNER",
    "BudgetParams",
    "FeeOrganisation",
    "check_table",
    "familjen_helsingborg_members",
    "fee_section",
    "fee_table",
    "load_population",
    "load_resultatrakning",
    "medlemsavgift",
    "medlemsavgift_text",
    "population_year",
    "published_table",
    "resultatrakning_source",
    "resultatrakning_table",
    "rounding_differences",
    "skanes_kommuner_members",
    "sum_check",
    "sum_check_text",
    "swedish_display",
]
