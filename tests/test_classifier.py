"""The shipped MNIST classifier: loads safely, is accurate, and takes the GAN's 32×32 samples."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dcgan_core.classifier import (
    DEFAULT_WEIGHTS,
    FEATURE_DIM,
    MnistClassifier,
    classifier_metadata,
    load_classifier,
    predict,
)
from dcgan_core.data import load_bundled_mnist
from dcgan_core.i18n import LabError


@pytest.fixture(scope="module")
def bundled_test():
    images, labels = load_bundled_mnist("test")
    x = torch.from_numpy(images.astype(np.float32) / 127.5 - 1.0)[:, None]  # [-1, 1], the GAN's range
    return x, torch.from_numpy(np.array(labels))


@pytest.fixture(scope="module")
def classifier():
    return load_classifier()


def accuracy(classifier, x, y):
    return (predict(x, classifier) == y).double().mean().item()


def test_weights_load_with_weights_only_and_are_small():
    assert DEFAULT_WEIGHTS.stat().st_size < 2_000_000
    saved = torch.load(
        DEFAULT_WEIGHTS, weights_only=True
    )  # raises if the file holds anything but tensors and primitives
    model = MnistClassifier(**saved["architecture"])
    missing, unexpected = model.load_state_dict(saved["state_dict"])
    assert not missing and not unexpected
    for value in saved["metadata"].values():
        assert isinstance(value, (int, float, str))


def test_accuracy_on_bundled_test_digits(classifier, bundled_test):
    """Recomputed here on the 2,000 bundled test digits, every digit separately, not read from the file."""
    x, y = bundled_test
    assert len(x) == 2000
    acc = accuracy(classifier, x, y)
    assert acc >= 0.99, acc
    predicted = predict(x, classifier)
    for digit in range(10):
        mine = y == digit
        assert (predicted[mine] == digit).double().mean().item() >= 0.97, digit
    # The model card's figure is the same computation (at most one digit apart across torch builds).
    assert abs(classifier_metadata()["bundled_test_accuracy"] - acc) <= 1 / len(x) + 1e-12


@pytest.mark.parametrize("to_32", ["resize", "pad"])
def test_gan_sized_samples_are_classified(classifier, bundled_test, to_32):
    """32×32 digits, made by resizing or by padding 2 px of background, are still recognised."""
    x, y = bundled_test
    if to_32 == "resize":
        x32 = F.interpolate(x, size=(32, 32), mode="bilinear", align_corners=False, antialias=True)
    else:
        x32 = F.pad(x, (2, 2, 2, 2), value=-1.0)
    prepared = MnistClassifier.prepare(x32)
    assert prepared.shape == (len(x), 1, 28, 28)
    assert prepared.min() >= -1 and prepared.max() <= 1
    assert accuracy(classifier, x32, y) >= 0.98


def test_prepare_shapes_and_values():
    x28 = torch.rand(5, 1, 28, 28) * 2 - 1
    assert torch.equal(MnistClassifier.prepare(x28), x28)  # already the training size: untouched
    assert MnistClassifier.prepare(x28[:, 0]).shape == (5, 1, 28, 28)  # (N,H,W) accepted
    flat = torch.full((3, 1, 32, 32), 0.25)
    assert torch.allclose(
        MnistClassifier.prepare(flat), torch.full((3, 1, 28, 28), 0.25)
    )  # resizing keeps a constant image
    assert MnistClassifier.prepare(torch.rand(2, 1, 64, 64) * 2 - 1).shape == (2, 1, 28, 28)
    with pytest.raises(LabError):
        MnistClassifier.prepare(torch.zeros(2, 3, 32, 32))


def test_features_and_logits(classifier, bundled_test):
    x = bundled_test[0][:8]
    with torch.no_grad():
        feats = classifier.features(x)
        logits = classifier(x)
    assert feats.shape == (8, FEATURE_DIM) and logits.shape == (8, 10)
    torch.testing.assert_close(classifier.head(feats), logits)  # eval mode: dropout off, head on the features


def test_load_is_cached_and_missing_file_is_a_lab_error(tmp_path):
    assert load_classifier() is load_classifier()
    assert not load_classifier().training
    with pytest.raises(LabError) as err:
        load_classifier(tmp_path / "nope.pt")
    assert "train_classifier.py" in str(err.value) and "分类器" in err.value.message("zh")
