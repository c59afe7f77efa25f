"""The medlemsavgift tables: a fee per inhabitant (optionally indexed by a percentage) times
each member kommun's population (N01951 for the chosen year): Skånes Kommuner (the 33 kommuner
of län 12; no fee is published in the source, so the fee is a parameter without a default) and
Familjen Helsingborg (11 kommuner; 21 kr per invånare 2025 according to the source).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from helpers import datasets
from helpers.domain import KOLADA_SOURCE_LINE, POPULATION_KPI
from helpers.formatting import count_words, format_number
from helpers.formatting import escape_markdown as md
from helpers.rendering.notebook import Table
from helpers.reports.budget.accounts import swedish_display
from helpers.reports.budget.params import BudgetParams

SKANES_KOMMUNER_LAN = "12"
SKANES_KOMMUNER_ANTAL = 33
FAMILJEN_HELSINGBORG_MEMBERS: dict[str, str] = {
    "1260": "Bjuv",
    "1278": "Båstad",
    "1283": "Helsingborg",
    "1284": "Höganäs",
    "1276": "Klippan",
    "1282": "Landskrona",
    "1275": "Perstorp",
    "1214": "Svalöv",
    "1277": "Åstorp",
    "1292": "Ängelholm",
    "1257": "Örkelljunga",
}
"""The 11 members named in seeds/003 (Välfärd i hela landet, "Exemplet Familjen Helsingborg")."""


def population_year(values: pd.DataFrame, year: int | None = None) -> int:
    """``year`` when N01951 has values for it, else (``year`` None) the latest such year."""
    rows = values[(values["kpi"] == POPULATION_KPI) & (values["gender"] == "T")
                  & values["value"].notna()]
    years = sorted(int(y) for y in rows["period"].unique())
    if not years:
        raise ValueError("no population (N01951) values. Fix: run `skr-report fetch` first.")
    if year is None:
        return years[-1]
    if int(year) not in years:
        raise ValueError(f"no population (N01951) for {year}; years with data: "
                         f"{years[0]}–{years[-1]}.")
    return int(year)


def skanes_kommuner_members(kommuner: pd.DataFrame) -> list[str]:
    """The member kommuner of Skånes Kommuner: every kommun in län 12 (33)."""
    codes = sorted(kommuner.loc[kommuner["lan"] == SKANES_KOMMUNER_LAN, "kommun"])
    if len(codes) != SKANES_KOMMUNER_ANTAL:
        raise ValueError(f"expected {SKANES_KOMMUNER_ANTAL} kommuner in län 12, found "
                         f"{len(codes)}. Fix: check the kommun table.")
    return codes


def familjen_helsingborg_members(kommuner: pd.DataFrame) -> list[str]:
    """The 11 member kommuner of Familjen Helsingborg, checked by name against the table."""
    names = kommuner.set_index("kommun")["kommunnamn"]
    wrong = {code: name for code, name in FAMILJEN_HELSINGBORG_MEMBERS.items()
             if names.get(code) != name}
    if wrong:
        raise ValueError(f"Familjen Helsingborg members not found by code and name: {wrong}")
    return list(FAMILJEN_HELSINGBORG_MEMBERS)  # the seed's order, Swedish alphabetical


def medlemsavgift(kommuner: pd.DataFrame, members: Sequence[str], kr_per_invanare: float,
                  index_procent: float | None = None) -> pd.DataFrame:
    """Fee per member kommun: population × fee per inhabitant (× (1 + index/100)).

    Columns ``kommun, kommunnamn, befolkning, avgift_kr, andel_procent``, one row per member in
    the given order; a member without population keeps NaN (shown as "saknas"), never imputed.
    ``attrs`` records the fee used: ``kr_per_invanare`` (given), ``index_procent``,
    ``kr_per_invanare_indexerad`` (applied), ``summa_befolkning``, ``summa_avgift_kr``.
    """
    if kr_per_invanare is None or not kr_per_invanare > 0:
        raise ValueError("a fee per inhabitant (kr, > 0) is required; none is published for "
                         "Skånes Kommuner, so it must be given as a parameter.")
    fee = float(kr_per_invanare) * (1 + (index_procent or 0) / 100)
    table = (kommuner.set_index("kommun").loc[list(members), ["kommunnamn", "befolkning"]]
             .reset_index())
    table["avgift_kr"] = table["befolkning"] * fee
    total = table["avgift_kr"].sum(min_count=1)
    table["andel_procent"] = 100 * table["avgift_kr"] / total
    table.attrs.update(
        kr_per_invanare=float(kr_per_invanare), index_procent=index_procent,
        kr_per_invanare_indexerad=fee, summa_befolkning=float(table["befolkning"].sum()),
        summa_avgift_kr=float(total), saknar_befolkning=int(table["befolkning"].isna().sum()),
    )
    return table


def with_total(table: pd.DataFrame) -> pd.DataFrame:
    """The fee table with a "Summa" row (sums of population, fee and share)."""
    total = {"kommun": "", "kommunnamn": "Summa",
             "befolkning": table["befolkning"].sum(min_count=1),
             "avgift_kr": table["avgift_kr"].sum(min_count=1),
             "andel_procent": table["andel_procent"].sum(min_count=1)}
    out = pd.concat([table, pd.DataFrame([total])], ignore_index=True)
    out.attrs = dict(table.attrs)
    return out


def medlemsavgift_text(table: pd.DataFrame, organisation: str, year: int,
                       fee_year: int | None = None) -> str:
    """One Swedish sentence naming the fee, index and population year the table used."""
    attrs = table.attrs
    fee = f"{format_number(attrs['kr_per_invanare'], 2)} kr per invånare"
    if fee_year is not None:
        fee += f" ({fee_year})"
    if attrs.get("index_procent"):
        fee += (f", indexerad med {format_number(attrs['index_procent'], 1)} % till "
                f"{format_number(attrs['kr_per_invanare_indexerad'], 2)} kr per invånare")
    text = (f"{organisation}: avgift {fee} × befolkning 31 december {year} (Kolada N01951). "
            f"Summa {format_number(attrs['summa_avgift_kr'])} kr för "
            f"{format_number(attrs['summa_befolkning'])} invånare.")
    if attrs.get("saknar_befolkning"):
        text += f" {attrs['saknar_befolkning']} kommuner saknar befolkning och ingår inte."
    return text


def load_population(params: BudgetParams,
                    processed_dir: str | Path | None = None) -> tuple[int, pd.DataFrame]:
    """The population year (``params.year`` or the latest with N01951) and its kommun table."""
    values = datasets.load_values([POPULATION_KPI], processed_dir=processed_dir)
    year = population_year(values, params.year)
    return year, datasets.load_kommuner(year, processed_dir=processed_dir)


def fee_table(kommuner: pd.DataFrame, members: Sequence[str], kr_per_invanare: float,
              index_procent: float | None, year: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The fee table as shown and its data (with a Summa row, the population year and the fee
    used in every row); ``attrs`` of both as :func:`medlemsavgift`."""
    table = with_total(medlemsavgift(kommuner, members, kr_per_invanare, index_procent))
    data = table.assign(befolkningsar=year,
                        avgift_per_invanare_kr=table.attrs["kr_per_invanare_indexerad"])
    columns = {"kommunnamn": "Kommun", "kommun": "Kod", "befolkning": f"Invånare {year}",
               "avgift_kr": "Avgift (kr)", "andel_procent": "Andel (%)"}
    shown = swedish_display(table[list(columns)].rename(columns=columns),
                            decimals={"Andel (%)": 1})
    shown.attrs = data.attrs = dict(table.attrs)
    return shown, data


