"""Quality page: how good are the generator's digits? FCD, class histogram,
confidence and the memorisation check, all with an MNIST classifier."""

import numpy as np
import streamlit as st
import torch

import ui
from dcgan_core import latent, metrics
from dcgan_core.data import load_bundled_mnist
from dcgan_core.i18n import LabError
from dcgan_core.viz import latent as viz_latent
from dcgan_core.viz import quality as viz

NN_POOL = 200  # samples and held-out digits compared for the memorisation statistic

st.title(ui.t("quality.title"))
st.markdown(ui.t("quality.intro"))

picked = ui.generator_picker()
if picked is None:
    st.stop()
netG, cfg, model_path = picked
if cfg.channels != 1:
    st.warning(ui.t("quality.not_grey", channels=cfg.channels, size=cfg.image_size))
    st.stop()
try:
    from dcgan_core.classifier import load_classifier

    classifier = load_classifier()
    train_images, _ = load_bundled_mnist("train")
    test_images, _ = load_bundled_mnist("test")
except LabError as err:
    ui.show_error(err)
    st.stop()
model_key = ui.model_cache_key(model_path)


@st.cache_resource(show_spinner=False)
def _test_reference(_classifier) -> metrics.RealReference:
    return metrics.real_reference(test_images, _classifier)


@st.cache_data(max_entries=8, show_spinner=False)
def _samples(_netG, model_key: str, count: int, seed: int) -> np.ndarray:
    return latent.generate(_netG, latent.z_from_seed(seed, cfg.nz, count)).numpy()


@st.cache_data(max_entries=8, show_spinner=False)
def _reports(_netG, _classifier, model_key: str, count: int, seed: int):
    reference = _test_reference(_classifier)
    fake = torch.from_numpy(_samples(_netG, model_key, count, seed))
    report = metrics.quality_report(fake, reference, _classifier, baseline=False)
    refs = {
        name: metrics.quality_report(images, reference, _classifier, baseline=False).fcd
        for name, images in viz.reference_images(train_images, count, seed).items()
    }
    _, probs = metrics.classifier_features(fake, _classifier)
    return report, refs, probs


@st.cache_data(max_entries=16, show_spinner=False)
def _neighbours(_netG, _classifier, model_key: str, count: int, seed: int, space: str):
    """Nearest training digit of the first NN_POOL samples and of as many held-out test digits."""
    pool = torch.from_numpy(_samples(_netG, model_key, count, seed))[:NN_POOL]
    fake_idx, fake_d = metrics.nearest_real_neighbours(pool, train_images, 1, space, _classifier)
    _, real_d = metrics.nearest_real_neighbours(test_images[: len(pool)], train_images, 1, space, _classifier)
    return fake_idx[:, 0], fake_d[:, 0], float(np.median(fake_d)), float(np.median(real_d)), len(pool)


ui.defaults({"q_count": 500, "q_seed": 0})
controls = st.columns(2)
count = controls[0].select_slider(
    ui.t("quality.count"), [64, 128, 256, 500, 1000, 2000], key="q_count", help=ui.t("quality.count_help")
)
seed = controls[1].number_input(ui.t("quality.seed"), min_value=0, max_value=10**6, key="q_seed")
try:
    with st.spinner(ui.t("quality.computing")):
        report, refs, probs = _reports(netG, classifier, model_key, int(count), int(seed))
except LabError as err:  # e.g. a diverged generator drawing NaNs
    ui.show_error(err)
    st.stop()
fake = torch.from_numpy(_samples(netG, model_key, int(count), int(seed)))

# ---- 1. Fréchet classifier distance ----------------------------------------------------------
st.header(ui.t("quality.fcd_header"))
st.markdown(ui.t("quality.fcd_intro"))
cols = st.columns(4)
cols[0].metric(ui.t("quality.fcd_model"), viz.format_fcd(report.fcd))
cols[1].metric(ui.t("quality.fcd_real"), viz.format_fcd(refs["real"]))
cols[2].metric(ui.t("quality.fcd_blurred"), viz.format_fcd(refs["blurred"]))
cols[3].metric(ui.t("quality.fcd_noise"), viz.format_fcd(refs["noise"]))
entries = [
    (ui.t("quality.fcd_real"), refs["real"], "real"),
    (ui.t("quality.fcd_blurred"), refs["blurred"], "blurred"),
    (ui.t("quality.fcd_model"), report.fcd, "model"),
    (ui.t("quality.fcd_noise"), refs["noise"], "noise"),
]
entries.sort(key=lambda e: e[1])
st.plotly_chart(
    viz.fcd_scale_figure(entries, x_title=ui.t("quality.fcd_axis")), width="stretch", config={"displayModeBar": False}
)
st.caption(ui.t("quality.fcd_caption", count=report.num_fake, real=report.num_real))
with st.expander(ui.t("quality.fcd_how_title")):
    st.markdown(ui.t("quality.fcd_how"))

