"""Lesson 1 — what sets a convolution's output size (Dumoulin & Visin, arXiv 1603.07285)."""

from functools import partial

import numpy as np
import streamlit as st

import classroom_ui
import ui
from dcgan_core.i18n import LabError
from dcgan_core.presets import PRESETS, preset_by_id
from dcgan_core.viz import pytorch_checks, sliding
from dcgan_core.viz.frozen import freeze

# (session key, preset field, default, min, max). Defaults: conv_arithmetic's "padding, strides".
SLIDERS = [
    ("os_i", "i", 5, 1, 32),
    ("os_k", "k", 3, 1, 7),
    ("os_s", "s", 2, 1, 4),
    ("os_p", "p", 1, 0, 6),
    ("os_d", "d", 1, 1, 4),
    ("os_a", "output_padding", 0, 0, 3),
]
MODES = list(sliding.OPERATIONS)
CUSTOM = "custom"
# Another lesson opens this one on a preset with ?preset=<id>, or by setting this key before st.switch_page.
PRESET_REQUEST = "output_size_preset_request"
TORCH_FUNCTION = {"conv": "F.conv2d", "transposed": "F.conv_transpose2d", "pool": "F.max_pool2d"}


def apply_preset(preset_id: str | None) -> None:
    preset = preset_by_id(preset_id)
    if preset is None:
        return
    st.session_state.os_mode = preset.operation
    for key, name, *_ in SLIDERS:
        st.session_state[key] = getattr(preset, name)


def on_preset_change() -> None:
    apply_preset(st.session_state.os_preset)


def on_setting_change() -> None:
    st.session_state.os_preset = CUSTOM


def on_cell_click() -> None:
    """A click on an output cell of the receptive-field figure picks that cell."""
    points = ui.clicked_points("os_rf_chart")
    cell = sliding.output_cell_from_selection(points, st.session_state.get("os_output_size", 0))
    if cell is not None:
        st.session_state.os_rf_row, st.session_state.os_rf_col = cell


first_visit = "os_preset" not in st.session_state
# A hidden slider (dilation for pooling, output_padding outside transposed mode) loses its state: re-seed it.
ui.defaults({key: default for key, _, default, *_ in SLIDERS})
if first_visit:
    st.session_state.os_mode = "conv"
    requested = st.query_params.get("preset")  # other lessons link here with ?preset=<id>
    st.session_state.os_preset = requested if preset_by_id(requested) else CUSTOM
    apply_preset(requested)
if preset_by_id(st.session_state.get(PRESET_REQUEST)):
    st.session_state.os_preset = st.session_state.pop(PRESET_REQUEST)
    apply_preset(st.session_state.os_preset)
ui.defaults({"os_rf_row": 0, "os_rf_col": 0})


@st.cache_resource(max_entries=48, show_spinner=False)
def animation_figure(mode, i, k, s, p, d, a, labels):
    return freeze(
        sliding.sliding_window_figure(i, k, s, p, d, transposed=mode == "transposed", output_padding=a, labels=labels)
    )


@st.cache_resource(max_entries=48, show_spinner=False)
def receptive_figure(mode, i, k, s, p, d, a, row, col, labels):
    return freeze(
        sliding.receptive_field_figure(
            i, k, s, p, d, row, col, transposed=mode == "transposed", output_padding=a, labels=labels
        )
    )


@st.cache_data(max_entries=256, show_spinner=False)
def output_size_check(mode, i, k, s, p, d, a):
    """Our output side against PyTorch's, or PyTorch's refusal as text (cached: the same settings
    recur as sliders move)."""
    try:
        return pytorch_checks.output_size(mode, i, k, s, p, d, a), None
    except RuntimeError as err:
        return None, str(err).splitlines()[0]


@st.cache_data(max_entries=256, show_spinner=False)
def receptive_field_check(mode, i, k, s, p, d, a, row, col):
    return pytorch_checks.receptive_field(mode, i, k, s, p, d, a, row, col)


@st.cache_data(max_entries=32, show_spinner=False)
def animation_gif(mode, i, k, s, p, d, a):
    return sliding.sliding_window_gif(i, k, s, p, d, transposed=mode == "transposed", output_padding=a)


