"""Train a DCGAN live: one shared run per server, watched by every browser,
steered only by whoever holds its control code."""
from __future__ import annotations

import time
import uuid
from dataclasses import replace
from pathlib import Path

import streamlit as st

import ui
from dcgan_core.checkpoint import load_checkpoint, shape_text
from dcgan_core.averaging import SHOWN_DECAY
from dcgan_core.data import BUNDLED_NAME, DatasetSpec
from dcgan_core.device import available_devices, pick_device
from dcgan_core.i18n import LabError, translate
from dcgan_core.job import ACTIVE
from dcgan_core.live_quality import SAMPLES, SHARED as SHARED_QUALITY
from dcgan_core.model_source import run_checkpoints
from dcgan_core.models import DCGANConfig, count_parameters, Discriminator, Generator
from dcgan_core.paths import data_path
from dcgan_core.recipes import differences_from_paper, recipe_name
from dcgan_core.registry import check_image_folder, get_registry, image_folder_roots
from dcgan_core.train import TrainConfig, classroom_defaults, format_seconds
from dcgan_core.viz import training as viz
from dcgan_core.viz.quality import class_histogram_figure

SOURCES = ("bundled", "mnist", "fashion_mnist", "cifar10", "folder", "zip")
GREY_SOURCES = ("bundled", "mnist", "fashion_mnist")
WIDTHS = (8, 16, 32, 48, 64, 96, 128)
BATCHES = (8, 16, 32, 64, 128, 256)
REFRESH_S = 1.0
QUALITY_EVERY_S = 20  # classifier check of the live generator (≈ 1 s of CPU each)
QUALITY_PANEL_REFRESH_S = 5  # showing the newest check is cheap
GRID_DISPLAY_PX = 560
METRIC_PX = 140
SPARK_STEPS = 400   # the sparklines under the numbers cover the last this many steps
SPARK_POINTS = 60

registry = get_registry()
lang = ui.current_language()


# ---- settings ---------------------------------------------------------------

def settings_from(config: TrainConfig) -> dict:
    return {
        "train_source": config.dataset.source, "train_image_size": config.model.image_size,
        "train_channels": config.model.channels, "train_ngf": config.model.ngf, "train_ndf": config.model.ndf,
        "train_nz": config.model.nz, "train_batch": config.batch_size, "train_lr": config.lr,
        "train_beta1": config.beta1, "train_steps": config.max_steps, "train_seed": config.seed,
        "train_sample_every": config.sample_every, "train_ema": config.ema > 0,
    }


def apply_settings(values: dict) -> None:
    for key, value in values.items():
        st.session_state[key] = value


def default_settings() -> dict:
    values = settings_from(classroom_defaults("auto"))
    values.update(train_device="auto", train_folder="")
    return values


def use_classroom_defaults() -> None:
    apply_settings(settings_from(classroom_defaults(st.session_state.train_device)))


def use_paper_settings() -> None:
    """The paper's widths, batch and optimizer; 64×64 needs a GPU to be quick."""
    apply_settings({"train_ngf": 64, "train_ndf": 64, "train_nz": 100, "train_batch": 128,
                    "train_lr": 2e-4, "train_beta1": 0.5, "train_ema": False})


def recipe_text(config: TrainConfig, device) -> tuple[str, str]:
    """The recipe's name and how it differs from the paper, in the reader's language."""
    differences = differences_from_paper(config)
    detail = (ui.t("recipes.differs", differences=ui.t("recipes.separator").join(ui.t(k, **p) for k, p in differences))
              if differences else ui.t("recipes.same_as_paper"))
    return ui.t(f"recipes.name_{recipe_name(config, device)}"), detail


def on_source_change() -> None:
    st.session_state.train_channels = 1 if st.session_state.train_source in GREY_SOURCES else 3


for key, value in default_settings().items():
    if key not in st.session_state:
        st.session_state[key] = value


