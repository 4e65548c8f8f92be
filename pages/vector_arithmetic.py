"""Vector arithmetic lesson: mean(A) − mean(B) + mean(C) on z's (paper §6.3)."""

from functools import partial

import pandas as pd
import streamlit as st
import torch

import ui
from dcgan_core import arithmetic_presets, latent
from dcgan_core.i18n import LabError
from dcgan_core.viz import latent as viz

GRID_COLS, GRID_ROWS = 8, 5
POOL_SEEDS = range(0, 512)  # where the presets look for exemplars
GROUPS = ("A", "B", "C")

st.title(ui.t("vector_arithmetic.title"))
st.markdown(ui.t("vector_arithmetic.intro"))
with st.expander(ui.t("vector_arithmetic.paper_title")):
    st.markdown(ui.t("vector_arithmetic.paper_body"))

picked = ui.generator_picker(key="generator_choice")
if picked is None:
    st.stop()
netG, cfg, model_path = picked
nz = cfg.nz
model_key = ui.model_cache_key(model_path)


def render(z: torch.Tensor) -> torch.Tensor:
    return ui.render_generator(netG, model_key, z)


def load_classifier():
    """The shipped MNIST classifier, or None (with the reason) when it cannot judge these samples."""
    if cfg.channels != 1:
        return None, ui.t("vector_arithmetic.presets_need_grey")
    try:
        from dcgan_core.classifier import load_classifier as load

        return load(), None
    except LabError as err:
        return None, err.message(ui.current_language())


@st.cache_data(max_entries=16, show_spinner=False)
def _preset_seeds(_netG, _classifier, model_key: str, preset: str) -> tuple[list[int], list[int], list[int]] | None:
    """The committed groups for the shipped generator (scripts/find_presets.py checked that they
    work), else a search of this generator's first samples by the same ranking."""
    from dcgan_core.metrics import classifier_features

    committed = arithmetic_presets.presets_for_model(model_path).get(preset)
    if committed is not None:
        return tuple(committed.groups[g] for g in GROUPS)

    seeds = list(POOL_SEEDS)
    images = latent.generate(_netG, latent.z_from_seeds(seeds, nz))
    _, probs = classifier_features(images, _classifier)
    probs = torch.from_numpy(probs)
    found = latent.preset_groups(images, probs.argmax(1), probs.max(1).values, latent.PRESETS[preset])
    if found is None:
        return None
    return tuple([seeds[i] for i in group] for group in found)


classifier, no_classifier_reason = load_classifier()
preset_names = {key: ui.t(f"vector_arithmetic.preset_{key}") for key in latent.PRESETS} if classifier else {}
preset_names["custom"] = ui.t("vector_arithmetic.preset_custom")
FALLBACK = {"A": "0, 1, 2", "B": "3, 4, 5", "C": "6, 7, 8"}


def apply_preset() -> None:
    preset = st.session_state.va_preset
    if preset == "custom":
        return
    found = _preset_seeds(netG, classifier, model_key, preset)
    if found is None:
        st.session_state.va_preset_failed = preset
        return
    st.session_state.va_preset_failed = None
    for group, seeds in zip(GROUPS, found, strict=False):
        st.session_state[f"va_{group}"] = latent.seeds_text(seeds)


if "va_preset" not in st.session_state or st.session_state.va_preset not in preset_names:
    st.session_state.va_preset = next(iter(preset_names))
ui.defaults({"va_grid_seed": 0, "va_target": "A", "va_picker_version": 0, "va_noise_seed": 0, "va_preset_failed": None})
if "va_A" not in st.session_state:
    for group in GROUPS:
        st.session_state[f"va_{group}"] = FALLBACK[group]
    apply_preset()
elif st.session_state.get("va_model") != model_key:
    apply_preset()  # another generator: its own exemplars for the chosen equation
st.session_state.va_model = model_key


def on_pick(chart_key: str) -> None:
    """A click on a tile adds its seed to the chosen group, or removes it if it is already there."""
    index = ui.clicked_tile(chart_key)
    if index is None:
        return
    seed = int(st.session_state.va_grid_seed) + index
    key = f"va_{st.session_state.va_target}"
    try:
        seeds = latent.parse_seeds(st.session_state[key])
    except LabError:
        seeds = []
    st.session_state[key] = latent.seeds_text([s for s in seeds if s != seed] if seed in seeds else seeds + [seed])
    st.session_state.va_preset = "custom"
    st.session_state.va_picker_version += 1


def on_edit() -> None:
    st.session_state.va_preset = "custom"


# ---- choose the groups -------------------------------------------------------------------------
st.header(ui.t("vector_arithmetic.groups_header"))
st.markdown(ui.t("vector_arithmetic.groups_intro", minimum=latent.MIN_GROUP_SIZE))
st.selectbox(
    ui.t("vector_arithmetic.preset"),
    list(preset_names),
    format_func=preset_names.get,
    key="va_preset",
    on_change=apply_preset,
    help=ui.t("vector_arithmetic.preset_help", pool=len(POOL_SEEDS)),
)
if no_classifier_reason:
    st.info(ui.t("vector_arithmetic.presets_unavailable", reason=no_classifier_reason))
