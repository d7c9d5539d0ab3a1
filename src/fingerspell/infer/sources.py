"""One function that decides what a prediction source is and streams its frames.

`open_source(spec)` accepts an image file, a folder (searched recursively for images), a glob
pattern, a video file, a camera index (an int or a string of digits), a numpy array (one
image) or a list of image paths. Every source yields `Frame`s one at a time, so a folder of
10,000 images or an hour of video never sits in memory.
"""
from __future__ import annotations

import glob as globlib
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from fingerspell.data.images import IMAGE_SUFFIXES, read_image
from fingerspell.errors import CorruptImageError, SourceError

# OpenCV and FFmpeg print their own warnings (V4L "can't open camera by index", "moov atom
# not found") before we can say the same thing in one clear line: keep them quiet.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
try:
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
except AttributeError:  # builds without the logging module
    pass

VIDEO_SUFFIXES = {".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv", ".flv", ".mjpeg", ".y4m"}
GLOB_CHARS = set("*?[")


@dataclass
class Frame:
    """One picture from a source.

    `image` is HxWx3 RGB uint8, or None when the file could not be decoded (then `error` says
    why: folders keep going past a bad file and report it). `timestamp` is seconds from the
    start of a video / camera stream (None for still images).
    """

    image: np.ndarray | None
    source: str
    index: int
    timestamp: float | None
    decode_ms: float = 0.0
    error: str | None = None


class Source:
    """Base class: `kind`, a `description`, `len()` where known, iteration over `Frame`s."""

    kind = "source"
    is_stream = False  # video / camera: frames in time order, smoothing and spelling apply
    fps: float | None = None

    def __iter__(self) -> Iterator[Frame]:
        raise NotImplementedError

    def __len__(self) -> int:
        raise TypeError(f"{self.kind} source has no known length")

    def size(self) -> int | None:
        """How many frames, when known in advance (folders, images, video files)."""
        try:
            return len(self)
        except TypeError:
            return None

    @property
    def description(self) -> str:
        return self.kind

    def close(self) -> None:
        pass

    def __enter__(self) -> "Source":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class ImageFilesSource(Source):
    """Still images from files: a single image, a folder or a glob. Bad files become error frames."""

    def __init__(self, paths: Sequence[Path], kind: str, description: str, strict: bool = False):
        self.paths = list(paths)
        self.kind = kind
        self._description = description
        # A single image that cannot be read is the user's whole request: raise, not skip.
        self.strict = strict

    def __len__(self) -> int:
        return len(self.paths)

    @property
    def description(self) -> str:
        return self._description

    def __iter__(self) -> Iterator[Frame]:
        for index, path in enumerate(self.paths):
            yield load_image_frame(path, index, strict=self.strict)


def load_image_frame(path: Path, index: int, strict: bool = False) -> Frame:
    """Read one image file into a Frame (error frame on a bad file unless `strict`)."""
    start = time.perf_counter()
    try:
        image = read_image(path)
    except CorruptImageError as exc:
        if strict:
            raise
        return Frame(None, str(path), index, None, (time.perf_counter() - start) * 1000, error=str(exc))
    return Frame(image, str(path), index, None, (time.perf_counter() - start) * 1000)


class ArraySource(Source):
    """One in-memory image (HxWx3 RGB uint8, or HxW grey, which is expanded to RGB)."""

    kind = "array"

    def __init__(self, image: np.ndarray, name: str = "<array>"):
        self.image = as_rgb(image, name)
        self.name = name

    def __len__(self) -> int:
        return 1

    def __iter__(self) -> Iterator[Frame]:
        yield Frame(self.image, self.name, 0, None, 0.0)


class VideoSource(Source):
    """Frames of a video file or a camera, in order, with timestamps."""

    is_stream = True

    def __init__(self, capture: cv2.VideoCapture, name: str, kind: str, fps: float | None, count: int | None):
        self.capture = capture
        self.name = name
        self.kind = kind
        self.fps = fps
        self._count = count
        self._started = 0.0

    def __len__(self) -> int:
        if self._count is None:
            raise TypeError("camera streams have no length")
        return self._count

    @property
    def description(self) -> str:
        fps = f", {self.fps:.0f} fps" if self.fps else ""
        count = f", {self._count} frames" if self._count is not None else ""
        return f"{self.kind} {self.name}{fps}{count}"

    def __iter__(self) -> Iterator[Frame]:
        index = 0
        self._started = time.perf_counter()
        try:
            while True:
                start = time.perf_counter()
                ok, bgr = self.capture.read()
                if not ok or bgr is None:
                    if index == 0:
                        raise SourceError(f"{self.name}: no frames could be read ({self.kind} is unreadable or empty)")
                    break
                rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
                decode_ms = (time.perf_counter() - start) * 1000
                if self.kind == "video" and self.fps:
                    # Use the file's frame clock, not wall time: results must not depend on speed.
                    timestamp = index / self.fps
                else:
                    timestamp = start - self._started
                yield Frame(rgb, self.name, index, timestamp, decode_ms)
                index += 1
        finally:
            self.close()

    def close(self) -> None:
        if self.capture is not None:
            self.capture.release()


def as_rgb(image: np.ndarray, name: str = "<array>") -> np.ndarray:
    """Check and convert an array to HxWx3 RGB uint8. Raises SourceError for other shapes."""
    if not isinstance(image, np.ndarray):
        raise SourceError(f"{name}: expected a numpy array, got {type(image).__name__}")
    if image.dtype != np.uint8:
        raise SourceError(f"{name}: expected a uint8 image, got dtype {image.dtype}")
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    if image.ndim == 3 and image.shape[2] == 3:
        return image
    if image.ndim == 3 and image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_RGBA2RGB)
    raise SourceError(f"{name}: expected an HxW or HxWx3 image, got shape {image.shape}")


