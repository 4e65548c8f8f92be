"""Training a DCGAN: the paper's recipe (§3–4), one step at a time.

    python -m dcgan_core.train --dataset bundled --image-size 32 --steps 200 --out runs/demo

Fast path by design: the whole dataset lives on the training device, minibatch
indices and noise are drawn there, and ``Trainer.step`` never waits for the
device (no ``.item()``): its metrics stay device tensors until the job reads
them a few times a second. ``make_train_step`` builds a function of two
fixed-shape tensors; ``dcgan_core.fastpath`` runs the whole step eagerly, as
one CUDA graph, or compiled (``TrainConfig.mode``). Under torchrun the same
command trains on several GPUs (``dcgan_core.distributed``).
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import sys
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from dcgan_core.averaging import WeightAverage, check_decay
from dcgan_core.checkpoint import Checkpoint, check_compatible
from dcgan_core.data import DatasetSpec
from dcgan_core.device import pick_device
from dcgan_core.fastpath import check_mode, make_fast_step
from dcgan_core.i18n import LabError
from dcgan_core.models import DCGANConfig, build_models

# The paper (§4): Adam, lr 0.0002 (0.001 was too high), β1 0.5 (0.9 oscillated), minibatch 128.
PAPER_LR = 2e-4
PAPER_BETA1 = 0.5
PAPER_BATCH = 128
PAPER_BETA2 = 0.999  # not stated in the paper: Adam's (and the reference code's) default

# Columns of one step's metrics tensor, in order.
METRICS = ("loss_d", "loss_g", "d_real", "d_fake_before", "d_fake_after")


@dataclass
class TrainConfig:
    model: DCGANConfig = field(default_factory=lambda: DCGANConfig(image_size=32, channels=1))
    dataset: DatasetSpec = field(default_factory=DatasetSpec)
    batch_size: int = PAPER_BATCH
    lr: float = PAPER_LR
    beta1: float = PAPER_BETA1
    beta2: float = 0.999
    seed: int = 0
    device: str = "auto"
    max_steps: int = 2000
    sample_every: int = 50
    checkpoint_every: int = 500
    n_fixed: int = 64
    mode: str = "auto"  # the step: "auto" (a CUDA graph on CUDA, else eager) | "eager" | "cuda_graph" | "compile"
    amp: bool = False  # bf16 autocast for the forward passes
    # Decay of a moving average of G's weights that the shown and scored samples come from
    # (dcgan_core.averaging); 0 = off: the paper shows the trained G itself.
    ema: float = 0.0
    # On a CPU, keep weights and activations channels-last, the layout oneDNN's convolutions run
    # quickest on. The same maths, rounded differently. Ignored on other devices.
    channels_last: bool = False

    def __post_init__(self):
        # The images must be what the networks were built for.
        self.dataset = replace(self.dataset, image_size=self.model.image_size, channels=self.model.channels)
        if not 1 <= self.batch_size <= 4096:
            raise LabError("trainer.batch_size", value=self.batch_size)
        check_optimizer_settings(self.lr, self.beta1, self.beta2)
        check_decay(self.ema)
        check_mode(self.mode)
        for name in ("max_steps", "sample_every", "checkpoint_every", "n_fixed"):
            if getattr(self, name) < 1:
                raise LabError("errors.config_positive", name=name, value=getattr(self, name))

    def to_dict(self) -> dict:
        values = asdict(self)
        values["model"] = self.model.to_dict()
        values["dataset"] = asdict(self.dataset)
        return values

    @classmethod
    def from_dict(cls, values: dict) -> TrainConfig:
        known = {k: v for k, v in values.items() if k in cls.__dataclass_fields__}
        if isinstance(known.get("model"), dict):
            known["model"] = DCGANConfig.from_dict(known["model"])
        if isinstance(known.get("dataset"), dict):
            spec_fields = DatasetSpec.__dataclass_fields__
            known["dataset"] = DatasetSpec(**{k: v for k, v in known["dataset"].items() if k in spec_fields})
        return cls(**known)


def check_optimizer_settings(lr: float, beta1: float, beta2: float = 0.999) -> None:
    if not (math.isfinite(lr) and 0 < lr <= 1):
        raise LabError("trainer.lr", value=lr)
    for name, beta in (("β1", beta1), ("β2", beta2)):
        if not (math.isfinite(beta) and 0 <= beta < 1):
            raise LabError("trainer.beta", name=name, value=beta)


def paper_defaults(**overrides) -> TrainConfig:
    """The paper's settings at 64×64 colour."""
    values = dict(
        model=DCGANConfig(image_size=64, channels=3),
        dataset=DatasetSpec(source="cifar10"),
        batch_size=PAPER_BATCH,
        lr=PAPER_LR,
        beta1=PAPER_BETA1,
        max_steps=20000,
        sample_every=100,
        checkpoint_every=1000,
    )
    values.update(overrides)
    return TrainConfig(**values)