def figure_labels(mode: str, padded: bool) -> sliding.SlidingLabels:
    if mode == "transposed":
        title = ui.t("output_size.fig_input_transposed")
    else:
        title = ui.t("output_size.fig_input" if padded else "output_size.fig_input_plain")
    return sliding.SlidingLabels(
        input=title,
        output=ui.t("output_size.fig_output"),
        input_cell=ui.t("output_size.cell_input"),
        padding=ui.t("output_size.cell_padding_pool" if mode == "pool" else "output_size.cell_padding"),
        inserted=ui.t("output_size.cell_inserted"),
        cropped=ui.t("output_size.cell_cropped"),
        output_cell=ui.t("output_size.cell_output"),
        play=ui.t("common.play"),
        pause=ui.t("common.pause"),
        step=ui.t("common.step"),
        padding_value="−∞" if mode == "pool" else "0",
    )


def unit_ranges(mask_1d: np.ndarray) -> str:
    """'0–2, 4' for the indices where mask_1d is True."""
    idx = np.flatnonzero(mask_1d)
    runs, start = [], None
    for n, v in enumerate(idx):
        if start is None:
            start = v
        if n + 1 == len(idx) or idx[n + 1] != v + 1:
            runs.append(f"{start}" if start == v else f"{start}–{v}")
            start = None
    return ", ".join(runs)


# ---------------------------------------------------------------- explanation and controls

st.title(ui.t("output_size.title"))
st.markdown(ui.t("output_size.intro"))
classroom_ui.question_block("output_size")  # predict first: a class question on this lesson

preset_names = {CUSTOM: ui.t("output_size.preset_custom")} | {preset.id: ui.t(preset.name_key) for preset in PRESETS}
mode_names = {m: ui.t(f"output_size.mode_{m}") for m in MODES}
top = st.columns([3, 2])
top[0].selectbox(
    ui.t("output_size.preset"),
    list(preset_names),
    format_func=preset_names.__getitem__,
    help=ui.t("output_size.preset_help"),
    **ui.language_keyed("os_preset", on_change=on_preset_change),
)
top[1].radio(
    ui.t("output_size.mode"),
    MODES,
    horizontal=True,
    format_func=mode_names.__getitem__,
    **ui.language_keyed("os_mode", on_change=on_setting_change),
)
mode = st.session_state.os_mode

controls, result = st.columns([2, 3], gap="large")
with controls:
    slider_label = {
        "os_i": "slider_i_transposed" if mode == "transposed" else "slider_i",
        "os_k": "slider_k",
        "os_s": "slider_s",
        "os_p": "slider_p",
        "os_d": "slider_d",
        "os_a": "slider_a",
    }
    slider_help = {
        "os_i": "help_i",
        "os_k": "help_k",
        "os_s": "help_s",
        "os_p": "help_p",
        "os_d": "help_d",
        "os_a": "help_a",
    }
    shown_sliders = [
        key
        for key, *_ in SLIDERS
        if not ((key == "os_d" and mode == "pool") or (key == "os_a" and mode != "transposed"))
    ]
    for key, _, _, low, high in SLIDERS:
        if key not in shown_sliders:
            continue
        st.slider(
            ui.t(f"output_size.{slider_label[key]}"),
            low,
            high,
            key=key,
            on_change=on_setting_change,
            help=ui.t(f"output_size.{slider_help[key]}"),
        )
    if mode == "pool":
        st.caption(ui.t("output_size.pool_note"))

i, k, s, p = (st.session_state[key] for key in ("os_i", "os_k", "os_s", "os_p"))
d = 1 if mode == "pool" else st.session_state.os_d
a = st.session_state.os_a if mode == "transposed" else 0

with result:
    try:
        expl = sliding.explain_operation(mode, i, k, s, p, d, a)
    except LabError as err:
        ui.show_error(err)
        st.stop()
    o = expl.result
    st.metric(ui.t("output_size.result_label"), f"{o} × {o}", help=ui.t("output_size.result_from", i=i))
    st.markdown(f"**{ui.t('output_size.relationship_title')}**  \n{ui.t(expl.relationship_key)}")
    st.markdown(f"**{ui.t('output_size.formula_title')}**")
    st.latex(expl.formula)
    st.latex(expl.substituted)
    st.markdown(f"**{ui.t('output_size.steps_title')}**")
    st.markdown("\n".join(f"{n}. {ui.t(label)}: ${latex}$" for n, (label, latex) in enumerate(expl.steps, 1)))

# ---------------------------------------------------------------- verified by PyTorch

