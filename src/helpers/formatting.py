"""Swedish number formatting: decimal comma, narrow no-break space between thousands, minus sign.

``format_number(1234567.891, 1)`` gives ``"1 234 567,9"`` (the gaps are U+202F) and
``format_number(-5)`` gives ``"−5"`` (U+2212), as Swedish typography and SKR's reports write them.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

THOUSANDS_SEP = "\u202f"
"""Narrow no-break space: groups thousands and never breaks a number across lines."""
DECIMAL_SEP = ","
MINUS = "\u2212"
MISSING = "saknas"


def format_number(x: float | int | None, decimals: int = 0, missing: str = MISSING) -> str:
    """Format ``x`` the Swedish way with ``decimals`` decimals; ``missing`` for None/NaN."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return missing
    # Half away from zero, as in published tables (Python's round() would give 2 for 2.5).
    rounded = Decimal(repr(float(x))).quantize(Decimal(1).scaleb(-decimals), ROUND_HALF_UP)
    text = f"{rounded:,.{decimals}f}"
    if text.lstrip("-").strip("0,.") == "":
        text = text.lstrip("-")  # no "−0" after rounding
    text = text.replace(",", THOUSANDS_SEP).replace(".", DECIMAL_SEP)
    return text.replace("-", MINUS)