def config_from_widgets(zip_path: str | None) -> TrainConfig:
    s = st.session_state
    model = DCGANConfig(image_size=int(s.train_image_size), channels=int(s.train_channels), nz=int(s.train_nz),
                        ngf=int(s.train_ngf), ndf=int(s.train_ndf))
    path = None
    if s.train_source == "folder":
        path = str(check_image_folder(s.train_folder.strip()))
    elif s.train_source == "zip":
        path = zip_path
    sample_every = max(1, min(int(s.train_sample_every), int(s.train_steps)))
    return TrainConfig(model=model, dataset=DatasetSpec(source=s.train_source, path=path),
                       batch_size=int(s.train_batch), lr=float(s.train_lr), beta1=float(s.train_beta1),
                       ema=SHOWN_DECAY if s.train_ema else 0.0, channels_last=True, seed=int(s.train_seed), device=s.train_device, max_steps=int(s.train_steps),
                       sample_every=sample_every, checkpoint_every=max(sample_every, int(s.train_steps) // 6))


def save_upload(upload, folder: str, suffix: str) -> Path:
    """An uploaded file under the app's data folder, with a fresh name of our own."""
    path = data_path("uploads", folder, f"{Path(upload.name).stem[:40]}-{uuid.uuid4().hex[:8]}{suffix}")
    path.write_bytes(upload.getvalue())
    return path


def start_run(config: TrainConfig, resume=None, earlier_log: Path | None = None) -> None:
    try:
        record, token = registry.start(config, resume=resume, earlier_log=earlier_log)
    except LabError as err:
        ui.show_error(err)
        return
    st.session_state.train_token = token
    for key in ("train_follow", "train_frame_step", "train_frame_from"):
        st.session_state.pop(key, None)
    st.rerun()


# ---- the live panel -----------------------------------------------------------
# Thirty browsers watch one run: build each figure and image once per update and
# language, and share it (the inputs never change for a given key).

@st.cache_resource(max_entries=8, show_spinner=False)
def shared_figure(kind: str, run_id: str, version: int, lang: str, _history):
    build = viz.loss_figure if kind == "loss" else viz.probability_figure
    return build(_history, lang)


def chart_version(snap) -> int:
    """While a run trains its history grows between any two viewers' refreshes: the
    charts are rebuilt once per refresh period for everyone, not once per viewer."""
    return int(time.monotonic() / REFRESH_S) if snap.active else -len(snap.history)


@st.cache_resource(max_entries=16, show_spinner=False)
def shared_png(run_id: str, what: str, step: int | None, _grid) -> bytes:
    from dcgan_core.job import png_bytes

    return png_bytes(viz.upscale(_grid, viz.display_factor(_grid, GRID_DISPLAY_PX)))


def status_box(snap) -> None:
    label = ui.t(f"train.status_{snap.status}")
    if snap.status == "failed":
        st.error(ui.t(snap.message_key, **snap.message_params) if snap.message_key else label, icon="⛔")
    elif snap.status in ("finished", "stopped") and snap.message_key:
        st.success(ui.t(snap.message_key, **snap.message_params), icon="✅")
    if snap.data_notice_key:
        st.info(ui.t(snap.data_notice_key, **snap.data_notice_params))
    for key in snap.warnings:
        st.warning(ui.t(key), icon="⚠️")


def controls(snap, is_controller: bool) -> None:
    token = st.session_state.get("train_token")
    disabled = not is_controller or not snap.active
    paused = snap.status == "paused"
    with st.container(horizontal=True, gap="small"):  # a row that wraps on a phone
        if paused:
            if st.button(ui.t("train.resume"), icon=":material/play_arrow:", disabled=disabled, key="train_resume_btn",
                         type="primary"):
                registry.control(token, "resume")
        else:
            if st.button(ui.t("train.pause"), icon=":material/pause:", disabled=disabled, key="train_pause_btn"):
                registry.control(token, "pause")
        if st.button(ui.t("train.step_once"), icon=":material/skip_next:", disabled=disabled or not paused,
                     key="train_step_btn", help=ui.t("train.step_once_help")):
            registry.control(token, "step")
        if st.button(ui.t("train.stop"), icon=":material/stop:", disabled=disabled, key="train_stop_btn"):
            registry.control(token, "stop")
        if st.button(ui.t("train.save_now"), icon=":material/save:", disabled=disabled, key="train_save_btn",
                     help=ui.t("train.save_now_help")):
            registry.control(token, "save")
        with st.popover(ui.t("train.tune"), icon=":material/tune:", disabled=disabled):
            st.caption(ui.t("train.tune_help"))
            lr = st.number_input(ui.t("train.lr"), min_value=1e-6, max_value=1.0, value=float(snap.lr), step=1e-4,
                                 format="%.5f", key="train_live_lr")
            beta1 = st.slider(ui.t("train.beta1"), 0.0, 0.99, float(snap.beta1), 0.01, key="train_live_beta1")
            if st.button(ui.t("train.apply"), key="train_apply_btn"):
                try:
                    registry.control(token, "set_hyperparameters", lr=lr, beta1=beta1)
                    st.toast(ui.t("train.applied", lr=f"{lr:g}", beta1=f"{beta1:g}"))
                except LabError as err:
                    ui.show_error(err)
    if is_controller and snap.active:
        st.caption(ui.t("train.your_code", code=token))
    elif snap.active:
        st.caption(ui.t("train.viewer_note"))


def take_control() -> None:
    code = st.session_state.get("train_code_input", "")
    if registry.is_controller(code):
        st.session_state.train_token = code
        st.session_state.train_code_wrong = False
    else:
        st.session_state.train_code_wrong = True


def progress_and_numbers(snap) -> None:
    eta = format_seconds(snap.eta_seconds) if snap.eta_seconds is not None else "–"
    st.progress(snap.progress, text=ui.t("train.progress", step=snap.step, total=snap.max_steps,
                                         epoch=f"{snap.epoch:.2f}", eta=eta))
    last = snap.last_metrics or {}

    def fmt(name, digits):
        return f"{last[name]:.{digits}f}" if name in last else "–"

    recent = viz.downsample(snap.history[-SPARK_STEPS:], SPARK_POINTS) if len(snap.history) else None

    def spark(column):
        return None if recent is None or len(recent) < 2 else [round(float(v), 4) for v in recent[:, column]]

    with st.container(horizontal=True, gap="small"):
        st.metric(ui.t("train.images_per_sec"), f"{snap.images_per_sec:,.0f}", width=METRIC_PX)
        st.metric(ui.t("trainer.loss_d"), fmt("loss_d", 3), chart_data=spark(1), width=METRIC_PX)
        st.metric(ui.t("trainer.loss_g"), fmt("loss_g", 3), chart_data=spark(2), width=METRIC_PX)
        st.metric("D(x)", fmt("d_real", 2), chart_data=spark(3), width=METRIC_PX)
        st.metric(ui.t("train.d_fake_before"), fmt("d_fake_before", 2), help=ui.t("train.d_fake_help"),
                  chart_data=spark(4), width=METRIC_PX)
        st.metric(ui.t("train.d_fake_after"), fmt("d_fake_after", 2), help=ui.t("train.d_fake_help"),
                  chart_data=spark(5), width=METRIC_PX)
    st.caption(ui.t("train.run_facts", device=snap.device_by_lang.get(lang, snap.device),
                    dataset=ui.t("data.name_bundled") if snap.dataset_name == BUNDLED_NAME else snap.dataset_name,
                    n=f"{snap.dataset_size:,}",
                    elapsed=format_seconds(snap.elapsed_seconds), lr=f"{snap.lr:g}", beta1=f"{snap.beta1:g}",
                    batch=snap.config["batch_size"]))
    if snap.checkpoint_step is not None:
        st.caption(ui.t("train.checkpoint_at", step=f"{snap.checkpoint_step:,}"))


def images_panel(snap, run_id: str) -> None:
    frames = snap.frames
    if not frames or snap.real_grid is None:
        st.info(ui.t("train.preparing"))
        return
    # Following live, the timeline only shows where the run is; switched off, it is the
    # reader's alone. The page never writes either widget's state: a browser that missed
    # a refresh falls back to the widgets' defaults, so the defaults are the truth.
    first, last = snap.start_step, max(snap.max_steps, snap.start_step + 1)
    latest = snap.latest_grid_step if snap.latest_grid_step is not None else frames[-1][0]
    follow = st.session_state.get("train_follow", True)
    if follow:
        st.session_state.train_frame_from = min(max(latest, first), last)  # where scrubbing will start
        st.session_state.pop("train_frame_step", None)
        grid_step, grid = (latest, snap.latest_grid) if snap.latest_grid is not None else frames[-1]
    else:
        wanted = st.session_state.get("train_frame_step", st.session_state.get("train_frame_from", latest))
        grid_step, grid = frames[viz.nearest_frame(frames, min(wanted, latest))]

    left, right = st.columns(2)
    with left:
        st.markdown(f"**{ui.t('train.real_images')}**")
        # PNG as it is: "auto" would re-encode every grid as JPEG on every refresh of every viewer.
        st.image(shared_png(run_id, "real", None, snap.real_grid), width="stretch", output_format="PNG")
    with right:
        st.markdown(f"**{ui.t('train.fake_images', step=grid_step)}**")
        st.image(shared_png(run_id, "fake", grid_step, grid), width="stretch", output_format="PNG")
    c1, c2 = st.columns([4, 1], vertical_alignment="bottom")
    with c1:
        if follow:
            st.slider(ui.t("train.timeline"), first, last, value=min(max(latest, first), last), disabled=True,
                      help=ui.t("train.timeline_help"), key=f"train_frame_live_{latest}")
        else:
            st.slider(ui.t("train.timeline"), first, last, value=st.session_state.get("train_frame_from", latest),
                      key="train_frame_step", help=ui.t("train.timeline_help"))
    with c2:
        st.toggle(ui.t("train.follow"), value=True, key="train_follow")


def charts(snap, run_id: str) -> None:
    if len(snap.history) == 0:
        return
    version = chart_version(snap)
    left, right = st.columns(2)
    with left:
        st.plotly_chart(shared_figure("loss", run_id, version, lang, snap.history), key="train_loss_chart",
                        width="stretch")
    with right:
        st.plotly_chart(shared_figure("prob", run_id, version, lang, snap.history), key="train_prob_chart",
                        width="stretch")


def downloads(record) -> None:
    """Drawn outside the live fragment: a download link redrawn every second goes
    stale before the click reaches the server. Each file is read at click time."""
    snap = record.job.snapshot()
    latest = record.job.snapshot
    with st.container(horizontal=True, gap="small"):
        if snap.checkpoint_path:
            path = snap.checkpoint_path
            st.download_button(ui.t("train.download_checkpoint"),
                               data=lambda: Path(path).read_bytes(), file_name="checkpoint.pt",
                               mime="application/octet-stream", icon=":material/download:", key="train_dl_ckpt",
                               on_click="ignore")
        if len(snap.history):
            st.download_button(ui.t("train.download_csv"), data=lambda: viz.history_csv(latest().history),
                               file_name="losses.csv", mime="text/csv", icon=":material/table:", key="train_dl_csv",
                               on_click="ignore")
        if len(snap.frames) > 1:
            st.download_button(ui.t("common.download_gif"), data=lambda: viz.progress_gif(latest().frames),
                               file_name="dcgan_progress.gif", mime="image/gif", icon=":material/animation:",
                               key="train_dl_gif", on_click="ignore")


@st.fragment(run_every=REFRESH_S)
def live_panel() -> None:
    record = registry.current()
    if record is None:
        return
    snap = record.job.snapshot()
    is_controller = registry.is_controller(st.session_state.get("train_token"))
    st.subheader(ui.t("train.live_title", status=ui.t(f"train.status_{snap.status}")))
    status_box(snap)
    controls(snap, is_controller)
    progress_and_numbers(snap)
    images_panel(snap, record.run_id)
    charts(snap, record.run_id)
    if snap.status in ("finished", "stopped") and snap.checkpoint_path:
        more = st.session_state.get("train_more_steps", 500)
        c1, c2 = st.columns([1, 2], vertical_alignment="bottom")
        c1.number_input(ui.t("train.more_steps"), 10, 100_000, more, 50, key="train_more_steps")
        if c2.button(ui.t("train.continue"), icon=":material/fast_forward:", key="train_continue_btn"):
            continue_run(snap.checkpoint_path, int(st.session_state.train_more_steps))
    # The settings outside this fragment lock while a run is active: redraw the whole page when that changes.
    # So does the first checkpoint, for the download buttons drawn outside it (later ones need no redraw:
    # the button reads the newest file when clicked). Not on every checkpoint: thirty viewers' full page
    # runs at once stalled every live update. Checked last, after the buttons above have acted: a rerun
    # before them would drop a click that arrived in this run.
    seen = (snap.active, snap.checkpoint_step is not None, len(snap.history) > 0, len(snap.frames) > 1)
    if st.session_state.get("train_seen_state") not in (None, seen):
        st.session_state.train_seen_state = seen
        st.rerun()
    st.session_state.train_seen_state = seen


@st.fragment(run_every=QUALITY_PANEL_REFRESH_S)
def quality_panel() -> None:
    """Every QUALITY_EVERY_S, the MNIST classifier reads 500 samples of the live generator
    (in the background, once for all viewers); the panel shows the newest reading."""
    record = registry.current()
    if record is None or record.job.snapshot().latest_grid_step is None:  # no generator to read yet
        return
    st.subheader(ui.t("train.quality_title"))
    if record.job.config.model.channels != 1:
        st.info(ui.t("train.quality_colour"))
        return
    scored = SHARED_QUALITY.get(record.run_id, record.job, max_age_s=QUALITY_EVERY_S - 1)
    if scored is None:
        st.caption(ui.t("train.quality_pending"))
        return
    step, report = scored
    st.caption(ui.t("train.quality_intro", samples=SAMPLES, seconds=QUALITY_EVERY_S, step=step))
    with st.container(horizontal=True):
        st.metric(ui.t("metrics.fcd_name"), f"{report.fcd:.1f}")
        st.metric(ui.t("metrics.mean_confidence_name"), f"{report.mean_confidence:.2f}")
        st.metric(ui.t("metrics.classes_present_name"), f"{report.classes_present} / 10")
    for key, params in report.collapse_reasons:
        st.warning(ui.t(key, **params), icon=":material/warning:")
    st.plotly_chart(shared_quality_figure(record.run_id, step, lang, report), key="train_quality_hist",
                    width="stretch")


@st.cache_resource(max_entries=4, show_spinner=False)
def shared_quality_figure(run_id: str, step: int, lang: str, _report):
    return class_histogram_figure(_report.class_histogram, x_title=translate("quality.hist_x", lang),
                                  y_title=translate("quality.hist_y", lang),
                                  uniform_label=translate("quality.hist_uniform", lang), height=260)


def continue_run(path: str, more_steps: int) -> None:
    try:
        ckpt = load_checkpoint(path)
        config = TrainConfig.from_dict({**ckpt.train_config, "model": ckpt.model_config.to_dict()})
        config = replace(config, max_steps=ckpt.step + more_steps, device="auto")  # trained elsewhere, perhaps
    except LabError as err:
        ui.show_error(err)
        return
    start_run(config, resume=ckpt, earlier_log=Path(path).parent / "metrics.jsonl")


# ---- the page -----------------------------------------------------------------

st.title(ui.t("train.title"))
st.markdown(ui.t("train.intro"))
with st.expander(ui.t("train.how_title")):
    st.markdown(ui.t("train.how"))

current = registry.current()
active = current is not None and current.job.snapshot().active
if current is not None:
    live_panel()
    downloads(current)
    quality_panel()
    if not registry.is_controller(st.session_state.get("train_token")) and active:
        with st.expander(ui.t("train.take_control_title")):
            st.text_input(ui.t("train.code_input"), key="train_code_input", max_chars=12)
            st.button(ui.t("train.take_control"), key="train_take_btn", on_click=take_control)
            if st.session_state.get("train_code_wrong"):
                st.error(ui.t("train.code_wrong"))
    st.divider()

st.subheader(ui.t("train.new_run_title"))
if current is not None:
    running_name, running_detail = recipe_text(current.job.config, current.job.config.device)
    st.caption(f"{ui.t('recipes.running', name=running_name)} {running_detail}")
if active:
    st.info(ui.t("train.settings_locked"))
device_choices = available_devices()
if st.session_state.train_device not in device_choices:
    st.session_state.train_device = "auto"
device = pick_device(st.session_state.train_device)

data_col, model_col, opt_col = st.columns(3)
with data_col:
    st.markdown(f"**{ui.t('train.data_heading')}**")
    st.selectbox(ui.t("train.dataset"), SOURCES, format_func={s: ui.t(f"data.source_{s}") for s in SOURCES}.get, key="train_source",
                 on_change=on_source_change, disabled=active)
    zip_upload = None
    if st.session_state.train_source == "folder":
        roots = image_folder_roots()
        st.text_input(ui.t("train.folder"), key="train_folder", placeholder=str(roots[0] / "my_pictures"),
                      disabled=active, help=ui.t("train.folder_help"))
        st.caption(ui.t("train.folder_roots", roots=", ".join(map(str, roots))))
    elif st.session_state.train_source == "zip":
        zip_upload = st.file_uploader(ui.t("train.zip"), type=["zip"], key="train_zip", disabled=active,
                                      help=ui.t("train.zip_help"))
    st.segmented_control(ui.t("train.image_size"), (32, 64, 128), key="train_image_size", disabled=active,
                         format_func=lambda s: f"{s}×{s}")
    st.segmented_control(ui.t("train.channels"), (1, 3), key="train_channels", disabled=active,
                         format_func={c: ui.t(f"train.channels_{c}") for c in (1, 3)}.get)
with model_col:
    st.markdown(f"**{ui.t('train.model_heading')}**")
    st.select_slider(ui.t("train.ngf"), WIDTHS, key="train_ngf", disabled=active, help=ui.t("train.width_help"))
    st.select_slider(ui.t("train.ndf"), WIDTHS, key="train_ndf", disabled=active, help=ui.t("train.width_help"))
    st.select_slider(ui.t("train.nz"), (16, 32, 64, 100, 128), key="train_nz", disabled=active,
                     help=ui.t("train.nz_help"))
    st.selectbox(ui.t("train.device"), device_choices, key="train_device", disabled=active,
                 format_func={d: ui.t("train.device_auto", device=pick_device("auto").type.upper()) if d == "auto"
                              else d.upper() for d in device_choices}.get)
with opt_col:
    st.markdown(f"**{ui.t('train.opt_heading')}**")
    st.select_slider(ui.t("train.batch"), BATCHES, key="train_batch", disabled=active)
    st.number_input(ui.t("train.lr"), min_value=1e-6, max_value=1.0, step=1e-4, format="%.5f", key="train_lr",
                    disabled=active, help=ui.t("train.lr_help"))
    st.slider(ui.t("train.beta1"), 0.0, 0.99, step=0.01, key="train_beta1", disabled=active,
              help=ui.t("train.beta1_help"))
    st.toggle(ui.t("train.ema"), key="train_ema", disabled=active, help=ui.t("train.ema_help", decay=SHOWN_DECAY))
    st.number_input(ui.t("train.steps"), min_value=1, max_value=1_000_000, step=100, key="train_steps",
                    disabled=active)
    st.number_input(ui.t("train.seed"), min_value=0, max_value=2**31 - 1, step=1, key="train_seed", disabled=active)

# A sentence about what these settings cost, from the models themselves.
preview = None
try:
    size = st.session_state.train_image_size or 32
    channels = st.session_state.train_channels or 1
    preview = DCGANConfig(image_size=int(size), channels=int(channels), nz=int(st.session_state.train_nz),
                          ngf=int(st.session_state.train_ngf), ndf=int(st.session_state.train_ndf))
    st.caption(ui.t("train.model_size", shape=shape_text(preview), g=f"{count_parameters(Generator(preview)):,}",
                    d=f"{count_parameters(Discriminator(preview)):,}"))
    these = TrainConfig(model=preview, batch_size=int(st.session_state.train_batch),
                        lr=float(st.session_state.train_lr), beta1=float(st.session_state.train_beta1),
                        ema=SHOWN_DECAY if st.session_state.train_ema else 0.0)
    these_name, these_detail = recipe_text(these, device)
    st.caption(f"{ui.t('recipes.these_settings', name=these_name)} {these_detail}")
    if device.type == "cpu" and (preview.image_size > 32 or max(preview.ngf, preview.ndf) > 32
                                 or st.session_state.train_batch > 64):
        st.warning(ui.t("train.cpu_slow"), icon="🐢")
except LabError as err:
    ui.show_error(err)

b1, b2, b3 = st.columns(3)
start_clicked = b1.button(ui.t("train.start"), type="primary", icon=":material/play_arrow:", disabled=active,
                          key="train_start_btn", width="stretch")
b2.button(ui.t("train.classroom_defaults"), on_click=use_classroom_defaults, disabled=active, key="train_defaults_btn",
          width="stretch", help=ui.t("train.classroom_defaults_help"))
b3.button(ui.t("train.paper_settings"), on_click=use_paper_settings, disabled=active, key="train_paper_btn",
          width="stretch", help=ui.t("train.paper_settings_help"))

if start_clicked:
    zip_path = None
    problem = None
    if st.session_state.train_source == "zip":
        if zip_upload is None:
            problem = "train.zip_missing"
        else:
            zip_path = str(save_upload(zip_upload, "zips", ".zip"))
    elif st.session_state.train_source == "folder" and not st.session_state.train_folder.strip():
        problem = "train.folder_missing"
    if not st.session_state.train_image_size or not st.session_state.train_channels:
        problem = "train.pick_size"
    if problem:
        st.error(ui.t(problem))
    else:
        try:
            config = config_from_widgets(zip_path)
        except LabError as err:
            ui.show_error(err)
        else:
            start_run(config)

# ---- continue from a checkpoint ---------------------------------------------------

with st.expander(ui.t("train.resume_title"), icon=":material/history:"):
    st.markdown(ui.t("train.resume_intro"))
    runs = run_checkpoints()[:30]
    options = ["upload"] + [str(p) for p in runs]
    choice = st.selectbox(ui.t("train.resume_from"), options, key="train_resume_choice", disabled=active,
                          format_func={o: ui.t("train.resume_upload") if o == "upload" else Path(o).parent.name
                                       for o in options}.get)
    upload = None
    if choice == "upload":
        upload = st.file_uploader(ui.t("train.resume_file"), type=["pt", "pth"], key="train_resume_upload",
                                  disabled=active)
    st.number_input(ui.t("train.more_steps"), 10, 100_000, 500, 50, key="train_resume_steps", disabled=active)
    if st.button(ui.t("train.resume_start"), key="train_ckpt_btn", disabled=active, icon=":material/fast_forward:"):
        path = None
        if choice == "upload":
            if upload is None:
                st.error(ui.t("train.resume_missing"))
            else:
                path = save_upload(upload, "checkpoints", ".pt")
        else:
            path = Path(choice)
        if path is not None:
            try:
                ckpt = load_checkpoint(path)
                st.caption(ui.t("train.resume_found", shape=shape_text(ckpt.model_config), step=ckpt.step))
            except LabError as err:
                ui.show_error(err)
            else:
                continue_run(str(path), int(st.session_state.train_resume_steps))
