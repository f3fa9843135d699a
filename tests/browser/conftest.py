"""A real server and a real headless Chromium for the end-to-end page tests.

The server is ``python -m exomirkg serve`` (gunicorn) on a free 127.0.0.1 port over the
session's build; set EXOMIRKG_BROWSER_BASE_URL to test an already running server instead.
Chromium and chromedriver come from Debian (``apt-get install chromium chromium-driver``);
without them these tests skip locally and FAIL under CI=true, so CI cannot pass silently.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from helpers import free_port

#: Screenshots of every page, kept as test artefacts (gitignored).
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
#: Debian's paths; override with CHROMIUM / CHROMEDRIVER.
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = (os.environ.get("CHROMEDRIVER") or shutil.which("chromedriver")
                or "/usr/bin/chromedriver")
#: Flags that work in containers without a GPU, sandbox or network.
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                  "--window-size=1400,1000"]


def _missing_browser(reason: str) -> None:
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(f"{reason}: install it (CI: apt-get install -y chromium chromium-driver)")
    pytest.skip(f"{reason} (apt-get install -y chromium chromium-driver)")


@pytest.fixture(scope="session")
def base_url(built, build_dir: Path) -> Iterator[str]:
    """URL of a real exomirkg server (gunicorn) serving the session's build."""
    external = os.environ.get("EXOMIRKG_BROWSER_BASE_URL")
    if external:
        yield external.rstrip("/")
        return
    port = free_port()
    log = (build_dir / "browser-server.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "exomirkg", "serve", "--out", str(build_dir), "--host",
         "127.0.0.1", "--port", str(port), "--workers", "1", "--query-workers", "1",
         "--allow-invalid"], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            if process.poll() is not None:
                pytest.fail(f"the server exited with {process.returncode}; see {log.name}")
            try:
                if requests.get(url + "/health", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.25)
        else:
            pytest.fail(f"the server did not answer /health within 60 s; see {log.name}")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


@pytest.fixture(scope="session")
def driver() -> Iterator[object]:
    """Headless Chromium driven by Selenium through Debian's chromedriver."""
    if not Path(CHROMIUM).exists():
        _missing_browser(f"Chromium not found at {CHROMIUM}")
    if not Path(CHROMEDRIVER).exists():
        _missing_browser(f"chromedriver not found at {CHROMEDRIVER}")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="exomirkg-chromium-")
    for flag in [*CHROMIUM_FLAGS, f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    browser = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    browser.set_page_load_timeout(60)
    try:
        yield browser
    finally:
        browser.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def screenshot(driver):
    """Save a full-page screenshot as tests/artifacts/<name>.png."""
    ARTIFACTS.mkdir(exist_ok=True)

    def take(name: str) -> Path:
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(1400, min(max(int(height), 1000), 4000))
        path = ARTIFACTS / f"{name}.png"
        driver.save_screenshot(str(path))
        driver.set_window_size(1400, 1000)
        return path

    return take
