"""A run's state and its step: ``Trainer`` (networks, optimisers, the resident dataset, the
random stream), and reading its curves (``diagnose``, ``sample_diversity``).

Fast path by design: the whole dataset lives on the training device, minibatch indices
and noise are drawn there, and ``Trainer.step`` never waits for the device (no
``.item()``): its metrics stay device tensors until a driver reads them a few times a
second. ``TrainConfig.mode`` picks how the step runs (``dcgan_core.fastpath``).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import torch

from dcgan_core.averaging import WeightAverage
from dcgan_core.checkpoint import Checkpoint, check_compatible
from dcgan_core.config import TrainConfig, check_optimizer_settings
from dcgan_core.device import pick_device
from dcgan_core.fastpath import make_fast_step
from dcgan_core.i18n import LabError
from dcgan_core.models import build_models
from dcgan_core.step import make_adam


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
