"""Shared fixtures, and the markers of the quick loop: ``python -m pytest -m "not e2e and not slow"``.

``e2e``: everything under tests/e2e (a real server and Chromium). ``slow``: the modules listed in
SLOW_MODULES, each of which trains, starts servers or child processes, or scores thousands of
digits, and single tests marked ``@pytest.mark.slow`` where the rest of their module is quick
(the costliest of the quick loop, measured with ``--durations``: each module and page keeps
quick tests in the loop). The full ``python -m pytest`` runs them all."""

from pathlib import Path

import pytest
import torch

SLOW_MODULES = {
    "test_benchmarks_quick.py",  # runs the benchmark scripts, servers and Chromium included
    "test_claims.py",  # the whole claims register on the shipped assets
    "test_job_process.py",  # child training processes
    "test_distributed.py",  # two gloo processes
    "test_ablations.py",  # trains every broken guideline
    "test_registry.py",  # real runs through the registry
    "test_page_guidelines_lab.py",
    "test_page_train.py",
    "test_page_quality.py",
    "test_page_discriminator.py",
    "test_page_vector_arithmetic.py",
    "test_classifier.py",  # accuracy recomputed on the bundled test digits
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        path = Path(str(item.fspath))
        if "e2e" in path.parts:
            item.add_marker(pytest.mark.e2e)
        elif path.name in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="module")
def one_thread():
    """For modules of tiny nets (``pytestmark = pytest.mark.usefixtures("one_thread")``): they
    gain nothing from threads, and on shared cores extra threads spin-wait."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
