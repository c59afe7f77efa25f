"""``helpers.build.changes`` and ``.changes_text``: what changed between two versions of a
variant folder."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pandas as pd
import pytest

from helpers.build.changes import (
    OCCURRENCE,
    VerdictChange,
    column_kind,
    compare,
    compare_tables,
    infer_keys,
    label_of,
)
from helpers.build.changes_text import markdown, text

HEADER = "ar,typ,kpi,grupp,kommun,kommunnamn,varde,n,medelvarde\n"


def figur1(year: int, rows: list[str]) -> str:
    return HEADER + "".join(f"{year},{row}\n" for row in rows)


BEFORE_ROWS = [
    "kommun,U15401,C6 Mindre stad/tätort,0583,Motala,45.71,,",
    "kommun,U15401,C6 Mindre stad/tätort,0680,Jönköping,50.2,,",
    "kommun,U28408,A2 Pendlingskommun nära storstad,0114,Upplands Väsby,61.0,,",
    "gruppmedelvarde,U15401,C6 Mindre stad/tätort,,,,27,45.7",
]
AFTER_ROWS = [
    "kommun,U15401,C6 Mindre stad/tätort,0583,Motala,57.71,,",
    "kommun,U15401,C6 Mindre stad/tätort,0680,Jönköping,50.2000000001,,",
    "kommun,U15401,C6 Mindre stad/tätort,0580,<b>Linköping</b>,49.04,,",
    "gruppmedelvarde,U15401,C6 Mindre stad/tätort,,,,28,52.3",
]
STATEMENTS = ("Påstående i rapporten,Stöds av data,Underlag\n"
              "Mindre städer/tätorter har lägre resultat inom grundskolan.,{a},\"C6 {x}\"\n"
              "Storstäder har lägre resultat inom äldreomsorg.,ja,A1\n")


def version(folder: Path, files: dict[str, str], year: int | None,
            fetched: str = "2026-12-01T10:00:00+00:00") -> Path:
    """A variant folder with ``files`` and a manifest listing their sha256 as runs do."""
    outputs = {}
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        outputs[name] = hashlib.sha256(content.encode()).hexdigest()
    manifest = {"variant": "valfard", "outputs": outputs,
                "data": {"years": [year] if year else [], "fetched_at": fetched}}
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return folder


@pytest.fixture
def two_versions(tmp_path):
    before = version(tmp_path / "before", {
        "tables/figur1.csv": figur1(2022, BEFORE_ROWS),
        "tables/pastaenden.csv": STATEMENTS.format(a="ja", x="45,7"),
        "tables/tabell1.csv": "geo,ar,S13\nSE,2021,36.6\nSE,2022,33.5\n",
        "figures/figur1.png": "png 2022", "figures/figur5.png": "same",
    }, 2022)
    after = version(tmp_path / "after", {
        "tables/figur1.csv": figur1(2023, AFTER_ROWS),
        "tables/pastaenden.csv": STATEMENTS.format(a="nej", x="57,7"),
        "tables/tabell1.csv": "geo,ar,S13\nSE,2021,36.6\nSE,2022,33.5\n",
        "figures/figur1.png": "png 2023", "figures/figur5.png": "same",
    }, 2023, fetched="2026-12-02T10:00:00+00:00")
    return before, after


def test_columns_are_told_apart_as_codes_numbers_and_text():
    assert column_kind(pd.Series(["0180", "1280", ""])) == "text"  # kommun codes
    assert column_kind(pd.Series(["2022", "2023"])) == "int"
    assert column_kind(pd.Series(["45.7", "-3", "1e-05", ""])) == "float"
    assert column_kind(pd.Series(["ja", "nej"])) == "text"
    assert column_kind(pd.Series(["", ""])) == "text"


def test_keys_are_text_columns_until_rows_are_unique():
    old = pd.read_csv(pd.io.common.StringIO(figur1(2022, BEFORE_ROWS)), dtype=str,
                      keep_default_na=False)
    new = pd.read_csv(pd.io.common.StringIO(figur1(2023, AFTER_ROWS)), dtype=str,
                      keep_default_na=False)
    # "ar" has one value per version (the data year): no key
    assert infer_keys(old, new) == ["typ", "kpi", "grupp", "kommun"]


def test_compare_finds_cells_rows_year_verdicts_and_figures(two_versions):
    changes = compare(*two_versions)
    table = {t.name: t for t in changes.tables}
    fig = table["figur1.csv"]
    assert fig.label == "Figur 1" and fig.state == "ändrad"
    assert fig.moved == {"ar": ("2022", "2023")}
    assert fig.removed == [("kommun", "U28408", "A2 Pendlingskommun nära storstad",
                            "Upplands Väsby (0114)")]  # a kommun by its name and code
    assert fig.added == [("kommun", "U15401", "C6 Mindre stad/tätort", "<b>Linköping</b> (0580)")]
    # largest first; 50.2 → 50.2000000001 is equal within the tolerance
    assert [(c.row[-1], c.column, c.before, c.after, c.delta) for c in fig.cells[:2]] == [
        ("Motala (0583)", "varde", "45.71", "57.71", pytest.approx(12.0)),
        ("C6 Mindre stad/tätort", "medelvarde", "45.7", "52.3", pytest.approx(6.6))]
    assert {c.column for c in fig.cells} == {"varde", "medelvarde", "n"}
    assert table["tabell1.csv"].state == "oförändrad"
    assert changes.verdicts == [VerdictChange(
        "Mindre städer/tätorter har lägre resultat inom grundskolan.", "ja", "nej")]
    assert changes.figures == {"figur1.png": "ändrad"}
    assert changes.pieces() == (["Figur 1", "pastaenden.csv"], ["Figur 5", "Tabell 1"])
    assert changes.when() == ("2022", "2023")


def test_markdown_section_in_swedish_with_escaped_data(two_versions):
    section = markdown(compare(*two_versions))
    assert section.startswith("## Ändringar sedan förra versionen\n")
    assert ("Förra versionen: data för 2022, hämtade 1 december 2026. Den här versionen: "
            "data för 2023, hämtade 2 december 2026.") in section
    assert ("- Mindre städer/tätorter har lägre resultat inom grundskolan: höll 2022 – håller "
            "inte 2023.") in section
    assert "| Figur 1 | kommun · U15401 · C6 Mindre stad/tätort · Motala (0583) | varde | " \
           "45,7 | 57,7 | +12,0 |" in section
    assert "| 45,7 | 52,3 | +6,6 |" in section
    assert "Figur 1: tillkom: kommun · U15401 · C6 Mindre stad/tätort · \\<b\\>Linköping\\</b\\> " \
           "(0580); försvann: kommun · U28408 · A2 Pendlingskommun nära storstad · Upplands " \
           "Väsby (0114)." in section
    assert "- Figur 1 (tables/figur1.csv): 3 värden ändrade, 1 rad tillkom, 1 rad försvann; " \
           "ar 2022 → 2023." in section
    assert "<b>" not in section  # text from data never becomes markup
    assert "Ändrade: Figur 1 och pastaenden.csv. Oförändrade: Figur 5 och Tabell 1." in section
    plain = text(compare(*two_versions))
    assert "**" not in plain and "Påståenden med ändrad bedömning" in plain


def test_same_year_told_apart_by_fetch_dates(tmp_path):
    before = version(tmp_path / "a", {"tables/pastaenden.csv": STATEMENTS.format(a="delvis",
                                                                                  x="1")}, 2022)
    after = version(tmp_path / "b", {"tables/pastaenden.csv": STATEMENTS.format(a="ja", x="2")},
                    2022, fetched="2026-12-05T10:00:00+00:00")
    section = markdown(compare(before, after))
    assert ("höll delvis (data hämtade 1 december 2026) – håller (data hämtade 5 december "
            "2026).") in section


def test_unchanged_versions(two_versions, tmp_path):
    before, _ = two_versions
    section = markdown(compare(before, before))
    assert "Inga tabeller eller figurer har ändrats." in section


def test_a_kept_previous_version_with_gzipped_tables(two_versions, tmp_path):
    import gzip
    import shutil

    before, after = two_versions
    kept = tmp_path / "kept"
    shutil.copytree(before, kept)
    for csv in (kept / "tables").glob("*.csv"):
        csv.with_name(csv.name + ".gz").write_bytes(gzip.compress(csv.read_bytes()))
        csv.unlink()
    assert markdown(compare(kept, after)) == markdown(compare(before, after))


def test_tables_without_text_keys_or_with_repeated_rows():
    # Tabell 1 shape: only the year tells rows apart; rows matched by order
    old = pd.DataFrame({"geo": ["SE", "SE"], "ar": ["2021", "2022"], "S13": ["36.6", "33.5"]})
    new = pd.DataFrame({"geo": ["SE"] * 3, "ar": ["2021", "2022", "2023"],
                        "S13": ["36.6", "33.4", "31.0"]})
    change = compare_tables("tabell1.csv", old, new)
    assert change.keys == [OCCURRENCE]
    assert change.added == [("nr 3",)] and [c.column for c in change.cells] == ["S13"]
    # budget shape: "Externfinansierade projekt" twice (intäkter and kostnader)
    rows = ["Intäkter", "Externfinansierade projekt", "Kostnader", "Externfinansierade projekt"]
    old = pd.DataFrame({"Rad": rows, "Budget 2024": ["", "533", "", "-533"]})
    new = pd.DataFrame({"Rad": rows, "Budget 2024": ["", "533", "", "-540"]})
    change = compare_tables("budget_skr.csv", old, new)
    assert change.keys == ["Rad", OCCURRENCE]
    (cell,) = change.cells
    assert (cell.row, cell.before, cell.after, cell.delta, cell.decimals) == \
        (("Externfinansierade projekt", "nr 2"), "-533", "-540", -7.0, 0)


def test_new_and_removed_tables_and_labels():
    assert compare_tables("figur8.csv", None, pd.DataFrame({"a": ["1"]})).state == "ny"
    assert compare_tables("figur8.csv", pd.DataFrame({"a": ["1"]}), None).state == "borttagen"
    assert label_of("tabell12.csv") == "Tabell 12" and label_of("budget.csv") == "budget.csv"


def test_diff_prints_the_section_as_plain_text(two_versions, tmp_path):
    from conftest import skr_report

    before, after = two_versions
    env = dict(os.environ, SKR_REPORTS_DIR=str(tmp_path / "r"), SKR_DATA_DIR=str(tmp_path / "d"))
    result = skr_report("diff", str(before), str(after), env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Ändringar sedan förra versionen\n")
    assert ("- Mindre städer/tätorter har lägre resultat inom grundskolan: höll 2022 – håller "
            "inte 2023.") in result.stdout
    assert result.stdout == text(compare(before, after))
    (tmp_path / "empty").mkdir()
    refused = skr_report("diff", str(tmp_path / "empty"), str(after), env=env, timeout=120)
    assert refused.returncode == 2 and "is no report folder" in refused.stderr
