"""Swedish number formatting."""

from __future__ import annotations

import pytest

from helpers.formatting import MINUS, THOUSANDS_SEP, format_number

S = THOUSANDS_SEP


@pytest.mark.parametrize(("value", "decimals", "text"), [
    (984748, 0, f"984{S}748"),
    (1234567.891, 1, f"1{S}234{S}567,9"),
    (-5, 0, f"{MINUS}5"),
    (-1234.56, 1, f"{MINUS}1{S}234,6"),
    (2.5, 0, "3"),  # half away from zero, not banker's rounding
    (-0.04, 1, "0,0"),  # no "−0,0"
    (999, 0, "999"),
    (0.125, 2, "0,13"),
])
def test_format_number(value, decimals, text):
    assert format_number(value, decimals) == text


def test_missing_values():
    assert format_number(None) == "saknas"
    assert format_number(float("nan"), missing="–") == "–"


def test_separators():
    assert THOUSANDS_SEP == "\u202f"
    assert MINUS == "\u2212"
