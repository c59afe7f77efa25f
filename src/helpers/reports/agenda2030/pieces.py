"""The report's pieces as the notebook shows them."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from helpers import datasets, paths
from helpers.domain import KOLADA_SOURCE_LINE
from helpers.formatting import count_words, format_number
from helpers.formatting import escape_markdown as md
from helpers.rendering.figure_files import files_of
from helpers.rendering.notebook import Figure, Table
from helpers.reports.agenda2030.figure import draw_nulage
from helpers.reports.agenda2030.meta import AgendaMeta, load_meta, resolve_liknande
from helpers.reports.agenda2030.nulage import (
    build_nulage,
    nulage_display,
    standing_out,
)
from helpers.reports.agenda2030.params import Agenda2030Params
from helpers.reports.agenda2030.selection import build_selection, count_per_goal, selection_display
from helpers.reports.agenda2030.spec import (
    GOAL_MAP_FILES,
    GOAL_NAMES,
    STATUS_SERVED,
    TREND_MIN_VALUES,
    TREND_YEARS,
    load_goal_map,
)

log = logging.getLogger(__name__)


@dataclass
class AgendaReport:
    """Everything the notebook shows, computed once from the processed data."""

    params: Agenda2030Params
    meta: AgendaMeta
    selection: pd.DataFrame
    nulage: pd.DataFrame | None
    unit_label: str | None
    group_label: str
    liknande_label: str | None
    comparison_label: str
    data_years: str
    group_column: str = ""
    """The group mean's column header in Tabell 3–4: short ("Kommungrupp C7 (medel)"); the
    text before the table names the group in full."""
    liknande_column: str | None = None


def build_report(params: Agenda2030Params,
                 processed_dir: str | Path | None = None) -> AgendaReport:
    """Load the processed values and metadata and build the selection and the nulägesanalys."""
    folder = paths.PROCESSED_DIR if processed_dir is None else Path(processed_dir)
    meta = load_meta(params, folder)
    members = list(dict.fromkeys(meta.members["member_id"].astype(str)))
    fetched = [k for k in members if (folder / "values" / f"{k}.parquet").exists()]
    values = datasets.load_values(fetched, processed_dir=folder)
    if params.year is not None:
        values = values[values["period"] <= params.year]
    selection = build_selection(meta, load_goal_map(params.level), values, fetched)
    years = selection["senaste_ar"].dropna()
    data_years = (f"{int(years.min())}–{int(years.max())}" if years.min() != years.max()
                  else str(int(years.max()))) if len(years) else "saknas"
    if params.level == "kommun":
        group_label, comparison = "Kommungruppen (medel)", "kommungruppens medelvärde"
    else:
        group_label, comparison = "Alla regioner (medel)", "regionernas medelvärde"
    report = AgendaReport(params, meta, selection, None, None, group_label, None, comparison,
                          data_years, group_column=group_label)
    if params.kommun is None:
        return report
    group = _kommungrupp_of(params.kommun, folder) if params.level == "kommun" else None
    liknande_members: list[str] = []
    if params.liknande is not None:
        liknande_rows = resolve_liknande(params.liknande, params.kommun, meta)
        liknande_members = list(liknande_rows["member_id"])
        title = liknande_rows["group_title"].iloc[0] if len(liknande_rows) else params.liknande
        report.liknande_label = f"{title} (medel)"
        level = "kommuner" if params.level == "kommun" else "regioner"
        report.liknande_column = f"Liknande {level} (medel)"
        report.comparison_label = f"medelvärdet för {title}"
    if group is not None:
        report.group_label = f"Kommungrupp {group[0]} {group[1]} (medel)"
        report.group_column = f"Kommungrupp {group[0]} (medel)"
    report.unit_label = meta.unit_name(params.kommun)
    report.nulage = build_nulage(params.kommun, selection, values, meta.unit_codes(),
                                 group[2] if group else None, liknande_members,
                                 params.onskad_riktning)
    return report


def _kommungrupp_of(kommun: str, processed_dir: Path) -> tuple[str, str, list[str]] | None:
    files = sorted(processed_dir.glob("kommuner_*.parquet"))
    if not files:
        log.warning("no kommun table in %s: no kommungrupp means", processed_dir)
        return None
    table = pd.read_parquet(files[-1])
    row = table[table["kommun"] == kommun]
    if row.empty or pd.isna(row["kommungrupp_2023_kod"].iloc[0]):
        return None
    code, name = row["kommungrupp_2023_kod"].iloc[0], row["kommungrupp_2023"].iloc[0]
    return code, name, sorted(table.loc[table["kommungrupp_2023_kod"] == code, "kommun"])


def goal_count_table(report: AgendaReport) -> Table:
    """Tabell 1: indicators per goal (all 17 goals)."""
    counts = count_per_goal(report.selection)
    shown = pd.DataFrame({"Mål": [f"{g} {n}" for g, n in zip(counts["mal"], counts["malnamn"],
                                                              strict=True)],
                          "Nyckeltal i urvalet": counts["antal"].astype(str),
                          "med värden i Kolada": counts["i_kolada"].astype(str)})
    return Table(shown, 1, "Antal nyckeltal i urvalet per mål", data=counts,
                 name="agenda2030_antal_per_mal", source=source_text(report))


def selection_table(report: AgendaReport) -> Table:
    """Tabell 2: the selection, every member of the Kolada group, with the members Kolada no
    longer serves named under it."""
    return Table(selection_display(report.selection), 2, "RKA:s urval av nyckeltal, per mål",
                 data=report.selection, name="agenda2030_urval", source=source_text(report),
                 note=missing_text(report), group="Mål")


def nulage_table(report: AgendaReport) -> Table | str:
    """Tabell 3: the nulägesanalys (a sentence saying why not, when no unit is given)."""
    if report.nulage is None:
        return NO_NULAGE_TEXT
    shown = nulage_display(report.nulage, report.group_column, report.liknande_column,
                           report.unit_label or "")
    return Table(shown, 3, f"Nulägesanalys för {report.unit_label}",
                 data=report.nulage.assign(enhet=report.params.kommun), name="agenda2030_nulage",
                 source=source_text(report), group="Mål", note=nulage_note(report))


def nulage_figure(report: AgendaReport) -> Figure | None:
    """Figur 1: per goal, each indicator's deviation from the comparison group (None when no
    unit is given)."""
    if report.nulage is None or report.nulage.empty:
        return None
    unit = report.unit_label or ""
    files = files_of(draw_nulage(report.nulage, unit, report.comparison_label))
    shown = report.nulage.dropna(subset=["avvikelse_sd"])
    data = shown[["mal", "malnamn", "kpi", "titel", "avvikelse_sd"]].assign(
        riket_avvikelse_sd=(shown["riket"] - shown["jamforelse"]) / shown["sd"],
        enhet=report.params.kommun)
    alt = nulage_alt(shown, unit)
    note = ("Figuren visar per mål hur långt från jämförelsegruppens medelvärde värdet ligger, i "
            "standardavvikelser mellan alla enheter (prick), och var Riket ligger (ring).")
    return Figure(files, 1, f"Nuläge per mål för {unit}: avvikelse från {report.comparison_label}",
                  alt, data=data, name="agenda2030_nulage_figur", source=source_text(report),
                  note=note)


def nulage_alt(shown: pd.DataFrame, unit: str) -> str:
    """Figur 1's alt text: what it is and its main message (how many indicators lie more than
    one standard deviation from the comparison group, and the furthest); Tabell 3 and 4 hold
    every value."""
    far = shown[shown["avvikelse_sd"].abs() > 1]
    top = shown.loc[shown["avvikelse_sd"].abs().idxmax()]
    return (f"Punktdiagram per Agenda 2030-mål: varje nyckeltals avvikelse från "
            f"jämförelsegruppen i standardavvikelser, {unit} som punkt, Riket som ring. "
            f"{len(far)} av {len(shown)} ligger mer än en standardavvikelse bort; längst bort "
            f"{top['kpi']} ({format_number(top['avvikelse_sd'], 1)}).")


def standing_out_table(report: AgendaReport) -> Table | str:
    """Tabell 4: the indicators that stand out most."""
    if report.nulage is None:
        return NO_NULAGE_TEXT
    chosen = standing_out(report.nulage, report.params.antal_utmarkande)
    shown = nulage_display(chosen, report.group_column, report.liknande_column,
                           report.unit_label or "")
    shown = shown.assign(Mål=chosen["mal"].astype(str))
    shown = shown[["Nyckeltal", "Id", "Mål", "År", report.unit_label or "",
                   *([report.liknande_column] if report.liknande_column else
                     [report.group_column]), "Avvikelse (SD)", "Bedömning"]]
    judged = (chosen["bedomning"] != "").any()
    note = VALUES_NOTE if judged else (
        f"{VALUES_NOTE} Ingen av dem har en önskad riktning i parametrarna, så ingen bedömning "
        "som bättre eller sämre görs (kolumnen Bedömning utelämnas).")
    return Table(shown, 4, "Nyckeltalen som avviker mest från jämförelsegruppen",
                 data=chosen.assign(enhet=report.params.kommun), name="agenda2030_utmarkande",
                 source=source_text(report), note=note)


VALUES_NOTE = ("Värdena är avrundade till en decimal (enheten står i nyckeltalets namn); "
               "CSV-filen har alla decimaler. saknas = inget värde i Kolada.")


NO_NULAGE_TEXT = "*Ingen nulägesanalys: ingen kommun eller region angiven.*"


def direction_text(report: AgendaReport) -> str:
    """Which KPIs are judged "bättre"/"sämre", in Swedish."""
    given = report.params.onskad_riktning
    if not given:
        return ("Ingen önskad riktning är angiven i parametrarna: avvikelserna visas utan "
                "bedömning som bättre eller sämre.")
    listed = ", ".join(f"{md(k)} ({md(v)} är önskvärt)" for k, v in sorted(given.items()))
    return (f"Bedömningen bättre/sämre görs bara för nyckeltal vars önskade riktning anges i "
            f"parametrarna: {listed}. Övriga avvikelser visas utan bedömning.")


def title_text(report: AgendaReport) -> str:
    level = "kommuner" if report.params.level == "kommun" else "regioner"
    title = f"# Agenda 2030 – nyckeltal för {level}"
    if report.unit_label:
        title += f": nulägesanalys för {md(report.unit_label)}"
    return title


def missing_text(report: AgendaReport) -> str:
    """The members Kolada no longer serves, named (they stay in the table)."""
    missing = report.selection[report.selection["status"] != STATUS_SERVED]
    group = report.meta.members["group_id"].iloc[0] if len(report.meta.members) else ""
    served = len(report.selection) - len(missing)
    text = (f"Kolada-gruppen {md(group)} har {len(report.selection)} nyckeltal; {served} har "
            "värden i data.")
    if len(missing):
        listed = "; ".join(f"{md(k)}: {md(s)}" for k, s in zip(missing["kpi"], missing["status"],
                                                               strict=True))
        text += (f" {len(missing)} saknar värden och står kvar i tabellen med sin status – "
                 f"{listed}.")
    unmapped = report.selection["mal"].isna().sum()
    if unmapped:
        text += f" {unmapped} nyckeltal saknar mål i målkartan."
    return text


def source_text(report: AgendaReport) -> str:
    return (f"{KOLADA_SOURCE_LINE} Data avser {report.data_years} (senaste år med data per "
            "nyckeltal).")


def intro_text(report: AgendaReport) -> str:
    """What the selection is, with its numbers counted from the data: how many indicators the
    Kolada group has, how many are divided by gender, how many goals."""
    selection = report.selection
    units = "kommuner" if report.params.level == "kommun" else "regioner"
    group = report.meta.members["group_id"].iloc[0] if len(report.meta.members) else ""
    divided = int((selection["konsuppdelad"] == "ja").sum())
    goal_map = GOAL_MAP_FILES[report.params.level].name
    return (f"RKA:s urval av nyckeltal för Agenda 2030 (avsnittet ”Lokala och regionala "
            f"nyckeltal för Agenda 2030”) för {units}: {len(selection)} nyckeltal i Kolada-gruppen "
            f"{md(group)}, byggda på offentlig statistik; {divided} av dem är könsuppdelade. "
            f"Kolada har gruppen utan koppling till målen. Kopplingen till de {len(GOAL_NAMES)} "
            f"målen kommer från projektets målkarta ({md(goal_map)}), sammanställd ur offentliga "
            "källor med källa och säkerhet per nyckeltal; säkerheten visas där den inte är hög.")


def standing_out_intro(report: AgendaReport) -> str:
    """What "Det som sticker ut" shows, naming the units it compares."""
    units = "kommuner" if report.params.level == "kommun" else "regioner"
    return (f"De nyckeltal där värdet avviker mest från jämförelsegruppen, mätt i "
            f"standardavvikelser mellan alla {units}. En stor avvikelse är inte i sig bra eller "
            "dålig.")


_GROUP_YEAR = re.compile(r", (\d{4})$")


def liknande_year_text(report: AgendaReport) -> str:
    """Why the comparison group is named with a later year than the data: Kolada keeps only
    RKA's current Liknande groups (empty when the years agree)."""
    if not report.liknande_label:
        return ""
    title = report.liknande_label.removesuffix(" (medel)")
    found = _GROUP_YEAR.search(title)
    years = report.selection["senaste_ar"].dropna()
    if not found or not len(years) or int(found.group(1)) <= int(years.max()):
        return ""
    units = "kommuner" if report.params.level == "kommun" else "regioner"
    return (f" Jämförelsegruppen {md(title)} är RKA:s indelning från {found.group(1)}, den som "
            f"Kolada har i dag (äldre indelningar finns inte kvar där); samma {units} jämförs "
            f"därför för alla år, också för data från {report.data_years}.")


