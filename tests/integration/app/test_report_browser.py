"""The report in a real browser: headless Chromium (the system's) loads report.html from a
localhost HTTP server without console errors, its sortable tables sort when a heading is
clicked, and a full-page screenshot is saved.

Skips when Chromium, its driver or Selenium is missing, unless FXCLUSTER_REQUIRE_BROWSER=1.
"""

from __future__ import annotations

import contextlib
import io

import pytest
from helpers.browser import chromium, console_errors, full_page_png, need_browser, served
from helpers.configs import short_window_config
from helpers.paths import TEST_DATA

from main import main


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report-browser")
    config = folder / "small.toml"
    config.write_text(short_window_config("USD_MAJORS", "GOLD_HAVENS"))
    with contextlib.redirect_stdout(io.StringIO()):
        code = main(["backtest", "--data", str(TEST_DATA / "histdata"), "--config", str(config),
                     "--report", str(folder / "report")])
    assert code == 0
    return folder / "report"


@pytest.fixture(scope="module")
def browser():
    need_browser()
    with chromium() as driver:
        yield driver


def _column(driver, table: str, heading: str) -> list[str]:
    """The text of ``heading``'s column, top to bottom, as the page shows it now."""
    return driver.execute_script("""
        const table = document.querySelector(arguments[0]);
        const heads = Array.from(table.tHead.rows[0].cells).map(c => c.textContent.trim());
        const column = heads.findIndex(h => h.replace(/[\\u25B2\\u25BC]/g, '').trim()
                                            === arguments[1]);
        return Array.from(table.tBodies[0].rows).map(r => r.cells[column].dataset.v
                                                     ?? r.cells[column].textContent.trim());
    """, table, heading)


def _click(driver, table: str, heading: str) -> None:
    from selenium.webdriver.common.by import By

    for th in driver.find_elements(By.CSS_SELECTOR, f"{table} thead th"):
        if th.text.replace("\u25b2", "").replace("\u25bc", "").strip() == heading:
            th.click()
            return
    raise AssertionError(f"no heading {heading!r} in {table}")


def _numbers(values: list[str]) -> list[float]:
    return [float(v) for v in values if v not in ("", None)]


@pytest.mark.slow
def test_the_report_loads_without_console_errors_and_its_tables_sort(browser, report,
                                                                     tmp_path):
    with served(report) as url:
        browser.get(f"{url}/report.html")
        errors = console_errors(browser)
        title = browser.title
        _click(browser, "table.trades", "P&L")
        ascending = _numbers(_column(browser, "table.trades", "P&L"))
        _click(browser, "table.trades", "P&L")
        descending = _numbers(_column(browser, "table.trades", "P&L"))
        _click(browser, "table.legs", "Symbol")
        symbols = _column(browser, "table.legs", "Symbol")
        shot = full_page_png(browser, tmp_path / "report.png")
        errors += console_errors(browser)  # anything logged late (the log is drained)

    assert errors == []
    assert title == "Backtest"
    assert len(ascending) > 3 and ascending == sorted(ascending)
    assert descending == sorted(ascending, reverse=True)
    assert symbols == sorted(symbols, key=str.lower) and len(set(symbols)) > 1
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert width == 1600 and height > 2000


def test_a_page_with_a_script_error_is_caught(browser, tmp_path):
    (tmp_path / "broken.html").write_text(
        "<!DOCTYPE html><html><head><title>x</title></head><body>"
        "<script>undefinedFunction();</script></body></html>")

    with served(tmp_path) as url:
        browser.get(f"{url}/broken.html")
        errors = console_errors(browser)

    assert any("undefinedFunction" in e for e in errors)
