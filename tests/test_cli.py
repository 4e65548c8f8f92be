"""`python -m dcgan_core.train`: a short run on the bundled digits, then a resumed one."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dcgan_core.checkpoint import load_checkpoint

ROOT = Path(__file__).resolve().parent.parent
TINY = ["--ngf", "8", "--ndf", "8", "--nz", "16", "--batch-size", "8", "--device", "cpu", "--threads", "1"]


def run_cli(*args, tmp_path):
    env = dict(os.environ, DCGAN_LAB_DATA=str(tmp_path / "data"))
    return subprocess.run(
        [sys.executable, "-m", "dcgan_core.train", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow
def test_train_then_resume(tmp_path):
    out = tmp_path / "demo"
    first = run_cli(
        "--dataset",
        "bundled",
        "--image-size",
        "32",
        "--steps",
        "5",
        "--sample-every",
        "2",
        "--checkpoint-every",
        "4",
        "--out",
        str(out),
        *TINY,
        tmp_path=tmp_path,
    )
    assert first.returncode == 0, first.stderr
    assert "5/5" in first.stderr  # the progress line reached the end
    ckpt = load_checkpoint(out / "checkpoint.pt")
    assert ckpt.step == 5 and ckpt.model_config.ngf == 8 and ckpt.train_config["batch_size"] == 8
    lines = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [line["step"] for line in lines] == [1, 2, 3, 4, 5]
    assert all(isinstance(line["loss_d"], float) for line in lines)
    samples = sorted(p.name for p in (out / "samples").glob("*.png"))
    assert samples == ["step_000000.png", "step_000002.png", "step_000004.png", "step_000005.png"]
    assert json.loads((out / "config.json").read_text())["model"]["nz"] == 16

    again = run_cli("--resume", str(out / "checkpoint.pt"), "--steps", "3", "--out", str(out), *TINY, tmp_path=tmp_path)
    assert again.returncode == 0, again.stderr
    assert load_checkpoint(out / "checkpoint.pt").step == 8
    steps = [json.loads(line)["step"] for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert steps == [1, 2, 3, 4, 5, 6, 7, 8]


def test_a_bad_checkpoint_gives_a_sentence_not_a_traceback(tmp_path):
    bogus = tmp_path / "bogus.pt"
    bogus.write_text("not a checkpoint")
    result = run_cli("--resume", str(bogus), "--steps", "1", "--out", str(tmp_path / "o"), *TINY, tmp_path=tmp_path)
    assert result.returncode == 2
    assert "not a DCGAN Lab checkpoint" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.slow
def test_a_fresh_run_in_a_used_folder_starts_a_fresh_log(tmp_path):
    out = tmp_path / "demo"
    out.mkdir()
    (out / "metrics.jsonl").write_text('{"step": 1, "loss_d": 9}\n{"step": 2, "loss_d": 9}\n')
    (out / "samples").mkdir()
    (out / "samples" / "step_000050.png").write_bytes(b"old")
    result = run_cli("--steps", "2", "--sample-every", "1", "--out", str(out), *TINY, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [line["step"] for line in lines] == [1, 2] and all(line["loss_d"] != 9 for line in lines)
    assert sorted(p.name for p in (out / "samples").iterdir()) == [
        "step_000000.png",
        "step_000001.png",
        "step_000002.png",
    ]
