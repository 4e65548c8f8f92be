"""Lesson 2 — a convolution is a multiplication by a sparse matrix C (Dumoulin & Visin §4.1)."""

from functools import partial

import numpy as np
import streamlit as st

import classroom_ui
import ui
from dcgan_core.convmatrix import conv_matrix, conv_matrix_index, sparsity
from dcgan_core.i18n import LabError
from dcgan_core.viz import lesson_code, pytorch_checks
from dcgan_core.viz import matrix as mviz
from dcgan_core.viz.frozen import freeze

# (key, default, min, max): the article's example is a 3×3 kernel on a 4×4 input.
SETTINGS = [
    ("cm_h", 4, 1, 64),
    ("cm_w", 4, 1, 64),
    ("cm_k", 3, 1, 7),
    ("cm_s", 1, 1, 4),
    ("cm_p", 0, 0, 4),
    ("cm_d", 1, 1, 3),
]
ui.defaults({key: default for key, default, _, _ in SETTINGS})
ui.defaults({"cm_seed": 0, "cm_integers": True, "cm_row": 0})


@st.cache_data(max_entries=256, show_spinner=False)
def cached_index(h, w, k, s, p, d):
    return conv_matrix_index((h, w), k, s, p, d)


@st.cache_data(max_entries=256, show_spinner=False)
def cached_values(h, w, k, seed, integers):
    x = mviz.example_values((h, w), seed, integers, "input")
    kernel = mviz.example_values((k, k), seed, integers, "kernel")
    return x, kernel


@st.cache_data(max_entries=128, show_spinner=False)
def torch_check(h, w, k, s, p, d, seed, integers):
    """C·x with the sparse C against F.conv2d."""
    x, kernel = cached_values(h, w, k, seed, integers)
    return pytorch_checks.conv_by_matrix(x, kernel, s, p, d)


@st.cache_data(max_entries=128, show_spinner=False)
def matrix_sparsity(h, w, k, s, p, d, seed, integers):
    _, kernel = cached_values(h, w, k, seed, integers)
    return sparsity(conv_matrix((h, w), kernel, s, p, d))


@st.cache_resource(max_entries=64, show_spinner=False)
def matrix_fig(h, w, k, s, p, d, seed, integers, row, cell_text, lang):
    index = cached_index(h, w, k, s, p, d)
    x, kernel = cached_values(h, w, k, seed, integers)
    labels = mviz.MatrixLabels(
        matrix="C",
        vector="x",
        result="y",
        row_cell=ui.t("conv_matrix.hover_output"),
        col_cell=ui.t("conv_matrix.hover_input"),
    )
    if mviz.use_sparsity_view(index.shape):
        return freeze(mviz.sparsity_figure(index, highlight_row=row, labels=labels))
    return freeze(
        mviz.matrix_figure(index, kernel, x.reshape(-1), highlight_row=row, labels=labels, cell_text=cell_text)
    )


