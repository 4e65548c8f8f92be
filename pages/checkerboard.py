"""Lesson 4 — checkerboard artifacts of transposed convolutions (Odena, Dumoulin & Olah, Distill 2016)."""

from functools import partial

import streamlit as st

import classroom_ui
import ui
from dcgan_core.checkerboard import artifact_strength, is_even_overlap, overlap_counts
from dcgan_core.i18n import LabError
from dcgan_core.viz import overlap, pytorch_checks
from dcgan_core.viz.frozen import freeze
from dcgan_core.viz.upsampling import upsampling_routes

# (key, default, min, max); the default k=3, s=2 is the Distill article's first example.
SLIDERS = [("cb_k", 3, 1, 8), ("cb_s", 2, 1, 4), ("cb_layers", 1, 1, 3), ("cb_n", 6, 2, 12)]
BUILDUP_MAX_INPUT = 8
UPSAMPLED_SIDE = 96  # the comparison pictures are sized so the upsampled result is about this wide
ui.defaults({key: default for key, default, _, _ in SLIDERS})
ui.defaults({"cb_dims": 2, "cb_edges": False, "cb_kernel": "constant", "cb_seed": 0})


@st.cache_data(max_entries=64, show_spinner=False)
def counts_check(k, s, n, layers, dims, crop):
    """The counts PyTorch's conv_transpose gives against painting every stamp."""
    return pytorch_checks.stamp_overlaps(k, s, n, layers, dims, crop)


@st.cache_data(max_entries=64, show_spinner=False)
def pattern_period(k, s, n, layers):
    """The period of the pattern, read off the border-free 1-D counts (None where there is none)."""
    try:
        return overlap.pattern_period(overlap_counts(k, s, n, layers, 1, crop=True))
    except LabError:
        return None


@st.cache_resource(max_entries=32, show_spinner=False)
def buildup_figure(k, s, n, dims, labels):
    return freeze(overlap.buildup_figure(k, s, n, dims, labels))


@st.cache_resource(max_entries=32, show_spinner=False)
def map_figure(k, s, n, layers, dims, crop, labels):
    return freeze(overlap.overlap_figure(counts_check(k, s, n, layers, dims, crop).torch, labels))


@st.cache_data(max_entries=16, show_spinner=False)
def buildup_gif(k, s, n, dims):
    return overlap.overlap_gif(k, s, n, dims)


@st.cache_data(max_entries=32, show_spinner=False)
def upsampled(k, s, layers, seed):
    return upsampling_routes(k, s, layers, seed, side=UPSAMPLED_SIDE)


@st.cache_data(max_entries=32, show_spinner=False)
def resize_check(k, s, layers, seed):
    """One nearest resize-convolution layer of the picture, ours against nn.Upsample + nn.Conv2d."""
    size, results = upsampled(k, s, layers, seed)
    return pytorch_checks.resize_conv(results["picture"][0], s, k, "nearest")


@st.cache_data(max_entries=32, show_spinner=False)
def comparison_tiles(k, s, layers, seed):
    _, results = upsampled(k, s, layers, seed)
    return overlap.grey_tiles([list(results["constant"]), list(results["picture"])])


# ---------------------------------------------------------------- explanation and controls

st.title(ui.t("checkerboard.title"))
st.markdown(ui.t("checkerboard.intro"))
classroom_ui.question_block("checkerboard")  # predict first: a class question on this lesson

dims_names = {1: ui.t("checkerboard.dims_1"), 2: ui.t("checkerboard.dims_2")}
kernel_names = {"constant": ui.t("checkerboard.kernel_constant"), "random": ui.t("checkerboard.kernel_random")}
controls = st.columns([1, 1, 1, 1, 1.2])
for column, (key, _, low, high) in zip(controls, SLIDERS, strict=False):
    name = key.removeprefix("cb_")
    label = {"n": "slider_input"}.get(name, f"slider_{name}")
    helptext = {"n": "help_input"}.get(name, f"help_{name}")
    column.slider(ui.t(f"checkerboard.{label}"), low, high, key=key, help=ui.t(f"checkerboard.{helptext}"))
with controls[-1]:
    st.radio(
        ui.t("checkerboard.dims"),
        [1, 2],
        horizontal=True,
        format_func=dims_names.__getitem__,
        **ui.language_keyed("cb_dims"),
    )
    st.toggle(ui.t("checkerboard.show_edges"), key="cb_edges", help=ui.t("checkerboard.help_show_edges"))

k, s, layers, n = (st.session_state[key] for key, *_ in SLIDERS)
dims, crop = st.session_state.cb_dims, not st.session_state.cb_edges

# ---------------------------------------------------------------- the overlap map

st.subheader(ui.t("checkerboard.map_title"))
errors = st.container()  # a sentence or nothing: one element either way, so the charts keep their place
try:
    counts_checked = counts_check(k, s, n, layers, dims, crop)
except LabError as err:
    with errors:
        ui.show_error(err)
    counts_checked = None
counts = counts_checked.torch if counts_checked else None
period = pattern_period(k, s, n, layers)


def with_sliders(chart):
    """The frames of one of this lesson's charts, ``chart(k, s, layers, n)``, for each slider."""
    now = {key: st.session_state[key] for key, *_ in SLIDERS}
    return classroom_ui.frames_per_slider({key: (low, high) for key, _, low, high in SLIDERS}, now, chart)


