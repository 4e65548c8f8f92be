"""`streamlit run app.py` on a free loopback port, for the tools that drive the real app:
the browser tests (tests/e2e), the classroom load benchmark and the screenshot script.
Also the one Chromium they all use: Debian's, with flags for a closed network."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

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
    data_dir: Path | None = None, log_path: Path | None = None, timeout_s: float = 180
) -> tuple[subprocess.Popen, str]:
    """Start the app (its data folder at ``data_dir`` when given, its output in ``log_path``)
    and return (process, url) once /_stcore/health answers. A cold start imports torch."""
    port = free_port()
    env = dict(os.environ, PYTHONUNBUFFERED="1")
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
