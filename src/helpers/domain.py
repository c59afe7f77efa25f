"""Names from the domain that several layers share: Kolada ids, the Swedish source lines and the
marks for missing values. Defined once here; every other module imports them.
"""

from __future__ import annotations

POPULATION_KPI = "N01951"
"""Invånare totalt, antal (31 december): the population of every kommun table and fee table."""

VALUE_COLUMNS = ("kpi", "municipality", "period", "gender", "value", "count", "status")
"""The columns of the values table (``KoladaClient.values``, ``data/processed/values/``)."""

KOLADA_SOURCE_LINE = "Källa: Kolada (RKA), egna beräkningar."
"""The source line under every figure and table computed from Kolada."""

EUROSTAT_DEBT_DATASET = "gov_10dd_edpt1"
"""Eurostat's government debt dataset (Välfärd i hela landet, Tabell 1)."""

EUROSTAT_SOURCE_LINE = f"Källa: Eurostat ({EUROSTAT_DEBT_DATASET})."
"""The source line of Tabell 1 and Figur 5."""

MISSING_IN_DATA = "saknas i data"
"""A KPI or variable Kolada has no value for: shown, never filled in."""

NO_VALUES = "inga värden"
"""A group of kommuner none of which has a value."""

CAPTION_KEY = "skr"
"""The output-metadata key of the caption convention (``rendering.captions``), which manifests
and the exporters read."""
