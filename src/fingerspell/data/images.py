"""Reading images: one place that turns bytes into pixels and bad bytes into a clear error."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from fingerspell.data.image_header import header_size
from fingerspell.errors import CorruptImageError, ImageTooLargeError

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}
# The largest image decoded: 64 megapixels (a 48 MP phone photo fits) and 16384 pixels a side.
# Larger ones are refused from the header, before OpenCV allocates them: a 20000x20000 PNG
# (1.2 GB decoded, ~8 GB in MediaPipe's preprocessing) aborted the whole process in remap.
MAX_IMAGE_PIXELS = 64_000_000
MAX_IMAGE_SIDE = 16_384


def is_image_file(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES


def check_image_size(width: int, height: int, where: str) -> None:
    """Raises ImageTooLargeError naming `where` and the size when the image is over the limits."""
    if width * height > MAX_IMAGE_PIXELS or max(width, height) > MAX_IMAGE_SIDE:
        raise ImageTooLargeError(
            f"{where}: image is {width}x{height} pixels ({width * height / 1e6:.0f} megapixels); the most "
            f"fingerspell reads is {MAX_IMAGE_PIXELS // 1_000_000} megapixels and {MAX_IMAGE_SIDE} pixels a side"
        )


def decode_image(data: bytes, where: str) -> np.ndarray:
    """Decode encoded image bytes to HxWx3 RGB uint8.

    The size is checked from the header before decoding (and after, for formats whose header
    is not read). Raises CorruptImageError naming `where`, ImageTooLargeError (a subclass)
    for an image over MAX_IMAGE_PIXELS / MAX_IMAGE_SIDE."""
    declared = header_size(data)
    if declared is not None:
        check_image_size(*declared, where)
    array = np.frombuffer(data, dtype=np.uint8)
    try:
        image = cv2.imdecode(array, cv2.IMREAD_COLOR) if array.size else None
    except cv2.error:  # OpenCV's own limits (e.g. a header claiming 2^30 pixels)
        image = None
    if image is None:
        raise CorruptImageError(f"{where}: cannot decode image (corrupt or not an image)")
    check_image_size(int(image.shape[1]), int(image.shape[0]), where)
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def read_image(path: str | Path) -> np.ndarray:
    """Read an image file as HxWx3 RGB uint8. Raises CorruptImageError for missing or bad files."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CorruptImageError(f"{path}: file is missing") from None
    except OSError as exc:
        raise CorruptImageError(f"{path}: cannot read ({exc.strerror})") from None
    return decode_image(data, str(path))


def decode_pixels(blob: bytes | None, width: int | None, height: int | None, where: str) -> np.ndarray:
    """Raw uint8 pixel rows (Sign-MNIST) as an HxW greyscale image."""
    if blob is None or width is None or height is None or len(blob) != width * height:
        raise CorruptImageError(f"{where}: stored pixels do not form a {width}x{height} image")
    return np.frombuffer(blob, dtype=np.uint8).reshape(height, width).copy()
