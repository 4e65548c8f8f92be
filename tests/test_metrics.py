"""GAN quality metrics: the Fréchet distance against independent references, and the
classifier-based metrics telling real digits from noise and from a collapsed generator."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dcgan_core.classifier import load_classifier
from dcgan_core.data import load_bundled_mnist
from dcgan_core.i18n import LabError
from dcgan_core.metrics import (
    QualityReport,
    _topk_smallest_distances,
    as_gan_images,
    class_histogram,
    classifier_features,
    feature_statistics,
    frechet_classifier_distance,
    frechet_distance,
    mean_confidence,
    mode_collapse_check,
    mode_collapse_warning,
    nearest_real_neighbours,
    quality_report,
    real_reference,
    recognisable_digits,
)


def random_spd(d, rng, rank=None):
    a = rng.standard_normal((d, rank or 2 * d))
    return a @ a.T / a.shape[1]


def sqrtm_denman_beavers(a: torch.Tensor, iterations: int = 30) -> torch.Tensor:
    """Matrix square root of a (not necessarily symmetric) matrix with real positive eigenvalues, by iteration."""
    y, z = a.clone(), torch.eye(len(a), dtype=a.dtype)
    for _ in range(iterations):
        y, z = (y + torch.linalg.inv(z)) / 2, (z + torch.linalg.inv(y)) / 2
    return y


def reference_fid(mu1, s1, mu2, s2):
    s1, s2 = torch.from_numpy(s1), torch.from_numpy(s2)
    product = s1 @ s2
    root = sqrtm_denman_beavers(product)
    torch.testing.assert_close(root @ root, product, rtol=1e-8, atol=1e-10)  # the reference itself is right
    return float(((mu1 - mu2) ** 2).sum() + torch.trace(s1 + s2 - 2 * root))


# --- Fréchet distance ----------------------------------------------------------------------------


def test_frechet_distance_diagonal_closed_form():
    rng = np.random.default_rng(0)
    a, b = rng.uniform(0.1, 4, 16), rng.uniform(0.1, 4, 16)
    mu1, mu2 = rng.standard_normal(16), rng.standard_normal(16)
    expected = np.sum((np.sqrt(a) - np.sqrt(b)) ** 2) + np.sum((mu1 - mu2) ** 2)
    assert frechet_distance(mu1, np.diag(a), mu2, np.diag(b)) == pytest.approx(expected, rel=1e-10)


def test_frechet_distance_one_dimension():
    # N(m1, s1²) vs N(m2, s2²): (m1 − m2)² + (s1 − s2)²
    assert frechet_distance([1.0], [[4.0]], [-2.0], [[9.0]]) == pytest.approx(9 + 1)


@pytest.mark.slow
def test_frechet_distance_full_covariances_against_denman_beavers():
    rng = np.random.default_rng(1)
    for d in (3, 10, 32):
        s1, s2 = random_spd(d, rng), random_spd(d, rng)
        mu1, mu2 = rng.standard_normal(d), rng.standard_normal(d)
        ours = frechet_distance(mu1, s1, mu2, s2)
        assert ours == pytest.approx(reference_fid(mu1, s1, mu2, s2), rel=1e-8)
        assert ours == pytest.approx(frechet_distance(mu2, s2, mu1, s1), rel=1e-9)  # symmetric


def test_frechet_distance_against_eigenvalues_of_the_product():
    # Tr (Σ1Σ2)^½ = Σ √λ(Σ1Σ2), from a general (non-symmetric) eigensolver, also for singular Σ.
    rng = np.random.default_rng(2)
    s1, s2 = random_spd(20, rng, rank=8), random_spd(20, rng)
    mu = np.zeros(20)
    eigenvalues = torch.linalg.eigvals(torch.from_numpy(s1 @ s2))
    expected = np.trace(s1) + np.trace(s2) - 2 * torch.sqrt(eigenvalues.real.clamp_min(0)).sum().item()
    assert abs(eigenvalues.imag).max() < 1e-8
    assert frechet_distance(mu, s1, mu, s2) == pytest.approx(expected, rel=1e-7)


def test_identical_sets_give_zero_even_with_singular_covariance():
    rng = np.random.default_rng(3)
    for n in (20, 500):  # 20 samples in 128-d: covariance of rank 19
        feats = rng.standard_normal((n, 128)) * rng.uniform(0.1, 3, 128)
        mu, sigma = feature_statistics(feats)
        assert frechet_distance(mu, sigma, mu, sigma) <= 1e-6 * np.trace(sigma)


def test_feature_statistics_match_torch():
    feats = np.random.default_rng(4).standard_normal((50, 6))
    mu, sigma = feature_statistics(feats)
    t = torch.from_numpy(feats)
    np.testing.assert_allclose(mu, t.mean(0).numpy())
    np.testing.assert_allclose(sigma, torch.cov(t.T).numpy())
    with pytest.raises(LabError):
        feature_statistics(feats[:1])


def test_frechet_distance_rejects_mismatched_shapes():
    with pytest.raises(LabError) as err:
        frechet_distance(np.zeros(3), np.eye(3), np.zeros(4), np.eye(4))
    assert err.value.key == "metrics.shape_mismatch"


# --- classifier-based metrics on real digits, noise and a collapsed "generator" --------------------


@pytest.fixture(scope="module")
def classifier():
    return load_classifier()


@pytest.fixture(scope="module")
def real():
    """Two disjoint real sets in [-1, 1] at the GAN's 32×32, as the data pipeline makes them."""
    train, train_labels = load_bundled_mnist("train")
    test, test_labels = load_bundled_mnist("test")

    def to32(u8):
        return F.interpolate(as_gan_images(u8), size=(32, 32), mode="bilinear", antialias=True, align_corners=False)

    return {"a": to32(train[:1000]), "b": to32(test[:500]), "b_labels": test_labels[:500], "a_u8": train[:1000]}


