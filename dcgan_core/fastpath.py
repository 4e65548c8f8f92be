"""The training step, fast: eager, one CUDA graph per step, or torch.compile.

    step, mode_used, reason = make_fast_step(trainer, mode="auto", amp=False)
    metrics = step()  # one D update and one G update; (5,) metrics on the device

``step()`` does what ``Trainer.step`` promises: draw the minibatch indices
and the noise from the trainer's generator on the device, gather the real
images from the resident dataset, update D, update G, and return the
metrics tensor without ever reading a value on the host.

Modes
  eager       the step of ``step.make_train_step``, launched op by op. Used
              on CPU and MPS, under DistributedDataParallel, and whenever
              another mode cannot run.
  cuda_graph  the whole step (index and noise drawn inside the graph, G and D
              forward and backward, both fused Adam steps with
              capturable=True) recorded once as a CUDA graph and replayed:
              one launch per step instead of a few hundred kernel launches,
              which is what limits a small DCGAN on a fast GPU.
  compile     G and D compiled with ``torch.compile(mode="reduce-overhead")``;
              the losses, backward passes and fused Adam steps stay eager.
  auto        cuda_graph on CUDA, eager elsewhere.

Every failure to capture or compile falls back to eager and says why
(``reason``, also logged); the run continues from exactly the weights,
optimizer state and random stream it had, because the warm-up and trial
steps that capture and compile need are undone in place afterwards.

Only ``torch.optim.Adam`` (what ``step.make_adam`` builds) is supported:
the undo resets Adam's moments and step counters.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from dataclasses import dataclass

import torch
from torch import nn

from dcgan_core.config import check_mode
from dcgan_core.step import make_train_step

WARMUP_STEPS = 3  # before capture: cuDNN autotuning, cuBLAS handles, Adam's lazy state
log = logging.getLogger(__name__)


@dataclass
class StepParts:
    """What a step needs; ``parts_of(trainer)`` takes them from a Trainer."""

    netG: nn.Module
    netD: nn.Module
    opt_g: torch.optim.Optimizer
    opt_d: torch.optim.Optimizer
    images: torch.Tensor  # (N, C, H, W) on the training device
    rng: torch.Generator  # on the same device
    batch_size: int
    nz: int
    wrapped: tuple[nn.Module, nn.Module] | None = None  # (G, D) inside DistributedDataParallel

    @property
    def device(self) -> torch.device:
        return self.images.device

    @property
    def optimizers(self) -> tuple[torch.optim.Optimizer, torch.optim.Optimizer]:
        return self.opt_g, self.opt_d


def parts_of(source) -> StepParts:
    if isinstance(source, StepParts):
        return source
    return StepParts(
        netG=source.netG,
        netD=source.netD,
        opt_g=source.opt_g,
        opt_d=source.opt_d,
        images=source.images,
        rng=source.rng,
        batch_size=source.config.batch_size,
        nz=source.config.model.nz,
        wrapped=getattr(source, "ddp_modules", None),
    )


def make_fast_step(source, mode: str = "auto", amp: bool = False):
    """(step_fn, mode_used, reason): ``step_fn()`` runs one training step and returns
    the (5,) metrics tensor; ``reason`` says why ``mode_used`` differs from ``mode``
    ('' when it does not, or when ``mode`` is 'auto' and the choice was the plan)."""
    check_mode(mode)
    parts = parts_of(source)
    device = parts.device
    amp_dtype = torch.bfloat16 if amp else None
    wanted = ("cuda_graph" if device.type == "cuda" else "eager") if mode == "auto" else mode
    reason = ""
    if wanted != "eager" and parts.wrapped is not None:
        wanted, reason = "eager", "the step runs under DistributedDataParallel, which this app keeps eager"
    if wanted == "cuda_graph" and device.type != "cuda":
        wanted, reason = "eager", f"CUDA graphs need a CUDA device, and this run uses {device.type}"
    if wanted == "cuda_graph":
        snapshot = _Snapshot(parts)
        try:
            return _cuda_graph_step(parts, amp_dtype, snapshot), "cuda_graph", ""
        except Exception as err:  # noqa: BLE001 — any capture failure: train eagerly instead
            reason = f"CUDA graph capture failed ({type(err).__name__}: {str(err)[:200]})"
            _undo_failed_attempt(parts, snapshot)
    elif wanted == "compile":
        snapshot = _Snapshot(parts)
        try:
            return _compiled_step(parts, amp_dtype, snapshot), "compile", ""
        except Exception as err:  # noqa: BLE001
            reason = f"torch.compile failed ({type(err).__name__}: {str(err)[:200]})"
            _undo_failed_attempt(parts, snapshot)
    if reason:
        log.warning("training step: eager, because %s", reason)
    _set_capturable(parts, False)
    return _eager_step(parts, amp_dtype), "eager", reason


# ---- eager -------------------------------------------------------------------


def _eager_step(parts: StepParts, amp_dtype=None):
    g, d = parts.wrapped or (parts.netG, parts.netD)
    train_step = make_train_step(g, d, parts.opt_g, parts.opt_d, netD_for_g=parts.netD, autocast_dtype=amp_dtype)
    images, rng, b, nz, device = parts.images, parts.rng, parts.batch_size, parts.nz, parts.device
    n = images.shape[0]

    def step() -> torch.Tensor:
        index = torch.randint(n, (b,), generator=rng, device=device)
        real = images.index_select(0, index)
        noise = torch.randn(b, nz, 1, 1, generator=rng, device=device)
        return train_step(real, noise)

    step.train_step = train_step
    return step


# ---- CUDA graph ----------------------------------------------------------------


def _cuda_graph_step(parts: StepParts, amp_dtype, snapshot: _Snapshot):
    device = parts.device
    if parts.rng.device.type != "cuda":
        raise RuntimeError("the trainer's random generator is not on the GPU")
    _set_capturable(parts, True)
    body = _eager_step(parts, amp_dtype)
    # Warm up on a side stream (cuDNN picks its algorithms, Adam creates its state
    # outside the graph's memory), then put weights, moments and the random stream back.
    side = torch.cuda.Stream(device)
    side.wait_stream(torch.cuda.current_stream(device))
    with torch.cuda.stream(side), _quiet_capturable_warning():
        for _ in range(WARMUP_STEPS):
            body()
    torch.cuda.current_stream(device).wait_stream(side)
    torch.cuda.synchronize(device)
    snapshot.restore()
    for opt in parts.optimizers:
        opt.zero_grad(set_to_none=True)  # gradients get static buffers from the graph's pool

    graph = torch.cuda.CUDAGraph()
    graph.register_generator_state(parts.rng)  # each replay draws fresh indices and noise
    with torch.cuda.graph(graph, capture_error_mode="thread_local"):
        static_metrics = body()

    def step() -> torch.Tensor:
        graph.replay()
        return static_metrics.clone()  # the next replay overwrites static_metrics

    step.graph = graph  # keeps the graph and its memory alive as long as the step
    step.train_step = body.train_step
    return step


# ---- torch.compile ----------------------------------------------------------


def _compiled_step(parts: StepParts, amp_dtype, snapshot: _Snapshot):
    """G and D compiled as modules; the step around them (losses, backward, fused Adam)
    stays eager. Compiling the whole step function does not work: AOTAutograd would
    join D's loss and G's output in one backward node, which G's update then
    traverses a second time."""
    netG = torch.compile(parts.netG, mode="reduce-overhead")
    netD = torch.compile(parts.netD, mode="reduce-overhead")
    train_step = make_train_step(netG, netD, parts.opt_g, parts.opt_d, autocast_dtype=amp_dtype)
    images, rng, b, nz, device = parts.images, parts.rng, parts.batch_size, parts.nz, parts.device
    n = images.shape[0]
    mark_step = getattr(torch.compiler, "cudagraph_mark_step_begin", lambda: None)

    def step() -> torch.Tensor:
        index = torch.randint(n, (b,), generator=rng, device=device)
        real = images.index_select(0, index)
        noise = torch.randn(b, nz, 1, 1, generator=rng, device=device)
        mark_step()  # a new iteration: cudagraph outputs of the previous one may be reused
        return train_step(real, noise)

    # Compile now (errors surface here, not in the middle of a run), then undo the trial step.
    step()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    snapshot.restore()
    step.train_step = train_step
    return step


# ---- optimizer state, undo -------------------------------------------------------


def _set_capturable(parts: StepParts, capturable: bool) -> None:
    """Adam's ``capturable`` flag for every group, with each step counter where that
    setting expects it: on the parameter's device when capturable or fused, else on the CPU."""
    for opt in parts.optimizers:
        for group in opt.param_groups:
            if group.get("capturable", False) == capturable and not opt.state:
                continue
            group["capturable"] = capturable
            on_device = capturable or bool(group.get("fused"))
            for p in group["params"]:
                state = opt.state.get(p)
                if state and isinstance(state.get("step"), torch.Tensor):
                    target = p.device if on_device else torch.device("cpu")
                    state["step"] = state["step"].to(target, torch.float32)


