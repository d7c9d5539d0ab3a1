"""What the detector does to an image before any attempt: any array to RGB, grey photos tinted
towards skin tones, gamma and local contrast for dark views, and the reference hand that
`whole` attempts show the tracking graph first."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from fingerspell.errors import FingerspellError
from fingerspell.hands.attempts import PRIOR_HAND, WHOLE_SIDE

# Grey photos are mapped linearly from the dark to the light colour (RGB) before detection:
# a warm skin-tone ramp with a lifted black level. Picked among five ramps on asl-letters'
# greyscale copies (plain attempt found 46/183 hands untinted, 93 with this ramp).
GREY_TINT_DARK = (30, 10, 0)
GREY_TINT_LIGHT = (255, 200, 170)
# Mean |R-G| + |G-B| (0-255) below which a photo counts as grey (JPEG leaves a little colour noise).
GREY_TOLERANCE = 3.0


def as_rgb(image: np.ndarray) -> np.ndarray:
    """HxW grey, HxWx1, HxWx3 RGB or HxWx4 RGBA uint8 -> contiguous HxWx3 RGB uint8.
    Raises FingerspellError for anything else."""
    if not isinstance(image, np.ndarray) or image.ndim not in (2, 3) or image.size == 0:
        raise FingerspellError(f"expected an HxW or HxWxC image array, got {getattr(image, 'shape', type(image))}")
    if image.dtype != np.uint8:
        if np.issubdtype(image.dtype, np.floating) and image.max(initial=0) <= 1.0:
            image = image * 255.0
        image = np.clip(image, 0, 255).astype(np.uint8)
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    channels = image.shape[2]
    if channels == 1:
        return cv2.cvtColor(image[:, :, 0], cv2.COLOR_GRAY2RGB)
    if channels == 4:
        return np.ascontiguousarray(image[:, :, :3])
    if channels != 3:
        raise FingerspellError(f"expected 1, 3 or 4 colour channels, got {channels}")
    return np.ascontiguousarray(image)


_PRIOR_VIEWS: dict[bool, np.ndarray] = {}
BLANK = np.zeros((64, 64, 3), np.uint8)  # a frame without a hand: ends a track


def prior_hand(tint: bool) -> np.ndarray:
    """The reference hand of `whole` attempts as a WHOLE_SIDE square RGB view (tinted like
    grey photos are when `tint`). Raises FingerspellError when the packaged file is missing."""
    if tint not in _PRIOR_VIEWS:
        path = Path(__file__).with_name(PRIOR_HAND)
        grey = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
        if grey is None:
            raise FingerspellError(f"{path}: reference hand image is missing or unreadable (reinstall fingerspell)")
        rgb = cv2.cvtColor(cv2.resize(grey, (WHOLE_SIDE, WHOLE_SIDE), interpolation=cv2.INTER_CUBIC), cv2.COLOR_GRAY2RGB)
        _PRIOR_VIEWS[tint] = tint_grey(rgb) if tint else rgb
    return _PRIOR_VIEWS[tint]


def is_grey(rgb: np.ndarray) -> bool:
    """True when an RGB image carries (almost) no colour: a greyscale photo saved as RGB."""
    sample = rgb[::4, ::4].astype(np.int16)
    diff = np.abs(sample[..., 0] - sample[..., 1]).mean() + np.abs(sample[..., 1] - sample[..., 2]).mean()
    return bool(diff < GREY_TOLERANCE)


def tint_grey(rgb: np.ndarray) -> np.ndarray:
    """Map a grey image onto the GREY_TINT_DARK -> GREY_TINT_LIGHT ramp (uint8 RGB)."""
    ramp = np.linspace(0.0, 1.0, 256)[:, None]
    dark, light = np.array(GREY_TINT_DARK, float), np.array(GREY_TINT_LIGHT, float)
    table = np.clip(dark + ramp * (light - dark) + 0.5, 0, 255).astype(np.uint8)  # [256, 3]
    return table[rgb[..., 0]]


def gamma_table(gamma: float) -> np.ndarray:
    return np.clip(255.0 * (np.arange(256) / 255.0) ** gamma + 0.5, 0, 255).astype(np.uint8)


def clahe(rgb: np.ndarray) -> np.ndarray:
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)
    lab[:, :, 0] = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8)).apply(lab[:, :, 0])
    return cv2.cvtColor(lab, cv2.COLOR_LAB2RGB)