@pytest.fixture(scope="module")
def reference_a(classifier, real):
    return real_reference(real["a"], classifier)


def fcd_against(images, reference, classifier):
    features, _ = classifier_features(images, classifier)
    return frechet_distance(*feature_statistics(features), reference.mu, reference.sigma)


def test_classifier_features_shapes_and_probabilities(classifier, real):
    feats, probs = classifier_features(real["b"][:300], classifier, batch_size=64)
    assert feats.shape == (300, 128) and probs.shape == (300, 10)
    np.testing.assert_allclose(probs.sum(1), 1, atol=1e-9)
    # Batching does not change the answer.
    feats_one_batch, _ = classifier_features(real["b"][:300], classifier, batch_size=1000)
    np.testing.assert_allclose(feats, feats_one_batch, atol=1e-5)
    # Predictions are the labels almost always.
    assert (probs.argmax(1) == real["b_labels"][:300]).mean() >= 0.98


def test_uint8_input_is_rescaled(classifier, real):
    u8 = real["a_u8"][:40]
    f_u8, _ = classifier_features(u8, classifier)
    f_float, _ = classifier_features(torch.tensor(u8).float() / 127.5 - 1, classifier)
    np.testing.assert_allclose(f_u8, f_float, atol=1e-6)


@pytest.mark.slow
def test_fcd_separates_real_from_noise_and_blur(classifier, real, reference_a):
    fcd_real = frechet_classifier_distance(real["b"], real["a"], classifier)
    assert fcd_real == pytest.approx(fcd_against(real["b"], reference_a, classifier), rel=1e-9)
    noise = torch.rand(500, 1, 32, 32, generator=torch.Generator().manual_seed(0)) * 2 - 1
    fcd_noise = fcd_against(noise, reference_a, classifier)
    blurred = F.avg_pool2d(real["b"], 5, stride=1, padding=2, count_include_pad=False)
    fcd_blur = fcd_against(blurred, reference_a, classifier)
    assert fcd_real * 20 < fcd_noise
    assert fcd_real < fcd_blur < fcd_noise
    mu, sigma = feature_statistics(reference_a.features)
    assert frechet_distance(mu, sigma, reference_a.mu, reference_a.sigma) < 1e-6 * fcd_real


@pytest.mark.slow
def test_real_digits_are_not_collapsed_and_are_recognisable(classifier, real, reference_a):
    report = quality_report(real["b"][:300], real["a"], classifier)
    assert report.num_fake == 300 and report.num_real == 1000
    assert sum(report.class_histogram) == 300
    assert report.classes_present >= 9
    assert not report.mode_collapse and report.collapse_reasons == []
    assert report.mean_confidence >= 0.95
    assert recognisable_digits(report)
    # Real digits score like the held-out real baseline of the same size (same population).
    assert report.fcd < 2 * report.fcd_real_baseline
    assert recognisable_digits(report, max_fcd=2 * report.fcd_real_baseline)
    assert not recognisable_digits(report, max_fcd=0.5 * report.fcd)
    assert set(report.timings) == {"features", "fcd", "total"} and report.timings["total"] >= 0
    # A precomputed reference gives the same report figures.
    again = quality_report(real["b"][:300], reference_a, classifier)
    assert again.fcd == pytest.approx(report.fcd, rel=1e-9)
    assert again.fcd_real_baseline == pytest.approx(report.fcd_real_baseline, rel=1e-9)