def _column_named(label: str, column: str | None) -> str:
    """"; kolumnen Kommungrupp C7" where the table's header is shorter than the name."""
    if not column or column == label:
        return ""
    return f"; i tabellerna {md(column.removesuffix(' (medel)'))}"


def nulage_text(report: AgendaReport) -> str:
    """What the nulägesanalys compares with, in Swedish: the table's lead, short enough to go
    with the table onto its page (the columns are explained under it, :func:`nulage_note`)."""
    if report.nulage is None:
        return ("Ingen kommun eller region är angiven i parametrarna: nulägesanalysen tas inte "
                "fram.")
    text = (f"För varje nyckeltal: senaste värde för {md(report.unit_label)}, Riket (0000), "
            f"{md(report.group_label.removesuffix(' (medel)'))} (ovägt medelvärde"
            f"{_column_named(report.group_label, report.group_column)})")
    if report.liknande_label:
        text += (f" och {md(report.liknande_label.removesuffix(' (medel)'))} (ovägt medelvärde"
                 f"{_column_named(report.liknande_label, report.liknande_column)})")
    return text + "." + liknande_year_text(report)


def nulage_note(report: AgendaReport) -> str:
    """Under the nulägesanalys: what its columns mean, in Swedish."""
    level = "kommuner" if report.params.level == "kommun" else "regioner"
    return (f"Rang bland alla {level} med värde (1 = högst värde) och percentil; trend per år "
            f"över de {count_words(TREND_YEARS)} senaste åren (minst "
            f"{count_words(TREND_MIN_VALUES)} värden); skillnaden kvinnor − män där nyckeltalet "
            f"är könsuppdelat. Avvikelsen anges i standardavvikelser mellan alla {level} från "
            f"{md(report.comparison_label)}. Högt värde är inte alltid bra: se avsnittet om vad "
            f"som sticker ut. {VALUES_NOTE}")
