"""Lesson: the DCGAN architecture — the paper's guidelines, then G and D for any size, layer by layer."""

import streamlit as st

import classroom_ui
import ui
from dcgan_core.layers import parameter_counts, summarize_models, table_rows_as_dicts
from dcgan_core.models import IMAGE_SIZES, DCGANConfig
from dcgan_core.viz.architecture import architecture_figure

PAPER = DCGANConfig()  # pytorch/examples' DCGAN: 64×64×3, nz 100, ngf = ndf = 64
NZ_CHOICES = [16, 32, 50, 64, 100, 128, 200, 256]
WIDTH_CHOICES = [8, 16, 32, 64, 128]
DEFAULTS = {
    "arch_size": PAPER.image_size,
    "arch_channels": PAPER.channels,
    "arch_nz": PAPER.nz,
    "arch_ngf": PAPER.ngf,
    "arch_ndf": PAPER.ndf,
}
LESSON_PAGES = {
    "transposed_conv": ("pages/transposed_conv.py", "architecture.open_transposed"),
    "output_size": ("pages/output_size.py", "architecture.open_output_size"),
}

ui.defaults(DEFAULTS)


def reset_to_paper() -> None:
    for key, value in DEFAULTS.items():
        st.session_state[key] = value


@st.cache_data(max_entries=16, show_spinner=False)
def summary_for(image_size: int, channels: int, nz: int, ngf: int, ndf: int):
    return summarize_models(DCGANConfig(image_size=image_size, channels=channels, nz=nz, ngf=ngf, ndf=ndf))


@st.cache_data(show_spinner=False)
def paper_counts() -> tuple[int, int]:
    return parameter_counts(PAPER)


def page_exists(path: str) -> bool:
    return (ui.ROOT / path).exists()


st.html("""<style>
@media (max-width: 700px) { [class*="st-key-arch_horizontal_"] { display: none; } }
@media (min-width: 701px) { [class*="st-key-arch_vertical_"] { display: none; } }
</style>""")
st.title(ui.t("architecture.title"))
st.markdown(ui.t("architecture.intro"))

# ---------------------------------------------------------------- guidelines
st.header(ui.t("architecture.guidelines_title"))
st.markdown(ui.t("architecture.guidelines_intro"))
guideline_columns = st.columns(2)
for n in range(1, 6):
    with guideline_columns[(n - 1) % 2].container(border=True):
        st.markdown(f"**{n}. {ui.t(f'architecture.g{n}_title')}**\n\n{ui.t(f'architecture.g{n}_text')}")
        st.caption(f"{ui.t('architecture.why')}: {ui.t(f'architecture.g{n}_why')}")
with guideline_columns[1].container(border=True):
    st.markdown(f"**{ui.t('architecture.g_code_title')}**\n\n{ui.t('architecture.g_code')}")
    if page_exists("pages/guidelines_lab.py"):
        st.page_link(
            "pages/guidelines_lab.py", label=ui.t("architecture.guidelines_lab_link"), icon=":material/science:"
        )

# ---------------------------------------------------------------- controls
st.header(ui.t("architecture.controls_title"))
st.caption(ui.t("architecture.controls_help"))
with st.container(border=True):
    left, middle, right = st.columns([1.1, 1.1, 1.6])
    left.radio(
        ui.t("architecture.image_size"), IMAGE_SIZES, key="arch_size", horizontal=True, format_func=lambda s: f"{s}×{s}"
    )
    channel_labels = {c: ui.t(f"architecture.channels_{c}") for c in (1, 3)}  # translated now, not at format time
    left.radio(
        ui.t("architecture.channels"), [1, 3], key="arch_channels", horizontal=True, format_func=channel_labels.get
    )
    middle.select_slider(ui.t("architecture.nz"), NZ_CHOICES, key="arch_nz")
    middle.button(ui.t("architecture.reset"), on_click=reset_to_paper, icon=":material/restart_alt:")
    right.select_slider(ui.t("architecture.ngf"), WIDTH_CHOICES, key="arch_ngf", help=ui.t("architecture.width_help"))
    right.select_slider(ui.t("architecture.ndf"), WIDTH_CHOICES, key="arch_ndf", help=ui.t("architecture.width_help"))

try:
    summary = summary_for(
        st.session_state.arch_size,
        st.session_state.arch_channels,
        st.session_state.arch_nz,
        st.session_state.arch_ngf,
        st.session_state.arch_ndf,
    )
except Exception as err:  # a LabError from the config, shown as a sentence
    ui.show_error(err)
    st.stop()

paper_g, paper_d = paper_counts()
g_params, d_params = summary["G"].params, summary["D"].params
metric_columns = st.columns(3)
for column, label, value, reference in [
    (metric_columns[0], "architecture.params_g", g_params, paper_g),
    (metric_columns[1], "architecture.params_d", d_params, paper_d),
    (metric_columns[2], "architecture.params_total", g_params + d_params, paper_g + paper_d),
]:
    column.metric(
        ui.t(label),
        f"{value:,}",
        delta=f"{value - reference:+,}" if value != reference else None,
        delta_color="off",
        help=ui.t("architecture.params_delta_help"),
        border=True,
    )
st.caption(ui.t("architecture.reference_counts", g=f"{paper_g:,}", d=f"{paper_d:,}"))