@contextlib.contextmanager
def _quiet_capturable_warning():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*capturable=True.*")
        yield


class _Snapshot:
    """Weights, batchnorm statistics, Adam state and the random stream, to put back
    *in place* (same tensors, so a captured graph keeps pointing at them)."""

    def __init__(self, parts: StepParts):
        self.parts = parts
        self.modules = {
            id(m): {k: v.detach().clone() for k, v in m.state_dict().items()} for m in (parts.netG, parts.netD)
        }
        self.optim = []
        for opt in parts.optimizers:
            saved = {}
            for group in opt.param_groups:
                for p in group["params"]:
                    state = opt.state.get(p)
                    saved[p] = (
                        {k: v.detach().clone() for k, v in state.items() if isinstance(v, torch.Tensor)}
                        if state
                        else None
                    )
            self.optim.append((opt, saved))
        self.rng_state = parts.rng.get_state()

    @torch.no_grad()
    def restore(self) -> None:
        for m in (self.parts.netG, self.parts.netD):
            for k, v in m.state_dict().items():
                v.copy_(self.modules[id(m)][k])
        for opt, saved in self.optim:
            for p, before in saved.items():
                state = opt.state.get(p)
                if not state:
                    continue
                for k, v in state.items():
                    if not isinstance(v, torch.Tensor):
                        continue
                    if before is None:
                        v.zero_()  # Adam's fresh state: step 0, zero moments
                    elif k in before:
                        v.copy_(before[k].to(v.device, v.dtype))
        self.parts.rng.set_state(self.rng_state)


def _undo_failed_attempt(parts: StepParts, snapshot: _Snapshot) -> None:
    for p in parts.netD.parameters():
        p.requires_grad_(True)  # the step freezes D around G's update
    for opt in parts.optimizers:
        opt.zero_grad(set_to_none=True)
    try:
        snapshot.restore()
    except RuntimeError:  # e.g. a device left unusable; the eager step will say so
        pass
    _set_capturable(parts, False)


def describe(mode_used: str, reason: str) -> str:
    """One line for logs: 'cuda_graph' or 'eager (CUDA graphs need a CUDA device, …)'."""
    return f"{mode_used} ({reason})" if reason else mode_used
