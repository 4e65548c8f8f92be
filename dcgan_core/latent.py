"""Walking the generator's latent space (Radford et al. 2015, §6).

z is a vector of nz numbers drawn from N(0, I). Everything here works on
(N, nz) tensors of z's and never needs a trained model, except ``generate``.

  * interpolation: straight lines (lerp) or great circles (slerp) between z's;
  * a 2-D walk between four corner z's, and a sweep along one coordinate;
  * vector arithmetic on the means of groups of z's (paper §6.3);
  * a few image measurements (ink, slant, width) that pick MNIST exemplars.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from dcgan_core.i18n import LabError

METHODS = ("linear", "spherical")
MIN_GROUP_SIZE = 3  # the paper averages three exemplars per concept
NEIGHBOUR_SCALE = 0.25  # paper Fig. 7: uniform noise in [-0.25, 0.25] added to the result


# ---- seeds -------------------------------------------------------------------


def z_from_seed(seed: int, nz: int, n: int = 1) -> torch.Tensor:
    """(n, nz) standard-normal z's; the same seed gives the same z's on any machine."""
    generator = torch.Generator(device="cpu").manual_seed(int(seed))
    return torch.randn(n, nz, generator=generator)


def z_from_seeds(seeds, nz: int) -> torch.Tensor:
    """(len(seeds), nz): one z per seed, so a tile labelled 'seed 17' is the z of seed 17."""
    seeds = list(seeds)
    if not seeds:
        return torch.empty(0, nz)
    return torch.cat([z_from_seed(s, nz) for s in seeds])


def parse_seeds(text: str) -> list[int]:
    """'3, 17 42' → [3, 17, 42]; anything that is not a whole number is refused."""
    parts = [p for p in text.replace("，", ",").replace(",", " ").split() if p]
    try:
        return [int(p) for p in parts]
    except ValueError:
        raise LabError("latent.bad_seeds", text=text) from None


def seeds_text(seeds) -> str:
    return ", ".join(str(int(s)) for s in seeds)


# ---- interpolation -------------------------------------------------------------


def _as_vector(z: torch.Tensor) -> torch.Tensor:
    z = torch.as_tensor(z)
    if z.dim() == 2 and z.shape[0] == 1:
        z = z[0]
    if z.dim() != 1:
        raise LabError("latent.bad_z_shape", shape=tuple(z.shape))
    return z


def _as_steps(t, like: torch.Tensor) -> tuple[torch.Tensor, bool]:
    """t as a column (T, 1) in like's dtype, and whether it was a single number."""
    scalar = not isinstance(t, torch.Tensor) or t.dim() == 0
    steps = torch.as_tensor(t, dtype=like.dtype).reshape(-1, 1)
    return steps, scalar


def lerp(z0: torch.Tensor, z1: torch.Tensor, t) -> torch.Tensor:
    """(1 - t) z0 + t z1; t a number gives (nz,), a 1-D tensor of T steps gives (T, nz)."""
    z0, z1 = _as_vector(z0), _as_vector(z1)
    steps, scalar = _as_steps(t, z0)
    out = (1 - steps) * z0 + steps * z1
    return out[0] if scalar else out


def slerp(z0: torch.Tensor, z1: torch.Tensor, t, eps: float = 1e-6) -> torch.Tensor:
    """Spherical interpolation (Shoemake 1985; White 2016 for GANs).

    Moves along the great circle between the directions of z0 and z1:
        sin((1-t)Ω)/sin Ω · z0 + sin(tΩ)/sin Ω · z1,  cos Ω = z0·z1 / (|z0||z1|).
    With |z0| = |z1| every point keeps that norm. When z0 and z1 point the same
    (or exactly opposite) way the circle is undefined and lerp is returned.
    """
    z0, z1 = _as_vector(z0), _as_vector(z1)
    steps, scalar = _as_steps(t, z0)
    n0, n1 = z0.norm(), z1.norm()
    if n0 < eps or n1 < eps:
        return lerp(z0, z1, t)
    cos_omega = torch.clamp(torch.dot(z0 / n0, z1 / n1), -1.0, 1.0)
    omega = torch.arccos(cos_omega)
    sin_omega = torch.sin(omega)
    if sin_omega < eps:
        return lerp(z0, z1, t)
    out = (torch.sin((1 - steps) * omega) * z0 + torch.sin(steps * omega) * z1) / sin_omega
    return out[0] if scalar else out


def _interpolate(method: str):
    if method not in METHODS:
        raise LabError("latent.bad_method", method=method, allowed=", ".join(METHODS))
    return lerp if method == "linear" else slerp


