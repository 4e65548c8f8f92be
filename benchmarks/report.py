"""RESULTS.md and the README's performance table, rendered from the benchmark records.

    python benchmarks/report.py           # rewrite benchmarks/RESULTS.md and README.md's table
    python benchmarks/report.py --check   # exit 1 if either differs from what the records give

Every number in both comes from ``benchmarks/results/<benchmark>.jsonl`` (benchmarks/record.py):
the median and the range (min–max) over the recorded runs, the number of runs, and the 1-minute
load average they ran under (lowest to highest, start and end of each run). Percentiles are
``numpy.percentile`` (linear interpolation) everywhere. Runs marked ``quick`` only check that a
script works and are not figures. Goals are targets from the issues, not measurements.
"""

from __future__ import annotations

import argparse
import difflib
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a file: the repository root

from benchmarks.record import RESULTS_DIR, read_records

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

RESULTS_MD = HERE / "RESULTS.md"
README = ROOT / "README.md"
BEGIN = "<!-- performance table: rendered by benchmarks/report.py from benchmarks/results; do not edit -->"
END = "<!-- end of performance table -->"


# ---------------------------------------------------------------- statistics


def median(values) -> float:
    return float(np.percentile(values, 50))


def fmt(value: float, digits: int | None = None) -> str:
    """A figure with a sensible number of digits: 1,234 / 123 / 12.3 / 1.23 / 0.123."""
    if value is None or value != value:
        return "–"
    if digits is None:
        magnitude = abs(value)
        digits = 0 if magnitude >= 100 else 1 if magnitude >= 10 else 2 if magnitude >= 1 else 3
    return f"{value:,.{digits}f}"


def spread(values, unit: str = "", digits: int | None = None) -> str:
    """median (range min–max, n runs), e.g. '74 ms (63–102, 3 runs)'."""
    values = [v for v in values if v is not None]
    if not values:
        return "–"
    text = f"{fmt(median(values), digits)}{unit}"
    if len(values) > 1:
        text += f" ({fmt(min(values), digits)}–{fmt(max(values), digits)}, {len(values)} runs)"
    else:
        text += " (1 run)"
    return text


def loads(records: list[dict]) -> str:
    values = [v for r in records for v in (r.get("load_1m_start"), r.get("load_1m_end")) if v is not None]
    if not values:
        return "load not recorded"
    low, high = min(values), max(values)
    return f"load {low:.1f}" if round(low, 1) == round(high, 1) else f"load {low:.1f}–{high:.1f}"


def machines(records: list[dict]) -> str:
    seen = []
    for r in records:
        text = f"{r.get('cores')}-core {r.get('cpu')}" + (f", {r['gpu']}" if r.get("gpu") else "")
        if text not in seen:
            seen.append(text)
    return "; ".join(seen)


def conditions(records: list[dict]) -> str:
    return f"{machines(records)}, {loads(records)}"


def figures_of(records):
    return [r["figures"] for r in records]


def full_runs(records: list[dict]) -> list[dict]:
    return [r for r in records if not r["figures"].get("quick")]


# ---------------------------------------------------------------- one section per benchmark


@dataclass
class Section:
    benchmark: str
    title: str
    what: str  # one README cell: what is measured
    script: str
    goal: str | None
    about: str  # RESULTS.md prose (no figures: those come from records)
    select: Callable[[list[dict]], list[dict]]
    summary: Callable[[list[dict]], str]  # the README cell and RESULTS.md's summary line
    rows: Callable[[list[dict]], tuple[list[str], list[list[str]]]]  # RESULTS.md's per-run table


def run_columns(r: dict) -> list[str]:
    return [
        r["date"].replace("T", " ").rstrip("Z")[:16],
        f"`{r['command']}`",
        r.get("commit") or "–",
        f"{fmt(r.get('load_1m_start'), 1)} → {fmt(r.get('load_1m_end'), 1)}",
    ]


RUN_HEAD = ["date (UTC)", "command", "commit", "load 1m"]


# convmatrix_build ---------------------------------------------------------------


def case_label(c: dict) -> str:
    return f"i={c['i']} k{c['k']} s{c['s']} p{c['p']}"


def convmatrix_cases(figs: list[dict]) -> dict[str, list[dict]]:
    cases: dict[str, list[dict]] = {}
    for f in figs:
        for c in f["cases"]:
            cases.setdefault(case_label(c), []).append(c)
    return cases


def convmatrix_summary(records):
    figs = figures_of(records)
    parts = [f"worst case **{spread([f['min_speedup'] for f in figs], '×')}**"]
    for label, cs in convmatrix_cases(figs).items():
        parts.append(
            f"{label}: {spread([c['vectorised_ms'] for c in cs], ' ms')} vs "
            f"{spread([c['naive_ms'] for c in cs], ' ms')}, {spread([c['speedup'] for c in cs], '×')}"
        )
    return "; ".join(parts)


def convmatrix_rows(records):
    labels = list(convmatrix_cases(figures_of(records)))
    head = RUN_HEAD + [f"{label}: vectorised / naive ms, speed-up" for label in labels] + ["worst speed-up"]
    rows = []
    for r in records:
        by_label = {case_label(c): c for c in r["figures"]["cases"]}
        cells = [
            f"{fmt(c['vectorised_ms'])} / {fmt(c['naive_ms'])}, {fmt(c['speedup'])}×" if c else "–"
            for c in (by_label.get(label) for label in labels)
        ]
        rows.append(run_columns(r) + cells + [f"{fmt(r['figures']['min_speedup'])}×"])
    return head, rows


