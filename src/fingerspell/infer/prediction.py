"""What the predictor says about one image or frame (`Prediction`), and how it draws itself.

A prediction carries the letter, its confidence, the top-5, the hand box and landmarks, the
per-stage timings and, for streams, the spelled text; `to_dict()` is the record `predict
--json` prints and the HTTP API returns, `draw()` annotates the image.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from fingerspell.errors import FingerspellError
from fingerspell.hand_skeleton import HAND_CONNECTIONS
from fingerspell.infer.spelling import Commit


@dataclass
class Prediction:
    """What the predictor says about one image or video frame.

    letter: the answer: for still images the top-1 class when a hand was found and its
        probability reaches `conf`; for video / camera the stable letter of the spelling
        rules (`spelling.Spelling`; None = no hand, or nothing committed yet).
    raw_letter: the per-frame top-1 above `conf` before smoothing (same as `letter` for images).
    confidence: probability of `letter` (averaged for video), 0 when letter is None.
    top5: [(class, probability), ...] of this frame, best first.
    text / commits: for video and camera, the spelled text so far and what this frame added.
    timings: milliseconds per stage (decode, hands, features, model, smoothing, total).
    escalated: for a still image read by the cascade, whether the full path ran (else None).
    """

    source: str
    frame_index: int
    timestamp: float | None
    letter: str | None
    confidence: float
    top5: list[tuple[str, float]]
    raw_letter: str | None = None
    hand_box: tuple[float, float, float, float] | None = None
    landmarks: np.ndarray | None = None
    handedness: str | None = None
    hand_score: float | None = None
    hand_method: str | None = None
    image_size: tuple[int, int] | None = None  # (width, height)
    timings: dict[str, float] = field(default_factory=dict)
    text: str | None = None
    commits: list[Commit] = field(default_factory=list)
    error: str | None = None
    probabilities: np.ndarray | None = field(default=None, repr=False)
    image: np.ndarray | None = field(default=None, repr=False)  # only with keep_image=True
    # Still images read by the cascade: whether the full path was run (None: no cascade).
    escalated: bool | None = None

    @property
    def hand(self) -> bool:
        return self.hand_box is not None

    def to_dict(self, landmarks: bool = True) -> dict[str, Any]:
        """JSON-safe record (no numpy types; landmarks as nested lists rounded to 1e-4)."""
        data: dict[str, Any] = {
            "source": self.source,
            "frame": self.frame_index,
            "time": None if self.timestamp is None else round(float(self.timestamp), 4),
            "letter": self.letter,
            "confidence": round(float(self.confidence), 4),
            "raw_letter": self.raw_letter,
            "top5": [[name, round(float(p), 4)] for name, p in self.top5],
            "hand": self.hand,
            "hand_box": None if self.hand_box is None else [round(float(v), 1) for v in self.hand_box],
            "handedness": self.handedness,
            "hand_score": None if self.hand_score is None else round(float(self.hand_score), 4),
            "hand_method": self.hand_method,
            "image_size": None if self.image_size is None else list(self.image_size),
            "timings_ms": {k: round(float(v), 3) for k, v in self.timings.items()},
        }
        if self.escalated is not None:
            data["escalated"] = self.escalated
        if landmarks:
            data["landmarks"] = None if self.landmarks is None else np.round(self.landmarks, 4).tolist()
        if self.text is not None:
            data["text"] = self.text
            data["commits"] = [c.to_dict() for c in self.commits]
        if self.error is not None:
            data["error"] = self.error
        return data

    def draw(self, image: np.ndarray | None = None, fps: float | None = None) -> np.ndarray:
        """A copy of `image` (RGB; default the kept frame) with the hand box, skeleton, letter,
        top-5 bars and, for streams, the spelled text. Raises FingerspellError with no image."""
        if image is None:
            image = self.image
        if image is None:
            raise FingerspellError(f"{self.source}: no image to draw on (predict with keep_image=True)")
        return draw_prediction(image, self, fps=fps)


def draw_prediction(image: np.ndarray, p: Prediction, fps: float | None = None) -> np.ndarray:
    """Annotate a copy of an RGB image with one prediction (see Prediction.draw)."""
    canvas = np.ascontiguousarray(image.copy())
    if canvas.ndim == 2:
        canvas = cv2.cvtColor(canvas, cv2.COLOR_GRAY2RGB)
    h, w = canvas.shape[:2]
    scale = max(0.4, min(w, h) / 640)
    thick = max(1, int(round(2 * scale)))
    green, white, yellow, grey = (40, 220, 60), (255, 255, 255), (255, 210, 0), (120, 120, 120)
    if p.landmarks is not None:
        pts = (np.asarray(p.landmarks)[:, :2] * np.array([w, h])).astype(int)
        for a, b in HAND_CONNECTIONS:
            cv2.line(canvas, tuple(int(v) for v in pts[a]), tuple(int(v) for v in pts[b]), white, thick, cv2.LINE_AA)
        for pt in pts:
            cv2.circle(canvas, tuple(int(v) for v in pt), thick + 1, (230, 40, 40), -1, cv2.LINE_AA)
    if p.hand_box is not None:
        x0, y0, x1, y1 = (int(round(v)) for v in p.hand_box)
        cv2.rectangle(canvas, (x0, y0), (x1, y1), green, thick)
        label = f"{p.letter} {p.confidence:.2f}" if p.letter else "?"
        size = 1.2 * scale
        (tw, th), base = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, size, thick + 1)
        ty = max(th + 4, y0 - 6)
        cv2.rectangle(canvas, (x0, ty - th - 4), (x0 + tw + 6, ty + base), green, -1)
        cv2.putText(canvas, label, (x0 + 3, ty), cv2.FONT_HERSHEY_SIMPLEX, size, (0, 0, 0), thick + 1, cv2.LINE_AA)
    elif p.letter:  # centre-crop bundles answer without a hand box
        cv2.putText(canvas, f"{p.letter} {p.confidence:.2f}", (int(10 * scale), int(40 * scale)),
                    cv2.FONT_HERSHEY_SIMPLEX, 1.2 * scale, green, thick + 1, cv2.LINE_AA)
    else:
        cv2.putText(canvas, "no hand", (int(10 * scale), int(30 * scale)), cv2.FONT_HERSHEY_SIMPLEX,
                    0.8 * scale, yellow, thick, cv2.LINE_AA)
    # Top-5 bars, top right.
    bar_w, bar_h = int(120 * scale), int(16 * scale)
    x_left = w - bar_w - int(40 * scale)
    for i, (name, prob) in enumerate(p.top5[:5]):
        y = int(10 * scale) + i * (bar_h + int(4 * scale))
        cv2.rectangle(canvas, (x_left, y), (x_left + bar_w, y + bar_h), grey, 1)
        cv2.rectangle(canvas, (x_left, y), (x_left + int(bar_w * float(prob)), y + bar_h), green if i == 0 else yellow, -1)
        cv2.putText(canvas, f"{name}", (x_left - int(34 * scale), y + bar_h - 2), cv2.FONT_HERSHEY_SIMPLEX,
                    0.5 * scale, white, 1, cv2.LINE_AA)
        cv2.putText(canvas, f"{prob:.2f}", (x_left + bar_w + 3, y + bar_h - 2), cv2.FONT_HERSHEY_SIMPLEX,
                    0.4 * scale, white, 1, cv2.LINE_AA)
    bottom = h - int(12 * scale)
    if p.text is not None:
        cv2.rectangle(canvas, (0, bottom - int(30 * scale)), (w, h), (0, 0, 0), -1)
        cv2.putText(canvas, p.text[-40:] + "_", (int(10 * scale), bottom), cv2.FONT_HERSHEY_SIMPLEX,
                    0.9 * scale, white, thick, cv2.LINE_AA)
    if fps is not None:
        cv2.putText(canvas, f"{fps:.0f} fps", (int(10 * scale), int(60 * scale)), cv2.FONT_HERSHEY_SIMPLEX,
                    0.6 * scale, white, 1, cv2.LINE_AA)
    return canvas
