"""The Train page's quality check scores a frozen copy and agrees with the metrics module."""

import pytest
import torch

from dcgan_core.classifier import load_classifier
from dcgan_core.data import DatasetSpec, load_images
from dcgan_core.latent import generate, z_from_seed
from dcgan_core.live_quality import live_quality, scoreable
from dcgan_core.metrics import quality_report
from dcgan_core.models import DCGANConfig, build_models


@pytest.mark.slow
def test_live_quality_matches_a_direct_report_and_leaves_the_generator_alone():
    netG, _ = build_models(DCGANConfig(image_size=32, channels=1, nz=16, ngf=8, ndf=8), seed=3)
    netG.train()
    before = {k: v.clone() for k, v in netG.state_dict().items()}
    report = live_quality(netG, samples=120, seed=5)
    assert netG.training  # still the training thread's module, untouched
    assert all(torch.equal(before[k], v) for k, v in netG.state_dict().items())

    real = load_images(DatasetSpec(source="bundled", split="test", image_size=32, channels=1)).images
    netG.eval()
    direct = quality_report(generate(netG, z_from_seed(5, 16, n=120)), real, load_classifier(), baseline=False)
    assert abs(report.fcd - direct.fcd) < 1e-6 * max(1.0, direct.fcd)
    assert report.class_histogram == direct.class_histogram
    assert report.mode_collapse == direct.mode_collapse


def test_colour_generators_are_not_scored():
    colour, _ = build_models(DCGANConfig(image_size=32, channels=3, nz=16, ngf=8, ndf=8), seed=0)
    grey, _ = build_models(DCGANConfig(image_size=32, channels=1, nz=16, ngf=8, ndf=8), seed=0)
    assert not scoreable(colour) and scoreable(grey)


class CountingJob:
    """A run's surface as SharedLiveQuality sees it: generator() -> (step, G)."""

    def __init__(self, netG):
        self.netG, self.calls, self.step = netG, 0, 10

    def generator(self):
        self.calls += 1
        self.step += 1
        return self.step, self.netG


@pytest.mark.slow
def test_one_background_score_serves_every_viewer_and_no_one_waits():
    from dcgan_core.live_quality import SharedLiveQuality

    netG, _ = build_models(DCGANConfig(image_size=32, channels=1, nz=16, ngf=8, ndf=8), seed=3)
    job, shared = CountingJob(netG.eval()), SharedLiveQuality()
    assert shared.get("run-a", job, max_age_s=60) is None  # nothing yet: the viewer is answered at once
    assert shared.get("run-a", job, max_age_s=60) is None  # a second viewer starts no second score
    assert shared.wait_idle(120) and job.calls == 1
    step, report = shared.get("run-a", job, max_age_s=60)
    direct = live_quality(netG)
    assert step == 11 and report.class_histogram == direct.class_histogram
    assert abs(report.fcd - direct.fcd) < 1e-6 * max(1.0, direct.fcd)
    for _ in range(5):  # fresh: served from the shared score
        assert shared.get("run-a", job, max_age_s=60)[0] == 11
    assert job.calls == 1
    assert shared.get("run-a", job, max_age_s=0)[0] == 11  # stale: the old score now, a new one underway
    assert shared.wait_idle(120) and job.calls == 2
    assert shared.get("run-a", job, max_age_s=60)[0] == 12
    assert shared.get("run-b", job, max_age_s=60) is None  # another run never sees this run's score
    assert shared.wait_idle(120)
