"""A headless Chromium for the browser tests: Debian's `chromium` with its `chromium-driver`.

Nothing is downloaded: selenium is pointed at the system browser and driver. When either is
missing the tests skip, naming what to install (`make install` does it where apt exists).
"""

from __future__ import annotations

import shutil

import pytest

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
DRIVER = "chromedriver"


def find_browser() -> tuple[str | None, str | None, str]:
    """(browser binary, driver binary, why not) for the system Chromium."""
    browser = next((shutil.which(b) for b in BROWSERS if shutil.which(b)), None)
    driver = shutil.which(DRIVER) or (shutil.which("chromium.chromedriver"))
    missing = [what for what, found in (("chromium", browser), ("chromium-driver", driver)) if not found]
    return browser, driver, ("not installed: " + ", ".join(missing) + " (apt-get install chromium chromium-driver)"
                             if missing else "")


def start_chrome(width: int = 1280, height: int = 900):
    """A headless Chrome session with the browser's console log kept, or a pytest skip with the reason."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.skip("selenium is not installed (pip install 'gankit[browser]')")
    browser, driver, why = find_browser()
    if why:
        pytest.skip(f"headless browser tests need the system Chromium: {why}")
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                f"--window-size={width},{height}", "--allow-file-access-from-files"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(executable_path=driver), options=options)


def console_errors(driver) -> list[str]:
    """The SEVERE entries of the page's console log since the last call."""
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