if st.session_state.va_preset_failed:
    st.warning(ui.t("vector_arithmetic.preset_failed", preset=preset_names.get(st.session_state.va_preset_failed, "")))
elif st.session_state.va_preset != "custom":
    st.caption(ui.t(f"vector_arithmetic.preset_{st.session_state.va_preset}_explain"))

group_seeds: dict[str, list[int] | None] = {}
for group in GROUPS:
    try:
        group_seeds[group] = latent.parse_seeds(st.session_state[f"va_{group}"])
    except LabError as err:
        group_seeds[group] = None
        ui.show_error(err)

controls = st.columns([1, 2])
controls[0].number_input(
    ui.t("vector_arithmetic.grid_seed"), min_value=0, max_value=10**6, step=GRID_COLS * GRID_ROWS, key="va_grid_seed"
)
group_labels = {g: ui.t("vector_arithmetic.group_label", group=g) for g in GROUPS}
controls[1].radio(
    ui.t("vector_arithmetic.click_target"), list(GROUPS), format_func=group_labels.get, key="va_target", horizontal=True
)
grid_seeds = list(range(int(st.session_state.va_grid_seed), int(st.session_state.va_grid_seed) + GRID_COLS * GRID_ROWS))
marks: dict[int, list[tuple[str, str]]] = {}
for group in GROUPS:
    for seed in group_seeds[group] or []:
        if seed in grid_seeds:
            marks.setdefault(grid_seeds.index(seed), []).append((group, group))
chart_key = f"va_picker_{st.session_state.va_picker_version}"
st.plotly_chart(
    viz.picker_figure(
        render(latent.z_from_seeds(grid_seeds, nz)),
        GRID_COLS,
        [str(s) for s in grid_seeds],
        marks,
        hover=ui.t("vector_arithmetic.tile_hover", seed="{label}"),
    ),
    key=chart_key,
    on_select=partial(on_pick, chart_key),
    selection_mode="points",
    config={"displayModeBar": False},
    width="stretch",
)
st.caption(ui.t("vector_arithmetic.picker_caption"))

columns = st.columns(3)
group_images: dict[str, torch.Tensor] = {}
for column, group in zip(columns, GROUPS, strict=False):
    with column:
        st.text_input(
            ui.t(f"vector_arithmetic.group_{group.lower()}"),
            key=f"va_{group}",
            on_change=on_edit,
            help=ui.t("vector_arithmetic.group_help"),
        )
        seeds = group_seeds[group] or []
        if seeds:
            z = latent.z_from_seeds(seeds, nz)
            group_images[group] = render(z)
            st.image(
                viz.mosaic(group_images[group], ncols=min(len(seeds), 6), scale=2),
                width="content",
                caption=ui.t("vector_arithmetic.members", count=len(seeds)),
            )

# ---- the arithmetic ----------------------------------------------------------------------------
st.header(ui.t("vector_arithmetic.result_header"))
short = [(g, len(group_seeds[g] or [])) for g in GROUPS if len(group_seeds[g] or []) < latent.MIN_GROUP_SIZE]
if short:
    for group, count in short:
        st.warning(ui.t("latent.too_few_in_group", group=group, count=count, minimum=latent.MIN_GROUP_SIZE))
    st.stop()

zs = {g: latent.z_from_seeds(group_seeds[g], nz) for g in GROUPS}
z_result = latent.vector_arithmetic(zs["A"], zs["B"], zs["C"])
st.columns([1, 2])[0].number_input(
    ui.t("vector_arithmetic.noise_seed"),
    min_value=0,
    max_value=10**6,
    key="va_noise_seed",
    help=ui.t("vector_arithmetic.noise_seed_help", scale=latent.NEIGHBOUR_SCALE),
)
result_images = render(arithmetic_presets.result_grid_z(z_result, int(st.session_state.va_noise_seed)))
means = {g: render(zs[g].mean(0, keepdim=True)) for g in GROUPS}
pixel_result = latent.pixel_arithmetic(group_images["A"], group_images["B"], group_images["C"])[None]

