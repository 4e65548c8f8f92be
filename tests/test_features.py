"""Activations, guided backprop and the §5 linear probe, checked against plain PyTorch."""

import copy

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from dcgan_core import features
from dcgan_core.models import DCGANConfig, build_models


def tiny_discriminator(**switches):
    cfg = DCGANConfig(image_size=32, channels=1, nz=8, ngf=4, ndf=4, **switches)
    _, netD = build_models(cfg, seed=3)
    # Non-trivial batch-norm statistics, so eval mode is not the identity.
    with torch.no_grad():
        for m in netD.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
    return netD.eval()


@pytest.mark.parametrize("switches", [{}, {"resampling": "pooling"}, {"fc_hidden": True}, {"d_activation": "relu"}])
def test_activations_equal_a_plain_forward_through_the_same_layers(switches):
    netD = tiny_discriminator(**switches)
    image = torch.randn(1, 32, 32)
    found = features.layer_activations(netD, image)
    # Reference: run the Sequential by hand and keep each activation's output.
    x = image[None]
    expected = []
    with torch.no_grad():
        for module in netD.main:
            x = module(x.clone())
            if isinstance(module, nn.Flatten):
                break
            if isinstance(module, (nn.ReLU, nn.LeakyReLU)):
                expected.append(x.clone()[0])
    conv = [a for name, a in found if name != "logit"]
    assert [tuple(a.shape) for a in conv] == [tuple(e.shape) for e in expected]
    assert [tuple(a.shape) for a in conv] == [(4, 16, 16), (8, 8, 8), (16, 4, 4)]
    for a, e in zip(conv, expected, strict=False):
        assert torch.allclose(a, e, atol=1e-6)
    if not switches.get("fc_hidden"):
        name, logit = found[-1]
        assert name == "logit" and logit.shape == (1, 1, 1)
        assert torch.allclose(logit.reshape(()), netD(image[None])[0].detach(), atol=1e-6)


