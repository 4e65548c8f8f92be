"""Real-browser fixtures: one Streamlit server and one Debian Chromium for the e2e tests.

The server runs `streamlit run app.py` on a free loopback port with DCGAN_LAB_DATA
pointing at a temporary folder, so the tests never write into the repository.
The browser is Debian's /usr/bin/chromium driven by Playwright (never a downloaded
browser); CI installs it (.ci/run). If it is missing the tests fail, they never skip.
"""

from __future__ import annotations

import re

import pytest

from scripts.lab_server import ROOT, LabServer, chromium_missing, launch_chromium, start_in_sandbox, stop_lab_server

ARTIFACTS = ROOT / "test-artifacts" / "e2e"
VIEWPORT = {"width": 1400, "height": 900}
SERVER_START_TIMEOUT_S = 180  # a cold start imports torch; the 2-core CI box may be busy


@pytest.fixture(scope="module")
def lab_server(request, tmp_path_factory) -> LabServer:
    """One server for all the browser tests of a module, stopped as soon as they are done, so that
    a run a failed test left training cannot slow the rest of the test session. Its ``sandbox``
    holds its data folder and nothing else may appear there. A module's ``SERVER_ENV`` dict is
    added to the server's environment."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    sandbox = tmp_path_factory.mktemp("e2e_sandbox")
    server = start_in_sandbox(
        sandbox, ARTIFACTS / "streamlit.log", SERVER_START_TIMEOUT_S, getattr(request.module, "SERVER_ENV", None)
    )
    try:
        yield server
    finally:
        stop_lab_server(server.process)


@pytest.fixture(scope="module")
def chromium():
    """Debian's Chromium under Playwright. Module-scoped so that Playwright's event
    loop is gone before the rest of the test session runs."""
    if missing := chromium_missing():
        pytest.fail(f"{missing} The browser tests never download a browser (.ci/run installs it).", pytrace=False)
    with launch_chromium() as browser:
        yield browser


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
