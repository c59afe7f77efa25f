"""The Swedish sentences under figures 1–4 and the report's statements checked against the data:
every number in them is computed from the group spread."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers.domain import NO_VALUES
from helpers.formatting import escape_markdown as md
from helpers.formatting import format_number
from helpers.reports.valfard.groups import GroupSpread
from helpers.reports.valfard.spec import MIN_N_FOR_SPREAD


def fmt(value: float, decimals: int = 1) -> str:
    """A number in Swedish format, or "saknas" when missing."""
    return format_number(value, decimals)


def lower_first(name: str) -> str:
    """"Förskola" → "förskola" for use inside a sentence; "LSS …" stays as it is."""
    first = name.split(" ", 1)[0]
    return name if first.isupper() else name[:1].lower() + name[1:]


@dataclass(frozen=True)
class Units:
    """Units after values and after standard deviations in sentences (e.g. " %")."""

    value: str = ""
    spread: str = ""


def _present(spread: GroupSpread, kpi: str, min_n: int = 1) -> pd.DataFrame:
    rows = spread.summary[spread.summary["kpi"] == kpi]
    return rows[rows["n"] >= min_n]


def extremes_sentence(spread: GroupSpread, kpi: str, units: Units = Units()) -> str:
    """Which group has the lowest and the highest mean of ``kpi``, with values and n."""
    rows = _present(spread, kpi)
    name, u = md(spread.indicators[kpi]), units.value
    if rows.empty:
        return f"**{name}**: {NO_VALUES} {spread.year}."
    low = rows.loc[rows["medelvarde"].idxmin()]
    high = rows.loc[rows["medelvarde"].idxmax()]
    overall = spread.overall.set_index("kpi").loc[kpi]
    text = (
        f"**{name}**: lägst medelvärde har {md(low['grupp'])} ({fmt(low['medelvarde'])}{u}; "
        f"n = {low['n']}), högst {md(high['grupp'])} ({fmt(high['medelvarde'])}{u}; "
        f"n = {high['n']}). Medelvärdet över alla kommuner är {fmt(overall['medelvarde'])}{u} "
        f"(n = {int(overall['n'])})."
    )
    candidates = _present(spread, kpi, MIN_N_FOR_SPREAD)
    if len(candidates) > 1:
        top = candidates.loc[candidates["std"].idxmax()]
        text += (
            f" Störst spridning bland grupper med minst {MIN_N_FOR_SPREAD} värden har "
            f"{md(top['grupp'])} (standardavvikelse {fmt(top['std'])}{units.spread})."
        )
    return text


def coverage_sentence(spread: GroupSpread) -> str | None:
    """Groups where fewer than half the kommuner have a value (empty groups named too)."""
    low = spread.summary[spread.summary["n"] < spread.summary["antal_kommuner"] / 2]
    if low.empty:
        return None
    parts = [
        f"{md(lower_first(spread.indicators[r.kpi]))} i {md(r.grupp)} ({r.n} av "
        f"{r.antal_kommuner}"
        + (f", {NO_VALUES})" if r.n == 0 else ")")
        for r in low.itertuples()
    ]
    return "Värde finns för färre än hälften av kommunerna i gruppen: " + "; ".join(parts) + "."


def kommun_sentence(spread: GroupSpread, units: Units = Units()) -> str | None:
    """The marked kommun's values against the mean of its own group."""
    if spread.kommun is None:
        return None
    group, u = md(spread.kommun_group), units.value
    parts, missing = [], []
    for kpi, name in spread.indicators.items():
        value = spread.kommun_value(kpi)
        if pd.isna(value):
            missing.append(md(lower_first(name)))
            continue
        mean = spread.group_mean(kpi, spread.kommun_group)
        parts.append(f"{md(lower_first(name))} {fmt(value)}{u} (gruppens medelvärde "
                     f"{fmt(mean)}{u})")
    text = f"**{md(spread.kommun_label)}** ({group}): " + ("; ".join(parts) or NO_VALUES) + "."
    if missing:
        text += f" Värde saknas {spread.year} för {', '.join(missing)}."
    return text


