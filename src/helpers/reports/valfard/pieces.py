"""The report's pieces as the notebook shows them: title, figures 1–4 and 6–7, tables 2–4."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from helpers.domain import EUROSTAT_SOURCE_LINE, KOLADA_SOURCE_LINE
from helpers.formatting import escape_markdown as md
from helpers.rendering.figure_files import files_once, frame_digest
from helpers.rendering.figures import MAX_ALT, Marked, SpreadStyle, spread_alt, spread_figure
from helpers.rendering.notebook import Figure, Table
from helpers.rendering.table_figures import correlation_heatmap, line_figure
from helpers.rendering.tables import correlation_display, n_range, notes, own_values_display
from helpers.reports.valfard.correlations import correlation_table, resolve_variable
from helpers.reports.valfard.data import ValfardData
from helpers.reports.valfard.debt import (
    debt_alt_text,
    debt_csv,
    debt_frame,
    debt_statement,
    sector_label,
    span_text,
)
from helpers.reports.valfard.groups import GroupSpread, spread_csv
from helpers.reports.valfard.sentences import (
    Units,
    fmt,
    kommun_sentence,
    largest_spread_sentence,
    lower_first,
    main_message,
    spec_statements,
    spread_sentences,
)
from helpers.reports.valfard.spec import (
    KVALITETSINDEX,
    NETTOKOSTNADSAVVIKELSE,
    TABLE2_COLUMNS,
    TABLE2_ROWS,
    TABLE3_COLUMNS,
    TABLE3_ROWS,
    Variable,
)

DEBT_FIGURE = 5
"""Figur 5, after the report's Figur 1–4: Tabell 1 as a line figure."""


HEATMAP_FIGURES = {2: 6, 3: 7}
"""Figur 6 and 7: Tabell 2 and 3 as heatmaps."""


def debt_table(data: ValfardData) -> Table:
    """Tabell 1: gross debt in % of GDP by sector and year; the CSV holds the numbers (empty
    where Eurostat has none), the caption says which years each sector has."""
    skuld = data.skuld
    sectors = list(data.skuld_sektorer)
    shown = debt_frame(skuld, sectors, data.skuld_ar).set_index("År")
    shown.index.name, shown.columns.name = None, "År"  # one header row, "År" in its corner
    sub = [code for code in sectors if code != "S13"]
    note = [
        f"Offentlig bruttoskuld (konsoliderad, Maastrichtdefinitionen; Eurostats kod GD) i "
        f"procent av BNP, {md(data.skuld_geo)}. År med värde: {span_text(skuld, sectors)}. "
        "– = värde saknas i Eurostats data; inget år är skattat eller ifyllt.",
    ]
    if "S13" in sectors and sub:
        note.append(
            f"Offentliga sektorn (S13) visas för hela perioden och uppdelningen på "
            f"{' och '.join(lower_first(sector_label(c)) for c in sub)} där den finns. "
            "Varje delsektors skuld är konsoliderad för sig (skulder mellan sektorerna räknas "
            "bort i S13 men inte mellan delsektorerna), så delsektorerna är inte delar av S13 "
            "och summerar inte till S13.")
    return Table(shown, 1, "Den offentliga skulden som andel av BNP uppdelad på kommunsektorn "
                 "och stat", data=debt_csv(skuld, sectors, data.skuld_ar),
                 source=EUROSTAT_SOURCE_LINE, note=" ".join(note), index=True)


def debt_figure(data: ValfardData) -> Figure:
    """Figur 5, the small line figure beside Tabell 1 (the same values)."""
    skuld = data.skuld
    sectors = list(data.skuld_sektorer)
    series = {sector_label(code): skuld[skuld["sector"] == code].set_index("year")["value"]
              for code in sectors}
    title = "Offentlig bruttoskuld i procent av BNP (tabell 1 som diagram)"
    alt = debt_alt_text(skuld, sectors, data.skuld_geo)
    files = files_once(("debt", *frame_digest(skuld), tuple(sectors)),
                       lambda: line_figure(series, value_label="Procent av BNP"))
    note = (f"Land: {md(data.skuld_geo)}. Samma värden som tabell 1 (`tables/tabell1.csv`); "
            "linjerna ritas bara för år med värde. Delsektorerna är konsoliderade var för sig och "
            "summerar inte till offentliga sektorn.")
    return Figure(files, DEBT_FIGURE, title, alt, source=EUROSTAT_SOURCE_LINE, note=note)


