"""Zip uploads: good archives give exactly their images; each kind of malicious archive is
refused with its own message, leaving nothing behind, and nothing is ever written outside
the data folder."""

import io
import stat
import struct
import zipfile

import numpy as np
import pytest
from PIL import Image

from dcgan_core import paths, uploads
from dcgan_core.i18n import LabError
from dcgan_core.uploads import ZipLimits, extract_image_zip

MiB = 2**20


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    folder = (tmp_path / "data").resolve()
    folder.mkdir()
    monkeypatch.setattr(paths, "DATA_DIR", folder)
    return folder


def all_files(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def outside(tmp_path, data_dir):
    return [p for p in all_files(tmp_path) if not (tmp_path / p).resolve().is_relative_to(data_dir)]


def image_bytes(size=(8, 8), fmt="PNG", mode="RGB", seed=0):
    rng = np.random.default_rng(seed)
    shape = (size[1], size[0], 3) if mode == "RGB" else (size[1], size[0])
    buffer = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8), mode).save(buffer, fmt)
    return buffer.getvalue()


def make_zip(entries, compression=zipfile.ZIP_DEFLATED):
    """entries: name -> bytes, or name -> (bytes, ZipInfo attributes)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, content in entries.items():
            attrs = {}
            if isinstance(content, tuple):
                content, attrs = content
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = compression
            for key, value in attrs.items():
                setattr(info, key, value)
            archive.writestr(info, content)
    return buffer.getvalue()


def patch_headers(data: bytes, name: str, *, flags=None, file_size=None) -> bytes:
    """Rewrite one entry's fields in both its local header and its central-directory record."""
    data = bytearray(data)
    encoded = name.encode()
    local = data.find(b"PK\x03\x04")
    while data[local + 30 : local + 30 + len(encoded)] != encoded:
        local = data.find(b"PK\x03\x04", local + 1)
    central = data.find(b"PK\x01\x02")
    while data[central + 46 : central + 46 + len(encoded)] != encoded:
        central = data.find(b"PK\x01\x02", central + 1)
    if flags is not None:
        struct.pack_into("<H", data, local + 6, flags)
        struct.pack_into("<H", data, central + 8, flags)
    if file_size is not None:
        struct.pack_into("<I", data, local + 22, file_size)
        struct.pack_into("<I", data, central + 24, file_size)
    return bytes(data)


def refused(tmp_path, data_dir, zip_data, key, limits=ZipLimits()):
    """Assert the exact refusal, that no folder (final or partial) remains, and nothing outside."""
    with pytest.raises(LabError) as caught:
        extract_image_zip(zip_data, "attempt", limits=limits)
    assert caught.value.key == key, str(caught.value)
    uploads_dir = data_dir / "uploads"
    assert not uploads_dir.exists() or list(uploads_dir.iterdir()) == []
    assert outside(tmp_path, data_dir) == []
    return caught.value


# ---------------------------------------------------------------- good archives


def test_good_zip_keeps_images_and_reports_skips(tmp_path, data_dir):
    images = {
        "a.png": image_bytes(seed=1),
        "sub/dir/b.JPG": image_bytes(fmt="JPEG", seed=2),
        "c.bmp": image_bytes(fmt="BMP", seed=3),
        "d.gif": image_bytes(fmt="GIF", mode="L", seed=4),
        "e.webp": image_bytes(fmt="WEBP", seed=5),
    }
    broken = image_bytes(seed=6)[:40]
    zip_data = make_zip(
        {
            **images,
            "notes.txt": b"hello",
            "folder/": b"",
            "broken.png": broken,
            "__MACOSX/._a.png": b"\x00\x05\x16\x07junk",
        }
    )
    result = extract_image_zip(zip_data, "my set")
    assert result.kept == 5
    assert sorted(result.skipped) == sorted(
        [
            ("notes.txt", "data.skip_not_image"),
            ("broken.png", "data.skip_corrupt_image"),
            ("__MACOSX/._a.png", "data.skip_metadata"),
        ]
    )
    assert result.folder == data_dir / "uploads" / "my_set"
    written = sorted(result.folder.iterdir())
    assert len(written) == 5 and all(p.parent == result.folder for p in written)
    assert sorted(p.read_bytes() for p in written) == sorted(images.values())
    assert outside(tmp_path, data_dir) == []
    assert [p.name for p in (data_dir / "uploads").iterdir()] == ["my_set"]  # no staging folder left