# page_rerun ---------------------------------------------------------------------

PAGE_NAMES = {
    "pages/output_size.py": "output size",
    "pages/conv_matrix.py": "matrix",
    "pages/transposed_conv.py": "transposed",
    "pages/checkerboard.py": "checkerboard",
}


def per_page(figs: list[dict], key: str = "results", name: str = "page") -> dict[str, list[dict]]:
    pages: dict[str, list[dict]] = {}
    for f in figs:
        for p in f.get(key, []):
            if "error" not in p:
                pages.setdefault(PAGE_NAMES.get(p[name], p[name]), []).append(p)
    return pages


def page_rerun_summary(records):
    return "; ".join(
        f"{page}: median {spread([p['median_ms'] for p in ps], ' ms', 0)}, "
        f"p95 {spread([p['p95_ms'] for p in ps], ' ms', 0)}"
        for page, ps in per_page(figures_of(records)).items()
    )


def page_rerun_rows(records):
    pages = list(per_page(figures_of(records)))
    head = RUN_HEAD + [f"{page}: median / p95 / max ms (CPU median)" for page in pages]
    rows = []
    for r in records:
        mine = {page: ps[0] for page, ps in per_page([r["figures"]]).items()}
        rows.append(
            run_columns(r)
            + [
                f"{fmt(p['median_ms'], 0)} / {fmt(p['p95_ms'], 0)} / {fmt(p['max_ms'], 0)} "
                f"({fmt(p['cpu_median_ms'], 0)})"
                if p
                else "–"
                for p in (mine.get(page) for page in pages)
            ]
        )
    return head, rows


# slider_latency -----------------------------------------------------------------


def slider_method(f: dict) -> str:
    """How the lesson's chart followed the slider: redrawn by each page run (the records before
    the instant charts), or drawn by the browser from the charts the page sent ahead."""
    return f.get("method", "page runs")


def slider_summary(records):
    parts = []
    for method in sorted({slider_method(f) for f in figures_of(records)}, reverse=True):
        figs = [f for f in figures_of(records) if slider_method(f) == method]
        nice = sorted({f.get("nice", 0) for f in figs})
        label = f"{method} (browser and server at nice {', '.join(map(str, nice))})" if nice != [0] else method
        lessons = "; ".join(
            f"{page}: median {spread([p['median_ms'] for p in ps], ' ms', 0)}, "
            f"**p95 {spread([p['p95_ms'] for p in ps], ' ms', 0)}**"
            + (
                f", rest of the page p95 {spread([p['page_run_p95_ms'] for p in ps], ' ms', 0)}"
                if all("page_run_p95_ms" in p for p in ps)
                else ""
            )
            for page, ps in per_page(figs, "lessons", "page").items()
        )
        parts.append(f"{label}: {lessons}")
    return "; ".join(parts)


def slider_rows(records):
    pages = list(per_page(figures_of(records), "lessons", "page"))
    head = RUN_HEAD + ["method", "moves per lesson"] + [f"{page}: median / p95 / max ms" for page in pages]
    rows = []
    for r in records:
        mine = {page: ps[0] for page, ps in per_page([r["figures"]], "lessons", "page").items()}
        rows.append(
            run_columns(r)
            + [slider_method(r["figures"]), str(r["figures"]["moves"])]
            + [
                f"{fmt(p['median_ms'], 0)} / {fmt(p['p95_ms'], 0)} / {fmt(p['max_ms'], 0)}" if p else "–"
                for p in (mine.get(page) for page in pages)
            ]
        )
    return head, rows


# train_throughput -----------------------------------------------------------------


def cpu_runs(records):
    return [r for r in full_runs(records) if r["figures"].get("device", "cpu") == "cpu"]


def throughput_config(f: dict) -> str:
    return (
        f"{f['image_size']}×{f['image_size']}×{f['channels']}, ngf {f['ngf']}, batch {f['batch']}, "
        f"{f['threads']} thread{'s' if f['threads'] != 1 else ''}"
    )


def throughput_summary(records):
    figs = figures_of(records)
    configs = sorted({throughput_config(f) for f in figs})
    return (
        f"{' / '.join(configs)}: DataLoader recipe {spread([f['baseline']['images_per_s'] for f in figs], '', 0)}, "
        f"the app's fast path {spread([f['fast_path']['images_per_s'] for f in figs], '', 0)}, "
        f"the same while watched like the Train page {spread([f['observed']['images_per_s'] for f in figs], '', 0)}"
        f" images/s"
    )


def throughput_rows(records):
    head = RUN_HEAD + ["setting", "(a) baseline img/s", "(b) fast path img/s", "(c) observed img/s", "b/a", "c/b"]
    rows = [
        run_columns(r)
        + [
            throughput_config(f),
            fmt(f["baseline"]["images_per_s"], 0),
            fmt(f["fast_path"]["images_per_s"], 0),
            fmt(f["observed"]["images_per_s"], 0),
            fmt(f["fast_vs_baseline"], 2),
            fmt(f["observed_vs_fast"], 2),
        ]
        for r, f in ((r, r["figures"]) for r in records)
    ]
    return head, rows


