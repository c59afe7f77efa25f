"""SKR's resultaträkning as published, the check of its sums, and the medlemsavgift tables.

The resultaträkning is read from ``data/raw/skr/resultatrakning_2024.csv``, a committed
transcription of the published table (the figures are facts of the source document). Its sums are
checked against their parts: a published sum that differs from the sum of the rounded rows is
reported as a rounding difference, never corrected.

The medlemsavgift tables multiply a fee per inhabitant (optionally indexed by a percentage) by
each member kommun's population (N01951 for the chosen year): Skånes Kommuner (the 33 kommuner of
län 12; no fee is published in the source, so the fee is a parameter without a default) and
Familjen Helsingborg (11 kommuner; 21 kr per invånare 2025 according to the source).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, ClassVar

import pandas as pd
from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from helpers import datasets, paths
from helpers.domain import KOLADA_SOURCE_LINE, POPULATION_KPI
from helpers.formatting import escape_markdown as md
from helpers.formatting import format_number
from helpers.params import ReportParams, register_report
from helpers.rendering.notebook import Table

RESULTATRAKNING_FILE = paths.SKR_RAW_DIR / "resultatrakning_2024.csv"
RESULTATRAKNING_DOCUMENT = "SKR:s verksamhetsplan med budget 2024"
"""The published document the resultaträkning is transcribed from (its ``# Källa:`` line)."""
RESULTATRAKNING_COLUMNS = {
    "budget_2023": "Budget 2023",
    "prognos_t2_2023": "Prognos T2 2023",
    "budget_2024": "Budget 2024",
}
"""Value columns of the transcription → their headings in the published table."""
CHANGE_COLUMN = "Förändring budget 2023–2024"

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
FAMILJEN_HELSINGBORG_KR_2025 = 21.0
""""2025 uppgår avgiften till 21 kronor per invånare" (seeds/003)."""

__all__ = [
    "CHANGE_COLUMN",
    "FAMILJEN_HELSINGBORG",
    "FAMILJEN_HELSINGBORG_MEMBERS",
    "FEE_ORGANISATIONS",
    "RESULTATRAKNING_COLUMNS",
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
    "swedish_display",
]


# --- parameters --------------------------------------------------------------------------------

PositiveKr = Annotated[float, Field(gt=0)]
IndexProcent = Annotated[float, Field(gt=-100, le=100)]


@register_report("budget")
class BudgetParams(ReportParams):
    """Parameters of the budget report.

    ``medlemsavgift_skanes_kr_per_invanare`` must be written in the parameter file: the source
    publishes no fee for Skånes Kommuner, so there is no default figure. ``null`` means "no fee
    given": the report then says so and leaves the Skånes Kommuner table out.
    """

    title: ClassVar[str] = "Budgettabeller"

    medlemsavgift_skanes_kr_per_invanare: PositiveKr | None
    medlemsavgift_skanes_index_procent: IndexProcent | None = None
    medlemsavgift_skanes_ar: int | None = None
    """The year the fee applies to (shown in the table's text); None: not stated."""
    medlemsavgift_familjen_helsingborg_kr_per_invanare: PositiveKr = FAMILJEN_HELSINGBORG_KR_2025
    medlemsavgift_familjen_helsingborg_index_procent: IndexProcent | None = None
    medlemsavgift_familjen_helsingborg_ar: int | None = 2025

    @model_validator(mode="before")
    @classmethod
    def _fee_key_required(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and "medlemsavgift_skanes_kr_per_invanare" not in data:
            raise PydanticCustomError(
                "fee_required",
                "medlemsavgift_skanes_kr_per_invanare is required: the source publishes no fee "
                "for Skånes Kommuner, so none is assumed. Fix: give the fee in kr per invånare, "
                "or write `medlemsavgift_skanes_kr_per_invanare: null` to leave that table out.")
        return data

    def required_kpis(self) -> list[str]:
        return [POPULATION_KPI]

    def title_block(self, place: str, year: int | None, kolada: str) -> tuple[str, str]:
        """The main table is SKR's own budget from the published document; Kolada gives only
        the population of the fee tables."""
        subtitle = "SKR:s budget 2023–2024 och medlemsavgifter"
        if self.kommun is not None:
            subtitle += f" · {place}"
        if year is not None:
            subtitle += f" · befolkning {year}"
        return subtitle, (f"Underlag: SKR:s resultaträkning (Budget 2023, Prognos T2 2023, "
                          f"Budget 2024) ur {RESULTATRAKNING_DOCUMENT}; befolkningen (N01951) "
                          f"i medlemsavgiftstabellerna: {kolada}")


# --- the resultaträkning -----------------------------------------------------------------------


def load_resultatrakning(path: str | Path | None = None) -> pd.DataFrame:
    """The transcribed table: ``nr, rad, typ (rubrik|post|summa), summa_av`` and the value
    columns (nullable integers, mkr). ``attrs["source"]`` holds the file's source lines."""
    path = Path(path) if path is not None else RESULTATRAKNING_FILE
    table = pd.read_csv(path, comment="#", dtype={"summa_av": "string", "rad": "string",
                                                  "typ": "string"})
    for column in RESULTATRAKNING_COLUMNS:
        table[column] = table[column].astype("Int64")
    table["summa_av"] = table["summa_av"].fillna("")
    table.attrs["source"] = resultatrakning_source(path)
    return table


def resultatrakning_source(path: str | Path | None = None) -> str:
    """The document and page the transcription names (its first ``# Källa:`` line)."""
    path = Path(path) if path is not None else RESULTATRAKNING_FILE
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# Källa:"):
            return line.removeprefix("#").strip()
    raise ValueError(f"{path} names no source (a '# Källa:' line). Fix: add it.")


def resultatrakning_table(rr: pd.DataFrame) -> pd.DataFrame:
    """The published table with its headings, plus the change Budget 2023 → Budget 2024."""
    table = rr[["rad", *RESULTATRAKNING_COLUMNS]].rename(columns=RESULTATRAKNING_COLUMNS)
    table[CHANGE_COLUMN] = rr["budget_2024"] - rr["budget_2023"]
    return table.rename(columns={"rad": "Rad"}).reset_index(drop=True)


def _parts(formula: str) -> list[int]:
    return [int(part) for part in formula.split("+")]


def sum_check(rr: pd.DataFrame) -> pd.DataFrame:
    """Every published sum against the sum of its published parts, per value column.

    A difference is the published sum minus the sum of the parts. Each part is rounded to whole
    mkr, so up to half a unit per part (and per sum) can be lost: a difference within that bound
    is a rounding difference; a larger one is reported as larger than rounding explains. The
    published figures are never changed.
    """
    by_nr = rr.set_index("nr")
    rows = []
    for _, row in rr[rr["typ"] == "summa"].iterrows():
        parts = _parts(row["summa_av"])
        for column, heading in RESULTATRAKNING_COLUMNS.items():
            values = [int(by_nr.at[nr, column]) for nr in parts]
            computed = sum(values)
            published = int(row[column])
            difference = published - computed
            rows.append({
                "Rad": row["rad"],
                "Kolumn": heading,
                "Publicerad summa": published,
                "Delar": " + ".join(f"({by_nr.at[nr, 'rad']} {format_number(v)})"
                                    for nr, v in zip(parts, values, strict=True)),
                "Summa av delarna": computed,
                "Differens": difference,
                "Bedömning": _assessment(difference, len(parts)),
            })
    return pd.DataFrame(rows)


def _assessment(difference: int, n_parts: int) -> str:
    if difference == 0:
        return "stämmer"
    if abs(difference) <= math.ceil((n_parts + 1) / 2):
        return "avrundningsdifferens"
    return "större än avrundning förklarar"


def rounding_differences(check: pd.DataFrame) -> pd.DataFrame:
    """The rows of :func:`kontroll` where the published sum differs from its parts."""
    return check[check["Differens"] != 0].reset_index(drop=True)


# --- medlemsavgift -----------------------------------------------------------------------------


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


# --- display and files -------------------------------------------------------------------------


def swedish_display(table: pd.DataFrame, decimals: Mapping[str, int] | None = None,
                    missing: str = "saknas", blank_rows: Sequence[int] = ()) -> pd.DataFrame:
    """The table as text, numbers written the Swedish way (``format_number``: thin-space
    thousands, decimal comma, minus sign); HTML and PDF show exactly this, right-aligned.

    ``decimals`` maps numeric columns to their decimals (default 0 for every numeric column).
    Missing numbers read ``missing``, except in ``blank_rows`` (headings), which stay empty.
    """
    numeric = [c for c in table.columns if pd.api.types.is_numeric_dtype(table[c])]
    decimals = {c: 0 for c in numeric} | dict(decimals or {})
    out = table.copy()
    for column, places in decimals.items():
        out[column] = [format_number(None if pd.isna(x) else float(x), places, missing=missing)
                       for x in table[column]]
    for row in blank_rows:
        out.loc[row, list(decimals)] = ""
    return out.fillna("")


# --- the report's pieces (shown by helpers.rendering.notebook) ---------------------------------


def load_population(params: BudgetParams,
                    processed_dir: str | Path | None = None) -> tuple[int, pd.DataFrame]:
    """The population year (``params.year`` or the latest with N01951) and its kommun table."""
    values = datasets.load_values([POPULATION_KPI], processed_dir=processed_dir)
    year = population_year(values, params.year)
    return year, datasets.load_kommuner(year, processed_dir=processed_dir)


def published_table(rr: pd.DataFrame) -> Table:
    """Tabell 1: the resultaträkning as published, with the change Budget 2023 → 2024."""
    table = resultatrakning_table(rr)
    headings = list(table.index[rr["typ"].to_numpy() == "rubrik"])
    return Table(swedish_display(table, blank_rows=headings), 1,
                 "Förbundets resultaträkning (mkr)", data=table, name="budget_skr",
                 source=rr.attrs["source"])


def check_table(rr: pd.DataFrame) -> Table:
    """Tabell 2: every published sum against the sum of its published parts."""
    check = sum_check(rr)
    return Table(swedish_display(check), 2, "Kontroll av summorna", data=check,
                 name="budget_skr_kontroll",
                 source=f"Egen kontroll av de publicerade talen. {rr.attrs['source']}",
                 note=sum_check_text(rr))


def fee_table(kommuner: pd.DataFrame, members: Sequence[str], kr_per_invanare: float,
              index_procent: float | None, year: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The fee table as shown and its data (with a Summa row, the population year and the fee
    used in every row); ``attrs`` of both as :func:`medlemsavgift`."""
    table = with_total(medlemsavgift(kommuner, members, kr_per_invanare, index_procent))
    data = table.assign(befolkningsar=year,
                        avgift_per_invanare_kr=table.attrs["kr_per_invanare_indexerad"])
    shown = swedish_display(
        table.rename(columns={"kommun": "Kod", "kommunnamn": "Kommun",
                              "befolkning": f"Invånare {year}", "avgift_kr": "Avgift (kr)",
                              "andel_procent": "Andel (%)"}),
        decimals={"Andel (%)": 1})
    shown.attrs = data.attrs = dict(table.attrs)
    return shown, data


NO_SKANES_FEE_TEXT = (
    "**Ingen avgift angiven.** Källan (Skånes Kommuner, Strategisk inriktning 2024–2027) anger "
    "att medlemsavgiften baseras på antalet invånare i de 33 medlemskommunerna och kan "
    "indexeras med högst SKR:s prisindex för kommunal verksamhet, men inte avgiften per "
    "invånare. Parametern `medlemsavgift_skanes_kr_per_invanare` är inte angiven, så tabellen "
    "tas inte fram (ingen avgift antas).")


@dataclass(frozen=True)
class FeeOrganisation:
    """A member organisation whose fee table the report shows; its parameters are
    ``medlemsavgift_<key>_kr_per_invanare``, ``…_index_procent`` and ``…_ar``."""

    key: str
    name: str
    members: Callable[[pd.DataFrame], list[str]]
    table_name: str
    """The file name of its CSV (``tables/<table_name>.csv``)."""

    def fee(self, params: BudgetParams) -> tuple[float | None, float | None, int | None]:
        """Fee per inhabitant, index percentage and fee year from the parameters."""
        prefix = f"medlemsavgift_{self.key}"
        return (getattr(params, f"{prefix}_kr_per_invanare"),
                getattr(params, f"{prefix}_index_procent"), getattr(params, f"{prefix}_ar"))


SKANES_KOMMUNER = FeeOrganisation("skanes", "Skånes Kommuner", skanes_kommuner_members,
                                  "medlemsavgift_skanes_kommuner")
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
    if fee is None:
        return [NO_SKANES_FEE_TEXT]
    shown_before = FEE_ORGANISATIONS[:FEE_ORGANISATIONS.index(organisation)]
    number = 3 + sum(other.fee(params)[0] is not None for other in shown_before)
    members = organisation.members(kommuner)
    shown, data = fee_table(kommuner, members, fee, index, year)
    text = medlemsavgift_text(shown, organisation.name, year, fee_year)
    if params.kommun is not None and params.kommun in members:
        chosen = shown["Kod"] == params.kommun
        shown.loc[chosen, "Kommun"] = shown.loc[chosen, "Kommun"] + " ◀"
    elif params.kommun is not None:  # say why no row is marked (walk 15: Kiruna)
        name = datasets.kommun_name(kommuner, params.kommun) or params.kommun
        text += (f" {name} ({params.kommun}) är inte medlem i {organisation.name}; ingen rad i "
                 "tabellen är markerad.")
    return [text,
            Table(shown, number, f"Medlemsavgift per kommun – {organisation.name}", data=data,
                  name=organisation.table_name,
                  source=f"{KOLADA_SOURCE_LINE} Befolkning 31 december {year} (N01951); "
                         "avgiften enligt parametrarna.")]


def sum_check_text(rr: pd.DataFrame) -> str:
    """The rounding differences found, in Swedish."""
    found = rounding_differences(sum_check(rr))
    if found.empty:
        return "Alla publicerade summor stämmer med summan av sina delar."
    items = "; ".join(
        f"{md(r['Rad'])}, {md(r['Kolumn'])}: publicerat {format_number(r['Publicerad summa'])}, "
        f"delarna ger {format_number(r['Summa av delarna'])} "
        f"(differens {format_number(r['Differens'])})" for _, r in found.iterrows())
    return (f"{len(found)} publicerade summor skiljer sig från summan av de avrundade delarna: "
            f"{items}. Skillnaderna är avrundningsdifferenser (delarna är avrundade till hela "
            f"mkr); tabellen återges som publicerad, utan rättelser.")
