"""Draw a detected hand (skeleton, joints, box, label) on an image, for people to look at."""
from __future__ import annotations

import cv2
import numpy as np

from fingerspell.hands.detector import Hand
from fingerspell.hand_skeleton import HAND_CONNECTIONS

# One colour per finger (RGB), so a wrongly fitted finger is easy to spot.
FINGER_COLOURS = ((255, 80, 80), (255, 200, 0), (80, 220, 80), (60, 160, 255), (200, 90, 255))


def _finger(index: int) -> int:
    return 0 if index == 0 else (index - 1) // 4


def draw_hand(
    image: np.ndarray,
    hand: Hand,
    *,
    box: bool = True,
    label: str | None = None,
    box_colour: tuple[int, int, int] = (0, 255, 0),
) -> np.ndarray:
    """A copy of `image` (HxWx3 RGB uint8, or grey) with the hand's skeleton, joints and box.

    `label` (e.g. "A 0.97") is written above the box; by default the box shows the method
    that found the hand and its handedness. Lines scale with the image so a 28x28 image or
    a 1920x1080 frame both stay readable.
    """
    canvas = cv2.cvtColor(image, cv2.COLOR_GRAY2RGB) if image.ndim == 2 else image[:, :, :3].copy()
    height, width = canvas.shape[:2]
    thickness = max(1, round(max(width, height) / 250))
    points = np.round(hand.pixels(width, height)).astype(int)
    for a, b in HAND_CONNECTIONS:
        colour = FINGER_COLOURS[_finger(b)]
        cv2.line(canvas, tuple(points[a].tolist()), tuple(points[b].tolist()), colour, thickness, cv2.LINE_AA)
    for i, point in enumerate(points):
        cv2.circle(canvas, tuple(point.tolist()), thickness + 1, (255, 255, 255), -1, cv2.LINE_AA)
        cv2.circle(canvas, tuple(point.tolist()), thickness + 1, FINGER_COLOURS[_finger(i)], 1, cv2.LINE_AA)
    if box:
        xmin, ymin, xmax, ymax = (int(round(v)) for v in hand.box)
        cv2.rectangle(canvas, (xmin, ymin), (xmax, ymax), box_colour, thickness)
        text = label if label is not None else f"{hand.handedness} {hand.method}"
        scale = max(0.35, max(width, height) / 900)
        cv2.putText(canvas, text, (xmin, max(12, ymin - 4)), cv2.FONT_HERSHEY_SIMPLEX, scale, box_colour,
                    max(1, thickness // 2), cv2.LINE_AA)
    return canvas
