"""Train the J/Z motion model (`fingerspell.infer.motion`) on real landmark sequences.

Positives: windows of the asl-landmarks J and Z takes in which a fingertip travelled at least
`min_path` palm sizes (the same gate the rules apply before asking the model). Negatives:
windows of every other letter's takes (real holds with their natural drift) and of streams
built from them with transitions between letters and bounces (`spelling_data.Stream`).
Every window is also used mirrored (a left hand draws the mirror image), and every take is
replayed `augment` more times as another signer might sign it: faster or slower (0.7-1.4x, by
interpolating between the real frames), turned (+-20 degrees) and nearer or further (0.75-1.3x).
The model is a
multinomial logistic regression fitted by full-batch gradient descent in numpy with L2:
deterministic, seconds on a CPU.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from fingerspell.infer.motion import Tracker, motion_features
from fingerspell.infer.spelling_data import Stream

CLASSES = ["none", "J", "Z"]
POINTS = 8
TIPS = [8, 20]


def window_features(frames: Iterable[dict[str, Any]], window: float, min_path: float, stride: int = 3,
                    mirror: bool = False) -> list[list[float]]:
    """Motion features of the windows ending at every `stride`-th frame with a hand whose
    fingertip path reaches `min_path` (palm sizes)."""
    tracker = Tracker(window + 0.25)
    out = []
    for i, frame in enumerate(frames):
        if frame.get("landmarks") is None:
            tracker.clear()
            continue
        tracker.add(frame["t"], frame["landmarks"], "Left" if mirror else frame.get("handedness"), frame["size"])
        if i % stride:
            continue
        result = motion_features(tracker.tracks, POINTS, TIPS, window)
        if result is not None and max(result[1]) >= min_path:
            out.append(result[0])
    return out


def take_frames(take: np.ndarray) -> list[dict[str, Any]]:
    """A take as a stream of frames (no transitions)."""
    stream = Stream()
    stream.take(take, "", start=0)
    return stream.frames


def augment_take(take: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A take ([n, 21, 3] pixels) as signed faster or slower, turned and nearer or further."""
    n = len(take)
    speed = float(rng.uniform(0.7, 1.4))
    src = np.linspace(0, n - 1, max(4, int(round(n / speed))))
    lo = np.floor(src).astype(int)
    hi = np.minimum(lo + 1, n - 1)
    w = (src - lo)[:, None, None]
    out = take[lo] * (1 - w) + take[hi] * w
    angle = np.deg2rad(rng.uniform(-20, 20))
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    centre = out[:, :, :2].mean(axis=(0, 1))
    out[:, :, :2] = (out[:, :, :2] - centre) @ rot.T * float(rng.uniform(0.75, 1.3)) + centre
    return out.astype(np.float32)


def training_windows(takes: dict[str, Sequence[np.ndarray]], window: float, min_path: float,
                     seed: int = 0, augment: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(features [N, F], class index [N]) from the given takes (and streams built from them),
    each take also replayed `augment` times through `augment_take`."""
    rng = np.random.default_rng(seed)
    xs: list[list[float]] = []
    ys: list[int] = []
    replay = np.random.default_rng(seed + 1)
    for letter, parts in takes.items():
        label = CLASSES.index(letter) if letter in CLASSES else 0
        versions = [part for part in parts] + [augment_take(part, replay) for _ in range(augment) for part in parts]
        for part in versions:
            for mirror in (False, True):
                feats = window_features(take_frames(part), window, min_path, mirror=mirror)
                xs.extend(feats)
                ys.extend([label] * len(feats))
    static = [k for k in takes if k not in CLASSES]
    for n in range(30):  # transitions and bounces between held letters: movement that is no J or Z
        stream = Stream(seed=seed * 1000 + n)
        for letter in rng.choice(static, size=4):
            stream.take(takes[letter][int(rng.integers(len(takes[letter])))], letter, seconds=float(rng.uniform(0.4, 1.0)))
            if rng.random() < 0.3:
                stream.bounce(float(rng.uniform(0.2, 0.35)), float(rng.uniform(0.4, 0.8)), axis=int(rng.integers(2)))
        for mirror in (False, True):
            feats = window_features(stream.frames, window, min_path, mirror=mirror)
            xs.extend(feats)
            ys.extend([0] * len(feats))
    return np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.int64)


def fit_logistic(x: np.ndarray, y: np.ndarray, classes: int, l2: float = 1e-2, steps: int = 800,
                 lr: float = 0.5) -> dict[str, Any]:
    """Multinomial logistic regression on standardised features, classes weighted equally.
    Returns {"mean", "std", "weights", "bias"} as lists (the bundle's format)."""
    mean = x.mean(axis=0)
    std = x.std(axis=0) + 1e-6
    z = (x - mean) / std
    counts = np.bincount(y, minlength=classes).astype(np.float64)
    sample_weight = (len(y) / (classes * np.maximum(counts, 1)))[y]
    sample_weight /= sample_weight.sum()
    weights = np.zeros((classes, x.shape[1]))
    bias = np.zeros(classes)
    onehot = np.eye(classes)[y]
    for _ in range(steps):
        logits = z @ weights.T + bias
        logits -= logits.max(axis=1, keepdims=True)
        probs = np.exp(logits)
        probs /= probs.sum(axis=1, keepdims=True)
        grad = (probs - onehot) * sample_weight[:, None]
        weights -= lr * (grad.T @ z + l2 * weights)
        bias -= lr * grad.sum(axis=0)
    return {"mean": mean.round(6).tolist(), "std": std.round(6).tolist(),
            "weights": weights.round(6).tolist(), "bias": bias.round(6).tolist()}


def train_motion_model(takes: dict[str, Sequence[np.ndarray]], window: float = 1.0, min_path: float = 0.8,
                       seed: int = 0, augment: int = 4) -> tuple[dict[str, Any], dict[str, Any]]:
    """(model for bundle.json "spelling.motion", training summary)."""
    x, y = training_windows(takes, window, min_path, seed, augment)
    model = {"classes": list(CLASSES), "points": POINTS, "tips": list(TIPS), **fit_logistic(x, y, len(CLASSES))}
    z = (x - np.asarray(model["mean"])) / np.asarray(model["std"])
    predicted = np.argmax(z @ np.asarray(model["weights"]).T + np.asarray(model["bias"]), axis=1)
    summary = {"windows": {name: int((y == i).sum()) for i, name in enumerate(CLASSES)},
               "train_accuracy": {name: round(float((predicted[y == i] == i).mean()), 4) if (y == i).any() else None
                                  for i, name in enumerate(CLASSES)}}
    return model, summary
