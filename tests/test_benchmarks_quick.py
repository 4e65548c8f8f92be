"""The speed benchmarks still run: each prints one JSON line with its fields (no speed assertions)."""

import json
import os
import subprocess
import sys
from pathlib import Path

from dcgan_core.allocator import glibc

ROOT = Path(__file__).resolve().parent.parent


def run_benchmark(script, *args, tmp_path, timeout=240):
    env = dict(os.environ, DCGAN_LAB_DATA=str(tmp_path / "data"), DCGAN_LAB_BENCH_RESULTS=str(tmp_path / "records"))
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, result.stdout
    return json.loads(lines[0])


def test_train_throughput_quick(tmp_path):
    out = run_benchmark(
        "train_throughput.py",
        "--quick",
        "--device",
        "cpu",
        "--steps",
        "2",
        "--warmup",
        "1",
        "--ngf",
        "8",
        "--batch",
        "16",
        tmp_path=tmp_path,
    )
    for part in ("baseline", "fast_path", "observed"):
        assert out[part]["steps"] == 2
        assert out[part]["images_per_s"] > 0 and out[part]["steps_per_s"] > 0
    assert out["observed"]["observer"]["polls"] >= 1
    assert out["fast_vs_baseline"] > 0 and out["observed_vs_fast"] > 0
    assert (out["ngf"], out["batch"], out["device"], out["mode_used"]) == (8, 16, "cpu", "eager")
    for field in ("cpu", "cores", "torch", "date", "load_average_1m", "threads"):
        assert field in out


def test_time_to_digits_quick_runs_both_recipes_seed_by_seed(tmp_path):
    out = run_benchmark(
        "time_to_digits.py",
        "--quick",
        "--device",
        "cpu",
        "--recipe",
        "both",
        "--seeds",
        "0-1",
        "--steps",
        "2",
        "--check-every",
        "2",
        "--samples",
        "64",
        "--ngf",
        "8",
        tmp_path=tmp_path,
    )
    assert out["recorded"] is False  # a quick run's figures mean nothing: not appended to benchmarks/results
    assert out["seeds"] == [0, 1] and out["recipes"] == ["classroom", "paper"]
    assert [(run["recipe"], run["seed"]) for run in out["runs"]] == [
        ("classroom", 0),
        ("paper", 0),
        ("classroom", 1),
        ("paper", 1),
    ]
    assert out["criterion"] == {"min_mean_confidence": 0.8, "min_classes": 9, "samples": 64}
    for run in out["runs"]:
        assert run["steps_run"] == 2 and run["images_seen"] == 2 * run["config"]["batch"]
        assert run["reached"] is False and run["steps"] is None  # two steps of training draw no digits
        check = run["final"]
        assert 0 < check["mean_confidence"] <= 1 and 0 <= check["classes_present"] <= 10 and check["fcd"] > 0
        assert run["train_seconds_run"] > 0 and run["train_cpu_seconds_run"] >= 0 and run["check_seconds"] > 0
        assert run["config"]["ngf"] == 8
    paper = out["runs"][1]["config"]
    assert (paper["lr"], paper["beta1"], paper["ema"], paper["batch"]) == (2e-4, 0.5, 0.0, 64)
    for recipe in ("classroom", "paper"):
        summary = out["summary"][recipe]
        assert summary["seeds"] == 2 and summary["reached"] == 0
        assert summary["median_steps"] is None and summary["median_train_seconds"] is None  # not every seed reached
    for field in ("device_name", "threads", "load_1m_start", "load_1m_end", "check_every"):
        assert field in out


def test_time_to_digits_medians_and_seed_lists():
    from benchmarks.time_to_digits import parse_seeds, summarise

    assert parse_seeds("0-4") == [0, 1, 2, 3, 4] and parse_seeds("0,2,5") == [0, 2, 5] and parse_seeds("3") == [3]
    runs = [
        {
            "steps": s,
            "train_seconds": t,
            "train_cpu_seconds": c,
            "fcd": f,
            "mean_confidence": 0.8,
            "reached": True,
            "config": {},
        }
        for s, t, c, f in ((300, 30.0, 28.0, 200.0), (250, 26.0, 24.0, 220.0), (400, 41.0, 37.0, 180.0))
    ]
    summary = summarise(runs)
    assert (summary["median_steps"], summary["median_train_seconds"], summary["median_fcd"]) == (300, 30.0, 200.0)
    runs[1].update(steps=None, train_seconds=None, train_cpu_seconds=None, fcd=None, reached=False)
    assert summarise(runs)["median_steps"] is None and summarise(runs)["reached"] == 2


def test_fastpath_check_quick(tmp_path):
    out = run_benchmark("fastpath_check.py", "--quick", "--device", "cpu", tmp_path=tmp_path)
    assert out["passed"] is True and out["failed"] == []
    checks = out["checks"]
    assert checks["mode"]["mode_used"] == "eager"
    assert checks["no_sync_in_step"]["ok"] is None  # CUDA only
    for name in ("trains", "lr_change_applies", "checkpoint_resumes_on_cpu", "amp_bf16"):
        assert checks[name]["ok"] is True, checks[name]


