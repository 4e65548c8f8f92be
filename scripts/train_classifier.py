"""Train the MNIST classifier the app ships (assets/mnist_classifier.pt).

    python scripts/train_classifier.py                       # full 60k MNIST, CPU, a few minutes
    python scripts/train_classifier.py --src /path/to/mnist  # folder with the four *-ubyte.gz files

Reads the original gzip IDX files (this script only; the app never does),
trains on all 60,000 training digits with light augmentation (small random
rotations, scalings and shifts, and the 28→32→28 resize round trip that GAN
samples go through), then measures accuracy on the full 10,000-digit MNIST
test set and on the 2,000 test digits bundled in assets/mnist_subset.npz.
Writes the weights plus metadata and a model card (assets/mnist_classifier.md).
"""

from __future__ import annotations

import argparse
import gzip
import math
import os
import platform
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a file: the repository root

from dcgan_core.classifier import MnistClassifier
from dcgan_core.paths import ASSETS_DIR, ROOT


def read_idx(path: Path) -> np.ndarray:
    """An IDX file (gzip): magic (0, 0, dtype 0x08 = uint8, ndim), ndim big-endian sizes, data."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    zero, dtype_code, ndim = raw[1] | raw[0] << 8, raw[2], raw[3]
    if zero != 0 or dtype_code != 0x08:
        raise ValueError(f"{path} is not an unsigned-byte IDX file")
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != math.prod(shape):
        raise ValueError(f"{path}: header says {shape}, found {data.size} bytes")
    return data.reshape(shape)


def load_mnist(src: Path, split: str) -> tuple[torch.Tensor, torch.Tensor]:
    prefix = "train" if split == "train" else "t10k"
    images = read_idx(src / f"{prefix}-images-idx3-ubyte.gz")
    labels = read_idx(src / f"{prefix}-labels-idx1-ubyte.gz")
    return to_input(images), torch.from_numpy(labels.astype(np.int64))


def to_input(images: np.ndarray) -> torch.Tensor:
    """uint8 (N,28,28) → float (N,1,28,28) in [-1, 1], the GAN's range."""
    return torch.from_numpy(images.astype(np.float32) / 127.5 - 1.0)[:, None]


def augment(
    x: torch.Tensor, gen: torch.Generator, max_degrees=10.0, max_scale=0.1, max_shift_px=2.0, round_trip=0.25
) -> torch.Tensor:
    """Random small affine warps of a batch in [-1, 1]; some images go 28→32→28 like GAN samples."""
    n = x.shape[0]
    angle = (torch.rand(n, generator=gen) * 2 - 1) * math.radians(max_degrees)
    scale = 1 + (torch.rand(n, generator=gen) * 2 - 1) * max_scale
    shift = (torch.rand(n, 2, generator=gen) * 2 - 1) * (2 * max_shift_px / x.shape[-1])  # grid units span 2
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    # Pad with -1 (background): shift the range to [0, 2] so zero padding is black.
    warped = F.grid_sample(x + 1, grid, mode="bilinear", padding_mode="zeros", align_corners=False) - 1
    chosen = torch.rand(n, generator=gen) < round_trip
    if chosen.any():
        up = F.interpolate(warped[chosen], size=(32, 32), mode="bilinear", align_corners=False, antialias=True)
        warped[chosen] = MnistClassifier.prepare(up)
    return warped


@torch.no_grad()
def accuracy(model: MnistClassifier, images: torch.Tensor, labels: torch.Tensor, batch_size: int = 1000) -> float:
    model.eval()
    correct = sum(
        (model(images[i : i + batch_size]).argmax(1) == labels[i : i + batch_size]).sum().item()
        for i in range(0, len(images), batch_size)
    )
    return correct / len(images)


