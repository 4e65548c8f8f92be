"""An exponential moving average (EMA) of the generator's weights, for the samples a run shows.

Not in the DCGAN paper: a later habit of GAN training (Karras et al. 2018,
Yazıcı et al. 2019). The averaged copy never trains; after every step it moves
a little towards the trained generator, so the step-to-step jitter of the
adversarial game averages out of the pictures.

The average is bias-corrected (as Adam corrects its moments): after t updates
with decay d it is Σᵢ dᵗ⁻ⁱ wᵢ / Σᵢ dᵗ⁻ⁱ, a weighted mean of the weights seen so
far, so the initial weights weigh nothing once training has moved on. The
recursion is ``a ← a + (1 − βₜ)(w − a)`` with ``βₜ = d (1 − dᵗ⁻¹) / (1 − dᵗ)``
(β₁ = 0: the first update copies). Batchnorm's running statistics are averaged
the same way; integer buffers (the batch counter) are copied.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from dcgan_core.i18n import LabError

# The decay the Train page's switch uses: a horizon of about 50 steps, short enough to follow a
# classroom run of a few hundred steps (0.995 lagged far behind at step 400: benchmarks/RESULTS.md).
SHOWN_DECAY = 0.98


def check_decay(decay: float) -> None:
    """0 turns the average off; otherwise 0 < decay < 1."""
    if not (isinstance(decay, (int, float)) and 0 <= decay < 1):
        raise LabError("trainer.ema_decay", value=decay)


def step_weight(decay: float, updates: int) -> float:
    """βₜ for update number ``updates`` (1-based): how much of the old average stays."""
    return decay * (1 - decay ** (updates - 1)) / (1 - decay**updates)


class WeightAverage:
    """A frozen copy of ``module`` that follows its weights by a bias-corrected EMA."""

    def __init__(self, module: nn.Module, decay: float):
        check_decay(decay)
        if decay == 0:
            raise LabError("trainer.ema_decay", value=decay)
        self.decay = float(decay)
        self.updates = 0
        self.module = copy.deepcopy(module).eval()
        self.module.requires_grad_(False)

    @torch.no_grad()
    def update(self, module: nn.Module) -> None:
        self.updates += 1
        keep = step_weight(self.decay, self.updates)
        averaged = [t for t in self._floats(self.module)]
        live = [t.detach() for t in self._floats(module)]
        torch._foreach_lerp_(averaged, live, 1.0 - keep)
        for mine, theirs in zip(self.module.buffers(), module.buffers(), strict=False):
            if not mine.is_floating_point():
                mine.copy_(theirs)

    @staticmethod
    def _floats(module: nn.Module) -> list[torch.Tensor]:
        return [*module.parameters(), *(b for b in module.buffers() if b.is_floating_point())]

    def state_dict(self) -> dict:
        return {"decay": self.decay, "updates": self.updates, "weights": self.module.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.module.load_state_dict(state["weights"])
        self.updates = int(state.get("updates", 0))
