"""The guidelines lab's variants: configs, short training runs, result files."""

import copy
import dataclasses
import math

import numpy as np
import pytest
import torch

from dcgan_core import ablation_process, ablations
from dcgan_core.config import TrainConfig
from dcgan_core.data import DatasetSpec, load_images
from dcgan_core.i18n import LabError
from dcgan_core.models import DCGANConfig, build_models
from dcgan_core.rundir import RunDir
from dcgan_core.trainer import Trainer

BASE = DCGANConfig(image_size=32, channels=1, nz=16, ngf=8, ndf=8)
SWITCHES = ("batchnorm", "resampling", "g_activation", "d_activation", "fc_hidden", "g_output")


def tiny_train_config(**overrides):
    values = dict(model=BASE, dataset=DatasetSpec(source="bundled"), batch_size=8, max_steps=10)
    values.update(overrides)
    return TrainConfig(**values)


@pytest.mark.parametrize("name", list(ablations.ABLATIONS))
def test_each_ablation_builds_and_changes_exactly_its_switch(name):
    cfg = ablations.ablation_config(name, BASE)
    recipe = ablations.ablation_config("paper", BASE)
    changed = {k for k in SWITCHES if getattr(cfg, k) != getattr(recipe, k)}
    assert changed == set(ablations.ABLATIONS[name])
    for key, value in ablations.ABLATIONS[name].items():
        assert getattr(cfg, key) == value
    # sizes and widths come from the base, untouched
    assert (cfg.image_size, cfg.channels, cfg.nz, cfg.ngf, cfg.ndf) == (32, 1, 16, 8, 8)
    netG, netD = build_models(cfg, seed=0)
    netG.eval(), netD.eval()
    with torch.no_grad():
        images = netG(torch.randn(3, cfg.nz))
        logits = netD(images)
    assert images.shape == (3, 1, 32, 32)
    assert logits.shape == (3,)
    if cfg.g_output == "tanh":
        assert images.abs().max() <= 1


def test_the_recipe_is_reset_before_breaking_a_guideline():
    broken_base = dataclasses.replace(BASE, batchnorm="none", d_activation="relu")
    cfg = ablations.ablation_config("pooling", broken_base)
    assert (cfg.batchnorm, cfg.d_activation, cfg.resampling) == ("paper", "leaky_relu", "pooling")
    assert ablations.ablation_config("paper", broken_base) == DCGANConfig(
        image_size=32, channels=1, nz=16, ngf=8, ndf=8
    )


def test_unknown_ablation_is_refused():
    with pytest.raises(LabError) as err:
        ablations.ablation_config("no_such_guideline")
    assert "no_such_guideline" in str(err.value)


@pytest.fixture(scope="module")
def tiny_images():
    return load_images(DatasetSpec(source="bundled", image_size=32, channels=1, limit=64)).images


@pytest.mark.parametrize("name", ["paper", "pooling", "fc_hidden"])
def test_run_ablation_returns_finite_histories_and_grids(name, tiny_images):
    result = ablations.run_ablation(
        name, 3, seed=0, device="cpu", base_cfg=tiny_train_config(), dataset=tiny_images, grid_count=3, n_grid=4
    )
    assert result.name == name and result.steps_done == 3 and result.diverged_at is None
    assert list(result.history["step"]) == [1, 2, 3]
    for key in ablations.HISTORY_KEYS:
        assert result.history[key].shape == (3,) and np.isfinite(result.history[key]).all()
    assert [s for s, _ in result.grids] == [0, 2, 3]
    for _, grid in result.grids:
        assert grid.dtype == np.uint8 and grid.ndim == 3 and grid.shape[2] == 3
    assert result.config == ablations.ablation_config(name, BASE).to_dict()
    assert result.metrics is None  # no classifier given
    assert result.wall_seconds > 0 and result.device


def test_every_variant_sees_the_same_data_and_noise(tiny_images):
    # With the same seed the first minibatch and noise are identical, so the
    # recipe and a variant that only changes G's output start from the same D loss on real data.
    runs = [
        ablations.run_ablation(
            n, 2, seed=5, device="cpu", base_cfg=tiny_train_config(), dataset=tiny_images, grid_count=2, n_grid=4
        )
        for n in ("paper", "no_tanh")
    ]
    assert runs[0].history["d_real"][0] == pytest.approx(runs[1].history["d_real"][0], abs=1e-6)
    again = ablations.run_ablation(
        "paper", 2, seed=5, device="cpu", base_cfg=tiny_train_config(), dataset=tiny_images, grid_count=2, n_grid=4
    )
    assert np.allclose(again.history["loss_d"], runs[0].history["loss_d"])


def test_divergence_is_detected_and_history_cut(tiny_images, monkeypatch):
    original = Trainer.step

    def step_then_break(self):
        metrics = original(self)
        return metrics * float("nan") if self.step_count >= 2 else metrics

    monkeypatch.setattr(Trainer, "step", step_then_break)
    result = ablations.run_ablation(
        "paper", 4, seed=0, device="cpu", base_cfg=tiny_train_config(), dataset=tiny_images, grid_count=2, n_grid=4
    )
    assert result.diverged_at == 2
    assert list(result.history["step"]) == [1]


