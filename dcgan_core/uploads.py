"""Safe extraction of a zip of training images (an upload from a browser).

Only image files come out, into a fresh folder under data_path("uploads", name).
The archive is refused outright (LabError, nothing left behind) for:
  - entries whose path climbs out with "..", or is absolute ("/x", "C:\\x", "\\\\server\\x");
  - symlink entries (Unix mode S_IFLNK in external_attr);
  - zip bombs: too many entries, too many bytes in total or in one entry, or an entry
    that compresses too well — checked from the central directory first, then again
    while streaming, so a header that lies about sizes cannot overflow the limits;
  - anything that is not a readable zip.
Entries that are merely unusable are skipped and reported: non-images, images that
PIL cannot decode, images with too many pixels (decompression bombs).
ZipFile.extractall is never used: every byte written goes through _store.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
import stat
import uuid
import warnings
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np
from PIL import Image

from dcgan_core.i18n import LabError
from dcgan_core.paths import data_path, inside_data_dir

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")
MiB = 2**20
CHUNK = 64 * 1024


@dataclass(frozen=True)
class ZipLimits:
    max_zip_bytes: int = 200 * MiB  # the archive itself (Streamlit's upload limit)
    max_entries: int = 20_000
    max_total_bytes: int = 1024 * MiB  # all entries, uncompressed
    max_entry_bytes: int = 32 * MiB  # one entry, uncompressed
    max_ratio: float = 200.0  # uncompressed / compressed, per entry ...
    ratio_min_bytes: int = 1 * MiB  # ... for entries at least this large (tiny files compress oddly)
    max_pixels: int = 4096 * 4096  # width × height of one image


@dataclass
class ExtractResult:
    folder: Path
    kept: int
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (entry name, reason catalog key)

    def skipped_counts(self) -> dict[str, int]:
        """How many entries were skipped for each reason key."""
        counts: dict[str, int] = {}
        for _, reason in self.skipped:
            counts[reason] = counts.get(reason, 0) + 1
        return counts


# Skip reasons (catalog keys).
SKIP_NOT_IMAGE = "data.skip_not_image"
SKIP_CORRUPT = "data.skip_corrupt_image"
SKIP_TOO_MANY_PIXELS = "data.skip_too_many_pixels"
SKIP_ENCRYPTED = "data.skip_encrypted"
SKIP_METADATA = "data.skip_metadata"

_DRIVE = re.compile(r"^[A-Za-z]:")
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def check_entry_name(name: str) -> None:
    """Refuse absolute paths and '..' in either slash style."""
    unified = name.replace("\\", "/")
    if unified.startswith("/") or _DRIVE.match(unified):
        raise LabError("data.zip_absolute_path", entry=name)
    if ".." in unified.split("/"):
        raise LabError("data.zip_path_traversal", entry=name)


def is_symlink(info: zipfile.ZipInfo) -> bool:
    return stat.S_ISLNK(info.external_attr >> 16)


def _read_source(source, limits: ZipLimits) -> bytes:
    """The archive's bytes from bytes, a path or an uploaded file object, at most max_zip_bytes."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    elif isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.is_file():
            raise LabError("data.zip_missing", path=str(path))
        with open(path, "rb") as file:
            data = file.read(limits.max_zip_bytes + 1)
    elif hasattr(source, "read"):  # e.g. Streamlit's UploadedFile
        data = source.read(limits.max_zip_bytes + 1)
    else:
        raise LabError("data.zip_not_zip")
    if len(data) > limits.max_zip_bytes:
        raise LabError("data.zip_too_large", limit_mib=round(limits.max_zip_bytes / MiB))
    return data


def _open_zip(data: bytes) -> zipfile.ZipFile:
    if not data or not zipfile.is_zipfile(io.BytesIO(data)):
        raise LabError("data.zip_not_zip")
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zlib.error, ValueError, OSError, EOFError, NotImplementedError) as err:
        raise LabError("data.zip_corrupt", reason=str(err) or type(err).__name__) from None


def _check_headers(archive: zipfile.ZipFile, limits: ZipLimits) -> list[zipfile.ZipInfo]:
    """Every refusal that the central directory alone can prove, before a byte is written."""
    infos = archive.infolist()
    if len(infos) > limits.max_entries:
        raise LabError("data.zip_too_many_entries", count=len(infos), limit=limits.max_entries)
    total = 0
    for info in infos:
        check_entry_name(info.filename)
        if is_symlink(info):
            raise LabError("data.zip_symlink", entry=info.filename)
        _check_entry_size(info.filename, info.file_size, info.compress_size, limits)
        total += info.file_size
        if total > limits.max_total_bytes:
            raise LabError("data.zip_bomb_total", limit_mib=round(limits.max_total_bytes / MiB))
    return infos


def _check_entry_size(name: str, size: int, compressed: int, limits: ZipLimits) -> None:
    if size > limits.max_entry_bytes:
        raise LabError("data.zip_bomb_entry", entry=name, limit_mib=round(limits.max_entry_bytes / MiB))
    if size >= limits.ratio_min_bytes and size > limits.max_ratio * max(compressed, 1):
        raise LabError(
            "data.zip_bomb_ratio", entry=name, ratio=round(size / max(compressed, 1)), limit=round(limits.max_ratio)
        )