def with_paper_recipe(config: TrainConfig) -> TrainConfig:
    """The same networks, data and batch trained the paper's way (§4): Adam with lr 0.0002 and
    β1 0.5 for both networks, and the samples drawn by the trained G itself (no weight average)."""
    return replace(config, lr=PAPER_LR, beta1=PAPER_BETA1, beta2=PAPER_BETA2, ema=0.0)


def classroom_defaults(device: str | torch.device = "auto") -> TrainConfig:
    """Settings that show digits quickly on the device at hand (32×32 MNIST).

    On a GPU: the paper's widths (ngf = ndf = 64, nz 100), batch 128 and optimiser.

    On a CPU (issue 15: recognisable digits in under 45 s of training on two cores): G keeps
    ngf 32 but D is halved to ndf 16 and the batch to 32, so a step costs a fraction of the
    earlier ngf = ndf = 32, batch 64; Adam's rate is 0.001 (the paper found 0.001 too high for
    its long runs; here it reaches digits in fewer steps); weights and activations are
    channels-last. No weight average (``ema``): in trials it did not reach digits sooner. benchmarks/time_to_digits.py measures it against the paper's
    recipe at the earlier size (``paper_recipe_at_classroom_size``); the figures are in
    benchmarks/results/time_to_digits.jsonl.
    """
    device = pick_device(device)
    if device.type == "cuda":
        model = DCGANConfig(image_size=32, channels=1, nz=100, ngf=64, ndf=64)
        return TrainConfig(
            model=model,
            dataset=DatasetSpec(source="bundled"),
            batch_size=PAPER_BATCH,
            device="auto",
            max_steps=3000,
            sample_every=50,
            checkpoint_every=500,
        )
    model = DCGANConfig(image_size=32, channels=1, nz=64, ngf=32, ndf=16)
    return TrainConfig(
        model=model,
        dataset=DatasetSpec(source="bundled"),
        batch_size=32,
        lr=1e-3,
        beta1=PAPER_BETA1,
        channels_last=True,
        device="auto",
        max_steps=1500,
        sample_every=25,
        checkpoint_every=250,
    )


def paper_recipe_at_classroom_size(device: str | torch.device = "auto") -> TrainConfig:
    """The paper's recipe (``with_paper_recipe``) on the classroom's data, at the size the CPU
    classroom default had before issue 15 (ngf = ndf = 32, nz 64, batch 64): what
    ``classroom_defaults`` gave until then. On a GPU, the GPU classroom default."""
    config = with_paper_recipe(classroom_defaults(device))
    if pick_device(device).type == "cuda":
        return config
    return replace(config, model=replace(config.model, ngf=32, ndf=32, nz=64), batch_size=64)


