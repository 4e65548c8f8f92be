"""Train a DCGAN live: one shared run per server, watched by every browser,
steered only by whoever holds its control code."""

from __future__ import annotations

import uuid
from dataclasses import replace
from pathlib import Path

import streamlit as st

import ui
from dcgan_core.averaging import SHOWN_DECAY
from dcgan_core.checkpoint import load_checkpoint, shape_text
from dcgan_core.config import TrainConfig
from dcgan_core.data import SOURCES, DatasetSpec
from dcgan_core.data_sanity import known_channels, size_check, survey_folder, survey_zip
from dcgan_core.device import available_devices, pick_device
from dcgan_core.i18n import LabError, translate
from dcgan_core.live_quality import SAMPLES
from dcgan_core.live_quality import SHARED as SHARED_QUALITY
from dcgan_core.live_view import LIVE
from dcgan_core.model_source import run_checkpoints
from dcgan_core.models import DCGANConfig, Discriminator, Generator, count_parameters
from dcgan_core.paths import data_path
from dcgan_core.recipes import (
    classroom_defaults,
    differences_from_paper,
    recipe_name,
    run_intervals,
    with_paper_settings,
)
from dcgan_core.registry import check_image_folder, get_registry, image_folder_roots, normalise_token
from dcgan_core.static_files import PLOTLY_JS
from dcgan_core.viz import training as viz
from dcgan_core.viz.live_panel import live_panel_html
from dcgan_core.viz.quality import class_histogram_figure

WIDTHS = (8, 16, 32, 48, 64, 96, 128)
BATCHES = (8, 16, 32, 64, 128, 256)
REFRESH_S = 1.0  # the live view (numbers, samples, charts) polls its files this often
CONTROLLER_REFRESH_S = 1  # the status line and the buttons, for whoever holds the control
VIEWER_REFRESH_S = 10  # ... and for everyone else: the status line only (the live view moves every second)
QUALITY_EVERY_S = 20  # classifier check of the live generator (≈ 1 s of CPU each)
QUALITY_PANEL_REFRESH_S = QUALITY_EVERY_S  # the newest check: it changes no more often
GRID_DISPLAY_PX = 560
LIVE_PANEL_PX = 1050  # the live view's first height (it sets its own once drawn)
CONTROL_COOKIE = "dcgan_lab_control"

registry = get_registry()
lang = ui.current_language()


# ---- settings ---------------------------------------------------------------


