"""The report in a real browser (Debian's headless Chromium): filters, the probability tooltip, keyboard use.

Skipped only outside CI when Chromium is missing; `.ci/run` installs it and sets CI, where a missing
browser is a failure.
"""

from __future__ import annotations

import json
import os

import pytest
from typer.testing import CliRunner

from clf.cli import app
from clf.labels import CODE_OF, LABELS
from tests import browser
from tests.conftest import ROOT

EXAMPLE = ROOT / "examples" / "northwind-notes.md"

if not browser.available():
    message = f"needs {browser.CHROMIUM} and {browser.CHROMEDRIVER} (apt-get install chromium chromium-driver)"
    if os.environ.get("CI"):
        raise RuntimeError(message + ": the browser test must run in CI")
    pytest.skip(message, allow_module_level=True)


@pytest.fixture(scope="module")
def example(tmp_path_factory, tfidf_dir):
    out = tmp_path_factory.mktemp("browser")
    for fmt in ("html", "json"):
        result = CliRunner().invoke(
            app, ["report", str(EXAMPLE), "--model", str(tfidf_dir), "--out", str(out / f"r.{fmt}"), "--format", fmt]
        )
        assert result.exit_code == 0, result.output
    return out / "r.html", json.loads((out / "r.json").read_text())


@pytest.fixture(scope="module")
def driver():
    with browser.chromium() as d:
        yield d


def shown_as(unit):
    """The 12 probabilities as the tooltip prints them (two decimals of the page's three: within 0.006)."""
    return {CODE_OF[x]: pytest.approx(unit["scores"][x], abs=0.006) for x in LABELS}


def _body(report):
    return [u for u in report["units"] if u["heading"] is None]


def test_a_filter_keeps_only_its_units_and_a_focused_unit_shows_its_probabilities(example, driver, tmp_path):
    page, report = example
    body = _body(report)
    # the category with the most body units that does not cover them all, so the filter hides some
    code = max(
        (CODE_OF[label] for label in LABELS if 0 < sum(label in u["labels"] for u in body) < len(body)),
        key=lambda c: sum(c in [CODE_OF[x] for x in u["labels"]] for u in body),
    )
    keep = [u for u in body if code in [CODE_OF[x] for x in u["labels"]]]
    target = keep[-1]
    shot = tmp_path / "report.png"
    seen = browser.tour(driver, page, code, f"u{target['n']}", shot)

    assert seen["visible_before"] == [f"u{u['n']}" for u in body]
    assert seen["visible_after"] == [f"u{u['n']}" for u in keep]
    carrying = sum(code in [CODE_OF[x] for x in u["labels"]] for u in report["units"])
    assert f"Showing {carrying} of {len(report['units'])} units" in seen["status"]
    assert seen["focused"] == f"u{target['n']}" and seen["tooltip_shown"]
    assert seen["probabilities"] == shown_as(target)
    assert seen["resources"] == [], "the page loads nothing: styles and scripts are inline"
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000


def test_filters_and_units_work_from_the_keyboard(example, driver):
    from selenium.webdriver.common.keys import Keys

    page, report = example
    body = _body(report)
    driver.get(page.resolve().as_uri())
    chips = driver.find_elements("css selector", ".chip[data-code]:not([disabled])")
    first, second = chips[0], chips[1]
    first.send_keys(Keys.SPACE)  # a focused button toggles with the keyboard
    codes = {first.get_attribute("data-code")}
    assert first.get_attribute("aria-pressed") == "true"
    second.send_keys(Keys.ENTER)
    codes.add(second.get_attribute("data-code"))
    either = [f"u{u['n']}" for u in body if codes & {CODE_OF[x] for x in u["labels"]}]
    assert browser.visible_units(driver) == either, "several chips show units with any chosen label"
    driver.find_element("id", "show-all").send_keys(Keys.ENTER)
    assert browser.visible_units(driver) == [f"u{u['n']}" for u in body]

    units = driver.find_elements("css selector", ".policy .unit")
    driver.execute_script("arguments[0].focus()", units[4])
    driver.switch_to.active_element.send_keys(Keys.TAB)
    focused = driver.switch_to.active_element.get_attribute("id")
    assert focused == units[5].get_attribute("id"), "Tab walks the units in reading order"
    shown = report["units"][5]
    assert browser.probabilities(driver) == shown_as(shown)
    driver.switch_to.active_element.send_keys(Keys.ESCAPE)
    assert not driver.find_element("id", "probs").is_displayed()


def test_an_evidence_link_scrolls_to_its_unit_even_when_filtered_out(example, driver):
    page, report = example
    driver.get(page.resolve().as_uri())
    units = {u["n"]: u for u in report["units"]}
    found = [c for c in report["summary"] if c["found"]]
    shown, hidden, evidence = next(
        (a, b, e)
        for a in found
        for b in found
        for e in b["evidence"]
        if a["label"] not in units[e["unit"]]["labels"] and units[e["unit"]]["heading"] is None
    )
    driver.find_element("css selector", f'.chip[data-code="{shown["code"]}"]').click()
    anchor = f"u{evidence['unit']}"
    assert not driver.find_element("id", anchor).is_displayed(), "the filter hides the evidence unit"
    driver.find_element("css selector", f'#cat-{hidden["code"]} .evidence a[href="#{anchor}"]').click()
    assert driver.switch_to.active_element.get_attribute("id") == anchor
    assert driver.find_element("id", anchor).is_displayed()
    assert driver.find_element("css selector", f'.chip[data-code="{shown["code"]}"]').get_attribute("aria-pressed") == (
        "false"
    )
