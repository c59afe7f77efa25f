"""Välfärd i hela landet: every number in the CSVs recomputed independently from the values."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from conftest import VALFARD_KPIS

from helpers.build.parameters import load_params
from helpers.datasets import size_class_labels
from helpers.formatting import format_number
from helpers.params import ParamsError
from helpers.rendering.notebook import ReportNotebook
from helpers.reports import valfard

LIMITS = [0, 6000, 10000, 20000, 50000, 100000]
CODES = ["A1", "A2", "B3", "B4", "B5", "C6", "C7", "C8", "C9"]
QUALITY = ["U11404", "U15401", "U17401", "U20404", "U28408", "U31401"]
COSTS = ["N15001", "N30001", "N20900", "N00097"]
# Row and column order of tables 2 and 3 as REPORT_SPEC §1 lists them.
TABLE2_ROWS = ["N15001", "N30001", "N20900", "N01951", "N03932", "N00927", "N02276", "N02937",
                "N01721", "N00906", "N00954", "N02279", "N15820", "N01958"]
TABLE2_COLUMNS = ["U31401", "U15401", "U20404"]
TABLE3_ROWS = TABLE2_ROWS[3:]
TABLE3_COLUMNS = ["N15001", "N30001", "N20900"]
ASELE = "2463"


def params(**values) -> valfard.ValfardParams:
    """Validated parameters of the report (codes already normalised by the model)."""
    return valfard.ValfardParams(report="valfard_i_hela_landet", **values)


# --- independent recomputation from the parquet files ------------------------------------------


@pytest.fixture(scope="module")
def raw(processed_data):
    """Values (gender T) and the kommun table read straight from the parquet files."""
    values = pd.concat(
        [pd.read_parquet(f) for f in sorted((processed_data / "values").glob("*.parquet"))]
    )
    kommuner = pd.read_parquet(processed_data / "kommuner_2022.parquet")
    return values[values["gender"] == "T"], kommuner


def per_kommun(raw, kpi: str, year: int) -> pd.Series:
    values, kommuner = raw
    rows = values[(values["kpi"] == kpi) & (values["period"] == year)]
    series = rows.set_index("municipality")["value"]
    return series.reindex(kommuner["kommun"]).dropna()


def size_class(raw, year: int) -> pd.Series:
    """Size class label per kommun from N01951 of ``year`` and the default limits."""
    population = per_kommun(raw, "N01951", year)
    index = np.searchsorted(LIMITS, population.to_numpy(), side="right") - 1
    return pd.Series(np.array(size_class_labels(LIMITS))[index], index=population.index)


def kommuntyp(raw, gruppering: int = 2023) -> pd.Series:
    return raw[1].set_index("kommun")[f"kommungrupp_{gruppering}_kod"]


def expected_groups(raw, kpi: str, groups: pd.Series, year: int) -> pd.DataFrame:
    """n, mean and group size per group, groups in report order (A1…C9 or smallest first)."""
    values = per_kommun(raw, kpi, year)
    order = CODES if set(groups) <= set(CODES) else size_class_labels(LIMITS)
    rows = []
    for group in order:
        members = values[values.index.isin(groups[groups == group].index)]
        rows.append({"grupp": group, "n": len(members), "medelvarde": members.mean(),
                     "antal_kommuner": int((groups == group).sum())})
    return pd.DataFrame(rows)


# --- the report run on the snapshot -------------------------------------------------------------


def shown(piece, out):
    """Show a figure or table as the notebook does (writing its files into ``out``)."""
    ReportNotebook(None, out).show(piece)
    return piece


def build(data, out):
    pieces = {n: shown(valfard.figure(data, n), out) for n in (1, 2, 3, 4)}
    own = valfard.own_values(data)
    own_table = {"tabell5": shown(own, out)[-1]} if own is not None else {}
    return pieces | {f"tabell{n}": shown(valfard.table(data, n), out) for n in (2, 3)} | own_table


@pytest.fixture(scope="module")
def national(processed_data, tmp_path_factory):
    out = tmp_path_factory.mktemp("valfard")
    data = valfard.load_data(params(), processed_data)
    return data, out, build(data, out)


@pytest.fixture(scope="module")
def asele(processed_data, tmp_path_factory):
    out = tmp_path_factory.mktemp("valfard-2463")
    data = valfard.load_data(params(kommun="2463"), processed_data)
    return data, out, build(data, out)


def read_csv(folder, name: str) -> pd.DataFrame:
    return pd.read_csv(folder / "tables" / f"{name}.csv", dtype={"kommun": str})


def test_default_year_is_the_latest_with_data(national):
    # REPORT_SPEC §1: default the latest year with data for the figure's KPIs (2022 in the snapshot)
    assert national[0].year == 2022


@pytest.mark.parametrize(("number", "kpis", "by"), [
    (1, QUALITY, "kommuntyp"), (2, QUALITY, "storleksklass"),
    (3, COSTS, "kommuntyp"), (4, COSTS, "storleksklass"),
])
def test_figure_csv_group_means_and_n_recomputed(national, raw, number, kpis, by):
    _, out, _ = national
    csv = read_csv(out, f"figur{number}")
    groups = kommuntyp(raw) if by == "kommuntyp" else size_class(raw, 2022)
    means = csv[csv["typ"] == "gruppmedelvarde"]
    for kpi in kpis:
        expected = expected_groups(raw, kpi, groups, 2022)
        got = means[means["kpi"] == kpi].reset_index(drop=True)
        assert len(got) == len(expected)  # every group kept, empty ones too
        labels = [g[:2] for g in got["grupp"]] if by == "kommuntyp" else list(got["grupp"])
        assert labels == list(expected["grupp"])
        assert list(got["n"]) == list(expected["n"])
        assert list(got["antal_kommuner"]) == list(expected["antal_kommuner"])
        np.testing.assert_allclose(got["medelvarde"], expected["medelvarde"], equal_nan=True)


@pytest.mark.parametrize("number", [1, 2, 3, 4])
def test_figure_csv_has_every_kommun_value_and_the_mean_over_kommuner(national, raw, number):
    _, out, _ = national
    csv = read_csv(out, f"figur{number}")
    for kpi in csv["kpi"].unique():
        values = per_kommun(raw, kpi, 2022)
        rows = csv[(csv["typ"] == "kommun") & (csv["kpi"] == kpi)].set_index("kommun")
        assert sorted(rows.index) == sorted(values.index)
        np.testing.assert_allclose(rows["varde"].loc[values.index], values)
        overall = csv[(csv["typ"] == "medelvarde_alla_kommuner") & (csv["kpi"] == kpi)]
        assert overall["n"].item() == len(values)
        assert overall["medelvarde"].item() == pytest.approx(values.mean())


def test_aldreomsorg_small_kommuner_counted_as_in_the_data(national, raw):
    _, out, _ = national
    csv = read_csv(out, "figur2")
    smallest = size_class_labels(LIMITS)[0]
    row = csv[(csv["typ"] == "gruppmedelvarde") & (csv["kpi"] == "U20404")
              & (csv["grupp"] == smallest)]
    expected = expected_groups(raw, "U20404", size_class(raw, 2022), 2022)
    assert row["n"].item() == expected.set_index("grupp").loc[smallest, "n"]
    assert row["antal_kommuner"].item() > 0


def test_a_group_without_values_is_shown_as_empty_not_dropped(national, raw, tmp_path):
    data = national[0]
    smallest = size_class_labels(LIMITS)[0]
    classes = size_class(raw, 2022)
    members = classes[classes == smallest].index
    wide = data.wide.copy()
    wide.loc[wide.index.isin(members), "U20404"] = np.nan  # no äldreomsorg value in the group
    block = shown(valfard.figure(dataclasses.replace(data, wide=wide), 2), tmp_path)
    csv = read_csv(tmp_path, "figur2")
    row = csv[(csv["typ"] == "gruppmedelvarde") & (csv["kpi"] == "U20404")
              & (csv["grupp"] == smallest)]
    assert row["n"].item() == 0 and row["antal_kommuner"].item() == len(members)
    assert pd.isna(row["medelvarde"].item())
    seen = rendered_text(block.note)  # "<6 000" is text, not the start of a tag
    assert f"äldreomsorg i {smallest} (0 av {len(members)}, inga värden)" in seen


def rendered_text(markdown: str) -> str:
    """What a reader of the HTML report sees of ``markdown`` (nbconvert's renderer)."""
    import html
    import re

    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    return html.unescape(re.sub(r"<[^>]+>", "", markdown2html_mistune(markdown)))


def test_text_under_figure_names_the_group_with_the_lowest_mean(national, raw):
    _, _, blocks = national
    text = blocks[1].note
    expected = expected_groups(raw, "U20404", kommuntyp(raw), 2022).dropna()
    lowest = expected.loc[expected["medelvarde"].idxmin()]
    line = next(s for s in text.splitlines() if "**Äldreomsorg**" in s)
    assert f"lägst medelvärde har {lowest['grupp']} " in line
    assert valfard.fmt(lowest["medelvarde"]) in line
    assert f"n = {lowest['n']})" in line


def test_figures_written_with_alt_text_and_source(national):
    _, out, blocks = national
    for number in (1, 2, 3, 4):
        for suffix in ("svg", "pdf", "png"):  # vector files for layout, and a bitmap
            assert (out / "figures" / f"figur{number}.{suffix}").stat().st_size > 10_000
        alt = (out / "figures" / f"figur{number}.txt").read_text(encoding="utf-8").strip()
        # what the figure is and its one main message, short; not the caption, and none of
        # the sentences of the long description under it (the note)
        assert len(alt) <= 250 and ("Punktdiagram per " in alt or "Staplar och punkter" in alt)
        assert "störst skillnad för " in alt
        assert valfard.FIGURES[number].title not in alt and "Källa" not in alt
        assert not any(s in blocks[number].note for s in alt.split(". ") if len(s) > 30)
        assert blocks[number].source == "Källa: Kolada (RKA), egna beräkningar. Data avser 2022."
        assert blocks[number].note.startswith("Streckad linje: medelvärdet över alla kommuner")


def pearson(x: pd.Series, y: pd.Series) -> tuple[float, int]:
    both = pd.concat([x, y], axis=1, join="inner").dropna()
    if len(both) < 3:
        return np.nan, len(both)
    return np.corrcoef(both.iloc[:, 0], both.iloc[:, 1])[0, 1], len(both)


def variable(raw, kpi: str) -> pd.Series:
    """A table variable as the report defines it, from the raw values."""
    if kpi == "N02937":  # not in the snapshot: inhabitants / land area
        return (per_kommun(raw, "N01951", 2022) / per_kommun(raw, "N02993", 2022)).dropna()
    if kpi == "N03932":  # not in the snapshot: substituted by N03920
        return per_kommun(raw, "N03920", 2022)
    return per_kommun(raw, kpi, 2022)


@pytest.mark.parametrize(("number", "rows", "columns"), [
    (2, TABLE2_ROWS, TABLE2_COLUMNS), (3, TABLE3_ROWS, TABLE3_COLUMNS),
])
def test_table_correlations_recomputed_in_report_order(national, raw, number, rows, columns):
    _, out, _ = national
    csv = read_csv(out, f"tabell{number}")
    corr = csv[csv["typ"] == "korrelation"]
    assert list(dict.fromkeys(corr["rad_kpi"])) == rows
    assert list(dict.fromkeys(corr["kolumn_kpi"])) == columns
    for line in corr.itertuples():
        r, n = pearson(variable(raw, line.rad_kpi), variable(raw, line.kolumn_kpi))
        assert line.n == n
        assert line.varde == pytest.approx(r, nan_ok=True)


def test_missing_and_substituted_variables_are_named(national):
    _, out, blocks = national
    csv = read_csv(out, "tabell2")
    low_education = csv[csv["rad_kpi"] == "N01721"]
    assert len(low_education) == 3 and low_education["varde"].isna().all()
    assert (low_education["anmarkning"].str.contains("saknas i data")).all()
    unemployment = csv[csv["rad_kpi"] == "N03932"]
    assert set(unemployment["rad_data"]) == {"N03920"}
    assert unemployment["anmarkning"].str.contains("ersatt med N03920").all()
    density = csv[csv["rad_kpi"] == "N02937"]
    assert set(density["rad_data"]) == {"N01951/N02993"}
    shown = blocks["tabell2"].shown
    row = shown.loc["Invånare 25–64 år med låg utbildningsnivå, andel"]
    assert (row == "saknas").sum() == 3
    assert "N03920 (ersätter N03932)" in set(shown["Nyckeltal"])
    notes = blocks["tabell2"].note
    assert "ersatt med N03920" in notes and "N01951 Invånare / N02993" in notes


# --- the kommun variant -----------------------------------------------------------------------


def test_kommun_marked_in_every_figure_csv(asele, raw):
    data, out, blocks = asele
    assert data.kommun == ASELE and data.kommun_label == "Åsele"
    for number in (1, 2, 3, 4):
        csv = read_csv(out, f"figur{number}")
        marked = csv[csv["vald_kommun"].astype(bool)]
        assert set(marked["kommun"]) == {ASELE}
        for line in marked.itertuples():
            assert line.varde == pytest.approx(per_kommun(raw, line.kpi, 2022)[ASELE])
        assert "**Åsele**" in blocks[number].note
        alt = (out / "figures" / f"figur{number}.txt").read_text(encoding="utf-8").strip()
        assert alt.endswith("Åsele är markerad med stjärna.") and len(alt) <= 250


def test_kommun_sentence_compares_with_its_own_group(asele, raw):
    _, _, blocks = asele
    group = kommuntyp(raw)[ASELE]
    line = next(s for s in blocks[3].note.splitlines() if s.startswith("- **Åsele**"))
    assert f"({group} " in line
    members = kommuntyp(raw)[kommuntyp(raw) == group].index
    values = per_kommun(raw, "N15001", 2022)
    mean = values[values.index.isin(members)].mean()
    own = values[ASELE]
    expected = f"grundskola F–9 {valfard.fmt(own)} % (gruppens medelvärde {valfard.fmt(mean)} %)"
    assert expected in line


def test_kommun_values_in_a_table_of_their_own(asele, national, raw):
    """The kommun's values keep their units (Tabell 5), not a row or column among the r."""
    _, out, blocks = asele
    csv = read_csv(out, "tabell3")
    own = csv[csv["typ"] == "kommunvarde"]
    assert set(own["kommun"]) == {ASELE}
    population = own[own["rad_kpi"] == "N01951"]["varde"].item()
    assert population == per_kommun(raw, "N01951", 2022)[ASELE]
    for number in (2, 3):
        shown = blocks[f"tabell{number}"].shown
        assert not any("Åsele" in str(c) for c in [*shown.columns, *shown.index])
        assert "tabell 5" in blocks[f"tabell{number}"].note
    table = blocks["tabell5"]
    assert table.number == 5 and table.title == "Åseles värden för variablerna i tabell 2 och 3"
    values = table.shown.set_index("Variabel")
    assert values.loc["Invånare", "Enhet"] == "antal"
    assert values.loc["Invånare", "Åsele 2022"] == format_number(population, 0)  # a count: whole
    assert values.loc["Sammanräknad förvärvsinkomst 20–64 år, median", "Enhet"] == "kronor"
    data = read_csv(out, "tabell5")
    assert data.set_index("kpi").loc["N01951", "varde"] == population
    assert valfard.own_values(national[0]) is None  # the whole country has no own values


def test_title_names_the_kommun(asele, national):
    assert "Åsele (2463)" in valfard.title(asele[0])
    assert "Åsele" not in valfard.title(national[0])


# --- parameters and other groupings ----------------------------------------------------------


def test_kommungruppering_2017_changes_the_groups(processed_data, raw, tmp_path):
    data = valfard.load_data(params(kommungruppering=2017), processed_data)
    shown(valfard.figure(data, 3), tmp_path)
    csv = read_csv(tmp_path, "figur3")
    means = csv[(csv["typ"] == "gruppmedelvarde") & (csv["kpi"] == "N00097")]
    expected = expected_groups(raw, "N00097", kommuntyp(raw, 2017), 2022)
    assert list(means["n"]) == list(expected["n"])
    assert "C7 Pendlingskommun nära mindre stad/tätort" in set(means["grupp"])
    assert "kommungruppsindelning 2017" in means["gruppering"].iloc[0]


def test_earlier_year_follows_the_data(processed_data, raw, tmp_path):
    data = valfard.load_data(params(year=2021), processed_data)
    block = shown(valfard.figure(data, 1), tmp_path)
    values = per_kommun(raw, "U20404", 2021)
    csv = read_csv(tmp_path, "figur1")
    overall = csv[(csv["typ"] == "medelvarde_alla_kommuner") & (csv["kpi"] == "U20404")]
    assert overall["n"].item() == len(values)
    assert block.source == "Källa: Kolada (RKA), egna beräkningar. Data avser 2021."


def test_load_data_rejects_a_year_or_kommun_without_data(processed_data, tmp_path):
    with pytest.raises(ValueError, match="years with data"):
        valfard.load_data(params(year=1990), processed_data)
    with pytest.raises(ValueError, match="9999"):
        valfard.load_data(params(kommun="9999"), processed_data)


def test_required_kpis_include_derivation_inputs_and_known_missing():
    kpis = valfard.required_kpis()
    for kpi in [*QUALITY, *COSTS, *TABLE2_ROWS, "N01951", "N02993", "N03920"]:
        assert kpi in kpis
    assert len(kpis) == len(set(kpis))


def test_params_files_validate(tmp_path):
    national = load_params("params/valfard.yaml")
    assert isinstance(national, valfard.ValfardParams)
    assert national.kommun is None and national.kommungruppering == 2023
    assert national.storleksklasser == LIMITS
    assert sorted(national.required_kpis()) == sorted(VALFARD_KPIS)  # REPORT_SPEC §1
    asele = load_params("params/valfard-2463.yaml")
    assert asele.kommun == ASELE and asele.variant_name("valfard") == "valfard-2463"
    dumped = asele.model_dump(mode="json")
    assert dumped["kommun"] == ASELE and dumped["report"] == "valfard_i_hela_landet"


@pytest.mark.parametrize("override", [
    {"kommungruppering": 2019}, {"storleksklasser": [6000, 10000]},
    {"storleksklasser": [0, 10000, 6000]}, {"kommuntyp": 2023},
])
def test_params_reject_bad_values(override):
    with pytest.raises(ParamsError):
        load_params("params/valfard.yaml", **override)


# --- the report's statements ----------------------------------------------------------------


def test_spec_statements_follow_the_data(national, raw):
    data = national[0]
    checked = valfard.statements(data).shown
    assert len(checked) == 6  # figures 1–4 and Tabell 1
    assert set(checked["Stöds av data"]) <= {"ja", "delvis", "nej"}
    groups = kommuntyp(raw)
    values = per_kommun(raw, "U15401", 2022)
    c6 = values[values.index.isin(groups[groups == "C6"].index)].mean()
    verdict = "ja" if c6 < values.mean() else "nej"
    row = checked.loc["Mindre städer/tätorter har lägre resultat inom grundskolan."]
    assert row["Stöds av data"] == verdict
    assert valfard.fmt(c6) in row["Underlag"]


def test_debt_statement_is_computed_from_the_table():
    def table(rows):
        return pd.DataFrame(rows, columns=["geo", "sector", "year", "value", "flag"])

    both = [("SE", "S1311", 2021, 24.7, ""), ("SE", "S1311", 2024, 20.2, ""),
            ("SE", "S1313", 2021, 13.1, ""), ("SE", "S1313", 2024, 14.3, ""),
            ("SE", "S13", 2020, 40.4, "")]
    claim, verdict, basis = valfard.debt_statement(table(both), "SE")
    assert claim.startswith("Kommunernas låneskuld har ökat") and verdict == "ja"
    assert "+1,2 procentenheter" in basis and "−4,5 procentenheter" in basis
    assert "2021–2024" in basis
    turned = [(g, s, y, 30.0 - v if s == "S1313" else v, f) for g, s, y, v, f in both]
    assert valfard.debt_statement(table(turned), "SE")[1] == "delvis"
    only_state = [row for row in both if row[1] != "S1313"]
    assert valfard.debt_statement(table(only_state), "SE")[1] == "kan inte prövas"


def test_tabell1_never_fills_a_missing_year():
    skuld = pd.DataFrame([("SE", "S13", 2020, 40.4, ""), ("SE", "S13", 2021, 37.2, ""),
                          ("SE", "S1313", 2021, 13.1, "")],
                         columns=["geo", "sector", "year", "value", "flag"])
    shown = valfard.debt_frame(skuld, ["S13", "S1311", "S1313"])
    assert shown.values.tolist() == [["2020", "40,4", "–", "–"], ["2021", "37,2", "–", "13,1"]]
    csv = valfard.debt_csv(skuld, ["S13", "S1311", "S1313"])
    assert csv["S1311"].isna().all() and csv["S1313"].isna().tolist() == [True, False]
