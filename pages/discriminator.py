"""Inside the discriminator: its verdict on one image, its activations layer by
layer, guided backprop, and its features as a representation (paper §5)."""

import time

import pandas as pd
import streamlit as st
import torch

import ui
from dcgan_core import features, latent
from dcgan_core.data import DatasetSpec, load_images
from dcgan_core.model_source import PRETRAINED_PATH
from dcgan_core.viz import features as viz

CHANNELS_SHOWN = 8
OVERALL_COUNT = 512  # real and generated digits for the "for scale" sentence
CONTEXT = 63  # the other images of a minibatch of 64, as in training
PLOT_CONFIG = {"displayModeBar": False}

st.title(ui.t("discriminator.title"))
st.markdown(ui.t("discriminator.intro"))


@st.cache_resource(max_entries=4, show_spinner=False)
def _load_models(path: str, mtime: float):
    from dcgan_core.checkpoint import load_checkpoint

    ckpt = load_checkpoint(path)
    netG = ckpt.build_generator().eval()
    netD = ckpt.build_discriminator().eval() if ckpt.discriminator else None
    return netG, netD, ckpt.model_config


@st.cache_resource(max_entries=4, show_spinner=False)
def _bundled(split: str, image_size: int, channels: int):
    images = load_images(DatasetSpec(source="bundled", split=split, image_size=image_size, channels=channels))
    return images.images, images.labels


@st.cache_data(max_entries=8, show_spinner=False)
def _overall(_netG, _netD, model_key: str, image_size: int, channels: int, nz: int, batch_statistics: bool):
    """D's mean probability "real" on real test digits and on generated ones, in minibatches of 64."""
    real, _ = _bundled("test", image_size, channels)
    fake = latent.generate(_netG, latent.z_from_seed(10**6, nz, OVERALL_COUNT))
    return (
        features.mean_probability(_netD, real[:OVERALL_COUNT], batch_statistics),
        features.mean_probability(_netD, fake, batch_statistics),
    )


def _pick_model():
    path = ui.checkpoint_picker(label="discriminator.model_choice")
    if path is None:
        st.stop()
    try:
        netG, netD, cfg = _load_models(str(path), path.stat().st_mtime)
    except Exception as err:  # a LabError from validation, or a file that vanished
        ui.show_error(err)
        st.stop()
    if netD is None:
        st.warning(ui.t("discriminator.no_discriminator"))
        st.stop()
    return netG, netD, cfg, path


netG, netD, cfg, model_path = _pick_model()
model_key = ui.model_cache_key(model_path)
test_images, test_labels = _bundled("test", cfg.image_size, cfg.channels)

# ---- 1. one image, one verdict ------------------------------------------------------------------
st.header(ui.t("discriminator.image_header"))
sources = {
    "real": ui.t("discriminator.source_real"),
    "fake": ui.t("discriminator.source_fake"),
    "noise": ui.t("discriminator.source_noise"),
}
controls = st.columns([3, 2])
source = controls[0].radio(
    ui.t("discriminator.source"), list(sources), format_func=sources.get, key="disc_source", horizontal=True
)
if source == "real":
    index = int(
        controls[1].number_input(
            ui.t("discriminator.index"),
            0,
            len(test_images) - 1,
            0,
            key="disc_index",
            help=ui.t("discriminator.index_help"),
        )
    )
    image = test_images[index]
    caption = ui.t("discriminator.real_caption", index=index, label=int(test_labels[index]))
    others = test_images[(index + 1 + torch.arange(CONTEXT)) % len(test_images)]
else:
    seed = int(
        controls[1].number_input(
            ui.t("discriminator.seed"), 0, 10**6, 0, key=f"disc_seed_{source}", help=ui.t("discriminator.seed_help")
        )
    )
    if source == "fake":
        image = latent.generate(netG, latent.z_from_seed(seed, cfg.nz))[0]
        caption = ui.t("discriminator.fake_caption", seed=seed)
        others = latent.generate(netG, latent.z_from_seeds(range(seed + 1, seed + 1 + CONTEXT), cfg.nz))
    else:
        noise = torch.Generator().manual_seed(seed)
        image = torch.rand(cfg.channels, cfg.image_size, cfg.image_size, generator=noise) * 2 - 1
        caption = ui.t("discriminator.noise_caption", seed=seed)
        others = torch.rand(CONTEXT, cfg.channels, cfg.image_size, cfg.image_size, generator=noise) * 2 - 1