# time_to_digits -------------------------------------------------------------------


def digits_config(f: dict) -> str:
    c = f["config"]
    return f"ngf {c['ngf']}, batch {c['batch']}, lr {c['lr']:g}, seed {c['seed']}, {f['threads']} thread" + (
        "s" if f["threads"] != 1 else ""
    )


def digits_runs(records):
    """Records of the seed-by-seed script (issue 15): each holds one run per (recipe, seed)."""
    return [r for r in cpu_runs(records) if isinstance(r["figures"].get("runs"), list)]


def recipe_label(recipe: str, c: dict) -> str:
    return (
        f"{recipe} recipe (ngf {c['ngf']}, ndf {c['ndf']}, batch {c['batch']}, lr {c['lr']:g}, β1 {c['beta1']:g}"
        f"{', EMA ' + format(c['ema'], 'g') if c.get('ema') else ''})"
    )


def least_loaded_run_per_seed(records) -> dict[str, dict[int, tuple[dict, dict]]]:
    """For each recipe and seed, the run from the record that started at the lowest load: the step
    counts do not depend on the load, the wall-clock seconds do."""
    chosen: dict[str, dict[int, tuple[dict, dict]]] = {}
    for r in sorted(records, key=lambda r: (r.get("load_1m_start") or 0.0, r["date"])):
        for run in r["figures"]["runs"]:
            if run.get("reached") is None:
                continue
            key = recipe_label(run["recipe"], run["config"])
            chosen.setdefault(key, {}).setdefault(run["seed"], (run, r))
    return chosen


def digits_summary(records):
    parts = []
    for label, by_seed in least_loaded_run_per_seed(records).items():
        runs = [run for run, _ in by_seed.values()]
        reached = [run for run in runs if run["reached"]]
        seeds = sorted(by_seed)
        loads_seen = [
            r.get(k) for _, r in by_seed.values() for k in ("load_1m_start", "load_1m_end") if r.get(k) is not None
        ]
        text = (
            f"{label}, seeds {', '.join(map(str, seeds))} (each seed's least-loaded run, load "
            f"{fmt(min(loads_seen), 1)}–{fmt(max(loads_seen), 1)}): reached in {len(reached)} of {len(runs)}"
        )
        if reached:
            text += (
                f", median **{fmt(median([x['train_seconds'] for x in reached]), 1)} s** of training "
                f"({fmt(min(x['train_seconds'] for x in reached), 1)}–"
                f"{fmt(max(x['train_seconds'] for x in reached), 1)} "
                f"over seeds), {fmt(median([x['train_cpu_seconds'] for x in reached]), 1)} CPU s, "
                f"{fmt(median([x['steps'] for x in reached]), 0)} steps, "
                f"FCD {fmt(median([x['fcd'] for x in reached]), 1)} at the criterion"
            )
        parts.append(text)
    return "; ".join(parts)


def digits_rows(records):
    head = RUN_HEAD + ["recipe", "seed", "reached at step", "train s", "CPU s", "check s", "confidence, classes, FCD"]
    rows = []
    for r in records:
        for run in r["figures"]["runs"]:
            rows.append(
                run_columns(r)
                + [
                    recipe_label(run["recipe"], run["config"]),
                    str(run["seed"]),
                    str(run["steps"]) if run["reached"] else f"not reached ({run.get('steps_run', '–')} steps)",
                    fmt(run.get("train_seconds_run", run.get("train_seconds")), 1),
                    fmt(run.get("train_cpu_seconds_run", run.get("train_cpu_seconds")), 1),
                    fmt(run.get("check_seconds"), 1),
                    f"{fmt(run.get('mean_confidence'), 3)}, {run.get('classes_present', '–')}, "
                    f"{fmt(run.get('fcd'), 1)}",
                ]
            )
    return head, rows


# classroom_load -------------------------------------------------------------------


def load_runs(records):
    return [r for r in records if r["figures"].get("viewers") == "protocol" and not r["figures"].get("quick")]


