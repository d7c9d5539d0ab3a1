"""The detector's attempts: the ways an image is shown to MediaPipe, and the chains of them.

An attempt is named by its parts (`flip-pad50-low`: mirrored, a 50% border, a low palm
threshold) and parsed into an `Attempt`. Every attempt is an affine map from the original
image to the view MediaPipe gets (`view_transform`, applied by `warp_view`), so one inverse
map brings the landmarks back to the original image.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from fingerspell.errors import FingerspellError


# Attempts in image mode, tried in this order until one finds a plausible hand. Names are
# parsed by `parse_attempt`: padN = border of N% of the longer side on each side, low/vlow =
# palm threshold 0.2/0.05, lite = the complexity-0 models (another palm detector with other
# misses), bright/bright3 = gamma 0.5/0.33, clahe = local contrast, flip = mirrored copy,
# hint = crop around a known hand box, rotN/rotmN = rotated by +-N degrees, half = half size.
# Chosen greedily by bench/bench_hands.py on the shared datasets' misses (see the README):
# tier 1 was picked on a 100-image sample of plain misses per dataset and rescues most;
# tiers 2-3 on what tier 1 left. A split-half check says the choice carries over to images
# it was not chosen on: attempts picked on one half of tier 1's leftovers rescued 50 of the
# other half's 95, where every candidate together could rescue 54.
FAST_ATTEMPTS: tuple[str, ...] = (
    "plain",
    "pad50-low",              # the hand fills the frame (Massey: 718 of 729 misses)
    "lite-bright-pad50-low",  # backlit, dark hands (asl-alphabet)
    "pad50-vlow",
    "hint-pad100-low",        # crop around the dataset's hand box (asl-letters)
    "pad100-low",
    "bright-flip-pad50-low",
    "lite-pad50-low",
)
DEFAULT_ATTEMPTS: tuple[str, ...] = FAST_ATTEMPTS + (
    "bright-low", "lite-low", "clahe-low", "flip-low",
    # tier 2
    "lite-bright-pad100-low", "bright-pad100-low", "clahe-pad50-vlow", "bright3-pad50-low",
    "lite-bright-flip-pad50-vlow", "lite-hint-pad100-vlow", "pad100-vlow", "lite-flip-pad50-low",
    "lite-bright3-pad50-low", "lite-rotm20-pad50-low", "hint-pad100-vlow", "lite-bright-pad50-vlow",
    "lite-half-low", "lite-pad100-low", "lite-pad25-vlow",
    # tier 3
    "bright-pad150-low", "lite-bright-pad150-low", "lite-bright-flip-pad100-low", "lite-bright-pad200-low",
    "lite-bright-pad100-vlow", "lite-pad150-low", "bright-pad100-vlow", "bright3-pad100-low",
    "clahe-flip-pad50-vlow", "lite-bright-rotm20-pad100-low",
)
# Images whose shorter side is below SMALL_SIDE (Sign-MNIST's 28x28 grey crops) get their own
# chain. At that size only the lite palm detector at a very low threshold fires at all, on an
# upscaled copy with a border (measured on 150 Sign-MNIST test images; see the README), and
# it finds 83% of the hands. An image that small is a crop of one hand, so the `whole`
# attempts skip the palm detector altogether: MediaPipe's landmark model is asked to fit the
# hand in a box covering the image (see `_whole_view`). The box keeps the reference hand's
# orientation, so a hand turned another way is fitted better in a rotated or mirrored view:
# the rotated/mirrored attempts after plain `whole` were picked greedily among 0/+-30/+-60
# degrees, mirrored or not, on the 41 hands the older chain missed in 3,000 Sign-MNIST *train*
# rows (35 rescued). The `whole` attempts come FIRST: on 1,200 other train rows where both
# kinds find the hand, the default model reads the letter right on 57% of the `whole`
# landmarks and 40% of the palm detector's. The palm attempts follow for the rest; the chain
# finds a hand in 99.93% of the 7,172 test rows (the found rate does not depend on the order).
# `lite-clahe-up-vlow` was dropped from the palm attempts: the whole attempts find the same
# hands (998 of 1,000 train rows either way) and it was the attempt most often claiming a hand
# in 28x28 crops of rooms without one (36 of 500; `bench_hands.py --datasets tiny-nothing`).
SMALL_SIDE = 64
SMALL_ATTEMPTS: tuple[str, ...] = (
    "whole", "flip-rot30-whole", "flip-rotm60-whole", "rotm30-whole", "flip-rot60-whole", "flip-rotm30-whole",
    "lite-pad25-vlow", "lite-up-pad50-vlow", "lite-vlow", "lite-flip-up-vlow", "up-pad25-vlow",
    "lite-bright-up-vlow", "lite-up-pad25-vlow",
)
# `whole` attempts: the view is a square of this side, and the box comes from a reference hand
# (PRIOR_HAND, a 28x28 Sign-MNIST *train* image, CC0) shown to the tracking graph just before:
# MediaPipe's legacy API takes no box, but in tracking mode it fits the next frame's landmarks
# in the box built from the previous frame's hand. The reference was picked among 8 train
# images for the most rescues on 1,200 other train rows (190 of 208 palm-detector misses).
WHOLE_SIDE = 256
PRIOR_HAND = "prior_hand.png"

# Palm-detector thresholds of the `-low` / `-vlow` attempts. A palm found this way still
# needs MediaPipe's landmark model to see a hand in its box (hand presence above
# min_tracking_confidence, 0.5, which MediaPipe applies in still-image mode too), and
# `HandDetector._plausible` rejects answers outside the image or away from a hint box.
LOW_CONFIDENCE = 0.2
VERY_LOW_CONFIDENCE = 0.05
# An image whose shorter side is below this is upscaled before any attempt: the palm
# detector's input is 192x192 and it cannot see a hand a few dozen pixels wide.
MIN_SIDE = 192


@dataclass(frozen=True)
class Attempt:
    """One way of showing the image to MediaPipe, parsed from a name like `flip-pad50-low`."""

    name: str
    pad: float = 0.0            # border on each side, as a fraction of the longer side
    border: str = "black"       # black | mean | replicate
    flip: bool = False
    low: bool = False           # use the low-confidence palm detector
    very_low: bool = False      # an even lower palm threshold (the landmark model still has to agree)
    lite: bool = False          # the lite (complexity 0) models: another palm detector, other misses
    bright: float = 1.0         # gamma < 1 lifts shadows: backlit, under-exposed hands
    up: bool = False            # upscale the image so its shorter side is at least 384 px
    scale: float = 1.0          # extra scale factor (e.g. 0.5 for a half-size attempt)
    rotate: float = 0.0         # degrees, counter-clockwise
    hint: bool = False          # crop around the hint box
    clahe: bool = False         # local contrast equalisation for dark or flat images
    whole: bool = False         # no palm detection: landmarks fitted in a box covering the image


def parse_attempt(name: str) -> Attempt:
    """`plain`, `hint`, `pad50`, `pad25-mean`, `flip-pad50-low`, `rot15-pad50`, `half`, ...
    Raises FingerspellError for an unknown part."""
    kwargs: dict[str, Any] = {}
    for part in name.split("-"):
        if part == "plain":
            continue
        if part == "hint":
            kwargs["hint"] = True
        elif part.startswith("pad") and part[3:].isdigit():
            kwargs["pad"] = int(part[3:]) / 100.0
        elif part in ("mean", "replicate", "black"):
            kwargs["border"] = part
        elif part == "flip":
            kwargs["flip"] = True
        elif part == "low":
            kwargs["low"] = True
        elif part == "vlow":
            kwargs["very_low"] = True
        elif part == "lite":
            kwargs["lite"] = True
        elif part == "bright":
            kwargs["bright"] = 0.5
        elif part == "bright3":
            kwargs["bright"] = 0.33
        elif part == "up":
            kwargs["up"] = True
        elif part == "half":
            kwargs["scale"] = 0.5
        elif part == "clahe":
            kwargs["clahe"] = True
        elif part == "whole":
            kwargs["whole"] = True
        elif part.startswith("rot") and part[3:].lstrip("m").isdigit():
            degrees = int(part[3:].lstrip("m"))
            kwargs["rotate"] = -degrees if part[3:].startswith("m") else degrees
        else:
            raise FingerspellError(f"unknown hand-detection attempt {name!r} (part {part!r})")
    return Attempt(name=name, **kwargs)


def view_transform(
    attempt: Attempt, width: int, height: int, hint: tuple[float, ...] | None
) -> tuple[np.ndarray | None, tuple[int, int]]:
    """The affine map (2x3, continuous pixel coordinates) from the original image to the
    view MediaPipe gets, and the view's size; None for the original image itself."""
    upscale = max(1.0, MIN_SIDE / min(width, height))
    if attempt.up:
        upscale = max(upscale, 384 / min(width, height))
    scale = upscale * attempt.scale
    if attempt.whole:  # the whole image, centred in a square of WHOLE_SIDE
        s = WHOLE_SIDE / max(width, height)
        matrix = np.array([[s, 0, (WHOLE_SIDE - s * width) / 2], [0, s, (WHOLE_SIDE - s * height) / 2]])
        size = (WHOLE_SIDE, WHOLE_SIDE)
    elif attempt.hint and hint is not None:
        xmin, ymin, xmax, ymax = hint
        side = max(xmax - xmin, ymax - ymin) * (1.0 + 2.0 * max(attempt.pad, 0.25))
        side = max(side, 8.0)
        out = int(round(min(max(side * scale, 256), 640)))
        s = out / side
        cx, cy = (xmin + xmax) / 2, (ymin + ymax) / 2
        matrix = np.array([[s, 0, out / 2 - s * cx], [0, s, out / 2 - s * cy]], dtype=np.float64)
        size = (out, out)
    else:
        longer = max(width, height)
        out_w = int(round((width + 2 * attempt.pad * longer) * scale))
        out_h = int(round((height + 2 * attempt.pad * longer) * scale))
        tx, ty = attempt.pad * longer * scale, attempt.pad * longer * scale
        matrix = np.array([[scale, 0, tx], [0, scale, ty]], dtype=np.float64)
        size = (out_w, out_h)
    if attempt.flip:
        matrix = np.array([[-1, 0, size[0]], [0, 1, 0]], dtype=np.float64) @ np.vstack([matrix, [0, 0, 1]])
    if attempt.rotate:
        rot = cv2.getRotationMatrix2D((size[0] / 2, size[1] / 2), attempt.rotate, 1.0)
        matrix = rot @ np.vstack([matrix, [0, 0, 1]])
    if np.allclose(matrix, [[1, 0, 0], [0, 1, 0]]) and size == (width, height):
        return None, size
    return matrix, size

def warp_view(rgb: np.ndarray, matrix: np.ndarray, size: tuple[int, int], border: str) -> np.ndarray:
    """The view of `rgb` under `matrix` (from `view_transform`), borders filled as `border` says."""
    # cv2 maps pixel centres (integer indices); our matrix maps continuous coordinates.
    shift = np.array([[1, 0, 0.5], [0, 1, 0.5], [0, 0, 1]])
    unshift = np.array([[1, 0, -0.5], [0, 1, -0.5]])
    index_matrix = unshift @ np.vstack([matrix, [0, 0, 1]]) @ shift
    if border == "replicate":
        mode, value = cv2.BORDER_REPLICATE, (0, 0, 0)
    elif border == "mean":
        mode, value = cv2.BORDER_CONSTANT, tuple(float(v) for v in rgb.reshape(-1, 3).mean(axis=0))
    else:
        mode, value = cv2.BORDER_CONSTANT, (0, 0, 0)
    return cv2.warpAffine(rgb, index_matrix, size, flags=cv2.INTER_LINEAR, borderMode=mode, borderValue=value)
