"""Latent-space core: interpolation, walks, sweeps, arithmetic and seeds."""

import math

import pytest
import torch

from dcgan_core import latent
from dcgan_core.i18n import LabError
from dcgan_core.models import DCGANConfig, build_models

NZ = 100


def two_z(seed=0):
    z = latent.z_from_seed(seed, NZ, 2)
    return z[0], z[1]


@pytest.mark.parametrize("method", latent.METHODS)
def test_path_passes_through_every_z(method):
    zs = list(latent.z_from_seeds([3, 17, 42], NZ))
    path = latent.interpolate_path(zs, 5, method)
    assert path.shape == (2 * 5 + 1, NZ)
    for k, z in enumerate(zs):
        torch.testing.assert_close(path[5 * k], z, rtol=0, atol=1e-5)


def test_lerp_matches_torch_lerp():
    z0, z1 = two_z()
    t = torch.linspace(0, 1, 7)
    expected = torch.stack([torch.lerp(z0, z1, float(s)) for s in t])
    torch.testing.assert_close(latent.lerp(z0, z1, t), expected)
    torch.testing.assert_close(latent.lerp(z0, z1, 0.3), torch.lerp(z0, z1, 0.3))


def test_slerp_keeps_norm_and_stays_on_the_great_circle():
    z0, z1 = (z.double() for z in two_z(1))
    z1 = z1 * (z0.norm() / z1.norm())  # equal norms
    t = torch.linspace(0, 1, 11, dtype=torch.float64)
    path = latent.slerp(z0, z1, t)
    torch.testing.assert_close(path.norm(dim=1), torch.full((11,), float(z0.norm()), dtype=torch.float64))
    # On the great circle: every point lies in the plane of z0 and z1 ...
    basis, _ = torch.linalg.qr(torch.stack([z0, z1], 1))
    residual = path - (path @ basis) @ basis.T
    assert residual.abs().max() < 1e-9
    # ... and the angle from z0 grows linearly with t (constant angular speed).
    omega = torch.arccos(torch.dot(z0, z1) / (z0.norm() * z1.norm()))
    angles = torch.arccos((path @ z0 / (path.norm(dim=1) * z0.norm())).clamp(-1, 1))
    torch.testing.assert_close(angles, t * omega, atol=1e-6, rtol=0)


def test_slerp_falls_back_to_lerp_for_parallel_vectors():
    z0, _ = two_z()
    z1 = 2 * z0
    t = torch.linspace(0, 1, 5)
    out = latent.slerp(z0, z1, t)
    assert torch.isfinite(out).all()
    torch.testing.assert_close(out, latent.lerp(z0, z1, t))


def test_linear_midpoint_is_inside_the_shell_spherical_is_not():
    z0, z1 = two_z(2)
    mid_linear = latent.lerp(z0, z1, 0.5).norm()
    mid_spherical = latent.slerp(z0, z1, 0.5).norm()
    assert mid_linear < 0.85 * math.sqrt(NZ)  # ≈ √(nz/2) for independent z's
    assert mid_spherical > 0.9 * min(z0.norm(), z1.norm())


@pytest.mark.parametrize("method", latent.METHODS)
def test_walk_grid_corners_are_the_corners(method):
    corners = list(latent.z_from_seeds([0, 1, 2, 3], NZ))
    rows, cols = 4, 6
    grid = latent.walk_grid(corners, rows, cols, method).reshape(rows, cols, NZ)
    for (r, c), z in zip([(0, 0), (0, cols - 1), (rows - 1, 0), (rows - 1, cols - 1)], corners, strict=False):
        torch.testing.assert_close(grid[r, c], z, atol=1e-5, rtol=0)


def test_linear_walk_grid_is_bilinear():
    tl, tr, bl, br = latent.z_from_seeds([4, 5, 6, 7], NZ)
    grid = latent.walk_grid([tl, tr, bl, br], 3, 5, "linear").reshape(3, 5, NZ)
    u, v = 0.5, 0.25  # row 1 of 3, column 1 of 5
    expected = (1 - u) * ((1 - v) * tl + v * tr) + u * ((1 - v) * bl + v * br)
    torch.testing.assert_close(grid[1, 1], expected)