def largest_spread_sentence(spread: GroupSpread, units: Units = Units()) -> str:
    """Which indicator varies most between kommuner (standard deviation over all kommuner)."""
    overall = spread.overall.dropna(subset=["std"]).sort_values("std", ascending=False)
    parts = [
        f"{md(lower_first(spread.indicators[r.kpi]))} {fmt(r.std)}{units.spread}"
        for r in overall.itertuples()
    ]
    top = spread.indicators[overall.iloc[0]["kpi"]]
    return (
        f"Störst spridning mellan kommunerna har **{md(lower_first(top))}**. Standardavvikelse "
        f"över "
        f"alla kommuner: {'; '.join(parts)}."
    )


def main_message(spread: GroupSpread, units: Units = Units(), codes: bool = False) -> str:
    """The one thing a spread figure shows, for its alt text (plain text, no Markdown): the
    indicator whose group means lie furthest apart, among groups with at least
    ``MIN_N_FOR_SPREAD`` kommuner with a value (all groups when too few have that many).
    ``codes``: name kommuntyp groups by their code ("C9") to keep the text short."""
    best = None
    for kpi, name in spread.indicators.items():
        rows = _present(spread, kpi, MIN_N_FOR_SPREAD)
        rows = rows if len(rows) > 1 else _present(spread, kpi)
        if len(rows) < 2:
            continue
        low, high = rows.loc[rows["medelvarde"].idxmin()], rows.loc[rows["medelvarde"].idxmax()]
        gap = float(high["medelvarde"] - low["medelvarde"])
        if best is None or gap > best[0]:
            best = (gap, name, low, high)
    if best is None:
        return f"inga grupper med värden {spread.year}."
    _, name, low, high = best
    u = units.value
    def group(label: str) -> str:
        code = str(label).split(" ", 1)[0]
        return code if codes and code[:1].isupper() and code[1:].isdigit() else str(label)

    return (f"störst skillnad för {lower_first(name)}: {fmt(low['medelvarde'])}{u} i "
            f"{group(low['grupp'])}, {fmt(high['medelvarde'])}{u} i {group(high['grupp'])}.")


def spread_sentences(spread: GroupSpread, units: Units = Units()) -> list[str]:
    """Everything the text under a spread figure says, computed from ``spread``."""
    lines = [extremes_sentence(spread, kpi, units) for kpi in spread.indicators]
    lines.append(coverage_sentence(spread))
    lines.append(kommun_sentence(spread, units))
    return [line for line in lines if line]


def _mean_vs_all(spread: GroupSpread, kpi: str, code_or_group: str) -> tuple[str, bool]:
    """"A1 Storstäder 36,6 (n = 1) mot 53,9 för alla kommuner, lägst av 9", and below-mean."""
    rows = _present(spread, kpi)
    row = rows[rows["grupp"].astype(str).str.startswith(code_or_group)]
    overall = float(spread.overall.set_index("kpi").loc[kpi, "medelvarde"])
    if row.empty:
        return f"{code_or_group}: {NO_VALUES}", False
    r = row.iloc[0]
    rank = int((rows["medelvarde"] < r["medelvarde"]).sum()) + 1
    text = (
        f"{lower_first(spread.indicators[kpi])} i {r['grupp']} {fmt(r['medelvarde'])} "
        f"(n = {r['n']}) mot {fmt(overall)} för alla kommuner; plats {rank} av {len(rows)} "
        "räknat från lägst"
    )
    return text, bool(r["medelvarde"] < overall)


def verdict(checks: Sequence[bool]) -> str:
    return "ja" if all(checks) else ("delvis" if any(checks) else "nej")


def spec_statements(
    by_type: GroupSpread, by_size: GroupSpread, costs_by_type: GroupSpread
) -> pd.DataFrame:
    """The report's statements about figures 1–4, each with a verdict and the numbers behind it.

    Kvalitetsindex statements compare group means with the mean over all kommuner; "large
    variation" is the largest standard deviation among the size classes; "stands out" is the
    largest standard deviation over all kommuner among the four cost deviations.
    """
    rows = [_metropolitan_claim(by_type), _small_towns_claim(by_type),
            _small_kommuner_claim(by_size)]
    rows += [_rural_costs_claim(costs_by_type), _ifo_claim(costs_by_type)]
    return pd.DataFrame(rows, columns=["Påstående i rapporten", "Stöds av data", "Underlag"])


