"""The claims register: every teaching claim the pages make about the shipped assets, measured.

    python -m dcgan_core.claims          # one JSON line per claim, then a summary; exit 1 if any fails

Each claim is measured with the shipped generator and discriminator
(assets/pretrained/mnist_dcgan.pt), the MNIST classifier (assets/mnist_classifier.pt),
the bundled digits (assets/mnist_subset.npz) and the recorded guidelines-lab runs
(assets/ablations), with fixed seeds and the same core functions the pages call.
Every ``check_*`` function takes what it measures as arguments, so that the tests can
hand it a case where the claim must fail (a generator of noise, a shuffled preset, a
swapped verdict).
"""

from __future__ import annotations

import json
import math
import os
import re
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

# Before torch starts its OpenMP pool (as app.py does): on a busy machine, spinning worker
# threads tripled the register's CPU time (the probe's many small steps).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from dcgan_core import ablations, arithmetic_presets, features, latent
from dcgan_core import arithmetic_presets as ap
from dcgan_core.checkerboard import (
    checkerboard_energy,
    deconv_upsample,
    is_even_overlap,
    overlap_counts,
    resize_conv_upsample,
)
from dcgan_core.checkpoint import load_checkpoint
from dcgan_core.classifier import load_classifier
from dcgan_core.data import DatasetSpec, load_images
from dcgan_core.metrics import classifier_features, quality_report
from dcgan_core.model_source import PRETRAINED_PATH


@dataclass
class Claim:
    claim: str  # a stable id
    page: str  # the page that teaches it (pages/<page>.py)
    holds: bool
    measured: dict
    expected: dict

    def line(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, default=_plain)


def _plain(value):
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def _r(value: float, digits: int = 4) -> float:
    return round(float(value), digits)


# ---- vector arithmetic ---------------------------------------------------------------------


def check_preset(netG, classifier, key: str, groups: dict, target: int) -> Claim:
    """A preset gives its target digit in >= 7 of 9 samples, and the pixel-space sum does not."""
    check = ap.check_arithmetic(netG, classifier, groups, target)
    return Claim(
        f"vector_arithmetic.preset_{key}",
        "vector_arithmetic",
        check.works and check.pixel_misses,
        {
            "target_votes": check.target_votes,
            "samples": check.result.total,
            "result_reads": check.result.digit,
            "pixel_reads": check.pixel.digit,
            "pixel_target_probability": _r(check.pixel_target_probability),
        },
        {
            "target": target,
            "min_target_votes": ap.MIN_TARGET_VOTES,
            "pixel_sum": f"not read as {target} (top class differs or p < {ap.PIXEL_MAX_CONFIDENCE})",
        },
    )


def check_preset_digits_match_the_page(presets: dict) -> Claim:
    """The committed presets are the equations the page names (its digits come from latent.PRESETS)."""
    found = {k: [p.attribute, p.digit_ab, p.digit_c] for k, p in presets.items()}
    named = {k: [p.attribute, p.digit_ab, p.digit_c] for k, p in latent.PRESETS.items()}
    return Claim(
        "vector_arithmetic.presets_committed",
        "vector_arithmetic",
        found == named,
        {"committed": found},
        {"page": named},
    )


# ---- latent walks --------------------------------------------------------------------------

WALK_SEEDS = (0, 1)  # the first two of the latent page's default path ("0, 1, 2")
WALK_STEPS = 16  # the latent page's slider maximum: the finest walk a class sees
MAX_READING_CHANGES = 3  # "passes through intermediate digits": a few changes, not flicker
MIN_CONFIDENT_SHARE = 0.8  # of frames read with confidence >= 0.5: no garbage in between
FRAME_CONFIDENCE = 0.5


def check_linear_walk(netG, classifier, seeds=WALK_SEEDS, steps: int = WALK_STEPS) -> Claim:
    nz = netG.cfg.nz
    path = latent.interpolate_path(list(latent.z_from_seeds(seeds, nz)), steps, "linear")
    _, probs = classifier_features(latent.generate(netG, path), classifier)
    readings = probs.argmax(1)
    changes = int((readings[1:] != readings[:-1]).sum())
    confident = float((probs.max(1) >= FRAME_CONFIDENCE).mean())
    # A walk between two samples of one digit (or of noise, which the classifier calls 8) shows nothing.
    endpoints_differ = bool(readings[0] != readings[-1])
    return Claim(
        "latent.linear_walk_passes_through_digits",
        "latent_space",
        endpoints_differ and changes <= MAX_READING_CHANGES and confident >= MIN_CONFIDENT_SHARE,
        {
            "seeds": list(seeds),
            "frames": len(readings),
            "readings": readings.tolist(),
            "reading_changes": changes,
            "confident_share": _r(confident),
        },
        {
            "endpoints": "read as different digits",
            "max_reading_changes": MAX_READING_CHANGES,
            f"share_with_confidence_>={FRAME_CONFIDENCE}": MIN_CONFIDENT_SHARE,
        },
    )


