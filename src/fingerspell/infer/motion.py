"""J and Z from their motion: fingertip trajectories over the last second -> a logistic regression.

J is the pinky drawing a J and Z the index finger drawing a Z; a single frame of either looks
like I or like a pointing hand. The motion model reads the trajectory of the fingertips
(`tips`, default index 8 and pinky 20) over the last `window` seconds of frames with a hand:

    features = for each tip: its position at `points` evenly spaced times in the window,
                 relative to its position at the end of the window, in palm sizes, x mirrored
                 for a left hand (2 * points numbers)
             + for each tip: the length of that resampled path (palm sizes)
             + the five fingers' extension at the end of the window (tip-to-wrist / palm size)
    probabilities = softmax(weights . ((features - mean) / std) + bias) over `classes`
                    (e.g. ["none", "J", "Z"])

Resampling by time makes the features the same at 15 fps and at 30 fps. This is plain
arithmetic on purpose: `web/static/js/spelling.js` computes exactly the same numbers.
The model is trained by `fingerspell.infer.motion_train`.
"""
from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

WRIST, MIDDLE_KNUCKLE = 0, 9
FINGER_TIPS = (4, 8, 12, 16, 20)


@dataclass
class Track:
    """One frame of the hand as the rules see it: pixel positions (median-filtered), palm size."""

    t: float
    points: list[tuple[float, float]]  # 21 (x, y) in pixels
    palm: float  # wrist to middle knuckle, pixels
    mirror: float  # -1.0 for a left hand (x is flipped), 1.0 otherwise
    centre: tuple[float, float]  # mean of the 21 points, pixels


def distance(dx: float, dy: float) -> float:
    """sqrt(dx^2 + dy^2) written out: correctly rounded, so JavaScript computes the same bits
    (math.hypot and Math.hypot use different algorithms)."""
    return math.sqrt(dx * dx + dy * dy)


def _at(tracks: Sequence[Track], tip: int, t: float) -> tuple[float, float]:
    """The tip's position at time t, linear between the frames around it (clamped at the ends)."""
    if t <= tracks[0].t:
        return tracks[0].points[tip]
    for i in range(1, len(tracks)):
        if tracks[i].t >= t:
            a, b = tracks[i - 1], tracks[i]
            span = b.t - a.t
            w = (t - a.t) / span if span > 0 else 1.0
            return (a.points[tip][0] + w * (b.points[tip][0] - a.points[tip][0]),
                    a.points[tip][1] + w * (b.points[tip][1] - a.points[tip][1]))
    return tracks[-1].points[tip]


class Tracker:
    """Landmarks -> `Track`s: pixels, a causal median of the last 3 frames (one glitched frame of
    the tracker never moves the hand), palm size and centre. Keeps the last `keep` seconds."""

    def __init__(self, keep: float):
        self.keep = keep
        self.tracks: deque[Track] = deque()
        self._raw: deque[list[tuple[float, float]]] = deque(maxlen=3)

    def clear(self) -> None:
        self.tracks.clear()
        self._raw.clear()

    def add(self, t: float, landmarks: Any, handedness: str | None, size: Sequence[float]) -> Track:
        width, height = float(size[0]), float(size[1])
        self._raw.append([(float(pt[0]) * width, float(pt[1]) * height) for pt in landmarks])
        if len(self._raw) == 3:
            a, b, c = self._raw
            points = [(_median3(a[i][0], b[i][0], c[i][0]), _median3(a[i][1], b[i][1], c[i][1])) for i in range(21)]
        else:
            points = list(self._raw[-1])
        palm = max(distance(points[MIDDLE_KNUCKLE][0] - points[WRIST][0],
                            points[MIDDLE_KNUCKLE][1] - points[WRIST][1]), 1e-6)
        cx = sum(pt[0] for pt in points) / 21.0
        cy = sum(pt[1] for pt in points) / 21.0
        track = Track(t, points, palm, -1.0 if handedness == "Left" else 1.0, (cx, cy))
        self.tracks.append(track)
        while self.tracks and self.tracks[0].t < t - self.keep:
            self.tracks.popleft()
        return track


def _median3(a: float, b: float, c: float) -> float:
    return max(min(a, b), min(max(a, b), c))


def motion_features(tracks: Sequence[Track], points: int, tips: Sequence[int], window: float
                    ) -> tuple[list[float], list[float]] | None:
    """(features, path length per tip) of the last `window` seconds, or None when the hand was
    seen for less than 60% of the window (too little to judge a movement)."""
    if not tracks:
        return None
    end = tracks[-1].t
    start = end - window
    recent = [tr for tr in tracks if tr.t >= start - 1e-9]
    if len(recent) < 4 or recent[-1].t - recent[0].t < 0.6 * window:
        return None
    scale = sum(tr.palm for tr in recent) / len(recent)
    mirror = recent[-1].mirror
    features: list[float] = []
    paths: list[float] = []
    for tip in tips:
        end_x, end_y = recent[-1].points[tip]
        path, previous = 0.0, None
        for k in range(points):
            x, y = _at(recent, tip, start + window * k / (points - 1))
            features.append(mirror * (x - end_x) / scale)
            features.append((y - end_y) / scale)
            if previous is not None:
                path += distance(x - previous[0], y - previous[1]) / scale
            previous = (x, y)
        paths.append(path)
    features.extend(paths)
    last = recent[-1]
    wx, wy = last.points[WRIST]
    for tip in FINGER_TIPS:
        features.append(distance(last.points[tip][0] - wx, last.points[tip][1] - wy) / last.palm)
    return features, paths


def motion_probabilities(model: dict[str, Any], features: Sequence[float]) -> list[float]:
    """Softmax of the logistic regression in `model` (a bundle's "spelling.motion") on features."""
    z = [(f - m) / s for f, m, s in zip(features, model["mean"], model["std"])]
    logits = []
    for row, b in zip(model["weights"], model["bias"]):
        total = b
        for w, v in zip(row, z):
            total += w * v
        logits.append(total)
    top = max(logits)
    exps = [math.exp(v - top) for v in logits]
    norm = sum(exps)
    return [e / norm for e in exps]
