"""The live view of a run as files, written once per tick for every viewer.

Thirty browsers watching one run used to cost thirty script reruns a second, each
rebuilding the same numbers, images and charts (benchmarks/classroom_load.py). Here
one thread in the server writes what the live panel shows into the app's static
folder (Streamlit serves it at /app/static/): per run, ``state_<lang>.json`` (texts,
numbers and the charts' data) and the newest sample grid as a PNG, plus the charts'
styled, empty templates once. Each browser polls those files itself
(dcgan_core/viz/live_panel.py); a viewer costs one small static file request per
second and no script run, however many watch.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import plotly.io as pio

from dcgan_core.data import BUNDLED_NAME
from dcgan_core.i18n import LANGUAGES, translate
from dcgan_core.job import format_seconds
from dcgan_core.rundir import png_bytes
from dcgan_core.static_files import (
    STATIC_DIR,
    padded,
    prepare_server_folder,
    server_folder_name,
    write_atomic,
)
from dcgan_core.viz import training as viz

LIVE_FOLDER = "live"
PUBLISH_INTERVAL_S = 0.5
GRIDS_KEPT = 30  # a browser that read the state a while ago still finds its grid
MAX_RUNS_FOLLOWED = 4


def live_numbers(snap) -> list[tuple[str, str]]:
    """(catalog key of the label, value) for the row of numbers, in order."""
    last = snap.last_metrics or {}

    def fmt(name, digits):
        return f"{last[name]:.{digits}f}" if name in last else "–"

    return [
        ("train.images_per_sec", f"{snap.images_per_sec:,.0f}"),
        ("trainer.loss_d", fmt("loss_d", 3)),
        ("trainer.loss_g", fmt("loss_g", 3)),
        ("train.d_real_short", fmt("d_real", 2)),
        ("train.d_fake_before", fmt("d_fake_before", 2)),
        ("train.d_fake_after", fmt("d_fake_after", 2)),
    ]


def live_state(snap, lang: str, grid_file: str | None, real_file: str | None, series: dict) -> dict:
    """Everything the live panel shows, in ``lang``: a pure function of a snapshot."""
    eta = format_seconds(snap.eta_seconds) if snap.eta_seconds is not None else "–"
    dataset = translate("data.name_bundled", lang) if snap.dataset_name == BUNDLED_NAME else snap.dataset_name
    facts = None
    if snap.config:
        facts = translate(
            "train.run_facts",
            lang,
            device=snap.device_by_lang.get(lang, snap.device),
            dataset=dataset,
            n=f"{snap.dataset_size:,}",
            elapsed=format_seconds(snap.elapsed_seconds),
            lr=f"{snap.lr:g}",
            beta1=f"{snap.beta1:g}",
            batch=snap.config["batch_size"],
        )
    return {
        "status": snap.status,
        "active": snap.active,
        "step": snap.step,
        "title": translate("train.live_title", lang, status=translate(f"train.status_{snap.status}", lang)),
        "progress": snap.progress,
        "progress_text": translate(
            "train.progress", lang, step=snap.step, total=snap.max_steps, epoch=f"{snap.epoch:.2f}", eta=eta
        ),
        "numbers": [[translate(key, lang), value] for key, value in live_numbers(snap)],
        "facts": facts,
        "real": real_file,
        "real_label": translate("train.real_images", lang),
        "grid": grid_file,
        "grid_step": snap.latest_grid_step,
        "grid_label": translate("train.fake_images", lang, step=snap.latest_grid_step)
        if snap.latest_grid_step is not None
        else translate("train.preparing", lang),
        "series": series,
    }


def chart_templates(lang: str) -> bytes:
    """The two charts' layouts and styled empty traces, as the browser's Plotly takes them."""
    return json.dumps(
        {
            "loss": json.loads(pio.to_json(viz.loss_template(lang), validate=False)),
            "prob": json.loads(pio.to_json(viz.probability_template(lang), validate=False)),
        }
    ).encode()


class LivePublisher:
    """Writes the live view of the runs it follows, at most every ``interval_s``, only when they changed."""

    def __init__(self, live_dir: Path | None = None, interval_s: float = PUBLISH_INTERVAL_S):
        self.live_dir = Path(live_dir) if live_dir else STATIC_DIR / LIVE_FOLDER
        self.folder = self.live_dir / server_folder_name()
        self.interval_s = interval_s
        self._lock = threading.Lock()
        self._publishing = threading.Lock()  # one writer at a time: the thread, or a page asking for news
        self._runs: dict[str, object] = {}  # run id -> job, most recently followed last
        self._published: dict[str, tuple] = {}
        self._grids: dict[str, list[str]] = {}
        self._languages: set[str] = set()  # written once a page in it was drawn (a class uses one, mostly)
        self._thread: threading.Thread | None = None
        self.publish_seconds = 0.0  # CPU-ish wall time spent publishing (benchmarks read it)

    def relative_folder(self, run_id: str) -> str:
        """The run's folder under the app's static folder ("live/<server>/<run>")."""
        return (self.folder / run_id).relative_to(self.live_dir.parent).as_posix()

    def follow(self, run_id: str, job, lang: str | None = None) -> str:
        """Keep ``job``'s live view published (in ``lang``; None: every language); its folder
        relative to the static folder."""
        with self._lock:
            news = run_id not in self._runs
            for wanted in [lang] if lang else LANGUAGES:
                if wanted not in self._languages:
                    self._published.clear()  # a new language: written for every run
                    self._languages.add(wanted)
                    news = True
            self._runs.pop(run_id, None)
            self._runs[run_id] = job
            while len(self._runs) > MAX_RUNS_FOLLOWED:
                gone = next(iter(self._runs))
                del self._runs[gone]
                self._published.pop(gone, None)
            start = self._thread is None
            if start:
                self._thread = threading.Thread(target=self._loop, name="dcgan-live-view", daemon=True)
        if start:
            self._prepare()
            self._thread.start()
        if news:  # the page that asked finds the files already there
            self.publish_once()
        return self.relative_folder(run_id)

    def _prepare(self) -> None:
        prepare_server_folder(self.live_dir, self.folder)

    def _loop(self) -> None:
        while True:
            time.sleep(self.interval_s)
            try:
                self.publish_once()
            except Exception:  # noqa: BLE001 — a failed write must not end the live view for good
                import traceback  # lazily: only when a write has failed

                traceback.print_exc()

    def publish_once(self) -> None:
        with self._publishing:
            with self._lock:
                runs = list(self._runs.items())
            for run_id, job in runs:
                started = time.perf_counter()
                self._publish(run_id, job)
                self.publish_seconds += time.perf_counter() - started

    def _publish(self, run_id: str, job) -> None:
        snap = job.snapshot()
        key = (
            snap.status,
            snap.step,
            len(snap.history),
            snap.latest_grid_step,
            snap.real_grid is not None,
            snap.lr,
            snap.beta1,
            snap.dataset_size,
            int(snap.elapsed_seconds) if snap.active else None,
        )
        if self._published.get(run_id) == key:
            return
        folder = self.folder / run_id
        folder.mkdir(parents=True, exist_ok=True)
        with self._lock:
            languages = sorted(self._languages)
        for lang in languages:
            if not (folder / f"charts_{lang}.json").exists():
                write_atomic(folder / f"charts_{lang}.json", chart_templates(lang))
        real_file = None
        if snap.real_grid is not None:
            real_file = "real.png"
            if not (folder / real_file).exists():
                write_atomic(folder / real_file, png_bytes(snap.real_grid, compress_level=1))
        grid_file = None
        if snap.latest_grid is not None:
            grid_file = f"grid_{snap.latest_grid_step:07d}.png"
            grids = self._grids.setdefault(run_id, [])
            if grid_file not in grids:
                write_atomic(folder / grid_file, png_bytes(snap.latest_grid, compress_level=1))
                grids.append(grid_file)
                for old in grids[:-GRIDS_KEPT]:
                    (folder / old).unlink(missing_ok=True)
                del grids[:-GRIDS_KEPT]
        series = viz.live_series(snap.history)
        for lang in languages:
            state = live_state(snap, lang, grid_file, real_file, series)
            write_atomic(folder / f"state_{lang}.json", padded(json.dumps(state, ensure_ascii=False).encode()))
        self._published[run_id] = key


LIVE = LivePublisher()