NO_SKANES_FEE_TEXT = (
    "**Ingen avgift angiven.** Källan (Skånes Kommuner, Strategisk inriktning 2024–2027) anger "
    "att medlemsavgiften baseras på antalet invånare i medlemskommunerna och kan indexeras med "
    "högst SKR:s prisindex för kommunal verksamhet, men inte avgiften per invånare. Ingen "
    "avgift per invånare är angiven i rapportens parametrar, så tabellen tas inte fram (ingen "
    "avgift antas); parametrarna står under ”Om rapporten”.")


@dataclass(frozen=True)
class FeeOrganisation:
    """A member organisation whose fee table the report shows; its parameters are
    ``medlemsavgift_<key>_kr_per_invanare``, ``…_index_procent`` and ``…_ar``."""

    key: str
    name: str
    members: Callable[[pd.DataFrame], list[str]]
    table_name: str
    """The file name of its CSV (``tables/<table_name>.csv``)."""
    members_text: str = "medlemskommunerna"
    """How the intro names the members after their number ("kommunerna i Skåne län")."""

    def fee(self, params: BudgetParams) -> tuple[float | None, float | None, int | None]:
        """Fee per inhabitant, index percentage and fee year from the parameters."""
        prefix = f"medlemsavgift_{self.key}"
        return (getattr(params, f"{prefix}_kr_per_invanare"),
                getattr(params, f"{prefix}_index_procent"), getattr(params, f"{prefix}_ar"))