def load_summary(records):
    """Since the live view moved into the browser, its figure is the viewers' polls of the files the
    server writes; older records timed the live panel's script reruns and are summarised as such."""
    groups: dict[tuple, list[dict]] = {}
    for f in figures_of(records):
        kind = "live view" if "live_view_polls" in f else "script reruns"
        groups.setdefault((kind, f["sessions"], f["window_seconds"]), []).append(f)
    parts = []
    for (kind, sessions, window), figs in sorted(groups.items()):
        head = f"{sessions} protocol viewers, {fmt(window, 0)} s"
        loss = f"training loses {spread([100 * f['throughput_loss'] for f in figs], ' %', 1)}"
        if kind == "live view":
            met = sum(
                bool(f["live_view_p95_goal_met"]) and f["live_view_poll_errors"] <= 0.01 * max(1, f["live_view_polls"])
                for f in figs
            )
            parts.append(
                f"{head}, live view drawn by the browser: "
                f"poll p50 {spread([f['live_view_poll_p50_s'] for f in figs], ' s')}, "
                f"**p95 {spread([f['live_view_poll_p95_s'] for f in figs], ' s')}**, max "
                f"{spread([f['live_view_poll_max_s'] for f in figs], ' s')}; failed polls "
                f"{spread([f['live_view_poll_errors'] for f in figs], '', 0)} of "
                f"{spread([f['live_view_polls'] for f in figs], '', 0)}; {loss}; goal met in {met} of {len(figs)} runs"
            )
            continue
        answered = [f for f in figs if f["requests_answered"] + f["requests_replaced"] > 0]
        if not answered:
            parts.append(
                f"{head}, old live panel (a script rerun per viewer): **no live update answered** in the window "
                f"({spread([f['requests_sent'] for f in figs], ' requests sent', 0)}); {loss}; "
                f"goal met in 0 of {len(figs)} runs"
            )
            continue
        parts.append(
            f"{head}, old live panel (a script rerun per viewer): live update p50 "
            f"{spread([f['update_p50_s'] for f in figs], ' s')}, "
            f"**p95 {spread([f['update_p95_s'] for f in figs], ' s')}**; "
            f"unanswered {spread([100 * f['unanswered_share'] for f in figs], ' %', 2)}; {loss}; "
            f"goal met in {sum(f['p95_goal_met'] for f in figs)} of {len(figs)} runs"
        )
    return "; ".join(parts)


def load_rows(records):
    head = RUN_HEAD + [
        "viewers, window",
        "live view polls (failed)",
        "live view p50 / p95 / max s",
        "status reruns sent / answered / replaced / unanswered",
        "status reruns p50 / p95 s",
        "img/s no viewers (before, after) → with",
        "loss",
        "server CPU (cores) with viewers",
        "latency goal",
    ]
    rows = []
    for r in records:
        f = r["figures"]
        live = "live_view_polls" in f
        counted = "requests_sent" in f
        goal = f["live_view_p95_goal_met"] if live else f["p95_goal_met"]
        rows.append(
            run_columns(r)
            + [
                f"{f['sessions']}, {fmt(f['window_seconds'], 0)} s",
                f"{f['live_view_polls']} ({f['live_view_poll_errors']})" if live else "– (old live panel)",
                f"{fmt(f['live_view_poll_p50_s'])} / {fmt(f['live_view_poll_p95_s'])} / "
                f"{fmt(f['live_view_poll_max_s'])}"
                if live
                else "–",
                f"{f['requests_sent']} / {f['requests_answered']} / "
                f"{f['requests_replaced']} / {f['requests_unanswered']}"
                if counted
                else "not counted",
                f"{fmt(f['update_p50_s'])} / {fmt(f['update_p95_s'])}",
                f"{fmt(f['images_per_s_no_viewers_before'], 0)}, {fmt(f['images_per_s_no_viewers_after'], 0)} → "
                f"{fmt(f['images_per_s_with_viewers'], 0)}",
                f"{fmt(100 * f['throughput_loss'], 1)} %",
                fmt(f["server_cpu_with_viewers"], 2),
                "met" if goal else "not met",
            ]
        )
    return head, rows


# follow_load ---------------------------------------------------------------------


def follow_method(f: dict) -> str:
    """How followers caught up: their browser redraws the teacher's chart files ("charts"); before
    that, a page run asked by a browser-side beacon check ("beacon"); before that, a per-second
    fragment check that timed every value."""
    if "chart_fetches" in f:
        return "charts"
    return "beacon" if "every_value_p95_s" in f else "fragment check"


def follow_summary(records):
    groups: dict[tuple, list[dict]] = {}
    for f in figures_of(records):
        key = (follow_method(f), f["followers"], f.get("lesson") or "output_size", f.get("teacher_browser_nice"))
        groups.setdefault(key, []).append(f)
    parts = []
    for (method, followers, lesson, nice), figs in sorted(groups.items(), key=lambda item: str(item[0])):
        reached = [f for f in figs if f["samples"]]
        if method == "charts":
            text = (
                f"{followers} followers on {lesson}, charts redrawn by their browsers (teacher's tab at nice "
                f"{nice}): **caught-up p95 {spread([f['follow_p95_s'] for f in reached], ' s')}**, never caught up "
                f"{spread([100 * f['missed'] / max(1, f['missed'] + f['samples']) for f in figs], ' %', 1)}; "
                f"sliders and text (page runs) p95 {spread([f['page_run_p95_s'] for f in reached], ' s')}"
            )
        elif method == "beacon":
            text = (
                f"{followers} followers on {lesson}, browser-side check: never caught up "
                f"{spread([100 * f['missed'] / max(1, f['missed'] + f['samples']) for f in figs], ' %', 1)}"
            )
            if reached:
                text += (
                    f", **caught-up p95 {spread([f['follow_p95_s'] for f in reached], ' s')}**, every value p95 "
                    f"{spread([f['every_value_p95_s'] for f in reached], ' s')}"
                )
        else:
            text = (
                f"{followers} followers on {lesson}, per-second fragment check (before the beacon): changes that "
                f"never reached a follower "
                f"{spread([100 * f['missed'] / max(1, f['missed'] + f['samples']) for f in figs], ' %', 1)}"
            )
            if reached:
                text += f", follow delay p95 {spread([f['follow_p95_s'] for f in reached], ' s')} where they arrived"
        text += (
            f"; training loses {spread([100 * f['throughput_loss'] for f in figs], ' %', 1)}; "
            f"goal met in {sum(bool(f['follow_goal_met']) and bool(f['throughput_goal_met']) for f in figs)} "
            f"of {len(figs)} runs"
        )
        parts.append(text)
    return "; ".join(parts)