def test_a_variant_leaves_an_ordinary_run_folder_with_its_history(tmp_path, tiny_images):
    folder = tmp_path / "pooling"
    result = ablations.run_ablation(
        "pooling",
        4,
        seed=1,
        device="cpu",
        base_cfg=tiny_train_config(checkpoint_every=2),
        dataset=tiny_images,
        grid_count=3,
        n_grid=4,
        run_dir=folder,
    )
    run = RunDir(folder)
    logged = run.metrics()
    assert list(logged[:, 0]) == [1, 2, 3, 4]
    np.testing.assert_allclose(logged[:, 1], result.history["loss_d"])
    np.testing.assert_allclose(logged[:, 4], result.history["d_fake"])
    assert run.sample_steps() == [step for step, _ in result.grids] == [0, 2, 4]
    checkpoint = run.load_checkpoint()
    assert checkpoint.step == 4 and checkpoint.model_config.resampling == "pooling"
    resumed = Trainer(TrainConfig.from_checkpoint(checkpoint), tiny_images, device="cpu", checkpoint=checkpoint)
    assert resumed.step_count == 4


def test_save_and_load_round_trip(tmp_path, tiny_images):
    results = [
        ablations.run_ablation(
            n, 2, seed=0, device="cpu", base_cfg=tiny_train_config(), dataset=tiny_images, grid_count=2, n_grid=4
        )
        for n in ("relu_in_d", "paper")
    ]
    results[0].metrics = {
        "fcd": 12.5,
        "fcd_real_baseline": 1.0,
        "class_histogram": [1] * 10,
        "mean_confidence": 0.5,
        "confident_share": 0.2,
        "classes_present": 10,
        "mode_collapse": False,
        "num_fake": 10,
        "num_real": 20,
    }
    results[0].metrics_history = [{"step": 2, "fcd": 12.5, "mean_confidence": 0.5, "classes_present": 10}]
    ablations.save_results(results, tmp_path, extra={"machine": "test"})
    loaded = ablations.load_results(tmp_path)
    assert list(loaded) == ["paper", "relu_in_d"]  # ABLATIONS order
    for original in results:
        back = loaded[original.name]
        assert back.config == original.config and back.train == original.train
        for key in ("step", *ablations.HISTORY_KEYS):
            assert np.allclose(back.history[key], original.history[key], rtol=1e-4)
        assert [s for s, _ in back.grids] == [s for s, _ in original.grids]
        for (_, a), (_, b) in zip(back.grids, original.grids, strict=False):
            assert np.array_equal(a, b)
        assert back.metrics == original.metrics and back.metrics_history == original.metrics_history
        assert back.diverged_at == original.diverged_at and back.device == original.device
        assert back.cpu_seconds == pytest.approx(original.cpu_seconds, abs=0.01) and back.cpu_seconds > 0


def test_load_results_explains_missing_and_corrupt_folders(tmp_path):
    with pytest.raises(LabError) as err:
        ablations.load_results(tmp_path)
    assert err.value.key == "guidelines_lab.results_missing"
    (tmp_path / ablations.RESULTS_FILE).write_text("{not json")
    with pytest.raises(LabError) as err:
        ablations.load_results(tmp_path)
    assert err.value.key == "guidelines_lab.results_corrupt"


def test_live_pair_trains_both_in_a_child_process_and_refuses_a_second(tiny_images):
    import os

    from dcgan_core.registry import get_registry

    job = ablation_process.start_live_pair(
        "no_tanh", 3, device="cpu", base_cfg=tiny_train_config(), with_classifier=False, images=tiny_images
    )
    assert job.pid is not None and job.pid != os.getpid()  # not trained inside the server process
    assert get_registry().rerun() is job and get_registry().machine_busy()
    with pytest.raises(LabError) as err:
        ablation_process.start_live_pair("pooling", 3, device="cpu", base_cfg=tiny_train_config(), images=tiny_images)
    assert err.value.key == "guidelines_lab.live_busy"
    with pytest.raises(LabError) as err:  # the Train page's runs share the one slot, and hear why
        get_registry().start(tiny_train_config())
    assert err.value.key == "guidelines_lab.rerun_holds_machine"
    assert job.wait(180)
    assert job.status == "finished", job.failure
    assert set(job.results) == {"paper", "no_tanh"} and job.progress == 1.0
    assert all(r.steps_done == 3 for r in job.results.values())
    assert not get_registry().machine_busy()


def test_live_pair_stops_on_request(tiny_images):
    job = ablation_process.start_live_pair(
        "pooling", 5000, device="cpu", base_cfg=tiny_train_config(), with_classifier=False, images=tiny_images
    )
    job.stop()
    assert job.wait(120)
    assert job.status == "stopped" and job.results["paper"].steps_done < 5000


# ---- the verdict ------------------------------------------------------------------------------