bn_modes = {"batch": ui.t("discriminator.bn_batch"), "running": ui.t("discriminator.bn_running")}
bn_mode = st.radio(
    ui.t("discriminator.bn_choice"), list(bn_modes), format_func=bn_modes.get, key="disc_bn", horizontal=True
)
context = others if bn_mode == "batch" else None
logit = features.discriminator_logit(netD, image, context)
probability = float(torch.sigmoid(torch.tensor(logit)))
left, right = st.columns([1, 2])
left.plotly_chart(viz.image_figure(image, caption, height=280), width="stretch", config=PLOT_CONFIG, key="disc_image")
with right:
    cols = st.columns(2)
    cols[0].metric(ui.t("discriminator.probability"), f"{probability:.3f}")
    cols[1].metric(ui.t("discriminator.logit"), f"{logit:+.2f}")
    st.markdown(ui.t("discriminator.verdict_real" if probability > 0.5 else "discriminator.verdict_fake"))
    real_mean, fake_mean = _overall(netG, netD, model_key, cfg.image_size, cfg.channels, cfg.nz, bn_mode == "batch")
    st.markdown(ui.t("discriminator.overall", n=OVERALL_COUNT, real=f"{real_mean:.2f}", fake=f"{fake_mean:.2f}"))
with st.expander(ui.t("discriminator.bn_choice")):
    st.markdown(ui.t("discriminator.bn_explain", others=CONTEXT))

# ---- 2. activations -----------------------------------------------------------------------------
st.header(ui.t("discriminator.activations_header"))
st.markdown(ui.t("discriminator.activations_intro"))
layers = [(name, act) for name, act in features.layer_activations(netD, image, context) if name != "logit"]
if not layers:
    st.info(ui.t("discriminator.no_conv_layers"))
else:
    tabs = st.tabs(
        [ui.t("discriminator.layer_tab", name=name, channels=act.shape[0], size=act.shape[-1]) for name, act in layers]
    )
    image_key = f"{model_key}:{source}:{caption}:{bn_mode}"
    for tab, (name, act) in zip(tabs, layers, strict=False):
        with tab:
            state_key = f"disc_channels_{name}"
            strongest = viz.top_channels(act, CHANNELS_SHOWN)
            # A new image (or model) starts from its own strongest channels; a choice sticks while the image stays.
            if st.session_state.get(f"{state_key}_for") != image_key or state_key not in st.session_state:
                st.session_state[state_key] = strongest
                st.session_state[f"{state_key}_for"] = image_key
            pick, button = st.columns([5, 2], vertical_alignment="bottom")
            chosen = pick.multiselect(
                ui.t("discriminator.channels"),
                list(range(act.shape[0])),
                key=state_key,
                help=ui.t("discriminator.channels_help"),
                max_selections=16,
            )
            if button.button(ui.t("discriminator.strongest"), key=f"disc_strongest_{name}"):
                st.session_state.pop(f"{state_key}_for", None)
                st.rerun()
            st.plotly_chart(
                viz.activation_figure(act, chosen or strongest, ui.t("discriminator.channel_label"), columns=4),
                width="stretch",
                config=PLOT_CONFIG,
                key=f"disc_act_{name}",
            )
            flat = act.reshape(act.shape[0], -1)
            st.caption(
                ui.t(
                    "discriminator.layer_summary",
                    active=int((flat.max(1).values > 0).sum()),
                    channels=act.shape[0],
                    best=strongest[0],
                )
            )

# ---- 3. guided backprop -------------------------------------------------------------------------
st.header(ui.t("discriminator.saliency_header"))
st.markdown(ui.t("discriminator.saliency_intro"))
plain = st.toggle(ui.t("discriminator.plain_toggle"), key="disc_plain")
saliency = (features.plain_gradient if plain else features.guided_backprop)(netD, image, context)
titles = (
    ui.t("discriminator.saliency_image"),
    ui.t("discriminator.saliency_plain" if plain else "discriminator.saliency_map"),
    ui.t("discriminator.saliency_overlay"),
)
st.plotly_chart(viz.saliency_figure(image, saliency, titles), width="stretch", config=PLOT_CONFIG, key="disc_saliency")
st.caption(ui.t("discriminator.saliency_read"))

