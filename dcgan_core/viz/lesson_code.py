"""The PyTorch code the convolution-matrix and transposed-convolution lessons show: runnable,
with the lesson's own sizes, and checking itself with an assert."""

from __future__ import annotations

from dcgan_core.arithmetic import conv_output_size, conv_transpose_output_size


def conv_matrix_code(h: int, w: int, k: int, s: int, p: int, d: int) -> str:
    """F.conv2d, and the same convolution as a matrix C (the Jacobian of the flattened conv)."""
    oh, ow = conv_output_size(h, k, s, p, d), conv_output_size(w, k, s, p, d)
    return (
        "import torch\nimport torch.nn.functional as F\n\n"
        f"x = torch.randn(1, 1, {h}, {w})  # N x C_in x H x W\n"
        f"w = torch.randn(1, 1, {k}, {k})  # C_out x C_in x k x k\n"
        f"y = F.conv2d(x, w, stride={s}, padding={p}, dilation={d})  # 1 x 1 x {oh} x {ow}\n\n"
        "def conv(v):\n"
        f"    out = F.conv2d(v.reshape(1, 1, {h}, {w}), w, stride={s}, padding={p}, dilation={d})\n"
        "    return out.reshape(-1)\n\n"
        f"C = torch.autograd.functional.jacobian(conv, x.reshape(-1))  # {oh * ow} x {h * w}\n"
        "assert torch.allclose(C @ x.reshape(-1), y.reshape(-1), atol=1e-5)"
    )


def transposed_code(i: int, k: int, s: int, p: int, d: int, a: int) -> str:
    """F.conv_transpose2d, a DCGAN-sized layer, and the zero-insertion route that gives the same."""
    o = conv_transpose_output_size(i, k, s, p, d, a)
    inserted = (i - 1) * s + 1
    pad = d * (k - 1) - p
    return (
        "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n\n"
        f"y = torch.randn(1, 1, {i}, {i})  # N x C_in x H x W\n"
        f"w = torch.randn(1, 1, {k}, {k})  # C_in x C_out x k x k\n"
        f"x = F.conv_transpose2d(y, w, stride={s}, padding={p},\n"
        f"                       output_padding={a}, dilation={d})  # 1 x 1 x {o} x {o}\n"
        f"layer = nn.ConvTranspose2d(512, 256, kernel_size={k}, stride={s}, padding={p},\n"
        f"                           output_padding={a}, dilation={d}, bias=False)  # a DCGAN-sized layer\n\n"
        f"z = torch.zeros(1, 1, {inserted}, {inserted})\n"
        f"z[..., ::{s}, ::{s}] = y  # {s - 1} zero(s) between units\n"
        f"z = F.pad(z, ({pad}, {pad + a}, {pad}, {pad + a}))  # d(k-1)-p = {pad}, + output_padding\n"
        f"x2 = F.conv2d(z, w.flip(-2, -1), dilation={d})  # flipped kernel, stride 1\n"
        "assert torch.allclose(x, x2, atol=1e-5)"
    )
