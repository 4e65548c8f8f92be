"""What ships in assets/ is there and loads: the app works offline only with these files.
Deleting any of them must fail here (the page tests use the shipped generator, never a silent stand-in)."""

import torch

from dcgan_core import ablations, model_source
from dcgan_core.checkpoint import load_generator
from dcgan_core.classifier import DEFAULT_WEIGHTS, load_classifier
from dcgan_core.data import BUNDLED_MNIST, load_bundled_mnist
from dcgan_core.paths import ASSETS_DIR


def test_the_pretrained_generator_ships_and_draws_digit_shaped_images():
    assert model_source.PRETRAINED_PATH == ASSETS_DIR / "pretrained" / "mnist_dcgan.pt"
    assert model_source.PRETRAINED_PATH.is_file()
    assert model_source.available_checkpoints()[0] == model_source.PRETRAINED_PATH
    netG, cfg = load_generator(model_source.PRETRAINED_PATH)
    with torch.no_grad():
        images = netG(torch.randn(4, cfg.nz, 1, 1, generator=torch.Generator().manual_seed(0)))
    assert images.shape == (4, cfg.channels, cfg.image_size, cfg.image_size)
    assert torch.isfinite(images).all() and images.min() >= -1 and images.max() <= 1


def test_the_classifier_ships():
    assert DEFAULT_WEIGHTS.is_file()
    assert not load_classifier().training


def test_the_mnist_sample_ships():
    assert BUNDLED_MNIST.is_file()
    train, train_labels = load_bundled_mnist("train")
    test, test_labels = load_bundled_mnist("test")
    assert train.shape == (12_000, 28, 28) and test.shape == (2_000, 28, 28)
    assert sorted(set(train_labels.tolist())) == list(range(10)) == sorted(set(test_labels.tolist()))


def test_the_recorded_ablations_ship():
    assert (ablations.SHIPPED_DIR / ablations.RESULTS_FILE).is_file()
    results = ablations.load_results()
    assert set(ablations.ABLATIONS) <= set(results)