def _read_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limits: ZipLimits, total_so_far: int) -> bytes:
    """The entry's bytes, counting them as they come: the header's sizes are not trusted."""
    chunks, size = [], 0
    with archive.open(info) as stream:
        while chunk := stream.read(CHUNK):
            size += len(chunk)
            if size > info.file_size:  # more than the header said: the header lies
                raise LabError("data.zip_header_lies", entry=info.filename, declared=info.file_size)
            _check_entry_size(info.filename, size, info.compress_size, limits)
            if total_so_far + size > limits.max_total_bytes:
                raise LabError("data.zip_bomb_total", limit_mib=round(limits.max_total_bytes / MiB))
            chunks.append(chunk)
    return b"".join(chunks)


def image_problem(data: bytes, max_pixels: int) -> str | None:
    """None if PIL can fully decode the image within the pixel limit, else a skip reason key."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
                if width * height > max_pixels:
                    return SKIP_TOO_MANY_PIXELS
                image.verify()
            with Image.open(io.BytesIO(data)) as image:  # verify() leaves the image unusable: reopen
                image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        return SKIP_TOO_MANY_PIXELS
    except Exception:  # PIL raises many kinds (OSError, SyntaxError, ValueError, struct.error, ...)
        return SKIP_CORRUPT
    return None


def _folder_name(dest_name: str | None, digest: str) -> str:
    name = _SAFE_NAME.sub("_", dest_name or "").strip("._")[:64]
    return name or f"upload-{digest}"


def _store(folder: Path, index: int, entry_name: str, data: bytes) -> None:
    """Write one image under folder with a flat, sanitised name (the zip's path is not reused)."""
    stem = _SAFE_NAME.sub("_", PurePosixPath(entry_name.replace("\\", "/")).name).strip("._") or "image"
    target = folder / f"{index:05d}_{stem[-80:]}"
    if not inside_data_dir(target) or target.parent != folder:
        raise LabError("data.zip_path_traversal", entry=entry_name)
    with open(target, "xb") as out:  # "x": never overwrite, never follow an existing link
        out.write(data)


def extract_image_zip(
    zip_bytes_or_path, dest_name: str | None = None, limits: ZipLimits = ZipLimits()
) -> ExtractResult:
    """Extract the images of a zip into data_path("uploads", name); see the module docstring."""
    data = _read_source(zip_bytes_or_path, limits)
    digest = hashlib.sha256(data).hexdigest()[:12]
    with _open_zip(data) as archive:
        infos = _check_headers(archive, limits)
        uploads = data_path("uploads")
        uploads.mkdir(exist_ok=True)
        final = data_path("uploads", _folder_name(dest_name, digest))
        staging = data_path("uploads", f".partial-{uuid.uuid4().hex}")
        staging.mkdir()
        kept, total, skipped = 0, 0, []
        try:
            for info in infos:
                if info.is_dir():
                    continue
                name = info.filename
                if name.startswith("__MACOSX/") or PurePosixPath(name.replace("\\", "/")).name.startswith("._"):
                    skipped.append((name, SKIP_METADATA))
                    continue
                if not name.lower().endswith(IMAGE_EXTENSIONS):
                    skipped.append((name, SKIP_NOT_IMAGE))
                    continue
                if info.flag_bits & 0x1:
                    skipped.append((name, SKIP_ENCRYPTED))
                    continue
                try:
                    content = _read_entry(archive, info, limits, total)
                except NotImplementedError:  # a compression method Python cannot read
                    skipped.append((name, SKIP_CORRUPT))
                    continue
                except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as err:
                    raise LabError("data.zip_corrupt", reason=str(err)) from None
                total += len(content)
                problem = image_problem(content, limits.max_pixels)
                if problem:
                    skipped.append((name, problem))
                    continue
                _store(staging, kept, name, content)
                kept += 1
            if kept == 0:
                raise LabError("data.zip_no_images", skipped=len(skipped))
            if final.exists():  # a fresh folder each time: replace an earlier upload of the same name
                shutil.rmtree(final)
            staging.rename(final)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    return ExtractResult(folder=final, kept=kept, skipped=skipped)


def survey_image_zip(zip_bytes_or_path, limits: ZipLimits = ZipLimits(), sample: int = 64) -> tuple[int, list]:
    """(how many entries look like images, up to ``sample`` of them decoded as arrays), without
    writing anything. The same refusals as extract_image_zip for what the headers prove."""
    data = _read_source(zip_bytes_or_path, limits)
    with _open_zip(data) as archive:
        infos = _check_headers(archive, limits)
        candidates = [
            info
            for info in infos
            if not info.is_dir()
            and not info.flag_bits & 0x1
            and info.filename.lower().endswith(IMAGE_EXTENSIONS)
            and not info.filename.startswith("__MACOSX/")
            and not PurePosixPath(info.filename.replace("\\", "/")).name.startswith("._")
        ]
        decoded, total = [], 0
        for info in candidates[:sample]:
            raw = _read_entry(archive, info, limits, total)
            total += len(raw)
            if image_problem(raw, limits.max_pixels) is None:
                with Image.open(io.BytesIO(raw)) as image:
                    decoded.append(np.asarray(image.convert("RGB") if image.mode not in ("L", "RGB") else image))
    return len(candidates), decoded