st.subheader(ui.t("output_size.verified_title"))
verify, code = st.columns(2, gap="large")
with verify:
    size_check, refusal = output_size_check(mode, i, k, s, p, d, a)
    if refusal:
        st.error(ui.t("output_size.pytorch_refused", detail=refusal))
    else:
        st.markdown(
            ui.t("output_size.verified_shape", function=TORCH_FUNCTION[mode], i=i, o_torch=size_check.torch, o=o)
        )
        ui.verification(size_check.max_difference, tolerance=0, what=ui.t("output_size.verified_what"))
with code:
    st.caption(ui.t("common.pytorch_code"))
    st.code(sliding.pytorch_code(mode, i, k, s, p, d, a, o=o), language="python", wrap_lines=True)

# ---------------------------------------------------------------- the animation

st.subheader(ui.t("output_size.animation_title"))
if mode == "transposed":
    pad = d * (k - 1) - p
    extra = ui.t("output_size.animation_extra_output_padding", a=a) if a else ""
    if pad < 0 or pad + a < 0:
        extra += ui.t("output_size.animation_extra_crop")
    st.caption(ui.t("output_size.animation_caption_transposed", i=i, gaps=s - 1, pad=pad, extra=extra, o=o))
else:
    st.caption(ui.t(f"output_size.animation_caption_{mode}"))
with st.container():  # the note or nothing: one element either way, so the chart below keeps its place
    if o * o > sliding.ANIMATION_MAX_FRAMES:
        st.info(ui.t("output_size.animation_too_big", cells=o * o, limit=sliding.ANIMATION_MAX_FRAMES))
labels = figure_labels(mode, padded=p > 0)


def animation_at(i, k, s, p, d, a):
    sliding.explain_operation(mode, i, k, s, p, d, a)  # a LabError where the lesson shows a sentence instead
    return animation_figure(mode, i, k, s, p, d, a, figure_labels(mode, padded=p > 0))


classroom_ui.lesson_chart(
    animation_figure(mode, i, k, s, p, d, a, labels),
    "os_animation",
    instant=classroom_ui.frames_per_slider(
        {key: (low, high) for key, _, _, low, high in SLIDERS if key in shown_sliders},
        {"os_i": i, "os_k": k, "os_s": s, "os_p": p, "os_d": d, "os_a": a},  # d and a as this operation uses them
        animation_at,
    ),
    config={"displayModeBar": False},
)
if o * o <= sliding.ANIMATION_MAX_FRAMES:
    st.download_button(
        ui.t("common.download_gif"),
        data=partial(animation_gif, mode, i, k, s, p, d, a),
        file_name=f"{mode}_i{i}_k{k}_s{s}_p{p}_d{d}_a{a}.gif",
        mime="image/gif",
        on_click="ignore",
        icon=":material/download:",
        help=ui.t("output_size.gif_preparing"),
    )

# ---------------------------------------------------------------- receptive field

st.subheader(ui.t("output_size.rf_title"))
st.markdown(ui.t("output_size.rf_intro"))
st.session_state.os_output_size = o
for key in ("os_rf_row", "os_rf_col"):
    st.session_state[key] = min(st.session_state[key], o - 1)
pick = st.columns(2)
pick[0].number_input(ui.t("output_size.rf_row"), 0, o - 1, key="os_rf_row")
pick[1].number_input(ui.t("output_size.rf_col"), 0, o - 1, key="os_rf_col")
row, col = st.session_state.os_rf_row, st.session_state.os_rf_col

field_check = receptive_field_check(mode, i, k, s, p, d, a, row, col)
mask = field_check.ours
if mask.any():
    summary = "output_size.rf_summary_one" if mask.sum() == 1 else "output_size.rf_summary"
    st.markdown(
        ui.t(
            summary,
            row=row,
            col=col,
            count=int(mask.sum()),
            rows=unit_ranges(mask.any(axis=1)),
            cols=unit_ranges(mask.any(axis=0)),
        )
    )
else:
    st.info(ui.t("output_size.rf_none", row=row, col=col))
classroom_ui.lesson_chart(
    receptive_figure(mode, i, k, s, p, d, a, row, col, labels),
    "os_rf_chart",
    on_select=on_cell_click,
    selection_mode="points",
    config={"displayModeBar": False},
)
ui.verification(field_check.max_difference, tolerance=0, what=ui.t("output_size.rf_verified_what"))
