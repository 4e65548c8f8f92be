"""The live view's files: what one server thread writes for every browser to poll."""

import json

import numpy as np
from tiny_runs import tiny_config, tiny_images, wait_until

from dcgan_core.i18n import translate
from dcgan_core.job import TrainingJob
from dcgan_core.live_view import LivePublisher, live_numbers
from dcgan_core.viz import training as viz
from dcgan_core.viz.live_panel import live_panel_html


def test_publisher_writes_state_grid_and_charts_for_every_language(tmp_path, one_thread):
    job = TrainingJob(
        tiny_config(sample_every=1000), tmp_path / "run", images=tiny_images(32), write_samples=False
    ).start()
    try:
        wait_until(lambda: job.snapshot().step >= 3 and job.snapshot().latest_grid is not None, 60)
        publisher = LivePublisher(tmp_path / "static" / "live", interval_s=0.05)
        relative = publisher.follow("run-1", job)
        folder = tmp_path / "static" / relative
        assert relative.startswith("live/") and (tmp_path / "static" / "plotly.min.js").stat().st_size > 1e6
        state = {lang: json.loads((folder / f"state_{lang}.json").read_text(encoding="utf-8")) for lang in ("en", "zh")}
        for lang, shown in state.items():
            assert shown["numbers"][1][0] == translate("trainer.loss_d", lang)
            assert shown["grid_label"] == translate("train.fake_images", lang, step=shown["grid_step"])
            assert (folder / shown["grid"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
            assert (folder / shown["real"]).exists()
            charts = json.loads((folder / f"charts_{lang}.json").read_text(encoding="utf-8"))
            assert [len(charts["loss"]["data"]), len(charts["prob"]["data"])] == [4, 3]
            assert charts["loss"]["layout"]["title"]["text"] == translate("trainer.loss_title", lang)
        # the grid is redrawn by time (LIVE_SAMPLE_EVERY_S), not only every sample_every = 1000 steps
        first_grid = state["en"]["grid_step"]
        wait_until(lambda: json.loads((folder / "state_en.json").read_text())["grid_step"] != first_grid, 30)
        assert len(list(folder.glob("grid_*.png"))) <= 30  # old grids are removed
        assert job.snapshot().frames[-1][0] % 1000 == 0  # time-drawn grids are not timeline frames
    finally:
        job.stop()
        job.wait(30)


def test_nothing_is_rewritten_while_nothing_changes(tmp_path, one_thread):
    job = TrainingJob(tiny_config(max_steps=3), tmp_path / "run", images=tiny_images(16), write_samples=False).start()
    assert job.wait(60)
    publisher = LivePublisher(tmp_path / "live", interval_s=60)
    folder = tmp_path / publisher.follow("done", job)
    before = (folder / "state_en.json").stat().st_mtime_ns
    publisher.publish_once()
    assert (folder / "state_en.json").stat().st_mtime_ns == before


def test_live_series_matches_the_figures():
    rng = np.random.default_rng(0)
    history = np.column_stack([np.arange(1, 3001), rng.random((3000, 5))])
    series = viz.live_series(history)
    x, ys = viz.loss_series(history, max_points=viz.LIVE_POINTS)
    assert series["loss"]["x"] == [int(v) for v in x] and len(x) == viz.LIVE_POINTS
    assert np.allclose(series["loss"]["y"][1], ys[1], atol=1e-4)
    full = viz.probability_figure(history)
    px, pys = viz.probability_series(history)
    assert np.allclose(full.data[0].y, pys[0]) and np.allclose(full.data[2].x, px)


def test_numbers_row_order():
    class Snap:
        images_per_sec = 1234.4
        last_metrics = {"loss_d": 0.5, "loss_g": 1.25, "d_real": 0.7, "d_fake_before": 0.3, "d_fake_after": 0.25}

    assert live_numbers(Snap()) == [
        ("train.images_per_sec", "1,234"),
        ("trainer.loss_d", "0.500"),
        ("trainer.loss_g", "1.250"),
        ("train.d_real_short", "0.70"),
        ("train.d_fake_before", "0.30"),
        ("train.d_fake_after", "0.25"),
    ]


def test_panel_page_names_its_state_file_and_view():
    html = live_panel_html("/app/static/live/1-ab/run", "zh", "projector", 1000, plotly_url="/app/static/plotly.min.js")
    assert 'data-live-state="/app/static/live/1-ab/run/state_zh.json"' in html
    assert 'class="projector"' in html


def test_a_language_is_written_once_a_page_asks_for_it(tmp_path, one_thread):
    job = TrainingJob(tiny_config(max_steps=3), tmp_path / "run", images=tiny_images(16), write_samples=False).start()
    assert job.wait(60)  # an ended run: nothing changes any more, yet a new language must appear
    publisher = LivePublisher(tmp_path / "live", interval_s=60)
    folder = tmp_path / publisher.follow("done", job, "en")
    assert (folder / "state_en.json").exists() and not (folder / "state_zh.json").exists()
    publisher.follow("done", job, "zh")
    state = json.loads((folder / "state_zh.json").read_text(encoding="utf-8"))
    assert state["title"] == translate("train.live_title", "zh", status=translate("train.status_finished", "zh"))