# ---- 2. which digits, and how sure ----------------------------------------------------------
st.header(ui.t("quality.classes_header"))
st.markdown(ui.t("quality.classes_intro"))
cols = st.columns(3)
cols[0].metric(ui.t("metrics.mean_confidence_name"), f"{report.mean_confidence:.2f}")
cols[1].metric(ui.t("quality.confident_share"), f"{100 * report.confident_share:.0f}%")
cols[2].metric(ui.t("metrics.classes_present_name"), f"{report.classes_present} / 10")
st.plotly_chart(
    viz.class_histogram_figure(
        report.class_histogram,
        x_title=ui.t("quality.hist_x"),
        y_title=ui.t("quality.hist_y"),
        uniform_label=ui.t("quality.hist_uniform"),
    ),
    width="stretch",
    config={"displayModeBar": False},
)
if report.mode_collapse:
    st.warning(
        ui.t("quality.collapse_warning")
        + "\n\n"
        + "\n\n".join(ui.t(key, **params) for key, params in report.collapse_reasons),
        icon="⚠️",
    )
else:
    st.success(ui.t("quality.no_collapse", present=report.classes_present), icon="✅")
confidence = probs.max(1)
order = np.argsort(confidence)
examples = st.columns(2)
for column, title, picks in (
    (examples[0], ui.t("quality.least_confident"), order[:8]),
    (examples[1], ui.t("quality.most_confident"), order[::-1][:8]),
):
    column.markdown(f"**{title}**")
    column.image(
        viz_latent.mosaic(fake[picks.copy()], ncols=8, scale=2),
        width="stretch",
        caption="  ·  ".join(f"{int(probs[i].argmax())} ({confidence[i]:.2f})" for i in picks),
    )
st.caption(ui.t("quality.confidence_caption"))

# ---- 3. memorisation ---------------------------------------------------------------------------
st.header(ui.t("quality.nn_header"))
st.markdown(ui.t("quality.nn_intro", train=len(train_images)))
nn_controls = st.columns(2)
shown = nn_controls[0].slider(ui.t("quality.nn_count"), 4, 16, 8, key="q_nn_count")
spaces = {"pixel": ui.t("quality.space_pixel"), "features": ui.t("quality.space_features")}
space = nn_controls[1].radio(
    ui.t("quality.space"), list(spaces), format_func=spaces.get, key="q_space", horizontal=True
)
with st.spinner(ui.t("quality.computing")):
    idx, dist, fake_median, real_median, pool = _neighbours(netG, classifier, model_key, int(count), int(seed), space)
idx, dist = idx[:shown], dist[:shown]
nearest = torch.from_numpy(train_images[idx].astype(np.float32) / 127.5 - 1)[:, None]
st.plotly_chart(
    viz.neighbours_grid(
        fake[:shown], nearest, dist, fake_label=ui.t("quality.row_generated"), real_label=ui.t("quality.row_nearest")
    ),
    width="stretch",
    config={"displayModeBar": False},
)
st.caption(ui.t("quality.nn_caption"))
st.markdown(f"**{ui.t('quality.nn_median_title', n=pool)}**")
cols = st.columns(2)
cols[0].metric(ui.t("quality.nn_median_fake"), f"{fake_median:.2f}")
cols[1].metric(ui.t("quality.nn_median_real"), f"{real_median:.2f}")
ratio = fake_median / max(real_median, 1e-9)
if ratio < 0.5:
    st.warning(ui.t("quality.nn_copying", ratio=f"{ratio:.2f}"))
else:
    st.info(ui.t("quality.nn_verdict", ratio=f"{ratio:.2f}"))