def heatmap(data: ValfardData, number: int) -> Figure:
    """Tabell ``number`` (2–3) as a seaborn heatmap beside the table (Figur 6 and 7)."""
    _heading, rows, columns = TABLES[number]
    long = correlation_table(data.wide, rows, columns, year=data.year)
    corr = long[long["typ"] == "korrelation"]
    row_labels = list(dict.fromkeys(corr["rad"]))
    column_labels = list(dict.fromkeys(corr["kolumn"]))
    values = corr.pivot(index="rad", columns="kolumn", values="varde")
    values = values.reindex(index=row_labels, columns=column_labels)
    counts = corr.pivot(index="rad", columns="kolumn", values="n")
    counts = counts.reindex(index=row_labels, columns=column_labels)
    values = values.where(counts >= 3)
    figure_number = HEATMAP_FIGURES[number]
    title = f"Korrelationerna i tabell {number} som värmekarta ({data.year})"
    alt = heatmap_alt_text(values, number)
    files = files_once(("heatmap", *frame_digest(values, counts)),
                       lambda: correlation_heatmap(values, counts))
    note = (f"Samma korrelationer som tabell {number}: blått negativt, rött positivt samband, "
            "vitt nära 0; n = antal kommuner med värde på båda variablerna. Data: "
            f"`tables/tabell{number}.csv`.")
    return Figure(files, figure_number, title, alt, source=source_line(data.year), note=note)


def heatmap_alt_text(values: pd.DataFrame, number: int) -> str:
    """What the heatmap is and its main message: the strongest correlation (the table before
    it holds every value)."""
    text = (f"Värmekarta över korrelationerna i tabell {number}: blått för negativa, rött för "
            "positiva samband.")
    stacked = values.stack().dropna()
    if len(stacked):
        row, column = stacked.abs().idxmax()
        text += (f" Starkast samband har {lower_first(row)} och {lower_first(column)} "
                 f"({fmt(stacked[(row, column)], 2)}).")
    return text


def source_line(year: int) -> str:
    return f"{KOLADA_SOURCE_LINE} Data avser {year}."


def title(data: ValfardData) -> str:
    """The report's title (naming the kommun in a kommun variant) and what the data are."""
    heading = "Välfärd i hela landet"
    if data.kommun is not None:
        heading += f": {md(data.kommun_label)} ({data.kommun})"
    classes = ", ".join(md(c) for c in data.kommuner["storleksklass"].cat.categories)
    text = (
        f"# {heading}\n\nData avser {data.year}. Kommuntyp enligt SKR:s kommungruppsindelning "
        f"{data.kommungruppering}. Befolkningsstorlek (invånare, N01951, {data.year}) i "
        f"storleksklasserna {classes}."
    )
    if data.kommun is not None:
        text += (f" {md(data.kommun_label)} är markerad i figurerna; kommunens egna värden för "
                 f"variablerna i tabell 2 och 3 står i tabell {OWN_VALUES_TABLE}.")
    return text


@dataclass(frozen=True)
class FigureSpec:
    title: str
    by: str
    indicators: dict[str, str]
    style: SpreadStyle
    units: Units


QUALITY_STYLE = SpreadStyle("Kvalitetsindex (0–100)", limits=(0, 100))


COST_STYLE = SpreadStyle("Nettokostnadsavvikelse (%)", bars=True, zero_line=True)


COST_UNITS = Units(" %", " procentenheter")


FIGURES: dict[int, FigureSpec] = {
    1: FigureSpec("Spridningen av kvalitetsindexen med avseende på kommuntyp",
                  "kommuntyp", KVALITETSINDEX, QUALITY_STYLE, Units()),
    2: FigureSpec("Spridningen av kvalitetsindex över befolkningsstorlek",
                  "storleksklass", KVALITETSINDEX, QUALITY_STYLE, Units()),
    3: FigureSpec("Avvikelsen från standardkostnad fördelat över kommuntyp",
                  "kommuntyp", NETTOKOSTNADSAVVIKELSE, COST_STYLE, COST_UNITS),
    4: FigureSpec("Avvikelsen från standardkostnad fördelat över befolkningsstorlek",
                  "storleksklass", NETTOKOSTNADSAVVIKELSE, COST_STYLE, COST_UNITS),
}


def figure(data: ValfardData, number: int) -> Figure:
    """Figure ``number`` (1–4): the drawing, its alt text, the data behind it (long: kommun
    values, group means, all-kommun means) and the computed sentences under it."""
    spec = FIGURES[number]
    spread = data.spread(spec.by, spec.indicators)
    sentences, message, coded = data.shared(("figure text", number), lambda: _figure_text(
        data.all_kommuner_spread(spec.by, spec.indicators), spec))
    sentences = [*sentences, *filter(None, [kommun_sentence(spread, spec.units)])]
    if len(spread_alt(spec.style, spread.grouping, message, _marked(spread))) > MAX_ALT:
        message = coded
    drawn = spread_figure(
        spread.points, spread.summary, spread.overall, indicators=spec.indicators,
        groups=spread.groups, style=spec.style, group_label=spread.grouping,
        marked=_marked(spread), description=message,
    )  # fmt: skip
    note = "\n".join([
        "Streckad linje: medelvärdet över alla kommuner med värde (ovägt). n = antal kommuner "
        "med värde i gruppen.", "", *[f"- {s}" for s in sentences]])
    return Figure(drawn.files, number, spec.title, drawn.alt_text, data=spread_csv(spread),
                  source=source_line(data.year), note=note)