# ---- 4. representation learning -----------------------------------------------------------------
st.header(ui.t("discriminator.representation_header"))
st.markdown(ui.t("discriminator.representation_intro"))
st.info(ui.t("discriminator.representation_honest"))

live_key = f"disc_probe_{model_key}"
recorded = features.load_representation(features.REPRESENTATION_PATH)
if st.button(ui.t("discriminator.run_probe"), key="disc_run_probe", type="primary"):
    train_images, train_labels = _bundled("train", cfg.image_size, cfg.channels)
    bar = st.progress(0.0, text=ui.t("discriminator.probe_progress", percent=0))
    started = time.perf_counter()
    results = features.representation_experiment(
        netD,
        train_images,
        train_labels,
        test_images,
        test_labels,
        progress=lambda f: bar.progress(f, text=ui.t("discriminator.probe_progress", percent=int(100 * f))),
    )
    bar.empty()
    st.session_state[live_key] = {"results": [r.to_dict() for r in results], "seconds": time.perf_counter() - started}

live = st.session_state.get(live_key)
shown = None
if live is not None:
    shown = live["results"]
    st.caption(
        ui.t("discriminator.probe_live", seconds=f"{live['seconds']:.0f}", repeats=max(r["repeats"] for r in shown))
    )
elif recorded is not None:
    shown = recorded["results"]
    if model_path != PRETRAINED_PATH:
        st.warning(ui.t("discriminator.probe_other_model"))
    st.caption(
        ui.t(
            "discriminator.probe_recorded",
            seconds=f"{recorded.get('seconds', 0):.0f}",
            machine=recorded.get("machine", "?"),
            date=recorded.get("date", "?"),
            repeats=max(r["repeats"] for r in shown),
        )
    )
else:
    st.info(ui.t("discriminator.probe_none"))
if not torch.cuda.is_available() and live is None:
    st.caption(ui.t("discriminator.probe_cpu_note"))

if shown:
    names = {
        "d": ui.t("discriminator.legend_d"),
        "random": ui.t("discriminator.legend_random"),
        "pixel": ui.t("discriminator.legend_pixel"),
    }
    label_format = ui.t("discriminator.label_count")  # the template itself: the figure fills in {n}
    st.plotly_chart(
        viz.probe_figure(
            shown, names, ui.t("discriminator.x_labels"), ui.t("discriminator.y_accuracy"), label_format=label_format
        ),
        width="stretch",
        config=PLOT_CONFIG,
        key="disc_probe_chart",
    )

    def accuracy(r, key):
        mean, spread = r[f"{key}_accuracy"], r[f"{key}_std"]
        return f"{mean:.1%} ± {spread:.1%}" if r["repeats"] > 1 else f"{mean:.1%}"

    table = pd.DataFrame(
        {
            ui.t("discriminator.col_d"): [accuracy(r, "d") for r in shown],
            ui.t("discriminator.col_random"): [accuracy(r, "random") for r in shown],
            ui.t("discriminator.col_pixel"): [accuracy(r, "pixel") for r in shown],
        },
        index=pd.Index([f"{r['n_labels']:,}" for r in shown], name=ui.t("discriminator.col_labels")),
    )
    st.table(table)
    fewest = min(shown, key=lambda r: r["n_labels"])

    if features.clearly_better(fewest, "random") and features.clearly_better(fewest, "pixel"):
        verdict = "discriminator.probe_verdict_good"
    elif not features.clearly_better(fewest, "random"):
        verdict = "discriminator.probe_verdict_random"
    else:
        verdict = "discriminator.probe_verdict_pixels"
    st.markdown(
        ui.t(
            "discriminator.probe_read",
            n=fewest["n_labels"],
            d=f"{fewest['d_accuracy']:.1%}",
            pixel=f"{fewest['pixel_accuracy']:.1%}",
            random=f"{fewest['random_accuracy']:.1%}",
            verdict=ui.t(verdict),
        )
    )