def typical_shell(nz: int, spread: float = 3.0) -> tuple[float, float]:
    """Where |z| of z ~ N(0, I_nz) lies: √nz ± spread standard deviations of the chi distribution (≈ 1/√2)."""
    centre = math.sqrt(nz)
    return centre - spread / math.sqrt(2), centre + spread / math.sqrt(2)


def check_slerp_shell(nz: int, seeds=WALK_SEEDS, steps: int = WALK_STEPS, zs=None) -> Claim:
    zs = list(latent.z_from_seeds(seeds, nz)) if zs is None else list(zs)
    low, high = typical_shell(nz)
    spherical = latent.norms(latent.interpolate_path(zs, steps, "spherical"))
    linear = latent.norms(latent.interpolate_path(zs, steps, "linear"))
    inside = bool(((spherical >= low) & (spherical <= high)).all())
    linear_leaves = bool(linear.min() < low)
    return Claim(
        "latent.slerp_keeps_the_shell",
        "latent_space",
        inside and linear_leaves,
        {"spherical_norm_range": [_r(spherical.min()), _r(spherical.max())], "linear_min_norm": _r(linear.min())},
        {"shell": [_r(low), _r(high)], "spherical": "every frame inside", "linear": "dips below the shell"},
    )


# ---- the discriminator ---------------------------------------------------------------------

PROBE_LABELS = 100
PROBE_REPEATS = 3
PROBE_RECORD_TOLERANCE = 0.03  # recomputed accuracies against the page's recorded ones


def check_probe(netD, train_images, train_labels, test_images, test_labels, recorded: dict | None = None) -> Claim:
    """The §5 probe with 100 labels, recomputed: D's features beat an untrained D and raw pixels
    by the page's own margin (features.clearly_better)."""
    (result,) = features.representation_experiment(
        netD, train_images, train_labels, test_images, test_labels, label_counts=(PROBE_LABELS,), repeats=PROBE_REPEATS
    )
    row = result.to_dict()
    holds = features.clearly_better(row, "random") and features.clearly_better(row, "pixel")
    measured = {
        "d": _r(row["d_accuracy"]),
        "untrained_d": _r(row["random_accuracy"]),
        "pixels": _r(row["pixel_accuracy"]),
    }
    expected = {"d_beats": "untrained D and pixels by more than the spread over repeats (at least 1 point)"}
    if recorded is not None:
        shown = next((r for r in recorded["results"] if r["n_labels"] == PROBE_LABELS), None)
        if shown is not None:
            on_page = {
                "d": shown["d_accuracy"],
                "untrained_d": shown["random_accuracy"],
                "pixels": shown["pixel_accuracy"],
            }
            expected["recorded_on_page"] = {k: _r(v) for k, v in on_page.items()}
            expected["tolerance"] = PROBE_RECORD_TOLERANCE
            holds = holds and all(abs(measured[k] - v) <= PROBE_RECORD_TOLERANCE for k, v in on_page.items())
    return Claim("discriminator.probe_beats_pixels_and_untrained", "discriminator", holds, measured, expected)


SALIENCY_DIGITS = 20  # the first test digits (the page's "real" source, index 0, 1, ...)
MIN_IMAGES_SHARE = 0.9  # of digits whose saliency per stroke pixel exceeds that per background pixel


def check_saliency(netD, images: torch.Tensor) -> Claim:
    """Guided backprop of real digits puts more saliency per pixel on the strokes than on the background."""
    ratios = []
    for image in images:
        saliency = features.guided_backprop(netD, image).abs()
        stroke = image.mean(0) > 0  # ink: above the middle of [-1, 1]
        ratios.append(float(saliency[stroke].mean() / saliency[~stroke].mean().clamp_min(1e-12)))
    share = float(np.mean([r > 1.0 for r in ratios]))
    median = float(np.median(ratios))
    return Claim(
        "discriminator.saliency_on_strokes",
        "discriminator",
        share >= MIN_IMAGES_SHARE,
        {"digits": len(ratios), "median_stroke_to_background": _r(median, 2), "share_above_1": _r(share, 3)},
        {"share_above_1": f">= {MIN_IMAGES_SHARE}"},
    )


# ---- the guidelines lab --------------------------------------------------------------------

