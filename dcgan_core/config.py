"""What a training run is: ``TrainConfig``, its checks, the paper's optimiser settings,
the names of a step's metrics and the step modes.

The bottom of the training core: it imports no other training module, and every one
of them (step, trainer, rundir, the drivers, the command line) imports it.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace

from dcgan_core.averaging import check_decay
from dcgan_core.data import DatasetSpec
from dcgan_core.i18n import LabError
from dcgan_core.models import DCGANConfig

# The paper (§4): Adam, lr 0.0002 (0.001 was too high), β1 0.5 (0.9 oscillated), minibatch 128.
PAPER_LR = 2e-4
PAPER_BETA1 = 0.5
PAPER_BATCH = 128
PAPER_BETA2 = 0.999  # not stated in the paper: Adam's (and the reference code's) default

# Columns of one step's metrics tensor, in order.
METRICS = ("loss_d", "loss_g", "d_real", "d_fake_before", "d_fake_after")

# How the step runs (dcgan_core.fastpath): "auto" is a CUDA graph on CUDA, else eager.
MODES = ("auto", "eager", "cuda_graph", "compile")


def check_mode(mode: str) -> str:
    if mode not in MODES:
        raise LabError("scaling.bad_mode", mode=mode, allowed=", ".join(MODES))
    return mode


def check_optimizer_settings(lr: float, beta1: float, beta2: float = 0.999) -> None:
    if not (math.isfinite(lr) and 0 < lr <= 1):
        raise LabError("trainer.lr", value=lr)
    for name, beta in (("β1", beta1), ("β2", beta2)):
        if not (math.isfinite(beta) and 0 <= beta < 1):
            raise LabError("trainer.beta", name=name, value=beta)


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

    @classmethod
    def from_checkpoint(cls, checkpoint) -> TrainConfig:
        """The settings a checkpoint was trained with, its networks' exact architecture included."""
        return cls.from_dict({**checkpoint.train_config, "model": checkpoint.model_config.to_dict()})
