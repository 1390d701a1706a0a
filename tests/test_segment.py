import pytest

from clf.annotations import SEED_POLICIES
from clf.segment import MAX_UNIT_CHARS, collapse, split_units
from tests.conftest import ROOT


def texts(source: str) -> list[str]:
    return [u.text for u in split_units(source)]


def test_sentences_headings_and_list_items_are_units():
    source = "Cookies\n\nWe use cookies. They help us.\n\nWe collect:\n• your name\n• your e-mail\n"
    assert texts(source) == [
        "Cookies",
        "We use cookies.",
        "They help us.",
        "We collect:",
        "• your name",
        "• your e-mail",
    ]


def test_pdf_hard_wraps_are_joined_but_headings_are_not():
    source = (
        "Introduction  \n"
        "We  use  information  collected  about  you  to  provide  and  improve  our  products  and       \n"
        "Services   in   this   policy.   \n"
        "Hotjar\n"
    )
    assert texts(source) == [
        "Introduction",
        "We use information collected about you to provide and improve our products and Services in this policy.",
        "Hotjar",
    ]


def test_abbreviations_and_lowercase_continuations_do_not_split():
    assert texts("We, us and Acme refer to Acme Sp. z o.o. Sp.k. and its affiliates.") == [
        "We, us and Acme refer to Acme Sp. z o.o. Sp.k. and its affiliates."
    ]
    assert texts("ul. Lipowa 5\n") == ["ul. Lipowa 5"]  # a short abbreviation piece joins what follows


def test_a_url_after_a_sentence_is_its_own_unit():
    assert texts("Contact us at any time.    https://example.com/\n") == [
        "Contact us at any time.",
        "https://example.com/",
    ]


@pytest.mark.parametrize("policy", SEED_POLICIES)
def test_units_cover_every_character_of_the_real_policies(policy):
    source = (ROOT / "annotations" / "policies" / f"{policy}.txt").read_text(encoding="utf-8")
    units = split_units(source)
    covered = 0
    previous_end = 0
    for unit in units:
        assert unit.start >= previous_end, "units overlap or are out of order"
        assert not source[previous_end : unit.start].strip(), "text between units was dropped"
        assert unit.text == collapse(source[unit.start : unit.end])
        covered += len("".join(source[unit.start : unit.end].split()))
        previous_end = unit.end
    assert not source[previous_end:].strip()
    assert covered == len("".join(source.split()))


def test_web_copies_keep_unmarked_list_items_apart():
    # one item per line, no bullets, lowercase: a web copy's list, not a PDF hard wrap
    source = "We collect:\n\nyour name\nyour email address\nthe IP address you use\n"
    assert texts(source) == ["We collect:", "your name", "your email address", "the IP address you use"]


def test_pdf_lowercase_continuation_needs_the_trailing_spaces_of_a_wrap():
    assert texts("We keep logs of every   \nrequest for a week.\n") == ["We keep logs of every request for a week."]


def test_legal_citations_and_table_cells_are_not_sentence_ends():
    assert texts("The basis is Art. 6 para. 1 lit. f GDPR.\n") == ["The basis is Art. 6 para. 1 lit. f GDPR."]
    assert texts("Acme GmbH, Reichsgrafen Str. 20\n") == ["Acme GmbH, Reichsgrafen Str. 20"]
    row = "Contact Data | Your name.; Your email. | Service Providers\n"
    assert texts(row) == ["Contact Data | Your name.; Your email. | Service Providers"]


def test_an_over_long_sentence_is_cut_at_clause_marks_then_spaces_then_anywhere():
    clauses = "We collect " + ", ".join(f"the {i}th field you type" for i in range(200)) + "."
    parts = texts(clauses)
    assert len(parts) > 1 and all(len(p) <= MAX_UNIT_CHARS for p in parts)
    assert all(p.endswith(",") for p in parts[:-1]) and " ".join(parts) == clauses
    words = " ".join(["cookie"] * 500)
    parts = texts(words)
    assert all(len(p) <= MAX_UNIT_CHARS for p in parts) and " ".join(parts) == words  # never inside a word
    assert [len(p) for p in texts("x" * 2500)] == [MAX_UNIT_CHARS, MAX_UNIT_CHARS, 500]


def test_a_long_logical_line_splits_into_the_same_sentences_as_short_ones():
    sentence = "We keep server logs for thirty days and then delete them. "
    one_line = sentence * 300  # 17,400 characters on one line: fed to pysbd in windows
    assert texts(one_line) == [sentence.strip()] * 300