SKANES_KOMMUNER = FeeOrganisation("skanes", "Skånes Kommuner", skanes_kommuner_members,
                                  "medlemsavgift_skanes_kommuner", "kommunerna i Skåne län")
FAMILJEN_HELSINGBORG = FeeOrganisation(
    "familjen_helsingborg", "Familjen Helsingborg", familjen_helsingborg_members,
    "medlemsavgift_familjen_helsingborg")
FEE_ORGANISATIONS = (SKANES_KOMMUNER, FAMILJEN_HELSINGBORG)
"""In the order the report shows them (Tabell 3, 4)."""


def fee_section(params: BudgetParams, kommuner: pd.DataFrame, year: int,
                organisation: FeeOrganisation) -> list[str | Table]:
    """One organisation's fee table with the sentence naming the fee used, or, without a fee
    (only Skånes Kommuner may have none), the sentence saying none was given. Tables are
    numbered from 3 in :data:`FEE_ORGANISATIONS` order, counting only those with a fee."""
    fee, index, fee_year = organisation.fee(params)
    members = organisation.members(kommuner)
    intro = (f"Avgift per invånare × befolkning (N01951) i var och en av de "
             f"{count_words(len(members))} {organisation.members_text}, eventuellt indexerad med "
             "en angiven procentsats.")
    if fee is None:
        return [intro, NO_SKANES_FEE_TEXT]
    shown_before = FEE_ORGANISATIONS[:FEE_ORGANISATIONS.index(organisation)]
    number = 3 + sum(other.fee(params)[0] is not None for other in shown_before)
    shown, data = fee_table(kommuner, members, fee, index, year)
    text = medlemsavgift_text(shown, organisation.name, year, fee_year)
    if params.kommun is not None and params.kommun in members:
        chosen = shown["Kod"] == params.kommun
        shown.loc[chosen, "Kommun"] = shown.loc[chosen, "Kommun"] + " ◀"
    elif params.kommun is not None:  # say why no row is marked (walk 15: Kiruna)
        name = datasets.kommun_name(kommuner, params.kommun) or params.kommun
        text += (f" {md(name)} ({params.kommun}) är inte medlem i {organisation.name}; ingen rad i "
                 "tabellen är markerad.")
    return [intro, text,
            Table(shown, number, f"Medlemsavgift per kommun – {organisation.name}", data=data,
                  name=organisation.table_name,
                  source=f"{KOLADA_SOURCE_LINE} Befolkning 31 december {year} (N01951); "
                         "avgiften enligt parametrarna.")]
