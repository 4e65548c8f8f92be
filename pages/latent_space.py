"""Latent space lesson: interpolate, walk and sweep the generator's z (paper §6.1)."""

import math
from functools import partial

import numpy as np
import streamlit as st
import torch

import ui
from dcgan_core import latent
from dcgan_core.i18n import LabError
from dcgan_core.viz import latent as viz

GRID_COLS, GRID_ROWS = 8, 4
MAX_PATH = 8  # points along the interpolation path
STRIP_COLS = 17  # images per row in the path strips

st.title(ui.t("latent.title"))
st.markdown(ui.t("latent.intro"))

picked = ui.generator_picker()
if picked is None:
    st.stop()
netG, cfg, model_path = picked
nz = cfg.nz
model_key = ui.model_cache_key(model_path)


@st.cache_data(max_entries=16, show_spinner=False)
def _sensitivity(_netG, model_key: str, z: np.ndarray) -> np.ndarray:
    return latent.dimension_sensitivity(_netG, torch.from_numpy(z)).numpy()


def render(z: torch.Tensor) -> torch.Tensor:
    return ui.render_generator(netG, model_key, z)


def show_strip(images: torch.Tensor, caption: str, ncols: int = STRIP_COLS) -> None:
    scale = max(1, 64 // images.shape[-1])
    st.image(viz.mosaic(images, ncols=ncols, scale=scale), caption=caption, width="stretch")


def read_seeds(key: str) -> list[int] | None:
    try:
        return latent.parse_seeds(st.session_state[key])
    except LabError as err:
        ui.show_error(err)
        return None


ui.defaults(
    {
        "ls_grid_seed": 0,
        "ls_path": "0, 1, 2",
        "ls_corners": "0, 1, 2, 3",
        "ls_sweep_seed": 0,
        "ls_target": "path",
        "ls_picker_version": 0,
    }
)


def on_pick(chart_key: str) -> None:
    """A click on a tile adds its seed to the path, the corners, or makes it the sweep's z."""
    index = ui.clicked_tile(chart_key)
    if index is None:
        return
    seed = int(st.session_state.ls_grid_seed) + index
    target = st.session_state.ls_target
    try:
        if target == "path":
            seeds = latent.parse_seeds(st.session_state.ls_path)
            st.session_state.ls_path = latent.seeds_text((seeds + [seed])[-MAX_PATH:])
        elif target == "corners":
            seeds = latent.parse_seeds(st.session_state.ls_corners)
            st.session_state.ls_corners = latent.seeds_text((seeds + [seed])[-4:])
        else:
            st.session_state.ls_sweep_seed = seed
    except LabError:  # the text box holds something unreadable: start again from the click
        st.session_state["ls_path" if target == "path" else "ls_corners"] = str(seed)
    st.session_state.ls_picker_version += 1  # a fresh chart: no selection left over to block the next click


# ---- 1. pick z's -----------------------------------------------------------------------------
st.header(ui.t("latent.pick_header"))
st.markdown(ui.t("latent.pick_intro", nz=nz))
controls = st.columns([1, 2])
controls[0].number_input(
    ui.t("latent.grid_seed"),
    min_value=0,
    max_value=10**6,
    step=GRID_COLS * GRID_ROWS,
    key="ls_grid_seed",
    help=ui.t("latent.grid_seed_help"),
)
targets = {
    "path": ui.t("latent.target_path"),
    "corners": ui.t("latent.target_corners"),
    "sweep": ui.t("latent.target_sweep"),
}
controls[1].radio(ui.t("latent.click_target"), list(targets), format_func=targets.get, key="ls_target", horizontal=True)

grid_seeds = list(range(int(st.session_state.ls_grid_seed), int(st.session_state.ls_grid_seed) + GRID_COLS * GRID_ROWS))
path_seeds = read_seeds("ls_path") or []
corner_seeds = read_seeds("ls_corners") or []
sweep_seed = int(st.session_state.ls_sweep_seed)
marks: dict[int, list[tuple[str, str]]] = {}
badges = [("path", s, str(i + 1)) for i, s in enumerate(path_seeds)]
badges += [("corner", s, arrow) for s, arrow in zip(corner_seeds, "↖↗↙↘", strict=False)]
badges += [("sweep", sweep_seed, "z")]
for group, seed, badge in badges:
    if seed in grid_seeds:
        marks.setdefault(grid_seeds.index(seed), []).append((group, badge))
grid_images = render(latent.z_from_seeds(grid_seeds, nz))
chart_key = f"ls_picker_{st.session_state.ls_picker_version}"
st.plotly_chart(
    viz.picker_figure(
        grid_images, GRID_COLS, [str(s) for s in grid_seeds], marks, hover=ui.t("latent.tile_hover", seed="{label}")
    ),
    key=chart_key,
    on_select=partial(on_pick, chart_key),
    selection_mode="points",
    config={"displayModeBar": False},
    width="stretch",
)
st.caption(ui.t("latent.picker_caption"))
inputs = st.columns(2)
inputs[0].text_input(ui.t("latent.path_seeds"), key="ls_path", help=ui.t("latent.path_seeds_help", max=MAX_PATH))
inputs[1].text_input(ui.t("latent.corner_seeds"), key="ls_corners", help=ui.t("latent.corner_seeds_help"))

# ---- 2. interpolation ------------------------------------------------------------------------
st.header(ui.t("latent.interp_header"))
st.markdown(ui.t("latent.interp_intro"))
steps = st.slider(ui.t("latent.steps"), 2, 16, 8, key="ls_steps")
if len(path_seeds) < 2:
    st.warning(ui.t("latent.need_two", count=len(path_seeds)))
elif len(path_seeds) > MAX_PATH:
    st.warning(ui.t("latent.too_many", count=len(path_seeds), max=MAX_PATH))
else:
    zs = list(latent.z_from_seeds(path_seeds, nz))
    z_linear = latent.interpolate_path(zs, steps, "linear")
    z_spherical = latent.interpolate_path(zs, steps, "spherical")
    linear_images, spherical_images = render(z_linear), render(z_spherical)
    ncols = min(len(z_linear), STRIP_COLS)
    show_strip(linear_images, ui.t("latent.linear_caption", seeds=latent.seeds_text(path_seeds)), ncols)
    show_strip(spherical_images, ui.t("latent.spherical_caption", seeds=latent.seeds_text(path_seeds)), ncols)

    linear_norms, spherical_norms = latent.norms(z_linear), latent.norms(z_spherical)
    shell = math.sqrt(nz)
    stats = st.columns(3)
    stats[0].metric(ui.t("latent.shell_radius"), f"{shell:.2f}", help=ui.t("latent.shell_radius_help", nz=nz))
    stats[1].metric(
        ui.t("latent.min_norm_linear"),
        f"{linear_norms.min():.2f}",
        delta=f"{100 * (linear_norms.min() / shell - 1):+.0f}%",
        delta_color="off",
    )
    stats[2].metric(
        ui.t("latent.min_norm_spherical"),
        f"{spherical_norms.min():.2f}",
        delta=f"{100 * (spherical_norms.min() / shell - 1):+.0f}%",
        delta_color="off",
    )
    names = {"linear": ui.t("latent.linear"), "spherical": ui.t("latent.spherical")}
    charts = st.columns(2)
    with charts[0]:
        st.markdown(f"**{ui.t('latent.norms_title')}**")
        st.plotly_chart(
            viz.norms_figure(
                linear_norms.numpy(),
                spherical_norms.numpy(),
                nz,
                names
                | {
                    "shell": ui.t("latent.shell_label", radius=f"{shell:.1f}"),
                    "x": ui.t("latent.step_axis"),
                    "y": ui.t("latent.norm_axis"),
                },
            ),
            width="stretch",
            config={"displayModeBar": False},
        )
    with charts[1]:
        st.markdown(f"**{ui.t('latent.changes_title')}**")
        linear_changes, spherical_changes = latent.path_changes(linear_images), latent.path_changes(spherical_images)
        st.plotly_chart(
            viz.step_change_figure(
                linear_changes.numpy(),
                spherical_changes.numpy(),
                names | {"x": ui.t("latent.step_axis"), "y": ui.t("latent.change_axis")},
            ),
            width="stretch",
            config={"displayModeBar": False},
        )
    largest = max(float(linear_changes.max()), float(spherical_changes.max()))
    typical = float(torch.cat([linear_changes, spherical_changes]).median())
    st.caption(
        ui.t(
            "latent.changes_caption",
            largest=f"{largest:.3f}",
            typical=f"{typical:.3f}",
            ratio=f"{largest / max(typical, 1e-9):.1f}",
        )
    )
    with st.expander(ui.t("latent.why_slerp_title"), expanded=False):
        st.markdown(ui.t("latent.why_slerp", nz=nz, shell=f"{shell:.1f}", half=f"{math.sqrt(nz / 2):.1f}"))
    with st.expander(ui.t("latent.smooth_title"), expanded=True):
        st.markdown(ui.t("latent.smooth_body"))
    st.download_button(
        ui.t("common.download_gif"),
        viz.walk_gif([linear_images, spherical_images]),
        file_name="latent_walk.gif",
        mime="image/gif",
        key="ls_gif",
        help=ui.t("latent.gif_help"),
    )

# ---- 3. a 2-D walk ---------------------------------------------------------------------------
st.header(ui.t("latent.walk_header"))
st.markdown(ui.t("latent.walk_intro"))
walk_controls = st.columns(2)
size = walk_controls[0].slider(ui.t("latent.walk_size"), 3, 10, 7, key="ls_walk_size")
methods = {"spherical": ui.t("latent.spherical"), "linear": ui.t("latent.linear")}
walk_method = walk_controls[1].radio(
    ui.t("latent.method"), list(methods), format_func=methods.get, key="ls_walk_method", horizontal=True
)
if len(corner_seeds) != 4:
    st.warning(ui.t("latent.need_four", count=len(corner_seeds)))
else:
    corners = list(latent.z_from_seeds(corner_seeds, nz))
    walk_images = render(latent.walk_grid(corners, size, size, walk_method))
    scale = max(1, 48 // walk_images.shape[-1])
    left, _ = st.columns([3, 1]) if size <= 7 else (st.container(), None)
    left.image(
        viz.mosaic(walk_images, ncols=size, scale=scale),
        width="stretch",
        caption=ui.t(
            "latent.walk_caption", tl=corner_seeds[0], tr=corner_seeds[1], bl=corner_seeds[2], br=corner_seeds[3]
        ),
    )

# ---- 4. one coordinate at a time -------------------------------------------------------------
st.header(ui.t("latent.sweep_header"))
st.markdown(ui.t("latent.sweep_intro"))
sweep_controls = st.columns(3)
sweep_controls[0].number_input(ui.t("latent.sweep_seed"), min_value=0, max_value=10**6, key="ls_sweep_seed")
z_sweep = latent.z_from_seed(int(st.session_state.ls_sweep_seed), nz)[0]
sensitivity = torch.from_numpy(_sensitivity(netG, model_key, z_sweep.numpy()))
if "ls_dim" not in st.session_state or st.session_state.ls_dim >= nz:  # first visit, or a model with a smaller z
    st.session_state.ls_dim = int(sensitivity.argmax())
dim = sweep_controls[1].number_input(ui.t("latent.sweep_dim", last=nz - 1), min_value=0, max_value=nz - 1, key="ls_dim")
low, high = sweep_controls[2].slider(ui.t("latent.sweep_range"), -5.0, 5.0, (-3.0, 3.0), step=0.5, key="ls_sweep_range")
values = torch.linspace(low, high, 11)
sweep_images = render(latent.dimension_sweep(z_sweep, int(dim), values))
show_strip(
    sweep_images,
    ui.t(
        "latent.sweep_caption",
        dim=int(dim),
        original=f"{float(z_sweep[int(dim)]):+.2f}",
        values=", ".join(f"{v:+.1f}" if abs(v) > 1e-6 else "0" for v in values.tolist()),
    ),
    ncols=11,
)
st.markdown(f"**{ui.t('latent.sensitivity_title')}**")
st.plotly_chart(
    viz.sensitivity_figure(
        sensitivity.numpy(), int(dim), x_title=ui.t("latent.dim_axis"), y_title=ui.t("latent.change_axis")
    ),
    width="stretch",
    config={"displayModeBar": False},
)
st.caption(
    ui.t(
        "latent.sensitivity_caption",
        top=", ".join(str(i) for i in sensitivity.argsort(descending=True)[:5].tolist()),
        ratio=f"{float(sensitivity.max() / sensitivity.median().clamp_min(1e-9)):.1f}",
    )
)
