"""Downloaded GIFs: readable on a projector, each frame numbered, no words (no font needed for Chinese)."""

import io

import numpy as np
from PIL import Image

from dcgan_core.viz.gif import MIN_LONG_SIDE, gif_bytes


def frames_of(data):
    with Image.open(io.BytesIO(data)) as gif:
        out = []
        for n in range(gif.n_frames):
            gif.seek(n)
            out.append((gif.convert("L").copy(), gif.info.get("duration")))
        return gif.size, out


def test_small_frames_are_scaled_to_a_readable_size_by_whole_multiples():
    frames = [Image.fromarray(np.full((20, 30, 3), v, np.uint8)) for v in (0, 120, 240)]
    size, shown = frames_of(gif_bytes(frames))
    assert size[0] == 30 * 20 >= MIN_LONG_SIDE  # 30 px × 20
    assert size[1] > 20 * 20  # the picture, and a band for the step below it
    picture = np.asarray(shown[1][0])[: 20 * 20]
    assert (np.abs(picture.astype(int) - 120) <= 2).all()  # nearest neighbour: no blur


def test_each_frame_shows_a_different_step_label():
    frames = (
        [Image.fromarray(np.full((40, 40, 3), 255, np.uint8))] * 1
        + [Image.fromarray(np.full((40, 40, 3), 200, np.uint8))] * 1
        + [Image.fromarray(np.full((40, 40, 3), 255, np.uint8))]
    )
    size, shown = frames_of(gif_bytes(frames))
    bands = [np.asarray(image)[40 * 15 :] for image, _ in shown]
    assert len(shown) == 3
    assert all(band.min() < 128 for band in bands)  # something is written
    assert not np.array_equal(bands[0], bands[2])  # "1/3" is not "3/3"


def test_repeated_pictures_merge_into_one_numbered_frame_shown_longer():
    a = Image.fromarray(np.zeros((30, 30, 3), np.uint8))
    b = Image.fromarray(np.full((30, 30, 3), 255, np.uint8))
    _, shown = frames_of(gif_bytes([a, a, b], duration_ms=100))
    assert [d for _, d in shown] == [200, 100]


def test_large_frames_keep_their_size_and_labels_can_be_given_or_left_out():
    big = Image.fromarray(np.zeros((300, 700, 3), np.uint8))
    size, _ = frames_of(gif_bytes([big, big], labels=[]))
    assert size == (700, 300)
    size, _ = frames_of(gif_bytes([big], labels=["1200"]))
    assert size[0] == 700 and size[1] > 300