def interpolate_path(zs, steps_per_segment: int, method: str = "linear") -> torch.Tensor:
    """A path through two or more z's: (steps_per_segment * (K-1) + 1, nz).

    Each segment has steps_per_segment steps; the path starts at zs[0], passes
    exactly through every zs[k] and ends at zs[-1].
    """
    zs = [_as_vector(z) for z in zs]
    if len(zs) < 2:
        raise LabError("latent.too_few_points", count=len(zs))
    if steps_per_segment < 1:
        raise LabError("latent.bad_steps", steps=steps_per_segment)
    step = _interpolate(method)
    t = torch.linspace(0, 1, steps_per_segment + 1, dtype=zs[0].dtype)
    pieces = [step(a, b, t[:-1]) for a, b in zip(zs[:-1], zs[1:], strict=False)]
    return torch.cat(pieces + [zs[-1][None]])


def walk_grid(corners, rows: int, cols: int, method: str = "linear") -> torch.Tensor:
    """(rows*cols, nz), row-major, between four corners [top-left, top-right, bottom-left, bottom-right].

    Linear: ordinary bilinear interpolation. Spherical: slerp down the left and
    right edges, then slerp across each row.
    """
    if len(corners) != 4:
        raise LabError("latent.four_corners", count=len(corners))
    if rows < 2 or cols < 2:
        raise LabError("latent.bad_grid", rows=rows, cols=cols)
    top_left, top_right, bottom_left, bottom_right = (_as_vector(c) for c in corners)
    step = _interpolate(method)
    down = torch.linspace(0, 1, rows, dtype=top_left.dtype)
    across = torch.linspace(0, 1, cols, dtype=top_left.dtype)
    left = step(top_left, bottom_left, down)  # (rows, nz)
    right = step(top_right, bottom_right, down)  # (rows, nz)
    return torch.cat([step(left[r], right[r], across) for r in range(rows)])


def dimension_sweep(z: torch.Tensor, dim: int, values) -> torch.Tensor:
    """(len(values), nz): copies of z with coordinate ``dim`` set to each value."""
    z = _as_vector(z)
    if not 0 <= dim < z.numel():
        raise LabError("latent.bad_dim", dim=dim, nz=z.numel())
    values = torch.as_tensor(values, dtype=z.dtype).reshape(-1)
    out = z.repeat(len(values), 1)
    out[:, dim] = values
    return out


def norms(zs: torch.Tensor) -> torch.Tensor:
    """|z| of each row of an (N, nz) batch. A typical z ~ N(0, I) has |z| ≈ √nz."""
    return zs.norm(dim=1)


def path_changes(images: torch.Tensor) -> torch.Tensor:
    """(N-1,) mean |Δpixel| between consecutive images of a path, on the [-1, 1] scale.

    A smooth walk changes a little at every step; one large spike is a sharp
    transition, the sign of a memorising generator (paper §6.1).
    """
    x = torch.as_tensor(images).float()
    return (x[1:] - x[:-1]).abs().flatten(1).mean(1)


# ---- vector arithmetic (paper §6.3) ----------------------------------------------


def _group(group, name: str) -> torch.Tensor:
    group = torch.as_tensor(group)
    if group.dim() == 1:
        group = group[None]
    if group.shape[0] < MIN_GROUP_SIZE:
        raise LabError("latent.too_few_in_group", group=name, count=group.shape[0], minimum=MIN_GROUP_SIZE)
    return group


def vector_arithmetic(group_a, group_b, group_c) -> torch.Tensor:
    """mean(A) − mean(B) + mean(C), each group (k ≥ 3, nz). Returns (nz,).

    The paper found single-exemplar arithmetic unstable; averaging three z's
    per concept cancels what is particular to each sample and keeps what they share.
    """
    a, b, c = _group(group_a, "A"), _group(group_b, "B"), _group(group_c, "C")
    return a.mean(0) - b.mean(0) + c.mean(0)


def neighbours(z: torch.Tensor, n: int = 8, scale: float = NEIGHBOUR_SCALE, seed: int = 0) -> torch.Tensor:
    """(n, nz): z plus independent uniform noise in [-scale, scale] per coordinate."""
    z = _as_vector(z)
    generator = torch.Generator(device="cpu").manual_seed(int(seed))
    noise = (torch.rand(n, z.numel(), generator=generator, dtype=z.dtype) * 2 - 1) * scale
    return z + noise


def pixel_arithmetic(images_a, images_b, images_c) -> torch.Tensor:
    """The same arithmetic on the pictures themselves, clipped to [-1, 1]: (C, H, W).

    For contrast: pixel averages overlay strokes instead of changing the digit.
    """
    a, b, c = (torch.as_tensor(g) for g in (images_a, images_b, images_c))
    for name, g in zip("ABC", (a, b, c), strict=False):
        if g.shape[0] < MIN_GROUP_SIZE:
            raise LabError("latent.too_few_in_group", group=name, count=g.shape[0], minimum=MIN_GROUP_SIZE)
    return (a.mean(0) - b.mean(0) + c.mean(0)).clamp(-1.0, 1.0)


# ---- the generator -------------------------------------------------------------------


