"""Swedish number formatting: decimal comma, narrow no-break space between thousands, minus sign.

``format_number(1234567.891, 1)`` gives ``"1 234 567,9"`` (the gaps are U+202F) and
``format_number(-5)`` gives ``"−5"`` (U+2212), as Swedish typography and SKR's reports write them.
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

THOUSANDS_SEP = "\u202f"
"""Narrow no-break space: groups thousands and never breaks a number across lines."""
DECIMAL_SEP = ","
MINUS = "\u2212"
MISSING = "saknas"
MONTHS_SV = ("januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti",
             "september", "oktober", "november", "december")


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


def swedish_date(moment: datetime | str | None) -> str:
    """``2024-08-23T…`` → ``"23 augusti 2024"`` (empty for None)."""
    if moment is None or moment == "":
        return ""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    return f"{moment.day} {MONTHS_SV[moment.month - 1]} {moment.year}"


# --- text from Kolada and the parameters inside Markdown ----------------------------------------

_ASCII_PUNCTUATION = r"!-/:-@\[-`{-~"
_MARKDOWN_INLINE = re.compile(r"([\\`*_{}\[\]<>#$&!|~^:])|(?<![\w.])(www)(\.)", re.IGNORECASE)
"""Characters that start markup anywhere in a line (CommonMark, GFM, pandoc); ``:`` and
``www.`` would start an automatic link."""
_MARKDOWN_LINE_START = re.compile(r"^(\d*)([-+=.)])")
"""A list item, ordered list or heading underline when the text starts a line."""
_LINE_BREAKS = re.compile(r"[ \t]*[\r\n\f\v]+[ \t]*")
_MARKDOWN_ESCAPED = re.compile(f"\\\\([{_ASCII_PUNCTUATION}])")


def escape_markdown(text: Any) -> str:
    """``text`` (a kommun name, KPI title, group name, parameter value) for use inside Markdown,
    so that it is shown exactly as written in the HTML (nbconvert/mistune) and in the PDF
    (pandoc).

    A backslash goes before every character that could start markup (CommonMark, GFM and
    pandoc read a backslash before ASCII punctuation as "this character, literally"): ``<b>``
    stays text instead of becoming a tag (or vanishing in the PDF), ``*``/``_`` start no
    emphasis, ``#`` no heading, ``$`` no formula, ``[``/``!`` no link or image, a backtick no
    code, ``&amp;`` no entity, ``|`` no table, ``~`` no strike-through, ``http://`` and ``www.``
    no automatic link; ``-``, ``+``, ``1.`` at the start no list. A line break becomes a space
    (it could start a new block); other spaces, including the narrow no-break space between
    thousands, stay. Hyphens, slashes and brackets inside a name stay as they are.
    """
    flat = _LINE_BREAKS.sub(" ", str(text).strip("\r\n\f\v"))
    inline = _MARKDOWN_INLINE.sub(_backslashed, flat)
    return _MARKDOWN_LINE_START.sub(r"\1\\\2", inline, count=1)


def _backslashed(match: re.Match[str]) -> str:
    if match.group(1):
        return "\\" + match.group(1)
    return match.group(2) + "\\" + match.group(3)


def unescape_markdown(text: str) -> str:
    """The text :func:`escape_markdown` escaped (for plain-text uses such as alt text)."""
    return _MARKDOWN_ESCAPED.sub(r"\1", text)


# --- Swedish typography of the text a reader sees -----------------------------------------------

NBSP = "\u00a0"
_CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.DOTALL)
_AGE_RANGE = re.compile(r"(?<![\d.,/-])(\d{1,3})-(\d{1,3})(?=\+?\s*år\b)")
_GRADE_RANGE = re.compile(r"\b([FK])-(\d)\b")
_N_EQUALS = re.compile(r"\bn = (?=[\d−-])")
_UNIT_AFTER_NUMBER = re.compile(r"(\d) (?=(?:%|‰|kr|mkr|procentenheter|procent)(?![\w]))")
_RANGE_DASH = re.compile(r"(?<=[\dF])–(?=\d)")
WORD_JOINER = "\u2060"
"""Keeps a range together: no line break after the en dash of "6 000–9 999" or "F–9"."""


def typeset(text: str) -> str:
    """Swedish typography for text a reader sees (Markdown or plain), outside code spans: an en
    dash in age and grade ranges ("16–65 år", "F–9"), no line break inside values ("n = 290",
    "6,0 %", "21 kr" and ranges such as "6 000–9 999" keep together) and one quotation style,
    the Swedish ”…”."""
    parts = []
    last = 0
    for span in _CODE_SPAN.finditer(text):
        parts.append(_typeset_prose(text[last:span.start()]))
        parts.append(span.group(0))
        last = span.end()
    parts.append(_typeset_prose(text[last:]))
    return "".join(parts)


def _typeset_prose(text: str) -> str:
    text = _AGE_RANGE.sub("\\1–\\2", text)
    text = _GRADE_RANGE.sub("\\1–\\2", text)
    text = _RANGE_DASH.sub("–" + WORD_JOINER, text)
    text = _N_EQUALS.sub(f"n{NBSP}={NBSP}", text)
    text = _UNIT_AFTER_NUMBER.sub(f"\\1{NBSP}", text)
    return text.replace('"', "”").replace("“", "”").replace("„", "”")


_NUMBER_WORDS = ("noll", "en", "två", "tre", "fyra", "fem", "sex", "sju", "åtta", "nio", "tio",
                 "elva", "tolv")


def count_words(n: int) -> str:
    """A count in running text, as Swedish writes it: words up to twelve ("elva"), digits
    above ("33")."""
    return _NUMBER_WORDS[n] if 0 <= n < len(_NUMBER_WORDS) else format_number(n)