def test_classroom_load_with_protocol_viewers(tmp_path):
    """A real server, a run started from its page in Chromium, two protocol viewers watching."""
    # a server, Chromium and a training run on a busy 2-core machine: minutes before the first viewer
    out = run_benchmark(
        "classroom_load.py",
        "--sessions",
        "2",
        "--seconds",
        "6",
        "--json",
        "--no-record",
        tmp_path=tmp_path,
        timeout=600,
    )
    assert out["viewers"] == "protocol" and out["sessions"] == 2
    assert out["sessions_live"] == 2 and out["errors"] == []
    # both polled the live view's files (state and sample grid) and got every answer
    assert out["live_view_pollers"] == 2 and out["live_view_polls"] >= 4 and out["live_view_poll_errors"] == 0
    assert 0 < out["live_view_poll_p50_s"] <= out["live_view_poll_p95_s"] <= out["live_view_poll_max_s"]
    # the status reruns: every request sent is answered, replaced or counted as unanswered
    assert out["requests_sent"] > 0
    assert out["requests_sent"] == out["requests_answered"] + out["requests_replaced"] + out["requests_unanswered"]
    assert out["unanswered_share"] == round(out["requests_unanswered"] / out["requests_sent"], 4)
    assert out["images_per_s_no_viewers_before"] > 0 and out["images_per_s_with_viewers"] > 0
    for field in ("throughput_loss", "server_cpu_with_viewers", "p95_goal_met", "throughput_goal_met", "cpu_cores"):
        assert field in out


def test_slider_latency_in_the_browser(tmp_path):
    """Chromium moves a slider on each convolution lesson; every move is timed until its figure is redrawn."""
    out = run_benchmark("slider_latency.py", "--quick", "--moves", "2", tmp_path=tmp_path, timeout=600)
    assert out["quick"] is True and out["moves"] == 2 and out["method"] == "charts drawn ahead"
    lessons = {lesson["page"]: lesson for lesson in out["lessons"]}
    assert set(lessons) == {
        "pages/output_size.py",
        "pages/conv_matrix.py",
        "pages/transposed_conv.py",
        "pages/checkerboard.py",
    }
    for lesson in lessons.values():
        assert lesson["timed"] == 2 and lesson["missed"] == 0, lesson  # each move redrew the figure
        assert 0 < lesson["first_change_median_ms"] <= lesson["median_ms"] <= lesson["p95_ms"] <= lesson["max_ms"]
        assert isinstance(lesson["goal_met"], bool)
        assert 0 < lesson["page_run_median_ms"] <= lesson["page_run_p95_ms"]  # the rest of the page came too
    record = [json.loads(line) for line in (tmp_path / "records" / "slider_latency.jsonl").read_text().splitlines()]
    assert len(record) == 1 and record[0]["figures"] == out
    assert record[0]["load_1m_start"] is not None and record[0]["cores"] == os.cpu_count()


def test_classroom_soak_one_minute(tmp_path):
    """The soak's CI variant: viewers for a minute on a short run that finishes and is continued from its
    checkpoint on the page; memory sampled, latency per period, every checkpoint loaded."""
    env = dict(os.environ, DCGAN_LAB_DATA=str(tmp_path / "data"), DCGAN_LAB_BENCH_RESULTS=str(tmp_path / "records"))
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "classroom_soak.py"),
            "--minutes",
            "1",
            "--sessions",
            "3",
            "--run-steps",
            "30",
            "--sample-seconds",
            "20",
            "--json",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=480,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["sessions"] == 3 and out["minutes"] == 1 and out["period_minutes"] == 1
    assert out["server_allocator"] == ("glibc thresholds fixed" if glibc() is not None else "system default")
    assert len(out["memory"]) >= 3 and all(m["server_rss_mb"] > 0 for m in out["memory"])
    assert any(m["training_rss_mb"] for m in out["memory"])
    assert out["runs_continued"] >= 1 and out["final_step"] > out["run_steps"]  # finished, then continued
    assert out["checkpoints_written"] >= 1 and out["checkpoints_loadable"] == out["checkpoints_written"]
    assert all(c["loadable"] for c in out["final_checkpoints"]) and out["final_checkpoints"]
    assert len(out["periods"]) == 1 and out["periods"][0]["updates"] > 0
    # The latency is the live view's, as viewers see it: their polls of the files, failures counted.
    assert out["latency_measure"] == "live view polls"
    assert out["live_view_polls"] == out["periods"][0]["sent"] >= out["periods"][0]["updates"]
    assert out["live_view_polls_failed"] == out["periods"][0]["unanswered"] == 0
    assert out["requests_sent"] == (out["requests_answered"] + out["requests_replaced"] + out["requests_unanswered"])
    assert out["viewer_errors"] == []
    for key in ("server_rss_growth", "training_rss_growth", "memory_goal_met", "latency_drift_goal_met", "goal_met"):
        assert key in out
    assert (tmp_path / "records" / "classroom_soak.jsonl").exists()
