"""Tabell 1 (public gross debt in % of GDP by sector, Eurostat), Figur 5 drawn from it, and
the report's claim about the debt checked against it."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from helpers.formatting import format_number
from helpers.params import format_years
from helpers.reports.valfard.sentences import fmt, lower_first, verdict
from helpers.reports.valfard.spec import SECTORS


def debt_series(table: pd.DataFrame, geo: str, sectors: Sequence[str],
                years: Sequence[int] | None = None) -> pd.DataFrame:
    """The cells of ``table`` (tidy gov_10dd_edpt1) for GD in % of GDP, ``geo`` and ``sectors``
    in ``years`` (None: every year with data for any of them). Nothing is filled in."""
    rows = table[(table["geo"] == geo) & table["sector"].isin(sectors)
                 & (table["na_item"] == "GD") & (table["unit"] == "PC_GDP")]
    rows = rows.dropna(subset=["value"])
    if years is not None:
        rows = rows[rows["year"].isin([int(y) for y in years])]
    rows = rows.assign(sector=pd.Categorical(rows["sector"], categories=list(sectors)))
    out = rows.sort_values(["sector", "year"])[["geo", "sector", "year", "value", "flag"]]
    out["sector"] = out["sector"].astype(str)
    return out.reset_index(drop=True)


def sector_label(code: str) -> str:
    return f"{SECTORS.get(code, code)} ({code})"


def _years_of(skuld: pd.DataFrame, sector: str) -> list[int]:
    return sorted(int(y) for y in skuld.loc[skuld["sector"] == sector, "year"])


def debt_frame(skuld: pd.DataFrame, sectors: Sequence[str],
                  years: Sequence[int] | None = None) -> pd.DataFrame:
    """Tabell 1 as shown: one row per year (``years``, default every year with data), one column
    per sector, values with a decimal comma, "–" where Eurostat has no value."""
    shown_years = sorted({int(y) for y in (years if years is not None else skuld["year"])})
    wide = skuld.pivot(index="year", columns="sector", values="value")
    wide = wide.reindex(index=shown_years, columns=list(sectors))
    table = wide.apply(lambda column: column.map(lambda v: format_number(v, 1, missing="–")))
    table.columns = [sector_label(code) for code in sectors]
    table.index = pd.Index([str(y) for y in shown_years], name="År")
    return table.reset_index()


def debt_csv(skuld: pd.DataFrame, sectors: Sequence[str],
                years: Sequence[int] | None = None) -> pd.DataFrame:
    """``tables/tabell1.csv``: geo, year and one column per sector code; empty where absent."""
    shown_years = sorted({int(y) for y in (years if years is not None else skuld["year"])})
    wide = skuld.pivot(index="year", columns="sector", values="value")
    wide = wide.reindex(index=shown_years, columns=list(sectors))
    wide.columns.name = None
    wide.index.name = "ar"
    out = wide.reset_index()
    out.insert(0, "geo", skuld["geo"].iloc[0] if len(skuld) else "")
    return out


def span_text(skuld: pd.DataFrame, sectors: Sequence[str]) -> str:
    """"Offentliga sektorn (S13) 1995–2024; staten (S1311) och kommunsektorn (S1313) 2021–2024"."""
    by_span: dict[str, list[str]] = {}
    for code in sectors:
        years = _years_of(skuld, code)
        span = format_years(years) if years else "inga år"
        by_span.setdefault(span, []).append(lower_first(sector_label(code)))
    return "; ".join(f"{' och '.join(names)} {span}" for span, names in by_span.items())








def debt_alt_text(skuld: pd.DataFrame, sectors: Sequence[str], geo: str) -> str:
    """What the line figure shows, in words: each line's first and last value (the table
    beside it holds every year)."""
    parts = []
    for code in sectors:
        rows = skuld[skuld["sector"] == code].sort_values("year")
        if rows.empty:
            parts.append(f"{lower_first(sector_label(code))}: inga värden")
            continue
        first, last = rows.iloc[0], rows.iloc[-1]
        parts.append(f"{lower_first(sector_label(code))} {fmt(first['value'])} år "
                     f"{int(first['year'])} och {fmt(last['value'])} år {int(last['year'])}")
    return f"Linjediagram, bruttoskuld i procent av BNP för {geo}: " + "; ".join(parts) + "."


DEBT_CLAIM = ("Kommunernas låneskuld har ökat samtidigt som statens skuld som andel av BNP har "
               "minskat över tid.")


def debt_statement(skuld: pd.DataFrame, geo: str) -> list[str]:
    """The report's claim about Tabell 1 checked against it: kommunsektorn (S1313) up and staten
    (S1311) down between the first and last year both have values."""
    state, local = (set(_years_of(skuld, code)) for code in ("S1311", "S1313"))
    common = sorted(state & local)
    if len(common) < 2:
        return [DEBT_CLAIM, "kan inte prövas",
                "Tabell 1 har inte två år med värden för både staten (S1311) och "
                f"kommunsektorn (S1313) för {geo}."]
    first, last = common[0], common[-1]
    value = skuld.set_index(["sector", "year"])["value"]

    def change(code: str) -> tuple[str, float]:
        a, b = float(value[(code, first)]), float(value[(code, last)])
        return (f"{lower_first(sector_label(code))} {fmt(a)} procent av BNP {first} → {fmt(b)} "
                f"procent {last} ({'+' if b >= a else ''}{fmt(b - a)} procentenheter)"), b - a

    local_text, local_diff = change("S1313")
    state_text, state_diff = change("S1311")
    text = (f"{local_text[0].upper()}{local_text[1:]}; {state_text}. Jämförelsen gäller "
            f"{first}–{last}, de år Eurostat redovisar båda delsektorerna för {geo}. "
            "Kommunsektorn omfattar kommuner och regioner, och måttet är bruttoskuld, inte "
            "enbart låneskuld.")
    return [DEBT_CLAIM, verdict([local_diff > 0, state_diff < 0]), text]
