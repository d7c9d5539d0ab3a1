"""Hand landmarks in a `.npz`: `x` float [N, 21, 3] (MediaPipe's x, y in 0-1, z depth), `y` [N].

Loaded with `allow_pickle=False`: an archive holding Python objects is refused, never
unpickled. The landmarks go into the index's `landmarks` table (method `dataset`), so the
landmark models train from them directly; there are no images (`ds.has_images` is False).
`row` is the 1-based entry number (`x[row - 1]`).
"""
from __future__ import annotations

import hashlib
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np

from fingerspell.data.formats.base import Format, FormatData, default_name, register_format, sort_classes
from fingerspell.data.index import SampleRecord
from fingerspell.data.names import class_name, fold_class
from fingerspell.errors import DatasetFormatError


# What numpy and zipfile raise for a truncated or corrupt archive (an empty file is EOFError,
# a damaged member zlib.error, a header that does not parse SyntaxError, a declared shape too
# large MemoryError).
_UNREADABLE = (OSError, EOFError, KeyError, SyntaxError, MemoryError, struct.error, zipfile.BadZipFile, zlib.error)


def _npz_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path] if path.suffix.lower() == ".npz" else []
    return sorted(p for p in path.glob("*.npz") if p.is_file())


def _keys(file: Path) -> set[str]:
    try:
        with np.load(file, allow_pickle=False) as archive:
            return set(archive.files)
    except (ValueError, *_UNREADABLE):
        return set()


@register_format("landmarks")
class LandmarksFormat(Format):
    description = "hand landmarks .npz: x [N, 21, 3] float, y [N] letters"
    priority = 15

    def detect(self, path: Path) -> str | None:
        files = [f for f in _npz_files(path) if {"x", "y"} <= _keys(f)]
        if len(files) == 1:
            return f"{files[0].name} holds landmark arrays x and y"
        return None

    def read(self, path: Path, *, group_pattern: str | None = None) -> FormatData:
        path = Path(path)
        files = _npz_files(path) if path.exists() else []
        if len(files) != 1:
            raise DatasetFormatError(
                f"{path}: expected one .npz file, found {len(files)}" if files else f"{path}: no .npz file"
            )
        file = files[0]
        root = file.parent
        try:
            with np.load(file, allow_pickle=False) as archive:
                if not {"x", "y"} <= set(archive.files):
                    raise DatasetFormatError(f"{file}: needs arrays `x` (landmarks) and `y` (labels), has {sorted(archive.files)}")
                points = archive["x"]
                labels = archive["y"]
        except ValueError as exc:  # object arrays need pickle: refused
            raise DatasetFormatError(f"{file}: cannot load without pickle ({exc})") from None
        except _UNREADABLE as exc:
            raise DatasetFormatError(f"{file}: not a readable .npz ({type(exc).__name__}: {str(exc)[:100]})") from None
        if points.ndim == 2 and points.shape[1] == 63:
            points = points.reshape(-1, 21, 3)
        if points.ndim != 3 or points.shape[1:] != (21, 3) or not np.issubdtype(points.dtype, np.floating):
            raise DatasetFormatError(f"{file}: `x` must be float [N, 21, 3], got {points.dtype} {list(points.shape)}")
        if labels.ndim != 1 or len(labels) != len(points):
            raise DatasetFormatError(f"{file}: `y` must be [N] with N = {len(points)}, got {list(labels.shape)}")
        if len(points) == 0:
            raise DatasetFormatError(f"{file}: no samples")
        points = points.astype(np.float32)
        finite = np.isfinite(points).all(axis=(1, 2))
        if not finite.all():
            k = int(np.flatnonzero(~finite)[0])
            raise DatasetFormatError(f"{file}: entry {k + 1} (x[{k}]) has NaN or infinite coordinates")
        names = _labels(labels.tolist(), file)
        source = file.relative_to(root).as_posix()

        def records():
            for i, (label, landmark) in enumerate(zip(names, points)):
                yield SampleRecord(
                    source=source, label=label, row=i + 1, hash=hashlib.sha256(landmark.tobytes()).hexdigest(),
                    landmarks=landmark,
                )

        return FormatData(
            root=root, classes=sort_classes(names), records=records(), default_name=default_name(path),
            extra_meta={"landmark_file": source},
        )


def _labels(values: list, file: Path) -> list[str]:
    """Each `y` value as a checked class name (each distinct value checked once)."""
    checked: dict[str, str] = {}
    names = []
    for k, value in enumerate(values):
        text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
        if text not in checked:
            if not fold_class(text):
                raise DatasetFormatError(f"{file}: entry {k + 1} (y[{k}]) has an empty label")
            checked[text] = class_name(text, f"{file}: entry {k + 1} (y[{k}])")
        names.append(checked[text])
    return names