@st.cache_resource(max_entries=64, show_spinner=False)
def grid_figs(h, w, k, s, p, d, seed, integers, row, lang):
    index = cached_index(h, w, k, s, p, d)
    x, kernel = cached_values(h, w, k, seed, integers)
    y = torch_check(h, w, k, s, p, d, seed, integers).ours
    oh, ow = index.output_size
    taps = mviz.window_taps(row // ow, row % ow, (k, k), s, p, d)
    symbols = np.array(
        [[f"{mviz.kernel_symbol(r, c)}<br>{mviz.number(kernel[r, c])}" for c in range(k)] for r in range(k)],
        dtype=object,
    )
    input_fig = mviz.grid_figure(
        x,
        padding=p,
        outlined=taps,
        labels=mviz.GridLabels(
            title=ui.t("conv_matrix.input_title", h=h, w=w, p=p), cell="x", padding=ui.t("conv_matrix.hover_padding")
        ),
    )
    kernel_fig = mviz.grid_figure(
        kernel,
        text=symbols,
        labels=mviz.GridLabels(title=ui.t("conv_matrix.kernel_title", k=k), cell="w"),
        max_cell_px=52,
    )
    output_fig = mviz.grid_figure(
        y,
        outlined=[(row // ow, row % ow)],
        clickable=True,
        labels=mviz.GridLabels(title=ui.t("conv_matrix.output_title", h=oh, w=ow), cell="y"),
    )
    return freeze(input_fig), freeze(kernel_fig), freeze(output_fig)


@st.cache_data(max_entries=16, show_spinner=False)
def gif_for(h, w, k, s, p, d, seed, integers):
    index = cached_index(h, w, k, s, p, d)
    x, kernel = cached_values(h, w, k, seed, integers)
    return mviz.conv_matrix_gif(
        index, kernel, x, stride=s, padding=p, dilation=d, max_frames=gif_frames(index.shape[0])
    )


def gif_frames(rows):
    return 64 if rows <= 256 else 24


def new_values():
    st.session_state.cm_seed = (st.session_state.cm_seed + 1) % 10_000


def select_clicked_cell(output_width):
    cell = ui.clicked_cell("cm_output_click")
    if cell is not None:
        st.session_state.cm_row = cell[0] * output_width + cell[1]


st.title(ui.t("conv_matrix.title"))
st.markdown(ui.t("conv_matrix.intro"))
classroom_ui.question_block("conv_matrix")  # predict first: a class question on this lesson

with st.container(border=True):
    columns = st.columns(6)
    for column, (key, _, low, high) in zip(columns, SETTINGS, strict=False):
        column.slider(ui.t(f"conv_matrix.{key}"), low, high, key=key)
    left, middle, right = st.columns([2, 1, 1], vertical_alignment="bottom")
    left.radio(
        ui.t("conv_matrix.values"),
        [True, False],
        key="cm_integers",
        horizontal=True,
        format_func=lambda integers: ui.t("conv_matrix.values_integers" if integers else "conv_matrix.values_decimals"),
    )
    middle.number_input(ui.t("conv_matrix.seed"), 0, 9_999, key="cm_seed")
    right.button(
        ui.t("conv_matrix.new_values"), on_click=new_values, icon=":material/casino:", use_container_width=True
    )

H, W, K, S, P, D = (st.session_state[key] for key, _, _, _ in SETTINGS)
seed, integers = st.session_state.cm_seed, st.session_state.cm_integers
try:
    index = cached_index(H, W, K, S, P, D)
except LabError as err:
    ui.show_error(err)
    st.stop()

(OH, OW), (rows, cols) = index.output_size, index.shape
if st.session_state.cm_row >= rows:
    st.session_state.cm_row = rows - 1
x, kernel = cached_values(H, W, K, seed, integers)
check = torch_check(H, W, K, S, P, D, seed, integers)
stats = matrix_sparsity(H, W, K, S, P, D, seed, integers)
lang = ui.current_language()

st.subheader(ui.t("conv_matrix.grids_title"))
with st.container():  # the row slider or nothing: one element either way, so the charts keep their place
    if rows > 1:
        st.select_slider(
            ui.t("conv_matrix.select_row"),
            options=list(range(rows)),
            key="cm_row",
            format_func=lambda r: ui.t("conv_matrix.row_format", row=r, r=r // OW, c=r % OW),
        )
row = st.session_state.cm_row
out_r, out_c = divmod(row, OW)
input_fig, kernel_fig, output_fig = grid_figs(H, W, K, S, P, D, seed, integers, row, lang)
grid_columns = st.columns([3, 2, 3])
classroom_ui.lesson_chart(input_fig, "cm_input_fig", grid_columns[0], config={"displayModeBar": False})
classroom_ui.lesson_chart(kernel_fig, "cm_kernel_fig", grid_columns[1], config={"displayModeBar": False})
classroom_ui.lesson_chart(
    output_fig,
    "cm_output_click",
    grid_columns[2],
    on_select=partial(select_clicked_cell, OW),
    selection_mode="points",
    config={"displayModeBar": False},
)

symbol_lines, number_lines, value = mviz.row_expression(index, kernel, x, row)
st.markdown(ui.t("conv_matrix.row_sum", row=row, r=out_r, c=out_c))
lines = [
    rf"y_{{({out_r},{out_c})}} &= {symbol_lines[0]}",
    *(rf"&\quad + {line}" for line in symbol_lines[1:]),
    rf"&= {number_lines[0]}",
    *(rf"&\quad + {line}" for line in number_lines[1:]),
    rf"&= {mviz.number(value)}",
]
st.latex(r"\begin{aligned}" + r" \\ ".join(lines) + r"\end{aligned}")
taps_in_row = int(np.sum(index.rows == row))
with st.container():  # the note or nothing
    if taps_in_row < K * K:
        st.info(
            ui.t("conv_matrix.padding_taps", missing=K * K - taps_in_row, total=K * K, nnz=taps_in_row),
            icon=":material/border_outer:",
        )

st.subheader(ui.t("conv_matrix.matrix_title"))
st.markdown(
    ui.t(
        "conv_matrix.matrix_shape",
        rows=rows,
        cols=cols,
        oh=OH,
        ow=OW,
        h=H,
        w=W,
        nnz=stats["nnz"],
        total=rows * cols,
        density=f"{100 * stats['density']:.3g} %",
    )
)
sparse_view = mviz.use_sparsity_view(index.shape)
with st.container():  # either view's controls are one element here, so the chart below keeps its place
    if sparse_view:
        st.info(
            ui.t("conv_matrix.sparse_note", rows=rows, cols=cols, limit=mviz.HEATMAP_LIMIT), icon=":material/blur_on:"
        )
        metric_columns = st.columns(3)
        metric_columns[0].metric(ui.t("conv_matrix.metric_shape"), f"{rows} × {cols}")
        metric_columns[1].metric(ui.t("conv_matrix.metric_nnz"), f"{stats['nnz']:,}")
        metric_columns[2].metric(ui.t("conv_matrix.metric_density"), f"{100 * stats['density']:.3g} %")
        cell_text = "symbol"
    else:
        cell_text = st.radio(
            ui.t("conv_matrix.cell_text"),
            ["symbol", "value", "both"],
            key="cm_cell_text",
            horizontal=True,
            format_func=lambda v: ui.t(f"conv_matrix.cell_text_{v}"),
        )


def matrix_fig_at(h, w, k, s, p, d):
    """C for other sizes, the rest as now (a LabError where the lesson shows a sentence instead); the
    highlighted row is kept inside C as the page keeps it."""
    shape = cached_index(h, w, k, s, p, d).shape
    text = "symbol" if mviz.use_sparsity_view(shape) else st.session_state.get("cm_cell_text", "symbol")
    return matrix_fig(h, w, k, s, p, d, seed, integers, min(row, shape[0] - 1), text, lang)


classroom_ui.lesson_chart(
    matrix_fig(H, W, K, S, P, D, seed, integers, row, cell_text, lang),
    "cm_matrix_fig",
    instant=classroom_ui.frames_per_slider(
        {key: (low, high) for key, _, low, high in SETTINGS},
        {key: st.session_state[key] for key, *_ in SETTINGS},
        matrix_fig_at,
    )
    + [
        classroom_ui.SliderFrames(
            "cm_row", 0, rows - 1, lambda r: matrix_fig(H, W, K, S, P, D, seed, integers, r, cell_text, lang)
        )
    ][: rows > 1],
    config={"displayModeBar": False},
)
st.caption(ui.t("conv_matrix.sparse_caption" if sparse_view else "conv_matrix.matrix_caption"))

st.subheader(ui.t("conv_matrix.verify_title"))
st.markdown(ui.t("conv_matrix.verify_text"))
check_columns = st.columns(2)
check_columns[0].markdown(ui.t("conv_matrix.by_matrix", oh=OH, ow=OW))
check_columns[0].dataframe(check.ours, hide_index=False, height=min(38 + 35 * OH, 300))
check_columns[1].markdown(ui.t("conv_matrix.by_torch"))
check_columns[1].dataframe(check.torch, hide_index=False, height=min(38 + 35 * OH, 300))
ui.verification(check.max_difference, what=ui.t("conv_matrix.verify_what"))

st.subheader(ui.t("common.pytorch_code"))
st.code(lesson_code.conv_matrix_code(H, W, K, S, P, D), language="python")
st.caption(ui.t("conv_matrix.code_caption"))

frames = len(mviz.frame_units(rows, gif_frames(rows)))
st.download_button(
    ui.t("common.download_gif"),
    data=lambda: gif_for(H, W, K, S, P, D, seed, integers),
    file_name=f"conv_matrix_{H}x{W}_k{K}_s{S}_p{P}_d{D}.gif",
    mime="image/gif",
    icon=":material/download:",
    key="cm_gif",
)
st.caption(ui.t("conv_matrix.gif_caption", frames=frames, rows=rows))

st.subheader(ui.t("conv_matrix.next_title"))
st.markdown(ui.t("conv_matrix.next_text", rows=rows, cols=cols, oh=OH, ow=OW, h=H, w=W))
st.page_link("pages/transposed_conv.py", label=ui.t("conv_matrix.next_link"), icon=":material/arrow_forward:")