# ---------------------------------------------------------------- G and D
COLUMN_LABELS = {
    "index": "col_index",
    "layer": "col_layer",
    "kernel": "col_kernel",
    "stride": "col_stride",
    "padding": "col_padding",
    "in_shape": "col_in",
    "out_shape": "col_out",
    "forward_shape": "col_forward",
    "params": "col_params",
    "formula": "col_formula",
}
# Together under 760 px: the table fits the main column of a 1280 px window beside the sidebar
# (820 px) without scrolling sideways. Each layer's formula is in the arithmetic section below.
COLUMN_WIDTHS = {
    "index": 32,
    "layer": 190,
    "kernel": 32,
    "stride": 32,
    "padding": 32,
    "in_shape": 88,
    "out_shape": 88,
    "forward_shape": 88,
    "match": 60,
    "params": 90,
}
TABLE_COLUMNS = (
    "index",
    "layer",
    "kernel",
    "stride",
    "padding",
    "in_shape",
    "out_shape",
    "forward_shape",
    "match",
    "params",
)
COLUMN_HELP = {
    "kernel": "col_kernel_help",
    "stride": "col_stride_help",
    "padding": "col_padding_help",
    "forward_shape": "col_forward_help",
}


def layer_notes(net: str, row, rows) -> str | None:
    if net == "G" and row.index == 0 and row.type == "ConvTranspose2d":
        return "architecture.note_project"
    if net == "D" and row is rows[-1] and row.type == "Conv2d":
        return "architecture.note_last"
    if row.index > 0 and rows[row.index - 1].type == "Upsample":
        return "architecture.note_upsample"
    return None


def show_network(net: str) -> None:
    info = summary[net]
    # Both layouts are sent; CSS shows the one that fits the window (left to right, or top to bottom on phones).
    for orientation in ("horizontal", "vertical"):
        with st.container(key=f"arch_{orientation}_{net}"):
            classroom_ui.lesson_chart(
                architecture_figure(info.rows, net, ui.current_language(), orientation=orientation),
                f"arch_figure_{orientation}_{net}",
                config={"displayModeBar": False},
            )
    st.caption(ui.t("architecture.figure_caption"))

    st.subheader(ui.t("architecture.table_title"))
    column_config = {
        name: st.column_config.Column(
            ui.t(f"architecture.{label}"),
            width=COLUMN_WIDTHS[name],
            help=ui.t(f"architecture.{COLUMN_HELP[name]}") if name in COLUMN_HELP else None,
        )
        for name, label in COLUMN_LABELS.items()
        if name in COLUMN_WIDTHS
    }
    column_config["params"] = st.column_config.NumberColumn(
        ui.t("architecture.col_params"), format="localized", width=COLUMN_WIDTHS["params"]
    )
    column_config["match"] = st.column_config.CheckboxColumn(
        ui.t("architecture.col_match"), width=COLUMN_WIDTHS["match"]
    )
    records = table_rows_as_dicts(info.rows, info.check)
    st.dataframe(
        records,
        hide_index=True,
        column_config=column_config,
        key=f"arch_table_{net}",
        column_order=[c for c in TABLE_COLUMNS if c in records[0]],
        height=35 * (len(records) + 1) + 3,
    )
    st.caption(ui.t("architecture.table_caption"))

    st.subheader(ui.t("architecture.arithmetic_title"))
    st.caption(ui.t("architecture.arithmetic_intro"))
    first_strided = next((r for r in info.rows if r.has_arithmetic and r.stride and r.stride > 1), None)
    for row in info.rows:
        if not row.has_arithmetic:
            continue
        expl = row.explanation
        title = ui.t(
            "architecture.layer_expander",
            index=row.index,
            type=row.type,
            detail=row.detail,
            h_in=row.in_shape[1],
            h_out=row.out_shape[1],
        )
        with st.expander(title, expanded=row is first_strided):
            st.markdown(f"**{ui.t(expl.relationship_key)}**")
            st.markdown(ui.t("architecture.general_formula"))
            st.latex(expl.formula)
            st.markdown(ui.t("architecture.with_numbers"))
            st.latex(expl.substituted)
            st.markdown(ui.t("architecture.steps"))
            for step_key, step_latex in expl.steps:
                st.markdown(f"- {ui.t(step_key)}: ${step_latex}$")
            note = layer_notes(net, row, info.rows)
            if note:
                st.info(ui.t(note), icon=":material/lightbulb:")
            page, label = LESSON_PAGES[row.lesson]
            if page_exists(page):
                st.page_link(
                    page,
                    label=ui.t(label),
                    icon=":material/school:",
                    query_params={"preset": row.preset} if row.preset else None,
                )

    check = info.check
    st.subheader(ui.t("architecture.verify_title"))
    net_name = ui.t("architecture.tab_g" if net == "G" else "architecture.tab_d")
    if check.ok:
        st.success(
            ui.t(
                "architecture.verify_ok",
                batch=check.batch,
                net=net_name,
                output=str(list(check.output_shape)),
                count=len(check.expected),
            ),
            icon=":material/check_circle:",
        )
    else:
        st.error(
            ui.t("architecture.verify_bad", layers=", ".join(map(str, check.mismatches))), icon=":material/cancel:"
        )
    with st.expander(ui.t("architecture.code_title")):
        st.code(info.code, language="text")


tab_g, tab_d = st.tabs([ui.t("architecture.tab_g"), ui.t("architecture.tab_d")])
with tab_g:
    show_network("G")
with tab_d:
    show_network("D")
