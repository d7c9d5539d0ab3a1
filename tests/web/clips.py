"""Fake-camera clips for the browser tests: real Massey photos held still, written as .y4m.

Chromium plays a `.y4m` file as a webcam (`--use-file-for-fake-video-capture`). Each frame
carries its own number as 16 black/white 16x16 blocks across its top-left corner (the page
reads it back with `?frametag=1`), so the page's per-frame answers can be lined up with
Python's answers for exactly the same frames. The photo sits below the tag, on black.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

WIDTH, HEIGHT, FPS = 640, 480, 30
TAG_BITS, TAG_BLOCK = 16, 16


@dataclass(frozen=True)
class Hold:
    """`seconds` of one photo (None = no hand: a black frame), optionally mirrored left-right."""

    photo: Path | None
    seconds: float
    letter: str | None = None
    mirrored: bool = False


def massey_photo(datasets_root: Path, letter: str, signer: int = 1, light: str = "bot", k: int = 1) -> Path:
    path = datasets_root / "massey" / "asl_dataset" / letter.lower() / f"hand{signer}_{letter.lower()}_{light}_seg_{k}_cropped.jpeg"
    if not path.is_file():
        raise FileNotFoundError(path)
    return path


def photo_frame(photo: Path | None, mirrored: bool = False, size: tuple[int, int] = (WIDTH, HEIGHT)) -> np.ndarray:
    """An RGB frame: the photo scaled to 80% of the frame height, centred on black."""
    width, height = size
    frame = np.zeros((height, width, 3), dtype=np.uint8)
    if photo is None:
        return frame
    image = cv2.cvtColor(cv2.imread(str(photo), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    if mirrored:
        image = image[:, ::-1]
    scale = 0.8 * height / max(image.shape[:2])
    image = cv2.resize(image, (round(image.shape[1] * scale), round(image.shape[0] * scale)), interpolation=cv2.INTER_AREA)
    h, w = image.shape[:2]
    y, x = (height - h) // 2 + TAG_BLOCK, (width - w) // 2
    frame[y:y + h, x:x + w] = image[: height - y]
    return frame


def tag_frame(frame: np.ndarray, index: int) -> np.ndarray:
    """Write `index` (16 bits, least significant first) as white/black blocks along the top-left."""
    tagged = frame.copy()
    tagged[:TAG_BLOCK, : TAG_BITS * TAG_BLOCK] = 0
    for bit in range(TAG_BITS):
        if index >> bit & 1:
            tagged[:TAG_BLOCK, bit * TAG_BLOCK:(bit + 1) * TAG_BLOCK] = 255
    return tagged


def clip_frames(holds: Iterable[Hold], fps: int = FPS) -> Iterator[tuple[int, Hold, np.ndarray]]:
    """(frame index, hold, tagged RGB frame) for every frame of the clip."""
    index = 0
    for hold in holds:
        base = photo_frame(hold.photo, hold.mirrored)
        for _ in range(max(1, round(hold.seconds * fps))):
            yield index, hold, tag_frame(base, index)
            index += 1


def write_y4m(path: Path, frames: Iterable[np.ndarray], fps: int = FPS) -> int:
    """Write RGB frames as a 4:2:0 YUV4MPEG2 file (BT.601, as OpenCV converts). Returns the frame count."""
    count = 0
    with open(path, "wb") as out:
        out.write(f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for frame in frames:
            out.write(b"FRAME\n")
            out.write(cv2.cvtColor(frame, cv2.COLOR_RGB2YUV_I420).tobytes())
            count += 1
    return count


def build_clip(path: Path, holds: list[Hold], fps: int = FPS) -> list[Hold]:
    """Write the clip; returns the hold of every frame (index = frame number)."""
    per_frame: list[Hold] = []

    def frames() -> Iterator[np.ndarray]:
        for _, hold, frame in clip_frames(holds, fps):
            per_frame.append(hold)
            yield frame

    write_y4m(path, frames(), fps)
    return per_frame
