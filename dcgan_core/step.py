"""The textbook DCGAN training step (the paper's §3–4) and its optimiser.

``make_train_step`` builds a function of two fixed-shape tensors (the real minibatch
and the noise) that updates D, then G, and returns the step's ``METRICS`` on the
device. ``dcgan_core.fastpath`` runs this same step eagerly, as one CUDA graph, or
compiled; the tests check every mode against it.
"""

from __future__ import annotations

import contextlib

import torch
import torch.nn.functional as F


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