def bundled_test_set() -> tuple[torch.Tensor, torch.Tensor]:
    from dcgan_core.data import load_bundled_mnist

    images, labels = load_bundled_mnist("test")
    return to_input(images), torch.from_numpy(np.array(labels, dtype=np.int64))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--src",
        type=Path,
        default=ROOT.parent / "shared" / "data" / "mnist",
        help="folder with the MNIST *-ubyte.gz files (default: ../shared/data/mnist from the repo root)",
    )
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=ASSETS_DIR / "mnist_classifier.pt")
    parser.add_argument("--card", type=Path, default=ASSETS_DIR / "mnist_classifier.md")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    torch.use_deterministic_algorithms(True)
    gen = torch.Generator().manual_seed(args.seed)

    train_x, train_y = load_mnist(args.src, "train")
    test_x, test_y = load_mnist(args.src, "test")
    print(f"MNIST: {len(train_x)} training and {len(test_x)} test digits from {args.src}")

    model = MnistClassifier()
    steps_per_epoch = math.ceil(len(train_x) / args.batch_size)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=args.lr, total_steps=args.epochs * steps_per_epoch)

    start = time.perf_counter()
    for epoch in range(args.epochs):
        model.train()
        order = torch.randperm(len(train_x), generator=gen)
        total_loss = 0.0
        for i in range(0, len(order), args.batch_size):
            idx = order[i : i + args.batch_size]
            loss = F.cross_entropy(model(augment(train_x[idx], gen)), train_y[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            total_loss += loss.item() * len(idx)
        print(
            f"epoch {epoch + 1}/{args.epochs}: loss {total_loss / len(train_x):.4f}, "
            f"test accuracy {accuracy(model, test_x, test_y):.4f}, {time.perf_counter() - start:.0f} s",
            flush=True,
        )
    train_seconds = time.perf_counter() - start

    mnist_acc = accuracy(model, test_x, test_y)
    bundled_x, bundled_y = bundled_test_set()
    bundled_acc = accuracy(model, bundled_x, bundled_y)
    gan_size_acc = accuracy(
        model,
        MnistClassifier.prepare(
            F.interpolate(test_x, size=(32, 32), mode="bilinear", align_corners=False, antialias=True)
        ),
        test_y,
    )
    print(
        f"accuracy: MNIST test {mnist_acc:.4f}, bundled test {bundled_acc:.4f}, MNIST test via 32x32 {gan_size_acc:.4f}"
    )

    machine = (
        f"{platform.machine()} {platform.system()} CPU, {torch.get_num_threads()} thread(s), "
        f"{os.cpu_count()} cores shared with other jobs"
    )
    metadata = {
        "mnist_test_accuracy": mnist_acc,
        "mnist_test_size": len(test_x),
        "bundled_test_accuracy": bundled_acc,
        "bundled_test_size": len(bundled_x),
        "mnist_test_accuracy_via_32px": gan_size_acc,
        "train_size": len(train_x),
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "lr": args.lr,
        "seed": args.seed,
        "threads": args.threads,
        "train_seconds": round(train_seconds, 1),
        "machine": machine,
        "torch_version": str(torch.__version__),  # TorchVersion is not weights_only-loadable
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d"),
        "parameters": sum(p.numel() for p in model.parameters()),
    }
    model.eval()
    torch.save(
        {"state_dict": model.state_dict(), "architecture": {"width": 32, "feature_dim": 128}, "metadata": metadata},
        args.out,
    )
    torch.load(args.out, weights_only=True)  # the app loads it this way: fail here, not there
    args.card.write_text(model_card(metadata, model), encoding="utf-8")
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB) and {args.card}")


def model_card(m: dict, model: MnistClassifier) -> str:
    accuracy_rows = "\n".join(
        f"| {test_set} | {size:,} | {100 * accuracy:.2f} % |"
        for test_set, size, accuracy in (
            ("MNIST test set", m["mnist_test_size"], m["mnist_test_accuracy"]),
            (
                "MNIST test set, resized to 32×32 and back (as GAN samples)",
                m["mnist_test_size"],
                m["mnist_test_accuracy_via_32px"],
            ),
            ("bundled test digits (assets/mnist_subset.npz)", m["bundled_test_size"], m["bundled_test_accuracy"]),
        )
    )
    command = f"python scripts/train_classifier.py --epochs {m['epochs']} --seed {m['seed']} --threads {m['threads']}"
    return f"""# MNIST classifier (assets/mnist_classifier.pt)

The app uses this network to judge GAN samples: its 128-d penultimate layer is
the feature space of the Fréchet classifier distance (FCD, FID's formula in an
MNIST-classifier feature space, *not* Inception FID, so its numbers are not
comparable with published FID values), and its softmax gives the class
histogram, confidence and mode-collapse check (`dcgan_core/metrics.py`).

## Architecture ({m["parameters"]:,} parameters)

```
{model}
```

Input: (N, 1, 28, 28) in [-1, 1] (white digit on black). `MnistClassifier.prepare`
resizes other sizes (the GAN's 32×32) with antialiased bilinear interpolation.

## Training

- Data: all {m["train_size"]:,} MNIST training digits (original IDX files).
- Augmentation: random rotation ±10°, scale ±10 %, shift ±2 px; a quarter of
  each batch goes through the 28→32→28 resize that GAN samples go through.
- {m["epochs"]} epochs, batch {m["batch_size"]}, AdamW (weight decay 1e-4), one-cycle learning rate
  up to {m["lr"]}, seed {m["seed"]}, deterministic algorithms.
- Command: `{command}`
- Training time: {m["train_seconds"]:.0f} s on {m["machine"]} (torch {m["torch_version"]}), {m["date"]}.

## Accuracy

| test set | digits | accuracy |
|---|---|---|
{accuracy_rows}

The bundled digits are a subset of the MNIST test set, so the two figures are not independent.
tests/test_classifier.py recomputes the bundled-set accuracy.
"""


if __name__ == "__main__":
    main()
