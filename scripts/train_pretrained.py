"""Train the shipped MNIST DCGAN with the app's own command-line trainer, then
export a slim copy (no optimizer state) to assets/pretrained/ with a model card.

    python scripts/train_pretrained.py               # train (minutes on a CPU) + export + card
    python scripts/train_pretrained.py --card-only   # re-measure the card's metrics
    python scripts/train_pretrained.py --export-only # export the run's latest checkpoint (run cut short)
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a file: the repository root

from dcgan_core.checkpoint import load_checkpoint, save_checkpoint
from dcgan_core.model_source import PRETRAINED_PATH
from dcgan_core.paths import ROOT

CARD = PRETRAINED_PATH.with_suffix(".md")
ARGS = [
    "--dataset",
    "bundled",
    "--image-size",
    "32",
    "--channels",
    "1",
    "--nz",
    "100",
    "--ngf",
    "32",
    "--ndf",
    "32",
    "--batch-size",
    "64",
    "--lr",
    "2e-4",
    "--beta1",
    "0.5",
    "--seed",
    "1",
    "--sample-every",
    "250",
    "--checkpoint-every",
    "500",
    "--threads",
    "1",
]


def train(steps: int, out: Path) -> float:
    command = [sys.executable, "-m", "dcgan_core.train", *ARGS, "--steps", str(steps), "--out", str(out)]
    print(" ".join(command), flush=True)
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True)
    return time.perf_counter() - start


def export(run_checkpoint: Path, seconds: float, steps: int) -> None:
    ckpt = load_checkpoint(run_checkpoint)
    save_checkpoint(
        PRETRAINED_PATH,
        model_config=ckpt.model_config,
        generator=ckpt.generator,
        discriminator=ckpt.discriminator,
        step=ckpt.step,
        fixed_noise=ckpt.fixed_noise,
        train_config=ckpt.train_config,
        metrics=ckpt.metrics,
    )
    info = {
        "command": "python -m dcgan_core.train "
        + " ".join(ARGS)
        + f" --steps {steps} --out runs/pretrained"
        + (f" (exported at step {ckpt.step})" if ckpt.step != steps else ""),
        "steps": ckpt.step,
        "seconds": round(seconds, 1),
        "device": "cpu",
        "machine": f"{platform.machine()}, {ARGS[ARGS.index('--threads') + 1]} torch thread(s)",
        "torch": torch.__version__,
        "date": time.strftime("%Y-%m-%d"),
    }
    PRETRAINED_PATH.with_suffix(".json").write_text(json.dumps(info, indent=2) + "\n")


def write_card() -> None:
    from dcgan_core.checkpoint import load_generator
    from dcgan_core.classifier import load_classifier
    from dcgan_core.data import DatasetSpec, load_images
    from dcgan_core.latent import generate, z_from_seed
    from dcgan_core.metrics import quality_report, recognisable_digits

    info = json.loads(PRETRAINED_PATH.with_suffix(".json").read_text())
    netG, cfg = load_generator(PRETRAINED_PATH)
    fake = generate(netG, z_from_seed(0, cfg.nz, n=1000))
    real = load_images(DatasetSpec(source="bundled", split="test", image_size=32, channels=1)).images
    report = quality_report(fake, real, load_classifier())
    params_g = sum(p.numel() for p in netG.parameters())
    CARD.write_text(f"""# Shipped MNIST DCGAN

Trained with the app's own command-line trainer on the bundled MNIST subset (12,000 digits,
see `assets/README.md`; MNIST by Y. LeCun, C. Cortes, C. J. C. Burges, CC BY-SA 3.0).

| | |
|---|---|
| command | `{info["command"]}` |
| steps | {info["steps"]} (batch 64) |
| wall time | {info["seconds"]} s on {info["device"]} ({info["machine"]}, shared with other work) |
| torch | {info["torch"]} |
| date | {info["date"]} |
| model | 32×32×1, nz {cfg.nz}, ngf {cfg.ngf}, ndf {cfg.ndf}; G {params_g:,} parameters |

Quality of 1,000 samples (seed 0) against the 2,000 bundled test digits, measured by
`python scripts/train_pretrained.py --card-only` with the project's MNIST classifier:

| metric | value |
|---|---|
| Fréchet distance in the classifier's feature space | {report.fcd:.2f} |
| mean classifier confidence | {report.mean_confidence:.3f} |
| digit classes present | {report.classes_present} of 10 |
| mode collapse flagged | {report.mode_collapse} |
| recognisable digits (confidence ≥ 0.8 and ≥ 9 classes) | {recognisable_digits(report)} |

The file holds G and D weights, the fixed noise and the config (no optimizer state);
it loads with `torch.load(..., weights_only=True)`.
""")
    print(CARD.read_text())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--card-only", action="store_true")
    parser.add_argument("--export-only", action="store_true")
    args = parser.parse_args()
    out = ROOT / "runs" / "pretrained"
    if args.export_only:
        started = (out / "config.json").stat().st_mtime
        export(out / "checkpoint.pt", (out / "checkpoint.pt").stat().st_mtime - started, args.steps)
    elif not args.card_only:
        seconds = train(args.steps, out)
        export(out / "checkpoint.pt", seconds, args.steps)
    write_card()


if __name__ == "__main__":
    main()
