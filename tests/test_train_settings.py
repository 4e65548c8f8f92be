"""What the Train page takes from the core: which channels a dataset has, the paper's
settings, and how often a run samples and saves checkpoints."""

import pytest

from dcgan_core.config import TrainConfig
from dcgan_core.data import SOURCES
from dcgan_core.data_sanity import KNOWN_CHANNELS, known_channels
from dcgan_core.recipes import (
    classroom_defaults,
    differences_from_paper,
    recipe_name,
    run_intervals,
    with_paper_settings,
)


def test_known_datasets_name_their_channels_and_uploads_leave_them_open():
    assert [known_channels(s) for s in ("bundled", "mnist", "fashion_mnist", "cifar10")] == [1, 1, 1, 3]
    assert known_channels("zip") is None and known_channels("folder") is None
    assert set(KNOWN_CHANNELS) | {"zip", "folder"} == set(SOURCES)


def test_paper_settings_are_the_papers_and_keep_image_size_and_data():
    classroom = classroom_defaults("cpu")
    paper = with_paper_settings(classroom)
    assert (paper.model.ngf, paper.model.ndf, paper.model.nz, paper.batch_size) == (64, 64, 100, 128)
    assert (paper.lr, paper.beta1, paper.ema) == (2e-4, 0.5, 0.0)
    assert paper.model.image_size == classroom.model.image_size and paper.dataset == classroom.dataset
    assert recipe_name(paper) == "paper" and differences_from_paper(paper) == []
    assert differences_from_paper(classroom) != []  # the classroom recipe is not the paper's on a CPU


@pytest.mark.parametrize(
    "steps, sample_every, expected",
    [(1200, 50, (50, 200)), (100, 50, (50, 50)), (10, 50, (10, 10)), (5, 0, (1, 1))],
)
def test_run_intervals_sample_at_least_once_and_checkpoint_about_six_times(steps, sample_every, expected):
    assert run_intervals(steps, sample_every) == expected
    sample, checkpoint = expected
    TrainConfig(max_steps=steps, sample_every=sample, checkpoint_every=checkpoint)  # a valid run