@pytest.mark.slow
def test_one_repeated_digit_is_mode_collapse(classifier, real, reference_a):
    one = real["b"][real["b_labels"] == 3][:1]
    jitter = torch.randn(200, 1, 32, 32, generator=torch.Generator().manual_seed(1)) * 0.02
    collapsed = (one.expand(200, -1, -1, -1) + jitter).clamp(-1, 1)
    report = quality_report(collapsed, reference_a, classifier)
    assert report.mode_collapse
    assert report.class_histogram[3] == 200 and report.classes_present == 1
    assert {key for key, _ in report.collapse_reasons} == {
        "metrics.reason_too_few_classes",
        "metrics.reason_dominant_class",
    }
    assert not recognisable_digits(report)  # confident, but only one digit
    healthy = quality_report(real["b"][:200], reference_a, classifier)
    assert report.fcd > 5 * healthy.fcd and report.fcd > 5 * report.fcd_real_baseline


def test_class_histogram_and_confidence_against_torch():
    probs = torch.softmax(torch.randn(300, 10, generator=torch.Generator().manual_seed(2)) * 3, 1).numpy()
    hist = class_histogram(probs)
    assert hist.tolist() == torch.bincount(torch.from_numpy(probs).argmax(1), minlength=10).tolist()
    assert mean_confidence(probs) == pytest.approx(torch.from_numpy(probs).max(1).values.mean().item())


def test_mode_collapse_thresholds():
    uniform = np.full(10, 10)
    assert not mode_collapse_warning(uniform)
    eight = np.array([13, 12, 13, 12, 13, 12, 13, 12, 0, 0])  # 8 digits present, none dominant
    check = mode_collapse_check(eight)
    assert check.collapsed and check.classes_present == 8
    assert check.reasons == [("metrics.reason_too_few_classes", {"present": 8, "minimum": 9})]
    dominant = np.array([40, 7, 7, 7, 7, 7, 7, 6, 6, 6])  # all present, one digit 40 %
    check = mode_collapse_check(dominant)
    assert check.collapsed and check.largest_share == pytest.approx(0.4)
    assert check.reasons[0][0] == "metrics.reason_dominant_class" and check.reasons[0][1]["digit"] == 0
    assert not mode_collapse_warning(dominant, max_share=0.5)


def test_mode_collapse_at_its_exact_boundaries():
    """Nine digits present is enough; a largest share of exactly 30 % is allowed; just above is not."""
    nine = np.array([12, 11, 11, 11, 11, 11, 11, 11, 11, 0])
    check = mode_collapse_check(nine)
    assert check.classes_present == 9 and not check.collapsed and check.reasons == []
    at_limit = np.array([30, 8, 8, 8, 8, 8, 8, 8, 7, 7])  # digit 0 is exactly 30 of 100
    check = mode_collapse_check(at_limit)
    assert check.largest_share == 0.3 and not check.collapsed
    above = np.array([31, 8, 8, 8, 8, 8, 8, 7, 7, 7])
    check = mode_collapse_check(above)
    assert check.collapsed and [key for key, _ in check.reasons] == ["metrics.reason_dominant_class"]


def report_with(confidence: float, classes: int, fcd: float = 100.0) -> QualityReport:
    hist = [10] * classes + [0] * (10 - classes)
    return QualityReport(
        fcd=fcd,
        fcd_real_baseline=None,
        class_histogram=hist,
        mean_confidence=confidence,
        confident_share=confidence,
        classes_present=classes,
        mode_collapse=classes < 9,
        collapse_reasons=[],
        num_fake=sum(hist),
        num_real=1000,
        timings={},
    )


@pytest.mark.parametrize(
    "confidence, classes, recognisable",
    [
        (0.8, 9, True),  # both at the boundary: ≥ 0.8 and ≥ 9 digits
        (0.82, 10, True),  # a threshold moved above 0.8 fails here
        (0.7999, 10, False),
        (0.95, 8, False),
        (1.0, 9, True),
    ],
)
def test_recognisable_digits_at_its_exact_boundaries(confidence, classes, recognisable):
    assert recognisable_digits(report_with(confidence, classes)) is recognisable


def test_recognisable_digits_fcd_ceiling_is_inclusive():
    assert recognisable_digits(report_with(0.9, 10, fcd=50.0), max_fcd=50.0)
    assert not recognisable_digits(report_with(0.9, 10, fcd=50.01), max_fcd=50.0)


# --- nearest neighbours --------------------------------------------------------------------------


def test_real_images_find_themselves(real):
    pool = real["a"]
    queries = pool[[5, 100, 999]]
    indices, distances = nearest_real_neighbours(queries, pool, k=1)
    assert indices.shape == (3, 1)
    np.testing.assert_allclose(distances, 0, atol=1e-5)
    for q, i in zip(queries, indices[:, 0], strict=False):
        assert torch.equal(pool[i], q)