def _folder_images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def open_video(path: Path) -> VideoSource:
    """Open a video file. Raises SourceError when OpenCV cannot read it."""
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        capture.release()
        raise SourceError(f"{path}: cannot open video (unreadable or unsupported format)")
    fps = capture.get(cv2.CAP_PROP_FPS) or None
    count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0) or None
    ok, _ = capture.read()
    if not ok:
        capture.release()
        raise SourceError(f"{path}: cannot read any frame from the video (corrupt or empty)")
    capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
    if fps is not None and not (1.0 <= fps <= 1000.0):
        fps = None  # some containers report nonsense; fall back to wall time
    return VideoSource(capture, str(path), "video", fps, count)


def open_camera(index: int) -> VideoSource:
    """Open a camera by index. Raises SourceError when there is no such camera."""
    capture = cv2.VideoCapture(index)
    if not capture.isOpened():
        capture.release()
        raise SourceError(f"camera {index}: no camera found (is one connected, and is it free?)")
    ok, _ = capture.read()
    if not ok:
        capture.release()
        raise SourceError(f"camera {index}: the camera opened but gives no frames")
    fps = capture.get(cv2.CAP_PROP_FPS) or None
    return VideoSource(capture, f"camera {index}", "camera", fps, None)


def open_source(spec: Any, limit: int | None = None) -> Source:
    """Decide what `spec` is and open it.

    - numpy array -> one in-memory image
    - int, or a string of digits that is not an existing path -> camera index
    - list/tuple of paths -> those images, in order
    - an existing folder -> its images, recursively, sorted by path
    - an existing file with an image suffix -> that image; with a video suffix (or any other
      suffix that OpenCV can play) -> video
    - a string with * ? [ -> glob (recursive with **), matching images and videos
    `limit` keeps the first N images of a folder / glob / list.

    Raises SourceError for a missing path, an empty folder or glob, an unreadable video, a
    camera that is not there; CorruptImageError for a single image that cannot be decoded.
    """
    if isinstance(spec, np.ndarray):
        return ArraySource(spec)
    if isinstance(spec, (list, tuple)):
        paths = [Path(p) for p in spec]
        missing = [p for p in paths if not p.is_file()]
        if missing:
            raise SourceError(f"{missing[0]}: no such image file")
        return ImageFilesSource(paths[:limit] if limit else paths, "images", f"{len(paths)} images")
    if isinstance(spec, bool):
        raise SourceError(f"{spec!r}: not a source (image, folder, glob, video or camera index)")
    if isinstance(spec, int):
        return open_camera(spec)
    if not isinstance(spec, (str, Path)):
        raise SourceError(f"{spec!r}: not a source (image, folder, glob, video or camera index)")
    text = str(spec)
    path = Path(text).expanduser()
    if isinstance(spec, str) and text.strip().isdigit() and not path.exists():
        return open_camera(int(text.strip()))
    if path.is_dir():
        images = _folder_images(path)
        if not images:
            raise SourceError(f"{path}: folder has no images ({', '.join(sorted(IMAGE_SUFFIXES))})")
        return _image_files(images, "folder", path, limit)
    if path.is_file():
        suffix = path.suffix.lower()
        if suffix in IMAGE_SUFFIXES:
            return ImageFilesSource([path], "image", f"image {path}", strict=True)
        if suffix in VIDEO_SUFFIXES:
            return open_video(path)
        raise SourceError(f"{path}: not an image or video file (suffix '{path.suffix}')")
    if GLOB_CHARS & set(text):
        matches = sorted(Path(p) for p in globlib.glob(str(path), recursive=True))
        images = [p for p in matches if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES]
        videos = [p for p in matches if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES]
        if not images and len(videos) == 1:
            return open_video(videos[0])
        if not images:
            raise SourceError(f"{text}: glob matches no images")
        return _image_files(images, "glob", text, limit)
    raise SourceError(f"{path}: no such file or folder")


def _image_files(images: list[Path], kind: str, name: object, limit: int | None) -> "ImageFilesSource":
    """A folder's or glob's images, at most `limit` of them spread over the list."""
    chosen = _spread(images, limit) if limit else images
    return ImageFilesSource(chosen, kind, f"{kind} {name} ({len(chosen)} of {len(images)} images)")


def _spread(paths: list[Path], limit: int) -> list[Path]:
    """`limit` of `paths`, spread evenly over their folders and within each folder.

    `--limit 40` on a dataset with one folder per letter should show many letters and many
    signers, not 40 pictures of the digit 0: every folder gets an equal share (the first
    folders one more when it does not divide), taken at even steps through the folder.
    """
    if limit >= len(paths):
        return paths
    groups: dict[Path, list[Path]] = {}
    for p in paths:
        groups.setdefault(p.parent, []).append(p)
    folders = list(groups.values())
    quotas = [0] * len(folders)
    left = limit
    while left > 0:  # hand out one at a time so small folders give their spare share away
        progress = False
        for i, group in enumerate(folders):
            if left and quotas[i] < len(group):
                quotas[i] += 1
                left -= 1
                progress = True
        if not progress:
            break
    chosen: list[Path] = []
    for group, quota in zip(folders, quotas):
        if quota:
            steps = np.linspace(0, len(group) - 1, quota).round().astype(int)
            chosen.extend(group[i] for i in sorted(set(steps.tolist())))
    return sorted(chosen)
