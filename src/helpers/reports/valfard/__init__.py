"""Välfärd i hela landet: figures 1–4 (kvalitetsindex and nettokostnadsavvikelse per kommuntyp
and befolkningsstorlek), Tabell 1 and Figur 5 (public debt, Eurostat), tables 2–3 and figures
6–7 (correlations), and the report's statements checked against the data.

Every number shown, and every sentence about the numbers, is computed from the values table and
the kommun table (``helpers.datasets``):

- :mod:`.spec`: the KPIs and variables REPORT_SPEC names;
- :mod:`.params`: the parameter model (``params/valfard*.yaml``);
- :mod:`.groups`: kommuner in groups and the spread within them;
- :mod:`.correlations`: tables 2–3;
- :mod:`.sentences`: the computed sentences and the checked statements;
- :mod:`.debt`: Tabell 1, Figur 5 and the debt claim;
- :mod:`.data`: the data in one object (:func:`load_data`);
- :mod:`.pieces`: what the notebook shows (``nb.show(valfard.figure(data, 1))``).
"""

from helpers.reports.valfard.data import ValfardData, load_data
from helpers.reports.valfard.debt import debt_csv, debt_frame, debt_statement
from helpers.reports.valfard.params import ValfardParams
from helpers.reports.valfard.pieces import (
    FIGURES,
    debt_figure,
    debt_table,
    figure,
    heatmap,
    own_values,
    statements,
    table,
    title,
)
from helpers.reports.valfard.sentences import fmt
from helpers.reports.valfard.spec import required_kpis

__all__ = [
    "FIGURES",
    "ValfardData",
    "ValfardParams",
    "debt_csv",
    "debt_figure",
    "debt_frame",
    "debt_statement",
    "debt_table",
    "figure",
    "fmt",
    "heatmap",
    "load_data",
    "own_values",
    "required_kpis",
    "statements",
    "table",
    "title",
]