size = result_images.shape[-1]
single_scale, grid_scale = max(1, 192 // size), max(1, 96 // size)  # about 200 px per picture, 300 px for the 3×3
st.markdown(ui.t("vector_arithmetic.equation"))
EQUATION_COLUMNS = [1, 1, 1, 1.6, 1.2]  # the last one stays empty: keeps pictures a sensible size on wide screens
eq = st.columns(EQUATION_COLUMNS)
for column, group, sign in zip(eq, GROUPS, ("", "−", "+"), strict=False):
    column.image(
        viz.mosaic(means[group], ncols=1, scale=single_scale),
        width="content",
        caption=ui.t("vector_arithmetic.mean_caption", sign=sign, group=group),
    )
result_reading = arithmetic_presets.read_digits(result_images, classifier) if classifier is not None else None
result_caption = ui.t("vector_arithmetic.result_caption", scale=latent.NEIGHBOUR_SCALE)
if result_reading is not None:
    result_caption += " · " + ui.t(
        "vector_arithmetic.result_reads",
        digit=result_reading.digit,
        votes=result_reading.votes,
        total=result_reading.total,
    )
eq[3].image(
    viz.mosaic(result_images, ncols=3, scale=grid_scale, frames={len(result_images) // 2: viz.GROUP_COLOURS["path"]}),
    width="content",
    caption=result_caption,
)


def _next_neighbours() -> None:
    st.session_state.va_noise_seed = int(st.session_state.va_noise_seed) + 1


if result_reading is not None:
    # The target: the preset's digit_c, or what group C reads as for groups of one's own.
    preset_key = st.session_state.va_preset
    target = (
        latent.PRESETS[preset_key].digit_c
        if preset_key in latent.PRESETS
        else arithmetic_presets.read_digits(group_images["C"], classifier).digit
    )
    votes = result_reading.votes_for(target)
    if votes >= arithmetic_presets.MIN_TARGET_VOTES:
        st.success(ui.t("vector_arithmetic.target_reached", target=target, votes=votes, total=result_reading.total))
    else:
        st.warning(
            ui.t(
                "vector_arithmetic.target_missed",
                target=target,
                votes=votes,
                total=result_reading.total,
                digit=result_reading.digit,
                minimum=arithmetic_presets.MIN_TARGET_VOTES,
            )
        )
        st.button(
            ui.t("vector_arithmetic.other_samples"),
            key="va_other_samples",
            on_click=_next_neighbours,
            help=ui.t("vector_arithmetic.other_samples_help"),
        )

st.subheader(ui.t("vector_arithmetic.pixel_header"))
pixel_cols = st.columns(EQUATION_COLUMNS)
for column, group, sign in zip(pixel_cols, GROUPS, ("", "−", "+"), strict=False):
    column.image(
        viz.mosaic(group_images[group].mean(0, keepdim=True), ncols=1, scale=single_scale),
        width="content",
        caption=ui.t("vector_arithmetic.pixel_mean_caption", sign=sign, group=group),
    )
with pixel_cols[3]:
    pixel_caption = ui.t("vector_arithmetic.pixel_caption")
    if classifier is not None:
        pixel_reading = arithmetic_presets.read_digits(pixel_result, classifier)
        pixel_caption += " · " + ui.t(
            "vector_arithmetic.pixel_reads", digit=pixel_reading.digit, confidence=f"{pixel_reading.confidence:.2f}"
        )
    st.image(viz.mosaic(pixel_result, ncols=1, scale=single_scale), width="content", caption=pixel_caption)
st.markdown(ui.t("vector_arithmetic.pixel_explain"))

# ---- did it work? ------------------------------------------------------------------------------
st.header(ui.t("vector_arithmetic.check_header"))
st.markdown(ui.t("vector_arithmetic.check_intro"))
measured = {g: latent.measure(group_images[g]) for g in GROUPS}
measured["result"] = latent.measure(result_images)
measured["pixel"] = latent.measure(pixel_result)
expected = {a: measured["C"][a] + measured["A"][a] - measured["B"][a] for a in latent.ATTRIBUTES}
columns_order = ["A", "B", "C", "expected", "result", "pixel"]
table = pd.DataFrame(
    {
        ui.t(f"vector_arithmetic.col_{c.lower()}"): [
            (expected if c == "expected" else measured[c])[a] for a in latent.ATTRIBUTES
        ]
        for c in columns_order
    },
    index=[ui.t(f"vector_arithmetic.attr_{a}") for a in latent.ATTRIBUTES],
)
st.dataframe(table.style.format("{:.3f}"), width="stretch")
st.caption(ui.t("vector_arithmetic.attr_explain"))

if classifier is not None:

    def reading(images: torch.Tensor) -> str:
        found = arithmetic_presets.read_digits(images, classifier)
        return ui.t(
            "vector_arithmetic.reads_as",
            digit=found.digit,
            votes=found.votes,
            total=found.total,
            confidence=f"{found.confidence:.2f}",
        )

    st.markdown(f"**{ui.t('vector_arithmetic.reads_title')}**")
    readings = st.columns(5)
    for column, name, images in zip(
        readings,
        ["A", "B", "C", "result", "pixel"],
        [group_images["A"], group_images["B"], group_images["C"], result_images, pixel_result],
        strict=False,
    ):
        column.markdown(f"**{ui.t(f'vector_arithmetic.col_{name.lower()}')}**  \n{reading(images)}")