def test_reupload_replaces_folder_and_default_name_is_content_hash(data_dir):
    first = extract_image_zip(make_zip({"a.png": image_bytes(seed=1), "b.png": image_bytes(seed=2)}), "set")
    second = extract_image_zip(make_zip({"c.png": image_bytes(seed=3)}), "set")
    assert first.folder == second.folder and len(list(second.folder.iterdir())) == 1
    zip_data = make_zip({"c.png": image_bytes(seed=3)})
    unnamed = extract_image_zip(zip_data)
    assert unnamed.folder.parent == data_dir / "uploads" and unnamed.folder.name.startswith("upload-")
    assert extract_image_zip(zip_data).folder == unnamed.folder


def test_dest_name_cannot_escape(tmp_path, data_dir):
    result = extract_image_zip(make_zip({"a.png": image_bytes()}), "../../escape")
    assert result.folder.parent == data_dir / "uploads"
    assert outside(tmp_path, data_dir) == []


def test_zip_from_path_and_file_object(tmp_path, data_dir):
    zip_data = make_zip({"a.png": image_bytes()})
    path = tmp_path / "in.zip"
    path.write_bytes(zip_data)
    assert extract_image_zip(path, "p").kept == 1
    assert extract_image_zip(io.BytesIO(zip_data), "f").kept == 1


# ---------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    "name", ["../../evil.png", "imgs/../../../evil.png", "..\\..\\evil.png", "ok/..\\..\\evil.png"]
)
def test_path_traversal_refused(tmp_path, data_dir, name):
    zip_data = make_zip({"fine.png": image_bytes(), name: image_bytes(seed=9)})
    err = refused(tmp_path, data_dir, zip_data, "data.zip_path_traversal")
    assert err.params["entry"] == name


@pytest.mark.parametrize(
    "name", ["/tmp/evil.png", "C:\\evil.png", "c:/evil.png", "\\\\server\\share\\evil.png", "\\evil.png"]
)
def test_absolute_path_refused(tmp_path, data_dir, name):
    zip_data = make_zip({"fine.png": image_bytes(), name: image_bytes(seed=9)})
    refused(tmp_path, data_dir, zip_data, "data.zip_absolute_path")


def test_symlink_refused(tmp_path, data_dir):
    link = (b"/etc/passwd", {"external_attr": (stat.S_IFLNK | 0o777) << 16, "create_system": 3})
    zip_data = make_zip({"fine.png": image_bytes(), "link.png": link})
    refused(tmp_path, data_dir, zip_data, "data.zip_symlink")


def test_too_many_entries_refused(tmp_path, data_dir):
    zip_data = make_zip({f"{j}.png": image_bytes(seed=j) for j in range(6)})
    err = refused(tmp_path, data_dir, zip_data, "data.zip_too_many_entries", ZipLimits(max_entries=5))
    assert err.params == {"count": 6, "limit": 5}


def test_total_uncompressed_size_refused(tmp_path, data_dir):
    # Three 400 KiB entries: each small enough alone, 1.2 MiB together.
    zip_data = make_zip({f"{j}.png": bytes(400 * 1024) for j in range(3)})
    refused(tmp_path, data_dir, zip_data, "data.zip_bomb_total", ZipLimits(max_total_bytes=1 * MiB))


def test_entry_size_refused(tmp_path, data_dir):
    incompressible = np.random.default_rng(0).bytes(int(1.5 * MiB))
    zip_data = make_zip({"big.png": incompressible})
    refused(tmp_path, data_dir, zip_data, "data.zip_bomb_entry", ZipLimits(max_entry_bytes=1 * MiB))


def test_compression_ratio_refused(tmp_path, data_dir):
    zip_data = make_zip({"fine.png": image_bytes(), "bomb.png": bytes(4 * MiB)})  # zeros deflate ~1000:1
    err = refused(tmp_path, data_dir, zip_data, "data.zip_bomb_ratio")
    assert err.params["entry"] == "bomb.png" and err.params["ratio"] > 200


def test_header_understating_size_is_refused_and_cleaned_up(tmp_path, data_dir):
    # The header claims 1000 bytes (no ratio check at that size) for 3 MiB of zeros, and the entry
    # comes after two good images, so the refusal happens mid-extraction: zipfile stops at the
    # declared size and the CRC then fails; the partial folder must be removed.
    zip_data = make_zip({"a.png": image_bytes(seed=1), "b.png": image_bytes(seed=2), "liar.png": bytes(3 * MiB)})
    zip_data = patch_headers(zip_data, "liar.png", file_size=1000)
    refused(tmp_path, data_dir, zip_data, "data.zip_corrupt")


class _FakeArchive:
    """An archive whose stream yields more bytes than its header states."""

    def __init__(self, payload):
        self.payload = payload

    def open(self, info):
        return io.BytesIO(self.payload)


