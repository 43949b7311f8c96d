"""A real browser for the tests of web pages: headless Chromium from the system's packages,
driven by Selenium, over a localhost HTTP server.

Nothing is downloaded: the browser and its driver are the Debian packages ``chromium`` and
``chromium-driver`` (``/usr/bin/chromium``, ``/usr/bin/chromedriver``; CI installs them), and
Selenium is given the driver's path so it never looks for one.  Chromium runs with no
network features and a fresh profile.  Without them the tests skip, saying why, unless
``FXCLUSTER_REQUIRE_BROWSER=1`` (CI) makes a missing browser a failure.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import http.server
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path(os.environ.get("FXCLUSTER_CHROMIUM", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("FXCLUSTER_CHROMEDRIVER", "/usr/bin/chromedriver"))
#: Chromium's switches: headless, no sandbox (containers), and nothing that reaches out.
CHROMIUM_ARGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1600,900")


def browser_missing() -> str:
    """Why no browser test can run here ("" when one can)."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "the selenium package is not installed (pip install -e '.[test]')"
    for path in (CHROMIUM, CHROMEDRIVER):
        if not path.is_file():
            return f"{path} is absent (apt-get install chromium chromium-driver)"
    return ""


def need_browser() -> None:
    """Skip the test without a browser; fail instead when FXCLUSTER_REQUIRE_BROWSER=1."""
    reason = browser_missing()
    if not reason:
        return
    if os.environ.get("FXCLUSTER_REQUIRE_BROWSER") == "1":
        pytest.fail(f"FXCLUSTER_REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(f"no browser: {reason}")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def served(folder: Path) -> Iterator[str]:
    """``folder`` over HTTP on a free localhost port, in a thread: yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium (a Selenium driver) with a fresh profile, quit afterwards."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in (*CHROMIUM_ARGS, f"--user-data-dir={profile}"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def console_errors(driver: Any) -> list[str]:
    """The page's console messages at level SEVERE (errors, failed loads)."""
    return [entry["message"] for entry in driver.get_log("browser")
            if entry.get("level") == "SEVERE"]


def full_page_png(driver: Any, path: Path, width: int = 1600) -> Path:
    """A screenshot of the whole page at ``width`` CSS pixels, however long it is."""
    height = int(driver.execute_script(
        "return Math.ceil(document.documentElement.scrollHeight)"))
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}})
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    path.write_bytes(base64.b64decode(shot["data"]))
    return path