def settings_from(config: TrainConfig) -> dict:
    return {
        "train_source": config.dataset.source,
        "train_image_size": config.model.image_size,
        "train_channels": config.model.channels,
        "train_ngf": config.model.ngf,
        "train_ndf": config.model.ndf,
        "train_nz": config.model.nz,
        "train_batch": config.batch_size,
        "train_lr": config.lr,
        "train_beta1": config.beta1,
        "train_steps": config.max_steps,
        "train_seed": config.seed,
        "train_sample_every": config.sample_every,
        "train_ema": config.ema > 0,
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


PAPER_KEYS = ("train_ngf", "train_ndf", "train_nz", "train_batch", "train_lr", "train_beta1", "train_ema")


def use_paper_settings() -> None:
    """The paper's widths, batch and optimizer; 64×64 needs a GPU to be quick."""
    paper = settings_from(with_paper_settings(classroom_defaults(st.session_state.train_device)))
    apply_settings({key: paper[key] for key in PAPER_KEYS})


def recipe_text(config: TrainConfig, device) -> tuple[str, str]:
    """The recipe's name and how it differs from the paper, in the reader's language."""
    differences = differences_from_paper(config)
    detail = (
        ui.t("recipes.differs", differences=ui.t("recipes.separator").join(ui.t(k, **p) for k, p in differences))
        if differences
        else ui.t("recipes.same_as_paper")
    )
    return ui.t(f"recipes.name_{recipe_name(config, device)}"), detail


def on_source_change() -> None:
    """Known datasets set the channels; a zip or folder keeps them until its images are looked at."""
    st.session_state.train_channels_chosen = False
    channels = known_channels(st.session_state.train_source)
    if channels is not None:
        st.session_state.train_channels = channels


def on_channels_change() -> None:
    st.session_state.train_channels_chosen = True  # the user's choice now wins over the data's


def on_zip_change() -> None:
    """Channels follow the uploaded images (a zip of grey digits stays grey) unless the user chose them."""
    upload = st.session_state.get("train_zip")
    if upload is None or st.session_state.get("train_channels_chosen"):
        return
    try:
        survey = survey_zip(upload.getvalue())
    except LabError:
        return  # refused with its reason when Start is pressed
    if survey.channels is not None:
        st.session_state.train_channels = survey.channels


ui.defaults(default_settings())


def config_from_widgets(zip_path: str | None) -> TrainConfig:
    s = st.session_state
    model = DCGANConfig(
        image_size=int(s.train_image_size),
        channels=int(s.train_channels),
        nz=int(s.train_nz),
        ngf=int(s.train_ngf),
        ndf=int(s.train_ndf),
    )
    path = None
    if s.train_source == "folder":
        path = str(check_image_folder(s.train_folder.strip()))
    elif s.train_source == "zip":
        path = zip_path
    sample_every, checkpoint_every = run_intervals(int(s.train_steps), int(s.train_sample_every))
    return TrainConfig(
        model=model,
        dataset=DatasetSpec(source=s.train_source, path=path),
        batch_size=int(s.train_batch),
        lr=float(s.train_lr),
        beta1=float(s.train_beta1),
        ema=SHOWN_DECAY if s.train_ema else 0.0,
        channels_last=True,
        seed=int(s.train_seed),
        device=s.train_device,
        max_steps=int(s.train_steps),
        sample_every=sample_every,
        checkpoint_every=checkpoint_every,
    )


def save_upload(upload, folder: str, suffix: str) -> Path:
    """An uploaded file under the app's data folder, with a fresh name of our own."""
    path = data_path("uploads", folder, f"{Path(upload.name).stem[:40]}-{uuid.uuid4().hex[:8]}{suffix}")
    path.write_bytes(upload.getvalue())
    return path


def start_run(config: TrainConfig, resume=None, earlier_log: Path | None = None) -> None:
    st.session_state.pop("train_confirm_few", None)
    try:
        record, token = registry.start(config, resume=resume, earlier_log=earlier_log)
    except LabError as err:
        ui.show_error(err)
        return
    st.session_state.train_token = token
    st.session_state.pop("train_frame_chosen", None)
    st.rerun()


# ---- the live panel -----------------------------------------------------------
# Numbers, samples and charts are drawn by the browser from files one server thread
# writes for everyone (dcgan_core.live_view): watching costs no script run. What
# remains here (the status, the buttons, the timeline) changes only now and then.


def live_view(record, view: str) -> None:
    folder = LIVE.follow(record.run_id, record.job, lang)
    html = live_panel_html(
        ui.static_url(folder),
        lang,
        view,
        int(1000 * REFRESH_S),
        plotly_url=ui.static_url(PLOTLY_JS),
    )
    st.iframe(html, height=LIVE_PANEL_PX if view == "normal" else 600, alt=ui.t("train.live_panel_name"))


@st.cache_resource(max_entries=16, show_spinner=False)
def shared_png(run_id: str, what: str, step: int | None, _grid) -> bytes:
    from dcgan_core.rundir import png_bytes

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
            if st.button(
                ui.t("train.resume"),
                icon=":material/play_arrow:",
                disabled=disabled,
                key="train_resume_btn",
                type="primary",
            ):
                registry.control(token, "resume")
        else:
            if st.button(ui.t("train.pause"), icon=":material/pause:", disabled=disabled, key="train_pause_btn"):
                registry.control(token, "pause")
        if st.button(
            ui.t("train.step_once"),
            icon=":material/skip_next:",
            disabled=disabled or not paused,
            key="train_step_btn",
            help=ui.t("train.step_once_help"),
        ):
            registry.control(token, "step")
        if st.button(ui.t("train.stop"), icon=":material/stop:", disabled=disabled, key="train_stop_btn"):
            registry.control(token, "stop")
        if st.button(
            ui.t("train.save_now"),
            icon=":material/save:",
            disabled=disabled,
            key="train_save_btn",
            help=ui.t("train.save_now_help"),
        ):
            registry.control(token, "save")
        with st.popover(ui.t("train.tune"), icon=":material/tune:", disabled=disabled):
            st.caption(ui.t("train.tune_help"))
            lr = st.number_input(
                ui.t("train.lr"),
                min_value=1e-6,
                max_value=1.0,
                value=float(snap.lr),
                step=1e-4,
                format="%.5f",
                key="train_live_lr",
            )
            beta1 = st.slider(ui.t("train.beta1"), 0.0, 0.99, float(snap.beta1), 0.01, key="train_live_beta1")
            if st.button(ui.t("train.apply"), key="train_apply_btn"):
                try:
                    registry.control(token, "set_hyperparameters", lr=lr, beta1=beta1)
                    st.toast(ui.t("train.applied", lr=f"{lr:g}", beta1=f"{beta1:g}"))
                except LabError as err:
                    ui.show_error(err)
    if is_controller and snap.active:
        st.caption(ui.t("train.your_code", code=normalise_token(token)))


def take_control() -> None:
    code = normalise_token(st.session_state.get("train_code_input", ""))
    if registry.is_controller(code):
        st.session_state.train_token = code
        st.session_state.train_code_wrong = False
    else:
        st.session_state.train_code_wrong = True


def control_token() -> str | None:
    """This browser's code for the current run: from this session, or from the cookie this
    browser was given when it started or took control (so F5 keeps control; a copied URL,
    opened anywhere else, carries no cookie and gives none)."""
    token = st.session_state.get("train_token")
    if registry.is_controller(token):
        return token
    remembered = ui.browser_cookie(CONTROL_COOKIE)
    if remembered and registry.is_controller(remembered):
        st.session_state.train_token = normalise_token(remembered)
        return st.session_state.train_token
    return token


def timeline_frame(snap) -> None:
    """Look back at any sample grid of the run (the live view always shows the newest).
    The slider starts at the newest grid and stays where the reader puts it."""
    frames = snap.frames
    if len(frames) < 2:
        return
    first, last = frames[0][0], frames[-1][0]
    chosen = st.session_state.get("train_frame_chosen")
    key = f"train_frame_step_{last}"  # a new range when new frames came, the reader's choice kept

    def remember() -> None:
        st.session_state.train_frame_chosen = st.session_state[key]

    wanted = st.slider(
        ui.t("train.timeline"),
        first,
        last,
        value=min(max(chosen, first), last) if chosen is not None else last,
        key=key,
        on_change=remember,
        help=ui.t("train.timeline_help"),
    )
    grid_step, grid = frames[viz.nearest_frame(frames, wanted)]
    st.markdown(f"**{ui.t('train.fake_images', step=grid_step)}**")
    st.image(
        shared_png(st.session_state.get("train_shown_run", ""), "fake", grid_step, grid),
        width=GRID_DISPLAY_PX,
        output_format="PNG",
    )


@st.fragment
def timeline(record) -> None:
    with st.expander(ui.t("train.timeline_title"), icon=":material/history:"):
        st.session_state.train_shown_run = record.run_id
        timeline_frame(record.job.snapshot())


def downloads(record) -> None:
    """Drawn outside the live fragment: a download link redrawn every second goes
    stale before the click reaches the server. Each file is read at click time."""
    snap = record.job.snapshot()
    latest = record.job.snapshot
    with st.container(horizontal=True, gap="small"):
        if snap.checkpoint_path:
            path = snap.checkpoint_path
            st.download_button(
                ui.t("train.download_checkpoint"),
                data=lambda: Path(path).read_bytes(),
                file_name="checkpoint.pt",
                mime="application/octet-stream",
                icon=":material/download:",
                key="train_dl_ckpt",
                on_click="ignore",
            )
        if len(snap.history):
            st.download_button(
                ui.t("train.download_csv"),
                data=lambda: viz.history_csv(latest().history),
                file_name="losses.csv",
                mime="text/csv",
                icon=":material/table:",
                key="train_dl_csv",
                on_click="ignore",
            )
        if len(snap.frames) > 1:
            st.download_button(
                ui.t("common.download_gif"),
                data=lambda: viz.progress_gif(latest().frames),
                file_name="dcgan_progress.gif",
                mime="image/gif",
                icon=":material/animation:",
                key="train_dl_gif",
                on_click="ignore",
            )


def run_status() -> None:
    record = registry.shown()
    if record is None:
        return
    snap = record.job.snapshot()
    is_controller = registry.is_controller(st.session_state.get("train_token"))
    st.subheader(ui.t("train.live_title", status=ui.t(f"train.status_{snap.status}")))
    status_box(snap)
    if is_controller:
        controls(snap, is_controller)
    elif snap.active:  # thirty students' pages redraw this: no buttons they cannot press
        st.caption(ui.t("train.viewer_note"))
    if snap.status in ("finished", "stopped") and snap.checkpoint_path:
        more = st.session_state.get("train_more_steps", 500)
        c1, c2 = st.columns([1, 2], vertical_alignment="bottom")
        c1.number_input(ui.t("train.more_steps"), 10, 100_000, more, 50, key="train_more_steps")
        if c2.button(ui.t("train.continue"), icon=":material/fast_forward:", key="train_continue_btn"):
            continue_run(snap.checkpoint_path, int(st.session_state.train_more_steps))
    # The settings outside this fragment lock while a run is active: redraw the whole page when that changes.
    # So does the first checkpoint, for the download buttons drawn outside it (later ones need no redraw:
    # the button reads the newest file when clicked), and a start that failed. Checked last, after the
    # buttons above have acted: a rerun before them would drop a click that arrived in this run.
    current = registry.current()
    seen = (
        snap.active,
        snap.checkpoint_step is not None,
        len(snap.history) > 0,
        len(snap.frames) > 1,
        record.run_id,
        current.run_id if current is not None else None,
        current.job.snapshot().status if current is not None else None,
    )
    if st.session_state.get("train_seen_state") not in (None, seen):
        st.session_state.train_seen_state = seen
        st.rerun()
    st.session_state.train_seen_state = seen


@st.fragment(run_every=CONTROLLER_REFRESH_S)
def run_status_for_controller() -> None:
    run_status()


@st.fragment(run_every=VIEWER_REFRESH_S)
def run_status_for_viewer() -> None:
    run_status()


@st.fragment(run_every=QUALITY_PANEL_REFRESH_S)
def quality_panel() -> None:
    """Every QUALITY_EVERY_S, the MNIST classifier reads 500 samples of the live generator
    (in the background, once for all viewers); the panel shows the newest reading."""
    record = registry.shown()
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
    st.plotly_chart(shared_quality_figure(record.run_id, step, lang, report), key="train_quality_hist", width="stretch")


@st.cache_resource(max_entries=4, show_spinner=False)
def shared_quality_figure(run_id: str, step: int, lang: str, _report):
    return class_histogram_figure(
        _report.class_histogram,
        x_title=translate("quality.hist_x", lang),
        y_title=translate("quality.hist_y", lang),
        uniform_label=translate("quality.hist_uniform", lang),
        height=260,
    )


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

PROJECTOR_CSS = """<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], header[data-testid="stHeader"] {display: none;}
[data-testid="stMainBlockContainer"] {padding-top: 0.75rem; padding-bottom: 1rem; max-width: 100%;}
</style>"""


def set_view() -> None:
    if st.session_state.train_projector:
        st.query_params["view"] = "projector"
    else:
        st.query_params.pop("view", None)


if "train_projector" not in st.session_state:
    st.session_state.train_projector = st.query_params.get("view") == "projector"
view = "projector" if st.session_state.train_projector else "normal"
if view == "projector":
    st.html(PROJECTOR_CSS)
else:
    st.title(ui.t("train.title"))
    st.markdown(ui.t("train.intro"))
    with st.expander(ui.t("train.how_title")):
        st.markdown(ui.t("train.how"))

token = control_token()
current = registry.current()
shown = registry.shown()
active = current is not None and current.job.snapshot().active
st.toggle(ui.t("train.projector"), key="train_projector", on_change=set_view, help=ui.t("train.projector_help"))
if shown is not None:
    if view == "projector":
        live_view(shown, view)
    if registry.is_controller(token):
        ui.remember_in_browser(CONTROL_COOKIE, normalise_token(token), ui.t("train.control_cookie_name"))
        run_status_for_controller()
    else:
        run_status_for_viewer()
    if view == "normal":
        live_view(shown, view)
    timeline(shown)
    downloads(shown)
    quality_panel()
    if not registry.is_controller(token) and active:
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
    st.selectbox(
        ui.t("train.dataset"),
        SOURCES,
        format_func={s: ui.t(f"data.source_{s}") for s in SOURCES}.get,
        key="train_source",
        on_change=on_source_change,
        disabled=active,
    )
    zip_upload = None
    if st.session_state.train_source == "folder":
        roots = image_folder_roots()
        st.text_input(
            ui.t("train.folder"),
            key="train_folder",
            placeholder=str(roots[0] / "my_pictures"),
            disabled=active,
            help=ui.t("train.folder_help"),
        )
        st.caption(ui.t("train.folder_roots", roots=", ".join(map(str, roots))))
    elif st.session_state.train_source == "zip":
        zip_upload = st.file_uploader(
            ui.t("train.zip"),
            type=["zip"],
            key="train_zip",
            disabled=active,
            help=ui.t("train.zip_help"),
            on_change=on_zip_change,
        )
    st.segmented_control(
        ui.t("train.image_size"),
        (32, 64, 128),
        key="train_image_size",
        disabled=active,
        format_func=lambda s: f"{s}×{s}",
    )
    st.segmented_control(
        ui.t("train.channels"),
        (1, 3),
        key="train_channels",
        disabled=active,
        format_func={c: ui.t(f"train.channels_{c}") for c in (1, 3)}.get,
        on_change=on_channels_change,
    )
with model_col:
    st.markdown(f"**{ui.t('train.model_heading')}**")
    st.select_slider(ui.t("train.ngf"), WIDTHS, key="train_ngf", disabled=active, help=ui.t("train.width_help"))
    st.select_slider(ui.t("train.ndf"), WIDTHS, key="train_ndf", disabled=active, help=ui.t("train.width_help"))
    st.select_slider(
        ui.t("train.nz"), (16, 32, 64, 100, 128), key="train_nz", disabled=active, help=ui.t("train.nz_help")
    )
    st.selectbox(
        ui.t("train.device"),
        device_choices,
        key="train_device",
        disabled=active,
        format_func={
            d: ui.t("train.device_auto", device=pick_device("auto").type.upper()) if d == "auto" else d.upper()
            for d in device_choices
        }.get,
    )
with opt_col:
    st.markdown(f"**{ui.t('train.opt_heading')}**")
    st.select_slider(ui.t("train.batch"), BATCHES, key="train_batch", disabled=active)
    st.number_input(
        ui.t("train.lr"),
        min_value=1e-6,
        max_value=1.0,
        step=1e-4,
        format="%.5f",
        key="train_lr",
        disabled=active,
        help=ui.t("train.lr_help"),
    )
    st.slider(
        ui.t("train.beta1"), 0.0, 0.99, step=0.01, key="train_beta1", disabled=active, help=ui.t("train.beta1_help")
    )
    st.toggle(ui.t("train.ema"), key="train_ema", disabled=active, help=ui.t("train.ema_help", decay=SHOWN_DECAY))
    st.number_input(ui.t("train.steps"), min_value=1, max_value=1_000_000, step=100, key="train_steps", disabled=active)
    st.number_input(ui.t("train.seed"), min_value=0, max_value=2**31 - 1, step=1, key="train_seed", disabled=active)

# A sentence about what these settings cost, from the models themselves.
preview = None
try:
    size = st.session_state.train_image_size or 32
    channels = st.session_state.train_channels or 1
    preview = DCGANConfig(
        image_size=int(size),
        channels=int(channels),
        nz=int(st.session_state.train_nz),
        ngf=int(st.session_state.train_ngf),
        ndf=int(st.session_state.train_ndf),
    )
    st.caption(
        ui.t(
            "train.model_size",
            shape=shape_text(preview),
            g=f"{count_parameters(Generator(preview)):,}",
            d=f"{count_parameters(Discriminator(preview)):,}",
        )
    )
    these = TrainConfig(
        model=preview,
        batch_size=int(st.session_state.train_batch),
        lr=float(st.session_state.train_lr),
        beta1=float(st.session_state.train_beta1),
        ema=SHOWN_DECAY if st.session_state.train_ema else 0.0,
    )
    these_name, these_detail = recipe_text(these, device)
    st.caption(f"{ui.t('recipes.these_settings', name=these_name)} {these_detail}")
    if device.type == "cpu" and (
        preview.image_size > 32 or max(preview.ngf, preview.ndf) > 32 or st.session_state.train_batch > 64
    ):
        st.warning(ui.t("train.cpu_slow"), icon="🐢")
except LabError as err:
    ui.show_error(err)

b1, b2, b3 = st.columns(3)
start_clicked = b1.button(
    ui.t("train.start"),
    type="primary",
    icon=":material/play_arrow:",
    disabled=active,
    key="train_start_btn",
    width="stretch",
)
b2.button(
    ui.t("train.classroom_defaults"),
    on_click=use_classroom_defaults,
    disabled=active,
    key="train_defaults_btn",
    width="stretch",
    help=ui.t("train.classroom_defaults_help"),
)
b3.button(
    ui.t("train.paper_settings"),
    on_click=use_paper_settings,
    disabled=active,
    key="train_paper_btn",
    width="stretch",
    help=ui.t("train.paper_settings_help"),
)


def start_from_settings(zip_upload, confirmed: bool = False) -> None:
    """Check the settings and the data, then start; every refusal is a sentence beside the Start button."""
    st.session_state.pop("train_confirm_few", None)
    source = st.session_state.train_source
    problem = None
    if source == "zip" and zip_upload is None:
        problem = "train.zip_missing"
    elif source == "folder" and not st.session_state.train_folder.strip():
        problem = "train.folder_missing"
    if not st.session_state.train_image_size or not st.session_state.train_channels:
        problem = "train.pick_size"
    if problem:
        st.error(ui.t(problem))
        return
    try:
        survey = None
        if source == "zip":
            survey = survey_zip(zip_upload.getvalue())
        elif source == "folder":
            survey = survey_folder(check_image_folder(st.session_state.train_folder.strip()))
        if survey is not None:
            check = size_check(survey.count, int(st.session_state.train_batch))
            if check.verdict == "refuse":
                raise LabError(check.key, **check.params)
            if check.verdict == "warn" and not confirmed:
                st.session_state.train_confirm_few = check.params
                return
        zip_path = str(save_upload(zip_upload, "zips", ".zip")) if source == "zip" else None
        config = config_from_widgets(zip_path)
    except LabError as err:
        ui.show_error(err)
        return
    start_run(config)


start_feedback = st.container()
with start_feedback:
    if start_clicked:
        start_from_settings(zip_upload)
    if st.session_state.get("train_confirm_few") and not active:
        st.warning(ui.t("data.few_images", **st.session_state.train_confirm_few), icon="⚠️")
        c1, c2 = st.columns(2)
        if c1.button(ui.t("train.few_images_confirm"), key="train_few_confirm_btn", type="primary"):
            start_from_settings(zip_upload, confirmed=True)
        if c2.button(ui.t("train.few_images_cancel"), key="train_few_cancel_btn"):
            st.session_state.pop("train_confirm_few", None)
            st.rerun()
    if current is not None and current is not shown and current.job.snapshot().failed_to_start:
        failed = current.job.snapshot()
        reason = ui.t(failed.message_key, **failed.message_params) if failed.message_key else ""
        st.error(ui.t("train.start_failed", reason=reason) if shown is not None else reason, icon="⛔")

# ---- continue from a checkpoint ---------------------------------------------------

with st.expander(ui.t("train.resume_title"), icon=":material/history:"):
    st.markdown(ui.t("train.resume_intro"))
    runs = run_checkpoints()[:30]
    options = ["upload"] + [str(p) for p in runs]
    choice = st.selectbox(
        ui.t("train.resume_from"),
        options,
        key="train_resume_choice",
        disabled=active,
        format_func={o: ui.t("train.resume_upload") if o == "upload" else Path(o).parent.name for o in options}.get,
    )
    upload = None
    if choice == "upload":
        upload = st.file_uploader(
            ui.t("train.resume_file"), type=["pt", "pth"], key="train_resume_upload", disabled=active
        )
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