def _figure_text(spread: GroupSpread, spec: FigureSpec) -> tuple[list[str], str, str]:
    """What a figure's text says alike for every kommun (``spread`` marks none): the sentences
    under it and the main message of its alt text, in words and with group codes."""
    sentences = spread_sentences(spread, spec.units)
    if spec.style.bars:
        sentences.insert(len(spec.indicators), largest_spread_sentence(spread, spec.units))
    return (sentences, main_message(spread, spec.units),
            main_message(spread, spec.units, codes=True))


def _marked(spread: GroupSpread) -> Marked | None:
    if spread.kommun is None:
        return None
    return Marked(spread.kommun, spread.kommun_label, spread.kommun_group)


TABLES: dict[int, tuple[str, tuple[Variable, ...], tuple[Variable, ...]]] = {
    2: ("Korrelationskoefficienten mellan kvalitetsmåtten och olika strukturella och icke "
        "strukturella variabler", TABLE2_ROWS, TABLE2_COLUMNS),
    3: ("Korrelationen mellan nettokostnadsavvikelsen och olika strukturella variabler",
        TABLE3_ROWS, TABLE3_COLUMNS),
}


def table(data: ValfardData, number: int) -> Table:
    """Table ``number`` (2–3): the correlations as shown, the long table behind them (r and n
    per pair, the kommun's own values) and the notes on substituted or missing variables."""
    heading, rows, columns = TABLES[number]
    long = correlation_table(data.wide, rows, columns, year=data.year, kommun=data.kommun)
    low, high = n_range(long)
    counts = f"{low}–{high}" if low != high else f"{low}"
    own = (f" {genitive(md(data.kommun_label))} egna värden för variablerna står i tabell "
           f"{OWN_VALUES_TABLE}." if data.kommun is not None else "")
    note = "\n".join([
        f"Pearsons korrelationskoefficient över kommuner med värde på båda variablerna; "
        f"{counts} kommuner per korrelation (kolumnen n i `tables/tabell{number}.csv`). "
        f"saknas = inga värden i Kolada.{own}",
        "",
        *[f"- {md(n)}" for n in notes(long)],
    ])  # fmt: skip
    return Table(correlation_display(long), number, heading, data=long,
                 source=source_line(data.year), note=note, index=True)


def genitive(name: str) -> str:
    """Swedish genitive of a place name: "Åseles", but "Borås" and "Hagfors" unchanged."""
    return name if name[-1:].lower() in "sxz" else f"{name}s"


OWN_VALUES_TABLE = 5
"""The kommun's own values of the variables of tables 2–3 (kommun variants only), after
Tabell 4."""


def own_values(data: ValfardData) -> list[str | Table] | None:
    """Tabell 5 in a kommun variant: the kommun's own value of every variable of tables 2–3,
    each with its unit; None for the whole country."""
    if data.kommun is None:
        return None
    variables = list(dict.fromkeys([*TABLE2_ROWS, *TABLE2_COLUMNS, *TABLE3_ROWS,
                                    *TABLE3_COLUMNS]))
    resolved = [resolve_variable(v, data.wide) for v in variables]
    own = pd.DataFrame({
        "variabel": [r.label for r in resolved],
        "kpi": [r.variable.kpi for r in resolved],
        "data": [r.used for r in resolved],
        "enhet": [r.variable.unit for r in resolved],
        "varde": [float(r.values.get(data.kommun, float("nan"))) for r in resolved],
    }).assign(kommun=data.kommun, ar=data.year)
    label = md(data.kommun_label)
    text = (f"## {genitive(label)} värden för tabellernas variabler\n\n"
            f"Värdena för {label} {data.year} av variablerna i tabell 2 och 3, var och en i sin "
            "enhet. De står här och inte i korrelationstabellerna, där alla tal är "
            "korrelationskoefficienter.")
    note = ("Värdena är avrundade till en decimal, antal och kronor till heltal; CSV-filen har "
            "alla decimaler. saknas = "
            "inget värde i Kolada.")
    shown = own_values_display(own, f"{data.kommun_label} {data.year}")
    caption = f"{genitive(data.kommun_label)} värden för variablerna i tabell 2 och 3"
    return [text, Table(shown, OWN_VALUES_TABLE, caption, data=own,
                        name=f"tabell{OWN_VALUES_TABLE}", source=source_line(data.year),
                        note=note)]


def statements(data: ValfardData) -> Table:
    """The report's statements about figures 1–4 and Tabell 1 checked against the data."""
    checked = data.shared("statements", lambda: spec_statements(
        data.all_kommuner_spread("kommuntyp", KVALITETSINDEX),
        data.all_kommuner_spread("storleksklass", KVALITETSINDEX),
        data.all_kommuner_spread("kommuntyp", NETTOKOSTNADSAVVIKELSE),
    )).copy()
    checked.loc[len(checked)] = debt_statement(data.skuld, data.skuld_geo)
    return Table(checked.set_index("Påstående i rapporten"), 4,
                 "Rapportens påståenden om figur 1–4 och tabell 1 prövade mot data",
                 data=checked, name="pastaenden", index=True, source=source_line(data.year),
                 note="Gruppernas medelvärden jämförs med medelvärdet över alla kommuner "
                      f"(ovägt). Påståendet om tabell 1: {EUROSTAT_SOURCE_LINE}")
