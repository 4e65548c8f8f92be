"""Lesson 3 — the transposed convolution: multiplying by Cᵀ, or inserting zeros and convolving (Dumoulin & Visin §4)."""

import streamlit as st

import classroom_ui
import ui
from dcgan_core.arithmetic import (
    conv_output_size,
    conv_transpose_output_size,
    explain_conv_transpose,
    input_sizes_for_output,
    output_padding_for,
)
from dcgan_core.convmatrix import conv_matrix_index
from dcgan_core.i18n import LabError
from dcgan_core.presets import preset_by_id
from dcgan_core.transposed import transposed_steps
from dcgan_core.viz import lesson_code, pytorch_checks
from dcgan_core.viz import matrix as mviz
from dcgan_core.viz import zero_insertion as zviz
from dcgan_core.viz.frozen import freeze

# (key, default, min, max): the DCGAN generator's 4×4 → 8×8 layer.
SETTINGS = [
    ("tc_i", 4, 1, 8),
    ("tc_k", 4, 1, 6),
    ("tc_s", 2, 1, 4),
    ("tc_p", 1, 0, 5),
    ("tc_d", 1, 1, 3),
]
# Presets shown in the picker (ids of dcgan_core.presets); links may also use the aliases.
PRESET_IDS = [
    "dcgan_g_upsample",
    "dcgan_g_first",
    "padding_strides_transposed",
    "padding_strides_odd_transposed",
    "no_padding_strides_transposed",
    "no_padding_no_strides_transposed",
    "same_padding_no_strides_transposed",
    "full_padding_no_strides_transposed",
    "arbitrary_padding_no_strides_transposed",
    "dilation_transposed",
]
ALIASES = {"dcgan_4_8": "dcgan_g_upsample", "dcgan_1_4": "dcgan_g_first"}
STAGE_KEYS = {
    "input": "stage_input",
    "insert": "stage_insert",
    "pad": "stage_pad",
    "flip": "stage_flip",
    "slide": "stage_slide",
}


def apply_preset(preset_id):
    preset = preset_by_id(ALIASES.get(preset_id, preset_id))
    if preset is None or preset.operation != "transposed":
        return False
    for key, value in zip(
        ("tc_i", "tc_k", "tc_s", "tc_p", "tc_d", "tc_a"),
        (preset.i, preset.k, preset.s, preset.p, preset.d, preset.output_padding),
        strict=False,
    ):
        st.session_state[key] = value
    st.session_state.tc_preset = preset.id
    return True


def preset_chosen():
    if st.session_state.tc_preset != "custom":
        apply_preset(st.session_state.tc_preset)


def mark_custom():
    st.session_state.tc_preset = "custom"


def new_values():
    st.session_state.tc_seed = (st.session_state.tc_seed + 1) % 10_000


ui.defaults({key: default for key, default, _, _ in SETTINGS})
ui.defaults({"tc_a": 0, "tc_seed": 0, "tc_integers": True, "tc_preset": "dcgan_g_upsample", "tc_stage": "slide"})
requested = st.query_params.get("preset")  # e.g. the Architecture page links ?preset=dcgan_4_8
if requested and requested != st.session_state.get("tc_query_applied"):
    st.session_state.tc_query_applied = requested
    apply_preset(requested)


@st.cache_data(max_entries=128, show_spinner=False)
def cached_values(i, k, seed, integers):
    return mviz.example_values((i, i), seed, integers, "input"), mviz.example_values((k, k), seed, integers, "kernel")


@st.cache_data(max_entries=128, show_spinner=False)
def cached_steps(i, k, s, p, d, a, seed, integers):
    y, kernel = cached_values(i, k, seed, integers)
    return transposed_steps(y, kernel, s, p, d, a)


