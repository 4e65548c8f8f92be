"""`streamlit run app.py` on a free loopback port, for the tools that drive the real app:
the browser tests (tests/e2e), the benchmarks that load the server and the screenshot script.
Also the one Chromium they all use: Debian's, with flags for a closed network.

    with lab_in_chromium("slider_latency") as (server, browser):   # a throw-away data folder
        page = browser.new_page(); page.goto(f"{server.url}/train")
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Browser

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def log_tail(path: Path | None, lines: int = 40) -> str:
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])
    except (OSError, TypeError):
        return "(no log)"


def start_lab_server(
    data_dir: Path | None = None, log_path: Path | None = None, timeout_s: float = 180, env: dict | None = None
) -> tuple[subprocess.Popen, str]:
    """Start the app (its data folder at ``data_dir`` when given, its output in ``log_path``, ``env``
    added to its environment) and return (process, url) once /_stcore/health answers. A cold start
    imports torch."""
    port = free_port()
    env = dict(os.environ, PYTHONUNBUFFERED="1", **(env or {}))
    if data_dir is not None:
        env["DCGAN_LAB_DATA"] = str(data_dir)
    log = open(log_path, "w") if log_path is not None else subprocess.DEVNULL
    try:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                str(ROOT / "app.py"),
                "--server.headless",
                "true",
                "--server.port",
                str(port),
                "--server.address",
                "127.0.0.1",
                "--browser.gatherUsageStats",
                "false",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    finally:
        if log_path is not None:
            log.close()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {process.returncode}:\n{log_tail(log_path)}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as reply:
                if reply.status == 200:
                    return process, url
        except OSError:
            pass
        time.sleep(0.3)
    stop_lab_server(process)
    raise RuntimeError(f"streamlit did not answer /_stcore/health within {timeout_s:.0f} s:\n{log_tail(log_path)}")


def child_pids(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (Linux /proc; empty elsewhere)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    return found


def stop_lab_server(process: subprocess.Popen, children_timeout_s: float = 60) -> None:
    """Stop the server, then wait for its training process: it saves a checkpoint into
    the data folder when its server goes away, and that folder may be about to be deleted."""
    children = child_pids(process.pid)
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=20)
    deadline = time.monotonic() + children_timeout_s
    while any(Path(f"/proc/{pid}").exists() for pid in children) and time.monotonic() < deadline:
        time.sleep(0.2)


@dataclass
class LabServer:
    """A running app and the folders it writes to."""

    url: str  # http://127.0.0.1:<port>
    process: subprocess.Popen
    sandbox: Path  # the folder holding data_dir
    data_dir: Path  # the app's DCGAN_LAB_DATA: sandbox/data
    log_path: Path | None


def start_in_sandbox(
    sandbox: Path, log_path: Path | None = None, timeout_s: float = 180, env: dict | None = None
) -> LabServer:
    """The app with its data folder at ``sandbox/data`` (made if missing; an existing one is
    served again, as after a restart)."""
    data_dir = sandbox / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    process, url = start_lab_server(data_dir, log_path, timeout_s, env)
    return LabServer(url, process, sandbox, data_dir, log_path)


def chromium_missing() -> str | None:
    """What to do when Debian's Chromium is not installed; None when it is."""
    if Path(CHROMIUM).exists():
        return None
    return f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)."


@contextmanager
def launch_chromium(args: list[str] = CHROMIUM_ARGS) -> Iterator[Browser]:
    """Debian's Chromium, headless, under Playwright (never a downloaded browser); closed at the end."""
    from playwright.sync_api import sync_playwright  # only the tools that drive a browser need it

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def lab_in_chromium(name: str, chromium_args: list[str] = CHROMIUM_ARGS) -> Iterator[tuple[LabServer, Browser]]:
    """A server on a temporary data folder (its log beside it) and Chromium, for the benchmarks
    that drive the real app. At the end the browser closes, the server stops (its training
    process saved and gone) and the folder is deleted."""
    with tempfile.TemporaryDirectory(prefix=f"{name}_") as tmp:
        server = start_in_sandbox(Path(tmp), Path(tmp) / "streamlit.log")
        try:
            with launch_chromium(chromium_args) as browser:
                yield server, browser
        finally:
            stop_lab_server(server.process)