def _scored(name, fcd, confidence=0.9, classes=10, collapse=False, diverged_at=None, steps=1000):
    metrics = {
        "fcd": fcd,
        "fcd_real_baseline": 15.0,
        "class_histogram": [50] * 10,
        "mean_confidence": confidence,
        "confident_share": 0.8,
        "classes_present": classes,
        "mode_collapse": collapse,
        "num_fake": 500,
        "num_real": 2000,
    }
    history = {"step": np.arange(1, steps + 1, dtype=np.float64)}
    return ablations.AblationResult(
        name=name, config={}, train={}, history=history, grids=[], metrics=metrics, diverged_at=diverged_at
    )


@pytest.mark.parametrize(
    "paper, broken, kind",
    [
        (_scored("paper", 1118.0, confidence=0.999, classes=1, collapse=True), _scored("pooling", 613.0), "too_early"),
        (_scored("paper", 436.0, confidence=0.76, classes=10), _scored("pooling", 300.0), "too_early"),
        (_scored("paper", 300.0, diverged_at=50), _scored("pooling", 280.0), "too_early"),
        (_scored("paper", 300.0), _scored("no_tanh", 600.0), "hurt"),
        (_scored("paper", 300.0), _scored("pooling", 200.0), "helped"),
        (_scored("paper", 300.0), _scored("relu_in_d", 310.0), "similar"),
        (_scored("paper", 300.0), _scored("fc_hidden", 1000.0, classes=2, collapse=True), "collapsed"),
        (_scored("paper", 300.0), _scored("no_batchnorm", 290.0, diverged_at=120), "diverged"),
    ],
)
def test_verdict_for_each_case(paper, broken, kind):
    judged = ablations.verdict(paper, broken)
    assert judged.kind == kind
    assert judged.judged == (kind != "too_early")
    from dcgan_core.i18n import translate

    for lang in ("en", "zh"):
        assert "{" not in translate(judged.key, lang, **judged.params)


def test_verdict_too_early_never_says_the_guideline_did_not_hurt():
    # issue 11: the recipe still grey blobs (one class, 100 % "8"), the broken variant scoring better
    paper = _scored("paper", 1288.0, confidence=1.0, classes=1, collapse=True, steps=150)
    broken = _scored("pooling", 613.0, confidence=0.7, classes=8, steps=150)
    judged = ablations.verdict(paper, broken)
    assert judged.kind == "too_early" and judged.params["step"] == 150
    swapped = ablations.verdict(_scored("paper", 613.0), _scored("pooling", 1288.0, classes=1, collapse=True))
    assert swapped.kind == "collapsed"


def test_reached_digits_is_the_project_criterion():
    from types import SimpleNamespace

    from dcgan_core.metrics import recognisable_digits

    for confidence, classes in [(0.8, 9), (0.79, 10), (0.95, 8), (0.9, 10)]:
        summary = {"fcd": 100.0, "mean_confidence": confidence, "classes_present": classes}
        assert ablations.reached_digits(summary) == recognisable_digits(SimpleNamespace(**summary))
    assert not ablations.reached_digits(None)


def test_shipped_results_hold_all_seven_variants():
    results = ablations.load_results(ablations.SHIPPED_DIR)
    assert list(results) == list(ablations.ABLATIONS)
    steps = {r.train["steps"] for r in results.values()}
    assert len(steps) == 1
    for r in results.values():
        assert r.config == ablations.ablation_config(r.name, DCGANConfig.from_dict(r.config)).to_dict()
        assert r.grids and r.grids[0][0] == 0
        assert r.metrics is not None and math.isfinite(r.metrics["fcd"])
        assert r.diverged_at is not None or r.steps_done == r.train["steps"]
    total = sum(f.stat().st_size for f in ablations.SHIPPED_DIR.iterdir())
    assert total <= 3 * 1024 * 1024


def test_metrics_are_recorded_at_every_grid_and_match_a_later_scoring(tiny_images):
    # An untrained classifier is enough to check the plumbing: the numbers must be
    # exactly what scoring the same generator afterwards gives.
    from dcgan_core.classifier import MnistClassifier

    classifier = MnistClassifier().eval()
    reference = ablations.bundled_test_reference(classifier)
    kept = {}
    result = ablations.run_ablation(
        "no_tanh",
        3,
        seed=2,
        device="cpu",
        base_cfg=tiny_train_config(),
        dataset=tiny_images,
        grid_count=2,
        n_grid=4,
        n_metric=80,
        classifier=classifier,
        real_reference=reference,
        on_grid=lambda step, netG: kept.__setitem__(step, copy.deepcopy(netG)),
    )
    assert [m["step"] for m in result.metrics_history] == [0, 3] == sorted(kept)
    later = ablations.score_generator(kept[3], 2, classifier, reference, n_metric=80, baseline=True)
    assert later == result.metrics
    assert result.metrics["num_fake"] == 80 and result.metrics["fcd_real_baseline"] is not None
    assert sum(result.metrics["class_histogram"]) == 80
