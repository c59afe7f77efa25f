"""What "Välfärd i hela landet" reproduces (REPORT_SPEC §1): the KPIs of figures 1–4, the
variables of tables 2–3 and the Eurostat table of Tabell 1."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from helpers.domain import EUROSTAT_DEBT_DATASET, POPULATION_KPI

KVALITETSINDEX: dict[str, str] = {
    "U11404": "Förskola",
    "U15401": "Kommunal grundskola F–9",
    "U17401": "Kommunal gymnasieskola",
    "U20404": "Äldreomsorg",
    "U28408": "LSS boende och daglig verksamhet",
    "U31401": "Ekonomiskt bistånd",
}


NETTOKOSTNADSAVVIKELSE: dict[str, str] = {
    "N15001": "Grundskola F–9",
    "N30001": "Individ- och familjeomsorg",
    "N20900": "Äldreomsorg",
    "N00097": "Totalt exkl. LSS",
}


FIGURE_KPIS: tuple[str, ...] = (*KVALITETSINDEX, *NETTOKOSTNADSAVVIKELSE)


KOMMUNTYP_CODES: tuple[str, ...] = ("A1", "A2", "B3", "B4", "B5", "C6", "C7", "C8", "C9")


DEBT_DATASET = EUROSTAT_DEBT_DATASET


SECTORS: dict[str, str] = {
    "S13": "Offentliga sektorn",
    "S1311": "Staten",
    "S1312": "Delstaterna",
    "S1313": "Kommunsektorn",
    "S1314": "Sociala trygghetsfonder",
}
"""Eurostat's sectors of gov_10dd_edpt1 (ESA 2010) with their Swedish names."""


DEFAULT_DEBT_SECTORS: tuple[str, ...] = ("S13", "S1311", "S1313")


DEBT_FILTERS: dict[str, tuple[str, ...]] = {"na_item": ("GD",), "unit": ("PC_GDP",),
                                              "sector": tuple(SECTORS)}
"""Gross debt in % of GDP for every sector and every geo: one request whatever the parameters,
so changing geo or sectors needs no new fetch."""


MIN_N_FOR_SPREAD = 5


@dataclass(frozen=True)
class Variable:
    """One row or column of a correlation table.

    ``kpi`` is the id the report names. When Kolada has no values for it in the year, the value
    is derived as ``derive[0] / derive[1]`` or taken from ``substitute``; failing both, the row
    stays in the table marked "saknas i data".
    """

    label: str
    kpi: str
    unit: str = ""
    """What the values are measured in, as Kolada's KPI title states it ("procent", "kvot")."""
    substitute: str | None = None
    substitute_text: str = ""
    substitute_label: str = ""
    """The row's name when the substitute is shown (it names what the values are)."""
    derive: tuple[str, str] | None = None
    derive_text: str = ""


STRUCTURAL_VARIABLES: tuple[Variable, ...] = (
    Variable("Invånare", "N01951", "antal"),
    Variable(
        "Arbetslöshet 16–65 år",
        "N03932",
        "procent",
        substitute="N03920",
        substitute_text="N03920 Arbetslösa av befolkningen, 18–65 år, andel (%)",
        substitute_label="Arbetslöshet 18–65 år",
    ),
    Variable("Demografisk försörjningskvot", "N00927", "kvot"),
    Variable("Inpendling", "N02276", "procent"),
    Variable(
        "Invånare per kvadratkilometer",
        "N02937",
        "invånare per km²",
        derive=("N01951", "N02993"),
        derive_text="N01951 Invånare / N02993 Landareal (km²)",
    ),
    Variable("Invånare 25–64 år med låg utbildningsnivå, andel", "N01721", "procent"),
    Variable("Sammanräknad förvärvsinkomst 20–64 år, median", "N00906", "kronor"),
    Variable("Tätortsgrad", "N00954", "procent"),
    Variable("Utpendling", "N02279", "procent"),
    Variable("Andel elever med föräldrar med eftergymnasial utb.", "N15820", "procent"),
    Variable("Befolkningsförändring senaste 5 åren", "N01958", "procent"),
)


NKA_VARIABLES: tuple[Variable, ...] = (
    Variable("NKA grundskola F–9", "N15001", "procent"),
    Variable("NKA individ- och familjeomsorg", "N30001", "procent"),
    Variable("NKA äldreomsorg", "N20900", "procent"),
)


TABLE2_COLUMNS: tuple[Variable, ...] = (
    Variable("Kvalitetsindex ekonomiskt bistånd", "U31401", "index 0–100"),
    Variable("Kvalitetsindex kommunal grundskola F–9", "U15401", "index 0–100"),
    Variable("Kvalitetsindex äldreomsorg", "U20404", "index 0–100"),
)


TABLE2_ROWS: tuple[Variable, ...] = (*NKA_VARIABLES, *STRUCTURAL_VARIABLES)


TABLE3_COLUMNS: tuple[Variable, ...] = NKA_VARIABLES


TABLE3_ROWS: tuple[Variable, ...] = STRUCTURAL_VARIABLES


def variable_kpis(variables: Sequence[Variable]) -> list[str]:
    """Every KPI id a set of variables may read, including substitutes and derivation inputs."""
    ids: list[str] = []
    for var in variables:
        ids += [var.kpi, *([var.substitute] if var.substitute else []), *(var.derive or ())]
    return list(dict.fromkeys(ids))


def required_kpis() -> list[str]:
    """All KPIs the report reads (figures, tables, population), known-missing ones included."""
    table_vars = (*TABLE2_COLUMNS, *TABLE2_ROWS, *TABLE3_COLUMNS, *TABLE3_ROWS)
    return list(dict.fromkeys([*FIGURE_KPIS, POPULATION_KPI, *variable_kpis(table_vars)]))