def test_streaming_counts_bytes_instead_of_trusting_headers():
    info = zipfile.ZipInfo("liar.png")
    info.file_size, info.compress_size = 1000, 900
    with pytest.raises(LabError) as caught:
        uploads._read_entry(_FakeArchive(bytes(200_000)), info, ZipLimits(), 0)
    assert caught.value.key == "data.zip_header_lies"
    # Honest header, but the running total across entries passes the limit mid-stream.
    info.file_size, info.compress_size = 200_000, 200_000
    with pytest.raises(LabError) as caught:
        uploads._read_entry(_FakeArchive(bytes(200_000)), info, ZipLimits(max_total_bytes=MiB), MiB - 100_000)
    assert caught.value.key == "data.zip_bomb_total"
    assert uploads._read_entry(_FakeArchive(bytes(200_000)), info, ZipLimits(), 0) == bytes(200_000)


def test_crc_damage_mid_archive_removes_partial_folder(tmp_path, data_dir):
    good = {"a.png": image_bytes(seed=1), "b.png": image_bytes(seed=2)}
    zip_data = bytearray(make_zip({**good, "c.png": image_bytes(seed=3)}, compression=zipfile.ZIP_STORED))
    offset = zipfile.ZipFile(io.BytesIO(bytes(zip_data))).getinfo("c.png").header_offset + 30 + len("c.png") + 20
    zip_data[offset] ^= 0xFF  # one byte of c.png's stored data
    refused(tmp_path, data_dir, bytes(zip_data), "data.zip_corrupt")


@pytest.mark.parametrize("content", [b"", b"hello, not a zip", image_bytes()])
def test_not_a_zip_refused(tmp_path, data_dir, content):
    refused(tmp_path, data_dir, content, "data.zip_not_zip")


def test_truncated_zip_refused(tmp_path, data_dir):
    zip_data = make_zip({"a.png": image_bytes(), "b.png": image_bytes(seed=2)})
    refused(tmp_path, data_dir, zip_data[: len(zip_data) // 2], "data.zip_not_zip")


def test_damaged_central_directory_refused(tmp_path, data_dir):
    zip_data = bytearray(make_zip({"a.png": image_bytes()}))
    central = zip_data.find(b"PK\x01\x02")
    zip_data[central : central + 4] = b"XXXX"
    refused(tmp_path, data_dir, bytes(zip_data), "data.zip_corrupt")


def test_oversized_archive_refused(tmp_path, data_dir):
    zip_data = make_zip({"a.png": image_bytes(size=(64, 64))})
    refused(tmp_path, data_dir, zip_data, "data.zip_too_large", ZipLimits(max_zip_bytes=len(zip_data) - 1))


def test_zip_with_no_usable_images_refused(tmp_path, data_dir):
    err = refused(tmp_path, data_dir, make_zip({"a.txt": b"x", "b.png": b"not a png"}), "data.zip_no_images")
    assert err.params == {"skipped": 2}


# ---------------------------------------------------------------- skipped, not refused


def test_too_many_pixels_skipped(data_dir):
    zip_data = make_zip({"small.png": image_bytes(size=(10, 10)), "large.png": image_bytes(size=(200, 100))})
    result = extract_image_zip(zip_data, "px", limits=ZipLimits(max_pixels=100 * 100))
    assert result.kept == 1 and result.skipped == [("large.png", "data.skip_too_many_pixels")]


def test_pil_decompression_bomb_error_and_warning_skipped(data_dir, monkeypatch):
    # PIL warns above MAX_IMAGE_PIXELS and raises above twice that: both must mean "skip".
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    zip_data = make_zip(
        {
            "ok.png": image_bytes(size=(30, 30)),  # 900 pixels
            "warns.png": image_bytes(size=(40, 40)),  # 1,600: warning
            "raises.png": image_bytes(size=(100, 100)),  # 10,000: error
        }
    )
    result = extract_image_zip(zip_data, "bomb", limits=ZipLimits(max_pixels=10**8))
    assert result.kept == 1
    assert sorted(result.skipped) == [
        ("raises.png", "data.skip_too_many_pixels"),
        ("warns.png", "data.skip_too_many_pixels"),
    ]


def test_encrypted_entry_skipped(data_dir):
    zip_data = make_zip({"ok.png": image_bytes(), "secret.png": image_bytes(seed=2)})
    zip_data = patch_headers(zip_data, "secret.png", flags=0x1)
    result = extract_image_zip(zip_data, "enc")
    assert result.kept == 1 and result.skipped == [("secret.png", "data.skip_encrypted")]


def test_extractall_is_never_used(monkeypatch, data_dir):
    def forbidden(*args, **kwargs):
        raise AssertionError("extractall called")

    monkeypatch.setattr(zipfile.ZipFile, "extractall", forbidden)
    monkeypatch.setattr(zipfile.ZipFile, "extract", forbidden)
    assert extract_image_zip(make_zip({"a.png": image_bytes()}), "x").kept == 1
