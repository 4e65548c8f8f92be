"""A class for an hour: viewers on one live run for many minutes, the run continued whenever it finishes.

    python benchmarks/classroom_soak.py --minutes 60              # 30 viewers, one hour
    python benchmarks/classroom_soak.py --minutes 1 --sessions 5 --run-steps 60   # the CI variant

Loopback only, every wait bounded:
  1. `streamlit run app.py` on a free 127.0.0.1 port with a temporary data folder (scripts/lab_server.py);
  2. a teacher (Chromium) starts a run on /train with the page's defaults and --run-steps steps;
  3. --sessions protocol viewers (benchmarks/protocol_viewer.py) watch it for --minutes;
  4. whenever the run finishes, the teacher continues it from its checkpoint on the Train page
     ("Continue from a checkpoint", --more-steps more), as a class would after a break;
  5. every --sample-seconds (60: every minute) the resident memory (VmRSS) of the server and of its
     training process is read from /proc; every checkpoint the runs write is loaded as soon as it
     appears (``load_checkpoint``), and again at the end;
  6. live-update latency, per period (ten minutes, or one minute for runs shorter than twenty
     minutes): each viewer polls the live view's files once a second as a browser does
     (dcgan_core/viz/live_panel.py), request to answer, a failed poll counted as unanswered. The
     Train page's status fragment reruns are counted beside it, not in the goal.

Goal (issue 13): memory growth ≤ 10 % after the settling period (the first period: ten minutes, or
one minute for short runs), no latency drift (the last period's p95 at most 1.5 × the first's + 0.1 s,
and ≤ 1 % unanswered), every checkpoint loadable. Prints a report, then one JSON line, appended to
benchmarks/results/classroom_soak.jsonl (benchmarks/record.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import sys
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a file: the repository root

from benchmarks.classroom_load import CHROMIUM_ARGS, current_run_dir, last_logged_step, start_run_from_page, wait_until
from benchmarks.protocol_viewer import ProtocolViewer, watch
from benchmarks.record import start_record
from dcgan_core.allocator import glibc
from dcgan_core.checkpoint import load_checkpoint
from dcgan_core.i18n import LabError, translate
from scripts.lab_server import child_pids, chromium_missing, lab_in_chromium

MEMORY_GROWTH_GOAL = 0.10
DRIFT_FACTOR, DRIFT_SLACK_S = 1.5, 0.1
UNANSWERED_GOAL = 0.01
DRAIN_S = 5.0
IDLE_JS = """() => !!document.querySelector("[data-testid='stApp'][data-test-script-state='notRunning']")"""


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def percentile(values, q: float) -> float:
    return float(np.percentile(values, q)) if len(values) else math.nan


class CheckpointWatch:
    """Loads every checkpoint a run writes, once per (file, modification), as it appears."""

    def __init__(self, data_dir: Path):
        self.data_dir = data_dir
        self.seen: dict[tuple[str, int], dict] = {}

    def poll(self) -> None:
        for path in (self.data_dir / "runs").glob("*/checkpoint.pt"):
            try:
                mtime = path.stat().st_mtime_ns
            except OSError:
                continue
            if (str(path), mtime) in self.seen:
                continue
            try:
                entry = {"run": path.parent.name, "step": load_checkpoint(path).step, "loadable": True}
            except (LabError, OSError, RuntimeError, EOFError) as err:
                entry = {"run": path.parent.name, "step": None, "loadable": False, "error": str(err)[:200]}
            self.seen[(str(path), mtime)] = entry

    def final_check(self) -> list[dict]:
        """Every checkpoint file left at the end, loaded once more."""
        result = []
        for path in sorted((self.data_dir / "runs").glob("*/*.pt")):
            try:
                result.append(
                    {"file": f"{path.parent.name}/{path.name}", "step": load_checkpoint(path).step, "loadable": True}
                )
            except (LabError, OSError, RuntimeError, EOFError) as err:
                result.append({"file": f"{path.parent.name}/{path.name}", "loadable": False, "error": str(err)[:200]})
        return result


def continue_from_page(browser, url: str, run_dir: Path, more_steps: int) -> None:
    """The teacher opens /train and continues the finished run from its checkpoint."""
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="en-US")
    try:
        page = context.new_page()
        page.set_default_timeout(120_000)
        page.goto(f"{url}/train?lang=en")
        page.locator(".st-key-train_ckpt_btn").wait_for(state="attached")
        wait_until(lambda: page.evaluate(IDLE_JS), 120, "the Train page to render")
        page.get_by_text(translate("train.resume_title", "en"), exact=True).click()
        option = page.get_by_role("option", name=run_dir.name, exact=True)
        combo = page.locator(".st-key-train_resume_choice:not([data-stale='true']) [role='combobox']").first
        for _ in range(5):  # a rerun of the live panel can close an open list
            combo.click()
            try:
                option.wait_for(timeout=5_000)
                option.click(timeout=5_000)
                break
            except Exception:  # noqa: BLE001 — retried, then the wait below reports it
                page.keyboard.press("Escape")
        wait_until(
            lambda: run_dir.name in combo.evaluate("e => e.value || e.innerText || ''"),
            30,
            f"the run {run_dir.name} to be chosen",
        )
        more = page.locator(".st-key-train_resume_steps input")
        more.fill(str(more_steps))
        more.press("Enter")
        wait_until(
            lambda: more.input_value().replace(",", "") == str(more_steps), 30, "the steps box to take the value"
        )
        wait_until(lambda: page.evaluate(IDLE_JS), 60, "the rerun after the steps box")
        page.locator(".st-key-train_ckpt_btn button").click()
        stop = page.locator(".st-key-train_stop_btn button")  # the controller's buttons: the run has started
        wait_until(lambda: stop.count() and stop.first.is_enabled(), 120, "the continued run to start")
    finally:
        context.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=30, help="protocol viewers (default 30)")
    parser.add_argument("--minutes", type=float, default=60, help="how long the viewers watch (default 60)")
    parser.add_argument("--run-steps", type=int, default=1500, help="steps of the first run (default 1500)")
    parser.add_argument(
        "--more-steps", type=int, default=None, help="steps added at each continuation (default: --run-steps)"
    )
    parser.add_argument("--sample-seconds", type=float, default=60, help="memory sampling interval (default 60)")
    parser.add_argument("--json", action="store_true", help="print only the JSON line")
    args = parser.parse_args(argv)
    more_steps = args.more_steps or args.run_steps
    period_s = 600.0 if args.minutes >= 20 else 60.0
    if missing := chromium_missing():
        print(missing, file=sys.stderr)
        return 2

    record = start_record("classroom_soak", None if argv is None else ["classroom_soak.py", *argv])
    started = time.monotonic()
    with lab_in_chromium("classroom_soak", CHROMIUM_ARGS) as (server, browser):
        result = soak(browser, server.url, server.process.pid, server.data_dir, args, more_steps, period_s)
    result["total_seconds"] = round(time.monotonic() - started, 1)
    record.finish(result)
    if not args.json:
        report(result)
    print(json.dumps(result))
    return 0


def soak(browser, url, server_pid, data_dir, args, more_steps, period_s) -> dict:
    start_run_from_page(browser, url, args.run_steps)
    run_dir = wait_until(lambda: current_run_dir(data_dir), 180, "the run's metrics log")
    target, runs_continued = args.run_steps, 0
    checkpoints = CheckpointWatch(data_dir)

    viewers = [ProtocolViewer(url, "train", query="lang=en", seed=i) for i in range(args.sessions)]
    end = [math.inf]
    thread = threading.Thread(
        target=lambda: asyncio.run(watch(viewers, lambda: end[0] + DRAIN_S, send_until=lambda: end[0])), daemon=True
    )
    thread.start()
    wait_until(
        lambda: all(v.live_polls or v.latencies or v.errors for v in viewers),
        120 + 2 * args.sessions,
        "every viewer to go live",
    )
    window_start = time.monotonic()
    window_end = window_start + 60 * args.minutes
    memory, next_sample = [], window_start
    while True:
        now = time.monotonic()
        if now >= next_sample:
            trainers = child_pids(server_pid)
            memory.append(
                {
                    "minute": round((now - window_start) / 60, 2),
                    "server_rss_mb": rss_mb(server_pid),
                    "training_rss_mb": max((rss_mb(pid) or 0 for pid in trainers), default=None),
                    "training_processes": len(trainers),
                    "step": last_logged_step(run_dir) if (run_dir / "metrics.jsonl").exists() else 0,
                }
            )
            next_sample += args.sample_seconds
        if now >= window_end:
            break
        checkpoints.poll()
        if last_logged_step(run_dir) >= target and not child_pids(server_pid):
            checkpoints.poll()
            continue_from_page(browser, url, run_dir, more_steps)
            runs_continued += 1
            target += more_steps
            run_dir = wait_until(
                lambda past=target - more_steps: (d := current_run_dir(data_dir)) and last_logged_step(d) > past and d,
                180,
                "the continued run to train",
            )
        time.sleep(min(2.0, max(0.0, min(next_sample, window_end) - time.monotonic())))
    end[0] = time.monotonic()
    thread.join(60 + DRAIN_S)
    checkpoints.poll()

    periods = []
    n_periods = max(1, math.ceil(60 * args.minutes / period_s - 1e-9))
    for n in range(n_periods):
        # The live view, as viewers see it: polls of the files the server writes for everyone
        # (dcgan_core.live_view), a failed poll counted as unanswered. The Train page's status
        # fragment reruns (the run's status and buttons) are counted beside it.
        low, high = window_start + n * period_s, window_start + (n + 1) * period_s
        lat = [s for v in viewers for t, s in v.live_polls if low <= t < high]
        failed = sum(low <= t < high for v in viewers for t in v.live_poll_failed_at)
        periods.append(
            {
                "period": n + 1,
                "minutes": round(period_s / 60, 1),
                "updates": len(lat),
                "sent": len(lat) + failed,
                "unanswered": failed,
                "p50_s": round(percentile(lat, 50), 3),
                "p95_s": round(percentile(lat, 95), 3),
                "max_s": round(max(lat), 3) if lat else math.nan,
                "status_reruns_sent": sum(low <= t < high for v in viewers for t in v.sent),
                "status_reruns_answered": sum(low <= t < high for v in viewers for t, _ in v.latencies),
            }
        )
    counts = {"sent": 0, "answered": 0, "replaced": 0, "unanswered": 0}
    for viewer in viewers:
        for name, value in viewer.counts(since=window_start).items():
            counts[name] += value

    settle_minute = period_s / 60
    settled = [m for m in memory if m["minute"] >= settle_minute - 1e-6] or memory[-1:]

    def growth(key):
        values = [m[key] for m in settled if m[key]]
        return round(max(values) / values[0] - 1, 4) if len(values) > 1 else 0.0

    final = checkpoints.final_check()
    written = list(checkpoints.seen.values())
    first, last = periods[0]["p95_s"], periods[-1]["p95_s"]
    polls_sent = sum(p["sent"] for p in periods)
    unanswered_share = sum(p["unanswered"] for p in periods) / polls_sent if polls_sent else math.nan
    drift_ok = bool(last <= DRIFT_FACTOR * first + DRIFT_SLACK_S and unanswered_share <= UNANSWERED_GOAL)
    server_growth, training_growth = growth("server_rss_mb"), growth("training_rss_mb")
    loadable = sum(c["loadable"] for c in written)
    return {
        "sessions": args.sessions,
        "minutes": args.minutes,
        "period_minutes": round(period_s / 60, 1),
        "run_steps": args.run_steps,
        "more_steps": more_steps,
        "runs_continued": runs_continued,
        "final_step": max((m["step"] for m in memory), default=0),
        "memory": memory,
        "settled_from_minute": settle_minute,
        "server_rss_growth": server_growth,
        "training_rss_growth": training_growth,
        "periods": periods,
        "live_view_polls": polls_sent,
        "live_view_polls_failed": sum(p["unanswered"] for p in periods),
        "latency_measure": "live view polls",
        # what app.py's allocator setting does on this machine (dcgan_core/allocator.py)
        "server_allocator": "glibc thresholds fixed" if glibc() is not None else "system default",
        "requests_sent": counts["sent"],
        "requests_answered": counts["answered"],
        "requests_replaced": counts["replaced"],
        "requests_unanswered": counts["unanswered"],
        "unanswered_share": round(unanswered_share, 4),
        "checkpoints_written": len(written),
        "checkpoints_loadable": loadable,
        "checkpoints": written[:50],
        "final_checkpoints": final,
        "viewer_errors": [e for v in viewers for e in v.errors][:5],
        "memory_goal_met": bool(max(server_growth, training_growth) <= MEMORY_GROWTH_GOAL),
        "latency_drift_goal_met": drift_ok,
        "checkpoints_goal_met": bool(written) and loadable == len(written) and all(c["loadable"] for c in final),
        "goal_met": bool(
            max(server_growth, training_growth) <= MEMORY_GROWTH_GOAL
            and drift_ok
            and written
            and loadable == len(written)
            and all(c["loadable"] for c in final)
        ),
    }


def report(r: dict) -> None:
    print(
        f"Classroom soak: {r['sessions']} protocol viewers for {r['minutes']:g} min, "
        f"{r['runs_continued']} continuations, final step {r['final_step']}"
    )
    print("  minute  server RSS MB  training RSS MB  step")
    for m in r["memory"]:
        print(f"  {m['minute']:6.1f}  {m['server_rss_mb'] or 0:13.0f}  {m['training_rss_mb'] or 0:15.0f}  {m['step']}")
    print(
        f"  growth after minute {r['settled_from_minute']:g}: server {100 * r['server_rss_growth']:.1f} %, "
        f"training {100 * r['training_rss_growth']:.1f} % (goal <= {100 * MEMORY_GROWTH_GOAL:.0f} %)"
    )
    for p in r["periods"]:
        print(
            f"  period {p['period']} ({p['minutes']:g} min): live view {p['updates']} polls, p50 {p['p50_s']:.3f} s, "
            f"p95 {p['p95_s']:.3f} s, max {p['max_s']:.3f} s, {p['unanswered']} of {p['sent']} failed; status "
            f"reruns {p['status_reruns_answered']} answered of {p['status_reruns_sent']} sent"
        )
    print(
        f"  status fragment reruns: {r['requests_sent']} sent / {r['requests_answered']} answered / "
        f"{r['requests_replaced']} replaced / {r['requests_unanswered']} unanswered (not in the goal: the "
        "live view is the files above)"
    )
    print(
        f"  checkpoints: {r['checkpoints_loadable']} of {r['checkpoints_written']} loadable; "
        f"goal {'met' if r['goal_met'] else 'NOT met'}",
        file=sys.stdout,
    )


if __name__ == "__main__":
    sys.exit(main())
