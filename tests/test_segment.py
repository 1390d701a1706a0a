import pytest

from clf.annotations import POLICIES
from clf.segment import collapse, split_units
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


@pytest.mark.parametrize("policy", POLICIES)
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