class GuidedReLU(torch.autograd.Function):
    """Reference guided backprop through an activation with negative slope `slope`."""

    @staticmethod
    def forward(ctx, x, slope):
        ctx.save_for_backward(x)
        return torch.where(x > 0, x, slope * x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad.clamp(min=0) * (x > 0), None


def reference_guided(netD, image, context=None):
    x = image[None].clone().requires_grad_(True)
    h = x if context is None else torch.cat([x, context])
    for module in netD.main:
        if isinstance(module, (nn.ReLU, nn.LeakyReLU)):
            h = GuidedReLU.apply(h, getattr(module, "negative_slope", 0.0))
        else:
            h = module(h)
    h.reshape(-1)[0].backward()
    return x.grad[0].sum(0)


@pytest.mark.parametrize("switches", [{}, {"d_activation": "relu"}, {"batchnorm": "none"}])
def test_guided_backprop_matches_a_hand_built_reference(switches):
    netD = tiny_discriminator(**switches)
    image = torch.randn(1, 32, 32)
    got = features.guided_backprop(netD, image)
    want = reference_guided(netD, image)
    assert got.shape == (32, 32)
    assert want.abs().max() > 0
    assert torch.allclose(got, want, atol=1e-6, rtol=1e-4)
    # and it differs from the ordinary gradient, which plain_gradient gives
    plain = features.plain_gradient(netD, image)
    x = image[None].clone().requires_grad_(True)
    netD(x).sum().backward()
    assert torch.allclose(plain, x.grad[0].sum(0), atol=1e-6)
    assert not torch.allclose(got, plain, atol=1e-6)


def test_batch_statistics_with_context_match_a_train_mode_forward():
    netD = tiny_discriminator()
    image, context = torch.randn(1, 32, 32), torch.randn(7, 1, 32, 32)
    before = copy.deepcopy(netD.state_dict())
    reference = copy.deepcopy(netD).train()
    with torch.no_grad():
        want = reference(torch.cat([image[None], context]))[0].item()
        want_eval = netD(image[None])[0].item()
    assert features.discriminator_logit(netD, image, context) == pytest.approx(want, abs=1e-5)
    assert features.discriminator_logit(netD, image) == pytest.approx(want_eval, abs=1e-5)
    assert abs(want - want_eval) > 1e-3  # the two batch-norm choices really differ here
    # activations of the image inside its batch
    acts = dict(features.layer_activations(netD, image, context))
    train_copy = copy.deepcopy(netD).train()
    with torch.no_grad():
        h = torch.cat([image[None], context])
        for module in train_copy.main[:4]:  # conv1 block, then conv2 + batch norm + LeakyReLU
            h = module(h)
        h = train_copy.main[4](h)
    assert torch.allclose(acts["conv2"], h[0], atol=1e-5)
    # guided backprop through batch statistics, against the hand-built reference
    reference = copy.deepcopy(netD).train()
    assert torch.allclose(
        features.guided_backprop(netD, image, context),
        reference_guided(reference, image, context),
        atol=1e-6,
        rtol=1e-4,
    )
    for key, value in netD.state_dict().items():  # running statistics untouched
        assert torch.equal(value, before[key]), key
    assert not netD.training


def test_guided_backprop_leaves_the_model_untouched():
    netD = tiny_discriminator()
    netD.train()
    before = copy.deepcopy(netD.state_dict())
    inplace = [m.inplace for m in netD.modules() if isinstance(m, (nn.ReLU, nn.LeakyReLU))]
    features.guided_backprop(netD, torch.randn(1, 32, 32))
    features.layer_activations(netD, torch.randn(1, 32, 32))
    assert netD.training
    for key, value in netD.state_dict().items():
        assert torch.equal(value, before[key]), key
    for m in netD.modules():
        assert not m._forward_hooks and not m._backward_hooks and not m._forward_pre_hooks
    assert [m.inplace for m in netD.modules() if isinstance(m, (nn.ReLU, nn.LeakyReLU))] == inplace
    assert all(p.grad is None for p in netD.parameters())


def test_discriminator_features_are_pooled_4x4_per_layer():
    netD = tiny_discriminator()
    images = torch.randn(5, 1, 32, 32)
    feats = features.discriminator_features(netD, images, batch_size=2)
    assert feats.shape == (5, (4 + 8 + 16) * 16)
    # the first layer's block, pooled by hand
    with torch.no_grad():
        first = netD.main[:2](images)  # conv + LeakyReLU (no batch norm on D's input)
    assert torch.allclose(feats[:, :64], F.max_pool2d(first, 4).flatten(1), atol=1e-6)


def test_linear_probe_learns_separable_data_and_not_shuffled_labels():
    g = torch.Generator().manual_seed(0)
    centres = torch.randn(4, 20, generator=g) * 4

    def sample(n):
        labels = torch.arange(n) % 4
        return centres[labels] + torch.randn(n, 20, generator=g), labels

    train_x, train_y = sample(400)
    test_x, test_y = sample(400)
    assert features.linear_probe(train_x, train_y, test_x, test_y, "all") > 0.97
    assert features.linear_probe(train_x, train_y, test_x, test_y, 40, seed=1) > 0.9
    shuffled = train_y[torch.randperm(400, generator=g)]
    assert features.linear_probe(train_x, shuffled, test_x, test_y, "all") < 0.45  # chance is 0.25


def test_balanced_subset_takes_equal_shares():
    labels = torch.arange(1000) % 10
    index = features.balanced_subset(labels, 100, seed=0)
    assert len(index) == 100 and len(set(index.tolist())) == 100
    assert torch.bincount(labels[index]).tolist() == [10] * 10
    assert not torch.equal(index, features.balanced_subset(labels, 100, seed=1))


@pytest.mark.slow
def test_representation_experiment_reports_all_three(tmp_path):
    netD = tiny_discriminator()
    g = torch.Generator().manual_seed(0)
    labels = torch.arange(200) % 10
    images = torch.randn(200, 1, 32, 32, generator=g) * 0.3 - 1
    for i, label in enumerate(labels.tolist()):
        images[i, 0, 3 * label : 3 * label + 3] += 1.5  # each digit class lights its own band of rows
    seen = []
    results = features.representation_experiment(
        netD,
        images[:150],
        labels[:150],
        images[150:],
        labels[150:],
        label_counts=(50, "all"),
        repeats=2,
        progress=seen.append,
    )
    assert [r.n_labels for r in results] == [50, 150]
    assert [r.repeats for r in results] == [2, 1]
    assert seen[0] == 0.0 and seen[-1] == pytest.approx(1.0)
    for r in results:
        for value in (r.d_accuracy, r.random_accuracy, r.pixel_accuracy):
            assert 0.0 <= value <= 1.0
    assert results[1].pixel_accuracy > 0.9  # the bands separate the classes linearly
    path = features.save_representation(results, tmp_path / "r.json", machine="test")
    loaded = features.load_representation(path)
    assert loaded["machine"] == "test" and loaded["results"] == [r.to_dict() for r in results]
