"""The speed benchmarks still run: each prints one JSON line with its fields (no speed assertions)."""
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_benchmark(script, *args, tmp_path):
    env = dict(os.environ, DCGAN_LAB_DATA=str(tmp_path / "data"))
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), *args], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, result.stdout
    return json.loads(lines[0])


def test_train_throughput_quick(tmp_path):
    out = run_benchmark("train_throughput.py", "--quick", "--device", "cpu", "--steps", "2", "--warmup", "1",
                        "--ngf", "8", "--batch", "16", tmp_path=tmp_path)
    for part in ("baseline", "fast_path", "observed"):
        assert out[part]["steps"] == 2
        assert out[part]["images_per_s"] > 0 and out[part]["steps_per_s"] > 0
    assert out["observed"]["observer"]["polls"] >= 1
    assert out["fast_vs_baseline"] > 0 and out["observed_vs_fast"] > 0
    assert (out["ngf"], out["batch"], out["device"], out["mode_used"]) == (8, 16, "cpu", "eager")
    for field in ("cpu", "cores", "torch", "date", "load_average_1m", "threads"):
        assert field in out


def test_time_to_digits_quick(tmp_path):
    out = run_benchmark("time_to_digits.py", "--quick", "--device", "cpu", "--steps", "2", "--check-every", "2",
                        "--samples", "64", "--ngf", "8", tmp_path=tmp_path)
    assert out["steps"] == 2 and out["images_seen"] == 2 * out["config"]["batch"]
    assert out["reached"] is False  # two steps of training draw no digits
    check = out["final"]
    assert 0 < check["mean_confidence"] <= 1 and 0 <= check["classes_present"] <= 10
    assert out["train_seconds"] > 0 and out["check_seconds"] > 0
    assert out["criterion"] == {"min_mean_confidence": 0.8, "min_classes": 9, "samples": 64}
    for field in ("cpu", "cores", "torch", "load_average_1m", "wall_seconds", "train_cpu_seconds"):
        assert field in out


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
    out = run_benchmark("classroom_load.py", "--sessions", "2", "--seconds", "6", "--json", "--no-record",
                        tmp_path=tmp_path)
    assert out["viewers"] == "protocol" and out["sessions"] == 2
    assert out["sessions_live"] == 2 and out["errors"] == []
    # both polled the live view's files (state and sample grid) and got every answer
    assert out["live_view_pollers"] == 2 and out["live_view_polls"] >= 4 and out["live_view_poll_errors"] == 0
    assert 0 < out["live_view_poll_p50_s"] <= out["live_view_poll_p95_s"] <= out["live_view_poll_max_s"]
    assert out["images_per_s_no_viewers_before"] > 0 and out["images_per_s_with_viewers"] > 0
    for field in ("throughput_loss", "server_cpu_with_viewers", "p95_goal_met", "throughput_goal_met", "cpu_cores"):
        assert field in out