@st.cache_data(max_entries=128, show_spinner=False)
def route_checks(i, k, s, p, d, a, seed, integers):
    """Both routes against F.conv_transpose2d (the matrix route is None where no convolution gives
    back i), and C·(Cᵀ·y): a convolution of the result, to show it does not give y back."""
    y, kernel = cached_values(i, k, seed, integers)
    by_steps = pytorch_checks.transposed_by_steps(
        y, kernel, s, p, d, a, ours=cached_steps(i, k, s, p, d, a, seed, integers).output
    )
    by_matrix = pytorch_checks.transposed_by_matrix(y, kernel, s, p, d, a)
    round_trip = None if by_matrix is None else pytorch_checks.conv_by_matrix(by_matrix.ours, kernel, s, p, d).ours
    return by_steps, by_matrix, round_trip


@st.cache_resource(max_entries=64, show_spinner=False)
def matrix_fig(i, k, s, p, d, a, seed, integers, lang):
    y, kernel = cached_values(i, k, seed, integers)
    o = conv_transpose_output_size(i, k, s, p, d, a)
    index = conv_matrix_index((o, o), k, s, p, d)
    labels = mviz.MatrixLabels(
        matrix="Cᵀ",
        vector="y",
        result="x̂",
        row_cell=ui.t("transposed.hover_output"),
        col_cell=ui.t("transposed.hover_input"),
    )
    if mviz.use_sparsity_view(index.shape[::-1]):  # the figure shows Cᵀ
        return freeze(mviz.sparsity_figure(index, labels=labels, transpose=True))
    return freeze(mviz.matrix_figure(index, kernel, y.reshape(-1), transpose=True, labels=labels))


@st.cache_resource(max_entries=64, show_spinner=False)
def stage_fig(i, k, s, p, d, a, seed, integers, stage, lang):
    steps = cached_steps(i, k, s, p, d, a, seed, integers)
    pad = steps.pad_before[0]
    labels = zviz.ZeroInsertionLabels(
        stage_input=ui.t("transposed.fig_input", i=i),
        stage_insert=ui.t("transposed.fig_insert", zeros=s - 1),
        stage_pad=ui.t("transposed.fig_pad", pad=pad, a=a),
        stage_flip=ui.t("transposed.fig_flip"),
        stage_slide=ui.t("transposed.fig_slide"),
        canvas=ui.t("transposed.fig_canvas"),
        kernel=ui.t("transposed.fig_kernel"),
        flipped_kernel=ui.t("transposed.fig_flipped_kernel"),
        output=ui.t("transposed.fig_output", o=steps.output.shape[0]),
        input_unit=ui.t("transposed.hover_unit"),
        inserted_zero=ui.t("transposed.hover_inserted"),
        padding_zero=ui.t("transposed.hover_padding"),
        cropped=ui.t("transposed.hover_cropped"),
        play=ui.t("common.play"),
        pause=ui.t("common.pause"),
    )
    return freeze(zviz.zero_insertion_figure(steps, labels, stage=stage, max_slide_frames=100))


@st.cache_data(max_entries=16, show_spinner=False)
def gif_for(i, k, s, p, d, a, seed, integers):
    return zviz.zero_insertion_gif(cached_steps(i, k, s, p, d, a, seed, integers), max_slide_frames=100)


st.title(ui.t("transposed.title"))
st.markdown(ui.t("transposed.intro"))
classroom_ui.question_block("transposed_conv")  # predict first: a class question on this lesson

with st.container(border=True):
    top = st.columns([3, 2, 1], vertical_alignment="bottom")
    top[0].selectbox(
        ui.t("transposed.preset"),
        ["custom", *PRESET_IDS],
        key="tc_preset",
        on_change=preset_chosen,
        format_func=lambda pid: ui.t(f"transposed.preset_{pid}"),
    )
    top[1].radio(
        ui.t("transposed.values"),
        [True, False],
        key="tc_integers",
        horizontal=True,
        format_func=lambda integers: ui.t("transposed.values_integers" if integers else "transposed.values_decimals"),
    )
    top[2].button(
        ui.t("transposed.new_values"), on_click=new_values, icon=":material/casino:", use_container_width=True
    )
    columns = st.columns(6)
    for column, (key, _, low, high) in zip(columns, SETTINGS, strict=False):
        column.slider(ui.t(f"transposed.{key}"), low, high, key=key, on_change=mark_custom)
    a_choices = list(range(max(st.session_state.tc_s, st.session_state.tc_d)))
    if st.session_state.tc_a not in a_choices:
        st.session_state.tc_a = 0
    columns[5].radio(
        ui.t("transposed.tc_a"),
        a_choices,
        key="tc_a",
        horizontal=True,
        on_change=mark_custom,
        help=ui.t("transposed.tc_a_help"),
    )