def follow_rows(records):
    head = RUN_HEAD + [
        "followers, lesson",
        "check (teacher's tab nice)",
        "changes",
        "reached / never",
        "delay p50 / p95 / max s",
        "every value p95 s (never shown)",
        "loss",
        "goal",
    ]
    rows = []
    for r in records:
        f = r["figures"]
        method = follow_method(f)
        beacon = method in ("beacon", "charts")
        check = {
            "charts": f"charts in the browser ({f.get('teacher_browser_nice')}); page runs p95 "
            f"{fmt(f.get('page_run_p95_s'))} s",
            "beacon": "beacon, caught up",
        }.get(method, "fragment, every value")
        rows.append(
            run_columns(r)
            + [
                f"{f['followers']}, {f.get('lesson') or 'output_size'}",
                check,
                str(f["changes"]),
                f"{f['samples']} / {f['missed']}",
                f"{fmt(f['follow_p50_s'])} / {fmt(f['follow_p95_s'])} / {fmt(f['follow_max_s'])}",
                f"{fmt(f['every_value_p95_s'])} ({f['every_value_missed']})" if beacon else "—",
                f"{fmt(100 * f['throughput_loss'], 1)} %",
                "met" if f["follow_goal_met"] and f["throughput_goal_met"] else "not met",
            ]
        )
    return head, rows


# classroom_soak -------------------------------------------------------------------


def latency_drift(figs) -> str:
    if not any(f["requests_answered"] + f["requests_replaced"] for f in figs):
        return (
            f"**no live update answered** ({spread([100 * f['unanswered_share'] for f in figs], ' %', 1)} of "
            f"requests unanswered)"
        )
    return (
        f"live update p95 per period first → last {spread([f['periods'][0]['p95_s'] for f in figs], ' s')} → "
        f"{spread([f['periods'][-1]['p95_s'] for f in figs], ' s')}, unanswered "
        f"{spread([100 * f['unanswered_share'] for f in figs], ' %', 2)}"
    )


def live_view_drift(figs) -> str:
    return (
        f"live view poll p95 per period first → last {spread([f['periods'][0]['p95_s'] for f in figs], ' s')} → "
        f"{spread([f['periods'][-1]['p95_s'] for f in figs], ' s')}, failed polls "
        f"{spread([100 * f['unanswered_share'] for f in figs], ' %', 2)}"
    )


def soak_summary(records):
    figs = figures_of(records)
    polled = [f for f in figs if f.get("latency_measure") == "live view polls"]
    groups = [
        (
            "live view polls, glibc's thresholds fixed (dcgan_core/allocator.py)",
            [f for f in polled if f.get("server_allocator") == "glibc thresholds fixed"],
            live_view_drift,
        ),
        (
            "live view polls, the allocator's defaults",
            [f for f in polled if f.get("server_allocator") != "glibc thresholds fixed"],
            live_view_drift,
        ),
        ("status reruns (before the live view was timed)", [f for f in figs if "latency_measure" not in f], None),
    ]
    parts = []
    for name, group, drift in groups:
        if not group:
            continue
        parts.append(
            f"{' / '.join(sorted({str(f['sessions']) for f in group}))} protocol viewers for "
            f"{' / '.join(sorted({fmt(f['minutes'], 0) for f in group}))} min, latency from {name}: server memory "
            f"growth after the settling period {spread([100 * f['server_rss_growth'] for f in group], ' %', 1)}, "
            f"training process {spread([100 * f['training_rss_growth'] for f in group], ' %', 1)}; "
            f"{(drift or latency_drift)(group)}; "
            f"run continued {spread([f['runs_continued'] for f in group], ' times', 0)}; "
            f"checkpoints loadable {sum(f['checkpoints_loadable'] for f in group)} of "
            f"{sum(f['checkpoints_written'] for f in group)}; goal met in {sum(f['goal_met'] for f in group)} of "
            f"{len(group)} runs"
        )
    return "; ".join(parts)


def soak_rows(records):
    head = RUN_HEAD + [
        "viewers, minutes",
        "server RSS MB first → last",
        "training RSS MB first → last",
        "growth after settling (server, training)",
        "p95 s per period",
        "unanswered (measured)",
        "checkpoints loadable / written",
        "runs continued",
        "goal",
    ]
    rows = []
    for r in records:
        f = r["figures"]
        mem = f["memory"]
        rows.append(
            run_columns(r)
            + [
                f"{f['sessions']}, {fmt(f['minutes'], 0)}",
                f"{fmt(mem[0]['server_rss_mb'], 0)} → {fmt(mem[-1]['server_rss_mb'], 0)}",
                f"{fmt(mem[0]['training_rss_mb'], 0)} → {fmt(mem[-1]['training_rss_mb'], 0)}",
                f"{fmt(100 * f['server_rss_growth'], 1)} %, {fmt(100 * f['training_rss_growth'], 1)} %",
                " / ".join(fmt(p["p95_s"]) for p in f["periods"]),
                (
                    f"{f['live_view_polls_failed']} of {f['live_view_polls']} (live view polls)"
                    if f.get("latency_measure") == "live view polls"
                    else f"{f['requests_unanswered']} of {f['requests_sent']} (status reruns)"
                ),
                f"{f['checkpoints_loadable']} / {f['checkpoints_written']}",
                str(f["runs_continued"]),
                "met" if f["goal_met"] else "not met",
            ]
        )
    return head, rows


