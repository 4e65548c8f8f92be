"""A class survives a restart: the server is killed with SIGKILL in the middle of a run, started
again on the same data folder, and the run is continued from its last checkpoint on the Train page.
The curves and the step count go on from where they were, with at most ``checkpoint_every`` steps lost.

Its own server (the shared one of test_browser.py must not be killed), Debian's Chromium."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

from test_browser import (
    ARTIFACTS,
    IDLE_JS,
    choose_option,
    choose_tiny_settings,
    live_frame,
    open_train_page,
    press,
    train_step,
    wait_for,
)

from dcgan_core.checkpoint import load_checkpoint
from dcgan_core.i18n import translate
from scripts.lab_server import child_pids, start_in_sandbox, stop_lab_server

RUN_STEPS = 2_000  # longer than the test lets it train before the kill


def logged_steps(run_dir: Path) -> list[int]:
    steps = []
    for line in (run_dir / "metrics.jsonl").read_text().splitlines():
        try:
            steps.append(int(json.loads(line)["step"]))
        except (ValueError, KeyError):
            continue  # a line cut by the kill
    return steps


def run_dirs(data_dir: Path) -> list[Path]:
    return sorted((p.parent for p in (data_dir / "runs").glob("*/config.json")), key=lambda p: p.stat().st_mtime)


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def loss_chart_first_step(page) -> float | None:
    """The first step on the live view's loss chart (drawn by Plotly inside the live view's frame)."""
    frame = live_frame(page)
    if frame is None:
        return None
    try:
        return frame.evaluate("""() => {
            const plot = document.getElementById("loss");
            return plot && plot.data && plot.data.length && plot.data[0].x.length ? plot.data[0].x[0] : null;
        }""")
    except Exception:  # the frame is being replaced
        return None


def test_a_run_killed_with_its_server_continues_from_the_train_page(chromium, tmp_path):
    sandbox = tmp_path / "sandbox"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    server = start_in_sandbox(sandbox, ARTIFACTS / "streamlit_restart_1.log")
    try:
        context = chromium.new_context(viewport={"width": 1400, "height": 900}, locale="en-US")
        page = context.new_page()
        page.set_default_timeout(90_000)
        open_train_page(page, server)
        choose_tiny_settings(page, RUN_STEPS)
        press(page, "train_start_btn")
        run_dir = wait_for(
            lambda: (
                run_dirs(server.data_dir)
                and (run_dirs(server.data_dir)[-1] / "metrics.jsonl").exists()
                and run_dirs(server.data_dir)[-1]
            ),
            120,
            "the run's folder",
        )
        checkpoint_every = int(json.loads((run_dir / "config.json").read_text())["checkpoint_every"])
        assert checkpoint_every < RUN_STEPS
        wait_for(lambda: len(logged_steps(run_dir)) >= 30, 180, "thirty logged steps")
        context.close()

        trainer_pids = child_pids(server.process.pid)
        assert trainer_pids, "no training process under the server"
        before_kill = max(logged_steps(run_dir))
        server.process.send_signal(signal.SIGKILL)  # no shutdown code runs in the server
        server.process.wait(30)
        # The training process notices that its server is gone, saves and exits by itself.
        wait_for(lambda: not any(alive(pid) for pid in trainer_pids), 60, "the orphaned training process to exit")
    finally:
        if server.process.poll() is None:
            stop_lab_server(server.process)

    saved = load_checkpoint(run_dir / "checkpoint.pt")
    last_logged = max(logged_steps(run_dir))
    assert last_logged >= before_kill
    assert last_logged - saved.step <= checkpoint_every, (saved.step, last_logged, checkpoint_every)

    server = start_in_sandbox(sandbox, ARTIFACTS / "streamlit_restart_2.log")  # the same data folder
    page = None
    try:
        context = chromium.new_context(viewport={"width": 1400, "height": 900}, locale="en-US")
        page = context.new_page()
        page.set_default_timeout(90_000)
        open_train_page(page, server)
        page.get_by_text(translate("train.resume_title", "en"), exact=True).click()
        choose_option(page, "train_resume_choice", run_dir.name)
        wait_for(lambda: page.evaluate(IDLE_JS), 60, "the rerun after choosing the run")
        more = page.locator(".st-key-train_resume_steps input")
        more.fill("60")
        more.press("Enter")
        wait_for(lambda: more.input_value().replace(",", "") == "60", 20, "the steps box to take the value")
        wait_for(lambda: page.evaluate(IDLE_JS), 60, "the rerun after the steps box")
        press(page, "train_ckpt_btn")

        target = saved.step + 60
        wait_for(lambda: (train_step(page) or 0) > saved.step, 180, "the continued run to train past the checkpoint")
        first = wait_for(lambda: loss_chart_first_step(page), 30, "the live view's loss chart")
        assert first == 1  # the curves start at step 1, not where the run resumed
        page.screenshot(path=str(ARTIFACTS / "restart_continued.png"), full_page=True)
        finished = translate("train.status_finished", "en")
        wait_for(lambda: finished in page.locator("h3").first.inner_text(), 300, "the continued run to finish")
        # the live view polls its files once a second: it shows the last step shortly after the status line
        wait_for(lambda: train_step(page) == target, 30, f"the live view to show step {target}")
    except BaseException:
        if page is not None:
            page.screenshot(path=str(ARTIFACTS / "FAILED_restart.png"), full_page=True)
        raise
    finally:
        stop_lab_server(server.process)

    continued = run_dirs(server.data_dir)[-1]
    steps = logged_steps(continued)
    assert steps == list(range(1, target + 1))  # earlier curves carried over, no gap, no repeat
    assert load_checkpoint(continued / "checkpoint.pt").step == target
    assert os.listdir(sandbox) == ["data"]
