"""Contact sheets: a grid of thumbnails with each sample's id, label and boxes drawn.

People would rather look at 100 matching images than read 100 rows, so `data query --sheet`
writes one of these. Works for every kind of dataset in the index: image files (boxes drawn),
Sign-MNIST pixel rows (28x28 greyscale, scaled up) and the landmark-only set (the 21 hand
landmarks drawn as a skeleton on a blank tile).
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from fingerspell import atomic
from fingerspell.errors import CorruptImageError, FingerspellError
from fingerspell.hand_skeleton import HAND_CONNECTIONS

BOX_COLOUR = (0, 220, 0)  # RGB
TEXT_BG = (0, 0, 0)
TEXT_FG = (255, 255, 255)
ERROR_COLOUR = (220, 30, 30)


@dataclass
class SheetInfo:
    """What `contact_sheet` wrote."""

    path: Path
    shown: int
    total: int

    @property
    def more(self) -> int:
        return self.total - self.shown


def _fit(image: np.ndarray, size: int) -> tuple[np.ndarray, float, int, int]:
    """Scale `image` to fit a size x size tile, centred; returns tile, scale and offsets."""
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    h, w = image.shape[:2]
    scale = size / max(h, w)
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    # Small images (Sign-MNIST 28x28) are enlarged with nearest-neighbour so pixels stay honest.
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_NEAREST
    resized = cv2.resize(image, (nw, nh), interpolation=interp)
    tile = np.full((size, size, 3), 40, dtype=np.uint8)
    ox, oy = (size - nw) // 2, (size - nh) // 2
    tile[oy : oy + nh, ox : ox + nw] = resized
    return tile, scale, ox, oy


def _skeleton_tile(points: np.ndarray, size: int) -> np.ndarray:
    """Draw 21 landmarks (x, y normalised to the source frame) on a blank tile, fitted to it."""
    tile = np.full((size, size, 3), 250, dtype=np.uint8)
    xy = np.asarray(points, dtype=np.float32).reshape(21, 3)[:, :2]
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    span = float(max(hi[0] - lo[0], hi[1] - lo[1], 1e-6))
    margin = size * 0.12
    pix = (xy - lo) / span * (size - 2 * margin) + margin
    # centre the hand in the tile
    pix += ((size - 2 * margin) - (hi - lo) / span * (size - 2 * margin)) / 2
    pts = [(int(round(x)), int(round(y))) for x, y in pix]
    for a, b in HAND_CONNECTIONS:
        cv2.line(tile, pts[a], pts[b], (60, 90, 200), 2, cv2.LINE_AA)
    for k, p in enumerate(pts):
        cv2.circle(tile, p, 3, (200, 40, 40) if k in (4, 8, 12, 16, 20) else (30, 30, 30), -1, cv2.LINE_AA)
    return tile


def _error_tile(size: int, message: str) -> np.ndarray:
    tile = np.full((size, size, 3), 60, dtype=np.uint8)
    cv2.line(tile, (0, 0), (size - 1, size - 1), ERROR_COLOUR, 2)
    cv2.line(tile, (0, size - 1), (size - 1, 0), ERROR_COLOUR, 2)
    _label(tile, message, bottom=True)
    return tile


def _label(tile: np.ndarray, text: str, bottom: bool = False) -> None:
    font, scale, thick = cv2.FONT_HERSHEY_SIMPLEX, 0.42, 1
    (tw, th), base = cv2.getTextSize(text, font, scale, thick)
    y0 = tile.shape[0] - th - base - 4 if bottom else 0
    cv2.rectangle(tile, (0, y0), (min(tile.shape[1] - 1, tw + 4), y0 + th + base + 4), TEXT_BG, -1)
    cv2.putText(tile, text, (2, y0 + th + 2), font, scale, TEXT_FG, thick, cv2.LINE_AA)


def _landmark_points(dataset: Any, sample_id: int) -> np.ndarray | None:
    row = dataset.db.execute(
        "SELECT points FROM landmarks WHERE sample_id = ? AND found = 1", (sample_id,)
    ).fetchone()
    if row is None or row[0] is None:
        return None
    return np.frombuffer(row[0], dtype=np.float32).reshape(21, 3)


def render_tile(dataset: Any, sample: Any, size: int = 160) -> np.ndarray:
    """One thumbnail (size x size RGB) for `sample`: image with boxes, or landmark skeleton."""
    if not dataset.has_images:
        points = _landmark_points(dataset, sample.id)
        tile = _skeleton_tile(points, size) if points is not None else _error_tile(size, "no landmarks")
    else:
        try:
            image = dataset.image(sample)
        except CorruptImageError:
            tile = _error_tile(size, "unreadable")
        else:
            tile, scale, ox, oy = _fit(image, size)
            for box in sample.boxes:
                p1 = (int(round(box.xmin * scale + ox)), int(round(box.ymin * scale + oy)))
                p2 = (int(round(box.xmax * scale + ox)), int(round(box.ymax * scale + oy)))
                cv2.rectangle(tile, p1, p2, BOX_COLOUR, 2)
    caption = f"{sample.id} {sample.label}"
    if sample.instances > 1:
        caption += f" [{sample.instances} boxes]"
    _label(tile, caption)
    return tile


def contact_sheet(
    dataset: Any,
    samples: Iterable[Any],
    out: str | Path,
    limit: int = 100,
    tile: int = 160,
    columns: int | None = None,
    title: str | None = None,
) -> SheetInfo:
    """Write a PNG grid of up to `limit` samples to `out` (atomically) and say how many more matched.

    Raises FingerspellError when `limit` < 1 or nothing matched.
    """
    if limit < 1:
        raise FingerspellError(f"contact sheet limit must be at least 1, got {limit}")
    shown, total = [], 0
    for sample in samples:
        total += 1
        if len(shown) < limit:
            shown.append(sample)
    if not shown:
        raise FingerspellError("no samples matched; nothing to draw in a contact sheet")
    cols = columns or min(10, max(1, math.ceil(math.sqrt(len(shown)))))
    rows = math.ceil(len(shown) / cols)
    pad = 4
    header = 26
    sheet = np.full((header + rows * (tile + pad) + pad, cols * (tile + pad) + pad, 3), 255, dtype=np.uint8)
    for k, sample in enumerate(shown):
        r, c = divmod(k, cols)
        y, x = header + pad + r * (tile + pad), pad + c * (tile + pad)
        sheet[y : y + tile, x : x + tile] = render_tile(dataset, sample, tile)
    note = f"{title + ': ' if title else ''}{len(shown)} of {total} shown"
    if total > len(shown):
        note += f" ({total - len(shown)} more not shown)"
    cv2.putText(sheet, note, (pad, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
    out = Path(out)
    ok, encoded = cv2.imencode(".png", cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR))
    if not ok:
        raise FingerspellError(f"{out}: could not encode the contact sheet as PNG")
    atomic.write_bytes(out, encoded.tobytes())
    return SheetInfo(path=out, shown=len(shown), total=total)