# fastpath_check, train_speed ---------------------------------------------------------


def fastpath_summary(records):
    figs = figures_of(records)
    devices = sorted({f.get("device_name") or f["device"] for f in figs})
    return f"{', '.join(devices)}: all checks passed in {sum(f['passed'] for f in figs)} of {len(figs)} runs"


def fastpath_rows(records):
    head = RUN_HEAD + ["device", "passed", "failed checks"]
    return head, [
        run_columns(r)
        + [
            r["figures"].get("device_name") or r["figures"]["device"],
            "yes" if r["figures"]["passed"] else "no",
            ", ".join(r["figures"]["failed"]) or "–",
        ]
        for r in records
    ]


def speed_summary(records):
    settings: dict[str, list[float]] = {}
    for f in figures_of(records):
        for s in f["settings"]:
            settings.setdefault(
                f"ngf {s['ngf']}, batch {s['batch']}" + (" (default)" if s["default"] else ""), []
            ).append(s["images_per_s"])
    return "; ".join(f"{name}: {spread(values, ' images/s', 0)}" for name, values in settings.items())


def speed_rows(records):
    head = RUN_HEAD + ["device, threads", "images/s per setting"]
    return head, [
        run_columns(r)
        + [
            f"{r['figures']['device']}, {r['figures']['threads']}",
            "; ".join(
                f"ngf {s['ngf']} batch {s['batch']}: {fmt(s['images_per_s'], 0)}" for s in r["figures"]["settings"]
            ),
        ]
        for r in records
    ]


