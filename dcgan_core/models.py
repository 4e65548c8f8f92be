"""DCGAN generator and discriminator (Radford, Metz & Chintala 2015, §3).

The paper's guidelines, each a switch in DCGANConfig so the guidelines lab
can break them one at a time:
  1. strided convolutions in D, fractionally-strided convolutions in G (no pooling);
  2. batchnorm in both, except G's output layer and D's input layer;
  3. no fully connected hidden layers;
  4. ReLU in G, Tanh on G's output;
  5. LeakyReLU (slope 0.2) in D.
With image_size 64, channels 3 and the defaults, the layers and parameter
counts equal pytorch/examples' dcgan (G 3,576,704; D 2,765,568).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from torch import nn

from dcgan_core.i18n import LabError

IMAGE_SIZES = (32, 64, 128)


@dataclass
class DCGANConfig:
    image_size: int = 64
    channels: int = 3
    nz: int = 100
    ngf: int = 64
    ndf: int = 64
    batchnorm: str = "paper"  # "paper" | "none" | "all" (also G's output and D's input)
    resampling: str = "strided"  # "strided" | "pooling" (upsample+conv in G, conv+maxpool in D)
    g_activation: str = "relu"  # "relu" | "leaky_relu"
    d_activation: str = "leaky_relu"  # "leaky_relu" | "relu"
    fc_hidden: bool = False  # add fully connected hidden layers to both nets
    g_output: str = "tanh"  # "tanh" | "linear"

    def __post_init__(self):
        if self.image_size not in IMAGE_SIZES:
            raise LabError("errors.image_size", size=self.image_size, allowed=", ".join(map(str, IMAGE_SIZES)))
        if self.channels not in (1, 3):
            raise LabError("errors.channels", channels=self.channels)
        for name, allowed in {
            "batchnorm": ("paper", "none", "all"),
            "resampling": ("strided", "pooling"),
            "g_activation": ("relu", "leaky_relu"),
            "d_activation": ("leaky_relu", "relu"),
            "g_output": ("tanh", "linear"),
        }.items():
            if getattr(self, name) not in allowed:
                raise LabError("errors.config_choice", name=name, value=getattr(self, name), allowed=", ".join(allowed))
        for name in ("nz", "ngf", "ndf"):
            if getattr(self, name) < 1:
                raise LabError("errors.config_positive", name=name, value=getattr(self, name))

    @property
    def num_upsamplings(self) -> int:
        """Layers that double the size: 4 → image_size."""
        return int(math.log2(self.image_size)) - 2

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> DCGANConfig:
        known = {k: v for k, v in values.items() if k in cls.__dataclass_fields__}
        return cls(**known)


def _activation(name: str) -> nn.Module:
    return nn.ReLU(True) if name == "relu" else nn.LeakyReLU(0.2, inplace=True)


def _norm(cfg: DCGANConfig, channels: int, edge_layer: bool) -> list[nn.Module]:
    """BatchNorm per the config; edge layers (G's output, D's input) only with 'all'."""
    if cfg.batchnorm == "none" or (edge_layer and cfg.batchnorm != "all"):
        return []
    return [nn.BatchNorm2d(channels)]


def _bias(cfg: DCGANConfig) -> bool:
    # The reference has no conv biases (batchnorm's shift replaces them); without batchnorm they return.
    return cfg.batchnorm == "none"


class Generator(nn.Module):
    def __init__(self, cfg: DCGANConfig):
        super().__init__()
        self.cfg = cfg
        n = cfg.num_upsamplings
        widths = [cfg.ngf * 2 ** (n - 1 - j) for j in range(n)]  # e.g. 64px: ngf*8, *4, *2, *1
        bias = _bias(cfg)
        layers: list[nn.Module] = []
        if cfg.fc_hidden:
            layers += [
                nn.Flatten(),
                nn.Linear(cfg.nz, 1024, bias=bias),
                *([nn.BatchNorm1d(1024)] if cfg.batchnorm != "none" else []),
                _activation(cfg.g_activation),
                nn.Linear(1024, widths[0] * 16, bias=bias),
                nn.Unflatten(1, (widths[0], 4, 4)),
            ]
        else:
            # Project z to a 4x4 map: a transposed conv on a 1x1 input is the paper's matrix multiplication.
            layers += [nn.ConvTranspose2d(cfg.nz, widths[0], 4, 1, 0, bias=bias)]  # (ngf*8) x 4 x 4 at 64px
        layers += [*_norm(cfg, widths[0], False), _activation(cfg.g_activation)]
        for j in range(n):
            c_in = widths[j]
            c_out = widths[j + 1] if j + 1 < n else cfg.channels
            last = j + 1 == n
            if cfg.resampling == "strided":
                layers.append(nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=bias))
            else:
                layers += [nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(c_in, c_out, 3, 1, 1, bias=bias)]
            # size doubles: 4 → 8 → … → image_size
            if last:
                layers += _norm(cfg, c_out, True)
                if cfg.g_output == "tanh":
                    layers.append(nn.Tanh())
            else:
                layers += [*_norm(cfg, c_out, False), _activation(cfg.g_activation)]
        self.main = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if z.dim() == 2:
            z = z[:, :, None, None]
        return self.main(z)  # nc x image_size x image_size


class Discriminator(nn.Module):
    """Returns logits, shape (N,): the loss applies the sigmoid (BCE with logits),
    which is numerically safer and allowed under autocast, unlike Sigmoid + BCELoss."""

    def __init__(self, cfg: DCGANConfig):
        super().__init__()
        self.cfg = cfg
        n = cfg.num_upsamplings
        widths = [cfg.ndf * 2**j for j in range(n)]  # e.g. 64px: ndf, *2, *4, *8
        bias = _bias(cfg)
        layers: list[nn.Module] = []
        c_in = cfg.channels
        for j, c_out in enumerate(widths):
            if cfg.resampling == "strided":
                layers.append(nn.Conv2d(c_in, c_out, 4, 2, 1, bias=bias))
            else:
                layers += [nn.Conv2d(c_in, c_out, 3, 1, 1, bias=bias), nn.MaxPool2d(2)]
            # size halves: image_size → … → 4
            layers += [*_norm(cfg, c_out, j == 0), _activation(cfg.d_activation)]
            c_in = c_out
        if cfg.fc_hidden:
            layers += [
                nn.Flatten(),
                nn.Linear(c_in * 16, 1024, bias=bias),
                _activation(cfg.d_activation),
                nn.Linear(1024, 1),
            ]
        else:
            layers.append(nn.Conv2d(c_in, 1, 4, 1, 0, bias=False))  # 1 x 1 x 1
        self.main = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.main(x).reshape(-1)

    def probability(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self(x))


def weights_init(module: nn.Module) -> None:
    """The paper's init: all weights from N(0, 0.02); batchnorm scale N(1, 0.02), shift 0."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, (nn.BatchNorm2d, nn.BatchNorm1d)):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


def build_models(cfg: DCGANConfig, seed: int | None = None) -> tuple[Generator, Discriminator]:
    if seed is not None:
        torch.manual_seed(seed)
    netG, netD = Generator(cfg), Discriminator(cfg)
    netG.apply(weights_init)
    netD.apply(weights_init)
    return netG, netD


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