@pytest.mark.parametrize("space", ["pixel", pytest.param("features", marks=pytest.mark.slow)])
def test_nearest_neighbours_match_cdist(classifier, real, space):
    fake = real["b"][:64] + 0.1 * torch.randn(64, 1, 32, 32, generator=torch.Generator().manual_seed(3))
    pool = real["a"][:600]
    indices, distances = nearest_real_neighbours(fake, pool, k=3, space=space, classifier=classifier)
    if space == "pixel":
        q, r = fake.flatten(1).double(), pool.flatten(1).double()
    else:
        q, r = (torch.from_numpy(classifier_features(x, classifier)[0]) for x in (fake, pool))
    reference = torch.cdist(q, r, compute_mode="donot_use_mm_for_euclid_dist")
    ref_d, ref_i = reference.topk(3, dim=1, largest=False)
    np.testing.assert_allclose(distances, ref_d.numpy(), rtol=1e-6, atol=1e-6)
    assert (indices == ref_i.numpy()).mean() > 0.99  # exact ties aside, the same neighbours
    np.testing.assert_allclose(reference.gather(1, torch.from_numpy(indices)).numpy(), ref_d.numpy(), rtol=1e-6)


@pytest.mark.parametrize("chunk", [1, 7, 50, 599, 600, 4096])
def test_chunked_search_matches_cdist_over_many_chunks(chunk):
    """The k nearest over every chunk, wherever they lie: several neighbours in the first chunk,
    some in the middle, some in the last (a search that kept only the last chunk's would fail)."""
    gen = torch.Generator().manual_seed(4)
    keys = torch.randn(600, 20, generator=gen, dtype=torch.float64)
    queries = torch.cat([keys[[0, 3, 299, 599]], torch.randn(12, 20, generator=gen, dtype=torch.float64)])
    queries = queries + 0.01 * torch.randn(queries.shape, generator=gen, dtype=torch.float64)
    indices, distances = _topk_smallest_distances(queries, keys, k=5, chunk=chunk)
    ref_d, ref_i = torch.cdist(queries, keys, compute_mode="donot_use_mm_for_euclid_dist").topk(5, dim=1, largest=False)
    assert torch.equal(indices, ref_i)
    torch.testing.assert_close(distances, ref_d, rtol=1e-9, atol=1e-9)
    assert indices[:4, 0].tolist() == [0, 3, 299, 599]


def test_nearest_neighbours_in_the_apps_twelve_thousand_digits():
    """The Quality page searches the bundled 12,000 training digits: three chunks of 4,096.
    Digits from the first, middle and last chunk, lightly perturbed, must find themselves."""
    train, _ = load_bundled_mnist("train")
    pool = torch.from_numpy(train.copy())[:, None]  # uint8, 28×28
    assert len(pool) > 2 * 4096
    picks = [0, 17, 4095, 4096, 6000, 8191, 8192, len(pool) - 1]
    fake = as_gan_images(pool[picks]) + 0.05 * torch.randn(
        len(picks), 1, 28, 28, generator=torch.Generator().manual_seed(5)
    )
    indices, distances = nearest_real_neighbours(fake, pool, k=2)
    assert indices[:, 0].tolist() == picks
    reference = torch.cdist(
        fake.flatten(1).double(), as_gan_images(pool).flatten(1).double(), compute_mode="donot_use_mm_for_euclid_dist"
    )
    ref_d, ref_i = reference.topk(2, dim=1, largest=False)
    assert indices.tolist() == ref_i.tolist()
    np.testing.assert_allclose(distances, ref_d.numpy(), rtol=1e-6, atol=1e-6)


def test_nearest_neighbours_across_sizes(real):
    """32×32 samples against 28×28 uint8 MNIST: both compared at 28×28."""
    u8 = real["a_u8"][:500]
    fake32 = real["a"][[7, 42]]  # the 32×32 versions of two of those digits
    indices, distances = nearest_real_neighbours(fake32, u8, k=2)
    assert indices[:, 0].tolist() == [7, 42]
    assert (distances[:, 0] < distances[:, 1]).all()


def test_nearest_neighbour_errors(real):
    with pytest.raises(LabError) as err:
        nearest_real_neighbours(real["b"][:2], real["a"][:5], k=6)
    assert err.value.key == "metrics.bad_k"
    with pytest.raises(LabError) as err:
        nearest_real_neighbours(real["b"][:2], real["a"][:5], space="features")
    assert err.value.key == "metrics.needs_classifier"
    with pytest.raises(LabError) as err:
        nearest_real_neighbours(real["b"][:2], real["a"][:5], space="latent")
    assert "pixel" in str(err.value) and "像素" in err.value.message("zh")


def test_bad_images_are_lab_errors(classifier):
    with pytest.raises(LabError) as err:
        classifier_features(torch.full((4, 1, 32, 32), float("nan")), classifier)
    assert err.value.key == "metrics.non_finite"
    with pytest.raises(LabError) as err:
        classifier_features(torch.zeros(4, 3, 32, 32), classifier)
    assert err.value.key == "metrics.bad_image_shape"