def test_sweep_changes_only_that_dimension():
    z = latent.z_from_seed(9, NZ)[0]
    values = torch.linspace(-3, 3, 7)
    out = latent.dimension_sweep(z, 17, values)
    assert out.shape == (7, NZ)
    torch.testing.assert_close(out[:, 17], values)
    others = torch.ones(NZ, dtype=torch.bool)
    others[17] = False
    assert torch.equal(out[:, others], z[others].expand(7, -1))
    with pytest.raises(LabError):
        latent.dimension_sweep(z, NZ, values)


def test_vector_arithmetic_is_mean_a_minus_mean_b_plus_mean_c():
    a, b, c = (latent.z_from_seed(s, NZ, 3 + s) for s in range(3))
    expected = torch.zeros(NZ)
    for group, sign in ((a, 1), (b, -1), (c, 1)):
        expected += sign * sum(group[i] for i in range(len(group))) / len(group)
    torch.testing.assert_close(latent.vector_arithmetic(a, b, c), expected)


def test_arithmetic_refuses_groups_below_three():
    a, b, c = latent.z_from_seed(0, NZ, 3), latent.z_from_seed(1, NZ, 2), latent.z_from_seed(2, NZ, 3)
    with pytest.raises(LabError) as err:
        latent.vector_arithmetic(a, b, c)
    assert "B" in str(err.value) and "3" in str(err.value)
    with pytest.raises(LabError):
        latent.pixel_arithmetic(torch.zeros(3, 1, 4, 4), torch.zeros(3, 1, 4, 4), torch.zeros(1, 1, 4, 4))


def test_neighbours_within_quarter_and_reproducible():
    z = latent.z_from_seed(5, NZ)[0]
    n = latent.neighbours(z, 8, 0.25, seed=3)
    assert n.shape == (8, NZ)
    assert (n - z).abs().max() <= 0.25
    assert (n - z).abs().max() > 0.2  # the noise really spans the interval
    assert torch.equal(n, latent.neighbours(z, 8, 0.25, seed=3))
    assert not torch.equal(n, latent.neighbours(z, 8, 0.25, seed=4))


def test_pixel_arithmetic_is_clipped_mean_arithmetic():
    g = torch.Generator().manual_seed(0)
    a, b, c = (torch.rand(3, 1, 8, 8, generator=g) * 2 - 1 for _ in range(3))
    out = latent.pixel_arithmetic(a, b, c)
    torch.testing.assert_close(out, torch.clamp(a.mean(0) - b.mean(0) + c.mean(0), -1, 1))
    assert out.min() >= -1 and out.max() <= 1


def test_seeds_are_reproducible_and_independent_of_the_batch():
    assert torch.equal(latent.z_from_seed(7, NZ), latent.z_from_seed(7, NZ))
    assert not torch.equal(latent.z_from_seed(7, NZ), latent.z_from_seed(8, NZ))
    batch = latent.z_from_seeds([7, 8, 7], NZ)
    assert torch.equal(batch[0], batch[2])
    assert torch.equal(batch[0], latent.z_from_seed(7, NZ)[0])
    torch.manual_seed(123)  # the global RNG must not matter
    assert torch.equal(latent.z_from_seed(7, NZ), batch[:1])


def test_parse_seeds():
    assert latent.parse_seeds("3, 17 42") == [3, 17, 42]
    assert latent.parse_seeds("3，4") == [3, 4]
    assert latent.parse_seeds("") == []
    with pytest.raises(LabError):
        latent.parse_seeds("3, x")


def test_generate_matches_the_generator_in_eval_mode():
    cfg = DCGANConfig(image_size=32, channels=1, nz=NZ, ngf=8, ndf=8)
    netG, _ = build_models(cfg, seed=0)
    netG.train()
    z = latent.z_from_seed(0, NZ, 5)
    out = latent.generate(netG, z, batch_size=2)
    assert netG.training  # mode restored
    netG.eval()
    with torch.no_grad():
        torch.testing.assert_close(out, netG(z))
    assert out.shape == (5, 1, 32, 32) and out.abs().max() <= 1


