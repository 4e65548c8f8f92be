"""Build assets/mnist_subset.npz: a small, class-balanced MNIST sample shipped with the app.

    python scripts/build_mnist_assets.py [--src ../shared/data/mnist] [--out assets/mnist_subset.npz]

Reads the four gzip IDX files of MNIST (this script is the only code that
reads them; the app and tests read only the npz), draws a fixed-seed sample
with the same number of images of every digit, and writes an npz whose bytes
are identical on every rerun (fixed zip timestamps, fixed seed).

Fields: train_images uint8 (N, 28, 28), train_labels int64 (N,),
test_images, test_labels, provenance (a JSON string: source MD5s, seed,
counts, attribution).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SEED = 20151119  # arXiv 1511.06434 (the DCGAN paper) went up on 19 Nov 2015
TRAIN_PER_CLASS = 1200  # 12,000 training images
TEST_PER_CLASS = 200  # 2,000 test images
ATTRIBUTION = "MNIST: Y. LeCun, C. Cortes, C. J. C. Burges, CC BY-SA 3.0"
FILES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}


def read_idx(raw: bytes) -> np.ndarray:
    """IDX: 2 zero bytes, a type byte (0x08 = uint8), a rank byte, big-endian int32 sizes, then data."""
    if raw[:2] != b"\x00\x00" or raw[2] != 0x08:
        raise ValueError("not an unsigned-byte IDX file")
    rank = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * j : 8 + 4 * j], "big") for j in range(rank))
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * rank)
    return data.reshape(shape)


def balanced_sample(labels: np.ndarray, per_class: int, rng: np.random.Generator) -> np.ndarray:
    """per_class indices of each digit, drawn without replacement, then shuffled together."""
    chosen = [rng.choice(np.flatnonzero(labels == digit), per_class, replace=False) for digit in range(10)]
    return rng.permutation(np.concatenate(chosen))


def write_deterministic_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Like np.savez_compressed, but with fixed zip timestamps so reruns give the same bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, array in arrays.items():
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.require(array, requirements="C"), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, buffer.getvalue(), compresslevel=9)


def build(src: Path, out: Path) -> dict:
    raw = {key: (src / name).read_bytes() for key, name in FILES.items()}
    arrays = {key: read_idx(gzip.decompress(data)) for key, data in raw.items()}
    rng = np.random.default_rng(SEED)
    train = balanced_sample(arrays["train_labels"], TRAIN_PER_CLASS, rng)
    test = balanced_sample(arrays["test_labels"], TEST_PER_CLASS, rng)
    provenance = {
        "dataset": "MNIST",
        "attribution": ATTRIBUTION,
        "license": "CC BY-SA 3.0",
        "source_md5": {name: hashlib.md5(raw[key]).hexdigest() for key, name in FILES.items()},
        "seed": SEED,
        "sampling": "numpy default_rng(seed); per digit, choice without replacement; then a permutation. "
        "Train drawn first, then test, from the same generator.",
        "train_count": int(len(train)),
        "test_count": int(len(test)),
        "train_per_class": TRAIN_PER_CLASS,
        "test_per_class": TEST_PER_CLASS,
        "train_source_indices_sha256": hashlib.sha256(np.sort(train).astype("<i8").tobytes()).hexdigest(),
        "test_source_indices_sha256": hashlib.sha256(np.sort(test).astype("<i8").tobytes()).hexdigest(),
    }
    write_deterministic_npz(
        out,
        {
            "train_images": arrays["train_images"][train],
            "train_labels": arrays["train_labels"][train].astype(np.int64),
            "test_images": arrays["test_images"][test],
            "test_labels": arrays["test_labels"][test].astype(np.int64),
            "provenance": np.array(json.dumps(provenance, sort_keys=True)),
        },
    )
    return provenance


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--src", type=Path, default=ROOT.parent / "shared" / "data" / "mnist")
    parser.add_argument("--out", type=Path, default=ROOT / "assets" / "mnist_subset.npz")
    args = parser.parse_args()
    provenance = build(args.src, args.out)
    size = args.out.stat().st_size
    print(f"wrote {args.out} ({size:,} bytes; sha256 {hashlib.sha256(args.out.read_bytes()).hexdigest()[:16]}…)")
    print(json.dumps(provenance, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