def _metropolitan_claim(spread: GroupSpread) -> list[str]:
    (t1, ok1), (t2, ok2) = (_mean_vs_all(spread, k, "A1") for k in ("U20404", "U31401"))
    claim = "Storstäder har lägre resultat inom äldreomsorg och ekonomiskt bistånd."
    return [claim, verdict([ok1, ok2]), f"{t1}. {t2}."]


def _small_towns_claim(spread: GroupSpread) -> list[str]:
    text, ok = _mean_vs_all(spread, "U15401", "C6")
    return ["Mindre städer/tätorter har lägre resultat inom grundskolan.", verdict([ok]),
            text + "."]


def _small_kommuner_claim(spread: GroupSpread) -> list[str]:
    smallest = spread.groups[0]
    rows = _present(spread, "U31401")
    overall = spread.overall.set_index("kpi").loc["U31401"]
    own = rows[rows["grupp"].astype(str) == smallest]
    claim = (f"Små kommuner ({smallest} invånare) har ofta högre kvalitetsindex för ekonomiskt "
             "bistånd, men variationen är stor.")
    if own.empty:
        return [claim, "nej", f"{smallest}: {NO_VALUES}."]
    r = own.iloc[0]
    candidates = _present(spread, "U31401", MIN_N_FOR_SPREAD)
    top = candidates.loc[candidates["std"].idxmax()] if len(candidates) else r
    higher = bool(r["medelvarde"] > overall["medelvarde"])
    widest = str(top["grupp"]) == smallest
    text = (
        f"Medelvärde i {smallest} {fmt(r['medelvarde'])} (n = {r['n']} av {r['antal_kommuner']}) "
        f"mot {fmt(overall['medelvarde'])} för alla kommuner; andel av gruppens kommuner med "
        f"värde över medelvärdet för alla kommuner: {_share_above(spread, smallest)}. "
        f"Standardavvikelse i {smallest} {fmt(r['std'])} mot {fmt(overall['std'])} för alla "
        f"kommuner; störst bland storleksklasserna: {top['grupp']} ({fmt(top['std'])})."
    )
    return [claim, verdict([higher, widest]), text]


def _share_above(spread: GroupSpread, group: str) -> str:
    data = spread.points[(spread.points["kpi"] == "U31401")]
    mean = data["varde"].mean()
    own = data[data["grupp"].astype(str) == group]["varde"]
    return f"{int((own > mean).sum())} av {len(own)}"


def _rural_costs_claim(spread: GroupSpread) -> list[str]:
    overall = float(spread.overall.set_index("kpi").loc["N00097", "medelvarde"])
    rows = _present(spread, "N00097").sort_values("medelvarde", ascending=False)
    rows = rows.assign(plats=range(1, len(rows) + 1))
    chosen = rows[rows["grupp"].astype(str).str[:2].isin(["C7", "C8", "C9"])]
    checks = list(chosen["medelvarde"] > overall)
    parts = [
        f"{r.grupp} {fmt(r.medelvarde)} % (plats {r.plats} av {len(rows)} räknat från högst)"
        for r in chosen.itertuples()
    ]
    text = (
        f"Nettokostnadsavvikelse totalt exkl. LSS: {'; '.join(parts)}; medelvärde för alla "
        f"kommuner {fmt(overall)} %."
    )
    claim = ("Landsbygdskommuner och pendlingskommuner nära mindre tätorter uppvisar betydande "
             "avvikelser.")
    return [claim, verdict(checks) if checks else "nej", text]


def _ifo_claim(spread: GroupSpread) -> list[str]:
    overall = spread.overall.set_index("kpi")
    top = overall["std"].idxmax()
    ranges = spread.summary.groupby("kpi", observed=True)["medelvarde"].agg(
        lambda m: m.max() - m.min()
    )
    parts = [
        f"{lower_first(spread.indicators[k])} {fmt(overall.loc[k, 'std'])} "
        f"(gruppmedelvärdena spänner {fmt(ranges.get(k, np.nan))} procentenheter)"
        for k in spread.indicators
    ]
    ok = top == "N30001" and ranges.idxmax() == "N30001"
    return ["Ett område som särskilt sticker ut är individ- och familjeomsorgen.",
            verdict([ok]), "Standardavvikelse över alla kommuner (procentenheter): "
            + "; ".join(parts) + "."]
