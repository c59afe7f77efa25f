"""helpers.rendering.tables: CSV files and Swedish display tables of correlations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.rendering.tables import (
    correlation_display,
    format_value,
    n_range,
    notes,
    own_values_display,
    write_csv,
)


def long_table(with_kommun: bool = False) -> pd.DataFrame:
    """Two rows (one missing in the data, one substituted) × two columns."""
    rows = [
        ("korrelation", "Arbetslöshet", "N03932", "N03920", "Index A", "A", "A", 0.123, 100,
         "N03932 saknas i data; ersatt med N03920."),
        ("korrelation", "Arbetslöshet", "N03932", "N03920", "Index B", "B", "B", -0.456, 90,
         "N03932 saknas i data; ersatt med N03920."),
        ("korrelation", "Utbildning", "N01721", None, "Index A", "A", "A", np.nan, 0,
         "N01721 saknas i data."),
        ("korrelation", "Utbildning", "N01721", None, "Index B", "B", "B", np.nan, 0,
         "N01721 saknas i data."),
    ]
    if with_kommun:
        rows += [
            ("kommunvarde", "Arbetslöshet", "N03932", "N03920", None, None, None, 6.15, 1, ""),
            ("kommunvarde", "Utbildning", "N01721", None, None, None, None, np.nan, 0, ""),
            ("kommunvarde", None, None, None, "Index A", "A", "A", 88.9, 1, ""),
            ("kommunvarde", None, None, None, "Index B", "B", "B", np.nan, 0, ""),
        ]
    columns = ["typ", "rad", "rad_kpi", "rad_data", "kolumn", "kolumn_kpi", "kolumn_data",
               "varde", "n", "anmarkning"]
    return pd.DataFrame(rows, columns=columns)


def test_correlations_formatted_missing_row_kept_and_data_named():
    shown = correlation_display(long_table())
    assert list(shown.index) == ["Arbetslöshet", "Utbildning"]
    assert list(shown.columns) == ["Nyckeltal", "Index A", "Index B"]
    assert shown.loc["Arbetslöshet", "Index A"] == "0,12"
    assert shown.loc["Arbetslöshet", "Index B"] == "\u22120,46"
    # one word for a missing value in every table ("saknas"; the note says why)
    assert list(shown.loc["Utbildning", ["Index A", "Index B"]]) == ["saknas"] * 2
    assert shown.loc["Arbetslöshet", "Nyckeltal"] == "N03920 (ersätter N03932)"
    assert shown.loc["Utbildning", "Nyckeltal"] == "N01721"
    assert shown.index.name == "Variabel"


def test_kommun_values_stay_out_of_the_correlation_table():
    """A kommun's own values have other units than r: they get a table of their own."""
    shown = correlation_display(long_table(with_kommun=True))
    assert list(shown.index) == ["Arbetslöshet", "Utbildning"]
    assert list(shown.columns) == ["Nyckeltal", "Index A", "Index B"]


def test_own_values_have_their_unit_and_one_number_of_decimals():
    own = pd.DataFrame({"variabel": ["Invånare", "Arbetslöshet", "Utbildning"],
                        "kpi": ["N01951", "N03932", "N01721"], "data": ["N01951", "N03920", None],
                        "enhet": ["antal", "procent", "procent"], "varde": [2782, 6.153, np.nan]})
    shown = own_values_display(own, "Åsele 2022")
    assert list(shown.columns) == ["Variabel", "Nyckeltal", "Enhet", "Åsele 2022"]
    assert list(shown["Åsele 2022"]) == ["2\u202f782", "6,2", "saknas"]
    assert list(shown["Nyckeltal"]) == ["N01951", "N03920 (ersätter N03932)", "N01721"]
    assert list(shown["Enhet"]) == ["antal", "procent", "procent"]


def test_notes_and_n_range():
    long = long_table()
    assert notes(long) == ["N03932 saknas i data; ersatt med N03920.", "N01721 saknas i data."]
    assert n_range(long) == (90, 100)


@pytest.mark.parametrize(("value", "text"), [
    (329000.0, "329\u202f000"), (18.054, "18,1"), (0.6587, "0,66"), (-0.96, "\u22120,96"),
    (np.nan, "saknas"),
])
def test_format_value_by_magnitude(value, text):
    assert format_value(value) == text


def test_write_csv(tmp_path):
    frame = pd.DataFrame({"kommun": ["0114", "2463"], "varde": [1.5, np.nan]})
    path = write_csv(frame, tmp_path, "tabell9")
    assert path == tmp_path / "tables" / "tabell9.csv"
    assert path.read_text(encoding="utf-8") == "kommun,varde\n0114,1.5\n2463,\n"


def test_notebook_tables_leave_out_default_row_numbers():
    from helpers.rendering.tables import _html_without_default_index

    plain = _html_without_default_index(pd.DataFrame({"Rad": ["Intäkter"], "Belopp": ["1 158"]}))
    assert "<th>0</th>" not in plain and "Intäkter" in plain
    named = pd.DataFrame({"Belopp": [1]}, index=pd.Index(["A1"], name="Kommungrupp"))
    assert "A1" in _html_without_default_index(named)