def test_path_changes_and_sensitivity():
    images = torch.zeros(3, 1, 4, 4)
    images[2] = 1.0
    torch.testing.assert_close(latent.path_changes(images), torch.tensor([0.0, 1.0]))
    cfg = DCGANConfig(image_size=32, channels=1, nz=8, ngf=8, ndf=8)
    netG, _ = build_models(cfg, seed=0)
    netG.eval()
    z = latent.z_from_seed(0, 8)[0]
    sens = latent.dimension_sensitivity(netG, z, -1.0, 1.0)
    d = 3
    lo, hi = z.clone(), z.clone()
    lo[d], hi[d] = -1.0, 1.0
    with torch.no_grad():
        expected = (netG(hi[None]) - netG(lo[None])).abs().mean()
    torch.testing.assert_close(sens[d], expected)


def test_attribute_measures_and_presets():
    thin = -torch.ones(1, 1, 28, 28)
    thin[..., 4:24, 13:15] = 1  # an upright 2-pixel bar
    thick = -torch.ones(1, 1, 28, 28)
    thick[..., 4:24, 11:17] = 1
    slanted = -torch.ones(1, 1, 28, 28)
    for r in range(4, 24):
        slanted[..., r, 20 - (r - 4) // 2 : 22 - (r - 4) // 2] = 1  # top further right than bottom
    assert latent.ink(thick) > latent.ink(thin)
    assert latent.width(thick) > latent.width(thin)
    assert abs(float(latent.slant(thin))) < 1e-6
    assert latent.slant(slanted) > 0.3
    images = torch.cat([thin, thick, thin, thick, thin, thick, thin, thin, thin])
    predicted = torch.tensor([7, 7, 7, 7, 7, 7, 1, 1, 1])
    found = latent.preset_groups(images, predicted, torch.ones(9), latent.PRESETS["thickness"])
    assert found is not None
    a, b, c = found
    assert set(a) == {1, 3, 5} and set(b) == {0, 2, 4} and set(c) == {6, 7, 8}
    assert latent.preset_groups(images, predicted, torch.full((9,), 0.5), latent.PRESETS["thickness"]) is None


def test_walk_gif_loops_forward_and_back():
    import io

    from PIL import Image

    from dcgan_core.viz.latent import walk_gif

    path = torch.linspace(-1, 1, 5)[:, None, None, None].expand(5, 1, 8, 8)
    data = walk_gif([path, -path], scale=2)
    gif = Image.open(io.BytesIO(data))
    assert data[:6] == b"GIF89a"
    assert gif.n_frames == 2 * 5 - 2
    factor = 15  # 40 px wide strips scaled by whole multiples to at least 600 px
    assert gif.size[0] == (2 * 8 * 2 + 8) * factor == 600
    band = gif.size[1] - 8 * 2 * factor
    assert band >= 28  # the frame's position, below the pictures
    gif.seek(0)
    first = gif.convert("L")
    assert (
        first.getpixel((0, 0)) == 0 and first.getpixel(((8 * 2 + 8) * factor, 0)) >= 250
    )  # black left, white right (up to the palette)
    assert first.crop((0, 8 * 2 * factor, 600, gif.size[1])).getextrema()[0] < 128  # the label is drawn


def test_picker_reports_tile_indices_and_frames_marked_tiles():
    from dcgan_core.viz.latent import mosaic, picker_figure, tile_centres

    images = torch.rand(12, 1, 10, 10) * 2 - 1
    fig = picker_figure(images, 4, [str(100 + i) for i in range(12)], {5: [("A", "A"), ("B", "B")]})
    clickable = [t for t in fig.data if t.type == "scatter" and t.customdata is not None][0]
    assert list(clickable.customdata) == list(range(12))
    xs, ys = tile_centres(12, 4, 10)
    picture = mosaic(images, 4)
    for i in (0, 5, 11):  # each marker sits on its own tile's pixels
        r, c = int(ys[i]), int(xs[i])
        tile = picture[r - 5 : r + 5, c - 5 : c + 5, 0]
        expected = ((images[i, 0].clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).numpy()
        assert (tile == expected).all()
    assert len(fig.layout.shapes) == 2  # two groups → two frames on tile 5
