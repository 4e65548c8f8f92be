"""Real-browser fixtures: one Streamlit server and one Debian Chromium for the e2e tests.

The server runs `streamlit run app.py` on a free loopback port with DCGAN_LAB_DATA
pointing at a temporary folder, so the tests never write into the repository.
The browser is Debian's /usr/bin/chromium driven by Playwright (never a downloaded
browser); CI installs it (.ci/run). If it is missing the tests fail, they never skip.
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from scripts.lab_server import (
    CHROMIUM,
    CHROMIUM_ARGS,
    stop_lab_server,
)
from scripts.lab_server import (
    start_lab_server as start_app,  # noqa: E402
)

ARTIFACTS = ROOT / "test-artifacts" / "e2e"
VIEWPORT = {"width": 1400, "height": 900}
SERVER_START_TIMEOUT_S = 180  # a cold start imports torch; the 2-core CI box may be busy


@dataclass
class LabServer:
    url: str  # http://127.0.0.1:<port>
    data_dir: Path  # the app's DCGAN_LAB_DATA
    sandbox: Path  # the folder holding data_dir (nothing may appear here but data_dir)
    log_path: Path
    process: subprocess.Popen


def start_lab_server(sandbox: Path, log_path: Path) -> LabServer:
    data_dir = sandbox / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    process, url = start_app(data_dir, log_path, timeout_s=SERVER_START_TIMEOUT_S)
    return LabServer(url, data_dir, sandbox, log_path, process)


@pytest.fixture(scope="module")
def lab_server(tmp_path_factory) -> LabServer:
    """One server for all the browser tests (they live in one module), stopped as soon as they
    are done, so that a run a failed test left training cannot slow the rest of the test session."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    server = start_lab_server(tmp_path_factory.mktemp("e2e_sandbox"), ARTIFACTS / "streamlit.log")
    try:
        yield server
    finally:
        stop_lab_server(server.process)


@pytest.fixture(scope="module")
def chromium():
    """Debian's Chromium under Playwright. Module-scoped so that Playwright's event
    loop is gone before the rest of the test session runs."""
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium, as .ci/run does). "
            "The browser tests never download a browser.",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture
def page(chromium, request):
    """A fresh browser context (so a fresh Streamlit session) per test; a screenshot on failure."""
    context = chromium.new_context(viewport=VIEWPORT, accept_downloads=True, locale="en-US")
    context.set_default_timeout(60_000)
    tab = context.new_page()
    tab.page_errors = []
    tab.on("pageerror", lambda err: tab.page_errors.append(str(err)))
    try:
        yield tab
    finally:
        report = getattr(request.node, "report_call", None)
        if report is not None and report.failed:
            try:
                tab.screenshot(path=str(ARTIFACTS / f"FAILED_{_safe(request.node.name)}.png"), full_page=True)
            except Exception:  # the page may be gone; the assertion message matters more
                pass
        context.close()


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)
