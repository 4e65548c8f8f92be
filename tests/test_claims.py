"""The claims register: every claim holds on the shipped assets (the register itself runs here, as in CI),
and each claim's check fails on a case where the claim is false."""

import copy
import json

import numpy as np
import pytest
import torch

from dcgan_core import ablations, arithmetic_presets, claims, latent
from dcgan_core.checkpoint import load_checkpoint
from dcgan_core.classifier import load_classifier
from dcgan_core.data import DatasetSpec, load_images
from dcgan_core.model_source import PRETRAINED_PATH


class NoiseGenerator(torch.nn.Module):
    """Draws uniform noise whatever z is: a generator that learned nothing."""

    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.unused = torch.nn.Parameter(torch.zeros(1))

    def forward(self, z):
        g = torch.Generator().manual_seed(int(z.sum().abs().item() * 1000) % 2**31)
        return torch.rand(z.shape[0], self.cfg.channels, self.cfg.image_size, self.cfg.image_size, generator=g) * 2 - 1


class FlickerGenerator(torch.nn.Module):
    """Shows a random real test digit for every z: confident frames, but a new digit at almost every step."""

    def __init__(self, cfg, digits):
        super().__init__()
        self.cfg, self.digits = cfg, digits
        self.unused = torch.nn.Parameter(torch.zeros(1))

    def forward(self, z):
        index = (z[:, 0].abs() * 1e4).long() % len(self.digits)
        return self.digits[index]


@pytest.fixture(scope="module")
def shipped():
    checkpoint = load_checkpoint(PRETRAINED_PATH)
    return checkpoint.build_generator().eval(), checkpoint.build_discriminator().eval(), load_classifier()


@pytest.fixture(scope="module")
def test_digits():
    return load_images(DatasetSpec(source="bundled", split="test", image_size=32, channels=1))


@pytest.fixture(scope="module")
def presets():
    return arithmetic_presets.presets_for_model(PRETRAINED_PATH)


def test_the_register_runs_and_every_claim_holds(capsys):
    status = claims.main([])
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    *rows, summary = lines
    assert {"claim", "page", "holds", "measured", "expected"} <= set(rows[0])
    assert summary["summary"]["claims"] == len(rows) >= 14
    failed = [r for r in rows if not r["holds"]]
    assert status == 0 and not failed, failed
    pages = {r["page"] for r in rows}
    assert {"vector_arithmetic", "latent_space", "discriminator", "guidelines_lab", "checkerboard", "quality"} <= pages


def test_preset_claim_fails_for_a_noise_generator_and_a_shuffled_preset(shipped, presets):
    netG, _, classifier = shipped
    width = presets["width"]
    assert claims.check_preset(netG, classifier, "width", width.groups, width.digit_c).holds
    noise = NoiseGenerator(netG.cfg)
    assert not claims.check_preset(noise, classifier, "width", width.groups, width.digit_c).holds
    shuffled = {"A": width.groups["A"], "B": width.groups["C"], "C": width.groups["B"]}  # B and C swapped
    assert not claims.check_preset(netG, classifier, "width", shuffled, width.digit_c).holds


def test_preset_claim_fails_when_the_committed_digits_differ_from_the_page(presets):
    assert claims.check_preset_digits_match_the_page(presets).holds
    changed = dict(presets)
    changed["width"] = (
        copy.replace(presets["width"], digit_c=3)
        if hasattr(copy, "replace")
        else arithmetic_presets.ArithmeticPresetSeeds(**{**presets["width"].__dict__, "digit_c": 3})
    )
    assert not claims.check_preset_digits_match_the_page(changed).holds


def test_walk_claim_fails_for_noise_and_for_a_flickering_generator(shipped, test_digits):
    netG, _, classifier = shipped
    assert not claims.check_linear_walk(NoiseGenerator(netG.cfg), classifier).holds
    flicker = FlickerGenerator(netG.cfg, test_digits.images[:200])
    claim = claims.check_linear_walk(flicker, classifier)
    assert not claim.holds and claim.measured["reading_changes"] > claims.MAX_READING_CHANGES


def test_shell_claim_fails_when_the_endpoints_leave_the_shell():
    nz = 100
    z = latent.z_from_seeds([0, 1], nz)
    assert claims.check_slerp_shell(nz, zs=z).holds
    assert not claims.check_slerp_shell(nz, zs=torch.stack([z[0], 0.3 * z[1]])).holds


