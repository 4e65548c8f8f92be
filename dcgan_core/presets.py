"""Named convolution settings the lessons can jump to.

The eight animations of Dumoulin & Visin's conv_arithmetic (vdumoulin/
conv_arithmetic), the transposed convolution of each (the one that gives the
input size back, with output_padding where a stride makes that ambiguous) and
the layers a DCGAN is built from. Pages link to a preset with ``?preset=<id>``.
"""

from __future__ import annotations

from dataclasses import dataclass

from dcgan_core.arithmetic import conv_output_size, output_padding_for

OPERATIONS = ("conv", "transposed", "pool")


@dataclass(frozen=True)
class ConvPreset:
    id: str
    operation: str  # "conv" | "transposed" | "pool"
    i: int  # input size (i' for a transposed convolution)
    k: int
    s: int = 1
    p: int = 0
    d: int = 1
    output_padding: int = 0
    group: str = "conv_arithmetic"  # "conv_arithmetic" | "transposed" | "dcgan"

    @property
    def name_key(self) -> str:
        return f"presets.{self.id}"

    def params(self) -> dict[str, int]:
        return dict(i=self.i, k=self.k, s=self.s, p=self.p, d=self.d, output_padding=self.output_padding)


# conv_arithmetic's gif names: (id, i, k, s, p, d)
_CONV_ARITHMETIC = [
    ("no_padding_no_strides", 4, 3, 1, 0, 1),
    ("arbitrary_padding_no_strides", 5, 4, 1, 2, 1),
    ("same_padding_no_strides", 5, 3, 1, 1, 1),
    ("full_padding_no_strides", 5, 3, 1, 2, 1),
    ("no_padding_strides", 5, 3, 2, 0, 1),
    ("padding_strides", 5, 3, 2, 1, 1),
    ("padding_strides_odd", 6, 3, 2, 1, 1),
    ("dilation", 7, 3, 1, 0, 2),
]


def _transposed_of(conv: ConvPreset) -> ConvPreset:
    """The transposed convolution that maps the conv's output back to its input size."""
    return ConvPreset(
        id=f"{conv.id}_transposed",
        operation="transposed",
        i=conv_output_size(conv.i, conv.k, conv.s, conv.p, conv.d),
        k=conv.k,
        s=conv.s,
        p=conv.p,
        d=conv.d,
        output_padding=output_padding_for(conv.i, conv.k, conv.s, conv.p, conv.d),
        group="transposed",
    )


_CONV_PRESETS = [ConvPreset(id_, "conv", i, k, s, p, d) for id_, i, k, s, p, d in _CONV_ARITHMETIC]

PRESETS: list[ConvPreset] = [
    *_CONV_PRESETS,
    *(_transposed_of(c) for c in _CONV_PRESETS),
    ConvPreset("dcgan_g_first", "transposed", i=1, k=4, s=1, p=0, group="dcgan"),  # z: nz x 1 x 1 -> (ngf*8) x 4 x 4
    ConvPreset("dcgan_g_upsample", "transposed", i=4, k=4, s=2, p=1, group="dcgan"),  # 4 x 4 -> 8 x 8
    ConvPreset("dcgan_d_downsample", "conv", i=8, k=4, s=2, p=1, group="dcgan"),  # 8 x 8 -> 4 x 4
    ConvPreset("dcgan_d_last", "conv", i=4, k=4, s=1, p=0, group="dcgan"),  # (ndf*8) x 4 x 4 -> 1 x 1 x 1
]

_BY_ID = {preset.id: preset for preset in PRESETS}


def preset_by_id(preset_id: str | None) -> ConvPreset | None:
    """The preset with that id, or None (an unknown id in a link is ignored)."""
    return _BY_ID.get(preset_id) if preset_id else None
