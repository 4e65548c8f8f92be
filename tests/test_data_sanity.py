"""The data rules a run starts by: one batch at least (refused), 500 images advised (warned),
channels as the images have them."""

import io
import zipfile

import numpy as np
import pytest
from PIL import Image

from dcgan_core.data_sanity import (
    MIN_IMAGES_ADVISED,
    channels_of,
    is_grey,
    require_one_batch,
    size_check,
    survey_folder,
    survey_zip,
)
from dcgan_core.i18n import LabError, translate


@pytest.mark.parametrize(
    "count, batch, verdict",
    [
        (0, 8, "refuse"),
        (7, 8, "refuse"),
        (8, 8, "warn"),
        (63, 64, "refuse"),
        (64, 64, "warn"),
        (MIN_IMAGES_ADVISED - 1, 64, "warn"),
        (MIN_IMAGES_ADVISED, 64, "ok"),
        (60_000, 128, "ok"),
        (MIN_IMAGES_ADVISED + 10, MIN_IMAGES_ADVISED + 20, "refuse"),
    ],
)
def test_size_check_at_its_boundaries(count, batch, verdict):
    assert size_check(count, batch).verdict == verdict


def test_the_refusal_says_how_many_there_are_and_how_many_are_needed():
    check = size_check(5, 64)
    assert check.key == "data.too_few_for_batch" and check.params == {"count": 5, "batch": 64}
    with pytest.raises(LabError) as err:
        require_one_batch(5, 64)
    for lang in ("en", "zh"):
        text = err.value.message(lang)
        assert "5" in text and "64" in text
    require_one_batch(64, 64)  # one full batch is enough to train


def test_the_warning_names_the_count_and_the_advice():
    check = size_check(120, 64)
    assert check.key == "data.few_images" and check.params == {"count": 120, "advised": MIN_IMAGES_ADVISED}
    assert "120" in translate(check.key, "en", **check.params)


def test_grey_and_colour_images():
    rng = np.random.default_rng(0)
    grey = rng.integers(0, 256, (8, 8), dtype=np.uint8)
    assert is_grey(grey) and is_grey(grey[..., None])
    assert is_grey(np.stack([grey] * 3, axis=-1))  # a grey picture saved as RGB
    colour = np.stack([grey] * 3, axis=-1)
    colour[0, 0, 2] = (int(colour[0, 0, 2]) + 1) % 256  # one pixel with a tint is colour
    assert not is_grey(colour)
    rgba = np.concatenate([np.stack([grey] * 3, axis=-1), np.full((8, 8, 1), 7, np.uint8)], axis=-1)
    assert is_grey(rgba)  # transparency is not colour
    assert channels_of([grey, grey]) == 1
    assert channels_of([grey, colour]) == 3
    assert channels_of([]) is None


def image_zip(modes: list[str], extra: dict | None = None) -> bytes:
    rng = np.random.default_rng(2)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for i, mode in enumerate(modes):
            shape = (10, 10) if mode == "L" else (10, 10, 3)
            png = io.BytesIO()
            Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8), mode=mode).save(png, format="PNG")
            archive.writestr(f"pics/{i}.png", png.getvalue())
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_survey_of_a_zip_counts_images_and_finds_their_channels():
    survey = survey_zip(image_zip(["L"] * 5, {"readme.txt": b"hi", "__MACOSX/._0.png": b"x"}))
    assert (survey.count, survey.channels) == (5, 1)
    assert survey_zip(image_zip(["L", "L", "RGB"])).channels == 3


def test_survey_of_a_zip_refuses_what_extraction_refuses():
    with pytest.raises(LabError) as err:
        survey_zip(image_zip(["L"], {"../evil.png": b"x"}))
    assert err.value.key == "data.zip_path_traversal"
    with pytest.raises(LabError):
        survey_zip(b"not a zip")


def test_survey_of_a_folder(tmp_path):
    rng = np.random.default_rng(3)
    for i in range(3):
        Image.fromarray(rng.integers(0, 256, (6, 6, 3), dtype=np.uint8)).save(tmp_path / f"{i}.png")
    (tmp_path / "notes.txt").write_text("no image")
    survey = survey_folder(tmp_path)
    assert (survey.count, survey.channels) == (3, 3)
    assert survey_folder(tmp_path / "missing").count == 0
