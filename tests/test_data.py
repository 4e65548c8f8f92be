"""The data layer: bundled MNIST, conversion to the model's range (checked against PIL and
torch.nn.functional.interpolate), folder and zip sources, and the offline fallback."""

import io
import urllib.error
import zipfile

import numpy as np
import pytest
import torch
import torch.nn.functional as F
import torchvision.datasets
from PIL import Image
from torchvision.utils import make_grid

from dcgan_core import data, paths
from dcgan_core.data import (
    DatasetSpec,
    dataset_bytes,
    estimated_bytes,
    load_bundled_mnist,
    load_images,
    load_images_or_bundled,
    sample_grid,
    tensor_to_uint8,
    to_model_range,
)
from dcgan_core.i18n import LabError


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    folder = (tmp_path / "data").resolve()
    folder.mkdir()
    monkeypatch.setattr(paths, "DATA_DIR", folder)
    return folder


def random_uint8(shape, seed=0):
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


# ---------------------------------------------------------------- bundled MNIST


@pytest.mark.parametrize("split, count", [("train", 12000), ("test", 2000)])
def test_bundled_mnist_counts_and_balance(split, count):
    images, labels = load_bundled_mnist(split)
    assert images.shape == (count, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (count,) and labels.dtype == np.int64
    assert np.bincount(labels, minlength=10).tolist() == [count // 10] * 10
    assert images.max() == 255 and images.min() == 0
    # MNIST digits are white strokes on black: the border is (nearly) all zero
    assert images[:, 0, :].mean() < 1 and images[:, 10:18, 10:18].mean() > 40


def test_bundled_asset_is_small_and_has_provenance():
    import json

    assert data.BUNDLED_MNIST.stat().st_size <= 4 * 2**20
    with np.load(data.BUNDLED_MNIST, allow_pickle=False) as npz:
        provenance = json.loads(npz["provenance"].item())
    assert "LeCun" in provenance["attribution"] and "CC BY-SA 3.0" in provenance["attribution"]
    assert provenance["train_count"] == 12000 and provenance["test_count"] == 2000
    assert len(provenance["source_md5"]) == 4


@pytest.mark.parametrize("size", [32, 64])
@pytest.mark.parametrize("channels", [1, 3])
def test_bundled_images_in_model_range(size, channels):
    images, labels = load_bundled_mnist("test")
    loaded = load_images(DatasetSpec("bundled", size, channels, split="test", limit=300))
    assert loaded.images.shape == (300, channels, size, size)
    assert loaded.images.dtype == torch.float32 and loaded.images.device.type == "cpu"
    assert loaded.images.min() >= -1 and loaded.images.max() <= 1
    assert loaded.images.min() == -1 and loaded.images.max() > 0.99
    assert torch.equal(loaded.labels, torch.from_numpy(labels[:300].copy()))
    # reference: straight from the uint8 digits with torch's own interpolate
    x = torch.from_numpy(images[:300].copy()).float()[:, None] / 255
    x = F.interpolate(x, size=(size, size), mode="bilinear", antialias=True, align_corners=False) * 2 - 1
    assert torch.allclose(loaded.images, x.expand(-1, channels, -1, -1), atol=1e-6)
    if channels == 3:
        assert torch.equal(loaded.images[:, 0], loaded.images[:, 2])
    assert dataset_bytes(loaded) == loaded.images.numel() * 4 + 300 * 8
    assert estimated_bytes(300, size, channels) == loaded.images.numel() * 4


def test_limit_and_bad_specs():
    assert len(load_images(DatasetSpec(limit=5))) == 5
    for spec, key in [
        (DatasetSpec(limit=0), "data.bad_limit"),
        (DatasetSpec(split="valid"), "data.bad_split"),
        (DatasetSpec(source="imagenet"), "data.bad_source"),
        (DatasetSpec(channels=2), "errors.channels"),
        (DatasetSpec(source="folder"), "data.path_required"),
    ]:
        with pytest.raises(LabError) as caught:
            load_images(spec)
        assert caught.value.key == key


# ---------------------------------------------------------------- conversion


def test_downscale_matches_pil_antialiased_bilinear():
    rgb = random_uint8((2, 96, 96, 3))
    ours = to_model_range(rgb, 40, 3)
    for n in range(2):
        pil = np.asarray(Image.fromarray(rgb[n]).resize((40, 40), Image.BILINEAR), dtype=np.float32)
        expected = torch.from_numpy(pil).permute(2, 0, 1) / 127.5 - 1
        assert (ours[n] - expected).abs().max() < 3 / 127.5  # PIL rounds to uint8 on the way


def test_layouts_grey_to_rgb_and_rgb_to_grey():
    rgb = random_uint8((3, 20, 20, 3), seed=1)
    nchw = torch.from_numpy(rgb).permute(0, 3, 1, 2)
    assert torch.equal(to_model_range(rgb, 20, 3), to_model_range(nchw, 20, 3))
    assert torch.allclose(to_model_range(rgb, 20, 3), nchw.float() / 127.5 - 1, atol=1e-6)
    grey = to_model_range(rgb, 20, 1)
    pil_grey = np.stack([np.asarray(Image.fromarray(img).convert("L")) for img in rgb]).astype(np.float32)
    assert (grey[:, 0] - (torch.from_numpy(pil_grey) / 127.5 - 1)).abs().max() <= 1.01 / 127.5
    rgba = np.concatenate([rgb, np.zeros((3, 20, 20, 1), np.uint8)], axis=-1)
    assert torch.equal(to_model_range(rgba, 20, 3), to_model_range(rgb, 20, 3))
    floats = torch.from_numpy(rgb).permute(0, 3, 1, 2).float() / 255
    assert torch.allclose(to_model_range(floats, 20, 3), to_model_range(rgb, 20, 3), atol=1e-6)
    with pytest.raises(LabError):
        to_model_range(np.zeros((2, 5, 5, 2), np.uint8), 8, 1)


def test_non_square_is_center_cropped():
    wide = random_uint8((1, 10, 30), seed=2)
    assert torch.equal(to_model_range(wide, 10, 1), to_model_range(wide[:, :, 10:20], 10, 1))


def test_uint8_round_trip_and_grid():
    original = random_uint8((10, 16, 16, 3), seed=3)
    x = to_model_range(original, 16, 3)
    assert np.array_equal(tensor_to_uint8(x), original)
    assert tensor_to_uint8(x[0]).shape == (1, 16, 16, 3)
    grid = sample_grid(x, nrow=4, padding=2)
    reference = make_grid((x + 1) / 2, nrow=4, padding=2, pad_value=1.0)
    assert grid.shape == (3 * 18 + 2, 4 * 18 + 2, 3) and grid.dtype == np.uint8
    assert np.array_equal(grid[2:18, 2:18], original[0])
    assert np.abs(grid.astype(int) - (reference * 255).round().permute(1, 2, 0).numpy()).max() == 0
    grey_grid = sample_grid(to_model_range(original, 16, 1)[:3])
    assert grey_grid.shape == (18 + 2, 3 * 18 + 2, 3)


# ---------------------------------------------------------------- folder and zip sources


def write_image(path, array):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


def test_folder_source(tmp_path, data_dir):
    folder = tmp_path / "pictures"
    a, b = random_uint8((24, 24, 3), 1), random_uint8((48, 64, 3), 2)
    write_image(folder / "a.png", a)
    write_image(folder / "nested" / "deeper" / "b.BMP", b)
    write_image(folder / "c.png", np.dstack([random_uint8((24, 24, 3), 3), np.full((24, 24), 255, np.uint8)]))
    (folder / "broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    (folder / "readme.txt").write_text("hello")
    loaded = load_images(DatasetSpec("folder", 16, 3, path=str(folder)))
    assert loaded.images.shape == (3, 3, 16, 16) and loaded.labels is None
    assert loaded.notice_key == "data.folder_skipped" and loaded.notice_params == {"kept": 3, "skipped": 2}
    order = sorted([folder / "a.png", folder / "c.png", folder / "nested" / "deeper" / "b.BMP"])
    expected = {folder / "a.png": a, folder / "nested" / "deeper" / "b.BMP": b[:, 8:56]}
    for index, path in enumerate(order):
        if path in expected:
            assert torch.allclose(loaded.images[index], to_model_range(expected[path][None], 16, 3)[0], atol=1e-6)
    grey = load_images(DatasetSpec("folder", 16, 1, path=str(folder), limit=2))
    assert grey.images.shape == (2, 1, 16, 16)


def test_folder_errors(tmp_path, data_dir):
    cases = [(tmp_path / "nope", "data.folder_missing")]
    (tmp_path / "file.png").write_bytes(b"x")
    cases.append((tmp_path / "file.png", "data.folder_not_dir"))
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    (tmp_path / "empty" / "sub" / "x.txt").write_text("x")
    cases.append((tmp_path / "empty", "data.folder_empty"))
    for path, key in cases:
        with pytest.raises(LabError) as caught:
            load_images(DatasetSpec("folder", 32, 1, path=str(path)))
        assert caught.value.key == key
        assert str(path) in str(caught.value)


def test_zip_source(tmp_path, data_dir):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for j in range(4):
            image = io.BytesIO()
            Image.fromarray(random_uint8((20, 20), j)).save(image, "PNG")
            archive.writestr(f"digits/{j}.png", image.getvalue())
        archive.writestr("digits/labels.csv", "0,1,2,3")
    path = tmp_path / "digits.zip"
    path.write_bytes(buffer.getvalue())
    loaded = load_images(DatasetSpec("zip", 32, 1, path=str(path)))
    assert loaded.images.shape == (4, 1, 32, 32)
    assert loaded.notice_key == "data.zip_summary"
    assert loaded.notice_params == {"kept": 4, "skipped": 1, "not_image": 1, "corrupt": 0, "too_big": 0}
    assert (data_dir / "uploads" / "digits").is_dir()


# ---------------------------------------------------------------- torchvision downloads


class Offline:
    def __init__(self, root, train=True, download=False, **kwargs):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")


def test_offline_download_fails_with_sentence(data_dir, monkeypatch):
    monkeypatch.setattr(torchvision.datasets, "FashionMNIST", Offline)
    with pytest.raises(LabError) as caught:
        load_images(DatasetSpec("fashion_mnist"))
    err = caught.value
    assert err.key == "data.download_failed" and err.params["name"] == "Fashion-MNIST"
    assert "offline" in str(err) and "bundled" in str(err)
    assert "离线" in err.message("zh")


def test_offline_falls_back_to_bundled(data_dir, monkeypatch):
    monkeypatch.setattr(torchvision.datasets, "MNIST", Offline)
    loaded = load_images_or_bundled(DatasetSpec("mnist", 32, 1, limit=50))
    assert loaded.notice_key == "data.fallback_bundled" and loaded.notice_params["name"] == "MNIST"
    reference = load_images(DatasetSpec("bundled", 32, 1, limit=50))
    assert torch.equal(loaded.images, reference.images)
    with pytest.raises(LabError) as caught:  # other errors are not hidden by the fallback
        load_images_or_bundled(DatasetSpec("folder", path=str(data_dir / "missing")))
    assert caught.value.key == "data.folder_missing"


def test_torchvision_dataset_goes_to_data_folder_and_is_converted(data_dir, monkeypatch):
    seen = {}
    pixels = random_uint8((6, 32, 32, 3), 5)

    class FakeCIFAR:
        def __init__(self, root, train=True, download=False, **kwargs):
            seen.update(root=root, train=train, download=download)
            self.data, self.targets = pixels, [3, 1, 4, 1, 5, 9]

    monkeypatch.setattr(torchvision.datasets, "CIFAR10", FakeCIFAR)
    loaded = load_images(DatasetSpec("cifar10", 32, 3, split="test", limit=4))
    assert seen == {"root": str(data_dir / "datasets"), "train": False, "download": True}
    assert loaded.name == "CIFAR-10" and loaded.labels.tolist() == [3, 1, 4, 1]
    assert torch.allclose(
        loaded.images, torch.from_numpy(pixels[:4]).permute(0, 3, 1, 2).float() / 127.5 - 1, atol=1e-6
    )