size_in, K, S, P, D = (st.session_state[key] for key, _, _, _ in SETTINGS)
A, seed, integers = st.session_state.tc_a, st.session_state.tc_seed, st.session_state.tc_integers
lang = ui.current_language()
try:
    explanation = explain_conv_transpose(size_in, K, S, P, D, A)
    steps = cached_steps(size_in, K, S, P, D, A, seed, integers)
except LabError as err:
    ui.show_error(err)
    st.stop()
size_out = explanation.result
by_steps, by_matrix, round_trip = route_checks(size_in, K, S, P, D, A, seed, integers)


def with_sliders(chart, needs_matrix: bool = False):
    """The frames of one of this lesson's charts, ``chart(i, k, s, p, d, a)``, for each slider at
    other values, the rest as now (output_padding reset where the page resets it)."""

    def checked(i, k, s, p, d):
        a = A if A < max(s, d) else 0
        explain_conv_transpose(i, k, s, p, d, a)  # a LabError where the lesson shows a sentence instead
        if needs_matrix and route_checks(i, k, s, p, d, a, seed, integers)[1] is None:
            return None  # no matrix there: the lesson says why instead
        return chart(i, k, s, p, d, a)

    now = {key: st.session_state[key] for key, *_ in SETTINGS}
    return classroom_ui.frames_per_slider({key: (low, high) for key, _, low, high in SETTINGS}, now, checked)


st.markdown(ui.t("transposed.sizes", i=size_in, o=size_out))
st.latex(explanation.substituted)
st.caption(ui.t(explanation.relationship_key))

st.subheader(ui.t("transposed.matrix_title"))
with st.container():  # either branch is one element here, so the charts below keep their place
    if by_matrix is None:
        st.info(ui.t("transposed.no_matrix", a=A, s=S, d=D), icon=":material/info:")
    else:
        st.markdown(
            ui.t(
                "transposed.matrix_text",
                i=size_in,
                o=size_out,
                rows=size_in * size_in,
                cols=size_out * size_out,
                k=K,
                s=S,
                p=P,
                d=D,
            )
        )
        with st.container():  # the note or nothing: the chart below keeps its place
            if mviz.use_sparsity_view((size_out * size_out, size_in * size_in)):
                st.info(
                    ui.t("transposed.sparse_note", rows=size_out * size_out, cols=size_in * size_in),
                    icon=":material/blur_on:",
                )
        classroom_ui.lesson_chart(
            matrix_fig(size_in, K, S, P, D, A, seed, integers, lang),
            "tc_matrix_fig",
            instant=with_sliders(lambda *size: matrix_fig(*size, seed, integers, lang), needs_matrix=True),
            config={"displayModeBar": False},
        )
        st.caption(ui.t("transposed.matrix_caption"))
        st.markdown(
            ui.t(
                "transposed.not_inverse",
                i=size_in,
                error=f"{pytorch_checks.max_difference(round_trip, steps.input):.3g}",
            )
        )