def make_adam(params, lr: float, beta1: float, beta2: float, device: torch.device) -> torch.optim.Adam:
    """Fused Adam where the backend has it (one kernel, no host reads), else foreach."""
    params = list(params)
    try:
        return torch.optim.Adam(params, lr=lr, betas=(beta1, beta2), fused=True)
    except (RuntimeError, TypeError, ValueError):
        return torch.optim.Adam(params, lr=lr, betas=(beta1, beta2), foreach=device.type != "cpu")


def make_train_step(netG, netD, opt_g, opt_d, *, netD_for_g=None, autocast_dtype=None):
    """One D update on real + fake, then one G update; returns a (5,) tensor
    ``METRICS`` on the device. Pure tensor code with fixed shapes: no host reads.

    ``netD_for_g``: the module for D's pass inside G's update (default netD);
    under DistributedDataParallel it is the unwrapped D, whose frozen weights
    need no gradient synchronisation. ``autocast_dtype`` (e.g. torch.bfloat16)
    runs the forward passes under autocast."""
    d_params = list(netD.parameters())
    netD_for_g = netD if netD_for_g is None else netD_for_g
    device_type = next(netG.parameters()).device.type

    def forward_precision():
        if autocast_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type, dtype=autocast_dtype, cache_enabled=False)  # no cache: CUDA-graph safe

    def train_step(real: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        # D: maximise log D(x) + log(1 − D(G(z))). Real and fake go in separate
        # minibatches, so batchnorm never mixes them.
        with forward_precision():
            fake = netG(noise)
            real_logits = netD(real)
            fake_logits = netD(fake.detach())
            loss_d = F.binary_cross_entropy_with_logits(
                real_logits, torch.ones_like(real_logits)
            ) + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()

        # G: the non-saturating loss, maximise log D(G(z)) (strong gradients early on).
        for p in d_params:
            p.requires_grad_(False)  # D's weights need no gradient here
        with forward_precision():
            gen_logits = netD_for_g(fake)
            loss_g = F.binary_cross_entropy_with_logits(gen_logits, torch.ones_like(gen_logits))
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        for p in d_params:
            p.requires_grad_(True)

        return torch.stack(
            [
                loss_d.detach().float(),
                loss_g.detach().float(),
                torch.sigmoid(real_logits.detach().float()).mean(),
                torch.sigmoid(fake_logits.detach().float()).mean(),  # D(G(z)) before D's update
                torch.sigmoid(gen_logits.detach().float()).mean(),  # D(G(z)) after it, on G's step
            ]
        )

    return train_step


class Trainer:
    """Models, optimizers, the resident dataset and the random streams of one run."""

    def __init__(
        self,
        config: TrainConfig,
        images: torch.Tensor,
        device: str | torch.device | None = None,
        checkpoint: Checkpoint | None = None,
    ):
        self.config = config
        self.device = pick_device(config.device if device is None else device)
        cfg = config.model
        expected = (cfg.channels, cfg.image_size, cfg.image_size)
        if images.dim() != 4 or tuple(images.shape[1:]) != expected or images.shape[0] < 1:
            raise LabError(
                "trainer.data_shape",
                found="×".join(map(str, images.shape)),
                expected="N×" + "×".join(map(str, expected)),
            )
        if self.device.type == "cuda":
            torch.backends.cudnn.benchmark = True  # shapes never change: tune once
        self.images = images.to(self.device, torch.float32).contiguous()
        self.netG, self.netD = build_models(cfg, seed=config.seed)
        self.netG.to(self.device).train()
        self.netD.to(self.device).train()
        if config.channels_last and self.device.type == "cpu":
            self.netG.to(memory_format=torch.channels_last)
            self.netD.to(memory_format=torch.channels_last)
        self.opt_g = make_adam(self.netG.parameters(), config.lr, config.beta1, config.beta2, self.device)
        self.opt_d = make_adam(self.netD.parameters(), config.lr, config.beta1, config.beta2, self.device)
        self.rng = torch.Generator(device=self.device)
        self.rng.manual_seed(config.seed)
        self.fixed_noise = torch.randn(config.n_fixed, cfg.nz, 1, 1, generator=self.rng, device=self.device)
        self.step_count = 0
        self.average = WeightAverage(self.netG, config.ema) if config.ema else None
        if checkpoint is not None:
            self.load_state(checkpoint)
        self.build_step()

    def build_step(self) -> None:
        """(Re)build the step per ``config.mode`` (see dcgan_core.fastpath);
        ``mode_used`` and ``mode_reason`` say what runs and why."""
        self._fast_step = None  # a previous CUDA graph's memory goes first
        self._fast_step, self.mode_used, self.mode_reason = make_fast_step(self, self.config.mode, self.config.amp)
        self.train_step = self._fast_step.train_step  # (real, noise) -> metrics, eager

    @property
    def num_images(self) -> int:
        return self.images.shape[0]

    @property
    def epoch(self) -> float:
        return self.step_count * self.config.batch_size / self.num_images

    def step(self) -> torch.Tensor:
        """One D update and one G update; returns the step's metrics on the device.
        Minibatch indices and noise are drawn from ``self.rng`` on the device."""
        metrics = self._fast_step()
        self.step_count += 1
        if self.average is not None:
            self.average.update(self.netG)
        return metrics

    @property
    def shown_generator(self) -> torch.nn.Module:
        """The generator whose pictures the run shows and scores: the moving average of G's
        weights when ``config.ema`` is on, else G itself."""
        return self.netG if self.average is None else self.average.module

    def set_hyperparameters(self, lr: float | None = None, beta1: float | None = None) -> None:
        """Change Adam's lr / β1 between steps (applied to both optimizers)."""
        lr = self.config.lr if lr is None else float(lr)
        beta1 = self.config.beta1 if beta1 is None else float(beta1)
        check_optimizer_settings(lr, beta1, self.config.beta2)
        for opt in (self.opt_g, self.opt_d):
            for group in opt.param_groups:
                group["lr"] = lr
                group["betas"] = (beta1, group["betas"][1])
        self.config = replace(self.config, lr=lr, beta1=beta1)
        if getattr(self, "mode_used", "eager") != "eager":
            self.build_step()  # a captured graph holds the old lr and β1

    @torch.no_grad()
    def samples(self, noise: torch.Tensor | None = None) -> torch.Tensor:
        """The shown generator's images for ``noise`` (default: the fixed noise) in eval mode,
        as the checkpoint would give."""
        noise = self.fixed_noise if noise is None else noise
        if self.average is not None:
            return self.average.module(noise)  # always in eval mode
        self.netG.eval()
        try:
            return self.netG(noise)
        finally:
            self.netG.train()

    def weights_finite(self) -> bool:
        """One host read: are all parameters and batchnorm statistics finite?"""
        tensors = [t for m in (self.netG, self.netD) for t in m.state_dict().values() if t.is_floating_point()]
        return bool(torch.stack([torch.isfinite(t).all() for t in tensors]).all())

    def state(self, metrics: dict | None = None) -> dict:
        """Keyword arguments for ``checkpoint.save_checkpoint``."""
        return dict(
            model_config=self.config.model,
            generator=self.netG,
            discriminator=self.netD,
            step=self.step_count,
            opt_g=self.opt_g,
            opt_d=self.opt_d,
            fixed_noise=self.fixed_noise,
            train_config=self.config.to_dict(),
            metrics=metrics or {},
            rng_state=self.rng.get_state(),
            generator_average=self.average.state_dict() if self.average is not None else None,
        )

    def load_state(self, ckpt: Checkpoint) -> None:
        check_compatible(ckpt.model_config, self.config.model)
        self.netG.load_state_dict(ckpt.generator)
        self.netD.load_state_dict(ckpt.discriminator)
        if self.average is not None:  # the saved average goes on; without one it starts from the loaded G
            self.average = WeightAverage(self.netG, self.config.ema)
            if ckpt.generator_average is not None:
                self.average.load_state_dict(ckpt.generator_average)
        if ckpt.opt_g is not None and ckpt.opt_d is not None:
            self.opt_g.load_state_dict(ckpt.opt_g)
            self.opt_d.load_state_dict(ckpt.opt_d)
            self.set_hyperparameters(self.config.lr, self.config.beta1)  # this run's settings win
        if ckpt.fixed_noise is not None and ckpt.fixed_noise.shape[1] == self.config.model.nz:
            self.fixed_noise = ckpt.fixed_noise.to(self.device)
        if ckpt.rng_state is not None:
            try:
                self.rng.set_state(ckpt.rng_state.cpu())
            except RuntimeError:  # saved on another kind of device: keep this run's seed
                pass
        self.step_count = ckpt.step


# ---- reading the curves -------------------------------------------------------


def diagnose(history: np.ndarray, window: int = 50) -> list[str]:
    """Warning keys for the recent steps of a (n, 1 + len(METRICS)) history
    (columns: step, then METRICS)."""
    history = np.asarray(history, dtype=np.float64)
    if history.ndim != 2 or len(history) == 0:
        return []
    recent = history[-window:, 1:]
    loss_d, loss_g, d_real, d_fake = recent[:, 0], recent[:, 1], recent[:, 2], recent[:, 3]
    warnings = []
    if not np.isfinite(recent).all() or np.nanmax(np.abs(recent[:, :2])) > 50:
        warnings.append("trainer.warn_exploding")
        return warnings
    if len(history) >= window:
        earlier_g = history[-2 * window : -window, 2] if len(history) >= 2 * window else loss_g[: window // 2]
        if loss_d.mean() < 0.1 and loss_g.mean() > 4 and loss_g.mean() >= earlier_g.mean():
            warnings.append("trainer.warn_d_wins")
        elif d_real.mean() > 0.97 and d_fake.mean() < 0.03:
            warnings.append("trainer.warn_d_wins")
    return warnings


def sample_diversity(images: torch.Tensor | np.ndarray) -> float:
    """Mean per-pixel standard deviation across a batch of samples (in [-1, 1] units):
    near 0 when the generator draws the same picture for every z (mode collapse)."""
    images = torch.as_tensor(images, dtype=torch.float32)
    return float(images.std(dim=0).mean())


# ---- command line -------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m dcgan_core.train", description="Train a DCGAN (Radford et al. 2015)."
    )
    parser.add_argument(
        "--dataset", default="bundled", choices=["bundled", "mnist", "fashion_mnist", "cifar10", "folder", "zip"]
    )
    parser.add_argument("--data-path", default=None, help="image folder or .zip for --dataset folder/zip")
    parser.add_argument("--limit", type=int, default=None, help="use at most this many images")
    parser.add_argument("--image-size", type=int, default=32, choices=[32, 64, 128])
    parser.add_argument(
        "--channels", type=int, default=None, choices=[1, 3], help="default: 1 for MNIST-like sets, else 3"
    )
    parser.add_argument("--ngf", type=int, default=None)
    parser.add_argument("--ndf", type=int, default=None)
    parser.add_argument("--nz", type=int, default=None)
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--lr", type=float, default=None)
    parser.add_argument("--beta1", type=float, default=None)
    parser.add_argument("--steps", type=int, default=200, help="steps to run now (added to a resumed run's count)")
    parser.add_argument("--sample-every", type=int, default=None)
    parser.add_argument("--checkpoint-every", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads (default: all cores)")
    parser.add_argument("--resume", default=None, metavar="PATH", help="checkpoint to continue from")
    parser.add_argument("--out", default="runs/demo", help="folder for checkpoint.pt, metrics.jsonl and samples/")
    parser.add_argument(
        "--mode",
        default=None,
        choices=["auto", "eager", "cuda_graph", "compile"],
        help="the training step: auto (default) = one CUDA graph per step on CUDA, eager elsewhere",
    )
    parser.add_argument("--amp", action="store_true", default=None, help="bf16 autocast for the forward passes")
    from dcgan_core.distributed import add_arguments as add_distributed_arguments

    add_distributed_arguments(parser)
    return parser


def config_from_args(args: argparse.Namespace) -> tuple[TrainConfig, Checkpoint | None]:
    from dcgan_core.checkpoint import load_checkpoint

    device = pick_device(args.device)
    base = classroom_defaults(device)
    resumed = None
    if args.resume:
        resumed = load_checkpoint(args.resume)
        base = TrainConfig.from_dict({**resumed.train_config, "model": resumed.model_config.to_dict()})
        model = resumed.model_config
    else:
        grey = args.dataset in ("bundled", "mnist", "fashion_mnist")
        channels = args.channels or (1 if grey else 3)
        model = replace(base.model, image_size=args.image_size, channels=channels)
    model = replace(model, **{k: getattr(args, k) for k in ("ngf", "ndf", "nz") if getattr(args, k) is not None})
    if resumed is not None:
        check_compatible(resumed.model_config, model)
    dataset = base.dataset
    if not args.resume or args.dataset != "bundled" or args.data_path:
        dataset = DatasetSpec(source=args.dataset, path=args.data_path, limit=args.limit)
    start = resumed.step if resumed is not None else 0
    overrides = {
        k: getattr(args, k)
        for k in ("batch_size", "lr", "beta1", "sample_every", "checkpoint_every", "mode", "amp")
        if getattr(args, k, None) is not None
    }
    config = replace(
        base,
        model=model,
        dataset=dataset,
        seed=args.seed,
        device=args.device,
        max_steps=start + args.steps,
        **overrides,
    )
    return config, resumed


def _progress_line(snap) -> str:
    width = 30
    done = snap.step / max(1, snap.max_steps)
    bar = "#" * int(width * done) + "-" * (width - int(width * done))
    last = snap.last_metrics
    losses = f" D {last['loss_d']:.3f} G {last['loss_g']:.3f} D(x) {last['d_real']:.2f}" if last else ""
    eta = f" ETA {format_seconds(snap.eta_seconds)}" if snap.eta_seconds is not None else ""
    return f"\r[{bar}] {snap.step}/{snap.max_steps}{losses} {snap.images_per_sec:.0f} img/s{eta}   "


def format_seconds(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "–"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def main(argv: list[str] | None = None) -> int:
    from dcgan_core.job import TrainingJob

    args = build_parser().parse_args(argv)
    from dcgan_core import distributed

    if distributed.launched_by_torchrun():  # torchrun -m dcgan_core.train: DistributedDataParallel
        return distributed.main(args)
    try:
        config, resumed = config_from_args(args)
        job = TrainingJob(
            config, run_dir=Path(args.out), resume=resumed, cpu_threads=args.threads or os.cpu_count() or 1
        )
    except LabError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(
        f"DCGAN {config.model.image_size}×{config.model.image_size}×{config.model.channels} "
        f"(ngf {config.model.ngf}, ndf {config.model.ndf}, nz {config.model.nz}), batch {config.batch_size}, "
        f"lr {config.lr:g}, β1 {config.beta1:g} → {Path(args.out).resolve()}",
        file=sys.stderr,
    )
    job.start()
    try:
        while not job.wait(0.5):
            print(_progress_line(job.snapshot()), end="", file=sys.stderr, flush=True)
    except KeyboardInterrupt:
        job.stop()
        job.wait()
    snap = job.snapshot()
    print(_progress_line(snap), file=sys.stderr)
    if snap.message_key:
        print(LabError(snap.message_key, **snap.message_params), file=sys.stderr)
    if snap.device:
        print(f"device: {snap.device}", file=sys.stderr)
    return 0 if snap.status in ("finished", "stopped") else 1


if __name__ == "__main__":
    import dcgan_core.train as _train  # one copy of the classes, not a second __main__ one

    sys.exit(_train.main())
