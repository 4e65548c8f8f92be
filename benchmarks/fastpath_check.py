"""Checks of the fast training step on the device at hand; run it on a GPU box.

    python benchmarks/fastpath_check.py [--device auto] [--steps 200] [--quick]

Prints one JSON line: each check with "ok" (true / false / null when it does
not apply to this device) and what was measured; exits 1 if a check failed.
On CUDA it exercises what the CPU tests cannot: the step captured as one CUDA
graph (``mode_used``), no device sync inside a step (CUDA's sync debug mode
set to "error"), fresh noise on every replay, a new learning rate reaching a
captured step, bf16 autocast inside the graph, torch.compile, and a
checkpoint from the GPU run resuming on the CPU. On a CPU the same checks run
on the eager step.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a file: the repository root

from benchmarks.record import start_record
from benchmarks.train_throughput import machine, sync
from dcgan_core.checkpoint import load_checkpoint, save_checkpoint
from dcgan_core.config import TrainConfig
from dcgan_core.device import device_name, pick_device
from dcgan_core.models import DCGANConfig
from dcgan_core.recipes import classroom_defaults
from dcgan_core.trainer import Trainer


def flat_weights(trainer) -> torch.Tensor:
    return torch.cat([p.detach().float().flatten() for m in (trainer.netG, trainer.netD) for p in m.parameters()])


def run_steps(trainer, n: int) -> torch.Tensor:
    rows = torch.stack([trainer.step() for _ in range(n)])
    sync(trainer.device)
    return rows.cpu()


def checks(config: TrainConfig, images: torch.Tensor, device: torch.device, steps: int) -> dict:
    results = {}
    expected_mode = "cuda_graph" if device.type == "cuda" else "eager"

    trainer = Trainer(config, images, device=device)
    results["mode"] = {
        "ok": trainer.mode_used == expected_mode,
        "mode_used": trainer.mode_used,
        "reason": trainer.mode_reason,
    }

    # no device sync inside a step
    if device.type == "cuda":
        torch.cuda.set_sync_debug_mode("error")
        try:
            for _ in range(3):
                trainer.step()
            results["no_sync_in_step"] = {"ok": True}
        except RuntimeError as err:
            results["no_sync_in_step"] = {"ok": False, "error": str(err)[:300]}
        finally:
            torch.cuda.set_sync_debug_mode("default")
    else:
        results["no_sync_in_step"] = {"ok": None, "note": "CUDA's sync debug mode only"}

    # training moves, every step draws new data, nothing diverges
    before = flat_weights(trainer)
    rows = run_steps(trainer, steps)
    moved = float((flat_weights(trainer) - before).abs().max())
    distinct = len({tuple(r.tolist()) for r in rows})
    results["trains"] = {
        "ok": bool(torch.isfinite(rows).all()) and moved > 0 and distinct == len(rows),
        "steps": steps,
        "max_weight_change": moved,
        "distinct_metric_rows": distinct,
        "last": dict(
            zip(
                ("loss_d", "loss_g", "d_real", "d_fake_before", "d_fake_after"),
                rows[-5:].mean(0).tolist(),
                strict=False,
            )
        ),
    }

    # a new learning rate reaches the step (a captured graph is re-captured)
    trainer.set_hyperparameters(lr=1e-12)
    before = flat_weights(trainer)
    run_steps(trainer, 3)
    tiny_change = float((flat_weights(trainer) - before).abs().max())
    trainer.set_hyperparameters(lr=config.lr)
    results["lr_change_applies"] = {
        "ok": tiny_change < 1e-6 and trainer.mode_used == expected_mode,
        "max_weight_change_at_lr_1e-12": tiny_change,
        "mode_after": trainer.mode_used,
    }

    # the checkpoint resumes on the CPU
    with tempfile.TemporaryDirectory() as folder:
        path = save_checkpoint(Path(folder) / "check.pt", **trainer.state())
        ckpt = load_checkpoint(path)
        cpu_config = TrainConfig.from_dict(
            {**ckpt.train_config, "model": ckpt.model_config.to_dict(), "device": "cpu", "mode": "auto"}
        )
        cpu_trainer = Trainer(cpu_config, images[:256].cpu(), device="cpu", checkpoint=ckpt)
        cpu_rows = run_steps(cpu_trainer, 2)
    results["checkpoint_resumes_on_cpu"] = {"ok": bool(torch.isfinite(cpu_rows).all()), "step": cpu_trainer.step_count}
    del trainer, cpu_trainer

    # bf16 autocast
    amp = Trainer(replace(config, amp=True), images, device=device)
    amp_rows = run_steps(amp, min(steps, 50))
    results["amp_bf16"] = {
        "ok": bool(torch.isfinite(amp_rows).all()) and amp.mode_used == expected_mode,
        "mode_used": amp.mode_used,
        "reason": amp.mode_reason,
    }
    del amp
    return results


def compile_check(config: TrainConfig, images: torch.Tensor, device: torch.device) -> dict:
    """Compiled G and D from the same seed as an eager run: same data and noise, so the
    metrics of the first steps differ only by rounding (fused kernels add in another order)."""
    trainer = Trainer(replace(config, mode="compile"), images, device=device)
    rows = run_steps(trainer, 5)
    eager_rows = run_steps(Trainer(replace(config, mode="eager"), images, device=device), 5)
    difference = float((rows - eager_rows).abs().max())
    return {
        "ok": bool(torch.isfinite(rows).all()) and (trainer.mode_used != "compile" or difference < 1e-2),
        "mode_used": trainer.mode_used,
        "reason": trainer.mode_reason,
        "max_metric_difference_vs_eager_5_steps": difference,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--compile", action="store_true", help="also try mode='compile' (slow to compile)")
    parser.add_argument("--quick", action="store_true", help="tiny networks and few steps")
    args = parser.parse_args(argv)
    record = start_record("fastpath_check", None if argv is None else ["fastpath_check.py", *argv])
    device = pick_device(args.device)
    config = replace(classroom_defaults(device), device=str(device), mode="auto")
    steps = args.steps
    if args.quick:
        config = replace(config, model=DCGANConfig(image_size=32, channels=1, nz=16, ngf=8, ndf=8), batch_size=16)
        steps = min(steps, 5)
    images = (torch.rand(2048, 1, 32, 32, generator=torch.Generator().manual_seed(0)) * 2 - 1).to(device)
    results = checks(config, images, device, steps)
    if args.compile:
        results["compile"] = compile_check(config, images, device)
    failed = [name for name, r in results.items() if r["ok"] is False]
    result = {
        "benchmark": "fastpath_check",
        **machine(),
        "device": str(device),
        "device_name": device_name(device),
        "quick": args.quick,
        "passed": not failed,
        "failed": failed,
        "checks": results,
    }
    record.finish(result)
    print(json.dumps(result))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