with st.container():  # the map's section, or nothing
    if counts is not None:
        low, high = int(counts.min()), int(counts.max())
        if k < s:
            st.warning(ui.t("checkerboard.holes", k=k, s=s), icon=":material/grid_off:")
        elif is_even_overlap(k, s):
            st.success(ui.t("checkerboard.even", k=k, s=s, count=high), icon=":material/check_circle:")
        else:
            st.warning(
                ui.t("checkerboard.uneven", k=k, s=s, low=low, high=high, period=period or s**layers),
                icon=":material/grid_4x4:",
            )
        with st.container():  # the note or nothing
            if layers > 1:
                st.caption(ui.t("checkerboard.stacked_note", layers=layers))
        numbers = st.columns(3)
        numbers[0].metric(ui.t("checkerboard.metric_min"), low)
        numbers[1].metric(ui.t("checkerboard.metric_max"), high)
        numbers[2].metric(ui.t("checkerboard.metric_ratio"), f"{high / low:.2f}" if low else "∞")
        map_labels = overlap.OverlapLabels(
            position=ui.t("checkerboard.fig_position"), count=ui.t("checkerboard.fig_count")
        )
        classroom_ui.lesson_chart(
            map_figure(k, s, n, layers, dims, crop, map_labels),
            "cb_map",
            instant=with_sliders(lambda k, s, layers, n: map_figure(k, s, n, layers, dims, crop, map_labels)),
            config={"displayModeBar": False},
        )
        st.caption(ui.t("checkerboard.map_caption_cropped" if crop else "checkerboard.map_caption_edges"))

# ---------------------------------------------------------------- build-up

st.subheader(ui.t("checkerboard.buildup_title"))
shown_n = min(n, BUILDUP_MAX_INPUT)
st.caption(ui.t("checkerboard.buildup_caption", n=shown_n))
with st.container():  # the note or nothing
    if n > BUILDUP_MAX_INPUT:
        st.caption(ui.t("checkerboard.buildup_too_big", n=shown_n))
buildup_labels = overlap.OverlapLabels(
    position=ui.t("checkerboard.fig_position"),
    count=ui.t("checkerboard.fig_count"),
    play=ui.t("common.play"),
    pause=ui.t("common.pause"),
    step=ui.t("common.step"),
)
classroom_ui.lesson_chart(
    buildup_figure(k, s, shown_n, dims, buildup_labels),
    "cb_buildup",
    instant=with_sliders(lambda k, s, _, n: buildup_figure(k, s, min(n, BUILDUP_MAX_INPUT), dims, buildup_labels)),
    config={"displayModeBar": False},
)
st.download_button(
    ui.t("common.download_gif"),
    data=partial(buildup_gif, k, s, shown_n, dims),
    file_name=f"stamps_k{k}_s{s}_{dims}d.gif",
    mime="image/gif",
    on_click="ignore",
    icon=":material/download:",
    help=ui.t("checkerboard.gif_help"),
)

# ---------------------------------------------------------------- the fix

st.subheader(ui.t("checkerboard.fix_title"))
st.markdown(ui.t("checkerboard.fix_intro", scale=s**layers))
choice = st.columns([2, 1])
choice[0].radio(
    ui.t("checkerboard.kernel_choice"),
    list(kernel_names),
    horizontal=True,
    format_func=kernel_names.__getitem__,
    **ui.language_keyed("cb_kernel"),
)
seed = None
if st.session_state.cb_kernel == "random":
    seed = choice[1].number_input(ui.t("checkerboard.seed"), 0, 9999, key="cb_seed")
    st.caption(ui.t("checkerboard.random_note"))

size, results = upsampled(k, s, layers, seed)
# artifact strength of the flat image after each route (the input itself is 0)
strength = [None] + [
    ui.t("checkerboard.strength", value=f"{artifact_strength(image):.3f}") for image in results["constant"][1:]
]
captions = [
    ui.t("checkerboard.col_input", size=size),
    ui.t("checkerboard.col_deconv", k=k, s=s),
    ui.t("checkerboard.col_nearest", k=k),
    ui.t("checkerboard.col_bilinear", k=k),
]
for row_name, tiles in zip(("row_constant", "row_picture"), comparison_tiles(k, s, layers, seed), strict=False):
    st.markdown(f"**{ui.t(f'checkerboard.{row_name}')}**")
    for n, (column, tile) in enumerate(zip(st.columns(4), tiles, strict=False)):
        with_strength = row_name == "row_constant" and strength[n]
        column.image(tile, caption=f"{captions[n]} · {strength[n]}" if with_strength else captions[n], width="content")
st.caption(ui.t("checkerboard.strength_explained"))

# ---------------------------------------------------------------- verified

st.subheader(ui.t("checkerboard.verified_title"))
if counts_checked is not None:
    ui.verification(counts_checked.max_difference, tolerance=0, what=ui.t("checkerboard.verified_counts_what"))
resize = resize_check(k, s, layers, seed)
ui.verification(resize.max_difference, tolerance=1e-9, what=ui.t("checkerboard.verified_resize_what"))
st.caption(ui.t("checkerboard.code_caption"))
st.code(overlap.upsampling_code(k, s), language="python", wrap_lines=True)
