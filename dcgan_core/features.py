"""What the discriminator sees: activations, guided backprop, and its features
as a representation for classification (Radford et al. 2015, §5 and §6.2).

* ``layer_activations`` — the output of each of D's conv blocks for one image.
* ``guided_backprop`` — Springenberg et al. (2014): backpropagate D's logit to
  the image, letting through each ReLU/LeakyReLU only positive gradients at
  positions where the forward input was positive.
* ``discriminator_features`` / ``linear_probe`` / ``representation_experiment``
  — the paper's §5: max-pool every conv layer's output to a 4×4 grid, flatten,
  concatenate, and train a linear classifier on top, compared here with the
  same classifier on raw pixels.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from dcgan_core.i18n import LabError
from dcgan_core.models import Discriminator, weights_init
from dcgan_core.paths import ASSETS_DIR

ACTIVATIONS = (nn.ReLU, nn.LeakyReLU)
POOL_GRID = 4  # the paper's 4×4 max-pooled grid per layer
REPRESENTATION_PATH = ASSETS_DIR / "ablations" / "representation.json"


def _block_ends(netD: nn.Module) -> list[tuple[str, int]]:
    """(name, index in netD.main) of the last module of each conv block, and of the final conv.

    A block is conv (+ max-pool) (+ batchnorm) + activation; its output is that
    of its activation. Fully connected layers (fc_hidden) are not conv blocks.
    """
    modules = list(netD.main)
    ends: list[tuple[str, int]] = []
    for i, module in enumerate(modules):
        if isinstance(module, nn.Flatten):
            break
        if isinstance(module, ACTIVATIONS):
            ends.append((f"conv{len(ends) + 1}", i))
    last = len(modules) - 1
    if isinstance(modules[last], nn.Conv2d):
        ends.append(("logit", last))
    return ends


def _block_outputs(netD: nn.Module, images: torch.Tensor) -> tuple[list[tuple[str, torch.Tensor]], torch.Tensor]:
    """Run D once (in its current mode), collecting every conv block's output with forward hooks.

    Returns ([(name, (N, C, H, W))...], logits (N,)). Outputs are copied because
    D's activations work in place.
    """
    modules = list(netD.main)
    collected: list[tuple[str, torch.Tensor]] = []
    handles = []
    for name, index in _block_ends(netD):

        def save(_module, _inputs, output, name=name):
            collected.append((name, output.detach().clone()))

        handles.append(modules[index].register_forward_hook(save))
    try:
        logits = netD(images)
    finally:
        for handle in handles:
            handle.remove()
    return collected, logits.detach()


def _device_of(net: nn.Module) -> torch.device:
    return next(net.parameters()).device


def _working_copy(netD: nn.Module, batch_statistics: bool) -> nn.Module:
    """A deep copy of D to experiment on: eval mode (batch norm from the running
    statistics) or, with batch_statistics, train mode (batch norm from the batch itself,
    as during training). The caller's model is never touched."""
    net = copy.deepcopy(netD)
    net.train(batch_statistics)
    net.requires_grad_(False)
    return net


def _with_context(image: torch.Tensor, context: torch.Tensor | None, device) -> torch.Tensor:
    """(1 + M, C, H, W): the image first, then the other images of its minibatch (if any)."""
    if image.dim() == 3:
        image = image[None]
    if image.dim() != 4 or image.shape[0] != 1:
        raise LabError("discriminator.bad_image", shape=tuple(image.shape))
    image = image.detach().to(device).float()
    if context is None or len(context) == 0:
        return image
    return torch.cat([image, context.detach().to(device).float()])


@torch.no_grad()
def discriminator_logit(netD: nn.Module, image: torch.Tensor, context: torch.Tensor | None = None) -> float:
    """D's logit for one image. Without ``context``, D in eval mode (batch norm from its
    running statistics); with ``context`` (M, C, H, W), the image is judged inside a
    minibatch with those images and batch norm uses that minibatch's statistics, as in training."""
    net = _working_copy(netD, context is not None)
    return float(net(_with_context(image, context, _device_of(net)))[0])


@torch.no_grad()
def mean_probability(netD: nn.Module, images: torch.Tensor, batch_statistics: bool, batch_size: int = 64) -> float:
    """D's mean probability "real" over images, judged in minibatches of batch_size
    (with batch_statistics, batch norm uses each minibatch's statistics, as in training)."""
    net = _working_copy(netD, batch_statistics)
    device = _device_of(net)
    probabilities = [
        torch.sigmoid(net(images[i : i + batch_size].to(device).float())).cpu()
        for i in range(0, len(images), batch_size)
    ]
    return float(torch.cat(probabilities).mean())


@torch.no_grad()
def layer_activations(
    netD: nn.Module, image: torch.Tensor, context: torch.Tensor | None = None
) -> list[tuple[str, torch.Tensor]]:
    """[(layer name, activation (C, H, W))] for one image (C, H, W) or (1, C, H, W):
    each conv block's output, then the final logit map. Batch norm as in
    ``discriminator_logit``; works on a copy of D."""
    net = _working_copy(netD, context is not None)
    outputs, _ = _block_outputs(net, _with_context(image, context, _device_of(net)))
    return [(name, out[0].cpu()) for name, out in outputs]


