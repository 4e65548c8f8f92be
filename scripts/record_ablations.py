"""Record the guidelines lab's results and the discriminator lesson's §5 experiment.

    nice -n 10 python scripts/record_ablations.py --steps 1200 --threads 1 --out assets/ablations

Trains the paper's recipe and the six broken variants (dcgan_core.ablations)
with the classroom CPU settings, the same seed and the same bundled MNIST
digits, scores each with the shipped MNIST classifier, and writes
results.json, one PNG per sample grid and README.md into --out. Each variant
is saved as soon as it finishes; --resume skips variants already recorded with
the same steps and seed. Then it runs the linear-probe experiment with the
shipped pretrained discriminator and writes representation.json.

The generator at every recorded grid is also kept in --snapshots (outside
assets/): if the MNIST classifier is missing during training, the metrics can
be added afterwards with --metrics-only.
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import sys
import time
from dataclasses import replace
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a file: the repository root

from benchmarks.record import cpu_model
from dcgan_core import ablations, features
from dcgan_core.data import DatasetSpec, load_images
from dcgan_core.device import device_name, pick_device
from dcgan_core.i18n import LabError
from dcgan_core.model_source import PRETRAINED_PATH
from dcgan_core.paths import ROOT


def machine_text(device: torch.device) -> str:
    if device.type == "cpu":
        threads = torch.get_num_threads()
        return f"{cpu_model()}, {threads} thread{'s' if threads > 1 else ''}"
    return device_name(device)


def load_classifier_or_none():
    from dcgan_core.classifier import load_classifier

    try:
        return load_classifier()
    except LabError as err:
        print(f"no metrics now ({err}); run --metrics-only once the classifier exists", flush=True)
        return None


def snapshot_path(args, name: str, step: int) -> Path:
    return Path(args.snapshots) / f"seed{args.seed}_steps{args.steps}" / f"{name}_{step:05d}.pt"


def record_variants(args, device: torch.device) -> None:
    out = Path(args.out)
    base = ablations.lab_base_config("cpu")  # the lab's settings, on any device
    names = args.only.split(",") if args.only else list(ablations.ABLATIONS)
    classifier = load_classifier_or_none()
    reference = ablations.bundled_test_reference(classifier) if classifier is not None else None
    train = load_images(
        replace(base.dataset, image_size=base.model.image_size, channels=base.model.channels), device=device
    )
    done: dict[str, ablations.AblationResult] = {}
    if args.resume and (out / ablations.RESULTS_FILE).exists():
        done = {
            name: r
            for name, r in ablations.load_results(out).items()
            if r.train.get("steps") == args.steps and r.train.get("seed") == args.seed
        }
    for name in names:
        if name in done:
            print(f"{name}: already recorded, skipped", flush=True)
            continue
        started = time.perf_counter()

        def progress(step, steps, name=name, started=started):
            if step % 50 == 0 or step == steps:
                rate = step / (time.perf_counter() - started)
                print(f"  {name}: step {step}/{steps} ({rate:.2f} steps/s)", flush=True)

        def keep(step, netG, name=name):
            path = snapshot_path(args, name, step)
            path.parent.mkdir(parents=True, exist_ok=True)
            torch.save({k: v.detach().cpu() for k, v in netG.state_dict().items()}, path)

        result = ablations.run_ablation(
            name,
            args.steps,
            args.seed,
            device,
            base,
            train,
            grid_count=args.grids,
            classifier=classifier,
            real_reference=reference,
            progress=progress,
            on_grid=keep,
        )
        done[name] = result
        report(result)
        ordered = [done[n] for n in ablations.ABLATIONS if n in done]
        ablations.save_results(ordered, out, extra=recording_details(args, device))
    write_readme(out, args, device, [done[n] for n in ablations.ABLATIONS if n in done])


def report(result) -> None:
    m = result.metrics or {}
    print(
        f"{result.name}: {result.wall_seconds:.0f} s ({result.cpu_seconds:.0f} s CPU), "
        f"FCD {m.get('fcd', float('nan')):.1f}, confidence {m.get('mean_confidence', float('nan')):.2f}, "
        f"classes {m.get('classes_present')}, "
        f"diverged at {result.diverged_at}",
        flush=True,
    )


def add_metrics(args, device: torch.device) -> None:
    """Score the kept generators of an existing recording with the classifier."""
    from dcgan_core.classifier import load_classifier
    from dcgan_core.models import DCGANConfig, Generator

    out = Path(args.out)
    classifier = load_classifier()
    reference = ablations.bundled_test_reference(classifier)
    results = ablations.load_results(out)
    payload = json.loads((out / ablations.RESULTS_FILE).read_text(encoding="utf-8"))
    details = {k: v for k, v in payload.items() if k not in ("format", "version", "variants")}
    for result in results.values():
        netG = Generator(DCGANConfig.from_dict(result.config))
        last = result.grids[-1][0]
        result.metrics_history = []
        for step, _ in result.grids:
            netG.load_state_dict(torch.load(snapshot_path(args, result.name, step), weights_only=True))
            summary = ablations.score_generator(
                netG, result.train["seed"], classifier, reference, baseline=step == last
            )
            if summary is not None:
                result.metrics = summary
                result.metrics_history.append(ablations.history_entry(step, summary))
        report(result)
    ablations.save_results(list(results.values()), out, extra=details)
    write_readme(out, args, device, list(results.values()))


def recording_details(args, device: torch.device) -> dict:
    return {
        "command": command_text(args),
        "date": datetime.date.today().isoformat(),
        "machine": machine_text(device),
        "torch": torch.__version__,
        "python": platform.python_version(),
    }


def command_text(args) -> str:
    parts = [
        "python scripts/record_ablations.py",
        f"--steps {args.steps}",
        f"--grids {args.grids}",
        f"--seed {args.seed}",
    ]
    if args.threads:
        parts.append(f"--threads {args.threads}")
    if args.device != "cpu":
        parts.append(f"--device {args.device}")
    return " ".join(parts)


def write_readme(out: Path, args, device: torch.device, results: list) -> None:
    base = ablations.lab_base_config("cpu")
    lines = [
        "# Recorded results for the guidelines lab and the discriminator lesson",
        "",
        "Shipped read-only; the app shows them instantly. Re-record with:",
        "",
        f"    nice -n 10 {command_text(args)}",
        "",
        f"- **Date:** {datetime.date.today().isoformat()}",
        f"- **Machine:** {machine_text(device)}; torch {torch.__version__}, Python {platform.python_version()}",
        "- **Settings:** the lab's settings (`ablations.lab_base_config('cpu')`: the paper's optimiser at the "
        f"earlier CPU classroom size): 32×32×1, nz {base.model.nz}, "
        f"ngf {base.model.ngf}, ndf {base.model.ndf}, batch {base.batch_size}, Adam lr {base.lr:g}, β1 {base.beta1:g}; "
        f"{args.steps} steps per variant, seed {args.seed}, the 12,000 bundled MNIST training digits.",
        "- **Times:** wall time depends on what else the machine was doing; CPU time (one thread with "
        "`--threads 1`) is the better guide to how long a variant takes on an idle core.",
        "- **Same seed, same data:** every variant's minibatch indices and noise come from the trainer's random "
        "stream seeded with the same seed, so all seven see the same digits and the same z's in the same order.",
        "- **Metrics:** `metrics.quality_report` with the shipped MNIST classifier, 500 samples (fixed noise, "
        'seed + 1) against the 2,000 bundled test digits, at each recorded grid step; "FCD of real digits" is what '
        "500 real test digits score (the floor at this sample size). Sample grids and metrics use G in eval mode.",
        "",
        "| variant | wall time (s) | CPU time (s) | final FCD | FCD of real digits | mean confidence "
        "| classes present | diverged at |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        m = r.metrics or {}
        floor = m.get("fcd_real_baseline")
        lines.append(
            f"| {r.name} | {r.wall_seconds:.0f} | {r.cpu_seconds:.0f} | {m.get('fcd', float('nan')):.1f} | "
            f"{floor if floor is None else format(floor, '.1f')} | "
            f"{m.get('mean_confidence', float('nan')):.2f} | {m.get('classes_present', '–')} | "
            f"{r.diverged_at if r.diverged_at is not None else '–'} |"
        )
    if results:
        total = sum(r.cpu_seconds for r in results)
        lines += ["", f"Total CPU time for the {len(results)} variants: {total:.0f} s ({total / 60:.1f} min)."]
    representation = features.load_representation(out / "representation.json")
    if representation:
        lines += [
            "",
            "## representation.json",
            "",
            f"The §5 linear-probe experiment with the shipped discriminator ({representation.get('checkpoint')}), "
            f"{representation.get('seconds', 0):.0f} s on {representation.get('machine')}:",
            "",
            "| labels | trained D | untrained D | raw pixels |",
            "|---|---|---|---|",
        ]
        for r in representation["results"]:
            cells = [
                f"{r[f'{k}_accuracy']:.1%}" + (f" ± {r[f'{k}_std']:.1%}" if r["repeats"] > 1 else "")
                for k in ("d", "random", "pixel")
            ]
            lines.append(f"| {r['n_labels']:,} | " + " | ".join(cells) + " |")
        lines += [
            "",
            "Label counts below 12,000 are averaged over 3 random class-balanced subsets (± their standard "
            "deviation); the untrained D has the same architecture with the paper's random initialisation.",
        ]
    (out / "README.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def record_representation(args, device: torch.device) -> None:
    from dcgan_core.checkpoint import load_checkpoint

    if not PRETRAINED_PATH.exists():
        print(f"representation: {PRETRAINED_PATH} is missing; skipped", flush=True)
        return
    ckpt = load_checkpoint(PRETRAINED_PATH)
    cfg = ckpt.model_config
    netD = ckpt.build_discriminator().eval()
    spec = DatasetSpec(source="bundled", image_size=cfg.image_size, channels=cfg.channels)
    train = load_images(spec)
    test = load_images(replace(spec, split="test"))
    started = time.perf_counter()
    results = features.representation_experiment(
        netD, train.images, train.labels, test.images, test.labels, seed=args.seed
    )
    seconds = time.perf_counter() - started
    path = features.save_representation(
        results,
        Path(args.out) / "representation.json",
        checkpoint=str(PRETRAINED_PATH.relative_to(ROOT)),
        checkpoint_step=ckpt.step,
        seconds=round(seconds, 1),
        machine=machine_text(torch.device("cpu")),
        date=datetime.date.today().isoformat(),
        torch=torch.__version__,
        train_images=len(train),
        test_images=len(test),
    )
    for r in results:
        print(
            f"representation: {r.n_labels} labels: D {r.d_accuracy:.3f}, untrained {r.random_accuracy:.3f}, "
            f"pixels {r.pixel_accuracy:.3f}",
            flush=True,
        )
    print(f"representation: {seconds:.0f} s → {path}", flush=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=1200, help="training steps per variant")
    parser.add_argument("--grids", type=int, default=7, help="sample grids recorded per variant, evenly from step 0")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", default=str(ROOT / "assets" / "ablations"))
    parser.add_argument("--only", default=None, help="comma-separated variant names (default: all seven)")
    parser.add_argument("--resume", action="store_true", help="keep variants already recorded with these settings")
    parser.add_argument("--skip-variants", action="store_true", help="only the representation experiment")
    parser.add_argument("--skip-representation", action="store_true")
    parser.add_argument(
        "--metrics-only", action="store_true", help="score the generators kept in --snapshots for an existing recording"
    )
    parser.add_argument(
        "--snapshots",
        default=str(ROOT / "data" / "ablation_snapshots"),
        help="where the generator at every recorded grid is kept (not shipped)",
    )
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        device = pick_device(args.device)
        if args.metrics_only:
            add_metrics(args, device)
            return 0
        if not args.skip_representation:
            record_representation(args, device)
        if not args.skip_variants:
            record_variants(args, device)
        else:
            write_readme(
                Path(args.out),
                args,
                device,
                list(ablations.load_results(args.out).values())
                if (Path(args.out) / ablations.RESULTS_FILE).exists()
                else [],
            )
    except LabError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