RECIPE_FCD_MARGIN = 0.10  # the recipe's FCD may be up to 10 % above the best variant's


def check_recipe_best(results: dict) -> Claim:
    fcds = {n: r.metrics["fcd"] for n, r in results.items() if r.metrics and r.diverged_at is None}
    best_name = min(fcds, key=fcds.get)
    paper = fcds.get("paper", math.inf)
    holds = paper <= fcds[best_name] * (1 + RECIPE_FCD_MARGIN) and ablations.reached_digits(results["paper"].metrics)
    return Claim(
        "guidelines_lab.recipe_best_or_close",
        "guidelines_lab",
        holds,
        {
            "fcd": {n: _r(v, 1) for n, v in fcds.items()},
            "best": best_name,
            "recipe_draws_digits": ablations.reached_digits(results["paper"].metrics),
        },
        {"recipe_fcd": f"<= best × {1 + RECIPE_FCD_MARGIN:.2f}", "recipe_draws_digits": True},
    )


def verdict_matches_numbers(paper, broken, shown) -> bool:
    """Does the verdict ``shown`` (an ablations.Verdict) say what the numbers say? Re-derived from the
    numbers, not by calling ablations.verdict: a swapped or stale verdict fails."""
    recipe, variant = paper.metrics, broken.metrics
    if not ablations.reached_digits(recipe) or paper.diverged_at is not None:
        return shown.kind == "too_early"
    if broken.diverged_at is not None:
        return shown.kind == "diverged" and shown.params.get("step") == broken.diverged_at
    if variant is None:
        return shown.kind == "too_early"
    if shown.params.get("variant") != f"{variant['fcd']:.1f}" or shown.params.get("paper") != f"{recipe['fcd']:.1f}":
        return False
    ratio = variant["fcd"] / recipe["fcd"]
    if variant["classes_present"] < 9 or variant["mode_collapse"]:
        return shown.kind == "collapsed"
    return shown.kind == (
        "hurt" if ratio > ablations.HURT_RATIO else "helped" if ratio < ablations.HELPED_RATIO else "similar"
    )


def check_verdicts(results: dict, verdicts: dict) -> Claim:
    """Each broken guideline's verdict on the page (``verdicts``: name -> Verdict) matches its recorded numbers."""
    wrong = [n for n, v in verdicts.items() if not verdict_matches_numbers(results["paper"], results[n], v)]
    return Claim(
        "guidelines_lab.verdicts_match_the_record",
        "guidelines_lab",
        not wrong and bool(verdicts),
        {"verdicts": {n: v.kind for n, v in verdicts.items()}, "mismatched": wrong},
        {"each": "the kind the recorded FCD, classes and divergence give"},
    )


# ---- checkerboard ----------------------------------------------------------------------------


def check_overlap(k: int, s: int, even: bool) -> Claim:
    counts = overlap_counts(k, s, input_size=8)
    flat = int(counts.min()) == int(counts.max())
    return Claim(
        f"checkerboard.overlap_k{k}s{s}_{'even' if even else 'uneven'}",
        "checkerboard",
        flat == even and is_even_overlap(k, s) == even,
        {"min_count": int(counts.min()), "max_count": int(counts.max())},
        {"even": even},
    )


MAX_EVEN_ENERGY = 1e-3  # share of non-constant power at the stride's frequencies: an even route has none
MIN_UNEVEN_ENERGY = 0.05


def check_checkerboard_energy(sample: np.ndarray) -> Claim:
    """A generated digit upsampled ×2: k=3,s=2 puts power at the checkerboard frequency, k=4,s=2 and
    resize-then-convolve do not (checkerboard.checkerboard_energy)."""
    energy = {
        "k3s2": checkerboard_energy(deconv_upsample(sample, 3, 2), 2),
        "k4s2": checkerboard_energy(deconv_upsample(sample, 4, 2), 2),
        "resize_conv_k3": checkerboard_energy(resize_conv_upsample(sample, 2, 3, "nearest"), 2),
    }
    holds = (
        energy["k3s2"] >= MIN_UNEVEN_ENERGY
        and energy["k4s2"] <= MAX_EVEN_ENERGY
        and energy["resize_conv_k3"] <= MAX_EVEN_ENERGY
    )
    return Claim(
        "checkerboard.generated_image_energy",
        "checkerboard",
        holds,
        {k: _r(v, 6) for k, v in energy.items()},
        {"k3s2": f">= {MIN_UNEVEN_ENERGY}", "k4s2": f"<= {MAX_EVEN_ENERGY}", "resize_conv_k3": f"<= {MAX_EVEN_ENERGY}"},
    )


