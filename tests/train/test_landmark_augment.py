"""Landmark augmentation knobs on real MediaPipe hands (asl-landmarks rows): the bone-length
knob changes a hand's proportions and keeps its pose; the tilt knob turns it out of the plane."""
from __future__ import annotations

import numpy as np

from fingerspell.train.landmark_inputs import _FINGERS, LandmarkAugment, augment_points

# Everything else off, so each test sees one knob.
QUIET = dict(probability=0.0, finger_dropout=0.0, jitter=0.0, scale=0.0)


def real_hands(datasets_root, n: int = 50) -> np.ndarray:
    data = np.load(datasets_root / "asl-landmarks" / "landmarks.npz", allow_pickle=False)
    return data["x"][:n].reshape(n, 21, 3).astype(np.float32)


def bones(points: np.ndarray) -> np.ndarray:
    """[N, 20, 3] bone vectors (wrist -> finger base, then joint to joint) in pixels of a 640x480 frame."""
    pixels = points * np.array([640.0, 480.0, 640.0])
    starts = np.concatenate([[0, a, b, c] for a, b, c, _ in _FINGERS])
    ends = _FINGERS.reshape(-1)
    return pixels[:, ends] - pixels[:, starts]


def test_bone_scale_changes_proportions_and_keeps_the_pose(datasets_root):
    hands = real_hands(datasets_root)
    sizes = np.tile([640.0, 480.0], (len(hands), 1))
    out = augment_points(hands, sizes, np.random.default_rng(0), LandmarkAugment(**QUIET, bone_scale=0.1))
    before, after = bones(hands), bones(out)
    ratio = np.linalg.norm(after, axis=2) / np.linalg.norm(before, axis=2)
    cosine = np.sum(before * after, axis=2) / (np.linalg.norm(before, axis=2) * np.linalg.norm(after, axis=2))
    assert np.allclose(out[:, 0], hands[:, 0], atol=1e-6)       # the wrist stays where it was
    assert np.all(cosine > 0.9999)                               # every bone points the same way
    assert 0.05 < np.std(np.log(ratio)) < 0.15                   # ... and has another length
    # Off (the shipped recipe): the same hands come back untouched.
    same = augment_points(hands, sizes, np.random.default_rng(0), LandmarkAugment(**QUIET))
    assert np.allclose(same, hands, atol=1e-6)


def test_tilt_ratio_sets_the_turn_out_of_the_image_plane(datasets_root):
    hands = real_hands(datasets_root)
    sizes = np.tile([640.0, 480.0], (len(hands), 1))

    def depth_change(ratio: float) -> float:
        aug = LandmarkAugment(**{**QUIET, "probability": 1.0}, rotate_deg=20.0, tilt_ratio=ratio)
        out = augment_points(hands, sizes, np.random.default_rng(1), aug)
        return float(np.abs((out - out[:, :1])[..., 2] - (hands - hands[:, :1])[..., 2]).mean())

    assert depth_change(0.0) < 1e-6 < depth_change(0.5) < depth_change(1.0)