SECTIONS = [
    Section(
        "convmatrix_build",
        "Building the convolution matrix C",
        "building the sparse C, vectorised vs a Python-loop builder",
        "benchmarks/convmatrix_build.py",
        "≥ 30× speed-up in the worst case",
        "`conv_matrix` (numpy broadcasting, one `index_select`) against `naive_conv_matrix` (Python loops into a "
        "dense matrix, then `.to_sparse()`), median of several builds each, both builders checked equal first. "
        "The naive builder's time depends heavily on how busy the interpreter's core is, so the ratio moves "
        "with the load.",
        full_runs,
        convmatrix_summary,
        convmatrix_rows,
    ),
    Section(
        "page_rerun",
        "A slider change, inside the server process (AppTest)",
        "a slider change on each convolution lesson, server side only (AppTest)",
        "benchmarks/page_rerun.py",
        "median ≤ 200 ms",
        "Each page is loaded once under Streamlit's `AppTest`; one slider then walks through its range and every "
        "`.run()` is timed. This is the server's share of a slider change: no websocket, no browser, no drawing "
        "(the browser-measured figure is in the next section).",
        full_runs,
        page_rerun_summary,
        page_rerun_rows,
    ),
    Section(
        "slider_latency",
        "A slider change, in the browser",
        "a slider change on each convolution lesson, in Chromium: input event to the figure painted",
        "benchmarks/slider_latency.py",
        "p95 ≤ 300 ms on two cores",
        "Chromium (Playwright) opens each of the four convolution lessons on a local server and moves one slider "
        "with the keyboard. Each move is timed from the keydown event to the end of the animation frame after the "
        "last change of Plotly's drawing of the lesson's figure (a MutationObserver on the figure, then "
        "`requestAnimationFrame`; the move counts as done when no further change follows for a short quiet "
        "time, which is not counted, and the page run the move started has finished). *Page runs*: each page "
        "run sent the new chart and Streamlit's chart element drew it (the websocket, the script rerun, Plotly's "
        "drawing and the paint are all inside). *Charts sent ahead*: the page also sends its chart at nearby "
        "values of the slider, and the browser draws the one for the new value at the key press "
        "(`dcgan_core/viz/instant_chart.py`); a redraw by the page run that follows would still count. "
        "*Charts drawn ahead*: the browser also draws those nearby charts ahead, out of view, and swaps the "
        "one for the new value into the chart's place. The "
        "time until that page run has finished (the rest of the page: numbers, text, checks) is in the record "
        "as well. The machine's load is in each row; a run at a raised priority (negative nice, beside a "
        "niced benchmark) says so.",
        full_runs,
        slider_summary,
        slider_rows,
    ),
    Section(
        "train_throughput",
        "Training throughput on the CPU",
        "training images/s on the CPU (classroom settings)",
        "benchmarks/train_throughput.py",
        None,
        "Three ways of running the same model in fresh threads: (a) the pytorch/examples loop with a DataLoader "
        "and per-step `.item()`; (b) `Trainer.step()`, the app's fast path; (c) the real `TrainingJob` while a "
        "thread polls `snapshot()` and builds the Train page's figures as the page does.",
        cpu_runs,
        throughput_summary,
        throughput_rows,
    ),
    Section(
        "time_to_digits",
        "Time until the samples are recognisable digits",
        "training time until the samples are recognisable digits: the CPU classroom default vs the paper's recipe",
        "benchmarks/time_to_digits.py",
        "classroom default ≤ 45 s of training, median over seeds 0–4, on two cores",
        "The criterion is `metrics.recognisable_digits`: the shipped MNIST classifier's mean top-class "
        "confidence over the check samples reaches the threshold, with nearly every digit present. Checks are "
        "not training: the clock stops during them. `train s` is training wall time, `CPU s` the CPU time the "
        "process spent training (less sensitive to the machine's load). Step counts do not depend on the load; "
        "the summary takes each seed's run from its least-loaded record. Records from before issue 15 (a single "
        "seed, the old format) are not shown.",
        digits_runs,
        digits_summary,
        digits_rows,
    ),
    Section(
        "classroom_load",
        "Thirty viewers on one live run",
        "viewers on one live run: live update latency, requests unanswered, training slowdown",
        "benchmarks/classroom_load.py",
        "live update p95 ≤ 1 s with ≤ 1 % unanswered; ≤ 20 % throughput loss",
        "Protocol viewers (`benchmarks/protocol_viewer.py`) speak the app's websocket protocol as the browser "
        "does. Since the live view is drawn by the browser, a live update is one poll of the files the server "
        "writes (state, then the newest sample grid), timed from the request to the last byte; the status line's "
        "script reruns are counted beside it. In the older records (a script rerun per viewer) a live update "
        "is timed from its request to the server's answer; a request the server cut short "
        "for a newer one is *replaced* and timed until the answer that replaced it; a request still waiting "
        "after the window and a short drain is *unanswered*. Training images/s come from the run's own log, "
        "without viewers (before and after) and with them.",
        load_runs,
        load_summary,
        load_rows,
    ),
    Section(
        "follow_load",
        "A class following a presenting teacher",
        "followers of a presenting teacher who moves a slider every 2 s, a run training",
        "benchmarks/follow_load.py",
        "p95 ≤ 2 s from the teacher's key press to each follower's page; ≤ 20 % throughput loss",
        "Protocol viewers open `/?follow=1` and do what a follower's browser does: read the classroom's "
        "state file once a second; fetch (and unzip) the teacher's new lesson chart files, which the browser "
        "then draws itself; and ask for one run of the page when the lesson or question changed, or once the "
        "teacher paused 3 s, or 15 s after a change (sliders and text). A teacher in Chromium presents and "
        "moves the lesson's input-size slider every 2 s; its tab runs on the same two cores, at the niceness "
        "given in the check column (19: it yields to the server and the run, as a laptop of its own would; "
        "0: it competes). A sample is the time from the teacher's key press until the follower shows that "
        "change or a newer one, in a chart or its page (caught up); the time until it shows that very value "
        "is reported beside it (every value), and the page runs alone in the check column. Earlier records: "
        "a page run for every change, asked by a browser-side beacon check (beacon), and before that a "
        "once-a-second fragment check per follower (every value only).",
        full_runs,
        follow_summary,
        follow_rows,
    ),
    Section(
        "classroom_soak",
        "A class for a long time",
        "viewers for many minutes: memory, latency drift, checkpoints",
        "benchmarks/classroom_soak.py",
        "memory growth ≤ 10 % after the first ten minutes (the first minute for short runs), no latency drift, "
        "every checkpoint loadable",
        "Protocol viewers watch a run that is continued from its checkpoint whenever it finishes. Every minute "
        "the server's and the training process's resident memory are read from /proc; live-update latency is "
        "summarised per period (ten minutes, or one minute for short runs); at the end every checkpoint written "
        "is loaded.",
        full_runs,
        soak_summary,
        soak_rows,
    ),
    Section(
        "fastpath_check",
        "Checks of the fast training step on the device at hand",
        "fast training step checks (graph capture, no sync, lr change, bf16, resume on CPU)",
        "benchmarks/fastpath_check.py",
        None,
        "Correctness checks rather than timings; on CUDA they cover what the CPU tests cannot.",
        full_runs,
        fastpath_summary,
        fastpath_rows,
    ),
    Section(
        "train_speed",
        "Throughput for several widths and batch sizes",
        "images/s for several widths and batch sizes",
        "benchmarks/train_speed.py",
        None,
        "`Trainer.step()` on random images for each setting, after three warm-up steps.",
        full_runs,
        speed_summary,
        speed_rows,
    ),
]


# ---------------------------------------------------------------- rendering


def table(head: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)] + ["| " + " | ".join(row) + " |" for row in rows]


def selected(section: Section, results_dir: Path) -> list[dict]:
    return section.select(read_records(section.benchmark, results_dir))


