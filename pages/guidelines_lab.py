"""Guidelines lab: break one of the paper's architecture guidelines and compare
with the recipe trained on the same data from the same seed. Instant from the
recorded results in assets/ablations; a live rerun trains the pair again."""

import pandas as pd
import streamlit as st
import torch

import ui
from dcgan_core import ablation_process, ablations
from dcgan_core.i18n import LabError
from dcgan_core.viz import ablations as viz

PLOT_CONFIG = {"displayModeBar": False}
VARIANTS = [name for name in ablations.ABLATIONS if name != "paper"]

st.title(ui.t("guidelines_lab.title"))
st.markdown(ui.t("guidelines_lab.intro"))


@st.cache_resource(max_entries=2, show_spinner=False)
def _recorded(folder: str, mtime: float) -> dict:
    return ablations.load_results(folder)


def _recorded_or_error() -> dict:
    path = ablations.SHIPPED_DIR / ablations.RESULTS_FILE
    try:
        return _recorded(str(ablations.SHIPPED_DIR), path.stat().st_mtime if path.exists() else 0.0)
    except LabError as err:
        ui.show_error(err)
        return {}


def _name(name: str) -> str:
    return ui.t(f"guidelines_lab.name_{name}")


def _format_fcd(value) -> str:
    return f"{value:.1f}" if value is not None else ui.t("guidelines_lab.not_applicable")


recorded = _recorded_or_error()
variant = st.selectbox(ui.t("guidelines_lab.choose"), VARIANTS, format_func=_name, key="lab_variant")

rule, effect = st.columns(2)
with rule:
    st.subheader(ui.t("guidelines_lab.rule_header"))
    st.markdown(ui.t(f"guidelines_lab.rule_{variant}"))
with effect:
    st.subheader(ui.t("guidelines_lab.effect_header"))
    st.markdown(ui.t(f"guidelines_lab.effect_{variant}"))
    changes = ", ".join(
        f"`{key}: {ablations.RECIPE[key]!r} → {value!r}`" for key, value in ablations.ABLATIONS[variant].items()
    )
    st.markdown(ui.t("guidelines_lab.switch", changes=changes))

# Live results replace the recorded ones for the pair they cover.
live = st.session_state.get("lab_live")
use_live = live is not None and live["variant"] == variant
results = live["results"] if use_live else recorded
if use_live:
    st.info(ui.t("guidelines_lab.source_live"))
    if st.button(ui.t("guidelines_lab.show_recorded"), key="lab_show_recorded"):
        del st.session_state["lab_live"]
        st.rerun()

