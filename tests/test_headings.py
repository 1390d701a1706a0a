"""Headings in each kind of input: from the markup (Markdown, HTML), guessed for plain text."""

from clf.documents import parse
from clf.headings import plain_text_headings
from tests.conftest import ROOT


def test_markdown_and_html_headings_come_from_the_markup():
    md = parse(b"# Privacy\n\nWe collect data.\n\n## Sharing ##\n\nWe share it.\n", "p.md", ".md")
    headings = [(md.text[a:b], level) for a, b, level in md.headings]
    assert headings == [("Privacy", 1), ("Sharing ##", 2)]
    html = parse(
        b"<h1>Privacy</h1><p>We collect <b>data</b>.</p><h3>Sharing <em>and</em> selling</h3><p>We share.</p>",
        "p.html",
        ".html",
    )
    found = [(" ".join(html.text[a:b].split()), level) for a, b, level in html.headings]
    assert found == [("Privacy", 1), ("Sharing and selling", 3)]
    units = {u.text: html.heading_level(u.start, u.end) for u in html.units()}
    assert units == {"Privacy": 1, "We collect data.": None, "Sharing and selling": 3, "We share.": None}


def test_plain_text_headings_are_guessed_from_layout():
    text = (
        "1. Introduction\n\nWe collect data.\n\n"
        "Legal Name Acme Ltd\nRegistry Code 1234\n\n"  # a key/value block, not a heading
        "Effective date: 1 May 2024\n\n"  # ends in a number: a date line
        "2.1 What we share\nWe share data with couriers.\n\n"
        "• your name\n\n"  # a list item
        "We never sell data.\n"
    )
    found = [(text[a:b], level) for a, b, level in plain_text_headings(text)]
    assert found == [("1. Introduction", 1), ("2.1 What we share", 2)]


def test_the_example_policy_keeps_every_markdown_heading():
    source = ROOT / "examples" / "northwind-notes.md"
    doc = parse(source.read_bytes(), str(source), ".md")
    headings = [u.text for u in doc.units() if doc.heading_level(u.start, u.end) is not None]
    expected = [line.lstrip("#").strip() for line in source.read_text().splitlines() if line.startswith("#")]
    assert headings == expected and len(expected) == 14