def readme_table(results_dir: Path) -> str:
    lines = [
        BEGIN,
        "",
        "| what | script | goal | measured: median (range, runs) | conditions |",
        "|---|---|---|---|---|",
    ]
    for section in SECTIONS:
        records = selected(section, results_dir)
        measured = section.summary(records) if records else "no record yet"
        lines.append(
            f"| {section.what} | `{section.script}` | {section.goal or '–'} | {measured} | "
            f"{conditions(records) if records else '–'} |"
        )
    gpu = [r for s in SECTIONS for r in selected(s, results_dir) if r.get("gpu")]
    if not gpu:
        lines.append(
            "| GPU images/s and checks | `benchmarks/train_throughput.py --device cuda`, "
            "`benchmarks/fastpath_check.py` | see RESULTS.md | no record with a GPU | – |"
        )
    lines += ["", END]
    return "\n".join(lines)


def unknown_benchmarks(results_dir: Path) -> list[str]:
    known = {s.benchmark for s in SECTIONS}
    return sorted(p.stem for p in Path(results_dir).glob("*.jsonl") if p.stem not in known)


def generic_rows(records):
    keys = [k for k, v in records[-1]["figures"].items() if isinstance(v, (int, float, str, bool)) and k != "benchmark"]
    return RUN_HEAD + keys, [run_columns(r) + [str(r["figures"].get(k, "–")) for k in keys] for r in records]


def results_md(results_dir: Path) -> str:
    lines = [
        "# Benchmark results",
        "",
        "Rendered by `python benchmarks/report.py` from the records in `benchmarks/results/*.jsonl`; "
        "`python benchmarks/report.py --check` (run by CI) fails when this file or the README's table differ "
        "from what the records give. Do not edit by hand: run the benchmark (it appends its record), then the "
        "report.",
        "",
        "Each summary gives the median over the recorded runs and, in brackets, the range (lowest–highest) and "
        "the number of runs; percentiles are `numpy.percentile` everywhere. Every run carries the machine it ran "
        "on and the 1-minute load average at its start and end (`load 1m`, start → end). The machine these runs "
        "were made on is shared by several people at once: at a high load, wall-clock times are upper bounds. "
        "Runs marked `quick` only check that a script works and are left out.",
    ]
    for n, section in enumerate(SECTIONS, 1):
        records = selected(section, results_dir)
        lines += ["", f"## {n}. {section.title} (`{section.script}`)", "", section.about, ""]
        if section.goal:
            lines += [f"Goal: {section.goal}.", ""]
        if not records:
            lines.append("No record yet.")
            continue
        lines += [f"**Summary** ({conditions(records)}): {section.summary(records)}.", ""]
        lines += table(*section.rows(records))
    for n, name in enumerate(unknown_benchmarks(results_dir), len(SECTIONS) + 1):
        records = full_runs(read_records(name, results_dir))
        lines += ["", f"## {n}. `{name}`", ""]
        lines += table(*generic_rows(records)) if records else ["No record yet."]
    gpu = [r for s in SECTIONS for r in selected(s, results_dir) if r.get("gpu")]
    if not gpu:
        lines += [
            "",
            "## GPU",
            "",
            "No record was made on a GPU. To measure the GPU paths on an H100 or H200, run from the repository "
            "root (each appends its record; then run the report):",
            "",
            "```bash",
            "python benchmarks/fastpath_check.py --device cuda --compile",
            "python benchmarks/train_throughput.py --device cuda --mode cuda_graph --steps 500",
            "python benchmarks/train_throughput.py --device cuda --mode eager --steps 500",
            "python benchmarks/train_throughput.py --device cuda --mode compile --steps 500",
            "python benchmarks/train_throughput.py --device cuda --mode cuda_graph --amp --steps 500",
            "python benchmarks/train_throughput.py --device cuda --image-size 64 --channels 3 --ngf 64 --batch 128 "
            "--steps 300",
            "python benchmarks/time_to_digits.py --device cuda --check-every 50",
            "python benchmarks/report.py",
            "```",
        ]
    return "\n".join(lines) + "\n"


def readme_with_table(readme: str, results_dir: Path) -> str:
    start, end = readme.find(BEGIN), readme.find(END)
    if start < 0 or end < start:
        raise SystemExit(f"README.md has no performance table markers:\n{BEGIN}\n{END}")
    return readme[:start] + readme_table(results_dir) + readme[end + len(END) :]


def rendered(
    results_dir: Path = RESULTS_DIR, readme_path: Path = README, results_md_path: Path = RESULTS_MD
) -> dict[Path, str]:
    return {
        results_md_path: results_md(results_dir),
        readme_path: readme_with_table(readme_path.read_text(), results_dir),
    }


def shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="fail if RESULTS.md or README.md differ from the records")
    parser.add_argument("--results", type=Path, default=RESULTS_DIR, help="folder of the .jsonl records")
    parser.add_argument("--readme", type=Path, default=README, help=argparse.SUPPRESS)
    parser.add_argument("--results-md", type=Path, default=RESULTS_MD, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    stale = []
    for path, text in rendered(args.results, args.readme, args.results_md).items():
        current = path.read_text() if path.exists() else ""
        if current == text:
            continue
        if args.check:
            stale.append(path)
            sys.stdout.writelines(
                difflib.unified_diff(
                    current.splitlines(True), text.splitlines(True), shown(path), "from the records", n=1
                )
            )
        else:
            path.write_text(text)
            print(f"wrote {shown(path)}")
    if stale:
        print(
            f"\n{', '.join(shown(p) for p in stale)} differ from what benchmarks/results gives: "
            "run python benchmarks/report.py and commit the result.",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