def test_probe_claim_fails_for_an_untrained_discriminator(shipped, test_digits):
    from dcgan_core.features import random_discriminator

    _, netD, _ = shipped
    train = load_images(DatasetSpec(source="bundled", split="train", image_size=32, channels=1))
    untrained = random_discriminator(netD, seed=0)
    claim = claims.check_probe(untrained, train.images, train.labels, test_digits.images, test_digits.labels)
    assert not claim.holds


def test_saliency_claim_fails_on_noise_images(shipped):
    _, netD, _ = shipped
    noise = torch.rand(20, 1, 32, 32, generator=torch.Generator().manual_seed(0)) * 2 - 1
    assert not claims.check_saliency(netD, noise).holds


def test_recipe_claim_fails_when_the_recipe_scores_worst():
    recorded = ablations.load_results(ablations.SHIPPED_DIR)
    assert claims.check_recipe_best(recorded).holds
    swapped = dict(recorded)
    swapped["paper"] = copy.deepcopy(recorded["paper"])
    swapped["paper"].metrics = recorded["batchnorm_everywhere"].metrics
    assert not claims.check_recipe_best(swapped).holds


def test_verdict_claim_fails_for_a_swapped_verdict():
    recorded = ablations.load_results(ablations.SHIPPED_DIR)
    verdicts = {n: ablations.verdict(recorded["paper"], r) for n, r in recorded.items() if n != "paper"}
    assert claims.check_verdicts(recorded, verdicts).holds
    swapped = dict(verdicts)
    swapped["no_tanh"], swapped["pooling"] = verdicts["pooling"], verdicts["no_tanh"]
    claim = claims.check_verdicts(recorded, swapped)
    assert not claim.holds and set(claim.measured["mismatched"]) == {"no_tanh", "pooling"}
    # a verdict of the right kind but with another run's numbers fails too
    stale = dict(verdicts)
    stale["relu_in_d"] = ablations.Verdict("similar", {**verdicts["relu_in_d"].params, "variant": "1.0"})
    assert not claims.check_verdicts(recorded, stale).holds


def test_a_verdict_before_the_recipe_draws_digits_must_be_too_early():
    recorded = ablations.load_results(ablations.SHIPPED_DIR)
    early = copy.deepcopy(recorded["paper"])
    early.metrics = {**early.metrics, "mean_confidence": 0.99, "classes_present": 1}
    results = {**recorded, "paper": early}
    did_not_hurt = ablations.Verdict("similar", ablations.verdict(recorded["paper"], recorded["pooling"]).params)
    assert not claims.check_verdicts(results, {"pooling": did_not_hurt}).holds
    assert claims.check_verdicts(results, {"pooling": ablations.verdict(early, recorded["pooling"])}).holds


def test_overlap_claims_fail_when_the_lesson_is_reversed():
    assert claims.check_overlap(3, 2, even=False).holds and claims.check_overlap(4, 2, even=True).holds
    assert not claims.check_overlap(3, 2, even=True).holds
    assert not claims.check_overlap(4, 2, even=False).holds


def test_energy_claim_fails_on_a_blank_image(shipped):
    netG = shipped[0]
    sample = (latent.generate(netG, latent.z_from_seed(0, netG.cfg.nz))[0, 0].numpy() + 1) / 2
    assert claims.check_checkerboard_energy(sample).holds
    assert not claims.check_checkerboard_energy(np.zeros((32, 32))).holds


def test_checkerboard_energy_sees_the_stride_pattern_only():
    from dcgan_core.checkerboard import checkerboard_energy

    checker = np.indices((8, 8)).sum(0) % 2 * 1.0
    assert checkerboard_energy(checker, 2) == pytest.approx(1.0)
    smooth = np.outer(np.sin(np.linspace(0, np.pi, 8)), np.ones(8))
    assert checkerboard_energy(smooth, 2) < 0.05
    assert checkerboard_energy(np.ones((8, 8)), 2) == 0.0


def test_model_card_claim_fails_for_a_noise_generator_and_a_changed_card(shipped, test_digits):
    netG, _, classifier = shipped
    card = PRETRAINED_PATH.with_suffix(".md").read_text(encoding="utf-8")
    assert claims.card_figures(card)["classes_present"] == 10
    assert not claims.check_model_card(NoiseGenerator(netG.cfg), classifier, test_digits.images, card).holds
    stated = claims.card_figures(card)["fcd"]
    changed = card.replace(f"| {stated:.2f} |", f"| {stated * 1.5:.2f} |")
    assert changed != card
    assert not claims.check_model_card(netG, classifier, test_digits.images, changed).holds