def guided_backprop(netD: nn.Module, image: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
    """Guided-backprop saliency (H, W) of D's logit with respect to one image.

    Works on a deep copy of D (eval mode, or batch statistics with ``context``
    as in ``discriminator_logit``); the caller's model is untouched. At every
    ReLU/LeakyReLU the backward pass keeps a gradient only where it is positive
    and the forward input was positive. Colour channels are summed.
    """
    net = _working_copy(netD, context is not None)
    handles = []
    for module in net.modules():
        if isinstance(module, ACTIVATIONS):
            module.inplace = False  # full backward hooks refuse in-place modules
            masks: list[torch.Tensor] = []

            def remember(_module, inputs, _output, masks=masks):
                masks.append(inputs[0] > 0)

            def guide(_module, _grad_input, grad_output, masks=masks):
                return (grad_output[0].clamp(min=0) * masks.pop(),)

            handles.append(module.register_forward_hook(remember))
            handles.append(module.register_full_backward_hook(guide))
    return _input_gradient(net, image, context, handles)


def plain_gradient(netD: nn.Module, image: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
    """The ordinary gradient (H, W) of D's logit with respect to one image, for comparison
    with guided backprop (same batch-norm choice, on a copy; colour channels summed)."""
    return _input_gradient(_working_copy(netD, context is not None), image, context, [])


def _input_gradient(net: nn.Module, image: torch.Tensor, context: torch.Tensor | None, handles: list) -> torch.Tensor:
    batch = _with_context(image, context, _device_of(net))
    x = batch[:1].clone().requires_grad_(True)
    try:
        logit = net(torch.cat([x, batch[1:]]))[0]
        (grad,) = torch.autograd.grad(logit, x)
    finally:
        for handle in handles:
            handle.remove()
    return grad[0].sum(0).cpu()


@torch.no_grad()
def discriminator_features(netD: nn.Module, images: torch.Tensor, batch_size: int = 500) -> torch.Tensor:
    """The paper's §5 features, (N, F): each conv block's output max-pooled to a
    4×4 grid (``adaptive_max_pool2d``), flattened and concatenated; D in eval mode.
    """
    net = _working_copy(netD, batch_statistics=False)
    device = _device_of(net)
    chunks = []
    for start in range(0, len(images), batch_size):
        outputs, _ = _block_outputs(net, images[start : start + batch_size].to(device))
        pooled = [F.adaptive_max_pool2d(out, POOL_GRID).flatten(1) for name, out in outputs if name != "logit"]
        chunks.append(torch.cat(pooled, 1).cpu())
    return torch.cat(chunks)


def balanced_subset(labels: torch.Tensor, n_labels: int, seed: int) -> torch.Tensor:
    """Indices of n_labels examples, as equal a share of each class as possible, chosen with seed."""
    classes = torch.unique(labels)
    generator = torch.Generator().manual_seed(seed)
    per_class = [n_labels // len(classes) + (1 if j < n_labels % len(classes) else 0) for j in range(len(classes))]
    chosen = []
    for c, count in zip(classes.tolist(), per_class, strict=False):
        members = torch.nonzero(labels == c).reshape(-1)
        if count > len(members):
            raise LabError("discriminator.too_few_labels", n=n_labels, label=c, available=len(members))
        chosen.append(members[torch.randperm(len(members), generator=generator)[:count]])
    return torch.cat(chosen).sort().values


def linear_probe(
    train_feats: torch.Tensor,
    train_labels: torch.Tensor,
    test_feats: torch.Tensor,
    test_labels: torch.Tensor,
    n_labels: int | str = "all",
    seed: int = 0,
    weight_decay: float = 1e-3,
    max_iter: int = 30,
) -> float:
    """Test accuracy of multinomial logistic regression trained on n_labels
    class-balanced training examples (or "all").

    Features are standardised with the training subset's statistics; the loss
    is cross-entropy + weight_decay·‖W‖², minimised with L-BFGS.
    """
    if n_labels != "all":
        index = balanced_subset(train_labels, int(n_labels), seed)
        train_feats, train_labels = train_feats[index], train_labels[index]
    x = train_feats.float()
    mean, std = x.mean(0), x.std(0, unbiased=False).clamp(min=1e-6)
    x = (x - mean) / std
    x_test = (test_feats.float() - mean) / std
    n_classes = int(max(train_labels.max(), test_labels.max())) + 1
    weight = torch.zeros(x.shape[1], n_classes, requires_grad=True)
    bias = torch.zeros(n_classes, requires_grad=True)
    optimizer = torch.optim.LBFGS(
        [weight, bias], lr=1, max_iter=max_iter, history_size=10, line_search_fn="strong_wolfe"
    )

    def closure():
        optimizer.zero_grad()
        loss = F.cross_entropy(x @ weight + bias, train_labels) + weight_decay * weight.pow(2).sum()
        loss.backward()
        return loss

    optimizer.step(closure)
    with torch.no_grad():
        predicted = (x_test @ weight + bias).argmax(1)
    return (predicted == test_labels).double().mean().item()


@dataclass
class ProbeResult:
    n_labels: int  # training labels the linear classifier saw
    d_accuracy: float  # mean test accuracy on the trained D's features
    d_std: float  # spread over repeats (0 with one repeat)
    random_accuracy: float  # the same on an untrained D of the same architecture
    random_std: float
    pixel_accuracy: float  # the same classifier on raw pixels
    pixel_std: float
    repeats: int
    feature_dim: int
    pixel_dim: int

    def to_dict(self) -> dict:
        return asdict(self)


def _mean_std(values: list[float]) -> tuple[float, float]:
    mean = sum(values) / len(values)
    return mean, math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))


def random_discriminator(netD: nn.Module, seed: int = 0) -> nn.Module:
    """An untrained D with netD's architecture and the paper's initialisation."""
    torch.manual_seed(seed)
    fresh = Discriminator(netD.cfg)
    fresh.apply(weights_init)
    return fresh.to(_device_of(netD)).eval()


def representation_experiment(
    netD: nn.Module,
    train_images: torch.Tensor,
    train_labels: torch.Tensor,
    test_images: torch.Tensor,
    test_labels: torch.Tensor,
    label_counts: tuple = (100, 1000, "all"),
    repeats: int = 3,
    seed: int = 0,
    progress: Callable[[float], None] | None = None,
) -> list[ProbeResult]:
    """Linear-probe test accuracy on the trained D's features, on an untrained
    D's features (is it the training or just the architecture?) and on raw pixels.

    Features are computed once per network (eval mode, on copies); a label count
    below the training set size is repeated on ``repeats`` random class-balanced
    subsets (the same subsets for all three). ``progress(fraction)`` reports along the way.
    """
    report = progress or (lambda fraction: None)
    n_train = len(train_labels)
    counts = [n_train if c == "all" else min(int(c), n_train) for c in label_counts]
    jobs = [(count, r) for count in counts for r in range(1 if count >= n_train else repeats)]
    train_labels, test_labels = train_labels.cpu(), test_labels.cpu()
    # Only the training digits some probe sees need features (a few hundred for 100 labels).
    subsets = {
        job: (torch.arange(n_train) if job[0] >= n_train else balanced_subset(train_labels, job[0], seed + job[1]))
        for job in jobs
    }
    needed = torch.unique(torch.cat(list(subsets.values())))
    position = torch.full((n_train,), -1, dtype=torch.long)
    position[needed] = torch.arange(len(needed))
    report(0.0)
    feature_sets = {}
    for j, (key, net) in enumerate((("d", copy.deepcopy(netD).eval()), ("random", random_discriminator(netD, seed)))):
        feature_sets[key] = (
            discriminator_features(net, train_images[needed]),
            discriminator_features(net, test_images),
        )
        report(0.1 * (j + 1))
    feature_sets["pixel"] = (train_images[needed].flatten(1).float().cpu(), test_images.flatten(1).float().cpu())
    scores: dict[int, dict[str, list[float]]] = {}
    for done, (count, r) in enumerate(jobs):
        chosen = position[subsets[(count, r)]]
        for key, (train_f, test_f) in feature_sets.items():
            accuracy = linear_probe(
                train_f[chosen], train_labels[subsets[(count, r)]], test_f, test_labels, "all", seed=seed + r
            )
            scores.setdefault(count, {}).setdefault(key, []).append(accuracy)
        report(0.2 + 0.8 * (done + 1) / len(jobs))
    results = []
    for count, by_key in scores.items():
        (d, d_std), (rnd, rnd_std), (px, px_std) = (_mean_std(by_key[k]) for k in ("d", "random", "pixel"))
        results.append(
            ProbeResult(
                n_labels=count,
                d_accuracy=d,
                d_std=d_std,
                random_accuracy=rnd,
                random_std=rnd_std,
                pixel_accuracy=px,
                pixel_std=px_std,
                repeats=len(by_key["d"]),
                feature_dim=feature_sets["d"][0].shape[1],
                pixel_dim=feature_sets["pixel"][0].shape[1],
            )
        )
    return results


def clearly_better(row: dict, other: str) -> bool:
    """Do the trained D's features beat ``other`` ("random" or "pixel") in a probe result row
    (a ProbeResult dict)? By more than the spread over repeats, and by at least a point."""
    margin = max(0.01, row["d_std"] + row[f"{other}_std"])
    return row["d_accuracy"] - row[f"{other}_accuracy"] > margin


def save_representation(results: list[ProbeResult], path: str | Path, **details) -> Path:
    """The experiment's numbers and how they were made, as JSON."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"format": "dcgan-lab-representation", **details, "results": [r.to_dict() for r in results]}
    path.write_text(json.dumps(payload, indent=1, ensure_ascii=False), encoding="utf-8")
    return path


def load_representation(path: str | Path = REPRESENTATION_PATH) -> dict | None:
    """The recorded experiment ({"results": [ProbeResult dicts], ...details}), or None if absent or unreadable."""
    try:
        payload = json.loads(Path(path).read_text(encoding="utf-8"))
        [ProbeResult(**r) for r in payload["results"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return payload
