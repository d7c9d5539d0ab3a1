"""Assemble test videos from real dataset photos: letters held, wobbling, bouncing, hand gone.

Each photo is scaled and placed on a 640x480 black canvas (Massey hands are segmented on
black), shifted by a small random jitter every frame so MediaPipe tracks a hand that moves
like a real one, and written with OpenCV's VideoWriter (MJPG .avi, 30 fps).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

WIDTH, HEIGHT, FPS = 640, 480, 30


@dataclass
class Segment:
    """`frames` frames of one photo (None = an empty frame: no hand), with motion.

    jitter: random shift per frame, in pixels (uniform in +-jitter, both axes)
    path: list of (dx, dy) offsets applied on top, one per frame (e.g. a bounce); shorter
        lists hold their last offset
    """

    letter: str | None
    image: np.ndarray | None
    frames: int
    jitter: float = 3.0
    path: list[tuple[float, float]] = field(default_factory=list)
    rotate: float = 0.0  # +- degrees of random rotation per frame (wobble)


def place(image: np.ndarray, dx: float = 0.0, dy: float = 0.0, angle: float = 0.0, size: int = 300) -> np.ndarray:
    """The RGB photo resized to `size` px, centred on a black 640x480 canvas, shifted and rotated."""
    h, w = image.shape[:2]
    s = size / max(h, w)
    centre = (w / 2, h / 2)
    matrix = cv2.getRotationMatrix2D(centre, angle, s)
    matrix[0, 2] += WIDTH / 2 - centre[0] + dx
    matrix[1, 2] += HEIGHT / 2 - centre[1] + dy
    return cv2.warpAffine(image, matrix, (WIDTH, HEIGHT), flags=cv2.INTER_LINEAR, borderValue=(0, 0, 0))


def bounce(frames: int = 8, amplitude: float = 90.0, axis: int = 1) -> list[tuple[float, float]]:
    """A quick move of `amplitude` px and back over `frames` frames (a double-letter bounce)."""
    half = frames // 2
    out = []
    for i in range(frames):
        t = (i + 1) / half if i < half else (frames - i - 1) / (frames - half)
        off = amplitude * t
        out.append((0.0, off) if axis == 1 else (off, 0.0))
    return out


def write_clip(path: Path, segments: list[Segment], seed: int = 0) -> list[str | None]:
    """Write the clip; return the letter shown in each frame (None where no hand)."""
    rng = np.random.default_rng(seed)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), FPS, (WIDTH, HEIGHT))
    if not writer.isOpened():
        raise RuntimeError(f"cannot write {path}")
    truth: list[str | None] = []
    try:
        for seg in segments:
            for i in range(seg.frames):
                if seg.image is None:
                    frame = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
                else:
                    jx, jy = rng.uniform(-seg.jitter, seg.jitter, 2) if seg.jitter else (0.0, 0.0)
                    px, py = seg.path[min(i, len(seg.path) - 1)] if seg.path else (0.0, 0.0)
                    angle = rng.uniform(-seg.rotate, seg.rotate) if seg.rotate else 0.0
                    frame = place(seg.image, jx + px, jy + py, angle)
                writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
                truth.append(seg.letter)
    finally:
        writer.release()
    return truth


def boundaries(truth: list[str | None]) -> list[int]:
    """Frame indices where the shown letter changes (start of each new segment)."""
    return [i for i in range(1, len(truth)) if truth[i] != truth[i - 1]]
