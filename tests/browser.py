"""Drive a report in Debian's headless Chromium (selenium + the system chromedriver; no browser download).

The browser test and `docs/make_screenshot.py` both call `tour`, so the README's screenshot is made
by the code path the test checks.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
# The network is closed here: without the background-networking flags Chromium hangs on refused connections.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
)


def available() -> bool:
    return CHROMIUM.exists() and CHROMEDRIVER.exists()


@contextmanager
def chromium(width: int = 1280, height: int = 900) -> Iterator[Any]:
    """A headless Chromium with a fresh profile folder, quit and removed afterwards."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = Path(tempfile.mkdtemp(prefix="clf-chromium-"))
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    try:
        driver.set_page_load_timeout(30)
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def visible_units(driver: Any) -> list[str]:
    """Ids of the body units (not headings) the reader can see."""
    units = driver.find_elements("css selector", ".policy p .unit")
    return [u.get_attribute("id") for u in units if u.is_displayed()]


def probabilities(driver: Any) -> dict[str, float]:
    """The tooltip's table: label code → the probability it shows."""
    rows = driver.find_elements("css selector", "#probs tbody tr")
    found = {}
    for row in rows:
        code = row.find_element("css selector", "th").text.split()[0]
        found[code] = float(row.find_element("css selector", "td.p").text)
    return found


def tour(driver: Any, report: Path, code: str, anchor: str, screenshot: Path) -> dict[str, Any]:
    """Open a report, press one category's filter chip, focus one unit and photograph the page.

    Returns what a reader would see: visible units before and after filtering, the status line,
    the focused unit and its tooltip probabilities, and every resource the page loaded.
    """
    driver.get(report.resolve().as_uri())
    before = visible_units(driver)
    driver.find_element("css selector", f'.chip[data-code="{code}"]').click()
    after = visible_units(driver)
    unit = driver.find_element("id", anchor)
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'}); arguments[0].focus();", unit)
    tooltip = driver.find_element("id", "probs")
    seen = {
        "visible_before": before,
        "visible_after": after,
        "status": driver.find_element("id", "status").text,
        "focused": driver.switch_to.active_element.get_attribute("id"),
        "tooltip_shown": tooltip.is_displayed(),
        "probabilities": probabilities(driver),
        "resources": driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)"),
    }
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(screenshot))
    return seen