# ---- the model card --------------------------------------------------------------------------

CARD_FCD_TOLERANCE = 0.05  # relative
CARD_CONFIDENCE_TOLERANCE = 0.01


def card_figures(card_text: str) -> dict:
    """FCD, mean confidence and classes present as the model card (assets/pretrained/mnist_dcgan.md) states them."""

    def number(label):
        found = re.search(rf"\|\s*{re.escape(label)}\s*\|\s*([0-9.]+)", card_text)
        return float(found.group(1)) if found else None

    return {
        "fcd": number("Fréchet distance in the classifier's feature space"),
        "mean_confidence": number("mean classifier confidence"),
        "classes_present": number("digit classes present"),
    }


def check_model_card(netG, classifier, real_images, card_text: str) -> Claim:
    """The card's figures, remeasured as scripts/train_pretrained.py --card-only measures them."""

    stated = card_figures(card_text)
    report = quality_report(latent.generate(netG, latent.z_from_seed(0, netG.cfg.nz, n=1000)), real_images, classifier)
    measured = {
        "fcd": _r(report.fcd, 2),
        "mean_confidence": _r(report.mean_confidence, 3),
        "classes_present": report.classes_present,
    }
    holds = (
        None not in stated.values()
        and abs(report.fcd - stated["fcd"]) <= CARD_FCD_TOLERANCE * stated["fcd"]
        and abs(report.mean_confidence - stated["mean_confidence"]) <= CARD_CONFIDENCE_TOLERANCE
        and report.classes_present == stated["classes_present"]
    )
    return Claim(
        "pretrained.model_card_reproduces",
        "quality",
        holds,
        measured,
        {
            **stated,
            "tolerance": {
                "fcd": f"±{CARD_FCD_TOLERANCE:.0%}",
                "mean_confidence": f"±{CARD_CONFIDENCE_TOLERANCE}",
                "classes_present": "exact",
            },
        },
    )


# ---- the register ----------------------------------------------------------------------------


def evaluate() -> list[Claim]:
    """Every claim, measured on the shipped assets."""

    torch.manual_seed(0)
    checkpoint = load_checkpoint(PRETRAINED_PATH)
    netG, netD = checkpoint.build_generator().eval(), checkpoint.build_discriminator().eval()
    classifier = load_classifier()
    claims: list[Claim] = []

    presets = arithmetic_presets.presets_for_model(PRETRAINED_PATH)
    claims.append(check_preset_digits_match_the_page(presets))
    for key, preset in presets.items():
        claims.append(check_preset(netG, classifier, key, preset.groups, preset.digit_c))

    claims.append(check_linear_walk(netG, classifier))
    claims.append(check_slerp_shell(netG.cfg.nz))

    size, channels = netG.cfg.image_size, netG.cfg.channels
    test = load_images(DatasetSpec(source="bundled", split="test", image_size=size, channels=channels))
    train = load_images(DatasetSpec(source="bundled", split="train", image_size=size, channels=channels))
    claims.append(
        check_probe(
            netD,
            train.images,
            train.labels,
            test.images,
            test.labels,
            features.load_representation(features.REPRESENTATION_PATH),
        )
    )
    claims.append(check_saliency(netD, test.images[:SALIENCY_DIGITS]))

    recorded = ablations.load_results(ablations.SHIPPED_DIR)
    claims.append(check_recipe_best(recorded))
    claims.append(
        check_verdicts(
            recorded, {n: ablations.verdict(recorded["paper"], r) for n, r in recorded.items() if n != "paper"}
        )
    )

    claims += [check_overlap(3, 2, even=False), check_overlap(4, 2, even=True)]

    sample = (latent.generate(netG, latent.z_from_seed(0, netG.cfg.nz))[0, 0].numpy() + 1) / 2
    claims.append(check_checkerboard_energy(sample))

    card = PRETRAINED_PATH.with_suffix(".md").read_text(encoding="utf-8")
    claims.append(check_model_card(netG, classifier, test.images, card))
    return claims


def main(argv: list[str] | None = None, out: Callable[[str], None] = print) -> int:
    started, started_cpu = time.perf_counter(), time.process_time()
    claims = evaluate()
    for claim in claims:
        out(claim.line())
    failed = [c.claim for c in claims if not c.holds]
    out(
        json.dumps(
            {
                "summary": {
                    "claims": len(claims),
                    "hold": len(claims) - len(failed),
                    "failed": failed,
                    "seconds": round(time.perf_counter() - started, 1),
                    "cpu_seconds": round(time.process_time() - started_cpu, 1),
                }
            }
        )
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