if "paper" in results and variant in results:
    paper, broken = results["paper"], results[variant]
    pair = [paper, broken]
    names = {"paper": _name("paper"), variant: _name(variant)}

    # ---- verdict: judged only once the recipe itself draws digits ---------------------------------
    judgement = ablations.verdict(paper, broken)
    show = {
        "too_early": st.info,
        "diverged": st.error,
        "collapsed": st.error,
        "hurt": st.warning,
        "similar": st.info,
        "helped": st.info,
    }[judgement.kind]
    show(ui.t(judgement.key, **judgement.params))

    # ---- samples --------------------------------------------------------------------------------
    st.header(ui.t("guidelines_lab.samples_header"))
    steps = sorted({s for r in pair for s, _ in r.grids})
    source_id = f"{'live' if use_live else 'recorded'}_{variant}_{steps[-1] if steps else 0}"
    if steps:
        step = st.select_slider(ui.t("guidelines_lab.step_slider"), steps, value=steps[-1], key=f"lab_step_{source_id}")
        # A third, narrower column keeps the grids moderate on a wide screen; narrow screens stack them.
        *columns, note = st.columns([2, 2, 1])
        for column, result in zip(columns, pair, strict=False):
            column.image(
                result.grid_at(step),
                width="stretch",
                caption=ui.t("guidelines_lab.samples_caption", name=names[result.name], step=step),
            )
        note.caption(ui.t("guidelines_lab.samples_note"))

    # ---- curves ---------------------------------------------------------------------------------
    st.header(ui.t("guidelines_lab.curves_header"))
    st.markdown(ui.t("guidelines_lab.curves_intro"))
    window = st.slider(ui.t("guidelines_lab.smoothing"), 1, 100, 25, key="lab_window")
    panel_titles = {key: ui.t(f"guidelines_lab.panel_{key}") for key in ablations.HISTORY_KEYS}
    st.plotly_chart(
        viz.curves_figure(
            pair,
            names,
            panel_titles,
            ui.t("guidelines_lab.x_step"),
            window=window,
            diverged_label=ui.t("guidelines_lab.diverged_mark"),
        ),
        width="stretch",
        config=PLOT_CONFIG,
        key="lab_curves",
    )

    # ---- metrics --------------------------------------------------------------------------------
    st.header(ui.t("guidelines_lab.metrics_header"))
    if paper.metrics and broken.metrics:
        st.markdown(ui.t("guidelines_lab.metrics_intro", n=broken.metrics["num_fake"]))
        yes, no = ui.t("guidelines_lab.yes"), ui.t("guidelines_lab.no")

        def column(r):
            m = r.metrics
            return [
                _format_fcd(m["fcd"]),
                _format_fcd(m.get("fcd_real_baseline")),
                f"{m['mean_confidence']:.2f}",
                str(m["classes_present"]),
                yes if m["mode_collapse"] else no,
                str(r.diverged_at) if r.diverged_at is not None else ui.t("guidelines_lab.not_applicable"),
                f"{r.wall_seconds if use_live else r.cpu_seconds:.0f}",
            ]

        time_row = "time" if use_live else "cpu_time"  # a recording's wall time says more about the machine's load
        rows = [
            ui.t(f"guidelines_lab.row_{k}")
            for k in ("fcd", "baseline", "confidence", "classes", "collapse", "diverged", time_row)
        ]
        table = pd.DataFrame(
            {names["paper"]: column(paper), names[variant]: column(broken)},
            index=pd.Index(rows, name=ui.t("guidelines_lab.metric_name")),
        )
        st.table(table)  # wraps on a narrow screen, unlike a scrolling dataframe
        if not judgement.judged:
            st.caption(ui.t("guidelines_lab.metrics_too_early"))
        charts = st.columns(2)
        with charts[0]:
            st.subheader(ui.t("guidelines_lab.fcd_header"))
            st.plotly_chart(
                viz.fcd_figure(
                    pair,
                    names,
                    ui.t("guidelines_lab.x_step"),
                    ui.t("guidelines_lab.fcd_y"),
                    ui.t("guidelines_lab.fcd_baseline"),
                ),
                width="stretch",
                config=PLOT_CONFIG,
                key="lab_fcd",
            )
        with charts[1]:
            st.subheader(ui.t("guidelines_lab.histogram_header"))
            st.plotly_chart(
                viz.histogram_figure(
                    pair, names, ui.t("guidelines_lab.histogram_x"), ui.t("guidelines_lab.histogram_y")
                ),
                width="stretch",
                config=PLOT_CONFIG,
                key="lab_histogram",
            )
    else:
        st.info(ui.t("guidelines_lab.metrics_missing"))

    # ---- provenance -----------------------------------------------------------------------------
    train = broken.train
    if use_live:
        st.caption(
            ui.t(
                "guidelines_lab.live_caption",
                device=broken.device,
                steps=train["steps"],
                batch=train["batch_size"],
                seed=train["seed"],
            )
        )
    else:
        seconds = sum(r.cpu_seconds or r.wall_seconds for r in recorded.values()) / max(1, len(recorded))
        details = ablations.recording_details(ablations.SHIPPED_DIR)
        st.caption(
            ui.t(
                "guidelines_lab.recorded_caption",
                device=details.get("machine", broken.device),
                command=details.get("command", f"python scripts/record_ablations.py --steps {train['steps']}"),
                steps=train["steps"],
                batch=train["batch_size"],
                lr=f"{train['lr']:g}",
                beta1=f"{train['beta1']:g}",
                seed=train["seed"],
                images=train["images"],
                seconds=f"{seconds:.0f}",
            )
        )

