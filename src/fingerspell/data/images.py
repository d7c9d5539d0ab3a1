"""Reading images: one place that turns bytes into pixels and bad bytes into a clear error."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from fingerspell.errors import CorruptImageError

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}


def is_image_file(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES


def decode_image(data: bytes, where: str) -> np.ndarray:
    """Decode encoded image bytes to HxWx3 RGB uint8. Raises CorruptImageError naming `where`."""
    array = np.frombuffer(data, dtype=np.uint8)
    image = cv2.imdecode(array, cv2.IMREAD_COLOR) if array.size else None
    if image is None:
        raise CorruptImageError(f"{where}: cannot decode image (corrupt or not an image)")
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