@torch.no_grad()
def generate(netG: torch.nn.Module, z: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
    """Images in [-1, 1], (N, C, H, W) on the CPU, from (N, nz) z's, in eval mode."""
    z = torch.as_tensor(z)
    if z.dim() == 1:
        z = z[None]
    was_training = netG.training
    netG.eval()
    try:
        device = next(netG.parameters()).device
        out = [netG(chunk.to(device, torch.float32)).float().cpu() for chunk in z.split(batch_size)]
    finally:
        netG.train(was_training)
    return torch.cat(out).clamp(-1.0, 1.0)


@torch.no_grad()
def dimension_sensitivity(netG: torch.nn.Module, z: torch.Tensor, low: float = -2.5, high: float = 2.5) -> torch.Tensor:
    """(nz,) mean |Δpixel| between G(z with z[d] = low) and G(z with z[d] = high), for every coordinate d."""
    z = _as_vector(z)
    nz = z.numel()
    lows, highs = z.repeat(nz, 1), z.repeat(nz, 1)
    index = torch.arange(nz)
    lows[index, index], highs[index, index] = low, high
    images = generate(netG, torch.cat([lows, highs]))
    return (images[nz:] - images[:nz]).abs().flatten(1).mean(1)


# ---- measurements that pick MNIST exemplars for the arithmetic presets ---------------------


def _ink_weights(images: torch.Tensor) -> torch.Tensor:
    """(N, H, W) non-negative ink: 0 for background (-1), 1 for a full stroke (+1)."""
    images = torch.as_tensor(images).float()
    if images.dim() == 4:
        images = images.mean(1)
    return ((images + 1) / 2).clamp(0, 1)


def ink(images: torch.Tensor) -> torch.Tensor:
    """Fraction of the image covered by stroke: thick digits have more ink. (N,)"""
    return _ink_weights(images).mean((1, 2))


def _moments(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Second central moments of the ink: var(x), var(y), cov(x, y), in pixels², with y pointing up."""
    w = _ink_weights(images)
    h, wd = w.shape[1:]
    ys = -torch.arange(h, dtype=w.dtype)[:, None].expand(h, wd)
    xs = torch.arange(wd, dtype=w.dtype)[None, :].expand(h, wd)
    mass = w.sum((1, 2)).clamp_min(1e-6)
    mx = (w * xs).sum((1, 2)) / mass
    my = (w * ys).sum((1, 2)) / mass
    dx, dy = xs - mx[:, None, None], ys - my[:, None, None]
    return (w * dx * dx).sum((1, 2)) / mass, (w * dy * dy).sum((1, 2)) / mass, (w * dx * dy).sum((1, 2)) / mass


def slant(images: torch.Tensor) -> torch.Tensor:
    """How far the digit leans right: cov(x, y) / var(y) (x moved per pixel up). (N,)"""
    var_x, var_y, cov = _moments(images)
    return cov / var_y.clamp_min(1e-6)


def width(images: torch.Tensor) -> torch.Tensor:
    """Horizontal spread of the ink: standard deviation of x, in pixels. (N,)"""
    var_x, _, _ = _moments(images)
    return var_x.sqrt()


ATTRIBUTES = {"ink": ink, "slant": slant, "width": width}


def measure(images: torch.Tensor) -> dict[str, float]:
    """Mean ink, slant and width over a batch of images."""
    return {name: float(fn(images).mean()) for name, fn in ATTRIBUTES.items()}


@dataclass(frozen=True)
class ArithmeticPreset:
    """A ≈ (digit_a, most of attribute) − B (digit_b, least) + C (digit_c, least) ≈ digit_c with most."""

    key: str
    attribute: str
    digit_ab: int  # digit of groups A and B, which differ only in the attribute
    digit_c: int  # digit of group C, which has little of the attribute


PRESETS = {
    "thickness": ArithmeticPreset("thickness", "ink", digit_ab=7, digit_c=1),
    "slant": ArithmeticPreset("slant", "slant", digit_ab=1, digit_c=7),
    "width": ArithmeticPreset("width", "width", digit_ab=0, digit_c=8),
}


def preset_groups(
    images: torch.Tensor,
    predicted: torch.Tensor,
    confidence: torch.Tensor,
    preset: ArithmeticPreset,
    k: int = MIN_GROUP_SIZE,
    min_confidence: float = 0.8,
) -> tuple[list[int], list[int], list[int]] | None:
    """Indices into ``images`` for groups A, B, C, or None when the pool lacks confident digits.

    A: the k confidently-classified ``digit_ab`` samples with the MOST of the attribute;
    B: the k with the LEAST; C: the k ``digit_c`` samples with the least.
    """
    score = ATTRIBUTES[preset.attribute](images)
    sure = torch.as_tensor(confidence) >= min_confidence
    predicted = torch.as_tensor(predicted)

    def ranked(digit: int) -> list[int]:
        idx = torch.nonzero(sure & (predicted == digit)).reshape(-1)
        return idx[torch.argsort(score[idx])].tolist()  # least → most

    ab, c = ranked(preset.digit_ab), ranked(preset.digit_c)
    if len(ab) < 2 * k or len(c) < k:
        return None
    return ab[-k:][::-1], ab[:k], c[:k]