# ---- all seven ------------------------------------------------------------------------------------
if recorded and any(r.metrics for r in recorded.values()):
    st.header(ui.t("guidelines_lab.summary_header"))
    st.plotly_chart(
        viz.summary_figure(
            recorded,
            {n: _name(n) for n in recorded},
            variant,
            ui.t("guidelines_lab.summary_x"),
            diverged_label=ui.t("guidelines_lab.diverged_mark"),
        ),
        width="stretch",
        config=PLOT_CONFIG,
        key="lab_summary",
    )
    final = {n: r for n, r in recorded.items() if r.grids}
    st.image(
        [viz.top_rows(r.grids[-1][1], 3, r.config["image_size"]) for r in final.values()],
        caption=[_name(n) for n in final],
        width=220,
    )
    st.caption(ui.t("guidelines_lab.summary_samples", step=max(r.grids[-1][0] for r in final.values())))

# ---- live rerun: a child process through the server's training registry ---------------------------
st.header(ui.t("guidelines_lab.live_header"))
gpu = torch.cuda.is_available()
recorded_steps = recorded["paper"].train["steps"] if "paper" in recorded else ablations.LIVE_DEFAULT_STEPS
if gpu:
    st.info(ui.t("guidelines_lab.live_gpu"))
else:
    per_variant = (recorded["paper"].cpu_seconds or recorded["paper"].wall_seconds) if "paper" in recorded else 0
    reached = ablations.first_step_with_digits(recorded["paper"]) if "paper" in recorded else None
    st.warning(
        ui.t(
            "guidelines_lab.live_cpu",
            seconds=f"{per_variant:.0f}",
            steps=recorded_steps,
            default=ablations.LIVE_DEFAULT_STEPS,
            reached=reached or "–",
        )
    )
live_steps = st.slider(
    ui.t("guidelines_lab.live_steps"),
    50,
    2000,
    recorded_steps if gpu else ablations.LIVE_DEFAULT_STEPS,
    step=50,
    key="lab_live_steps",
)

server_job = ablation_process.live_job()
if st.button(
    ui.t("guidelines_lab.live_button"),
    key="lab_live_button",
    type="primary",
    disabled=server_job is not None and server_job.active,
):
    try:
        job = ablation_process.start_live_pair(
            variant, int(live_steps), seed=0, device="auto", base_cfg=ablations.lab_base_config("cpu")
        )
        st.session_state["lab_job"] = job
    except LabError as err:
        ui.show_error(err)


@st.fragment(run_every=1.0)
def _live_progress():
    mine = st.session_state.get("lab_job")
    job = mine or ablation_process.live_job()
    if job is None:
        return
    if job.active:
        st.progress(
            job.progress,
            text=ui.t(
                "guidelines_lab.live_progress", name=_name(job.current or job.name), percent=int(100 * job.progress)
            ),
        )
        if mine is None:
            st.caption(ui.t("guidelines_lab.live_other_session"))
        elif st.button(ui.t("guidelines_lab.live_stop"), key="lab_live_stop"):
            job.stop()
        return
    if mine is None:
        return
    del st.session_state["lab_job"]
    if job.status == "failed":
        st.error(ui.t("guidelines_lab.live_failed", detail=job.failure.message(ui.current_language())))
        return
    if "paper" in job.results and job.name in job.results:
        st.session_state["lab_live"] = {"variant": job.name, "results": job.results}
        st.session_state["lab_live_stopped"] = job.status == "stopped"
    st.rerun(scope="app")


if st.session_state.pop("lab_live_stopped", False):
    st.info(ui.t("guidelines_lab.live_stopped"))
_live_progress()