st.subheader(ui.t("transposed.route_title"))
st.markdown(ui.t("transposed.route_text"))
stage = st.radio(
    ui.t("transposed.stage"),
    list(STAGE_KEYS),
    key="tc_stage",
    horizontal=True,
    format_func=lambda name: ui.t(f"transposed.{STAGE_KEYS[name]}"),
)
pad = steps.pad_before[0]
stage_text = {
    "input": ui.t("transposed.explain_input", i=size_in),
    "insert": ui.t("transposed.explain_insert", zeros=S - 1, s=S, i=size_in, n=steps.zero_inserted.shape[0])
    if S > 1
    else ui.t("transposed.explain_insert_none"),
    "pad": ui.t("transposed.explain_pad", d=D, k=K, p=P, pad=pad, a=A, n=steps.padded.shape[0])
    if pad >= 0
    else ui.t("transposed.explain_crop", d=D, k=K, p=P, pad=pad, crop=-pad, a=A, n=steps.padded.shape[0]),
    "flip": ui.t("transposed.explain_flip", k=K),
    "slide": ui.t("transposed.explain_slide", d=D, o=size_out),
}[stage]
st.markdown(stage_text)
classroom_ui.lesson_chart(
    stage_fig(size_in, K, S, P, D, A, seed, integers, stage, lang),
    "tc_stage_fig",
    instant=with_sliders(lambda *size: stage_fig(*size, seed, integers, stage, lang)),
    config={"displayModeBar": False},
)
st.caption(ui.t("transposed.legend"))

st.markdown(ui.t("transposed.verify_title"))
ui.verification(by_steps.max_difference, what=ui.t("transposed.verify_steps"))
if by_matrix is not None:
    ui.verification(by_matrix.max_difference, what=ui.t("transposed.verify_matrix"))
    both = pytorch_checks.max_difference(by_steps.ours, by_matrix.ours)
    ui.verification(both, what=ui.t("transposed.verify_both"))
with st.expander(ui.t("transposed.show_numbers")):
    number_columns = st.columns(3 if by_matrix is not None else 2)
    number_columns[0].markdown(ui.t("transposed.by_steps"))
    number_columns[0].dataframe(steps.output)
    number_columns[1].markdown("**F.conv_transpose2d**")
    number_columns[1].dataframe(by_steps.torch)
    if by_matrix is not None:
        number_columns[2].markdown("**Cᵀ·y**")
        number_columns[2].dataframe(by_matrix.ours)

st.subheader(ui.t("transposed.output_padding_title"))
conv_inputs = list(input_sizes_for_output(size_in, K, S, P, D))
if len(conv_inputs) > 1:
    st.markdown(ui.t("transposed.ambiguity", k=K, s=S, p=P, d=D, sizes=", ".join(map(str, conv_inputs)), i=size_in))
else:
    st.markdown(ui.t("transposed.no_ambiguity", s=S, sizes=", ".join(map(str, conv_inputs)), i=size_in))
header = [
    ui.t("transposed.col_conv_input"),
    ui.t("transposed.col_conv_output"),
    ui.t("transposed.col_a"),
    ui.t("transposed.col_transposed_output"),
]
table = ["| " + " | ".join(header) + " |", "|" + " ---: |" * len(header)]
for size in conv_inputs:
    a_back = output_padding_for(size, K, S, P, D)
    cells = [size, conv_output_size(size, K, S, P, D), a_back, conv_transpose_output_size(size_in, K, S, P, D, a_back)]
    marker = "**" if a_back == A else ""
    table.append("| " + " | ".join(f"{marker}{cell}{marker}" for cell in cells) + " |")
st.markdown("\n".join(table))
st.caption(ui.t("transposed.output_padding_note", a=A, o=size_out))

st.subheader(ui.t("common.pytorch_code"))
st.code(lesson_code.transposed_code(size_in, K, S, P, D, A), language="python")
st.download_button(
    ui.t("common.download_gif"),
    data=lambda: gif_for(size_in, K, S, P, D, A, seed, integers),
    file_name=f"transposed_i{size_in}_k{K}_s{S}_p{P}_d{D}_a{A}.gif",
    mime="image/gif",
    icon=":material/download:",
    key="tc_gif",
)
st.caption(ui.t("transposed.gif_caption"))
