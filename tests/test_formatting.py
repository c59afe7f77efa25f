"""Swedish number formatting."""

from __future__ import annotations

import pytest

from helpers import formatting
from helpers.formatting import (
    MINUS,
    THOUSANDS_SEP,
    escape_markdown,
    format_number,
    unescape_markdown,
)

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


# --- text from Kolada inside Markdown ----------------------------------------------------------

HOSTILE_TEXTS = [
    "<b>Ale</b> kommun", "<script>alert(1)</script>", "**fet** och *kursiv*", "Sala_kommun_",
    "# Rubrik", "$x$ och $y$", "[länk](http://example.org)", "`kod` och ``mer``",
    "A & B &amp; C", "O'Brien -- x...", "a\\b", "1. Lista", "- punkt", "> citat",
    "| a | b |", "Malung-Sälen", "Upplands Väsby", "<6 000 invånare", "~~struken~~",
    "![bild](x.png)", "<!-- kommentar -->", "H&M (%)",
]


def _shown(html: str) -> str:
    """The text a reader sees in ``html`` (one paragraph expected)."""
    import html as html_module

    assert html.startswith("<p>") and html.endswith("</p>"), html
    inner = html[3:-4]
    assert "<" not in inner, f"markup in {html!r}"
    return html_module.unescape(inner)


@pytest.mark.parametrize("text", HOSTILE_TEXTS)
def test_escaped_markdown_is_shown_as_written_in_the_html(text):
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    html = markdown2html_mistune(f"Kommun: {escape_markdown(text)}.").strip()
    assert _shown(html) == f"Kommun: {text}."


@pytest.mark.parametrize("text", HOSTILE_TEXTS)
def test_escaped_markdown_is_shown_as_written_by_pandoc(text):
    import pypandoc

    from helpers.rendering.markdown import PANDOC_FROM

    html = pypandoc.convert_text(f"Kommun: {escape_markdown(text)}.", "html",
                                 format=PANDOC_FROM["markdown"]).strip()
    assert _shown(html) == f"Kommun: {text}."


def test_escaping_keeps_bold_around_it_and_joins_lines():
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    html = markdown2html_mistune(f"**{escape_markdown('*Ale*')}** har").strip()
    assert html == "<p><strong>*Ale*</strong> har</p>"
    assert escape_markdown("Ale\n# kommun") == "Ale \\# kommun"
    assert escape_markdown(f"<6{THOUSANDS_SEP}000") == f"\\<6{THOUSANDS_SEP}000"


@pytest.mark.parametrize("text", HOSTILE_TEXTS)
def test_unescape_gives_the_text_back(text):
    assert unescape_markdown(escape_markdown(text)) == text
    assert unescape_markdown(escape_markdown(f"{text}\n\n{text}")) == f"{text} {text}"


@pytest.mark.parametrize("text", ["se https://www.kolada.se", "www.kolada.se/x", "mailto:a@b.se"])
def test_addresses_in_names_make_no_links(text):
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    assert _shown(markdown2html_mistune(escape_markdown(text)).strip()) == text
    assert unescape_markdown(escape_markdown(text)) == text


def test_ordinary_names_stay_readable():
    for name in ("Malung-Sälen", "Mindre stad/tätort", "Nettokostnadsavvikelse (%)",
                 "Upplands Väsby"):
        assert escape_markdown(name) == name


@pytest.mark.parametrize(("text", "expected"), [
    ("Arbetslöshet 16-65 år", "Arbetslöshet 16–\u206065 år"),
    ("Invånare, 0-19 år, med låg", "Invånare, 0–\u206019 år, med låg"),
    ("grundskola F-9", "grundskola F–\u20609"),
    ("klasserna 6\u202f000–9\u202f999", "klasserna 6\u202f000–\u20609\u202f999"),
    ("(n = 290)", "(n\u00a0=\u00a0290)"),
    ("6,0 % och 21 kr", "6,0\u00a0% och 21\u00a0kr"),
    ('svarat "Mycket lätt"', "svarat ”Mycket lätt”"),
    ('kod `"a" 1-2 år` kvar', 'kod `"a" 1-2 år` kvar'),  # code spans as written
    ("2020-21, N01951/N02993, U23584 (-2022), 65+ år", "2020-21, N01951/N02993, U23584 (-2022), "
                                                       "65+ år"),
])
def test_typeset_gives_swedish_typography(text, expected):
    assert formatting.typeset(text) == expected


def test_counts_in_running_text():
    assert [formatting.count_words(n) for n in (2, 11, 12, 13, 33)] == [
        "två", "elva", "tolv", "13", "33"]
